"""Self-approval: a reviewer never decides a declaration, a reduced-requirement request, a registration
or a deregistration of their own person (or an organisation they applied for). Through the real pages:
the user who is both the professional and an admin of its employer is refused and nothing changes;
another admin of the same unit decides as usual; bulk actions skip the own rows and say so."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import AuditLog, Declaration, Deregistration, Membership, Organization, Professional, RequirementReduction
from app.services import deregistration as dereg_svc
from app.services import registration_review as rr
from app.services.declarations import DeclarationInvalid, annul, review, save_declaration
from app.services.reductions import request_reduction
from app.services.scope import Actor
from app.workflows.declaration import DeclarationError, fire
from tests import factories as f
from tests.helpers import login, token_for
from tests.images import image_bytes, upload

YEAR = date.today().year


@pytest.fixture
def w(app):
    """The test world plus 自审甲: a professional of the employer who is also a super admin of it."""
    with app.app_context():
        world = f.world()
        employer = world["employer"]
        dual = f.admin(employer, "自审甲")
        person = f.professional(employer, "自审甲", user_obj=dual)
        colleague = f.professional(employer, "同事丙")
        out = {k: v.id for k, v in world.items() if not k.endswith("_admin") and k != "sysadmin"}
        out.update({k: v.id_number for k, v in world.items() if k.endswith("_admin")})
        out.update(dual=dual.id_number, dual_user=dual.id, me=person.id, colleague=colleague.id,
                   colleague_login=colleague.id_number)
        db.session.commit()
        return out


def _client(app, capacity, id_number):
    c = app.test_client()
    assert login(c, capacity, id_number).status_code == 302
    return c


def _flashes(client) -> list:
    with client.session_transaction() as s:
        return list(s.get("_flashes", []))


def _person_actor(person_id):
    p = db.session.get(Professional, person_id)
    return Actor(user_id=p.user_id, capacity="person", org_id=p.org_id, person_id=p.id)


def _conference():
    return {
        "subject_type": "professional", "form_code": "academic_conference", "year": YEAR,
        "start_date": f"{YEAR}-03-01", "end_date": f"{YEAR}-03-02", "result": "合格", "requested_hours": "",
        "remark": "", "data": {"level": "national", "conference": "全国学术年会", "days": 2, "presented_paper": True},
    }


def _declared(app, person_id) -> int:
    with app.app_context(), app.test_request_context():
        obj = save_declaration(_person_actor(person_id), _conference(), [upload(image_bytes(), "p.png")], submit=True)
        return obj.id


def _decl(app, pk):
    with app.app_context():
        d = db.session.get(Declaration, pk)
        return d.state, d.step, d.handler_org_id


def _audits(app, object_type, pk):
    with app.app_context():
        return db.session.query(AuditLog).filter_by(object_type=object_type, object_id=pk).count()


# ---------------------------------------------------------------- declarations

DECL_REVIEW = "/hours/review/review"


def test_declaration_own_single_review_refused_another_admin_approves(app, w):
    pk = _declared(app, w["me"])
    before, n = _decl(app, pk), _audits(app, "declaration", pk)
    dual = _client(app, "employer", w["dual"])
    detail = dual.get(f"/hours/review/{pk}")
    assert detail.status_code == 200 and 'name="recognised_hours"' not in detail.get_data(as_text=True)
    for trigger in ("approve", "reject"):
        r = dual.post(DECL_REVIEW, data={"csrf_token": token_for(dual, "/hours/review/"), "trigger": trigger,
                                         "scope": "single", "ids": [str(pk)], "year": str(YEAR), "comment": "自己"})
        assert r.status_code == 302
        assert any(cat == "danger" for cat, _m in _flashes(dual))
    assert _decl(app, pk) == before and _audits(app, "declaration", pk) == n
    other = _client(app, "employer", w["employer_admin"])
    r = other.post(DECL_REVIEW, data={"csrf_token": token_for(other, "/hours/review/"), "trigger": "approve",
                                      "scope": "single", "ids": [str(pk)], "year": str(YEAR)})
    assert r.status_code == 302
    assert _decl(app, pk) == ("pending", 1, w["competent"])


def test_declaration_bulk_skips_own_rows_and_reports_them(app, w):
    own, theirs = _declared(app, w["me"]), _declared(app, w["colleague"])
    dual = _client(app, "employer", w["dual"])
    token = token_for(dual, "/hours/review/")
    r = dual.post(DECL_REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "selected", "confirmed": "1",
                                     "ids": [str(own), str(theirs)], "year": str(YEAR)})
    assert r.status_code == 302
    assert any(cat == "warning" for cat, _m in _flashes(dual))
    assert _decl(app, own) == ("pending", 0, w["employer"])
    assert _decl(app, theirs) == ("pending", 1, w["competent"])
    # "All matching": again only the others' rows move; the own one stays for someone else.
    third = _declared(app, w["colleague"])
    with app.app_context():
        matching = db.session.query(Declaration).filter_by(state="pending", handler_org_id=w["employer"], year=YEAR)
        expected = matching.count()
    r = dual.post(DECL_REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "all", "confirmed": "1",
                                     "kind": "professional", "year": str(YEAR), "expected": str(expected)})
    assert r.status_code == 302
    assert _decl(app, own) == ("pending", 0, w["employer"]) and _decl(app, third)[1] == 1


def test_declaration_own_refused_at_the_final_step_and_for_annulment(app, w):
    """The same rule at the final reviewer: an HR admin who is the professional decides nothing of their own."""
    with app.app_context(), app.test_request_context():
        employer = db.session.get(Organization, w["employer"])
        person = f.professional(employer, "局内甲")
        obj = save_declaration(_person_actor(person.id), _conference(), [upload(image_bytes(), "p.png")], submit=True)
        pk, route = obj.id, list(obj.route)
        final = db.session.get(Organization, route[-1])

        def hr_actor(user):
            m = db.session.query(Membership).filter_by(user_id=user.id, org_id=final.id).one()
            return Actor(user_id=user.id, capacity=final.kind, org_id=final.id, org_path=final.path, membership_id=m.id)

        db.session.add(Membership(user=person.user, org=final, is_super=True, status="approved"))
        db.session.execute(Declaration.__table__.update().where(Declaration.id == pk).values(
            step=len(route) - 1, handler_org_id=final.id))
        db.session.commit()
        me_hr = hr_actor(person.user)
        with pytest.raises(DeclarationInvalid):
            review(me_hr, [pk], "approve")
        obj = db.session.get(Declaration, pk)
        with pytest.raises(DeclarationError) as exc:
            fire(obj, "approve", actor=me_hr)
        assert exc.value.code == "own"
        db.session.rollback()
        assert db.session.get(Declaration, pk).state == "pending"
        other_hr = hr_actor(f.admin(final, "局内乙"))
        review(other_hr, [pk], "approve")
        with pytest.raises(DeclarationError) as exc:
            annul(me_hr, pk, "自撤")
        assert exc.value.code == "own"
        db.session.rollback()
        assert db.session.get(Declaration, pk).state == "approved"


# ---------------------------------------------------------------- reduced requirements

RED_REVIEW = "/hours/reductions/review/review"


def _reduction(app, person_id) -> int:
    with app.app_context(), app.test_request_context():
        obj = request_reduction(_person_actor(person_id), {"year": str(YEAR), "reason": "maternity",
                                                           "months_on_duty": "6"},
                                [upload(image_bytes(), "p.png")], submit=True)
        return obj.id


def _red(app, pk):
    with app.app_context():
        r = db.session.get(RequirementReduction, pk)
        return r.state, r.step, r.handler_org_id


def test_reduction_own_refused_another_admin_approves(app, w):
    own, theirs = _reduction(app, w["me"]), _reduction(app, w["colleague"])
    before, n = _red(app, own), _audits(app, "reduction", own)
    dual = _client(app, "employer", w["dual"])
    token = token_for(dual, "/hours/reductions/review/")
    r = dual.post(RED_REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "single", "ids": [str(own)],
                                    "year": str(YEAR)})
    assert r.status_code == 302 and any(cat == "danger" for cat, _m in _flashes(dual))
    assert _red(app, own) == before and _audits(app, "reduction", own) == n
    r = dual.post(RED_REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "selected", "confirmed": "1",
                                    "ids": [str(own), str(theirs)], "year": str(YEAR)})
    assert r.status_code == 302 and any(cat == "warning" for cat, _m in _flashes(dual))
    assert _red(app, own) == before and _red(app, theirs)[2] == w["competent"]
    other = _client(app, "employer", w["employer_admin"])
    r = other.post(RED_REVIEW, data={"csrf_token": token_for(other, "/hours/reductions/review/"), "trigger": "approve",
                                     "scope": "single", "ids": [str(own)], "year": str(YEAR)})
    assert r.status_code == 302
    assert _red(app, own) == ("pending", 1, w["competent"])


# ---------------------------------------------------------------- registrations


def _reg_post(client, kind, ids, trigger="approve", **extra):
    data = {"csrf_token": token_for(client, f"/review/registrations/{kind}/"), "trigger": trigger,
            "scope": "selected", "confirmed": "1", "ids": [str(i) for i in ids], "reason": "原因"}
    data.update(extra)
    return client.post(f"/review/registrations/{kind}/review", data=data)


def test_professional_registration_own_refused_another_admin_approves(app, w):
    with app.app_context():
        dual2 = f.admin(db.session.get(Organization, w["employer"]), "自注甲")
        own = f.professional(db.session.get(Organization, w["employer"]), "自注甲", status="pending", user_obj=dual2)
        theirs = f.professional(db.session.get(Organization, w["employer"]), "他注乙", status="pending")
        db.session.commit()
        own_id, theirs_id, dual2_login = own.id, theirs.id, dual2.id_number
    client = _client(app, "employer", dual2_login)
    # The detail page says who must decide instead and offers no decision buttons on one's own.
    own_page = client.get(f"/review/registrations/professional/{own_id}").get_data(as_text=True)
    assert 'id="own-registration"' in own_page and 'id="approve-one"' not in own_page
    theirs_page = client.get(f"/review/registrations/professional/{theirs_id}").get_data(as_text=True)
    assert 'id="approve-one"' in theirs_page and 'id="own-registration"' not in theirs_page
    for trigger in ("approve", "reject"):
        assert _reg_post(client, "professional", [own_id], trigger).status_code == 302
        assert any(cat == "danger" for cat, _m in _flashes(client))
    with app.app_context():
        assert db.session.get(Professional, own_id).status == "pending"
        assert _audits(app, "professional", own_id) == 0
    assert _reg_post(client, "professional", [own_id, theirs_id]).status_code == 302
    assert any(cat == "warning" for cat, _m in _flashes(client))
    with app.app_context():
        assert db.session.get(Professional, own_id).status == "pending"
        assert db.session.get(Professional, theirs_id).status == "approved"
    other = _client(app, "employer", w["employer_admin"])
    assert _reg_post(other, "professional", [own_id]).status_code == 302
    with app.app_context():
        assert db.session.get(Professional, own_id).status == "approved"


def test_organisation_registration_applied_for_by_the_reviewer_refused(app, w):
    """A competent department's admin registers a unit below it as its applicant: another admin of the
    department must approve it."""
    with app.app_context():
        competent = db.session.get(Organization, w["competent"])
        applicant = db.session.query(Membership).join(Membership.user).filter(
            Membership.org_id == competent.id).first().user
        unit = f.org("employer", parent=competent, status="pending")
        db.session.add(Membership(user=applicant, org=unit, is_super=True, status="pending"))
        db.session.commit()
        unit_id, applicant_login = unit.id, applicant.id_number
    client = _client(app, "competent", applicant_login)
    assert _reg_post(client, "employer", [unit_id]).status_code == 302
    assert any(cat == "danger" for cat, _m in _flashes(client))
    with app.app_context():
        assert db.session.get(Organization, unit_id).status == "pending"
        assert _audits(app, "organization", unit_id) == 0
        actor_user = db.session.query(Membership).filter_by(org_id=w["competent"]).first().user_id
        assert rr.own_ids("employer", Actor(user_id=actor_user, capacity="competent"), [unit_id]) == {unit_id}
        other = f.admin(db.session.get(Organization, w["competent"]), "部门乙")
        db.session.commit()
        other_login = other.id_number
    assert _reg_post(_client(app, "competent", other_login), "employer", [unit_id]).status_code == 302
    with app.app_context():
        assert db.session.get(Organization, unit_id).status == "approved"


# ---------------------------------------------------------------- deregistrations

DEREG_REVIEW = "/review/deregistrations/review"


def _dereg_post(client, ids, action="approve"):
    data = {"csrf_token": token_for(client, "/review/deregistrations/list/"), "ids": [str(i) for i in ids],
            "action": action, "reason": "原因", "confirmed": "1"}
    return client.post(DEREG_REVIEW, data=data)


def _dereg(app, pk):
    with app.app_context():
        d = db.session.get(Deregistration, pk)
        return d.state, d.handler_org_id


def _apply_person(app, person_id) -> int:
    with app.app_context(), app.test_request_context():
        return dereg_svc.apply_person(_person_actor(person_id), "retired", "退休").id


def test_person_deregistration_own_refused_another_admin_forwards(app, w):
    own, theirs = _apply_person(app, w["me"]), _apply_person(app, w["colleague"])
    n = _audits(app, "deregistration", own)
    dual = _client(app, "employer", w["dual"])
    own_page = dual.get(f"/review/deregistrations/show/{own}").get_data(as_text=True)
    assert 'id="own-deregistration"' in own_page and 'id="dereg-review"' not in own_page
    theirs_page = dual.get(f"/review/deregistrations/show/{theirs}").get_data(as_text=True)
    assert 'id="dereg-review"' in theirs_page and 'id="own-deregistration"' not in theirs_page
    for action in ("approve", "reject"):
        assert _dereg_post(dual, [own], action).status_code == 302
        assert any(cat == "danger" for cat, _m in _flashes(dual))
    assert _dereg(app, own) == ("pending", w["employer"]) and _audits(app, "deregistration", own) == n
    assert _dereg_post(dual, [own, theirs]).status_code == 302
    assert any(cat == "warning" for cat, _m in _flashes(dual))
    assert _dereg(app, own) == ("pending", w["employer"]) and _dereg(app, theirs)[1] != w["employer"]
    other = _client(app, "employer", w["employer_admin"])
    assert _dereg_post(other, [own]).status_code == 302
    assert _dereg(app, own)[1] != w["employer"]


def test_organisation_deregistration_applied_for_by_the_reviewer_refused(app, w):
    """The super admin of an empty unit, also an admin of the parent, applies to close the unit: only
    another admin of the parent may decide."""
    with app.app_context(), app.test_request_context():
        competent = db.session.get(Organization, w["competent"])
        unit = f.org("employer", parent=competent)
        both = f.admin(unit, "双职甲")
        db.session.add(Membership(user=both, org=competent, is_super=True, status="approved"))
        db.session.flush()
        m = db.session.query(Membership).filter_by(user_id=both.id, org_id=unit.id).one()
        actor = Actor(user_id=both.id, capacity="employer", org_id=unit.id, org_path=unit.path, membership_id=m.id)
        proof = upload(image_bytes(), "proof.png")
        pk = dereg_svc.apply_org(actor, "deregister", "撤销单位", proof=proof).id
        db.session.commit()
        both_login, unit_id = both.id_number, unit.id
    client = _client(app, "competent", both_login)
    assert _dereg_post(client, [pk]).status_code == 302
    assert any(cat == "danger" for cat, _m in _flashes(client))
    assert _dereg(app, pk) == ("pending", w["competent"])
    with app.app_context():
        assert db.session.get(Organization, unit_id).status == "approved"
    other = _client(app, "competent", w["competent_admin"])
    assert _dereg_post(other, [pk]).status_code == 302
    assert _dereg(app, pk)[0] == "approved"


def test_services_refuse_own_rows_with_a_message_naming_who_decides(app, w):
    """Service level: refusal codes and messages (English msgids until the catalog is merged)."""
    pk = _declared(app, w["me"])
    with app.app_context(), app.test_request_context():
        m = db.session.query(Membership).filter_by(org_id=w["employer"]).join(Membership.user).filter(
            Membership.user.has(id_number=w["dual"])).one()
        employer = db.session.get(Organization, w["employer"])
        actor = Actor(user_id=m.user_id, capacity="employer", org_id=employer.id, org_path=employer.path,
                      membership_id=m.id)
        with pytest.raises(DeclarationInvalid) as exc:
            review(actor, [pk], "approve")
        assert "another administrator" in exc.value.errors["ids"].lower() or "管理员" in exc.value.errors["ids"]
        assert db.session.get(Declaration, pk).state == "pending"
        with pytest.raises(rr.ReviewRefused) as ref:
            own = f.professional(employer, "自注丁", status="pending", user_obj=f.admin(employer, "自注丁"))
            admin_m = db.session.query(Membership).filter_by(user_id=own.user_id, org_id=employer.id).one()
            rr.review_many([own.id], "professional", "approve",
                           Actor(user_id=own.user_id, capacity="employer", org_id=employer.id,
                                 org_path=employer.path, membership_id=admin_m.id))
        assert ref.value.code == "own"
        with pytest.raises(dereg_svc.DeregistrationInvalid):
            dereg_svc.review(actor, [_apply_person_in(w["me"])], "approve")
        db.session.rollback()


def _apply_person_in(person_id) -> int:
    return dereg_svc.apply_person(_person_actor(person_id), "retired", "退休").id
