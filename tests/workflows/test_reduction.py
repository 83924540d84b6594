"""Reduced requirement workflow: allowed and refused triggers per capacity, the route, the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models import AuditLog, Membership, RequirementReduction
from app.services.scope import Actor
from app.workflows import declaration as declaration_wf
from app.workflows import reduction as wf
from app.workflows.reduction import ReductionError, available_triggers, fire, history, machine
from tests import factories as f

YEAR = dt.date.today().year


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def admin_actor(org):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def person_actor(person):
    return Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)


def tree(accountant=False, closed_employer=False):
    province = f.org("province")
    county = f.org("hr", parent=province)
    competent = f.org("competent", parent=county)
    upper = f.org("employer", parent=competent, review_closed=closed_employer)
    employer = f.org("employer", parent=upper)
    person = f.professional(employer, "流程乙", is_accountant=accountant)
    return {
        "province": province, "county": county, "competent": competent, "upper": upper, "employer": employer,
        "person": person, "me": person_actor(person), "emp": admin_actor(employer), "up": admin_actor(upper),
        "comp": admin_actor(competent), "hr": admin_actor(county),
    }


def draft(t):
    obj = RequirementReduction(professional_id=t["person"].id, org_id=t["employer"].id, year=YEAR, reason="abroad",
                               months_on_duty=4, evidence=[], state="draft", route=[], step=0)
    db.session.add(obj)
    db.session.flush()
    return obj


def audit_count(obj):
    return db.session.query(AuditLog).filter_by(object_type="reduction", object_id=obj.id).count()


def refused(code, obj, trigger, **kw):
    before = (obj.state, obj.step, obj.handler_org_id, list(obj.route or []))
    n = audit_count(obj)
    with pytest.raises(ReductionError) as exc:
        fire(obj, trigger, **kw)
    assert exc.value.code == code
    assert str(exc.value)
    assert (obj.state, obj.step, obj.handler_org_id, list(obj.route or [])) == before
    assert audit_count(obj) == n


def test_states_and_transitions_are_data():
    assert wf.STATES == ["draft", "pending", "approved", "rejected"]
    assert {t["trigger"] for t in wf.TRANSITIONS} == {"submit", "approve", "reject", "revoke"}
    assert wf.is_handler is declaration_wf.is_handler and wf.not_reviewed is declaration_wf.not_reviewed


def test_full_chain_with_upper_employer_and_audit_rows(ctx):
    t = tree()
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    assert obj.route == [t["employer"].id, t["upper"].id, t["competent"].id, t["county"].id]
    for who, nxt in (("emp", "upper"), ("up", "competent"), ("comp", "county")):
        refused("not_handler", obj, "approve", actor=t["hr"])
        fire(obj, "approve", actor=t[who])
        assert obj.state == "pending" and obj.handler_org_id == t[nxt].id
    fire(obj, "approve", actor=t["hr"], comment="备案")
    assert obj.state == "approved" and obj.handler_org_id is None and obj.decided_at is not None
    rows = history(obj)
    assert [(r.trigger, r.from_state, r.to_state) for r in rows] == [
        ("submit", "draft", "pending"), ("approve", "pending", "pending"), ("approve", "pending", "pending"),
        ("approve", "pending", "pending"), ("approve", "pending", "approved"),
    ]
    assert rows[0].actor_org_id is None and rows[0].actor_user_id == t["person"].user_id
    assert rows[-1].actor_org_id == t["county"].id and rows[-1].comment == "备案"
    refused("not_allowed", obj, "approve", actor=t["hr"])
    refused("not_allowed", obj, "revoke", actor=t["me"])


def test_closed_employer_and_accountant_routes(ctx):
    t = tree(closed_employer=True)
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    assert obj.route == [t["employer"].id, t["competent"].id, t["county"].id]
    a = tree(accountant=True)
    obj = draft(a)
    fire(obj, "submit", actor=a["me"])
    assert obj.route == [a["employer"].id, a["upper"].id, a["county"].id]


def test_forbidden_triggers_per_capacity(ctx):
    t = tree()
    obj = draft(t)
    refused("not_owner", obj, "submit", actor=t["emp"])
    refused("not_owner", obj, "submit", actor=person_actor(f.professional(t["employer"], "别人")))
    refused("not_allowed", obj, "approve", actor=t["emp"])
    fire(obj, "submit", actor=t["me"])
    refused("not_handler", obj, "approve", actor=t["me"])
    refused("not_handler", obj, "reject", actor=t["comp"], comment="不是你")
    refused("comment_required", obj, "reject", actor=t["emp"])
    refused("comment_too_long", obj, "approve", actor=t["emp"], comment="长" * 1001)
    refused("not_owner", obj, "revoke", actor=t["emp"])
    assert available_triggers(obj, t["emp"]) == ["approve", "reject"]
    assert available_triggers(obj, t["me"]) == ["revoke"]
    assert available_triggers(obj, t["comp"]) == []
    with pytest.raises(ValueError):
        fire(obj, "explode", actor=t["me"])


def test_revoke_before_review_only(ctx):
    t = tree()
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    fire(obj, "revoke", actor=t["me"])
    assert obj.state == "draft" and obj.route == [] and obj.handler_org_id is None and obj.submitted_at is None
    fire(obj, "submit", actor=t["me"])
    fire(obj, "approve", actor=t["emp"])
    refused("too_late", obj, "revoke", actor=t["me"])
    fire(obj, "reject", actor=t["up"], comment="不符合条件")
    assert obj.state == "rejected" and obj.handler_org_id is None
    refused("not_allowed", obj, "revoke", actor=t["me"])


def test_machine_keeps_no_models(ctx):
    t = tree()
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    refused("not_handler", obj, "approve", actor=t["me"])
    assert all(not isinstance(m, wf._Unit) for m in machine.models)
