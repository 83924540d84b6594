"""Issue 10, critical: the account-takeover chain (add any user as admin by ID number and name, reset
its password to the last six of the ID, log in as it) and the admin invitations that replace the
direct adding of an existing user."""

from __future__ import annotations

import re

import pytest
from werkzeug.security import check_password_hash

from app.capacities import EMPLOYER, PERSON, SYSADMIN
from app.extensions import db
from app.models import AdminInvitation, AuditLog, Membership, Organization, User
from app.services import admins
from app.services.admins import AdminError
from app.services.auth import actor_for_membership
from tests import factories
from tests.helpers import login, token_for

OTP = re.compile(r'id="one-time-password"[^>]*>([A-Za-z0-9]+)<')


@pytest.fixture(scope="module")
def w(app):
    with app.app_context():
        world = factories.world()
        return {k: (v.id_number if hasattr(v, "id_number") else v.id) for k, v in world.items()}


def _user(app, id_number) -> User:
    with app.app_context():
        u = db.session.query(User).filter(User.id_number == id_number).one()
        db.session.expunge(u)
        return u


def _client(app, capacity, id_number, password=factories.PASSWORD):
    client = app.test_client()
    response = login(client, capacity, id_number, password=password)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client


def _error_code(response):
    m = re.search(r'id="login-error" data-code="([^"]+)"', response.get_data(as_text=True))
    return m.group(1) if m else None


def _invite(client, id_number, name):
    token = token_for(client, "/orgadmins/add")
    return client.post("/orgadmins/add", data={"csrf_token": token, "how": "existing", "id_number": id_number, "name": name})


def _reset(client, user_id):
    token = token_for(client)
    return client.post(f"/password/admin-reset/{user_id}", data={"csrf_token": token, "next": "/orgadmins/list/"})


# -- the takeover chain --------------------------------------------------------------------------


def test_takeover_chain_of_the_system_administrator_fails_at_every_step(app, w):
    victim = _user(app, w["sysadmin"])
    before = victim.password
    attacker = _client(app, EMPLOYER, w["employer_admin"])

    # 1. add the system administrator as an admin of the attacker's unit by ID number and name
    response = _invite(attacker, victim.id_number, victim.full_name)
    assert response.status_code == 200  # the form comes back with the refusal
    assert str(admins.MESSAGES["sysadmin"]) in response.get_data(as_text=True) or "has-error" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Membership).filter_by(user_id=victim.id).count() == 0
        assert db.session.query(AdminInvitation).filter_by(user_id=victim.id).count() == 0

    # 2. reset its password
    response = _reset(attacker, victim.id)
    assert response.status_code in (403, 404)
    # 3./4. sign in with the last six of the ID number (the old reset value) and pass the forced change
    assert _error_code(login(app.test_client(), SYSADMIN, victim.id_number, password=victim.id_number[-6:].upper())) == "bad_password"
    after = _user(app, w["sysadmin"])
    assert after.password == before and not after.must_change_password


def test_reset_refused_even_if_the_sysadmin_held_a_membership_of_the_unit(app, w):
    """Defence in depth: whatever made a system administrator a member, the reset never reaches it."""
    victim = _user(app, w["sysadmin"])
    with app.app_context():
        employer = db.session.query(Organization).filter_by(id=w["employer"]).one()
        m = Membership(user_id=victim.id, org_id=employer.id, is_super=False, status="approved", enabled=True)
        db.session.add(m)
        db.session.commit()
        mid = m.id
    try:
        attacker = _client(app, EMPLOYER, w["employer_admin"])
        assert _reset(attacker, victim.id).status_code == 403
        assert _user(app, w["sysadmin"]).password == victim.password
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Membership, mid))
            db.session.commit()


def test_takeover_chain_of_another_units_professional_fails(app, w):
    """An ordinary user of another unit: the invitation is sent but grants nothing and no reset."""
    victim = _user(app, w["person_b"])
    attacker = _client(app, EMPLOYER, w["employer_admin"])
    assert _invite(attacker, victim.id_number, victim.full_name).status_code == 302
    with app.app_context():
        inv = db.session.query(AdminInvitation).filter_by(user_id=victim.id, org_id=w["employer"]).one()
        assert inv.status == "pending"
        assert db.session.query(Membership).filter_by(user_id=victim.id).count() == 0
    response = _reset(attacker, victim.id)
    assert response.status_code == 403
    assert _user(app, w["person_b"]).password == victim.password
    # The pending invitation is no login capacity either.
    assert _error_code(login(app.test_client(), EMPLOYER, victim.id_number)) == "wrong_capacity"
    assert _error_code(login(app.test_client(), EMPLOYER, victim.id_number, password=victim.id_number[-6:].upper())) == "bad_password"


