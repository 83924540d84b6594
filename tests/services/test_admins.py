"""Admin services: only the super admin manages, all-or-nothing, exactly one super admin, audited."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AdminInvitation, AuditLog, Membership
from app.services import admins
from app.services.admins import AdminError
from app.services.auth import actor_for_membership
from tests import factories


def _plain(org, name="普通"):
    m = Membership(user=factories.user(name), org=org, is_super=False, status="approved", enabled=True)
    db.session.add(m)
    db.session.flush()
    return m


def _world():
    unit = factories.org("employer")
    boss = db.session.query(Membership).filter_by(user_id=factories.admin(unit).id).one()
    a, b = _plain(unit, "甲"), _plain(unit, "乙")
    db.session.commit()
    return unit, boss, a, b


def test_non_super_actor_changes_nothing(app):
    with app.app_context():
        unit, boss, a, b = _world()
        actor = actor_for_membership(a)
        outsider = factories.user("外人")
        db.session.commit()
        for call in (
            lambda: admins.set_super(db.session, actor, a.id),
            lambda: admins.set_enabled(db.session, actor, [b.id], False),
            lambda: admins.remove_admins(db.session, actor, [b.id]),
            lambda: admins.set_roles(db.session, actor, b.id, []),
            lambda: admins.invite_existing_user(db.session, actor, outsider.id_number, outsider.full_name),
        ):
            with pytest.raises(AdminError):
                call()
        db.session.expire_all()
        assert [m.id for m in db.session.query(Membership).filter_by(org_id=unit.id, is_super=True)] == [boss.id]
        assert db.session.get(Membership, b.id).enabled
        assert db.session.query(Membership).filter_by(org_id=unit.id).count() == 3
        assert db.session.query(AdminInvitation).filter_by(org_id=unit.id).count() == 0


def test_swap_twice_keeps_exactly_one_super_and_audits(app):
    with app.app_context():
        unit, boss, a, b = _world()
        admins.set_super(db.session, actor_for_membership(boss), a.id)
        assert [m.id for m in db.session.query(Membership).filter_by(org_id=unit.id, is_super=True)] == [a.id]
        with pytest.raises(AdminError):  # the old super admin lost the right
            admins.set_super(db.session, actor_for_membership(boss), b.id)
        admins.set_super(db.session, actor_for_membership(a), b.id)
        assert [m.id for m in db.session.query(Membership).filter_by(org_id=unit.id, is_super=True)] == [b.id]
        assert db.session.query(AuditLog).filter_by(trigger="set_super", object_id=b.id).count() == 1


def test_disabled_target_cannot_become_super(app):
    with app.app_context():
        unit, boss, a, _b = _world()
        a.enabled = False
        db.session.commit()
        with pytest.raises(AdminError):
            admins.set_super(db.session, actor_for_membership(boss), a.id)
        assert db.session.get(Membership, boss.id).is_super


def test_subunit_commands_refuse_own_org_and_outside(app):
    with app.app_context():
        w = factories.world()
        county = db.session.query(Membership).filter_by(user_id=w["county_admin"].id).one()
        actor = actor_for_membership(county)
        inside = _plain(w["employer"])  # employer is under the competent dept, not under the county
        db.session.commit()
        with pytest.raises(AdminError):
            admins.remove_subunit_admin(db.session, actor, inside.id)
        with pytest.raises(AdminError):
            admins.set_review_closed(db.session, actor, w["county"].id, True)
        assert db.session.get(Membership, inside.id) is not None
        assert not db.session.get(type(w["county"]), w["county"].id).review_closed


def test_accepted_invitation_gets_the_invited_roles_of_the_organisation_only(app):
    from app.models import OrgRole

    with app.app_context():
        unit, boss, _a, _b = _world()
        sm = app.appbuilder.sm
        own = OrgRole(org_id=unit.id, role=sm.add_role(f"test-inv-own-{unit.id}"), name="查询", modules=[])
        db.session.add(own)
        invitee = factories.professional(factories.org("employer"), "受邀").user
        db.session.commit()
        actor = actor_for_membership(boss)
        inv = admins.invite_existing_user(db.session, actor, invitee.id_number, invitee.full_name, [own.id])
        assert db.session.query(Membership).filter_by(user_id=invitee.id).count() == 0
        with pytest.raises(AdminError):  # asked twice: still one pending invitation
            admins.invite_existing_user(db.session, actor, invitee.id_number, invitee.full_name)
        from app.services.scope import Actor

        m = admins.accept_invitation(db.session, Actor(user_id=invitee.id, capacity="person"), inv.id)
        assert m.org_id == unit.id and not m.is_super and [r.id for r in m.roles] == [own.role_id]
        with pytest.raises(AdminError):  # already an admin now
            admins.invite_existing_user(db.session, actor, invitee.id_number, invitee.full_name)


def test_own_professionals_matches_a_masked_id_number_only_in_full(app):
    """The admin picker must not confirm ID digits one by one for an actor who sees masked numbers."""
    with app.app_context():
        unit, boss, _a, _b = _world()
        person = factories.professional(unit, name="王五")
        db.session.commit()
        actor = actor_for_membership(boss)
        idn = person.id_number
        assert admins.own_professionals(db.session, actor, idn[:8]) == []
        assert admins.own_professionals(db.session, actor, idn[:-1]) == []
        assert admins.own_professionals(db.session, actor, idn) == [person]
        assert admins.own_professionals(db.session, actor, idn[:8], full_id=True) == [person]
