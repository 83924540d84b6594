"""Sessions that end: logout, password change, disable and reset end every cookie and API token of the
user (``session_epoch``); idle timeout and absolute lifetime are enforced on the server; tokens are
refused while a forced password change is pending; logins, failures, lockouts and logouts are audited."""

from __future__ import annotations

import time

import pytest

from app.capacities import EMPLOYER, PERSON
from app.extensions import db
from app.models import AuditLog, User
from app.services.sessions import end_sessions
from tests import factories
from tests.helpers import login, token_for

LIST = "/professionalview/list/"
TOKEN = "/api/v1/token/"
API_PROBE = "/api/v1/_openapi"


@pytest.fixture
def person(app):
    """A fresh approved professional and its employer admin (ID numbers, user ids)."""
    with app.app_context():
        employer = factories.org("employer")
        p = factories.professional(employer, "孙九")
        a = factories.admin(employer)
        db.session.commit()
        return {"idn": p.id_number, "uid": p.user_id, "admin": a.id_number, "admin_uid": a.id}


def _cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _with_cookie(app, value):
    c = app.test_client()
    c.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return c


def _logged_in(client) -> bool:
    return client.get(LIST).status_code == 200


def _token(client) -> str:
    r = client.post(TOKEN, headers={"X-CSRFToken": token_for(client)})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["access_token"]


def _bearer_ok(app, token) -> int:
    return app.test_client().get(API_PROBE, headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_cookie_copied_before_logout_no_longer_works(app, person):
    c = app.test_client()
    assert login(c, PERSON, person["idn"]).status_code == 302
    assert _logged_in(c)
    copied = _cookie(app, c)
    assert _logged_in(_with_cookie(app, copied))
    c.post("/logout/", data={"csrf_token": token_for(c)})
    thief = _with_cookie(app, copied)
    assert not _logged_in(thief)
    page = thief.get("/").get_data(as_text=True)
    assert "change-password-link" not in page  # FAB's navbar sees an anonymous user too


def test_logout_ends_the_users_other_sessions_too(app, person):
    first, second = app.test_client(), app.test_client()
    login(first, PERSON, person["idn"])
    login(second, PERSON, person["idn"])
    first.post("/logout/", data={"csrf_token": token_for(first)})
    assert not _logged_in(second)


def test_a_token_issued_before_logout_is_refused(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    token = _token(c)
    assert _bearer_ok(app, token) == 200
    c.post("/logout/", data={"csrf_token": token_for(c)})
    assert _bearer_ok(app, token) == 401


def test_a_cookie_copied_before_a_password_change_no_longer_works(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    copied = _cookie(app, c)
    token = _token(c)
    r = c.post(
        "/password/change",
        data={"csrf_token": token_for(c), "old_password": factories.PASSWORD, "new_password": "Newpass2027", "confirm_password": "Newpass2027"},
    )
    assert r.status_code == 302
    assert not _logged_in(_with_cookie(app, copied))
    assert _bearer_ok(app, token) == 401


def test_end_sessions_by_an_admin_reset_or_disable_ends_cookie_and_token(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    token = _token(c)
    with app.app_context():
        end_sessions(db.session.get(User, person["uid"]))
        db.session.commit()
    assert not _logged_in(c)
    assert _bearer_ok(app, token) == 401
    # a new login works again, and disabling the account ends it as well
    login(c, PERSON, person["idn"])
    assert _logged_in(c)
    with app.app_context():
        db.session.get(User, person["uid"]).active = False
        db.session.commit()
    assert not _logged_in(c)


def _shift(client, key, seconds):
    with client.session_transaction() as s:
        s[key] = s[key] - seconds


def test_idle_timeout(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    _shift(c, "ce_seen_at", 29 * 60)
    assert _logged_in(c)  # 29 idle minutes: still in, and the use refreshes the stamp
    _shift(c, "ce_seen_at", 31 * 60)
    assert not _logged_in(c)
    with c.session_transaction() as s:
        assert "_user_id" not in s  # the login is dropped from the cookie


def test_idle_timeout_is_a_setting(app, person, monkeypatch):
    monkeypatch.setitem(app.config, "CE_SESSION_IDLE_MINUTES", 5)
    c = app.test_client()
    login(c, PERSON, person["idn"])
    _shift(c, "ce_seen_at", 6 * 60)
    assert not _logged_in(c)


def test_absolute_lifetime_even_when_active(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    _shift(c, "ce_login_at", 11 * 3600)
    assert _logged_in(c)
    _shift(c, "ce_login_at", 3600 + 60)
    assert not _logged_in(c)


def test_a_session_without_stamps_is_not_logged_in(app, person):
    """A cookie minted the old way (user id only) is refused."""
    c = app.test_client()
    login(c, PERSON, person["idn"])
    with c.session_transaction() as s:
        del s["ce_epoch"]
    assert not _logged_in(c)


def test_token_refused_while_a_forced_password_change_is_pending(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    token = _token(c)
    with app.app_context():
        db.session.get(User, person["uid"]).must_change_password = True
        db.session.commit()
    assert _bearer_ok(app, token) == 401
    r = c.post(TOKEN, headers={"X-CSRFToken": token_for(c, "/password/change")})
    assert r.status_code in (401, 403) and "access_token" not in (r.get_json() or {})
    with app.app_context():
        db.session.get(User, person["uid"]).must_change_password = False
        db.session.commit()
    assert _bearer_ok(app, token) == 200  # the same token again once the change is done (same epoch)


def _audit(app, uid):
    with app.app_context():
        return [(a.trigger, a.object_type, a.object_id, a.comment or "") for a in
                db.session.query(AuditLog).filter(AuditLog.object_type == "user", AuditLog.object_id == uid).order_by(AuditLog.id)]


def test_logins_failures_lockouts_and_logouts_are_audited_without_the_password(app, person):
    c = app.test_client()
    login(c, EMPLOYER, person["admin"], password="Wrong12345")
    login(c, EMPLOYER, person["admin"])
    c.post("/logout/", data={"csrf_token": token_for(c)})
    rows = _audit(app, person["admin_uid"])
    triggers = [r[0] for r in rows]
    assert triggers == ["login_failed", "login", "logout"]
    assert all(r[1] == "user" for r in rows)
    # In words (the platform's language), never codes: 账户或密码错误, 用人单位.
    assert "账户或密码错误" in rows[0][3] and "用人单位" in rows[1][3]
    assert not any("Wrong12345" in r[3] or factories.PASSWORD in r[3] for r in rows)
    with app.app_context():
        login_row = db.session.query(AuditLog).filter_by(trigger="login", object_id=person["admin_uid"]).one()
        assert login_row.actor_user_id == person["admin_uid"] and login_row.actor_org_id is not None

    for _ in range(5):
        login(c, PERSON, person["idn"], password="Wrong12345")
    assert "lockout" in [r[0] for r in _audit(app, person["uid"])]


def test_an_unknown_id_number_is_audited_masked(app):
    idn = "110105194912310029"
    login(app.test_client(), PERSON, idn)
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(trigger="login_failed", object_type="user", object_id=0).order_by(AuditLog.id.desc()).first()
    assert row is not None and "账户不存在" in row.comment
    assert idn not in row.comment and "110105********0029" in row.comment


def test_the_last_use_stamp_is_kept_fresh(app, person):
    c = app.test_client()
    login(c, PERSON, person["idn"])
    _shift(c, "ce_seen_at", 20 * 60)
    assert _logged_in(c)
    with c.session_transaction() as s:
        assert abs(s["ce_seen_at"] - time.time()) < 5
