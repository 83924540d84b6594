"""Custom roles: permissions derived like the base role's, never beyond the organisation's kind."""

from __future__ import annotations

import pytest

from app.capacities import ROLE_NAMES
from app.extensions import db
from app.models import Membership
from app.services import org_roles
from app.services.admins import AdminError
from app.services.auth import actor_for_membership
from app.services.roles import item_permissions, wanted_permissions
from tests import factories


def _boss(kind):
    unit = factories.org(kind)
    m = db.session.query(Membership).filter_by(user_id=factories.admin(unit).id).one()
    db.session.commit()
    return actor_for_membership(m)


def _pairs(role):
    return {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}


def test_role_permissions_are_a_subset_of_the_base_role(app):
    with app.app_context():
        sm = app.appbuilder.sm
        actor = _boss("employer")
        every = [key for key, _l, _c in org_roles.modules_for("employer")]
        role = org_roles.create_role(db.session, sm, actor, "全部", every)
        base = _pairs(sm.find_role(ROLE_NAMES["employer"]))
        assert _pairs(role.role) <= base
        assert ("menu_access", "employer.admins") not in _pairs(role.role)
        assert ("can_list", "OrgAdminView") not in _pairs(role.role)
        approval = org_roles.create_role(db.session, sm, actor, "审批", ["approval"])
        assert _pairs(approval.role) == item_permissions(sm, "employer", {"approval"})
        assert ("menu_access", "employer.approval") in _pairs(approval.role)
        # The hours-approval module also approves through the REST API, with a token of the session.
        assert {("can_review", "DeclarationApi"), ("can_get", "DeclarationApi"), ("can_issue", "ApiToken")} <= _pairs(approval.role)
        assert ("can_submit", "DeclarationApi") not in _pairs(approval.role)


def test_base_role_unchanged_by_the_refactor(app):
    with app.app_context():
        sm = app.appbuilder.sm
        for capacity in ("employer", "ce_base", "hr"):
            assert _pairs(sm.find_role(ROLE_NAMES[capacity])) == wanted_permissions(sm, capacity)


def test_ce_base_cannot_pick_hr_module(app):
    with app.app_context():
        actor = _boss("ce_base")
        with pytest.raises(AdminError) as exc:
            org_roles.create_role(db.session, app.appbuilder.sm, actor, "审计", ["audit"])
        assert "modules" in exc.value.errors
        assert org_roles.org_roles(db.session, actor) == []


def test_sync_rederives_permissions(app):
    with app.app_context():
        sm = app.appbuilder.sm
        actor = _boss("employer")
        role = org_roles.create_role(db.session, sm, actor, "同步", ["approval"])
        role.role.permissions = []
        db.session.commit()
        org_roles.sync_org_roles(sm)
        assert ("menu_access", "employer.approval") in _pairs(role.role)
