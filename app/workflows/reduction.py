"""Reduced requirement (学时折算) review: draft → pending → approved / rejected.

A professional whose year had abroad work or sick leave over six months, maternity leave or another
approved reason asks for the year's minimums to be prorated by the months on duty (证书管理办法 第八条).
The request goes along the same review chain as the person's own declarations
(``services.routing.route_for``: employer units with open review right → competent department, skipped
for accountants → HR bureau, final). Submitting stores the route, step 0 and the first reviewer as the
current handler; each ``approve`` by the handler's organisation moves it one step and keeps it
pending; the approval of the last step is final (``services.requirements.requirement_for`` then
prorates the year). Any reviewer it waits for may reject (a comment is required). The professional may
revoke (撤销) a request no one has reviewed yet: it returns to draft.

Usage, inside a transaction (the caller commits)::

    fire(obj, "submit", actor=person_actor)
    fire(obj, "approve", actor=reviewer, comment="...")
    fire(obj, "reject", actor=reviewer, comment="证明材料不全")
    fire(obj, "revoke", actor=person_actor)

Every fired trigger writes one ``AuditLog`` row (object_type ``reduction``); a refused trigger raises
``ReductionError`` and changes nothing.
"""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import AuditLog, Professional
from ..models.common import utcnow
from .base import Unit, WorkflowError, new_machine, run
from .declaration import is_handler, not_reviewed

OBJECT_TYPE = "reduction"
DRAFT = "draft"
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
STATES = [DRAFT, PENDING, APPROVED, REJECTED]

COMMENT_MAX = 1000

TRANSITIONS = [
    {"trigger": "submit", "source": DRAFT, "dest": PENDING, "conditions": "is_owner", "after": "on_submitted"},
    # Multi-step review: the first matching ``approve`` forwards to the next reviewer on the route,
    # the second (last reviewer) decides finally.
    {"trigger": "approve", "source": PENDING, "dest": None, "conditions": ["is_handler", "has_next_step"],
     "after": "advance"},
    {"trigger": "approve", "source": PENDING, "dest": APPROVED, "conditions": "is_handler", "after": "on_decided"},
    {"trigger": "reject", "source": PENDING, "dest": REJECTED, "conditions": "is_handler", "after": "on_decided"},
    {"trigger": "revoke", "source": PENDING, "dest": DRAFT, "conditions": ["is_owner", "not_reviewed"],
     "after": "on_revoked"},
]

MESSAGES = {
    "not_owner": _l("Only the professional who made this request may submit or revoke it."),
    "not_handler": _l("This request is not waiting for your organisation's review."),
    "too_late": _l("This request has already been reviewed and can no longer be revoked."),
    "comment_required": _l("Please give a reason for the rejection."),
    "comment_too_long": _l("The comment may have at most 1000 characters."),
    "no_route": _l("No HR bureau was found above the organisation; the declaration cannot be routed."),
}

ACTIONS = {
    "submit": _l("submitted"),
    "approve": _l("approved"),
    "reject": _l("rejected"),
    "revoke": _l("revoked"),
}

