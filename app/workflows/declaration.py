"""Hours declaration (学时申报) review: draft → pending → approved / rejected.

A draft is submitted by its declarant (the professional, or the organisation that declared for its
people); submitting stores the route (``services/routing.py``), step 0 and the first reviewer as the
current handler. Each ``approve`` by the current handler's organisation moves the declaration one
step along the route and keeps it pending; the approval of the last step is final: the declaration
is approved and its recognised hours (认定学时) are added to the hours ledger in the same transaction.
Any reviewer on the route may reject (a comment is required). The professional may revoke (撤销) a
declaration of their own that no one has reviewed yet: it returns to draft. Rejected declarations
stay rejected (a correction is a new declaration).

Usage, inside a transaction (the caller commits)::

    fire(obj, "submit", actor=person_actor)
    fire(obj, "approve", actor=reviewer, comment="...", recognised_hours=Decimal("20"))
    fire(obj, "reject", actor=reviewer, comment="证明材料不全")
    fire(obj, "revoke", actor=person_actor)

Every fired trigger writes one ``AuditLog`` row (object_type ``declaration``); a refused trigger
raises ``DeclarationError`` and changes nothing.

The final approval records one ``HoursPosting`` per declaration (unique declaration id) next to the
running total in ``HoursLedger``: a second posting of the same declaration fails on every database,
so its hours can never be counted twice; annulling deletes the posting and takes its hours out again.
Nobody decides a declaration of their own person (``own_person_id``), whatever organisation they act for.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from .base import audit, audit_history, own_person_id, Unit, WorkflowError, new_machine, run

from ..extensions import db
from ..models import AuditLog, HoursLedger, HoursPosting, Organization, Professional
from ..models.common import utcnow

OBJECT_TYPE = "declaration"
DRAFT = "draft"
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
ANNULLED = "annulled"
STATES = [DRAFT, PENDING, APPROVED, REJECTED, ANNULLED]

MAX_HOURS = Decimal("999.9")
COMMENT_MAX = 1000

TRANSITIONS = [
    {"trigger": "submit", "source": DRAFT, "dest": PENDING, "conditions": "is_declarant", "after": "on_submitted"},
    # Multi-step review: the first matching ``approve`` forwards to the next reviewer on the route,
    # the second (last reviewer) decides finally.
    {"trigger": "approve", "source": PENDING, "dest": None, "conditions": ["is_handler", "has_next_step"],
     "before": "apply_recognised", "after": "advance"},
    {"trigger": "approve", "source": PENDING, "dest": APPROVED, "conditions": "is_handler",
     "before": "apply_recognised", "after": "on_approved"},
    {"trigger": "reject", "source": PENDING, "dest": REJECTED, "conditions": "is_handler", "after": "on_decided"},
    {"trigger": "revoke", "source": PENDING, "dest": DRAFT, "conditions": ["is_owner", "not_reviewed"],
     "after": "on_revoked"},
    # 撤销认定: the final reviewer withdraws approved hours (found false later); they leave the ledger
    # and the certificates covering the year are revoked (services.declarations.annul).
    {"trigger": "annul", "source": APPROVED, "dest": ANNULLED, "conditions": "is_final_reviewer",
     "after": "on_annulled"},
]

MESSAGES = {
    "not_declarant": _l("Only the declarant may submit this declaration."),
    "not_handler": _l("This declaration is not waiting for your organisation's review."),
    "not_owner": _l("Only the professional who made this declaration may revoke it."),
    "too_late": _l("This declaration has already been reviewed and can no longer be revoked."),
    "not_final_reviewer": _l("Only the final reviewer may annul approved hours."),
    "comment_required": _l("Please give a reason for the rejection."),
    "comment_too_long": _l("The comment may have at most 1000 characters."),
    "hours_reason": _l("Please give a reason when the recognised hours differ from the requested hours."),
    "hours_invalid": _l("Recognised hours must be a number from 0 to 999.9."),
    "no_route": _l("No HR bureau was found above the organisation; the declaration cannot be routed."),
    "own": _l(
        "You cannot review your own declaration. Another administrator of your organisation or the "
        "superior organisation must review it."
    ),
    "already_counted": _l(
        "The hours of this declaration are already in the ledger (it was approved at the same time by "
        "someone else). Nothing was changed; please reload the page."
    ),
}

# ``fire(own_person=...)`` default: look the actor's own professional profile up.
LOOKUP = object()

ACTIONS = {
    "submit": _l("submitted"),
    "approve": _l("approved"),
    "reject": _l("rejected"),
    "revoke": _l("revoked"),
    "annul": _l("annulled"),
}

STATE_LABELS = {
    DRAFT: _l("Draft"),
    PENDING: _l("Pending review"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    ANNULLED: _l("Annulled"),
}


class DeclarationError(WorkflowError):
    """A refused declaration transition. ``code`` is stable; ``message`` is translatable."""


# ---------------------------------------------------------------- who may do what


def is_handler(obj, actor) -> bool:
    """True when ``actor`` acts for the organisation the pending declaration currently waits for."""
    return (
        actor is not None
        and not actor.is_person
        and actor.org_id is not None
        and obj.handler_org_id is not None
        and actor.org_id == obj.handler_org_id
    )


def is_person_of(obj, actor) -> bool:
    """True when ``actor`` acts as the professional ``obj`` (a declaration or a request) is for."""
    return (
        actor is not None
        and actor.is_person
        and actor.person_id is not None
        and actor.person_id == obj.professional_id
    )


def is_owner(obj, actor) -> bool:
    """True when ``actor`` is the professional who made ``obj`` for themselves."""
    return is_person_of(obj, actor) and obj.declared_by_org_id is None


def is_declarant(obj, actor) -> bool:
    """The professional of a personal declaration, or the declaring organisation of an org-made one."""
    if actor is None:
        return False
    if obj.declared_by_org_id is None:
        return is_owner(obj, actor)
    return not actor.is_person and actor.org_id is not None and actor.org_id == obj.declared_by_org_id


def is_final_reviewer(obj, actor) -> bool:
    """True when ``actor`` acts for the last organisation on the declaration's route (the HR bureau
    that approved it finally)."""
    return (
        actor is not None
        and not actor.is_person
        and actor.org_id is not None
        and bool(obj.route)
        and actor.org_id == obj.route[-1]
    )


def is_own(obj, actor, own_person=LOOKUP) -> bool:
    """True when ``obj`` (a declaration or a request of one professional) is of the actor's own person:
    the professional profile whose user is the actor's user. ``own_person``: that profile's id when
    the caller looked it up already (bulk reviews), else it is looked up here."""
    if actor is None or obj.professional_id is None:
        return False
    if own_person is LOOKUP:
        own_person = own_person_id(actor)
    return own_person is not None and obj.professional_id == own_person


def not_reviewed(obj) -> bool:
    """True while the declaration is still at the first reviewer (nobody has approved it yet)."""
    return (obj.step or 0) == 0 and bool(obj.route) and obj.handler_org_id == obj.route[0]


# ---------------------------------------------------------------- the hours ledger


def post_ledger(increments: dict) -> None:
    """Add ``{(professional_id, year, subject_type): hours}`` to the hours ledger in the current
    transaction, creating missing rows. Safe against concurrent inserts of the same key (one
    ``INSERT … ON CONFLICT DO UPDATE`` per key on PostgreSQL and SQLite)."""
    items = sorted((k, v) for k, v in increments.items() if v)
    if not items:
        return
    now = utcnow()
    rows = [
        {"professional_id": p, "year": y, "subject_type": s, "hours": Decimal(h), "updated": now}
        for (p, y, s), h in items
    ]
    table = HoursLedger.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise NotImplementedError(dialect)
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.professional_id, table.c.year, table.c.subject_type],
        set_={"hours": table.c.hours + stmt.excluded.hours, "updated": stmt.excluded.updated},
    )
    for start in range(0, len(rows), 1000):
        db.session.execute(stmt, rows[start:start + 1000])


def ledger_key(obj) -> tuple:
    return (obj.professional_id, obj.year, obj.subject_type)


def posting_row(obj, now=None) -> dict:
    """The ``HoursPosting`` row of the finally approved declaration ``obj`` (its recognised hours)."""
    return {
        "declaration_id": obj.id, "professional_id": obj.professional_id, "year": obj.year,
        "subject_type": obj.subject_type, "hours": Decimal(obj.recognised_hours), "created": now or utcnow(),
    }


def post_hours(rows: list[dict]) -> None:
    """Record the postings ``rows`` (``posting_row``) and add their hours to the ledger, in the current
    transaction, set-based (1,000 rows per statement). A declaration posted already makes the insert
    fail with ``IntegrityError`` (unique declaration id) on every database: the caller rolls back."""
    if not rows:
        return
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(HoursPosting), rows[start:start + 1000])
    increments: dict = {}
    for r in rows:
        key = (r["professional_id"], r["year"], r["subject_type"])
        increments[key] = increments.get(key, Decimal(0)) + Decimal(r["hours"])
    post_ledger(increments)


POSTING_FROM_DECLARATION = (
    "INSERT INTO hours_posting (declaration_id, professional_id, year, subject_type, hours, created) "
    "SELECT d.id, d.professional_id, d.year, d.subject_type, COALESCE(d.recognised_hours, d.requested_hours, 0), "
    "COALESCE(d.decided_at, d.submitted_at, d.created) FROM declaration d WHERE d.state = 'approved' "
    "AND d.id >= :first AND NOT EXISTS (SELECT 1 FROM hours_posting p WHERE p.declaration_id = d.id)"
)


def record_postings(first_id: int = 0) -> None:
    """For loaders that write approved declarations and their ledger totals directly (demo data,
    generated data): record the missing posting of every approved declaration with id ≥ ``first_id``,
    set-based. The ledger is not touched (the loader posted it)."""
    from sqlalchemy import text

    db.session.execute(text(POSTING_FROM_DECLARATION), {"first": int(first_id)})


def unpost_hours(obj) -> Decimal:
    """Delete the posting of the approved declaration ``obj`` and take its hours out of the ledger;
    returns those hours. A declaration a loader approved without a posting (rows written directly)
    gives back its recognised hours. The caller holds the declaration's lock (``annul``), so only one
    annulment passes the state check and the hours leave the ledger once."""
    hours = db.session.scalar(select(HoursPosting.hours).where(HoursPosting.declaration_id == obj.id))
    if hours is None:
        hours = Decimal(obj.recognised_hours or 0)
    else:
        db.session.execute(delete(HoursPosting).where(HoursPosting.declaration_id == obj.id))
    post_ledger({ledger_key(obj): -Decimal(hours)})
    return Decimal(hours)


# ---------------------------------------------------------------- the machine


class RoutedUnit(Unit):
    """Callbacks shared by every request reviewed along a route of organisations (declarations,
    reduced requirements): the handler check, the step forward, and the submit / decide / revoke
    bookkeeping of ``route``, ``step``, ``handler_org_id`` and the times."""

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


class _Unit(RoutedUnit):
    """The machine's model for one declaration: the condition and action callbacks."""

    # conditions
    def is_declarant(self, event) -> bool:
        return is_declarant(self.obj, event.kwargs.get("actor"))

    def is_owner(self, event) -> bool:
        return is_owner(self.obj, event.kwargs.get("actor"))

    def is_final_reviewer(self, event) -> bool:
        return is_final_reviewer(self.obj, event.kwargs.get("actor"))

    # actions
    def on_submitted(self, event) -> None:
        super().on_submitted(event)
        self.obj.recognised_hours = None

    def apply_recognised(self, event) -> None:
        hours = event.kwargs.get("recognised_hours")
        if hours is not None:
            self.obj.recognised_hours = hours

    def on_approved(self, event) -> None:
        obj = self.obj
        obj.decided_at = utcnow()
        obj.handler_org_id = None
        if obj.recognised_hours is None:
            obj.recognised_hours = obj.requested_hours
        postings = event.kwargs.get("postings")
        if postings is None:
            if obj.id is None:
                db.session.add(obj)
                db.session.flush()
            post_hours([posting_row(obj)])
        else:
            postings.append(posting_row(obj))

    def on_annulled(self, event) -> None:
        obj = self.obj
        obj.decided_at = utcnow()
        unpost_hours(obj)


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
        elif t == "submit" and is_declarant(obj, actor):
            out.append(t)
        elif t == "revoke" and is_owner(obj, actor) and not_reviewed(obj):
            out.append(t)
        elif t == "annul" and is_final_reviewer(obj, actor) and not is_own(obj, actor):
            out.append(t)
    return out


