"""Deregistration review (注销 / 合并) of a professional or an organisation.

A professional's request (退休、去世…) is reviewed first by the employer unit, then by the regional
HR bureau (the nearest ancestor of kind ``hr`` of the employer; the province HR department when
there is none); the HR bureau's approval is final and closes the professional account (hours and
history are kept). The professional may withdraw while the request is still at the employer.

An organisation's request (deregistration or merger into another organisation) is reviewed by its
superior organisation (its parent); approval marks the organisation deregistered and disables every
admin membership of it. Its super admin may withdraw while the request is pending.

The request keeps the stored state ``pending`` until it is decided; ``handler_org_id`` names the
organisation whose review it waits for and moves along the route (``route(obj)``), so a review
inbox is ``state = 'pending' AND handler_org_id = :org``.

Usage, inside a transaction (the caller commits)::

    submit(obj, actor)                          # a new request: audit row "apply"
    fire(obj, "approve", actor=actor, reason="...")
    fire(obj, "withdraw", actor=applicant)

Every fired trigger writes one ``AuditLog`` row; a refused trigger raises ``DeregistrationError``
and changes nothing. Nobody approves or rejects their own request (``is_own``).
"""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import AuditLog, Membership, Organization, Professional
from ..models.common import APPROVED, PENDING, REJECTED, WITHDRAWN, utcnow
from ..models.org import HR, PROVINCE
from .base import Unit, WorkflowError, new_machine, run

# Stored on Professional.status / Organization.status once a request is finally approved.
DEREGISTERED = "deregistered"
PERSON_KIND = "person"
ORG_KIND = "org"
OBJECT_TYPE = "deregistration"

STATES = [PENDING, APPROVED, REJECTED, WITHDRAWN]

TRANSITIONS = [
    # Multi-step review: the first matching ``approve`` forwards to the next reviewer on the route,
    # the second (last reviewer) decides.
    {"trigger": "approve", "source": PENDING, "dest": None, "conditions": ["is_handler", "has_next_step"],
     "after": "advance"},
    {"trigger": "approve", "source": PENDING, "dest": APPROVED, "conditions": "is_handler", "after": "on_approved"},
    {"trigger": "reject", "source": PENDING, "dest": REJECTED, "conditions": "is_handler", "after": "on_decided"},
    {"trigger": "withdraw", "source": PENDING, "dest": WITHDRAWN, "conditions": ["is_applicant", "at_first_step"],
     "after": "on_decided"},
]

MESSAGES = {
    "not_handler": _l("This request is not waiting for your organisation's review."),
    "not_applicant": _l("Only the applicant may withdraw this request."),
    "too_late": _l("This request has already been reviewed by the employer unit and can no longer be withdrawn."),
    "reason_required": _l("Please give a reason for the rejection."),
    "own": _l(
        "You cannot review your own deregistration request or one you applied for. Another administrator "
        "of your organisation must review it."
    ),
}

ACTIONS = {
    "approve": _l("approved"),
    "reject": _l("rejected"),
    "withdraw": _l("withdrawn"),
}

