"""Second factor (TOTP, pyotp) with QR enrolment and single-use recovery codes; required for the system
administrator and the province HR admins when ``CE_TOTP_REQUIRED`` is on; optional for everyone else."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from app.capacities import EMPLOYER, PERSON, PROVINCE, SYSADMIN
from app.extensions import db
from app.models import AuditLog, TotpRecoveryCode, User
from tests import factories
from tests.helpers import csrf_from, login, token_for

LIST = "/professionalview/list/"
CODE_URL = "/login/code/"


@pytest.fixture
def w(app):
    """A fresh employer with a professional and its admin, a province admin and a system administrator."""
    with app.app_context():
        province = factories.org("province")
        employer = factories.org("employer")
        p = factories.professional(employer, "吴十")
        out = {
            "person": p.id_number,
            "person_uid": p.user_id,
            "employer_admin": factories.admin(employer).id_number,
            "province_admin": factories.admin(province).id_number,
            "sysadmin": factories.user("系统管理员", is_sysadmin=True).id_number,
        }
        db.session.commit()
        return out


def _user(app, idn) -> User:
    with app.app_context():
        u = db.session.query(User).filter_by(id_number=idn).one()
        db.session.expunge(u)
        return u


def _enable(app, idn) -> str:
    """Give ``idn`` a second factor directly in the database; returns its secret."""
    secret = pyotp.random_base32()
    with app.app_context():
        db.session.query(User).filter_by(id_number=idn).one().totp_secret = secret
        db.session.commit()
    return secret


def _code(secret, step_offset=0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * step_offset)


def _second_step(client, code):
    token = csrf_from(client.get(CODE_URL).get_data(as_text=True))
    return client.post(CODE_URL, data={"csrf_token": token, "code": code})


def _error_code(response):
    m = re.search(r'id="login-error" data-code="([a-z_]+)"', response.get_data(as_text=True))
    return m.group(1) if m else None


def _logged_in(client) -> bool:
    return client.get(LIST).status_code == 200


def test_password_alone_does_not_log_in_a_user_with_totp(app, w):
    secret = _enable(app, w["person"])
    c = app.test_client()
    r = login(c, PERSON, w["person"])
    assert r.status_code == 302 and r.headers["Location"].endswith(CODE_URL)
    assert not _logged_in(c)
    with c.session_transaction() as s:
        assert "_user_id" not in s
    csrf = token_for(c, CODE_URL)
    assert c.post("/api/v1/token/", headers={"X-CSRFToken": csrf}).status_code == 401
    r = _second_step(c, _code(secret))
    assert r.status_code == 302
    assert _logged_in(c)


def test_a_code_is_accepted_once(app, w):
    secret = _enable(app, w["person"])
    code = _code(secret)
    first = app.test_client()
    login(first, PERSON, w["person"])
    assert _second_step(first, code).status_code == 302
    replay = app.test_client()
    login(replay, PERSON, w["person"])
    r = _second_step(replay, code)
    assert r.status_code == 200 and _error_code(r) == "bad_code"
    assert not _logged_in(replay)
    # the next time step's code still works (clock drift window)
    assert _second_step(replay, _code(secret, 1)).status_code == 302


def test_wrong_codes_count_towards_the_lockout(app, w):
    secret = _enable(app, w["person"])
    c = app.test_client()
    login(c, PERSON, w["person"])
    for _ in range(4):
        assert _error_code(_second_step(c, "000000" if _code(secret) != "000000" else "111111")) == "bad_code"
    assert _user(app, w["person"]).fail_login_count == 4
    r = _second_step(c, "12345678ABCDEFGH")  # a wrong recovery code counts as well
    assert _error_code(r) == "locked"
    assert _user(app, w["person"]).locked_until is not None
    # the pending login is gone and the right password + right code is refused while locked
    assert c.get(CODE_URL).status_code == 302
    assert _error_code(login(c, PERSON, w["person"])) == "locked"
    assert not _logged_in(c)
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(trigger="lockout", object_id=w["person_uid"]).count() == 1


def test_the_pending_login_expires(app, w):
    secret = _enable(app, w["person"])
    c = app.test_client()
    login(c, PERSON, w["person"])
    with c.session_transaction() as s:
        pending = dict(s["ce_2fa"])
        pending["until"] = int(time.time()) - 1
        s["ce_2fa"] = pending
    r = c.post(CODE_URL, data={"csrf_token": token_for(c, "/login/"), "code": _code(secret)})
    assert r.status_code == 302 and "/login/" in r.headers["Location"] and CODE_URL not in r.headers["Location"]
    assert not _logged_in(c)


def _enrol(client):
    """Enrol through the page: read the key from it, confirm with the current code; returns (secret, page)."""
    page = client.get("/totp/").get_data(as_text=True)
    assert "<svg" in page  # the QR code, rendered on the server
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    r = client.post("/totp/", data={"csrf_token": csrf_from(page), "action": "enrol", "code": _code(secret)})
    return secret, r


def test_anyone_may_enrol_and_recovery_codes_work_once(app, w):
    c = app.test_client()
    other_session = app.test_client()
    login(c, EMPLOYER, w["employer_admin"])
    login(other_session, EMPLOYER, w["employer_admin"])
    # a wrong code changes nothing
    page = c.get("/totp/").get_data(as_text=True)
    r = c.post("/totp/", data={"csrf_token": csrf_from(page), "action": "enrol", "code": "000000"})
    assert r.status_code == 200 and _user(app, w["employer_admin"]).totp_secret is None
    secret, r = _enrol(c)
    html = r.get_data(as_text=True)
    codes = re.findall(r"<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</li>", html)
    assert len(codes) == 10 and r.headers["Cache-Control"] == "no-store"
    user = _user(app, w["employer_admin"])
    assert user.totp_secret == secret
    with app.app_context():
        hashes = [row.code_hash for row in db.session.query(TotpRecoveryCode).filter_by(user_id=user.id)]
    assert len(hashes) == 10 and not set(codes) & set(hashes)  # stored hashed only
    assert "totp-status" in c.get("/totp/").get_data(as_text=True)  # this session is kept
    assert other_session.get("/totp/").status_code == 302  # enrolling ended the user's other sessions

    fresh = app.test_client()
    login(fresh, EMPLOYER, w["employer_admin"])
    assert _second_step(fresh, codes[0].lower()).status_code == 302
    again = app.test_client()
    login(again, EMPLOYER, w["employer_admin"])
    assert _error_code(_second_step(again, codes[0])) == "bad_code"
    assert _second_step(again, codes[1]).status_code == 302


def test_disabling_needs_a_code(app, w):
    c = app.test_client()
    login(c, PERSON, w["person"])
    secret, _ = _enrol(c)
    page = c.get("/totp/").get_data(as_text=True)
    r = c.post("/totp/", data={"csrf_token": csrf_from(page), "action": "disable", "code": "000000"})
    assert r.status_code == 200 and _user(app, w["person"]).totp_secret == secret
    r = c.post("/totp/", data={"csrf_token": csrf_from(page), "action": "disable", "code": _code(secret, 1)})
    assert r.status_code == 302 and _user(app, w["person"]).totp_secret is None
    with app.app_context():
        assert db.session.query(TotpRecoveryCode).filter_by(user_id=w["person_uid"]).count() == 0


def test_anonymous_cannot_reach_the_pages(app):
    c = app.test_client()
    assert c.get("/totp/").status_code == 302
    assert c.get(CODE_URL).status_code == 302


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "CE_TOTP_REQUIRED", True)


@pytest.mark.parametrize("capacity,key", [(SYSADMIN, "sysadmin"), (PROVINCE, "province_admin")])
def test_required_capacities_must_enrol_before_anything_else(app, w, required, capacity, key):
    c = app.test_client()
    r = login(c, capacity, w[key])
    assert r.status_code == 302 and r.headers["Location"].endswith("/totp/")
    for url in ("/", "/acting/", LIST, "/auditlogview/list/"):
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/totp/"), url
    assert c.post("/api/v1/token/", headers={"X-CSRFToken": token_for(c, "/totp/")}).status_code == 403
    assert "totp-forced" in c.get("/totp/").get_data(as_text=True)
    secret, r = _enrol(c)
    assert r.status_code == 200
    assert c.get("/").status_code == 200
    # required: it cannot be switched off, and the next login asks for the code
    page = c.get("/totp/").get_data(as_text=True)
    c.post("/totp/", data={"csrf_token": csrf_from(page), "action": "disable", "code": _code(secret, 1)})
    assert _user(app, w[key]).totp_secret == secret
    fresh = app.test_client()
    assert login(fresh, capacity, w[key]).headers["Location"].endswith(CODE_URL)


def test_not_required_for_other_capacities_or_when_off(app, w, required):
    c = app.test_client()
    r = login(c, EMPLOYER, w["employer_admin"])
    assert r.status_code == 302 and not r.headers["Location"].endswith("/totp/")
    assert c.get("/").status_code == 200


def test_off_by_default_in_tests(app, w):
    c = app.test_client()
    login(c, SYSADMIN, w["sysadmin"])
    assert c.get("/").status_code == 200


def test_switching_into_a_required_capacity_needs_enrolment_too(app, w, required):
    """An employer admin who is also system administrator logs in as employer, then switches."""
    with app.app_context():
        db.session.query(User).filter_by(id_number=w["employer_admin"]).one().is_sysadmin = True
        db.session.commit()
    c = app.test_client()
    login(c, EMPLOYER, w["employer_admin"])
    assert c.get("/").status_code == 200
    page = c.get("/acting/").get_data(as_text=True)
    options = re.findall(r'name="option" value="(\d+)"', page)
    assert options, page[:500]
    c.post("/acting/", data={"csrf_token": csrf_from(page), "option": options[-1]})
    r = c.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/totp/")


def test_code_posts_share_the_login_rate_limit(fresh_app):
    application = fresh_app(RATELIMIT_ENABLED=True, CE_LOGIN_RATE_LIMIT="3 per minute")
    with application.app_context():
        p = factories.professional(factories.org("employer"), "郑一")
        db.session.commit()
        idn = p.id_number
    _enable(application, idn)
    c = application.test_client()
    assert login(c, PERSON, idn).status_code == 302
    statuses = [_second_step(c, "000000").status_code for _ in range(4)]  # limited like the login form
    assert statuses == [200, 200, 200, 429]
