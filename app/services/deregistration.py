"""Deregistration (注销) of a professional, deregistration or merger (注销/合并) of an organisation.

Every command takes the actor explicitly, validates everything first (collecting one message per
field or rule into ``DeregistrationInvalid.errors``), then writes in one transaction and commits.
State changes go through ``app.workflows.deregistration`` (which writes the audit rows).
"""

from __future__ import annotations

from typing import Iterable, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import AuditLog, ChangeRequest, Declaration, Deregistration, Organization, Professional, Transfer
from ..models.common import APPROVED, PENDING, REJECTED, WITHDRAWN
from ..workflows.base import Reviewed, write_lock
from ..workflows.deregistration import (
    DEREGISTERED,
    ORG_KIND,
    PERSON_KIND,
    DeregistrationError,
    fire,
    is_super_admin,
    regional_hr,
    route,
    submit,
)
from .scope import Actor, like_contains, scope_clause
from .uploads import UploadInvalid, check_image, delete_upload, store_image

# Request states that still wait for someone (declarations, transfers, change requests, requests).
OPEN_STATES = (PENDING, "submitted", "reviewing")
# Registration statuses that no longer hold anyone at the organisation.
GONE = (DEREGISTERED, REJECTED, WITHDRAWN)

# Causes of a professional's deregistration (seed 003: 退休、去世; a job change is a transfer).
PERSON_CAUSES = {
    "retired": _l("Retirement"),
    "deceased": _l("Death"),
    "other": _l("Other"),
}
# What an organisation applies for.
ORG_REQUESTS = {
    "deregister": _l("Deregistration"),
    "merge": _l("Merger into another organisation"),
}
REASON_MAX = 500
PAGE_SIZE = 20

E = {
    "required": _l("This field is required."),
    "too_long": _l("This value is too long."),
    "choice": _l("Choose a value from the list."),
    "not_person": _l("Only an approved professional may apply for deregistration of the account."),
    "open_request": _l("You already have a deregistration request under review."),
    "org_open_request": _l("This organisation already has a deregistration or merger request under review."),
    "person_pending": _l(
        "You still have items under review (%(items)s). Withdraw them or wait until they are decided, then apply again."
    ),
    "org_pending": _l(
        "The organisation still has items under review (%(items)s). They must be decided before it can apply."
    ),
    "professionals": _l(
        "The organisation still has %(n)s professionals. Transfer them to other units (or have their accounts deregistered) first."
    ),
    "subunits": _l("The organisation still has %(n)s subordinate units. They must be deregistered or moved first."),
    "no_reviewer": _l("No reviewing organisation was found (the organisation has no superior)."),
    "no_hr": _l("No HR bureau was found above your employer unit; the request cannot be routed."),
    "not_super": _l("Only the super administrator of the organisation may apply for its deregistration or merger."),
    "org_status": _l("Only an approved organisation may apply for deregistration or merger."),
    "merge_target": _l("Choose an approved organisation of the same type to merge into (not this organisation)."),
    "not_found": _l("The request was not found or is not addressed to your organisation."),
    "nothing_selected": _l("Select at least one request."),
    "own": _l(
        "You cannot review your own deregistration request or one you applied for. Another administrator "
        "of your organisation must review it."
    ),
}

PENDING_ITEM_LABELS = {
    "declarations": _l("hours declarations"),
    "transfers": _l("transfers"),
    "changes": _l("information changes"),
    "deregistrations": _l("deregistration requests"),
    "registrations": _l("registrations"),
}


class DeregistrationInvalid(Exception):
    """Validation failed; ``errors`` maps a field or rule name to a translatable message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(sorted(errors)))
        self.errors = errors


def _fmt(key: str, **params) -> str:
    """The message ``key`` translated now and filled with ``params``."""
    return str(E[key]) % params


def _text(value) -> str:
    return (value or "").strip()


def _check_reason(errors: dict, reason: str, field: str = "reason") -> str:
    reason = _text(reason)
    if not reason:
        errors[field] = E["required"]
    elif len(reason) > REASON_MAX:
        errors[field] = E["too_long"]
    return reason


def _count(stmt) -> int:
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar() or 0


def _items_text(counts: dict) -> str:
    return "、".join(f"{PENDING_ITEM_LABELS[k]} {n}" for k, n in counts.items() if n)


# ---------------------------------------------------------------- person


def person_pending_items(person_id: int) -> dict[str, int]:
    """Counts of a professional's items still under review (declarations, transfers, changes)."""
    return {
        "declarations": _count(
            select(Declaration.id).where(Declaration.professional_id == person_id, Declaration.state.in_(OPEN_STATES))
        ),
        "transfers": _count(
            select(Transfer.id).where(Transfer.professional_id == person_id, Transfer.state.in_(OPEN_STATES))
        ),
        "changes": _count(
            select(ChangeRequest.id).where(
                ChangeRequest.professional_id == person_id, ChangeRequest.state.in_(OPEN_STATES)
            )
        ),
    }


