"""Custom roles (角色管理): modules limited to the organisation's kind, menus and permissions follow."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Membership, OrgRole
from tests import factories
from tests.helpers import login, token_for

MENU_RE = re.compile(r'data-menu="([^"]+)"')


def _unit(kind):
    province = factories.org("province")
    parent = factories.org("hr", parent=province) if kind != "hr" else province
    unit = factories.org(kind, parent=parent)
    boss = factories.admin(unit, "角色主管")
    db.session.commit()
    return unit, boss


def _client(app, capacity, id_number):
    client = app.test_client()
    assert login(client, capacity, id_number).status_code == 302
    return client


def _add_role(client, name, modules):
    token = token_for(client, "/orgroles/add")
    return client.post("/orgroles/add", data={"csrf_token": token, "name": name, "modules": modules})


def test_approval_only_role_sees_only_that_menu_and_403_elsewhere(app):
    with app.app_context():
        unit, boss = _unit("employer")
        plain = factories.user("审批员")
        db.session.add(Membership(user=plain, org=unit, is_super=False, status="approved", enabled=True))
        db.session.commit()
        unit_id, boss_idn, plain_idn, plain_id = unit.id, boss.id_number, plain.id_number, plain.id
    boss_client = _client(app, "employer", boss_idn)
    assert _add_role(boss_client, "学时审批", ["approval"]).status_code == 302
    with app.app_context():
        role = db.session.query(OrgRole).filter_by(org_id=unit_id, name="学时审批").one()
        assert role.modules == {"approval": ["view", "review"]}  # a whole module: every level it offers
        role_id = role.id
        membership_id = db.session.query(Membership).filter_by(user_id=plain_id).one().id
    token = token_for(boss_client, "/orgadmins/list/")
    assert boss_client.post(f"/orgadmins/roles/{membership_id}", data={"csrf_token": token, "roles": [role_id]}).status_code == 302

    client = _client(app, "employer", plain_idn)
    home = client.get("/").get_data(as_text=True)
    assert set(MENU_RE.findall(home)) == {"employer.approval"}
    assert "学时学分审批" in home
    assert client.get("/hours/review/").status_code == 200
    assert client.get("/professionalview/list/").status_code == 403
    assert client.get("/departmentview/list/").status_code == 403
    assert client.get("/orgadmins/list/").status_code == 403
    assert client.get("/orgroles/list/").status_code == 403

    # Editing the role's modules changes the admin's menu at the next request.
    token = token_for(boss_client, f"/orgroles/edit/{role_id}")
    assert boss_client.post(f"/orgroles/edit/{role_id}", data={"csrf_token": token, "name": "学时审批", "modules": ["approval", "professionals"]}).status_code == 302
    assert set(MENU_RE.findall(client.get("/").get_data(as_text=True))) == {"employer.approval", "employer.professionals"}
    assert client.get("/professionalview/list/").status_code == 200

    # Taking the role away: no permission left from the next request on.
    token = token_for(boss_client, "/orgadmins/list/")
    boss_client.post(f"/orgadmins/roles/{membership_id}", data={"csrf_token": token})
    assert client.get("/hours/review/").status_code == 403


def test_role_modules_limited_to_the_org_kind(app):
    with app.app_context():
        unit, boss = _unit("ce_base")
        unit_id, boss_idn = unit.id, boss.id_number
    client = _client(app, "ce_base", boss_idn)
    form = client.get("/orgroles/add").get_data(as_text=True)
    assert 'value="results:view"' in form and 'value="results:edit"' in form
    assert 'value="audit:' not in form and 'value="admins:' not in form and 'value="roles:' not in form
    for modules in (["audit"], ["requirements"], ["results", "audit"], ["admins"], ["roles"], [], ["results:review"], ["catalogue:edit"]):
        response = _add_role(client, "越权角色", modules)
        assert response.status_code == 200, modules
    with app.app_context():
        assert db.session.query(OrgRole).filter_by(org_id=unit_id).count() == 0
    assert _add_role(client, "成绩录入", ["results"]).status_code == 302
    assert _add_role(client, "成绩录入", ["classes"]).status_code == 200  # name taken
    with app.app_context():
        assert db.session.query(OrgRole).filter_by(org_id=unit_id).count() == 1


def test_delete_role_in_use_is_refused(app):
    with app.app_context():
        unit, boss = _unit("employer")
        plain = factories.user("持有者")
        m = Membership(user=plain, org=unit, is_super=False, status="approved", enabled=True)
        db.session.add(m)
        db.session.commit()
        boss_idn, membership_id = boss.id_number, m.id
    client = _client(app, "employer", boss_idn)
    _add_role(client, "待删", ["professionals"])
    with app.app_context():
        role = db.session.query(OrgRole).filter_by(name="待删").one()
        role_id, fab_id = role.id, role.role_id
    token = token_for(client, "/orgadmins/list/")
    client.post(f"/orgadmins/roles/{membership_id}", data={"csrf_token": token, "roles": [role_id]})
    refused = client.post(f"/orgroles/delete/{role_id}", data={"csrf_token": token}, follow_redirects=True)
    assert "待删" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(OrgRole, role_id) is not None
    client.post(f"/orgadmins/roles/{membership_id}", data={"csrf_token": token})
    assert client.post(f"/orgroles/delete/{role_id}", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(OrgRole, role_id) is None
        assert app.appbuilder.sm.session.get(app.appbuilder.sm.role_model, fab_id) is None


def test_roles_of_another_org_cannot_be_assigned_edited_or_deleted(app):
    with app.app_context():
        unit, boss = _unit("employer")
        other, other_boss = _unit("employer")
        plain = factories.user("乙方")
        m = Membership(user=plain, org=unit, is_super=False, status="approved", enabled=True)
        db.session.add(m)
        db.session.commit()
        boss_idn, other_idn, membership_id = boss.id_number, other_boss.id_number, m.id
    other_client = _client(app, "employer", other_idn)
    _add_role(other_client, "他人角色", ["professionals"])
    with app.app_context():
        foreign = db.session.query(OrgRole).filter_by(name="他人角色").one().id
    client = _client(app, "employer", boss_idn)
    token = token_for(client, "/orgadmins/list/")
    client.post(f"/orgadmins/roles/{membership_id}", data={"csrf_token": token, "roles": [foreign]})
    client.post(f"/orgroles/edit/{foreign}", data={"csrf_token": token, "name": "篡改", "modules": ["approval"]})
    client.post(f"/orgroles/delete/{foreign}", data={"csrf_token": token})
    with app.app_context():
        role = db.session.get(OrgRole, foreign)
        assert role is not None and role.name == "他人角色" and role.modules == {"professionals": ["view", "edit", "export"]}
        assert db.session.get(Membership, membership_id).roles == []
