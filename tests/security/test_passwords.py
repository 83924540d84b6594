"""Passwords: policy, change, forgotten password by email link, admin reset and the forced change."""

from __future__ import annotations

import email
import glob
import os
import re
import time

import pytest
from itsdangerous import TimestampSigner
from werkzeug.security import check_password_hash

from app.capacities import EMPLOYER, PERSON
from app.extensions import db
from app.models import AuditLog, User
from app.services import passwords as pw
from tests import factories
from tests.helpers import csrf_from, login, token_for


@pytest.fixture(scope="module")
def w(app):
    with app.app_context():
        world = factories.world()
        ids = {k: (v.id_number if hasattr(v, "id_number") else v.id) for k, v in world.items()}
        _WORLD[app] = ids
        return ids


_WORLD: dict = {}  # app -> this module's world (organisation names repeat across modules)


def _new_person(app, employer_key="employer", id_number=None):
    w_ids = _WORLD[app]
    with app.app_context():
        from app.models import Organization

        employer = db.session.get(Organization, w_ids[employer_key])
        kw = {"user_obj": factories.user("周九", id_number=id_number)} if id_number else {}
        p = factories.professional(employer, "周九", **kw)
        db.session.commit()
        return p.user_id, p.id_number


def _get_user(app, user_id) -> User:
    with app.app_context():
        u = db.session.get(User, user_id)
        db.session.expunge(u)
        return u


# -- policy -------------------------------------------------------------------------------------

IDN = "11010519491231002X"


@pytest.mark.parametrize(
    "password,expected",
    [
        ("Abcdef12", []),
        ("a1" * 32, []),
        ("Abc12", ["length"]),
        ("a1" * 32 + "b", ["length"]),
        ("abcdefgh", ["chars"]),
        ("12345678", ["chars"]),
        ("Abcd123!", ["chars"]),
        ("密码abc12345", ["chars"]),
        ("abc 12345", ["chars"]),
        ("a" + IDN, ["id"]),
        ("a11010519491231002x", ["id"]),
        ("", ["length", "chars"]),
    ],
)
def test_policy(app, password, expected):
    with app.test_request_context():
        got = pw.validate_password(password, IDN)
        assert [str(m) for m in got] == [str(pw.MESSAGES[k]) for k in expected]


# -- change -------------------------------------------------------------------------------------


def _change(client, old, new, confirm=None):
    token = token_for(client, "/password/change")
    return client.post(
        "/password/change",
        data={"csrf_token": token, "old_password": old, "new_password": new, "confirm_password": confirm or new},
    )


def test_change_needs_the_right_old_password(app, w):
    uid, idn = _new_person(app)
    client = app.test_client()
    assert login(client, PERSON, idn).status_code == 302
    before = _get_user(app, uid).password
    response = _change(client, "Wrong12345", "NewPass2026")
    assert response.status_code == 200
    assert str(pw.MESSAGES["old"]) in response.get_data(as_text=True) or "has-error" in response.get_data(as_text=True)
    assert _get_user(app, uid).password == before
    for bad in ("short1", "onlyletters", "Abc!12345", "x" + idn):
        response = _change(client, factories.PASSWORD, bad)
        assert response.status_code == 200 and "has-error" in response.get_data(as_text=True)
        assert _get_user(app, uid).password == before
    response = _change(client, factories.PASSWORD, "NewPass2026", "NewPass2027")
    assert response.status_code == 200 and _get_user(app, uid).password == before
    response = _change(client, factories.PASSWORD, "NewPass2026")
    assert response.status_code == 302
    assert check_password_hash(_get_user(app, uid).password, "NewPass2026")
    assert login(app.test_client(), PERSON, idn, password="NewPass2026").status_code == 302


def test_change_page_requires_login(app):
    assert app.test_client().get("/password/change").status_code == 302


# -- forgotten password -------------------------------------------------------------------------


def _forgot(client, idn, contact):
    page = client.get("/password/forgot")
    assert page.status_code == 200
    return client.post(
        "/password/forgot",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "id_number": idn, "contact": contact},
    )


def _outbox(tmp_path):
    return sorted(glob.glob(os.path.join(str(tmp_path), "outbox", "*.eml")))


def _reset(client, url, new):
    page = client.get(url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "new_password": new, "confirm_password": new})