STATE_LABELS = {
    DRAFT: _l("Not submitted"),
    PENDING: _l("Pending review"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
}


class ReductionError(WorkflowError):
    """A refused reduced-requirement transition. ``code`` is stable; ``message`` is translatable."""


def is_owner(obj, actor) -> bool:
    """True when ``actor`` is the professional the request is for (acting as that professional)."""
    return (
        actor is not None
        and actor.is_person
        and actor.person_id is not None
        and actor.person_id == obj.professional_id
    )


class _Unit(Unit):
    """The machine's model for one request: the condition and action callbacks."""

    def is_owner(self, event) -> bool:
        return is_owner(self.obj, event.kwargs.get("actor"))

    def is_handler(self, event) -> bool:
        return is_handler(self.obj, event.kwargs.get("actor"))

    def not_reviewed(self, event) -> bool:
        return not_reviewed(self.obj)

    def has_next_step(self, event) -> bool:
        return (self.obj.step or 0) < len(self.obj.route or []) - 1

    def on_submitted(self, event) -> None:
        obj = self.obj
        steps = list(event.kwargs["route"])
        obj.route = steps
        obj.step = 0
        obj.handler_org_id = steps[0]
        obj.submitted_at = utcnow()
        obj.decided_at = None

    def advance(self, event) -> None:
        obj = self.obj
        obj.step = (obj.step or 0) + 1
        obj.handler_org_id = obj.route[obj.step]

    def on_decided(self, event) -> None:
        self.obj.decided_at = utcnow()
        self.obj.handler_org_id = None

    def on_revoked(self, event) -> None:
        obj = self.obj
        obj.route = []
        obj.step = 0
        obj.handler_org_id = None
        obj.submitted_at = None


machine = new_machine(STATES, TRANSITIONS)


def available_triggers(obj, actor=None) -> list[str]:
    """Triggers allowed from ``obj``'s state; with ``actor``, only those that actor may fire now."""
    triggers = list(machine.get_triggers(obj.state))
    if actor is None:
        return triggers
    out = []
    for t in triggers:
        if t in ("approve", "reject") and is_handler(obj, actor):
            out.append(t)
        elif t == "submit" and is_owner(obj, actor):
            out.append(t)
        elif t == "revoke" and is_owner(obj, actor) and not_reviewed(obj):
            out.append(t)
    return out


def check_review_input(trigger: str, comment: Optional[str]) -> None:
    """Validate a reviewer's comment for ``trigger`` without changing anything: at most 1000
    characters, required for a rejection. Raises ``ReductionError``."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ReductionError("comment_too_long", MESSAGES["comment_too_long"])
    if trigger == "reject" and not comment:
        raise ReductionError("comment_required", MESSAGES["comment_required"])


def fire(obj, trigger: str, actor=None, comment: Optional[str] = None, route: Optional[list] = None,
         audit_rows: Optional[list] = None):
    """Fire ``trigger`` (submit / approve / reject / revoke) on the RequirementReduction ``obj`` as
    ``actor`` and write the audit row.

    Guarantees: only the professional submits (the route is ``route_for(professional)`` unless
    ``route`` is given; never empty); only the organisation in ``handler_org_id`` approves or rejects;
    a non-final approval moves step and handler and keeps the state pending; the final approval sets
    ``approved`` and ``decided_at``; a rejection needs a comment (≤ 1000); only the professional
    revokes, and only before anybody reviewed it. Raises ``ReductionError`` (nothing changed) when
    refused. With ``audit_rows`` (a list) the audit row is appended as a dict for a bulk insert;
    otherwise it is added and flushed. The caller commits.
    """
    if trigger not in ACTIONS:
        raise ValueError(trigger)
    comment = (comment or "").strip() or None
    check_review_input(trigger, comment)
    kwargs = {"actor": actor, "comment": comment}
    if trigger == "submit" and obj.state == DRAFT and is_owner(obj, actor):
        if route is None:
            from ..services.routing import NoRoute, route_for

            person = obj.professional or db.session.get(Professional, obj.professional_id)
            try:
                route = route_for(person)
            except NoRoute:
                raise ReductionError("no_route", MESSAGES["no_route"]) from None
        if not route:
            raise ReductionError("no_route", MESSAGES["no_route"])
        kwargs["route"] = list(route)
    before = obj.state

    def refused():
        if trigger in ("submit",) or (trigger == "revoke" and not is_owner(obj, actor)):
            code = "not_owner"
        elif trigger == "revoke":
            code = "too_late"
        else:
            code = "not_handler"
        return ReductionError(code, MESSAGES[code])

    run(
        machine,
        _Unit(obj),
        trigger,
        kwargs,
        on_machine_error=lambda: ReductionError(
            "not_allowed",
            _l(
                "This request cannot be %(action)s in its current state (%(state)s).",
                action=ACTIONS[trigger],
                state=STATE_LABELS.get(before, before),
            ),
        ),
        on_refused=refused,
    )
    if obj.id is None:
        db.session.add(obj)
        db.session.flush()
    row = {
        "object_type": OBJECT_TYPE,
        "object_id": obj.id,
        "trigger": trigger,
        "from_state": before,
        "to_state": obj.state,
        "actor_user_id": getattr(actor, "user_id", None),
        "actor_org_id": None if actor is None or actor.is_person else actor.org_id,
        "comment": comment,
    }
    if audit_rows is not None:
        row["created"] = utcnow()
        audit_rows.append(row)
        return obj
    db.session.add(AuditLog(**row))
    db.session.flush()
    return obj


def history(obj) -> list[AuditLog]:
    """The audit rows of one request, oldest first."""
    return list(
        db.session.scalars(
            select(AuditLog)
            .where(AuditLog.object_type == OBJECT_TYPE, AuditLog.object_id == obj.id)
            .order_by(AuditLog.id)
        )
    )
