"""Host header poisoning: certificate links use the configured public address, never the request's
Host; a login's ``next=`` leads only to this site or a configured host."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Certificate
from tests import factories as f
from tests.helpers import csrf_from, login
from tests.views.test_certificates import COMPLETION, PRINT, YEAR, client_for, w  # noqa: F401  (fixture)

EVIL = "evil.example"
BASE = "https://ce.example.test"


def _also_on(client, host):
    """The client's session cookie (with its CSRF secret) sent to ``host`` too: an attacker sets the Host
    of their own request."""
    client.set_cookie("session", client.get_cookie("session").value, domain=host)
    return client


def _certificates_of(app, person_id):
    with app.app_context():
        return [c.inputs["verify_url"] for c in db.session.query(Certificate).filter_by(professional_id=person_id)]


def test_certificate_qr_url_ignores_the_request_host(app, w, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "CE_PUBLIC_BASE_URL", BASE)
    c = client_for(app, "person", w["person_login"])
    token = csrf_from(c.get(COMPLETION).get_data(as_text=True))
    _also_on(c, EVIL)
    pdf = c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token}, headers={"Host": EVIL})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    urls = _certificates_of(app, w["person"])
    assert len(urls) == 1 and urls[0].startswith(BASE + "/verify/")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert EVIL not in text


def test_bulk_print_qr_url_ignores_the_request_host(app, w, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "CE_PUBLIC_BASE_URL", BASE)
    admin = client_for(app, "hr", w["city_admin"])
    token = csrf_from(admin.get(f"{PRINT}?year={YEAR}").get_data(as_text=True))
    _also_on(admin, EVIL)
    pdf = admin.post(f"{PRINT}print", data={"csrf_token": token, "year": YEAR, "ids": [w["person"], w["person_b"]]},
                     headers={"Host": EVIL, "X-Forwarded-Host": EVIL})
    assert pdf.status_code == 200
    for person in ("person", "person_b"):
        assert all(u.startswith(BASE + "/verify/") for u in _certificates_of(app, w[person]))


def test_without_a_configured_address_the_development_address_is_used(app, w, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "CE_PUBLIC_BASE_URL", None)
    c = client_for(app, "person", w["person_login"])
    token = csrf_from(c.get(COMPLETION).get_data(as_text=True))
    _also_on(c, EVIL)
    assert c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token}, headers={"Host": EVIL}).status_code == 200
    urls = _certificates_of(app, w["person"])
    assert urls and all(u.startswith("http://127.0.0.1:8080/verify/") for u in urls)


def _login_with_next(client, id_number, next_url, host=None):
    headers = {"Host": host} if host else {}
    page = client.get("/login/", headers=headers)
    token = csrf_from(page.get_data(as_text=True))
    client.get("/captcha/image.png", headers=headers)
    return client.post(
        "/login/", query_string={"next": next_url}, headers=headers,
        data={"csrf_token": token, "capacity": "person", "username": id_number, "password": f.PASSWORD, "captcha": "TEST"},
    )


def test_login_next_to_the_poisoned_host_stays_on_site(fresh_app):
    app = fresh_app(CE_PUBLIC_BASE_URL=BASE)
    assert app.config["FAB_SAFE_REDIRECT_HOSTS"] == ["ce.example.test"]
    with app.app_context():
        person = f.world()["person"].id_number
    response = _login_with_next(app.test_client(), person, f"http://{EVIL}/", host=EVIL)
    assert response.status_code == 302
    assert EVIL not in response.headers["Location"]
    # A path on the site is still honoured.
    response = _login_with_next(app.test_client(), person, "/hours/completion/", host=EVIL)
    assert response.headers["Location"].endswith("/hours/completion/")


@pytest.mark.parametrize("target", [f"http://{EVIL}/", f"//{EVIL}/", f"/\\{EVIL}/", f"\\\\{EVIL}/", "javascript:alert(1)"])
def test_login_next_never_leaves_the_site(app, target):
    with app.app_context():
        person = f.world()["person"].id_number
    response = _login_with_next(app.test_client(), person, target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert EVIL not in location and "javascript" not in location


def test_already_logged_in_next_never_leaves_the_site(app):
    with app.app_context():
        person = f.world()["person"].id_number
    c = app.test_client()
    assert login(c, "person", person).status_code == 302
    response = c.get("/login/", query_string={"next": f"/\\{EVIL}/"})
    assert response.status_code == 302 and EVIL not in response.headers["Location"]
