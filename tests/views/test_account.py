"""Organisation self-management pages: admins (管理员) and sub-units (下级单位), SPEC §3."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import AuditLog, Membership, Organization, User
from app.services.identifiers import make_id_number
from tests import factories
from tests.helpers import login, token_for


def _unit(kind="employer", parent_kind="competent"):
    """A fresh unit under a fresh superior, with a super admin each; committed."""
    province = factories.org("province")
    superior = factories.org(parent_kind, parent=province)
    unit = factories.org(kind, parent=superior)
    boss = factories.admin(unit, "甲管理")
    superior_admin = factories.admin(superior, "乙管理")
    db.session.commit()
    return unit, boss, superior, superior_admin


def _plain_admin(org, roles=(), name="丙管理"):
    u = factories.user(name)
    m = Membership(user=u, org=org, is_super=False, status="approved", enabled=True)
    m.roles = list(roles)
    db.session.add(m)
    db.session.commit()
    return u, m


def _supers(org_id):
    return db.session.query(Membership).filter_by(org_id=org_id, is_super=True).all()


def _client(app, capacity, id_number):
    client = app.test_client()
    assert login(client, capacity, id_number).status_code == 302
    return client


def test_add_existing_user_needs_matching_name_and_only_invites(app):
    from app.models import AdminInvitation

    with app.app_context():
        unit, boss, *_ = _unit()
        other = factories.professional(factories.org("employer"), "周八").user
        unit_id, boss_idn, other_idn, other_id = unit.id, boss.id_number, other.id_number, other.id
        db.session.commit()
    client = _client(app, "employer", boss_idn)
    token = token_for(client, "/orgadmins/add")
    wrong = client.post("/orgadmins/add", data={"csrf_token": token, "how": "existing", "id_number": other_idn, "name": "别人"})
    assert wrong.status_code == 200
    with app.app_context():
        assert db.session.query(AdminInvitation).filter_by(org_id=unit_id, user_id=other_id).count() == 0
    ok = client.post("/orgadmins/add", data={"csrf_token": token, "how": "existing", "id_number": other_idn.lower(), "name": "周八"})
    assert ok.status_code == 302
    with app.app_context():
        # An invitation only: no membership until the person accepts it.
        assert db.session.query(Membership).filter_by(org_id=unit_id, user_id=other_id).count() == 0
        inv = db.session.query(AdminInvitation).filter_by(org_id=unit_id, user_id=other_id).one()
        assert inv.status == "pending"
        assert db.session.query(AuditLog).filter_by(object_type="admin_invitation", object_id=inv.id, trigger="invite_admin").count() == 1
    again = client.post("/orgadmins/add", data={"csrf_token": token, "how": "existing", "id_number": other_idn, "name": "周八"})
    assert again.status_code == 200  # already invited: the form comes back


def test_add_new_user_gets_a_one_time_password_and_must_change(app):
    import re

    with app.app_context():
        unit, boss, *_ = _unit()
        unit_id, boss_idn = unit.id, boss.id_number
    idn = make_id_number("410105", date(1971, 3, 3), 321)
    client = _client(app, "employer", boss_idn)
    token = token_for(client, "/orgadmins/add?how=new")
    bad = client.post("/orgadmins/add", data={"csrf_token": token, "how": "new", "id_number": idn[:-1] + ("1" if idn[-1] != "1" else "2"), "name": "吴九", "mobile": "13800000001", "email": "wu9@test.local"})
    assert bad.status_code == 200
    with app.app_context():
        assert db.session.query(User).filter_by(email="wu9@test.local").count() == 0
    ok = client.post("/orgadmins/add", data={"csrf_token": token, "how": "new", "id_number": idn, "name": "吴九", "mobile": "13800000001", "email": "wu9@test.local"})
    assert ok.status_code == 200
    value = re.search(r'id="one-time-password"[^>]*>([A-Za-z0-9]+)<', ok.get_data(as_text=True)).group(1)
    with app.app_context():
        user = db.session.query(User).filter_by(id_number=idn).one()
        assert user.must_change_password and user.temp_password_expires_at is not None
        assert check_password_hash(user.password, value) and len(value) >= 12
        assert not check_password_hash(user.password, idn[-6:].upper())
        assert user.full_name == "吴九"
        assert db.session.query(Membership).filter_by(org_id=unit_id, user_id=user.id, is_super=False).count() == 1


def test_add_own_professional_only(app):
    with app.app_context():
        unit, boss, *_ = _unit()
        mine = factories.professional(unit, "郑十")
        stranger_unit = factories.org("employer")
        theirs = factories.professional(stranger_unit, "钱十一")
        db.session.commit()
        ids = unit.id, boss.id_number, mine.id, mine.user_id, theirs.id, theirs.user_id
    unit_id, boss_idn, mine_id, mine_uid, theirs_id, theirs_uid = ids
    client = _client(app, "employer", boss_idn)
    page = client.get("/orgadmins/add?how=professional&q=郑").get_data(as_text=True)
    assert f'value="{mine_id}"' in page and f'value="{theirs_id}"' not in page
    token = token_for(client, "/orgadmins/add?how=professional")
    refused = client.post("/orgadmins/add", data={"csrf_token": token, "how": "professional", "professional": theirs_id})
    assert refused.status_code == 200
    assert client.post("/orgadmins/add", data={"csrf_token": token, "how": "professional", "professional": mine_id}).status_code == 302
    with app.app_context():
        assert db.session.query(Membership).filter_by(org_id=unit_id, user_id=mine_uid).count() == 1
        assert db.session.query(Membership).filter_by(user_id=theirs_uid).count() == 0


def test_super_admin_swap_leaves_exactly_one(app):
    with app.app_context():
        unit, boss, *_ = _unit()
        _u, m = _plain_admin(unit)
        unit_id, boss_idn, target = unit.id, boss.id_number, m.id
    client = _client(app, "employer", boss_idn)
    token = token_for(client, "/orgadmins/list/")
    assert client.post(f"/orgadmins/super/{target}", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        supers = _supers(unit_id)
        assert [s.id for s in supers] == [target]
        assert db.session.query(Membership).filter_by(org_id=unit_id).count() == 2
    # The former super admin has no role any more: no page of admin management at the next request.
    assert client.get("/orgadmins/list/").status_code in (302, 403)


def test_non_super_admin_is_refused_and_nothing_changes(app):
    with app.app_context():
        unit, boss, *_ = _unit()
        from app.services import org_roles
        from app.services.scope import Actor

        boss_m = db.session.query(Membership).filter_by(user_id=boss.id).one()
        actor = Actor(user_id=boss.id, capacity="employer", org_id=unit.id, org_path=unit.path, membership_id=boss_m.id)
        role = org_roles.create_role(db.session, app.appbuilder.sm, actor, "查询员", ["professionals"])
        plain, m = _plain_admin(unit, [role.role])
        victim = factories.user("受害者")
        unit_id, plain_idn, boss_m_id, victim_idn, m_id = unit.id, plain.id_number, boss_m.id, victim.id_number, m.id
        db.session.commit()
    client = _client(app, "employer", plain_idn)
    token = token_for(client)
    assert client.get("/orgadmins/list/").status_code == 403
    assert client.post("/orgadmins/add", data={"csrf_token": token, "how": "existing", "id_number": victim_idn, "name": "受害者"}).status_code == 403
    assert client.post(f"/orgadmins/super/{m_id}", data={"csrf_token": token}).status_code == 403
    assert client.post("/orgadmins/bulk", data={"csrf_token": token, "action": "remove", "rowid": [boss_m_id], "confirm": "1"}).status_code == 403
    assert client.post("/orgroles/add", data={"csrf_token": token, "name": "越权", "modules": ["approval"]}).status_code == 403
    with app.app_context():
        assert [s.id for s in _supers(unit_id)] == [boss_m_id]
        assert db.session.query(Membership).filter_by(org_id=unit_id).count() == 2


def test_bulk_disable_needs_confirmation_and_super_cannot_remove_itself(app):
    with app.app_context():
        unit, boss, *_ = _unit()
        _u1, m1 = _plain_admin(unit, name="一号")
        _u2, m2 = _plain_admin(unit, name="二号")
        boss_m = db.session.query(Membership).filter_by(user_id=boss.id).one()
        unit_id, boss_idn, ids, boss_m_id = unit.id, boss.id_number, [m1.id, m2.id], boss_m.id
    client = _client(app, "employer", boss_idn)
    token = token_for(client, "/orgadmins/list/")
    ask = client.post("/orgadmins/bulk", data={"csrf_token": token, "action": "disable", "rowid": ids})
    assert ask.status_code == 200 and 'name="confirm" value="1"' in ask.get_data(as_text=True)
    with app.app_context():
        assert all(db.session.get(Membership, pk).enabled for pk in ids)
    done = client.post("/orgadmins/bulk", data={"csrf_token": token, "action": "disable", "rowid": ids, "confirm": "1"})
    assert done.status_code == 302
    with app.app_context():
        assert not any(db.session.get(Membership, pk).enabled for pk in ids)
    # The super admin cannot remove (or disable) itself; a mixed selection changes nothing.
    client.post("/orgadmins/bulk", data={"csrf_token": token, "action": "remove", "rowid": [boss_m_id, ids[0]], "confirm": "1"})
    with app.app_context():
        assert db.session.get(Membership, boss_m_id) is not None
        assert db.session.get(Membership, ids[0]) is not None
    client.post("/orgadmins/bulk", data={"csrf_token": token, "action": "remove", "rowid": [ids[0]], "confirm": "1"})
    with app.app_context():
        assert db.session.get(Membership, ids[0]) is None
        assert db.session.query(Membership).filter_by(org_id=unit_id).count() == 2


def test_bulk_refuses_admins_of_another_org(app):
    with app.app_context():
        unit, boss, *_ = _unit()
        other, _other_boss, *_rest = _unit()
        _u, foreign = _plain_admin(other)
        boss_idn, foreign_id = boss.id_number, foreign.id
    client = _client(app, "employer", boss_idn)
    token = token_for(client, "/orgadmins/list/")
    client.post("/orgadmins/bulk", data={"csrf_token": token, "action": "remove", "rowid": [foreign_id], "confirm": "1"})
    client.post(f"/orgadmins/super/{foreign_id}", data={"csrf_token": token})
    with app.app_context():
        m = db.session.get(Membership, foreign_id)
        assert m is not None and not m.is_super


def test_admin_list_links_the_password_reset(app):
    with app.app_context():
        unit, boss, *_ = _unit()
        plain, _m = _plain_admin(unit)
        boss_idn, plain_id = boss.id_number, plain.id
    client = _client(app, "employer", boss_idn)
    html = client.get("/orgadmins/list/").get_data(as_text=True)
    assert f"/password/admin-reset/{plain_id}" in html
    token = token_for(client, "/orgadmins/list/")
    assert client.post(f"/password/admin-reset/{plain_id}", data={"csrf_token": token, "next": "/orgadmins/list/"}).status_code == 200
    with app.app_context():
        assert db.session.get(User, plain_id).must_change_password


def test_admin_without_role_cannot_log_in(app):
    from tests.security.test_login import _error

    with app.app_context():
        unit, *_ = _unit()
        plain, _m = _plain_admin(unit)
        idn = plain.id_number
    code, _text = _error(login(app.test_client(), "employer", idn))
    assert code == "no_role"


# -- sub-units ---------------------------------------------------------------------------------------


@pytest.fixture
def tree(app):
    with app.app_context():
        w = factories.world()
        _u, m = _plain_admin(w["employer"], name="下级管理")
        _u2, m_b = _plain_admin(w["employer_b"], name="外部管理")
        return {
            "competent": w["competent_admin"].id_number,
            "employer": w["employer"].id,
            "employer_admin": w["employer_admin"].id_number,
            "employer_b": w["employer_b"].id,
            "ce_base": w["ce_base"].id,
            "member": m.id,
            "member_b": m_b.id,
            "competent_org": w["competent"].id,
        }


def test_superior_sees_subunit_admins_and_removes_one(app, tree):
    client = _client(app, "competent", tree["competent"])
    listing = client.get("/subunits/list/").get_data(as_text=True)
    assert f'data-org="{tree["employer"]}"' in listing
    assert f'data-org="{tree["employer_b"]}"' not in listing
    assert f'data-org="{tree["competent_org"]}"' not in listing  # not itself
    detail = client.get(f"/subunits/show/{tree['employer']}").get_data(as_text=True)
    assert f'data-membership="{tree["member"]}"' in detail
    assert client.get(f"/subunits/show/{tree['employer_b']}").status_code == 404
    assert client.get(f"/subunits/show/{tree['competent_org']}").status_code == 404
    token = token_for(client, "/subunits/list/")
    # Outside the subtree: refused, nothing changes.
    client.post(f"/subunits/remove-admin/{tree['member_b']}", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Membership, tree["member_b"]) is not None
    assert client.post(f"/subunits/remove-admin/{tree['member']}", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Membership, tree["member"]) is None
        # The sub-unit's super admin stays.
        assert len(_supers(tree["employer"])) == 1


def test_superior_closes_and_reopens_review_right(app, tree):
    client = _client(app, "competent", tree["competent"])
    token = token_for(client, "/subunits/list/")
    client.post(f"/subunits/review/{tree['employer_b']}", data={"csrf_token": token, "closed": "1"})
    client.post(f"/subunits/review/{tree['competent_org']}", data={"csrf_token": token, "closed": "1"})
    with app.app_context():
        assert not db.session.get(Organization, tree["employer_b"]).review_closed
        assert not db.session.get(Organization, tree["competent_org"]).review_closed
    assert client.post(f"/subunits/review/{tree['employer']}", data={"csrf_token": token, "closed": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Organization, tree["employer"]).review_closed
        assert db.session.query(AuditLog).filter_by(object_type="organization", object_id=tree["employer"], trigger="close_review").count() == 1
    client.post(f"/subunits/review/{tree['employer']}", data={"csrf_token": token, "closed": "0"})
    with app.app_context():
        assert not db.session.get(Organization, tree["employer"]).review_closed


def test_unit_cannot_reopen_its_own_review_right(app, tree):
    with app.app_context():
        org = db.session.get(Organization, tree["employer"])
        org.review_closed = True
        db.session.commit()
    client = _client(app, "employer", tree["employer_admin"])
    token = token_for(client)
    client.post(f"/subunits/review/{tree['employer']}", data={"csrf_token": token, "closed": "0"})
    edit = client.get(f"/organizationview/edit/{tree['employer']}").get_data(as_text=True)
    assert 'name="review_closed"' not in edit
    client.post(f"/organizationview/edit/{tree['employer']}", data={"csrf_token": token, "name": "测试医院", "review_closed": ""})
    with app.app_context():
        assert db.session.get(Organization, tree["employer"]).review_closed


def test_competent_manages_its_ce_bases(app):
    with app.app_context():
        province = factories.org("province")
        competent = factories.org("competent", parent=province)
        base = factories.org("ce_base", parent=competent)
        boss = factories.admin(competent)
        factories.admin(base)
        _u, m = _plain_admin(base, name="基地管理")
        ids = boss.id_number, base.id, m.id
    boss_idn, base_id, member = ids
    client = _client(app, "competent", boss_idn)
    assert f'data-membership="{member}"' in client.get(f"/subunits/show/{base_id}").get_data(as_text=True)
    client.post(f"/subunits/remove-admin/{member}", data={"csrf_token": token_for(client, "/subunits/list/")})
    with app.app_context():
        assert db.session.get(Membership, member) is None


def test_subunit_pages_need_a_login(app):
    assert app.test_client().get("/subunits/list/").status_code in (302, 401, 403)
