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
``ReductionError`` and changes nothing. Nobody approves or rejects a request of their own person.
"""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import AuditLog, Professional
from .base import audit, audit_history, WorkflowError, new_machine, run
from .declaration import LOOKUP, RoutedUnit, is_handler, is_own, not_reviewed
from .declaration import is_person_of as is_owner

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
    "own": _l(
        "You cannot review your own reduced-requirement request. Another administrator of your organisation "
        "or the superior organisation must review it."
    ),
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


class _Unit(RoutedUnit):
    """The machine's model for one request: the route callbacks of declarations plus the owner check."""

    def is_owner(self, event) -> bool:
        return is_owner(self.obj, event.kwargs.get("actor"))


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
         audit_rows: Optional[list] = None, own_person=LOOKUP):
    """Fire ``trigger`` (submit / approve / reject / revoke) on the RequirementReduction ``obj`` as
    ``actor`` and write the audit row.

    Guarantees: only the professional submits (the route is ``route_for(professional)`` unless
    ``route`` is given; never empty); only the organisation in ``handler_org_id`` approves or rejects;
    a non-final approval moves step and handler and keeps the state pending; the final approval sets
    ``approved`` and ``decided_at``; a rejection needs a comment (≤ 1000); only the professional
    revokes, and only before anybody reviewed it; nobody approves or rejects a request of their own
    person (``own``; ``own_person``: the actor's professional id when looked up already). Raises
    ``ReductionError`` (nothing changed) when refused. With ``audit_rows`` (a list) the audit row is
    appended as a dict for a bulk insert; otherwise it is added and flushed. The caller commits.
    """
    if trigger not in ACTIONS:
        raise ValueError(trigger)
    comment = (comment or "").strip() or None
    check_review_input(trigger, comment)
    if trigger in ("approve", "reject") and is_handler(obj, actor) and is_own(obj, actor, own_person):
        raise ReductionError("own", MESSAGES["own"])
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
    audit(OBJECT_TYPE, obj, trigger, before, actor, comment, audit_rows)
    return obj


def history(obj) -> list[AuditLog]:
    """The audit rows of one request, oldest first."""
    return audit_history(OBJECT_TYPE, obj.id)