def test_forgot_flow_sends_a_single_use_link(app, w, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    uid, idn = _new_person(app)
    user = _get_user(app, uid)
    client = app.test_client()

    unknown = _forgot(client, "110105194912310029", "nobody@test.local")
    wrong_contact = _forgot(client, idn, "nobody@test.local")
    assert _outbox(tmp_path) == []
    matched = _forgot(client, idn, user.email.upper())
    assert unknown.status_code == wrong_contact.status_code == matched.status_code == 200

    def body(r):
        return re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # typed values are echoed back

    assert body(unknown) == body(matched) == body(wrong_contact)

    files = _outbox(tmp_path)
    assert len(files) == 1
    with open(files[0], "rb") as f:
        msg = email.message_from_bytes(f.read())
    assert msg["To"] == user.email
    text = msg.get_payload(decode=True).decode()
    url = re.search(r"http://[^/\s]+(/password/reset/\S+)", text).group(1)

    response = _reset(client, url, "Reset2026ok")
    assert response.status_code == 302
    assert check_password_hash(_get_user(app, uid).password, "Reset2026ok")
    # Used once: the link no longer works.
    again = client.get(url)
    assert 'id="reset-invalid"' in again.get_data(as_text=True)
    assert 'id="password-reset-form"' not in again.get_data(as_text=True)


def test_forgot_by_mobile(app, w, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    uid, idn = _new_person(app)
    with app.app_context():
        db.session.get(User, uid).mobile = "13800138000"
        db.session.commit()
    _forgot(app.test_client(), idn, "13800138000")
    assert len(_outbox(tmp_path)) == 1


def test_reset_link_expires_after_an_hour(app, w, monkeypatch):
    uid, _idn = _new_person(app)
    with app.test_request_context():
        user = db.session.get(User, uid)
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
        old_token = pw.make_reset_token(user)
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3500)
        fresh_token = pw.make_reset_token(user)
        monkeypatch.undo()
        assert pw.user_for_token(db.session, old_token) is None
        assert pw.user_for_token(db.session, fresh_token) is not None
        assert pw.user_for_token(db.session, fresh_token + "x") is None
    client = app.test_client()
    response = _reset_attempt(client, old_token)
    assert 'id="reset-invalid"' in response.get_data(as_text=True)


def _reset_attempt(client, token):
    return client.get(f"/password/reset/{token}")


# -- admin reset --------------------------------------------------------------------------------


def _admin_reset(client, user_id):
    token = token_for(client)
    return client.post(f"/password/admin-reset/{user_id}", data={"csrf_token": token, "next": "/professionalview/list/"})


def test_admin_reset_sets_last_six_forces_change_and_is_audited(app, w):
    from datetime import date

    from app.services.identifiers import make_id_number

    # An ID number whose check character is X, stored with a lower-case x.
    idn = next(i for i in (make_id_number("410105", date(1985, 3, 7), n, female=True) for n in range(900, 999)) if i.endswith("X"))
    uid, idn = _new_person(app, id_number=idn.lower())
    assert idn.endswith("x")
    admin = app.test_client()
    assert login(admin, EMPLOYER, w["employer_admin"]).status_code == 302
    response = _admin_reset(admin, uid)
    assert response.status_code == 302
    user = _get_user(app, uid)
    assert user.must_change_password
    assert check_password_hash(user.password, idn[-6:].upper())
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(object_type="user", object_id=uid, trigger="reset_password").one()
        actor = db.session.query(User).filter(User.id_number == w["employer_admin"]).one()
        assert row.actor_user_id == actor.id
        assert row.actor_org_id is not None
        assert actor.full_name in row.comment

    person = app.test_client()
    assert login(person, PERSON, idn, password=idn[-6:].upper()).status_code == 302
    r = person.get("/professionalview/list/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/password/change")
    assert person.get("/").status_code == 302
    assert person.get("/password/change").status_code == 200
    assert _change(person, idn[-6:].upper(), "Changed2026").status_code == 302
    assert person.get("/professionalview/list/").status_code != 302
    assert not _get_user(app, uid).must_change_password


def test_reset_value_upper_cases_trailing_x():
    assert pw.reset_value("11010519491231002x") == "31002X"


def test_admin_reset_refused_outside_scope(app, w):
    uid, _idn = _new_person(app, employer_key="employer_b")
    before = _get_user(app, uid).password
    admin = app.test_client()
    assert login(admin, EMPLOYER, w["employer_admin"]).status_code == 302
    response = _admin_reset(admin, uid)
    assert response.status_code in (403, 404)
    user = _get_user(app, uid)
    assert user.password == before and not user.must_change_password
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(object_type="user", object_id=uid).count() == 0


def test_professional_cannot_admin_reset(app, w):
    uid, _idn = _new_person(app)
    client = app.test_client()
    assert login(client, PERSON, w["person"]).status_code == 302
    response = _admin_reset(client, uid)
    assert response.status_code in (302, 403, 404)
    assert not _get_user(app, uid).must_change_password
