"""Declaration workflow: every allowed and refused trigger per capacity, the audit rows, the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AuditLog, Declaration, HoursLedger, Membership
from app.services.scope import Actor
from app.workflows.declaration import DeclarationError, available_triggers, fire, history, machine
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


def tree():
    province = f.org("province")
    county = f.org("hr", parent=province)
    competent = f.org("competent", parent=county)
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "流程甲")
    return {
        "province": province, "county": county, "competent": competent, "employer": employer, "person": person,
        "me": person_actor(person), "emp": admin_actor(employer), "comp": admin_actor(competent),
        "hr": admin_actor(county),
    }


def draft(t, hours="12.0", subject="professional", **kw):
    obj = Declaration(
        professional_id=t["person"].id, org_id=t["employer"].id, subject_type=subject, form_code="other",
        year=YEAR, data={"description": "x"}, requested_hours=Decimal(hours), state="draft", route=[], step=0, **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def ledger(person, subject="professional"):
    row = db.session.query(HoursLedger).filter_by(professional_id=person.id, year=YEAR, subject_type=subject).one_or_none()
    return None if row is None else Decimal(row.hours)


def refused(code, obj, trigger, **kw):
    before = (obj.state, obj.step, obj.handler_org_id, obj.recognised_hours)
    n = db.session.query(AuditLog).filter_by(object_type="declaration", object_id=obj.id).count()
    with pytest.raises(DeclarationError) as exc:
        fire(obj, trigger, **kw)
    assert exc.value.code == code
    assert str(exc.value)
    assert (obj.state, obj.step, obj.handler_org_id, obj.recognised_hours) == before
    assert db.session.query(AuditLog).filter_by(object_type="declaration", object_id=obj.id).count() == n


def test_full_chain_three_reviewers_ledger_only_after_final(ctx):
    t = tree()
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    assert obj.state == "pending" and obj.route == [t["employer"].id, t["competent"].id, t["county"].id]
    assert obj.step == 0 and obj.handler_org_id == t["employer"].id and obj.submitted_at
    fire(obj, "approve", actor=t["emp"])
    assert (obj.state, obj.step, obj.handler_org_id) == ("pending", 1, t["competent"].id)
    assert ledger(t["person"]) is None
    fire(obj, "approve", actor=t["comp"], comment="材料齐全")
    assert (obj.state, obj.step, obj.handler_org_id) == ("pending", 2, t["county"].id)
    assert ledger(t["person"]) is None
    fire(obj, "approve", actor=t["hr"])
    assert obj.state == "approved" and obj.recognised_hours == Decimal("12.0") and obj.decided_at
    assert obj.handler_org_id is None
    assert ledger(t["person"]) == Decimal("12.0")
    rows = history(obj)
    assert [(r.trigger, r.from_state, r.to_state) for r in rows] == [
        ("submit", "draft", "pending"), ("approve", "pending", "pending"), ("approve", "pending", "pending"),
        ("approve", "pending", "approved"),
    ]
    assert rows[0].actor_user_id == t["person"].user_id and rows[0].actor_org_id is None
    assert [r.actor_org_id for r in rows[1:]] == [t["employer"].id, t["competent"].id, t["county"].id]
    assert rows[2].comment == "材料齐全"
    # a second declaration adds up in the same ledger row
    obj2 = draft(t, hours="3.5")
    fire(obj2, "submit", actor=t["me"])
    for actor in ("emp", "comp", "hr"):
        fire(obj2, "approve", actor=t[actor])
    assert ledger(t["person"]) == Decimal("15.5")
    assert obj not in machine.models and obj2 not in machine.models


def test_recognised_hours_need_a_reason_when_different(ctx):
    t = tree()
    obj = draft(t, hours="20")
    fire(obj, "submit", actor=t["me"])
    refused("hours_reason", obj, "approve", actor=t["emp"], recognised_hours=Decimal("10"))
    refused("hours_invalid", obj, "approve", actor=t["emp"], recognised_hours="abc", comment="x")
    refused("hours_invalid", obj, "approve", actor=t["emp"], recognised_hours="1000", comment="x")
    fire(obj, "approve", actor=t["emp"], recognised_hours=Decimal("20"))  # same as requested: no reason needed
    fire(obj, "approve", actor=t["comp"], recognised_hours=Decimal("10"), comment="只认定一半")
    assert obj.recognised_hours == Decimal("10")
    fire(obj, "approve", actor=t["hr"])
    assert obj.state == "approved" and ledger(t["person"]) == Decimal("10.0")
    assert "10" in history(obj)[2].comment


def test_reject_needs_a_comment_and_is_final(ctx):
    t = tree()
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    fire(obj, "approve", actor=t["emp"])
    refused("comment_required", obj, "reject", actor=t["comp"], comment="  ")
    fire(obj, "reject", actor=t["comp"], comment="证明材料不清晰")
    assert obj.state == "rejected" and obj.handler_org_id is None and obj.decided_at
    refused("not_allowed", obj, "approve", actor=t["hr"])
    refused("not_allowed", obj, "revoke", actor=t["me"])
    refused("not_allowed", obj, "submit", actor=t["me"])
    assert ledger(t["person"]) is None


def test_forbidden_triggers_per_capacity(ctx):
    t = tree()
    obj = draft(t)
    refused("not_allowed", obj, "approve", actor=t["emp"])  # approving a draft
    refused("not_allowed", obj, "revoke", actor=t["me"])
    refused("not_declarant", obj, "submit", actor=t["emp"])  # an org submitting a person's declaration
    other = f.professional(t["employer"], "流程乙")
    refused("not_declarant", obj, "submit", actor=person_actor(other))
    fire(obj, "submit", actor=t["me"])
    refused("not_allowed", obj, "submit", actor=t["me"])
    refused("not_handler", obj, "approve", actor=t["me"])  # the professional approving
    refused("not_handler", obj, "approve", actor=t["comp"])  # a later reviewer out of turn
    refused("not_handler", obj, "approve", actor=t["hr"])
    refused("not_handler", obj, "reject", actor=t["hr"], comment="越级")
    # the professional's actor carries the employer's org id: still not a reviewer
    assert t["me"].org_id == obj.handler_org_id
    refused("not_handler", obj, "reject", actor=t["me"], comment="x")
    refused("not_owner", obj, "revoke", actor=t["emp"])
    refused("not_owner", obj, "revoke", actor=person_actor(other))
    refused("not_handler", obj, "approve", actor=None)
    assert available_triggers(obj, t["emp"]) == ["approve", "reject"]
    assert available_triggers(obj, t["me"]) == ["revoke"]
    assert available_triggers(obj, t["comp"]) == []


def test_revoke_before_review_returns_to_draft_and_after_is_refused(ctx):
    t = tree()
    obj = draft(t)
    fire(obj, "submit", actor=t["me"])
    fire(obj, "revoke", actor=t["me"])
    assert obj.state == "draft" and obj.route == [] and obj.handler_org_id is None and obj.step == 0
    fire(obj, "submit", actor=t["me"])
    fire(obj, "approve", actor=t["emp"])
    refused("too_late", obj, "revoke", actor=t["me"])
    assert available_triggers(obj, t["me"]) == []
    triggers = [r.trigger for r in history(obj)]
    assert triggers == ["submit", "revoke", "submit", "approve"]


def test_organisation_made_declaration(ctx):
    t = tree()
    obj = draft(t, declared_by_org_id=t["employer"].id)
    refused("not_declarant", obj, "submit", actor=t["me"])
    refused("not_declarant", obj, "submit", actor=t["comp"])
    fire(obj, "submit", actor=t["emp"])
    assert obj.route == [t["competent"].id, t["county"].id] and obj.handler_org_id == t["competent"].id
    refused("not_handler", obj, "approve", actor=t["emp"])  # never reviews its own declaration
    refused("not_owner", obj, "revoke", actor=t["me"])
    fire(obj, "approve", actor=t["comp"])
    fire(obj, "approve", actor=t["hr"])
    assert obj.state == "approved" and ledger(t["person"]) == Decimal("12.0")