def _hours(value) -> Optional[Decimal]:
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DeclarationError("hours_invalid", MESSAGES["hours_invalid"]) from None
    if not hours.is_finite() or hours < 0 or hours > MAX_HOURS or hours != hours.quantize(Decimal("0.1")):
        raise DeclarationError("hours_invalid", MESSAGES["hours_invalid"])
    return hours.quantize(Decimal("0.1"))


def check_review_input(obj, trigger: str, comment: Optional[str], recognised_hours=None) -> Optional[Decimal]:
    """Validate the reviewer's input for ``trigger`` on ``obj`` without changing anything; returns the
    recognised hours as a one-place ``Decimal`` (or None). Raises ``DeclarationError``."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DeclarationError("comment_too_long", MESSAGES["comment_too_long"])
    if trigger in ("reject", "annul") and not comment:
        raise DeclarationError("comment_required", MESSAGES["comment_required"])
    if trigger != "approve":
        return None
    hours = _hours(recognised_hours)
    if hours is not None and hours != Decimal(obj.requested_hours or 0) and not comment:
        raise DeclarationError("hours_reason", MESSAGES["hours_reason"])
    return hours


def fire(
    obj,
    trigger: str,
    actor=None,
    comment: Optional[str] = None,
    recognised_hours=None,
    route: Optional[list] = None,
    audit_rows: Optional[list] = None,
    postings: Optional[list] = None,
    own_person=LOOKUP,
):
    """Fire ``trigger`` (submit / approve / reject / revoke) on the Declaration ``obj`` as ``actor`` and
    write the audit row.

    Guarantees: only the declarant submits (the route is computed here unless ``route`` is given;
    never empty); only the organisation in ``handler_org_id`` approves or rejects; a non-final approval
    moves step and handler and keeps the state pending; the final approval sets the recognised hours
    (the requested ones unless a reviewer set others) and posts them once (``post_hours``: a second
    posting of the same declaration raises ``DeclarationError("already_counted")``; the caller rolls
    back); recognised hours differing from the requested need a comment; a rejection needs a comment;
    nobody approves or rejects a declaration of their own person (``own``); only the professional
    revokes, and only before anybody reviewed it; annulling removes the posting and its hours.
    Raises ``DeclarationError`` (nothing changed) when refused.

    Batch use: with ``audit_rows`` (a list) the audit row is appended as a dict for a bulk insert and
    nothing is flushed; with ``postings`` (a list) the final postings are collected there for
    ``post_hours``; ``own_person`` is the actor's own professional id when already looked up.
    Otherwise flushes; the caller commits.
    """
    if trigger not in ACTIONS:
        raise ValueError(trigger)
    comment = (comment or "").strip() or None
    hours = check_review_input(obj, trigger, comment, recognised_hours)
    deciding = (trigger in ("approve", "reject") and is_handler(obj, actor)) or (
        trigger == "annul" and is_final_reviewer(obj, actor))
    if deciding and is_own(obj, actor, own_person):
        raise DeclarationError("own", MESSAGES["own"])
    kwargs = {"actor": actor, "comment": comment, "recognised_hours": hours, "postings": postings}
    if trigger == "submit" and obj.state == DRAFT and is_declarant(obj, actor):
        if route is None:
            from ..services.routing import NoRoute, route_for

            person = obj.professional or db.session.get(Professional, obj.professional_id)
            by_org = None
            if obj.declared_by_org_id is not None:
                by_org = obj.declared_by_org or db.session.get(Organization, obj.declared_by_org_id)
            try:
                route = route_for(person, declared_by_org=by_org, subject_type=obj.subject_type)
            except NoRoute:
                raise DeclarationError("no_route", MESSAGES["no_route"]) from None
        if not route:
            raise DeclarationError("no_route", MESSAGES["no_route"])
        kwargs["route"] = list(route)
    before = obj.state

    def refused():
        if trigger == "submit":
            code = "not_declarant"
        elif trigger == "annul":
            code = "not_final_reviewer"
        elif trigger != "revoke":
            code = "not_handler"
        elif not is_owner(obj, actor):
            code = "not_owner"
        else:
            code = "too_late"
        return DeclarationError(code, MESSAGES[code])

    try:
        run(
            machine,
            _Unit(obj),
            trigger,
            kwargs,
            on_machine_error=lambda: DeclarationError(
                "not_allowed",
                _l(
                    "This declaration cannot be %(action)s in its current state (%(state)s).",
                    action=ACTIONS[trigger],
                    state=STATE_LABELS.get(before, before),
                ),
            ),
            on_refused=refused,
        )
    except IntegrityError:
        # The posting exists already: the hours were counted by a concurrent final approval.
        raise DeclarationError("already_counted", MESSAGES["already_counted"]) from None
    note = comment
    if trigger == "approve" and hours is not None:
        extra = str(_l("Recognised hours: %(hours)s", hours=hours))
        note = f"{comment} · {extra}" if comment else extra
    audit(OBJECT_TYPE, obj, trigger, before, actor, note, audit_rows)
    return obj


def history(obj) -> list[AuditLog]:
    """The audit rows of one declaration, oldest first."""
    return audit_history(OBJECT_TYPE, obj.id)