def open_person_request(person_id: int) -> Optional[Deregistration]:
    """The professional's deregistration request still under review, if any."""
    return (
        db.session.query(Deregistration)
        .filter(
            Deregistration.kind == PERSON_KIND,
            Deregistration.professional_id == person_id,
            Deregistration.state.in_(OPEN_STATES),
        )
        .first()
    )


def _acting_person(actor: Actor) -> Optional[Professional]:
    if actor is None or not actor.is_person or actor.person_id is None:
        return None
    person = db.session.get(Professional, actor.person_id)
    if person is None or person.user_id != actor.user_id or person.status != APPROVED:
        return None
    return person


def _person_blockers(person: Professional, exclude_id: Optional[int] = None) -> dict:
    errors = {}
    pending = person_pending_items(person.id)
    if any(pending.values()):
        errors["pending"] = _fmt("person_pending", items=_items_text(pending))
    open_req = open_person_request(person.id)
    if open_req is not None and open_req.id != exclude_id:
        errors["open_request"] = E["open_request"]
    return errors


def apply_person(actor: Actor, cause: str, reason: str) -> Deregistration:
    """A professional applies for the deregistration of the own account. Commits.

    Guarantees: the actor is an approved professional acting for itself; the cause is one of
    ``PERSON_CAUSES``; the reason is given; no other request of the person is open and the person has
    no declaration, transfer or change request under review; the request is routed employer → regional
    HR bureau and starts at the employer. Raises ``DeregistrationInvalid`` with nothing written.
    """
    errors: dict = {}
    person = _acting_person(actor)
    if person is None:
        raise DeregistrationInvalid({"actor": E["not_person"]})
    cause = _text(cause)
    if cause not in PERSON_CAUSES:
        errors["cause"] = E["choice"]
    text = _check_reason(errors, reason)
    errors.update(_person_blockers(person))
    if regional_hr(person.org) is None:
        errors["route"] = E["no_hr"]
    if errors:
        raise DeregistrationInvalid(errors)
    obj = Deregistration(
        kind=PERSON_KIND,
        professional_id=person.id,
        org_id=person.org_id,
        reason=f"{PERSON_CAUSES[cause]}：{text}",
    )
    try:
        submit(obj, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return obj


def person_requests(actor: Actor) -> list[Deregistration]:
    """The acting professional's own requests, newest first (empty for any other actor)."""
    if actor is None or not actor.is_person or actor.person_id is None:
        return []
    return (
        db.session.query(Deregistration)
        .filter(Deregistration.kind == PERSON_KIND, Deregistration.professional_id == actor.person_id)
        .order_by(Deregistration.id.desc())
        .all()
    )


# ---------------------------------------------------------------- organisation


def org_pending_items(org_id: int, exclude_id: Optional[int] = None) -> dict[str, int]:
    """Counts of items under review that involve organisation ``org_id``: registrations addressed to it
    (professionals and organisations), declarations of its people or handled or declared by it,
    transfers from or to it, change requests of it or handled by it, deregistration requests of its
    people or waiting for its review."""
    # The organisation's own request is not a pending item here (``org_blockers`` reports it once).
    dereg = select(Deregistration.id).where(
        Deregistration.state.in_(OPEN_STATES),
        or_(
            (Deregistration.org_id == org_id) & (Deregistration.kind == PERSON_KIND),
            Deregistration.handler_org_id == org_id,
        ),
    )
    if exclude_id is not None:
        dereg = dereg.where(Deregistration.id != exclude_id)
    return {
        "registrations": _count(
            select(Professional.id).where(Professional.org_id == org_id, Professional.status == PENDING)
        )
        + _count(select(Organization.id).where(Organization.parent_id == org_id, Organization.status == PENDING)),
        "declarations": _count(
            select(Declaration.id).where(
                Declaration.state.in_(OPEN_STATES),
                or_(
                    Declaration.org_id == org_id,
                    Declaration.handler_org_id == org_id,
                    Declaration.declared_by_org_id == org_id,
                ),
            )
        ),
        "transfers": _count(
            select(Transfer.id).where(
                Transfer.state.in_(OPEN_STATES), or_(Transfer.from_org_id == org_id, Transfer.to_org_id == org_id)
            )
        ),
        "changes": _count(
            select(ChangeRequest.id).where(
                ChangeRequest.state.in_(OPEN_STATES),
                or_(ChangeRequest.org_id == org_id, ChangeRequest.handler_org_id == org_id),
            )
        ),
        "deregistrations": _count(dereg),
    }


def org_blockers(org: Organization, exclude_id: Optional[int] = None) -> dict:
    """Why ``org`` cannot be deregistered now (rule name → message); empty when nothing blocks it.
    ``exclude_id``: the organisation's own request being decided."""
    errors = {}
    people = _count(
        select(Professional.id).where(Professional.org_id == org.id, Professional.status.notin_(GONE + (PENDING,)))
    )
    if people:
        errors["professionals"] = _fmt("professionals", n=people)
    subunits = _count(
        select(Organization.id).where(Organization.parent_id == org.id, Organization.status.notin_(GONE + (PENDING,)))
    )
    if subunits:
        errors["subunits"] = _fmt("subunits", n=subunits)
    own_open = db.session.execute(
        select(Deregistration.id).where(
            Deregistration.kind == ORG_KIND,
            Deregistration.org_id == org.id,
            Deregistration.state.in_(OPEN_STATES),
            Deregistration.id != (exclude_id or 0),
        )
    ).first()
    if own_open is not None:
        errors["open_request"] = E["org_open_request"]
    pending = org_pending_items(org.id, exclude_id=exclude_id)
    if any(pending.values()):
        errors["pending"] = _fmt("org_pending", items=_items_text(pending))
    return errors


def merge_targets(actor: Actor, q: str = "", page: int = 1) -> dict:
    """Organisations the actor's organisation may merge into: approved, of the same kind, not itself
    and not below it; searched by name or credit code, ``PAGE_SIZE`` a page (for the picker)."""
    org = db.session.get(Organization, actor.org_id) if actor and actor.org_id and not actor.is_person else None
    if org is None:
        return {"items": [], "page": 1, "has_more": False}
    query = db.session.query(Organization.id, Organization.name, Organization.credit_code).filter(
        Organization.status == APPROVED,
        Organization.kind == org.kind,
        Organization.id != org.id,
        ~Organization.path.startswith(org.path, autoescape=True),
    )
    q = _text(q)[:50]
    if q:
        query = query.filter(
            or_(Organization.name.like(like_contains(q), escape="\\"), Organization.credit_code == q.upper())
        )
    page = max(int(page or 1), 1)
    rows = query.order_by(Organization.name, Organization.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1).all()
    return {
        "items": [{"id": r.id, "name": r.name, "credit_code": r.credit_code or ""} for r in rows[:PAGE_SIZE]],
        "page": page,
        "has_more": len(rows) > PAGE_SIZE,
    }


def _check_merge_target(org: Organization, target_id) -> Optional[Organization]:
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        return None
    target = db.session.get(Organization, target_id)
    if (
        target is None
        or target.id == org.id
        or target.status != APPROVED
        or target.kind != org.kind
        or (target.path or "").startswith(org.path or "\0")
    ):
        return None
    return target


def apply_org(actor: Actor, request_kind: str, reason: str, merge_into_id=None, proof=None) -> Deregistration:
    """The super admin of the actor's organisation applies for its deregistration or merger. Commits.

    Guarantees: the actor is the super admin of an approved organisation that has a superior; the kind
    is deregister or merge (merge: the target is another approved organisation of the same kind, not
    below this one); the reason is given; the proof file is a valid image (checked by content,
    re-encoded); the organisation has no professionals, no sub-units, no item under review and no open
    request. Raises ``DeregistrationInvalid`` with nothing written (the stored proof file is removed
    again if the transaction fails).
    """
    if actor is None or actor.is_person or actor.org_id is None:
        raise DeregistrationInvalid({"actor": E["not_super"]})
    org = db.session.get(Organization, actor.org_id)
    if org is None or not is_super_admin(actor, org.id):
        raise DeregistrationInvalid({"actor": E["not_super"]})
    errors: dict = {}
    if org.status != APPROVED:
        errors["actor"] = E["org_status"]
    request_kind = _text(request_kind)
    target = None
    if request_kind not in ORG_REQUESTS:
        errors["request_kind"] = E["choice"]
    elif request_kind == "merge":
        target = _check_merge_target(org, merge_into_id)
        if target is None:
            errors["merge_into"] = E["merge_target"]
    text = _check_reason(errors, reason)
    image = None
    try:
        image = check_image(proof)
    except UploadInvalid as e:
        errors["proof_file"] = str(e)
    if org.parent_id is None:
        errors["route"] = E["no_reviewer"]
    errors.update(org_blockers(org))
    if errors:
        raise DeregistrationInvalid(errors)
    stored = store_image(image, "dereg_proof")
    obj = Deregistration(
        kind=ORG_KIND,
        org_id=org.id,
        merge_into_org_id=target.id if target else None,
        reason=text,
        proof_file=stored,
    )
    try:
        submit(obj, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        delete_upload(stored)
        raise
    return obj


def org_requests(actor: Actor) -> list[Deregistration]:
    """The requests of the actor's own organisation, newest first."""
    if actor is None or actor.is_person or actor.org_id is None:
        return []
    return (
        db.session.query(Deregistration)
        .filter(Deregistration.kind == ORG_KIND, Deregistration.org_id == actor.org_id)
        .order_by(Deregistration.id.desc())
        .all()
    )


# ---------------------------------------------------------------- review


def inbox_query(actor: Actor, q: str = ""):
    """Query of the requests waiting for the actor's organisation (state pending, handler = its org),
    within its scope; optionally searched by the person's or organisation's name."""
    if actor is None or actor.is_person or actor.org_id is None:
        return db.session.query(Deregistration).filter(False)
    query = db.session.query(Deregistration).filter(
        Deregistration.state == PENDING,
        Deregistration.handler_org_id == actor.org_id,
        scope_clause(Deregistration, actor),
    )
    q = _text(q)[:50]
    if q:
        pattern = like_contains(q)
        query = query.filter(
            or_(
                Deregistration.professional_id.in_(
                    select(Professional.id).where(Professional.name.like(pattern, escape="\\"))
                ),
                Deregistration.org_id.in_(select(Organization.id).where(Organization.name.like(pattern, escape="\\"))),
            )
        )
    return query.order_by(Deregistration.id)


def handled_query(actor: Actor):
    """Query of the requests the actor's organisation reviewed (an audit row by its org), newest first."""
    if actor is None or actor.is_person or actor.org_id is None:
        return db.session.query(Deregistration).filter(False)
    reviewed = select(AuditLog.object_id).where(
        AuditLog.object_type == "deregistration",
        AuditLog.actor_org_id == actor.org_id,
        AuditLog.trigger.in_(("approve", "reject")),
    )
    return (
        db.session.query(Deregistration)
        .filter(Deregistration.id.in_(reviewed), scope_clause(Deregistration, actor))
        .order_by(Deregistration.id.desc())
    )


def visible_request(actor: Actor, pk) -> Optional[Deregistration]:
    """The request ``pk`` if the actor may see it: its own (professional or organisation), or in scope."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    obj = db.session.get(Deregistration, pk)
    if obj is None or actor is None:
        return None
    if actor.is_person:
        return obj if obj.kind == PERSON_KIND and obj.professional_id == actor.person_id else None
    if obj.org_id == actor.org_id:
        return obj
    found = db.session.execute(
        select(Deregistration.id).where(Deregistration.id == pk, scope_clause(Deregistration, actor))
    ).first()
    return obj if found else None


def history(obj: Deregistration) -> list[AuditLog]:
    """The audit rows of one request, oldest first."""
    return (
        db.session.query(AuditLog)
        .filter(AuditLog.object_type == "deregistration", AuditLog.object_id == obj.id)
        .order_by(AuditLog.id)
        .all()
    )


def _addressed(actor: Actor, ids: Iterable, lock: bool = False) -> list[Deregistration]:
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise DeregistrationInvalid({"ids": E["not_found"]}) from None
    if not wanted:
        raise DeregistrationInvalid({"ids": E["nothing_selected"]})
    query = inbox_query(actor).filter(Deregistration.id.in_(wanted))
    if lock:
        write_lock()
        query = query.with_for_update(of=Deregistration).populate_existing()
    found = query.all()
    if len(found) != len(wanted):
        raise DeregistrationInvalid({"ids": E["not_found"]})
    return found


def _final_blockers(obj: Deregistration) -> dict:
    """Re-check at the final approval what may have appeared while the request was under review."""
    steps = route(obj)
    if not steps or obj.handler_org_id != steps[-1]:
        return {}
    if obj.kind == PERSON_KIND:
        person = obj.professional
        return _person_blockers(person, exclude_id=obj.id) if person is not None else {}
    return org_blockers(obj.org, exclude_id=obj.id)


def own_ids(actor: Actor, rows: list[Deregistration]) -> set[int]:
    """Which of ``rows`` are the actor's own: a person request of its user's professional profile, or
    an organisation request its user applied for (the "apply" audit row). Two queries at most."""
    if actor is None or actor.user_id is None or not rows:
        return set()
    out: set[int] = set()
    person_rows = [r for r in rows if r.kind == PERSON_KIND]
    if person_rows:
        mine = db.session.scalar(select(Professional.id).where(Professional.user_id == actor.user_id))
        out |= {r.id for r in person_rows if mine is not None and r.professional_id == mine}
    org_ids = [r.id for r in rows if r.kind == ORG_KIND]
    if org_ids:
        out |= set(db.session.scalars(select(AuditLog.object_id).where(
            AuditLog.object_type == "deregistration", AuditLog.trigger == "apply",
            AuditLog.object_id.in_(org_ids), AuditLog.actor_user_id == actor.user_id,
        )))
    return out


def skipped_message(n: int) -> str:
    """The translated note of a bulk review that left out ``n`` of the reviewer's own requests."""
    return _(
        "%(n)d of the selected requests are your own and were skipped: another administrator of your "
        "organisation must review them.",
        n=n,
    )


def review(actor: Actor, ids: Iterable, trigger: str, reason: Optional[str] = None) -> Reviewed:
    """Approve or reject one or several requests waiting for the actor's organisation. Commits.

    Guarantees: every id is pending with ``handler_org_id`` = the actor's organisation and in its scope
    once the rows are locked (PostgreSQL: ``FOR UPDATE``; SQLite: the write lock taken before
    reading), otherwise nothing changes (``DeregistrationInvalid``); a rejection needs a reason; a
    final approval is refused while the person or organisation still has items under review (or, for
    an organisation, professionals or sub-units); the reviewer's own requests (``own_ids``) are never
    decided: they are left out and listed in ``skipped_own`` (refused when nothing else is left); all
    requests are decided in one transaction. Returns a ``Reviewed`` list.
    """
    if trigger not in ("approve", "reject"):
        raise ValueError(trigger)
    rows = _addressed(actor, ids, lock=True)
    skipped = own_ids(actor, rows)
    if skipped and len(skipped) == len(rows):
        raise DeregistrationInvalid({"ids": E["own"]})
    rows = [r for r in rows if r.id not in skipped]
    errors: dict = {}
    reason = _text(reason)
    if trigger == "reject" and not reason:
        errors["reason"] = _l("Please give a reason for the rejection.")
    elif len(reason) > REASON_MAX:
        errors["reason"] = E["too_long"]
    if trigger == "approve":
        for obj in rows:
            for key, message in _final_blockers(obj).items():
                errors[f"{key}:{obj.id}"] = _(
                    "Request %(id)s (%(name)s): %(message)s", id=obj.id, name=subject_name(obj), message=str(message)
                )
    if errors:
        raise DeregistrationInvalid(errors)
    try:
        for obj in rows:
            fire(obj, trigger, actor=actor, reason=reason or None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Reviewed(rows, sorted(skipped))


def withdraw(actor: Actor, pk) -> Deregistration:
    """The applicant withdraws its own request (a person only while it is at the employer). Commits.
    Raises ``DeregistrationInvalid`` when the request is not the actor's own, ``DeregistrationError``
    when the workflow refuses it; nothing changes then."""
    obj = visible_request(actor, pk)
    if obj is None:
        raise DeregistrationInvalid({"ids": E["not_found"]})
    try:
        fire(obj, "withdraw", actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return obj


# ---------------------------------------------------------------- display helpers


def subject_name(obj: Deregistration) -> str:
    """The person's or the organisation's name."""
    if obj.kind == PERSON_KIND:
        return obj.professional.name if obj.professional else ""
    return obj.org.name if obj.org else ""


def stage(obj: Deregistration) -> str:
    """A short, translated description of where the request stands."""
    if obj.state == PENDING:
        steps = route(obj)
        handler = obj.handler_org.name if obj.handler_org else ""
        if obj.kind == PERSON_KIND and steps and obj.handler_org_id == steps[0]:
            return _("Employer review: %(org)s", org=handler)
        if obj.kind == PERSON_KIND:
            return _("HR bureau review: %(org)s", org=handler)
        return _("Superior review: %(org)s", org=handler)
    from ..workflows.deregistration import STATE_LABELS

    return str(STATE_LABELS.get(obj.state, obj.state))


__all__ = [
    "DeregistrationError",
    "DeregistrationInvalid",
    "PERSON_CAUSES",
    "ORG_REQUESTS",
    "apply_person",
    "apply_org",
    "review",
    "withdraw",
]
