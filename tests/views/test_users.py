"""用户管理: the system administrator's users list and its disable / enable / unlock / reset actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import User
from app.models.common import utcnow
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import login, token_for


@pytest.fixture
def world_ids(app):
    with app.app_context():
        w = factories.world()
        other_sys = factories.user("另一系统管理员", is_sysadmin=True)
        db.session.commit()
        return {
            "sysadmin": w["sysadmin"].id_number, "sysadmin_user": w["sysadmin"].id,
            "other_sys_user": other_sys.id,
            "employer_admin": w["employer_admin"].id_number, "employer_admin_user": w["employer_admin"].id,
            "person": w["person"].user.id_number, "person_user": w["person"].user_id,
            "person_name": w["person"].user.full_name,
        }


def _client(app, capacity, id_number):
    client = app.test_client()
    assert login(client, capacity, id_number).status_code == 302
    return client


def _act(client, user_id, action, confirm=True):
    token = token_for(client, "/security/users/")
    data = {"csrf_token": token}
    if confirm:
        data["confirm"] = "1"
    return client.post(f"/security/users/{user_id}/{action}", data=data)


def test_sysadmin_lists_and_searches_users(app, world_ids):
    ids = world_ids
    client = _client(app, "sysadmin", ids["sysadmin"])
    home = client.get("/").get_data(as_text=True)
    assert 'data-menu="sysadmin.users"' in home
    page = client.get("/security/users/", query_string={"q": ids["person"]})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-user="{ids["person_user"]}"' in html
    assert html.count("data-user=") == 1
    assert "测试医院" in html  # the person's employer
    # An ID number matches exactly only: a prefix confirms nothing.
    prefix = client.get("/security/users/", query_string={"q": ids["person"][:17]}).get_data(as_text=True)
    assert f'data-user="{ids["person_user"]}"' not in prefix
    # The admin's membership with its organisation and capacity.
    admin_page = client.get("/security/users/", query_string={"q": ids["employer_admin"]}).get_data(as_text=True)
    assert "测试医院" in admin_page and "用人单位" in admin_page
    by_name = client.get("/security/users/", query_string={"q": "另一系统"}).get_data(as_text=True)
    assert f'data-user="{ids["other_sys_user"]}"' in by_name


def test_disable_enable_unlock_need_a_confirmation_and_end_sessions(app, world_ids):
    ids = world_ids
    victim = _client(app, "employer", ids["employer_admin"])
    assert victim.get("/orgadmins/list/").status_code == 200
    client = _client(app, "sysadmin", ids["sysadmin"])
    with app.app_context():
        epoch = db.session.get(User, ids["employer_admin_user"]).session_epoch or 0
    ask = _act(client, ids["employer_admin_user"], "disable", confirm=False)
    assert ask.status_code == 200 and 'id="confirm-action"' in ask.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, ids["employer_admin_user"]).active is True
    assert _act(client, ids["employer_admin_user"], "disable").status_code == 302
    with app.app_context():
        user = db.session.get(User, ids["employer_admin_user"])
        assert user.active is False and user.session_epoch == epoch + 1
    assert login(app.test_client(), "employer", ids["employer_admin"]).status_code != 302
    assert _act(client, ids["employer_admin_user"], "enable").status_code == 302
    with app.app_context():
        user = db.session.get(User, ids["employer_admin_user"])
        assert user.active is True
        user.locked_until = utcnow() + timedelta(minutes=10)
        user.fail_login_count = 5
        db.session.commit()
    listing = client.get("/security/users/", query_string={"q": ids["employer_admin"]}).get_data(as_text=True)
    assert 'data-action="unlock"' in listing
    assert _act(client, ids["employer_admin_user"], "unlock").status_code == 302
    with app.app_context():
        user = db.session.get(User, ids["employer_admin_user"])
        assert user.locked_until is None and not user.fail_login_count
    assert login(app.test_client(), "employer", ids["employer_admin"]).status_code == 302


def test_reset_shows_a_one_time_password_once(app, world_ids):
    ids = world_ids
    client = _client(app, "sysadmin", ids["sysadmin"])
    response = _act(client, ids["person_user"], "reset")
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    m = re.search(r'id="one-time-password">([^<]+)<', response.get_data(as_text=True))
    assert m
    value = m.group(1).strip()
    with app.app_context():
        user = db.session.get(User, ids["person_user"])
        assert check_password_hash(user.password, value)
        assert not check_password_hash(user.password, PASSWORD)
        assert user.must_change_password
    assert value != ids["person"][-6:]
    # Not kept anywhere to be shown again.
    assert value not in client.get("/security/users/", query_string={"q": ids["person"]}).get_data(as_text=True)


def test_never_on_oneself_or_another_sysadmin(app, world_ids):
    ids = world_ids
    client = _client(app, "sysadmin", ids["sysadmin"])
    for user_id in (ids["sysadmin_user"], ids["other_sys_user"]):
        ask = _act(client, user_id, "disable", confirm=False)
        assert 'id="user-refusal"' in ask.get_data(as_text=True)
        for action in ("disable", "reset", "unlock"):
            response = _act(client, user_id, action)
            assert response.status_code == 302, action
        with app.app_context():
            user = db.session.get(User, user_id)
            assert user.active is True and not user.must_change_password
            assert check_password_hash(user.password, PASSWORD)
    listing = client.get("/security/users/", query_string={"q": "系统管理员"}).get_data(as_text=True)
    assert f'action="/security/users/{ids["other_sys_user"]}/' not in listing
    assert f'action="/security/users/{ids["sysadmin_user"]}/' not in listing


def test_org_admin_cannot_open_or_use_the_users_page(app, world_ids):
    ids = world_ids
    client = _client(app, "employer", ids["employer_admin"])
    assert client.get("/security/users/").status_code == 403
    token = token_for(client, "/acting/")
    for action in ("disable", "reset"):
        response = client.post(f"/security/users/{ids['person_user']}/{action}", data={"csrf_token": token, "confirm": "1"})
        assert response.status_code == 403
    with app.app_context():
        user = db.session.get(User, ids["person_user"])
        assert user.active is True and check_password_hash(user.password, PASSWORD)
    person = _client(app, "person", ids["person"])
    assert person.get("/security/users/").status_code == 403
