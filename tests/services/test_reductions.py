"""Reduced requirement service: validation, drafts and submission, evidence, duplicates, the review
chain (same route as declarations), bulk review all-or-nothing, revoke, delete, the inbox, visibility,
and the prorated requirement after the final approval."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AnnualRequirement, AuditLog, DeclarationWindow, Membership, RequirementReduction
from app.services import reductions as svc
from app.services.reductions import ReductionInvalid
from app.services.requirements import requirement_for
from app.services.routing import route_for
from app.services.scope import Actor
from app.services.uploads import upload_path
from app.workflows.reduction import ReductionError
from tests import factories as f
from tests.images import PHP, image_bytes, upload

YEAR = dt.date.today().year
FAR = 2099  # a far-future year no other test gives requirement rows (rules carry forward to later years)


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


@pytest.fixture
def far_rule(ctx):
    """Requirement rows for FAR (public 24 / professional 66 / total 90), removed afterwards."""
    row = AnnualRequirement(year=FAR, title_level="all", region_scope="all", public_min=24, professional_min=66,
                            total_min=90)
    db.session.add(row)
    db.session.commit()
    yield row
    db.session.rollback()
    db.session.query(AnnualRequirement).filter_by(year=FAR).delete()
    db.session.commit()


def admin_actor(org):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def person_actor(person):
    return Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)


def tree(accountant=False):
    province = f.org("province")
    county = f.org("hr", parent=province)
    competent = f.org("competent", parent=county)
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "折算甲", is_accountant=accountant)
    db.session.commit()
    return {
        "province": province, "county": county, "competent": competent, "employer": employer, "person": person,
        "me": person_actor(person), "emp": admin_actor(employer), "comp": admin_actor(competent),
        "hr": admin_actor(county),
    }


def open_year(person, year=FAR):
    hr = person.org
    while hr.kind != "hr":
        hr = hr.parent
    db.session.add(DeclarationWindow(professional_id=person.id, year=year, until=dt.date(2100, 1, 1), reason="测试",
                                     opened_by_org_id=hr.id))
    db.session.commit()


def values(**over):
    v = {"year": str(YEAR), "reason": "maternity", "months_on_duty": "6", "remark": "产假"}
    v.update(over)
    return v


def pngs(n):
    return [upload(image_bytes(), f"证明{i}.png") for i in range(n)]


def invalid(call, *args, **kw) -> dict:
    with pytest.raises(ReductionInvalid) as exc:
        call(*args, **kw)
    return exc.value.errors


def count(model=RequirementReduction):
    return db.session.query(model).count()


# ---------------------------------------------------------------- request, draft, submit


def test_draft_then_submit_follows_the_declaration_route(ctx):
    t = tree()
    obj = svc.request_reduction(t["me"], values(), pngs(2))
    assert obj.state == "draft" and obj.org_id == t["employer"].id and obj.months_on_duty == 6
    assert [e["filename"] for e in obj.evidence] == ["证明0.png", "证明1.png"]
    assert all(os.path.exists(upload_path(e["stored_path"])) for e in obj.evidence)
    assert all(e["stored_path"].startswith("reduction_evidence/") for e in obj.evidence)
    obj = svc.submit(t["me"], obj.id)
    assert obj.state == "pending"
    assert obj.route == route_for(t["person"]) == [t["employer"].id, t["competent"].id, t["county"].id]
    assert obj.handler_org_id == t["employer"].id and obj.step == 0 and obj.submitted_at is not None
    assert [h.trigger for h in svc.history(obj)] == ["submit"]


def test_accountant_route_skips_the_competent_department(ctx):
    t = tree(accountant=True)
    obj = svc.request_reduction(t["me"], values(), pngs(1), submit=True)
    assert obj.route == route_for(t["person"]) == [t["employer"].id, t["county"].id]


def test_edit_a_draft_adds_evidence_and_changes_values(ctx):
    t = tree()
    obj = svc.request_reduction(t["me"], values(), pngs(1))
    obj = svc.request_reduction(t["me"], values(reason="abroad", months_on_duty="3"), pngs(1), reduction_id=obj.id,
                                submit=True)
    assert obj.reason == "abroad" and obj.months_on_duty == 3 and len(obj.evidence) == 2 and obj.state == "pending"
    assert "reduction" in invalid(svc.request_reduction, t["me"], values(), [], reduction_id=obj.id)


def test_bad_input_is_collected_and_nothing_is_written(ctx):
    t = tree()
    before, audits = count(), count(AuditLog)
    errors = invalid(svc.request_reduction, t["me"],
                     values(year=str(YEAR - 1), reason="holiday", months_on_duty="12", remark="长" * 1001),
                     [upload(PHP, "a.png")], submit=True)
    assert {"year", "reason", "months_on_duty", "remark", "evidence"} <= set(errors)
    assert all(isinstance(v, str) and v for v in errors.values())
    for bad in ("-1", "abc", "", "6.5"):
        assert "months_on_duty" in invalid(svc.request_reduction, t["me"], values(months_on_duty=bad), pngs(1))
    assert "remark" in invalid(svc.request_reduction, t["me"], values(reason="other", remark=""), pngs(1))
    assert "evidence" in invalid(svc.request_reduction, t["me"], values(), [], submit=True)
    assert "evidence" in invalid(svc.request_reduction, t["me"], values(), pngs(6))
    assert count() == before and count(AuditLog) == audits


def test_failed_request_leaves_no_file(ctx, app):
    t = tree()
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "reduction_evidence", str(dt.date.today().year))

    def listed():
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    before = listed()
    invalid(svc.request_reduction, t["me"], values(months_on_duty="99"), pngs(2), submit=True)
    assert listed() == before


def test_only_zero_to_eleven_months(ctx):
    t = tree()
    assert svc.request_reduction(t["me"], values(months_on_duty="0"), pngs(1)).months_on_duty == 0
    t2 = tree()
    assert svc.request_reduction(t2["me"], values(months_on_duty="11"), pngs(1)).months_on_duty == 11


def test_only_a_professional_acting_for_itself(ctx):
    t = tree()
    assert "actor" in invalid(svc.request_reduction, t["emp"], values(), pngs(1))
    other = tree()
    obj = svc.request_reduction(t["me"], values(), pngs(1))
    assert "reduction" in invalid(svc.submit, other["me"], obj.id)
    assert "reduction" in invalid(svc.delete_draft, other["me"], obj.id)
    assert "reduction" in invalid(svc.revoke, other["me"], obj.id)


def test_one_pending_or_approved_request_per_year(ctx):
    t = tree()
    first = svc.request_reduction(t["me"], values(), pngs(1), submit=True)
    before = count()
    assert "year" in invalid(svc.request_reduction, t["me"], values(), pngs(1))
    assert "year" in invalid(svc.request_reduction, t["me"], values(), pngs(1), submit=True)
    assert count() == before
    # A draft made earlier cannot be submitted while another one is pending.
    svc.revoke(t["me"], first.id)
    draft = svc.request_reduction(t["me"], values(reason="abroad"), pngs(1))
    svc.submit(t["me"], first.id)
    assert "year" in invalid(svc.submit, t["me"], draft.id)
    # After a rejection a new request is possible.
    svc.review(t["emp"], [first.id], "reject", "材料不全")
    assert svc.submit(t["me"], draft.id).state == "pending"


# ---------------------------------------------------------------- review


def test_multi_step_approval_then_requirement_is_prorated(ctx, far_rule):
    t = tree()
    open_year(t["person"])
    assert requirement_for(t["person"], FAR).professional_min == Decimal("66.0")
    obj = svc.request_reduction(t["me"], values(year=str(FAR)), pngs(1), submit=True)
    # Not the handler: refused, nothing changes.
    assert "ids" in invalid(svc.review, t["comp"], [obj.id], "approve")
    svc.review(t["emp"], [obj.id], "approve", "属实")
    assert obj.state == "pending" and obj.handler_org_id == t["competent"].id and obj.step == 1
    assert requirement_for(t["person"], FAR).professional_min == Decimal("66.0")  # not final yet
    svc.review(t["comp"], [obj.id], "approve")
    assert obj.handler_org_id == t["county"].id
    svc.review(t["hr"], [obj.id], "approve")
    assert obj.state == "approved" and obj.handler_org_id is None and obj.decided_at is not None
    req = requirement_for(t["person"], FAR)
    assert (req.public_min, req.professional_min, req.total_min) == (Decimal("12.0"), Decimal("33.0"), Decimal("45.0"))
    assert req.months_on_duty == 6
    rows = svc.history(obj)
    assert [h.trigger for h in rows] == ["submit", "approve", "approve", "approve"]
    assert [h.actor_org_id for h in rows[1:]] == [t["employer"].id, t["competent"].id, t["county"].id]
    assert rows[1].comment == "属实"
    # Approved: no second request for the year, and no revoke.
    assert "year" in invalid(svc.request_reduction, t["me"], values(year=str(FAR)), pngs(1))
    with pytest.raises(ReductionError):
        svc.revoke(t["me"], obj.id)


def test_rejection_needs_a_comment_and_is_final(ctx):
    t = tree()
    obj = svc.request_reduction(t["me"], values(), pngs(1), submit=True)
    audits = count(AuditLog)
    assert "comment" in invalid(svc.review, t["emp"], [obj.id], "reject", "  ")
    assert "comment" in invalid(svc.review, t["emp"], [obj.id], "reject", "长" * 1001)
    assert count(AuditLog) == audits
    db.session.refresh(obj)
    assert obj.state == "pending"
    svc.review(t["emp"], [obj.id], "reject", "证明不全")
    assert obj.state == "rejected" and obj.handler_org_id is None
    assert svc.history(obj)[-1].comment == "证明不全"
    assert "ids" in invalid(svc.review, t["emp"], [obj.id], "approve")
    assert "trigger" in invalid(svc.review, t["emp"], [obj.id], "delete")
    assert "ids" in invalid(svc.review, t["emp"], [], "approve")


def test_bulk_review_is_all_or_nothing(ctx):
    t = tree()
    mine = svc.request_reduction(t["me"], values(), pngs(1), submit=True)
    colleague = f.professional(t["employer"], "折算乙")
    db.session.commit()
    theirs = svc.request_reduction(person_actor(colleague), values(), pngs(1), submit=True)
    elsewhere = tree()
    foreign = svc.request_reduction(elsewhere["me"], values(), pngs(1), submit=True)
    audits = count(AuditLog)
    errors = invalid(svc.review, t["emp"], [mine.id, theirs.id, foreign.id], "approve")
    assert "ids" in errors
    for obj in (mine, theirs, foreign):
        db.session.refresh(obj)
        assert obj.state == "pending" and obj.step == 0
    assert count(AuditLog) == audits
    done = svc.review(t["emp"], [theirs.id, mine.id], "approve")
    assert [o.id for o in done] == [theirs.id, mine.id]
    assert all(o.handler_org_id == t["competent"].id for o in done)
    assert count(AuditLog) == audits + 2


def test_revoke_only_before_review_and_delete_only_drafts(ctx):
    t = tree()
    obj = svc.request_reduction(t["me"], values(), pngs(1), submit=True)
    assert "reduction" in invalid(svc.delete_draft, t["me"], obj.id)
    obj = svc.revoke(t["me"], obj.id)
    assert obj.state == "draft" and obj.route == [] and obj.handler_org_id is None
    assert [h.trigger for h in svc.history(obj)] == ["submit", "revoke"]
    svc.submit(t["me"], obj.id)
    svc.review(t["emp"], [obj.id], "approve")
    with pytest.raises(ReductionError) as exc:
        svc.revoke(t["me"], obj.id)
    assert exc.value.code == "too_late"
    db.session.refresh(obj)
    assert obj.state == "pending" and obj.handler_org_id == t["competent"].id
    other = tree()
    draft = svc.request_reduction(other["me"], values(), pngs(2))
    paths = [upload_path(e["stored_path"]) for e in draft.evidence]
    svc.delete_draft(other["me"], draft.id)
    assert db.session.get(RequirementReduction, draft.id) is None
    assert not any(os.path.exists(p) for p in paths)


# ---------------------------------------------------------------- reading


def test_inbox_mine_and_visibility(ctx):
    t = tree()
    obj = svc.request_reduction(t["me"], values(), pngs(1), submit=True)
    draft_owner = tree()
    draft = svc.request_reduction(draft_owner["me"], values(), pngs(1))
    page = svc.inbox(t["emp"], YEAR)
    assert [r.id for r in page.rows] == [obj.id] and page.count == 1 and page.pages == 1
    assert svc.inbox(t["emp"], YEAR - 1).count == 0
    assert svc.inbox(t["comp"], YEAR).count == 0  # not its turn yet
    assert svc.inbox(t["me"], YEAR).count == 0
    assert [r.id for r in svc.mine(t["me"])] == [obj.id]
    assert svc.mine(t["emp"]) == []
    # Visible: the person, reviewers on the route and organisations above the employer.
    assert svc.visible_reduction(t["me"], obj.id) is obj
    assert svc.visible_reduction(t["emp"], obj.id) is obj
    assert svc.visible_reduction(t["comp"], obj.id) is obj
    assert svc.visible_reduction(t["hr"], obj.id) is obj
    assert svc.visible_reduction(admin_actor(t["province"]), obj.id) is obj
    assert svc.visible_reduction(draft_owner["me"], obj.id) is None
    assert svc.visible_reduction(draft_owner["emp"], obj.id) is None
    assert svc.visible_reduction(t["emp"], draft.id) is None
    assert svc.visible_reduction(t["emp"], "x") is None


def test_inbox_pages_twenty_at_a_time(ctx):
    t = tree()
    for i in range(23):
        p = f.professional(t["employer"], f"分页{i}")
        db.session.commit()
        svc.request_reduction(person_actor(p), values(), pngs(1), submit=True)
    first, second = svc.inbox(t["emp"], YEAR, 0), svc.inbox(t["emp"], YEAR, 1)
    assert first.count == 23 and first.pages == 2 and len(first.rows) == 20 and len(second.rows) == 3
    assert svc.inbox(t["emp"], YEAR, 99).page == 1


def test_reasons_are_the_four_codes():
    assert set(svc.REASONS) == {"abroad", "sick_leave", "maternity", "other"}
