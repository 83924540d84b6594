"""Deregistration workflow: every allowed transition, the refused ones, the audit rows."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditLog, Deregistration, Membership
from app.services.scope import Actor
from app.workflows.deregistration import (
    DeregistrationError,
    available_triggers,
    fire,
    machine,
    regional_hr,
    route,
    submit,
)
from tests import factories as f


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def _admin_actor(org, super_=True):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    m.is_super = super_
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def _person_actor(person):
    return Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)


def _audit(obj):
    return (
        db.session.query(AuditLog)
        .filter_by(object_type="deregistration", object_id=obj.id)
        .order_by(AuditLog.id)
        .all()
    )


def _tree():
    province = f.org("province")
    city = f.org("hr", parent=province)
    county = f.org("hr", parent=city)
    competent = f.org("competent", parent=county)
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "注销甲")
    return {"province": province, "city": city, "county": county, "competent": competent, "employer": employer, "person": person}


def _person_request(t):
    obj = Deregistration(kind="person", professional_id=t["person"].id, org_id=t["employer"].id, reason="退休：已退休")
    submit(obj, _person_actor(t["person"]))
    return obj


def _org_request(org):
    obj = Deregistration(kind="org", org_id=org.id, reason="单位撤销", proof_file="dereg_proof/x.png")
    submit(obj, _admin_actor(org))
    return obj


def test_route_person_employer_then_nearest_hr(ctx):
    t = _tree()
    assert regional_hr(t["employer"]) is t["county"]
    obj = _person_request(t)
    assert route(obj) == [t["employer"].id, t["county"].id]
    assert obj.state == "pending" and obj.handler_org_id == t["employer"].id
    (row,) = _audit(obj)
    assert (row.trigger, row.from_state, row.to_state, row.actor_user_id, row.actor_org_id) == (
        "apply", None, "pending", t["person"].user_id, None
    )


def test_regional_hr_falls_back_to_province(ctx):
    province = f.org("province")
    employer = f.org("employer", parent=province)
    assert regional_hr(employer) is province
    assert regional_hr(f.org("employer")) is None


def test_submit_without_route_is_refused(ctx):
    lonely = f.org("employer")
    person = f.professional(lonely, "无上级")
    obj = Deregistration(kind="person", professional_id=person.id, org_id=lonely.id, reason="x")
    obj.org = lonely
    with pytest.raises(DeregistrationError) as e:
        submit(obj, _person_actor(person))
    assert e.value.code == "no_reviewer"


def test_person_full_path_employer_then_hr(ctx):
    t = _tree()
    obj = _person_request(t)
    employer_admin = _admin_actor(t["employer"])
    hr_admin = _admin_actor(t["county"])
    assert available_triggers(obj, employer_admin) == ["approve", "reject"]
    assert available_triggers(obj, hr_admin) == []
    fire(obj, "approve", actor=employer_admin, reason="情况属实")
    assert obj.state == "pending" and obj.handler_org_id == t["county"].id
    assert t["person"].status == "approved" and obj.decided_at is None
    fire(obj, "approve", actor=hr_admin)
    assert obj.state == "approved" and obj.decided_at is not None
    assert t["person"].status == "deregistered"
    rows = _audit(obj)
    assert [(r.trigger, r.from_state, r.to_state, r.actor_org_id) for r in rows] == [
        ("apply", None, "pending", None),
        ("approve", "pending", "pending", t["employer"].id),
        ("approve", "pending", "approved", t["county"].id),
    ]
    assert "情况属实" in rows[1].comment and t["county"].name in rows[1].comment
    assert rows[2].actor_user_id == hr_admin.user_id
    assert not machine.models


def test_hr_approving_before_the_employer_is_refused(ctx):
    t = _tree()
    obj = _person_request(t)
    for org in ("county", "city", "competent", "province"):
        with pytest.raises(DeregistrationError) as e:
            fire(obj, "approve", actor=_admin_actor(t[org]))
        assert e.value.code == "not_handler"
    assert obj.state == "pending" and obj.handler_org_id == t["employer"].id
    assert len(_audit(obj)) == 1


def test_wrong_reviewer_and_the_person_cannot_review(ctx):
    t = _tree()
    obj = _person_request(t)
    stranger = f.org("employer", parent=t["county"])
    for actor in (_admin_actor(stranger), _person_actor(t["person"]), None):
        for trigger in ("approve", "reject"):
            with pytest.raises(DeregistrationError) as e:
                fire(obj, trigger, actor=actor, reason="r")
            assert e.value.code == "not_handler"
    # The employer cannot approve twice: after forwarding, it is no longer the handler.
    fire(obj, "approve", actor=_admin_actor(t["employer"]))
    with pytest.raises(DeregistrationError) as e:
        fire(obj, "approve", actor=_admin_actor(t["employer"]))
    assert e.value.code == "not_handler"
    assert obj.state == "pending" and obj.handler_org_id == t["county"].id
    assert [r.trigger for r in _audit(obj)] == ["apply", "approve"]


@pytest.mark.parametrize("at", ["employer", "county"])
def test_reject_needs_reason_and_ends_it(ctx, at):
    t = _tree()
    obj = _person_request(t)
    if at == "county":
        fire(obj, "approve", actor=_admin_actor(t["employer"]))
    actor = _admin_actor(t[at])
    with pytest.raises(DeregistrationError) as e:
        fire(obj, "reject", actor=actor, reason="  ")
    assert e.value.code == "reason_required" and obj.state == "pending"
    fire(obj, "reject", actor=actor, reason="未达退休年龄")
    assert obj.state == "rejected" and obj.decided_at is not None
    assert t["person"].status == "approved"
    last = _audit(obj)[-1]
    assert (last.trigger, last.from_state, last.to_state, last.comment, last.actor_org_id) == (
        "reject", "pending", "rejected", "未达退休年龄", t[at].id
    )


def test_person_withdraws_while_at_employer(ctx):
    t = _tree()
    obj = _person_request(t)
    other = f.professional(t["employer"], "别人")
    with pytest.raises(DeregistrationError) as e:
        fire(obj, "withdraw", actor=_person_actor(other))
    assert e.value.code == "not_applicant"
    with pytest.raises(DeregistrationError) as e:
        fire(obj, "withdraw", actor=_admin_actor(t["employer"]))
    assert e.value.code == "not_applicant"
    assert available_triggers(obj, _person_actor(t["person"])) == ["withdraw"]
    fire(obj, "withdraw", actor=_person_actor(t["person"]))
    assert obj.state == "withdrawn" and obj.decided_at is not None
    last = _audit(obj)[-1]
    assert (last.trigger, last.to_state, last.actor_user_id) == ("withdraw", "withdrawn", t["person"].user_id)


def test_person_cannot_withdraw_once_forwarded(ctx):
    t = _tree()
    obj = _person_request(t)
    fire(obj, "approve", actor=_admin_actor(t["employer"]))
    assert available_triggers(obj, _person_actor(t["person"])) == []
    with pytest.raises(DeregistrationError) as e:
        fire(obj, "withdraw", actor=_person_actor(t["person"]))
    assert e.value.code == "too_late"
    assert obj.state == "pending" and len(_audit(obj)) == 2


@pytest.mark.parametrize("state", ["approved", "rejected", "withdrawn"])
@pytest.mark.parametrize("trigger", ["approve", "reject", "withdraw"])
def test_no_transition_out_of_final_states(ctx, state, trigger):
    t = _tree()
    obj = _person_request(t)
    obj.state = state
    before = len(_audit(obj))
    actor = _person_actor(t["person"]) if trigger == "withdraw" else _admin_actor(t["employer"])
    with pytest.raises(DeregistrationError) as e:
        fire(obj, trigger, actor=actor, reason="r")
    assert e.value.code == "not_allowed" and str(e.value)
    assert obj.state == state and t["person"].status == "approved"
    assert len(_audit(obj)) == before
    assert not machine.models


def test_approving_a_withdrawn_request_is_refused(ctx):
    t = _tree()
    obj = _person_request(t)
    fire(obj, "withdraw", actor=_person_actor(t["person"]))
    with pytest.raises(DeregistrationError) as e:
        fire(obj, "approve", actor=_admin_actor(t["employer"]))
    assert e.value.code == "not_allowed"
    assert t["person"].status == "approved"


def test_org_request_approved_by_parent_closes_org_and_memberships(ctx):
    t = _tree()
    unit = f.org("employer", parent=t["competent"])
    obj = _org_request(unit)
    assert route(obj) == [t["competent"].id] and obj.handler_org_id == t["competent"].id
    for org in ("county", "employer"):
        with pytest.raises(DeregistrationError) as e:
            fire(obj, "approve", actor=_admin_actor(t[org]))
        assert e.value.code == "not_handler"
    fire(obj, "approve", actor=_admin_actor(t["competent"]), reason="同意")
    assert obj.state == "approved" and unit.status == "deregistered"
    assert all(not m.enabled for m in db.session.query(Membership).filter_by(org_id=unit.id))
    assert [(r.trigger, r.to_state) for r in _audit(obj)] == [("apply", "pending"), ("approve", "approved")]


def test_org_request_reject_and_withdraw(ctx):
    t = _tree()
    unit = f.org("employer", parent=t["competent"])
    obj = _org_request(unit)
    fire(obj, "reject", actor=_admin_actor(t["competent"]), reason="材料不全")
    assert obj.state == "rejected" and unit.status == "approved"
    again = _org_request(unit)
    with pytest.raises(DeregistrationError) as e:  # an ordinary admin of the unit is not the applicant
        fire(again, "withdraw", actor=_admin_actor(unit, super_=False))
    assert e.value.code == "not_applicant"
    fire(again, "withdraw", actor=_admin_actor(unit))
    assert again.state == "withdrawn" and unit.status == "approved"
    assert _audit(again)[-1].trigger == "withdraw"
