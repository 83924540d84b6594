"""Every endpoint requires a permission unless it is on the explicit public allow-list
(in the manner of Superset's ``test_views_are_secured``), and anonymous requests never get a page."""

from __future__ import annotations

import re

import pytest

from app.views.registry import PUBLIC_ENDPOINTS
from tests import factories
from tests.helpers import login, token_for

# Endpoints that check access themselves instead of through ``has_access``/``protect``.
SELF_CHECKED = {
    "CapacityLoginView.logout",  # POST only, ends the session
    "ActingView.choose",  # login required; lists only the user's own capacities
    "PasswordView.change",  # login required; changes only the logged-in user's own password
    "CapacityLoginView.second_factor",  # only with a pending password-checked login in the session
    "TotpView.setup",  # login required; the logged-in user's own second factor
    # login required; any capacity (an ordinary admin holds no base role); only the user's own invitations
    "InvitationView.list",
    "InvitationView.accept",
    "InvitationView.decline",
}
# Base-view methods that call ``sm.has_access`` on the action's permission inside.
SELF_CHECKED_METHODS = {"action", "action_post"}


def _needs_permission(app, endpoint):
    func = app.view_functions[endpoint]
    return hasattr(func, "_permission_name")


def _endpoints(app):
    for rule in app.url_map.iter_rules():
        yield rule


def test_views_are_secured(app):
    unsecured = []
    for rule in _endpoints(app):
        ep = rule.endpoint
        if ep in PUBLIC_ENDPOINTS or ep in SELF_CHECKED:
            continue
        if ep.startswith("console") or ep == "admin.static" or ep.endswith(".static"):
            continue  # Flask-Admin: guarded by is_accessible, tested in test_console.py
        if ep.split(".")[-1] in SELF_CHECKED_METHODS:
            continue
        if not _needs_permission(app, ep):
            unsecured.append(ep)
    assert unsecured == []


def _fill(rule):
    values = {}
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        values[arg] = 1 if "Integer" in conv else "1"
    return re.sub(r"<[^>]+>", lambda m: str(values[m.group(0)[1:-1].split(":")[-1]]), rule.rule)


def test_anonymous_gets_no_page(app):
    client = app.test_client()
    leaked = []
    for rule in _endpoints(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.endswith("static"):
            continue
        url = _fill(rule)
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            response = client.open(url, method=method)
            if response.status_code == 200:
                leaked.append(f"{method} {url}")
    assert leaked == []


def test_public_pages_open_without_login(app):
    client = app.test_client()
    assert client.get("/login/").status_code == 200
    captcha = client.get("/captcha/image.png")
    assert captcha.status_code == 200 and captcha.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/").status_code == 200


@pytest.fixture(scope="module")
def person_login(app):
    with app.app_context():
        w = factories.world()
        return w["person"].id_number, w["person"].id


def test_csrf_post_without_token_is_rejected(app, person_login):
    client = app.test_client()
    login(client, "person", person_login[0])
    response = client.post("/titlerecordview/add", data={"specialty": "内科"})
    assert response.status_code == 400
    response = client.post("/logout/")
    assert response.status_code == 400


def test_get_on_delete_changes_nothing(app, person_login):
    from app.extensions import db
    from app.models import TitleRecord

    client = app.test_client()
    login(client, "person", person_login[0])
    token = token_for(client)
    client.post("/titlerecordview/add", data={"csrf_token": token, "specialty": "外科", "professional": person_login[1]})
    with app.app_context():
        record = db.session.query(TitleRecord).filter_by(specialty="外科").one()
        pk = record.id
    client.get(f"/titlerecordview/delete/{pk}")
    with app.app_context():
        assert db.session.get(TitleRecord, pk) is not None
    assert client.post(f"/titlerecordview/delete/{pk}", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(TitleRecord, pk) is None


def test_id_numbers_masked_for_org_admins_but_not_for_the_person(app):
    with app.app_context():
        w = factories.world()
        person_id = w["person"].id_number
        admin_id = w["employer_admin"].id_number
    admin = app.test_client()
    login(admin, "employer", admin_id)
    html = admin.get("/professionalview/list/").get_data(as_text=True)
    masked = person_id[:6] + "*" * 8 + person_id[-4:]
    assert masked in html and person_id not in html
    export = admin.get("/professionalview/export/")
    assert person_id.encode() not in export.data
    me = app.test_client()
    login(me, "person", person_id)
    assert person_id in me.get("/professionalview/list/").get_data(as_text=True)


def test_no_full_id_number_in_logs(app, caplog):
    import logging

    caplog.set_level(logging.INFO)
    logging.getLogger("werkzeug").info("request for 410105199001020011 done")
    for record in caplog.records:
        assert "410105199001020011" not in record.getMessage()
