"""Permission levels (查看/编辑/导出/审核) chosen in a matrix: custom roles of every capacity, the
password reset as a module of its own, the system administrator's base-role matrix kept by
``flask ce init``, FAB's raw security pages off, home counts limited to what the roles open."""

from __future__ import annotations

import re

import pytest

from app.capacities import ROLE_NAMES
from app.extensions import db
from app.models import Membership, OrgRole
from app.models.permissions import BaseRoleChoice
from app.services import org_roles
from app.services.roles import item_permissions, sync_base_roles
from tests import factories
from tests.helpers import login, token_for

CHECKBOX_RE = re.compile(r'name="levels" value="([a-z_]+:[a-z]+)"')
MENU_RE = re.compile(r'data-menu="([^"]+)"')


def _client(app, capacity, id_number):
    client = app.test_client()
    assert login(client, capacity, id_number).status_code == 302
    return client


def _pairs(role):
    return {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}


def _unit_with_plain_admin(kind):
    """A unit of ``kind`` under a province (and a city HR bureau), its super admin and an ordinary admin."""
    province = factories.org("province")
    parent = province if kind in ("hr", "province") else factories.org("hr", parent=province)
    unit = province if kind == "province" else factories.org(kind, parent=parent)
    boss = factories.admin(unit, "矩阵主管")
    plain = factories.user("矩阵管理员")
    m = Membership(user=plain, org=unit, is_super=False, status="approved", enabled=True)
    db.session.add(m)
    db.session.commit()
    return unit, boss, plain, m


def _save_role(client, name, levels, pk=None):
    url = f"/orgroles/edit/{pk}" if pk else "/orgroles/add"
    token = token_for(client, url)
    return client.post(url, data={"csrf_token": token, "name": name, "levels": levels})


def _assign(client, membership_id, role_id):
    token = token_for(client, "/orgadmins/list/")
    response = client.post(f"/orgadmins/roles/{membership_id}", data={"csrf_token": token, "roles": [role_id]})
    assert response.status_code == 302


# -- custom roles: the matrix of every organisation capacity ----------------------------------


@pytest.mark.parametrize("kind", ["employer", "competent", "hr", "province", "ce_base"])
def test_super_admin_of_each_capacity_saves_a_matrix_role(app, kind):
    with app.app_context():
        unit, boss, _plain, _m = _unit_with_plain_admin(kind)
        unit_id, boss_idn = unit.id, boss.id_number
    client = _client(app, kind, boss_idn)
    form = client.get("/orgroles/add").get_data(as_text=True)
    offered = CHECKBOX_RE.findall(form)
    assert offered, "the matrix shows module:level checkboxes"
    # Only levels that exist: the hours-approval page has no export, read-only pages no edit.
    assert not any(v.startswith(("admins:", "roles:")) for v in offered)
    assert "password_reset:edit" in offered
    assert "password_reset:view" not in offered
    assert all(not v.endswith(":review") or v.split(":")[0] in {
        "approval", "reduction_approval", "deregistrations", "reg_professionals", "reg_subunits", "reg_employers",
        "reg_ce_bases", "reg_competent", "reg_hr"} for v in offered)
    # Category headings like the menu, Chinese level headings (existing catalogue entries).
    assert "查看" in form and "编辑" in form and "导出" in form
    view_only = sorted(v for v in offered if v.endswith(":view"))[:2]
    assert _save_role(client, "只读", view_only).status_code == 302
    with app.app_context():
        role = db.session.query(OrgRole).filter_by(org_id=unit_id, name="只读").one()
        keys = {v.split(":")[0] for v in view_only}
        assert role.modules == {k: ["view"] for k in keys}
        sm = app.appbuilder.sm
        assert _pairs(role.role) == item_permissions(sm, kind, {k: ["view"] for k in keys})
        assert not {p for p, _v in _pairs(role.role)} & {"can_edit", "can_add", "can_delete", "can_export", "can_review", "can_admin_reset"}
        assert _pairs(role.role) <= _pairs(sm.find_role(ROLE_NAMES[kind]))
    # A level the module does not have, or another capacity's module: the whole form is refused.
    for bad in (["approval:export"], ["audit:view"] if kind in ("employer", "competent", "ce_base") else ["nonexistent:view"], ["admins:view"]):
        assert _save_role(client, "越权", view_only + bad).status_code == 200, bad
    with app.app_context():
        assert db.session.query(OrgRole).filter_by(org_id=unit_id, name="越权").count() == 0


