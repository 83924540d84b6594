"""Registration review (注册审核) of a professional or an organisation.

A registration is submitted (stored status ``pending``), then approved or rejected by the registrant's
superior organisation (a professional's employer; an organisation's parent), or withdrawn by the
registrant (identified by name + ID number) while still pending. A withdrawn or rejected registration
may be replaced by a new one (see ``services/registration.py``).

Usage, inside a transaction (the caller commits)::

    fire(obj, "approve", actor=actor, reason="...")
    fire(obj, "withdraw", name="张三", id_number="410105...")

Every fired trigger writes one ``AuditLog`` row; a refused trigger raises ``RegistrationError``
and changes nothing. Nobody approves or rejects their own registration (``is_own``).
"""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import AuditLog, Membership, Organization, Professional
from ..models.common import APPROVED, PENDING, REJECTED, WITHDRAWN
from ..services.certificate_numbers import assign as assign_certificate_no
from .base import StatusUnit, WorkflowError, new_machine, run

# The process states are "submitted / approved / rejected / withdrawn"; they are stored with the shared
# status vocabulary, so the state names are the stored values ("submitted" is stored as "pending").
SUBMITTED = PENDING
STATES = [SUBMITTED, APPROVED, REJECTED, WITHDRAWN]

TRANSITIONS = [
    {"trigger": "approve", "source": SUBMITTED, "dest": APPROVED, "conditions": "is_reviewer",
     "after": "on_approved"},
    {"trigger": "reject", "source": SUBMITTED, "dest": REJECTED, "conditions": "is_reviewer"},
    {"trigger": "withdraw", "source": SUBMITTED, "dest": WITHDRAWN, "conditions": "is_registrant"},
]

MESSAGES = {
    "not_reviewer": _l("Only the superior organisation of the registrant may review this registration."),
    "not_registrant": _l("The name and ID number do not match this registration."),
    "reason_required": _l("Please give a reason for the rejection."),
    "own": _l(
        "You cannot review your own registration or one you applied for. Another administrator of your "
        "organisation must review it."
    ),
}

ACTIONS = {
    "approve": _l("approved"),
    "reject": _l("rejected"),
    "withdraw": _l("withdrawn"),
}

STATE_LABELS = {
    PENDING: _l("pending review"),
    APPROVED: _l("approved"),
    REJECTED: _l("rejected"),
    WITHDRAWN: _l("withdrawn"),
}


class RegistrationError(WorkflowError):
    """A refused registration transition. ``code`` is stable; ``message`` is translatable."""


def reviewer_org_id(obj) -> Optional[int]:
    """The organisation that reviews ``obj``'s registration: a professional's employer, an org's parent."""
    if isinstance(obj, Professional):
        return obj.org_id
    return obj.parent_id


def object_type(obj) -> str:
    return "professional" if isinstance(obj, Professional) else "organization"


def matches_registrant(obj, name: str, id_number: str) -> bool:
    """True when ``name`` + ``id_number`` identify the registrant of ``obj``.

    A professional: its own name and ID number. An organisation: a pending applicant (super-admin
    membership) whose ID number matches, with the applicant's full name or the organisation's name.
    """
    name = (name or "").strip()
    id_number = (id_number or "").strip().upper()
    if not name or not id_number:
        return False
    if isinstance(obj, Professional):
        return obj.name == name and (obj.id_number or "").upper() == id_number
    for m in _applicants(obj):
        if m.user and (m.user.id_number or "").upper() == id_number and name in (m.user.full_name, obj.name):
            return True
    return False


def is_own(obj, actor) -> bool:
    """True when ``actor``'s user is the registrant: the user of a professional registration, or an
    applicant (super-admin membership) of an organisation registration."""
    user_id = getattr(actor, "user_id", None)
    if user_id is None:
        return False
    if isinstance(obj, Professional):
        return obj.user_id == user_id
    return any(m.user_id == user_id for m in _applicants(obj))


def _applicants(org: Organization):
    return (
        db.session.query(Membership)
        .filter(Membership.org_id == org.id, Membership.is_super.is_(True))
        .all()
    )


class _Unit(StatusUnit):
    """The machine's model for one registration: the condition and action callbacks."""

    # conditions
    def is_reviewer(self, event) -> bool:
        actor = event.kwargs.get("actor")
        return actor is not None and actor.org_id is not None and actor.org_id == reviewer_org_id(self.obj)

    def is_registrant(self, event) -> bool:
        return matches_registrant(self.obj, event.kwargs.get("name"), event.kwargs.get("id_number"))

    # actions
    def on_approved(self, event) -> None:
        obj = self.obj
        if isinstance(obj, Organization):
            for m in _applicants(obj):
                if m.status == PENDING:
                    m.status = APPROVED
        else:
            assign_certificate_no(obj)


machine = new_machine(STATES, TRANSITIONS, attribute="status")


def available_triggers(obj) -> list[str]:
    """Triggers allowed from ``obj``'s current status (for buttons)."""
    return [t for t in machine.get_triggers(obj.status)]


def fire(obj, trigger: str, actor=None, reason: Optional[str] = None, name: str = None, id_number: str = None):
    """Fire ``trigger`` on ``obj`` (a Professional or an Organization) and write the audit row.

    Raises ``RegistrationError`` (nothing changed) when the transition is not allowed, also when the
    reviewer is the registrant (``own``). Flushes; the caller commits.
    """
    if trigger not in ACTIONS:
        raise ValueError(trigger)
    if trigger == "reject" and not (reason or "").strip():
        raise RegistrationError("reason_required", MESSAGES["reason_required"])
    deciding = trigger in ("approve", "reject") and obj.status == SUBMITTED and actor is not None
    if deciding and getattr(actor, "org_id", None) == reviewer_org_id(obj) and is_own(obj, actor):
        raise RegistrationError("own", MESSAGES["own"])
    before = obj.status
    kwargs = {"actor": actor, "reason": reason, "name": name, "id_number": id_number}
    code = "not_registrant" if trigger == "withdraw" else "not_reviewer"
    run(
        machine,
        _Unit(obj),
        trigger,
        kwargs,
        on_machine_error=lambda: RegistrationError(
            "not_allowed",
            _l(
                "This registration cannot be %(action)s in its current state (%(state)s).",
                action=ACTIONS[trigger],
                state=STATE_LABELS.get(before, before),
            ),
        ),
        on_refused=lambda: RegistrationError(code, MESSAGES[code]),
    )
    db.session.add(
        AuditLog(
            object_type=object_type(obj),
            object_id=obj.id,
            trigger=trigger,
            from_state=before,
            to_state=obj.status,
            actor_user_id=getattr(actor, "user_id", None) or _registrant_user_id(obj, trigger),
            actor_org_id=getattr(actor, "org_id", None),
            comment=reason,
        )
    )
    db.session.flush()
    return obj


def _registrant_user_id(obj, trigger: str) -> Optional[int]:
    if trigger != "withdraw":
        return None
    if isinstance(obj, Professional):
        return obj.user_id
    apps = _applicants(obj)
    return apps[0].user_id if apps else None
