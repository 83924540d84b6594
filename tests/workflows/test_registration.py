"""Registration workflow: every allowed transition, the refused ones, the audit rows."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditLog, Membership
from app.services.scope import Actor
from app.workflows.registration import RegistrationError, fire, machine
from tests import factories as f


def _actor(user, org):
    return Actor(user_id=user.id, capacity="admin", org_id=org.id, org_path=org.path)


def _audit(obj_type, obj_id):
    return (
        db.session.query(AuditLog)
        .filter_by(object_type=obj_type, object_id=obj_id)
        .order_by(AuditLog.id)
        .all()
    )


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def _pending_person(employer, name="赵六"):
    region = f.region("410105", "金水区", "county")
    return f.professional(employer, name, status="pending", region=region)


def test_approve_professional_assigns_certificate_and_audits(ctx):
    employer = f.org("employer")
    reviewer = f.admin(employer)
    p = _pending_person(employer)
    fire(p, "approve", actor=_actor(reviewer, employer), reason="ok")
    assert p.status == "approved"
    assert p.certificate_no and len(p.certificate_no) == 13 and p.certificate_no.startswith("410105")
    rows = _audit("professional", p.id)
    assert [(r.trigger, r.from_state, r.to_state, r.actor_user_id, r.actor_org_id, r.comment) for r in rows] == [
        ("approve", "pending", "approved", reviewer.id, employer.id, "ok")
    ]
    q = _pending_person(employer, "钱七")
    fire(q, "approve", actor=_actor(reviewer, employer))
    assert int(q.certificate_no[6:]) == int(p.certificate_no[6:]) + 1
    assert not machine.models  # detached after every unit of work


def test_approve_keeps_existing_certificate(ctx):
    employer = f.org("employer")
    reviewer = f.admin(employer)
    p = _pending_person(employer)
    p.certificate_no = "4101059999999"
    fire(p, "approve", actor=_actor(reviewer, employer))
    assert p.certificate_no == "4101059999999"


def test_reject_professional_requires_reason_and_audits(ctx):
    employer = f.org("employer")
    reviewer = f.admin(employer)
    p = _pending_person(employer)
    with pytest.raises(RegistrationError) as e:
        fire(p, "reject", actor=_actor(reviewer, employer), reason=" ")
    assert e.value.code == "reason_required" and p.status == "pending"
    fire(p, "reject", actor=_actor(reviewer, employer), reason="资料不全")
    assert p.status == "rejected" and p.certificate_no is None
    assert [(r.trigger, r.to_state, r.comment) for r in _audit("professional", p.id)] == [
        ("reject", "rejected", "资料不全")
    ]


def test_withdraw_professional_by_registrant(ctx):
    employer = f.org("employer")
    p = _pending_person(employer)
    with pytest.raises(RegistrationError) as e:
        fire(p, "withdraw", name="别人", id_number=p.id_number)
    assert e.value.code == "not_registrant" and p.status == "pending"
    fire(p, "withdraw", name=p.name, id_number=p.id_number.lower())
    assert p.status == "withdrawn"
    (row,) = _audit("professional", p.id)
    assert (row.trigger, row.from_state, row.to_state, row.actor_user_id, row.actor_org_id) == (
        "withdraw", "pending", "withdrawn", p.user_id, None
    )


@pytest.mark.parametrize("state", ["approved", "rejected", "withdrawn"])
@pytest.mark.parametrize("trigger", ["approve", "reject", "withdraw"])
def test_no_transition_out_of_final_states(ctx, state, trigger):
    employer = f.org("employer")
    reviewer = f.admin(employer)
    p = f.professional(employer, "孙八", status=state)
    with pytest.raises(RegistrationError) as e:
        fire(p, trigger, actor=_actor(reviewer, employer), reason="r", name=p.name, id_number=p.id_number)
    assert e.value.code == "not_allowed"
    assert str(e.value.message)
    assert p.status == state and p.certificate_no is None
    assert _audit("professional", p.id) == []
    assert not machine.models


def test_reviewer_outside_the_chain_is_refused(ctx):
    city = f.org("hr")
    competent = f.org("competent", parent=city)
    employer = f.org("employer", parent=competent)
    other = f.org("employer")
    p = _pending_person(employer)
    for org in (other, competent, city):  # neither a stranger nor a higher ancestor reviews
        with pytest.raises(RegistrationError) as e:
            fire(p, "approve", actor=_actor(f.admin(org), org))
        assert e.value.code == "not_reviewer"
    with pytest.raises(RegistrationError):
        fire(p, "approve", actor=None)
    assert p.status == "pending" and p.certificate_no is None
    assert _audit("professional", p.id) == []


def _pending_org(parent):
    o = f.org("employer", parent=parent, status="pending")
    applicant = f.user("周九")
    db.session.add(Membership(user=applicant, org=o, is_super=True, status="pending"))
    db.session.flush()
    return o, applicant


def test_approve_organization_approves_applicant_membership(ctx):
    competent = f.org("competent")
    reviewer = f.admin(competent)
    o, applicant = _pending_org(competent)
    fire(o, "approve", actor=_actor(reviewer, competent), reason="同意")
    assert o.status == "approved"
    assert [m.status for m in o.memberships] == ["approved"]
    (row,) = _audit("organization", o.id)
    assert (row.trigger, row.from_state, row.to_state, row.actor_user_id, row.actor_org_id, row.comment) == (
        "approve", "pending", "approved", reviewer.id, competent.id, "同意"
    )


def test_reject_and_withdraw_organization(ctx):
    competent = f.org("competent")
    reviewer = f.admin(competent)
    o, applicant = _pending_org(competent)
    with pytest.raises(RegistrationError):
        fire(o, "reject", actor=_actor(reviewer, o), reason="x")  # an org never reviews itself
    fire(o, "reject", actor=_actor(reviewer, competent), reason="材料不符")
    assert o.status == "rejected" and [m.status for m in o.memberships] == ["pending"]

    o2, applicant2 = _pending_org(competent)
    with pytest.raises(RegistrationError):
        fire(o2, "withdraw", name=applicant.full_name, id_number=applicant.id_number)
    fire(o2, "withdraw", name=applicant2.full_name, id_number=applicant2.id_number)
    assert o2.status == "withdrawn"
    (row,) = _audit("organization", o2.id)
    assert (row.trigger, row.actor_user_id) == ("withdraw", applicant2.id)
    with pytest.raises(RegistrationError) as e:
        fire(o2, "approve", actor=_actor(reviewer, competent))
    assert e.value.code == "not_allowed" and o2.status == "withdrawn"