def test_edit_export_or_review_include_view(app):
    with app.app_context():
        unit, boss, _plain, _m = _unit_with_plain_admin("employer")
        boss_idn, unit_id = boss.id_number, unit.id
    client = _client(app, "employer", boss_idn)
    assert _save_role(client, "只导出", ["professionals:export", "approval:review"]).status_code == 302
    with app.app_context():
        role = db.session.query(OrgRole).filter_by(org_id=unit_id, name="只导出").one()
        assert role.modules == {"approval": ["view", "review"], "professionals": ["view", "export"]}


@pytest.fixture
def view_only_admin(app):
    """An employer whose super admin gave an ordinary admin a role with professionals: view only."""
    with app.app_context():
        unit, boss, plain, m = _unit_with_plain_admin("employer")
        person = factories.professional(unit, "被查看")
        db.session.commit()
        ids = {"boss": boss.id_number, "plain": plain.id_number, "plain_user": plain.id, "membership": m.id,
               "person": person.id, "person_user": person.user_id, "boss_user": boss.id, "unit": unit.id}
    boss_client = _client(app, "employer", ids["boss"])
    assert _save_role(boss_client, "人员只读", ["professionals:view"]).status_code == 302
    with app.app_context():
        ids["role"] = db.session.query(OrgRole).filter_by(org_id=ids["unit"], name="人员只读").one().id
    _assign(boss_client, ids["membership"], ids["role"])
    ids["boss_client"] = boss_client
    return ids


