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
from app.services.auth import actor_for_membership
from app.services.scope import Actor
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
        # typed values are echoed back; script nonces differ per response
        return re.sub(r'(value|nonce)="[^"]*"', "", r.get_data(as_text=True))

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


OTP = re.compile(r'id="one-time-password"[^>]*>([A-Za-z0-9]+)<')


def test_admin_reset_sets_a_random_one_time_password_forces_change_and_is_audited(app, w, caplog):
    import logging
    from datetime import date, datetime, timedelta

    caplog.set_level(logging.DEBUG)

    from app.services.identifiers import make_id_number

    # An ID number whose check character is X, stored with a lower-case x.
    idn = next(i for i in (make_id_number("410105", date(1985, 3, 7), n, female=True) for n in range(900, 999)) if i.endswith("X"))
    uid, idn = _new_person(app, id_number=idn.lower())
    epoch = _get_user(app, uid).session_epoch or 0
    admin = app.test_client()
    assert login(admin, EMPLOYER, w["employer_admin"]).status_code == 302
    response = _admin_reset(admin, uid)
    # Shown once on the response page itself: no redirect (no URL, no flash cookie carries it).
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    value = OTP.search(response.get_data(as_text=True)).group(1)
    assert len(value) >= 12 and pw.validate_password(value, idn) == []
    assert value not in str(response.headers)
    assert value not in caplog.text  # never in a log
    user = _get_user(app, uid)
    assert user.must_change_password
    assert check_password_hash(user.password, value)
    assert not check_password_hash(user.password, idn[-6:].upper())
    assert timedelta(hours=71) < user.temp_password_expires_at - datetime.utcnow() <= timedelta(hours=72)
    assert user.session_epoch == epoch + 1  # every session and token of the user ended
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(object_type="user", object_id=uid, trigger="reset_password").one()
        actor = db.session.query(User).filter(User.id_number == w["employer_admin"]).one()
        assert row.actor_user_id == actor.id
        assert row.actor_org_id is not None
        assert actor.full_name in row.comment
        assert value not in (row.comment or "")

    assert login(app.test_client(), PERSON, idn, password=idn[-6:].upper()).status_code == 200  # the old value is no key
    person = app.test_client()
    assert login(person, PERSON, idn, password=value).status_code == 302
    r = person.get("/professionalview/list/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/password/change")
    assert person.get("/").status_code == 302
    assert person.get("/password/change").status_code == 200
    # The change ends every session of the user, this one too: sign in again with the new password.
    changed = _change(person, value, "Changed2026")
    assert changed.status_code == 302 and "/login/" in changed.headers["Location"]
    user = _get_user(app, uid)
    assert not user.must_change_password and user.temp_password_expires_at is None
    assert user.session_epoch == epoch + 2
    again = app.test_client()
    assert login(again, PERSON, idn, password="Changed2026").status_code == 302
    assert again.get("/professionalview/list/").status_code != 302


def test_one_time_passwords_are_random_and_differ(app, w):
    uid, idn = _new_person(app)
    with app.test_request_context():
        employer_admin = db.session.query(User).filter(User.id_number == w["employer_admin"]).one()
        actor = actor_for_membership(employer_admin.memberships[0])
        user = db.session.get(User, uid)
        first = pw.admin_reset(db.session, actor, user)
        second = pw.admin_reset(db.session, actor, user)
    assert first != second
    for value in (first, second):
        assert len(value) >= 12 and re.fullmatch(r"[A-Za-z0-9]+", value)
        assert re.search(r"[A-Za-z]", value) and re.search(r"\d", value)
        assert value.upper() != idn[-6:].upper() and idn[-6:].upper() not in value.upper()
    assert len({pw.one_time_password() for _ in range(50)}) == 50
    assert not hasattr(pw, "reset_value")  # the last six of the ID number are no credential anywhere