# -- invitations ---------------------------------------------------------------------------------


def _fresh_unit():
    province = factories.org("province")
    unit = factories.org("employer", parent=province)
    boss = factories.admin(unit, "邀请管理")
    invitee = factories.professional(factories.org("employer", parent=province), "被邀人").user
    third = factories.professional(factories.org("employer", parent=province), "第三人").user
    db.session.commit()
    return unit, boss, invitee, third


def test_invited_user_accepts_on_its_invitations_page(app):
    with app.app_context():
        unit, boss, invitee, _third = _fresh_unit()
        ids = unit.id, boss.id_number, invitee.id, invitee.id_number, invitee.full_name
    unit_id, boss_idn, invitee_id, invitee_idn, invitee_name = ids
    boss_client = _client(app, EMPLOYER, boss_idn)
    assert _invite(boss_client, invitee_idn, invitee_name).status_code == 302
    assert invitee_name in boss_client.get("/orgadmins/list/").get_data(as_text=True)  # listed as pending
    with app.app_context():
        inv = db.session.query(AdminInvitation).filter_by(user_id=invitee_id, org_id=unit_id).one()
        inv_id = inv.id
        assert db.session.query(AuditLog).filter_by(object_type="admin_invitation", object_id=inv_id, trigger="invite_admin").count() == 1

    invitee_client = _client(app, PERSON, invitee_idn)
    # The home page points the invited user at the invitation.
    home = invitee_client.get("/").get_data(as_text=True)
    assert 'id="invitations-notice"' in home and "/account/invitations/" in home
    page = invitee_client.get("/account/invitations/")
    assert page.status_code == 200 and f'data-invitation="{inv_id}"' in page.get_data(as_text=True)
    # A GET does not accept; the POST needs the CSRF token.
    assert invitee_client.get(f"/account/invitations/{inv_id}/accept").status_code == 405
    assert invitee_client.post(f"/account/invitations/{inv_id}/accept").status_code == 400
    token = token_for(invitee_client, "/account/invitations/")
    assert invitee_client.post(f"/account/invitations/{inv_id}/accept", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        m = db.session.query(Membership).filter_by(user_id=invitee_id, org_id=unit_id).one()
        assert m.status == "approved" and m.enabled and not m.is_super
        assert db.session.get(AdminInvitation, inv_id).status == "accepted"
        assert db.session.query(AuditLog).filter_by(object_type="membership", object_id=m.id, trigger="accept_invitation").count() == 1
    # Answered: it cannot be accepted again and is no longer listed.
    assert f'data-invitation="{inv_id}"' not in invitee_client.get("/account/invitations/").get_data(as_text=True)
    assert 'id="invitations-notice"' not in invitee_client.get("/").get_data(as_text=True)


def test_invited_user_declines(app):
    with app.app_context():
        unit, boss, invitee, _third = _fresh_unit()
        inv = admins.invite_existing_user(
            db.session, actor_for_membership(db.session.query(Membership).filter_by(user_id=boss.id).one()),
            invitee.id_number, invitee.full_name,
        )
        ids = unit.id, invitee.id, invitee.id_number, inv.id
    unit_id, invitee_id, invitee_idn, inv_id = ids
    client = _client(app, PERSON, invitee_idn)
    token = token_for(client, "/account/invitations/")
    assert client.post(f"/account/invitations/{inv_id}/decline", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/account/invitations/{inv_id}/accept", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(AdminInvitation, inv_id).status == "declined"
        assert db.session.query(Membership).filter_by(user_id=invitee_id, org_id=unit_id).count() == 0


def test_a_third_user_cannot_accept_someone_elses_invitation(app):
    with app.app_context():
        unit, boss, invitee, third = _fresh_unit()
        inv = admins.invite_existing_user(
            db.session, actor_for_membership(db.session.query(Membership).filter_by(user_id=boss.id).one()),
            invitee.id_number, invitee.full_name,
        )
        ids = unit.id, invitee.id, third.id, third.id_number, inv.id
    unit_id, invitee_id, third_id, third_idn, inv_id = ids
    client = _client(app, PERSON, third_idn)
    assert f'data-invitation="{inv_id}"' not in client.get("/account/invitations/").get_data(as_text=True)
    token = token_for(client, "/account/invitations/")
    client.post(f"/account/invitations/{inv_id}/accept", data={"csrf_token": token})
    client.post(f"/account/invitations/{inv_id}/decline", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(AdminInvitation, inv_id).status == "pending"
        assert db.session.query(Membership).filter(Membership.org_id == unit_id, Membership.user_id.in_([invitee_id, third_id])).count() == 0
    # The inviting super admin cannot accept on the invitee's behalf either.
    with app.app_context():
        boss_m = db.session.query(Membership).filter_by(org_id=unit_id, is_super=True).one()
        with pytest.raises(AdminError):
            admins.accept_invitation(db.session, actor_for_membership(boss_m), inv_id)


def test_invitations_page_needs_a_login(app):
    client = app.test_client()
    assert client.get("/account/invitations/").status_code == 302
    assert client.post("/account/invitations/1/accept").status_code in (302, 400)


def test_withdrawn_invitation_cannot_be_accepted(app):
    with app.app_context():
        unit, boss, invitee, _third = _fresh_unit()
        boss_actor = actor_for_membership(db.session.query(Membership).filter_by(user_id=boss.id).one())
        inv = admins.invite_existing_user(db.session, boss_actor, invitee.id_number, invitee.full_name)
        ids = unit.id, boss.id_number, invitee.id, invitee.id_number, inv.id
    unit_id, boss_idn, invitee_id, invitee_idn, inv_id = ids
    boss_client = _client(app, EMPLOYER, boss_idn)
    token = token_for(boss_client, "/orgadmins/list/")
    assert boss_client.post(f"/orgadmins/invitation/{inv_id}/withdraw", data={"csrf_token": token}).status_code == 302
    client = _client(app, PERSON, invitee_idn)
    token = token_for(client, "/account/invitations/")
    client.post(f"/account/invitations/{inv_id}/accept", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(AdminInvitation, inv_id).status == "withdrawn"
        assert db.session.query(Membership).filter_by(user_id=invitee_id, org_id=unit_id).count() == 0


def test_a_system_administrator_never_accepts(app):
    """Even an invitation row forced into the database grants a system administrator nothing."""
    with app.app_context():
        unit, boss, _invitee, _third = _fresh_unit()
        sysadmin = factories.user("系统管理", is_sysadmin=True)
        inv = AdminInvitation(user_id=sysadmin.id, org_id=unit.id, role_ids=[], status="pending")
        db.session.add(inv)
        db.session.commit()
        from app.services.scope import Actor

        with pytest.raises(AdminError):
            admins.accept_invitation(db.session, Actor(user_id=sysadmin.id, capacity=SYSADMIN), inv.id)
        assert db.session.query(Membership).filter_by(user_id=sysadmin.id).count() == 0


def test_new_admin_account_gets_a_random_one_time_password(app):
    from datetime import date

    from app.services.identifiers import make_id_number

    with app.app_context():
        unit, boss, _invitee, _third = _fresh_unit()
        boss_idn = boss.id_number
    idn = make_id_number("410105", date(1972, 4, 4), 654)
    client = _client(app, EMPLOYER, boss_idn)
    token = token_for(client, "/orgadmins/add?how=new")
    response = client.post(
        "/orgadmins/add",
        data={"csrf_token": token, "how": "new", "id_number": idn, "name": "新管理", "mobile": "13800000002", "email": "xin@test.local"},
    )
    assert response.status_code == 200 and "no-store" in response.headers.get("Cache-Control", "")
    value = OTP.search(response.get_data(as_text=True)).group(1)
    assert len(value) >= 12 and value != idn[-6:]
    with app.app_context():
        user = db.session.query(User).filter_by(id_number=idn).one()
        assert check_password_hash(user.password, value)
        assert not check_password_hash(user.password, idn[-6:].upper())
        assert user.must_change_password and user.temp_password_expires_at is not None


def test_an_ordinary_admin_reaches_its_invitations_too(app):
    """The page is open to every logged-in user, also an admin acting only through a custom role."""
    with app.app_context():
        unit, boss, _invitee, _third = _fresh_unit()
        other_unit = factories.org("employer")
        sm = app.appbuilder.sm
        role = sm.add_role(f"test-inv-plain-{other_unit.id}")
        sm.add_permission_role(role, sm.find_permission_view_menu("can_list", "ProfessionalView"))
        plain = factories.user("普通受邀")
        m = Membership(user=plain, org=other_unit, is_super=False, status="approved", enabled=True)
        m.roles = [role]
        db.session.add(m)
        db.session.commit()
        inv = admins.invite_existing_user(
            db.session, actor_for_membership(db.session.query(Membership).filter_by(user_id=boss.id).one()),
            plain.id_number, plain.full_name,
        )
        ids = unit.id, plain.id, plain.id_number, inv.id
    unit_id, plain_id, plain_idn, inv_id = ids
    client = _client(app, EMPLOYER, plain_idn)
    page = client.get("/account/invitations/")
    assert page.status_code == 200 and f'data-invitation="{inv_id}"' in page.get_data(as_text=True)
    token = token_for(client, "/account/invitations/")
    assert client.post(f"/account/invitations/{inv_id}/accept", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.query(Membership).filter_by(user_id=plain_id, org_id=unit_id, status="approved").count() == 1