def test_view_only_professionals_role_sees_the_list_and_nothing_more(app, view_only_admin):
    ids = view_only_admin
    client = _client(app, "employer", ids["plain"])
    home = client.get("/").get_data(as_text=True)
    assert set(MENU_RE.findall(home)) == {"employer.professionals"}
    listing = client.get("/professionalview/list/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "被查看" in html
    assert "/professionalview/export/" not in html and f"/professionalview/edit/{ids['person']}" not in html
    assert client.get(f"/professionalview/show/{ids['person']}").status_code == 200
    # Edit, export and the password reset are other levels / another module.
    assert client.get(f"/professionalview/edit/{ids['person']}").status_code == 403
    token = token_for(client, "/professionalview/list/")
    assert client.post(f"/professionalview/edit/{ids['person']}", data={"csrf_token": token, "native_place": "x"}).status_code == 403
    assert client.get("/professionalview/export/").status_code == 403
    assert client.post(f"/password/admin-reset/{ids['person_user']}", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/password/admin-reset/{ids['boss_user']}", data={"csrf_token": token}).status_code == 403
    # URLs outside the role.
    for url in ("/departmentview/list/", "/hours/review/", "/orgadmins/list/", "/orgroles/list/", "/titlerecordview/list/", "/security/users/", "/security/base-roles/"):
        assert client.get(url).status_code == 403, url


def test_view_only_role_has_no_rest_write(app, view_only_admin):
    with app.app_context():
        role = db.session.get(OrgRole, view_only_admin["role"]).role
        pairs = _pairs(role)
        assert ("can_get", "ProfessionalApi") in pairs
        assert ("can_put", "ProfessionalApi") not in pairs
        assert ("can_export", "ProfessionalView") not in pairs
        assert ("can_admin_reset", "PasswordAdminView") not in pairs


def test_password_reset_is_its_own_module(app):
    with app.app_context():
        sm = app.appbuilder.sm
        every_professional_level = item_permissions(sm, "employer", {"professionals": ["view", "edit", "export"]})
        assert ("can_admin_reset", "PasswordAdminView") not in every_professional_level
        assert ("can_edit", "ProfessionalView") in every_professional_level
        assert ("can_put", "ProfessionalApi") in every_professional_level
        assert ("can_export", "ProfessionalView") in every_professional_level
        reset = item_permissions(sm, "employer", {"password_reset": ["edit"]})
        assert ("can_admin_reset", "PasswordAdminView") in reset
        assert not any(v == "ProfessionalView" for _p, v in reset)
        # The base role of every organisation capacity still holds it (module granted by default).
        for kind in ("employer", "competent", "ce_base", "hr", "province"):
            assert ("can_admin_reset", "PasswordAdminView") in _pairs(sm.find_role(ROLE_NAMES[kind]))


def test_old_module_lists_read_as_every_level_without_password_reset(app):
    """Roles saved before levels existed (a list of modules, migration a10e0005 turns it into all
    levels) keep what their modules gave, except the password reset that was bundled in."""
    with app.app_context():
        unit, _boss, _plain, _m = _unit_with_plain_admin("employer")
        actor_m = db.session.query(Membership).filter_by(org_id=unit.id, is_super=True).one()
        from app.services.auth import actor_for_membership

        sm = app.appbuilder.sm
        role = org_roles.create_role(db.session, sm, actor_for_membership(actor_m), "旧角色", ["approval"])
        role.modules = ["professionals"]  # the old format
        db.session.commit()
        org_roles.sync_org_roles(sm)
        role = db.session.get(OrgRole, role.id)
        assert role.modules == {"professionals": ["view", "edit", "export"]}
        pairs = _pairs(role.role)
        assert {("can_list", "ProfessionalView"), ("can_edit", "ProfessionalView"), ("can_export", "ProfessionalView")} <= pairs
        assert ("can_admin_reset", "PasswordAdminView") not in pairs


def test_home_counts_only_what_the_roles_open(app, view_only_admin):
    ids = view_only_admin
    from app.services.dashboard import waiting_counts
    from app.services.scope import Actor

    with app.app_context():
        actor = Actor(user_id=ids["plain_user"], capacity="employer", org_id=ids["unit"], membership_id=ids["membership"])
        everything = waiting_counts(db.session, actor)
        only_professionals = waiting_counts(db.session, actor, lambda p, v: (p, v) == ("can_list", "ProfessionalView"))
        assert len(everything) == 5 and only_professionals == []
    plain_home = _client(app, "employer", ids["plain"]).get("/").get_data(as_text=True)
    boss_home = ids["boss_client"].get("/").get_data(as_text=True)
    for label in ("待审核的学时申报", "待审核的专业技术人员", "待接收的人员调转"):
        assert label in boss_home
        assert label not in plain_home


# -- the system administrator's base-role matrix -------------------------------------------------


def _sysadmin(app):
    """A world; returns ({key: ID number of each admin/person/sysadmin}, the sysadmin's ID number)."""
    with app.app_context():
        w = factories.world()
        ids = {k: v.id_number for k, v in w.items() if hasattr(v, "id_number")}
        return ids, ids["sysadmin"]


def test_base_role_matrix_edit_survives_ce_init(fresh_app):
    app = fresh_app()
    w, sys_idn = _sysadmin(app)
    boss_idn = w["employer_admin"]
    client = _client(app, "sysadmin", sys_idn)
    page = client.get("/security/base-roles/employer")
    assert page.status_code == 200
    offered = CHECKBOX_RE.findall(page.get_data(as_text=True))
    assert "professionals:export" in offered and "password_reset:edit" in offered
    chosen = [v for v in offered if v not in ("professionals:export", "professionals:edit", "password_reset:edit")]
    token = token_for(client, "/security/base-roles/employer")
    assert client.post("/security/base-roles/employer", data={"csrf_token": token, "levels": chosen}).status_code == 302

    def employer_pairs():
        with app.app_context():
            return _pairs(app.appbuilder.sm.find_role(ROLE_NAMES["employer"]))

    removed = {("can_export", "ProfessionalView"), ("can_edit", "ProfessionalView"), ("can_put", "ProfessionalApi"), ("can_admin_reset", "PasswordAdminView")}
    assert not employer_pairs() & removed
    assert ("can_list", "ProfessionalView") in employer_pairs()
    boss = _client(app, "employer", boss_idn)
    assert boss.get("/professionalview/list/").status_code == 200
    assert boss.get("/professionalview/export/").status_code == 403
    # The custom-role matrix of that kind no longer offers what the base role lost.
    form = boss.get("/orgroles/add").get_data(as_text=True)
    assert 'value="professionals:view"' in form and 'value="professionals:export"' not in form

    with app.app_context():
        sync_base_roles(app.appbuilder.sm)
    assert not employer_pairs() & removed
    result = app.test_cli_runner().invoke(args=["ce", "init"])
    assert result.exit_code == 0, result.output
    assert not employer_pairs() & removed
    assert ("can_list", "ProfessionalView") in employer_pairs()

    # A module level added by an upgrade (not offered when the choice was saved) gets its default.
    with app.app_context():
        choice = db.session.query(BaseRoleChoice).filter_by(capacity="employer").one()
        choice.offered = [e for e in choice.offered if not e.startswith("certificates:")]
        choice.chosen = [e for e in choice.chosen if not e.startswith("certificates:")]
        db.session.commit()
        sync_base_roles(app.appbuilder.sm)
    assert ("can_list", "CertificateView") in employer_pairs()
    assert not employer_pairs() & removed


def test_base_role_matrix_refuses_unknown_levels_and_other_users(fresh_app):
    app = fresh_app()
    w, sys_idn = _sysadmin(app)
    boss_idn = w["employer_admin"]
    with app.app_context():
        before = _pairs(app.appbuilder.sm.find_role(ROLE_NAMES["employer"]))
    client = _client(app, "sysadmin", sys_idn)
    token = token_for(client, "/security/base-roles/employer")
    page = client.post("/security/base-roles/employer", data={"csrf_token": token, "levels": ["professionals:view", "audit:view"]}, follow_redirects=True)
    assert page.status_code == 200
    # The system administrator's own user and matrix pages are never offered (no lock-out).
    sys_page = client.get("/security/base-roles/sysadmin").get_data(as_text=True)
    assert 'value="users:' not in sys_page and 'value="base_roles:' not in sys_page
    token = token_for(client, "/security/base-roles/sysadmin")
    client.post("/security/base-roles/sysadmin", data={"csrf_token": token, "levels": ["audit:view"]})
    assert client.get("/security/base-roles/employer").status_code == 200
    assert client.get("/security/users/").status_code == 200
    with app.app_context():
        assert _pairs(app.appbuilder.sm.find_role(ROLE_NAMES["employer"])) == before
        assert db.session.query(BaseRoleChoice).filter_by(capacity="employer").count() == 0
    boss = _client(app, "employer", boss_idn)
    assert boss.get("/security/base-roles/").status_code == 403
    token = token_for(boss, "/acting/")
    assert boss.post("/security/base-roles/employer", data={"csrf_token": token, "levels": ["professionals:view"]}).status_code == 403


# -- FAB's raw security pages --------------------------------------------------------------------

RAW_SECURITY_URLS = (
    "/users/list/", "/users/show/1", "/users/add", "/users/userinfo/", "/roles/list/", "/roles/add",
    "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/", "/userstatschartview/chart/",
    "/resetpassword/form?pk=1", "/resetmypassword/form", "/userinfoeditview/form",
)


def test_raw_security_pages_unreachable_even_for_the_sysadmin(app):
    _w, sys_idn = _sysadmin(app)
    client = _client(app, "sysadmin", sys_idn)
    home = client.get("/").get_data(as_text=True)
    assert "List Users" not in home and "List Roles" not in home and 'data-menu="Security"' not in home
    for url in RAW_SECURITY_URLS:
        assert client.get(url).status_code in (403, 404), url
    with app.app_context():
        names = {pv.view_menu.name for pv in app.appbuilder.sm.find_role(ROLE_NAMES["sysadmin"]).permissions}
        assert not names & {"CEUserDBModelView", "CERoleModelView", "PermissionModelView", "Security", "List Users"}
    links = dict((name, href) for href, name in re.findall(r'href="([^"]+)" data-menu="([^"]+)"', home))
    assert links["sysadmin.users"] == "/security/users/"
    assert links["sysadmin.base_roles"] == "/security/base-roles/"
    assert client.get(links["sysadmin.base_roles"]).status_code == 200


def test_raw_security_pages_only_with_the_developer_flag(fresh_app):
    app = fresh_app(CE_DEV_SECURITY_PAGES=True)
    _w, sys_idn = _sysadmin(app)
    client = _client(app, "sysadmin", sys_idn)
    assert client.get("/users/list/").status_code == 200
    assert client.get("/roles/list/").status_code == 200