STATE_LABELS = {
    PENDING: _l("Pending review"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    WITHDRAWN: _l("Withdrawn"),
}


class DeregistrationError(WorkflowError):
    """A refused deregistration transition. ``code`` is stable; ``message`` is translatable."""


def _ancestors(org: Organization) -> list[Organization]:
    """The organisations above ``org``, nearest first."""
    out, seen = [], {org.id}
    node = org.parent
    while node is not None and node.id not in seen:
        out.append(node)
        seen.add(node.id)
        node = node.parent
    return out


def regional_hr(org: Optional[Organization]) -> Optional[Organization]:
    """The regional HR bureau of ``org``: its nearest ancestor of kind ``hr`` (the province HR
    department when no HR bureau lies above it); None when neither exists."""
    if org is None:
        return None
    ancestors = _ancestors(org)
    for kinds in ((HR,), (PROVINCE,)):
        for node in ancestors:
            if node.kind in kinds:
                return node
    return None


def route(obj) -> list[int]:
    """Ordered reviewer organisation ids of a request: [employer, regional HR] for a professional,
    [superior] for an organisation; empty when a reviewer cannot be found."""
    if obj.kind == PERSON_KIND:
        employer = obj.org or db.session.get(Organization, obj.org_id)
        hr = regional_hr(employer)
        # Both reviews are required: without a regional HR bureau there is no route at all.
        return [obj.org_id, hr.id] if hr is not None and obj.org_id is not None else []
    org = obj.org or db.session.get(Organization, obj.org_id)
    return [org.parent_id] if org is not None and org.parent_id is not None else []


def is_super_admin(actor, org_id) -> bool:
    """True when ``actor`` acts through an enabled, approved super-admin membership of ``org_id``."""
    if actor is None or getattr(actor, "membership_id", None) is None or org_id is None:
        return False
    m = db.session.get(Membership, actor.membership_id)
    return (
        m is not None
        and m.org_id == org_id
        and m.user_id == actor.user_id
        and m.is_super
        and m.enabled
        and m.status == APPROVED
    )


def is_applicant(obj, actor) -> bool:
    """The professional of a person request, or a super admin of the organisation of an org request."""
    if actor is None:
        return False
    if obj.kind == PERSON_KIND:
        return actor.is_person and actor.person_id is not None and actor.person_id == obj.professional_id
    return not actor.is_person and actor.org_id == obj.org_id and is_super_admin(actor, obj.org_id)


def is_handler(obj, actor) -> bool:
    """True when ``actor`` is an admin of the organisation the request currently waits for."""
    return (
        actor is not None
        and not actor.is_person
        and actor.org_id is not None
        and obj.handler_org_id is not None
        and actor.org_id == obj.handler_org_id
    )


def is_own(obj, actor) -> bool:
    """True when ``actor``'s user is the subject or the applicant of the request: the user of the
    professional of a person request, or the user who applied (the "apply" audit row) for an
    organisation request."""
    user_id = getattr(actor, "user_id", None)
    if user_id is None:
        return False
    if obj.kind == PERSON_KIND:
        person = obj.professional or db.session.get(Professional, obj.professional_id)
        return person is not None and person.user_id == user_id
    applicant = db.session.scalar(
        select(AuditLog.actor_user_id).where(
            AuditLog.object_type == OBJECT_TYPE, AuditLog.object_id == obj.id, AuditLog.trigger == "apply"
        ).order_by(AuditLog.id).limit(1)
    )
    return applicant == user_id


class _Unit(Unit):
    """The machine's model for one request: the condition and action callbacks."""

    # conditions
    def is_handler(self, event) -> bool:
        return is_handler(self.obj, event.kwargs.get("actor"))

    def is_applicant(self, event) -> bool:
        return is_applicant(self.obj, event.kwargs.get("actor"))

    def has_next_step(self, event) -> bool:
        steps = route(self.obj)
        return self.obj.handler_org_id in steps and steps.index(self.obj.handler_org_id) < len(steps) - 1

    def at_first_step(self, event) -> bool:
        steps = route(self.obj)
        return bool(steps) and self.obj.handler_org_id == steps[0]

    # actions
    def advance(self, event) -> None:
        steps = route(self.obj)
        self.obj.handler_org_id = steps[steps.index(self.obj.handler_org_id) + 1]

    def on_decided(self, event) -> None:
        self.obj.decided_at = utcnow()

    def on_approved(self, event) -> None:
        obj = self.obj
        obj.decided_at = utcnow()
        if obj.kind == PERSON_KIND:
            person = obj.professional or db.session.get(Professional, obj.professional_id)
            person.status = DEREGISTERED
            return
        org = obj.org or db.session.get(Organization, obj.org_id)
        org.status = DEREGISTERED
        for m in db.session.query(Membership).filter(Membership.org_id == org.id):
            m.enabled = False


machine = new_machine(STATES, TRANSITIONS)


def available_triggers(obj, actor=None) -> list[str]:
    """Triggers allowed from ``obj``'s state; with ``actor``, only those that actor may fire now."""
    triggers = list(machine.get_triggers(obj.state))
    if actor is None:
        return triggers
    out = []
    for t in triggers:
        if t in ("approve", "reject") and is_handler(obj, actor) and not is_own(obj, actor):
            out.append(t)
        elif t == "withdraw" and is_applicant(obj, actor) and route(obj)[:1] == [obj.handler_org_id]:
            out.append(t)
    return out


def _audit(obj, trigger: str, before: Optional[str], actor, reason: Optional[str], handler_before=None) -> None:
    comment = reason
    if trigger == "approve" and obj.state == PENDING and obj.handler_org_id != handler_before:
        # A forwarded request: record where it went.
        nxt = db.session.get(Organization, obj.handler_org_id)
        note = str(_l("Forwarded to %(org)s", org=nxt.name if nxt else obj.handler_org_id))
        comment = f"{reason} · {note}" if reason else note
    db.session.add(
        AuditLog(
            object_type=OBJECT_TYPE,
            object_id=obj.id,
            trigger=trigger,
            from_state=before,
            to_state=obj.state,
            actor_user_id=getattr(actor, "user_id", None),
            actor_org_id=None if actor is None or actor.is_person else actor.org_id,
            comment=comment,
        )
    )


def submit(obj, actor) -> None:
    """Record a new request: sets ``state`` pending and ``handler_org_id`` to the first reviewer of its
    route, flushes it and writes the "apply" audit row. The caller has validated the request;
    raises ``DeregistrationError("no_reviewer")`` when the route is empty (nothing written)."""
    steps = route(obj)
    if not steps:
        raise DeregistrationError("no_reviewer", _l("No reviewing organisation was found for this request."))
    obj.state = PENDING
    obj.handler_org_id = steps[0]
    db.session.add(obj)
    db.session.flush()
    _audit(obj, "apply", None, actor, None)
    db.session.flush()


def fire(obj, trigger: str, actor=None, reason: Optional[str] = None):
    """Fire ``trigger`` (approve / reject / withdraw) on the Deregistration ``obj`` as ``actor`` and write
    the audit row.

    Guarantees: only the organisation in ``handler_org_id`` approves or rejects; a non-final approval
    moves the handler to the next reviewer and keeps the state pending; a final approval closes the
    professional or the organisation; a rejection needs a reason; nobody approves or rejects their own
    request (``own``); only the applicant withdraws, and a person only while the request is at the
    employer. Raises ``DeregistrationError`` (nothing changed) when refused. Flushes; the caller commits.
    """
    if trigger not in ACTIONS:
        raise ValueError(trigger)
    reason = (reason or "").strip() or None
    if trigger == "reject" and not reason:
        raise DeregistrationError("reason_required", MESSAGES["reason_required"])
    if trigger in ("approve", "reject") and is_handler(obj, actor) and is_own(obj, actor):
        raise DeregistrationError("own", MESSAGES["own"])
    before, handler_before = obj.state, obj.handler_org_id

    def refused():
        if trigger != "withdraw":
            code = "not_handler"
        elif not is_applicant(obj, actor):
            code = "not_applicant"
        else:
            code = "too_late"
        return DeregistrationError(code, MESSAGES[code])

    run(
        machine,
        _Unit(obj),
        trigger,
        {"actor": actor, "reason": reason},
        on_machine_error=lambda: DeregistrationError(
            "not_allowed",
            _l(
                "This request cannot be %(action)s in its current state (%(state)s).",
                action=ACTIONS[trigger],
                state=STATE_LABELS.get(before, before),
            ),
        ),
        on_refused=refused,
    )
    _audit(obj, trigger, before, actor, reason, handler_before)
    db.session.flush()
    return obj