def test_expired_one_time_password_is_refused_at_login(app, w):
    from datetime import datetime, timedelta

    uid, idn = _new_person(app)
    with app.test_request_context():
        employer_admin = db.session.query(User).filter(User.id_number == w["employer_admin"]).one()
        user = db.session.get(User, uid)
        value = pw.admin_reset(db.session, actor_for_membership(employer_admin.memberships[0]), user)
        user.temp_password_expires_at = datetime.utcnow() - timedelta(minutes=1)  # 72 hours have passed
        db.session.commit()
    response = login(app.test_client(), PERSON, idn, password=value)
    assert response.status_code == 200
    assert 'data-code="otp_expired"' in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, uid)
        user.temp_password_expires_at = datetime.utcnow() + timedelta(hours=1)
        db.session.commit()
    assert login(app.test_client(), PERSON, idn, password=value).status_code == 302


def test_one_time_password_is_mailed_where_mail_is_configured(app, w, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    sent = []
    monkeypatch.setattr(pw, "send_mail", lambda to, subject, body: sent.append((to, str(body))))
    uid, _idn = _new_person(app)
    with app.test_request_context():
        employer_admin = db.session.query(User).filter(User.id_number == w["employer_admin"]).one()
        actor = actor_for_membership(employer_admin.memberships[0])
        user = db.session.get(User, uid)
        value = pw.admin_reset(db.session, actor, user)  # no MAIL_SERVER: nothing sent, nothing on disk
        assert sent == [] and _outbox(tmp_path) == []
        monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.test.local")
        value = pw.admin_reset(db.session, actor, user)
    assert len(sent) == 1 and sent[0][0] == user.email and value in sent[0][1]


def test_admin_reset_refused_outside_scope(app, w):
    uid, _idn = _new_person(app, employer_key="employer_b")
    before = _get_user(app, uid).password
    admin = app.test_client()
    assert login(admin, EMPLOYER, w["employer_admin"]).status_code == 302
    response = _admin_reset(admin, uid)
    assert response.status_code == 403
    assert str(pw.REFUSALS["foreign"]) in response.get_data(as_text=True) or "403" in response.get_data(as_text=True)
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


# -- who may reset whom (issue 10) ---------------------------------------------------------------


def _actor_of(id_number):
    user = db.session.query(User).filter(User.id_number == id_number).one()
    if user.is_sysadmin:
        return Actor(user_id=user.id, capacity="sysadmin")
    return actor_for_membership(user.memberships[0])


def test_reset_scope_rule(app, w):
    from app.models import Membership, Organization

    with app.app_context():
        user = lambda key: db.session.query(User).filter(User.id_number == w[key]).one()  # noqa: E731
        # A professional of the employer who is also an admin of a unit outside the city HR's subtree.
        outside_unit = factories.org("employer", parent=db.session.get(Organization, w["province"]))
        employer = db.session.get(Organization, w["employer"])
        double = factories.professional(employer, "两头").user
        db.session.add(Membership(user=double, org=outside_unit, is_super=False, status="approved", enabled=True))
        db.session.commit()
        cases = [
            # (actor, target user, refusal key or None)
            ("employer_admin", user("person"), None),  # own professional
            ("employer_admin", user("employer_admin"), "self"),
            ("employer_admin", user("sysadmin"), "sysadmin"),
            ("employer_admin", user("person_b"), "foreign"),  # another unit's professional
            ("employer_admin", user("competent_admin"), "foreign"),  # the unit above
            ("employer_admin", double, "foreign"),  # holds a membership outside the subtree
            ("competent_admin", user("employer_admin"), None),  # admin of a unit strictly below
            ("competent_admin", user("person"), None),
            ("city_admin", user("employer_admin"), None),
            ("city_admin", user("province_admin"), "foreign"),  # higher
            ("city_admin", double, "foreign"),
            ("county_admin", user("person"), "foreign"),  # a sibling branch
            ("county_admin", user("other_county_admin"), "foreign"),
            ("province_admin", user("sysadmin"), "sysadmin"),
            ("province_admin", double, None),  # everything is below the province
            ("sysadmin", user("province_admin"), None),  # the system administrator: any non-sysadmin
            ("sysadmin", double, None),
            ("sysadmin", user("sysadmin"), "self"),
        ]
        other_sysadmin = factories.user("另一系统管理员", is_sysadmin=True)
        db.session.commit()
        cases.append(("sysadmin", other_sysadmin, "sysadmin"))
        got = [(a, t.full_name, pw.reset_refusal(db.session, _actor_of(w[a]), t)) for a, t, _ in cases]
        assert got == [(a, t.full_name, want) for a, t, want in cases]
        person_actor = Actor(user_id=user("person").id, capacity=PERSON, org_id=employer.id)
        assert pw.reset_refusal(db.session, person_actor, user("employer_admin")) == "not_admin"
        with pytest.raises(LookupError):
            pw.admin_reset(db.session, _actor_of(w["employer_admin"]), user("person_b"))


def _ordinary_admin_with_reset(app, unit_id, name="普通管理"):
    """An ordinary admin of ``unit_id`` whose role holds the reset permission (and nothing of its own org)."""
    from app.models import Membership

    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role(f"test-reset-{name}-{unit_id}")
        for perm, view in (("can_admin_reset", "PasswordAdminView"), ("can_list", "ProfessionalView")):
            pv = sm.find_permission_view_menu(perm, view)
            assert pv is not None
            sm.add_permission_role(role, pv)
        u = factories.user(name)
        m = Membership(user=u, org_id=unit_id, is_super=False, status="approved", enabled=True)
        m.roles = [role]
        db.session.add(m)
        db.session.commit()
        return u.id_number


def test_ordinary_admin_cannot_reset_its_super_admin(app, w):
    from app.models import Membership

    with app.app_context():
        boss = db.session.query(User).filter(User.id_number == w["employer_admin"]).one()
        unit_id = boss.memberships[0].org_id
        boss_id, boss_hash = boss.id, boss.password
        colleague = Membership(user=factories.user("同事"), org_id=unit_id, is_super=False, status="approved", enabled=True)
        db.session.add(colleague)
        db.session.commit()
        colleague_uid = colleague.user_id
    plain_idn = _ordinary_admin_with_reset(app, unit_id)
    uid, _idn = _new_person(app)
    client = app.test_client()
    assert login(client, EMPLOYER, plain_idn).status_code == 302
    refused = _admin_reset(client, boss_id)
    assert refused.status_code == 403
    assert _get_user(app, boss_id).password == boss_hash and not _get_user(app, boss_id).must_change_password
    assert _admin_reset(client, colleague_uid).status_code == 403  # another admin of the own organisation
    assert not _get_user(app, colleague_uid).must_change_password
    assert _admin_reset(client, uid).status_code == 200  # the unit's professional: allowed
    # The super admin may reset the ordinary admin of its own organisation.
    boss_client = app.test_client()
    assert login(boss_client, EMPLOYER, w["employer_admin"]).status_code == 302
    assert _admin_reset(boss_client, colleague_uid).status_code == 200


# -- forgotten password: public address and rate limit ----------------------------------------


def test_forgot_mail_link_uses_the_configured_address_not_the_host_header(app, w, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "CE_PUBLIC_BASE_URL", "https://ce.example.gov.cn/")
    uid, idn = _new_person(app)
    user = _get_user(app, uid)
    client = app.test_client()
    page = client.get("/password/forgot", headers={"Host": "evil.example"})
    client.post(
        "/password/forgot",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "id_number": idn, "contact": user.email},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    files = _outbox(tmp_path)
    assert len(files) == 1
    with open(files[0], "rb") as f:
        text = email.message_from_bytes(f.read()).get_payload(decode=True).decode()
    assert "evil.example" not in text
    assert re.search(r"https://ce\.example\.gov\.cn/password/reset/\S+", text)


def test_forgot_is_rate_limited_per_address(fresh_app):
    app = fresh_app(RATELIMIT_ENABLED=True, CE_FORGOT_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = []
    for _ in range(5):
        page = client.get("/password/forgot")
        token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else ""
        codes.append(
            client.post("/password/forgot", data={"csrf_token": token, "id_number": "110105194912310029", "contact": "a@b.c"}).status_code
        )
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    assert client.get("/password/forgot").status_code == 200  # the limit is on the POST only
