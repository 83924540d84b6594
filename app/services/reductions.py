"""Reduced requirement (学时折算, 证书管理办法 第八条): request, submit, revoke, delete, review.

A professional asks for one year's minimums to be prorated by the months on duty (abroad or sick leave
over six months, maternity leave, another reason approved by the competent department). The request
is reviewed along the person's declaration chain (``workflows.reduction``); once finally approved,
``services.requirements.requirement_for`` prorates the year by itself.

Every command takes the actor explicitly, validates everything first (one message per field in
``ReductionInvalid.errors``), then writes in one transaction and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AuditLog, Professional, RequirementReduction
from ..workflows.base import Reviewed, own_person_id, write_lock
from ..workflows.reduction import (
    APPROVED,
    DRAFT,
    PENDING,
    ReductionError,
    check_review_input,
    fire,
)
from ..workflows.reduction import history as _history
from . import declarations as _declarations
from .declarations import _acting_person, _check_evidence, _clean_ids, _files
from .routing import NoRoute, route_for
from .scope import Actor, scope_clause
from .uploads import delete_upload, store_image

REASONS = {
    "abroad": _l("Abroad more than 6 months"),
    "sick_leave": _l("Sick leave more than 6 months"),
    "maternity": _l("Maternity leave"),
    "other": _l("Other reason approved by the competent department"),
}
MAX_EVIDENCE = _declarations.MAX_EVIDENCE  # the same five images as a declaration
REMARK_MAX = 1000
MONTHS_MAX = 11
PAGE_SIZE = 20
UPLOAD_CATEGORY = "reduction_evidence"

E = {
    "required": _l("This field is required."),
    "choice": _l("Choose a value from the list."),
    "not_person": _l("Only an approved professional may request a reduced requirement."),
    "not_found": _l("The request was not found or is not yours."),
    "not_draft": _l("Only a draft can be edited, submitted or deleted."),
    "year": _l("Choose a year you may declare hours for."),
    "months": _l("Enter the months on duty: a whole number from 0 to 11."),
    "remark": _l("The remark may have at most 1000 characters."),
    "remark_other": _l("Describe the reason and the approval of the competent department."),
    "evidence_max": _l("At most %(n)d evidence files can be attached to a request."),
    "evidence_file": _l("%(name)s: %(message)s"),
    "evidence_required": _l("Upload at least one evidence file before submitting."),
    "duplicate": _l(
        "A reduced-requirement request for %(year)s is already pending or approved; "
        "only one is possible per year."
    ),
    "route": _l("No HR bureau was found above the organisation; the declaration cannot be routed."),
    "nothing_selected": _l("Select at least one request."),
    "not_pending": _l(
        "%(n)d of the selected requests are not pending review by your organisation "
        "(already reviewed, revoked or addressed to another organisation). Nothing was changed."
    ),
    "trigger": _l("Unknown review action."),
    "own": _l(
        "You cannot review your own reduced-requirement request. Another administrator of your organisation "
        "or the superior organisation must review it."
    ),
}


class ReductionInvalid(Exception):
    """Validation failed; ``errors`` maps a field or rule to a translated message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(sorted(errors)))
        self.errors = {k: str(v) for k, v in errors.items()}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


def reason_label(code) -> str:
    """The translated label of a reason code (the code itself when unknown)."""
    label = REASONS.get(code)
    return str(label) if label is not None else (code or "")


# ---------------------------------------------------------------- checks


def _validate(values: dict, person: Professional, errors: dict) -> dict:
    clean: dict = {}
    try:
        year = int(_text(values.get("year")))
    except ValueError:
        year = None
    if year is None or year not in _declarations.open_years(person):
        errors["year"] = E["year"]
    clean["year"] = year
    reason = _text(values.get("reason"))
    if reason not in REASONS:
        errors["reason"] = E["choice"]
    clean["reason"] = reason
    raw = _text(values.get("months_on_duty"))
    months = int(raw) if raw.isdigit() else None
    if months is None or months > MONTHS_MAX:
        errors["months_on_duty"] = E["months"]
    clean["months_on_duty"] = months
    remark = _text(values.get("remark"))
    if len(remark) > REMARK_MAX:
        errors["remark"] = E["remark"]
    elif reason == "other" and not remark:
        errors["remark"] = E["remark_other"]
    clean["remark"] = remark or None
    return clean


def _duplicate(person_id: int, year, exclude_id: Optional[int] = None) -> bool:
    """True when the person already has a pending or approved request for ``year``."""
    if year is None:
        return False
    stmt = select(RequirementReduction.id).where(
        RequirementReduction.professional_id == person_id,
        RequirementReduction.year == year,
        RequirementReduction.state.in_((PENDING, APPROVED)),
    )
    if exclude_id is not None:
        stmt = stmt.where(RequirementReduction.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _lock_person(person_id: int) -> None:
    """Serialise the duplicate check per person (``SELECT … FOR UPDATE``; a no-op on SQLite)."""
    db.session.execute(select(Professional.id).where(Professional.id == person_id).with_for_update())


def _own(actor: Actor, pk) -> RequirementReduction:
    """The actor's own request, else ``ReductionInvalid``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ReductionInvalid({"reduction": E["not_found"]}) from None
    obj = db.session.get(RequirementReduction, pk)
    if (
        obj is None
        or actor is None
        or not actor.is_person
        or actor.person_id is None
        or obj.professional_id != actor.person_id
    ):
        raise ReductionInvalid({"reduction": E["not_found"]})
    return obj


# ---------------------------------------------------------------- the professional's commands


def request_reduction(
    actor: Actor,
    values: dict,
    files: list,
    submit: bool = False,
    reduction_id: Optional[int] = None,
) -> RequirementReduction:
    """Create (or, with ``reduction_id``, edit the own draft) a reduced-requirement request of the
    acting professional; with ``submit`` also submit it. Commits and returns it.

    Guarantees: the actor is an approved professional acting for itself; the year is one it may declare
    for (``services.declarations.open_years``); the reason is one of ``REASONS``; months on duty is a
    whole number 0–11; the remark has at most 1000 characters (and is required for the reason
    "other"); every new evidence file is a valid image, at most 5 in all, at least one on submit; no
    other pending or approved request exists for the person and year; submitting needs a route.
    Raises ``ReductionInvalid`` (or ``ReductionError``) with nothing written and no file left.
    """
    person = _acting_person(actor)
    if person is None:
        raise ReductionInvalid({"actor": E["not_person"]})
    obj = None
    existing = 0
    if reduction_id is not None:
        obj = _own(actor, reduction_id)
        if obj.state != DRAFT:
            raise ReductionInvalid({"reduction": E["not_draft"]})
        existing = len(obj.evidence or [])
    errors: dict = {}
    clean = _validate(values or {}, person, errors)
    files = _files(files)
    checked = _check_evidence(files, existing, errors, too_many=E["evidence_max"])
    if submit and "evidence" not in errors and existing + len(files) == 0:
        errors["evidence"] = E["evidence_required"]
    if "year" not in errors:
        _lock_person(person.id)
        if _duplicate(person.id, clean["year"], obj.id if obj is not None else None):
            errors["year"] = str(E["duplicate"]) % {"year": clean["year"]}
    route = None
    if submit and not errors:
        try:
            route = route_for(person)
        except NoRoute:
            errors["route"] = E["route"]
    if errors:
        db.session.rollback()
        raise ReductionInvalid(errors)
    if obj is not None and checked:
        # Parallel uploads to one draft: lock it (SQLite: the write lock; PostgreSQL: the row) and count
        # its files again from the database, so they are added one after the other within the limit.
        write_lock()
        locked = _lock([obj.id])
        if not locked or locked[0].state != DRAFT:
            db.session.rollback()
            raise ReductionInvalid({"reduction": E["not_draft"]})
        obj = locked[0]
        if len(obj.evidence or []) + len(checked) > MAX_EVIDENCE:
            db.session.rollback()
            raise ReductionInvalid({"evidence": str(E["evidence_max"]) % {"n": MAX_EVIDENCE}})
    stored: list[str] = []
    try:
        if obj is None:
            obj = RequirementReduction(
                professional_id=person.id, org_id=person.org_id, state=DRAFT, route=[], step=0, evidence=[],
            )
            db.session.add(obj)
        else:
            obj.org_id = person.org_id
        for key in ("year", "reason", "months_on_duty", "remark"):
            setattr(obj, key, clean[key])
        evidence = list(obj.evidence or [])
        for image, name in checked:
            rel = store_image(image, UPLOAD_CATEGORY)
            stored.append(rel)
            evidence.append({"filename": name, "stored_path": rel, "content_type": image.mimetype,
                             "size": len(image.data)})
        obj.evidence = evidence  # a new list: the JSON column sees the change
        db.session.flush()
        if submit:
            fire(obj, "submit", actor=actor, route=route)
        db.session.commit()
    except Exception:
        db.session.rollback()
        for rel in stored:
            delete_upload(rel)
        raise
    return obj


def submit(actor: Actor, pk) -> RequirementReduction:
    """Submit the acting professional's own draft. Commits.

    Guarantees: the draft's year is still open for the person, it has at least one evidence file and
    no other pending or approved request exists for the year; the route is the person's declaration
    route. Raises ``ReductionInvalid`` / ``ReductionError`` with nothing changed.
    """
    obj = _own(actor, pk)
    if obj.state != DRAFT:
        raise ReductionInvalid({"reduction": E["not_draft"]})
    person = _acting_person(actor)
    if person is None:
        raise ReductionInvalid({"actor": E["not_person"]})
    errors: dict = {}
    if obj.year not in _declarations.open_years(person):
        errors["year"] = E["year"]
    if not obj.evidence:
        errors["evidence"] = E["evidence_required"]
    if not errors:
        _lock_person(person.id)
        if _duplicate(person.id, obj.year, obj.id):
            errors["year"] = str(E["duplicate"]) % {"year": obj.year}
    if errors:
        db.session.rollback()
        raise ReductionInvalid(errors)
    try:
        obj.org_id = person.org_id
        fire(obj, "submit", actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return obj


def revoke(actor: Actor, pk) -> RequirementReduction:
    """The professional revokes (撤销) an own pending request nobody has reviewed yet: back to draft.
    Commits. Raises ``ReductionInvalid`` (not the actor's own) or ``ReductionError`` (already reviewed
    or not pending); nothing changes then."""
    obj = _own(actor, pk)
    write_lock()
    locked = _lock([obj.id])
    obj = locked[0] if locked else obj
    try:
        fire(obj, "revoke", actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return obj


def delete_draft(actor: Actor, pk) -> None:
    """Delete the acting professional's own draft and its stored evidence files. Commits; the files
    are removed after the commit. Raises ``ReductionInvalid`` (not its own draft); nothing changes then."""
    obj = _own(actor, pk)
    if obj.state != DRAFT:
        raise ReductionInvalid({"reduction": E["not_draft"]})
    paths = [e.get("stored_path") for e in (obj.evidence or [])]
    try:
        db.session.delete(obj)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for rel in paths:
        delete_upload(rel)


# ---------------------------------------------------------------- review


def _lock(ids: list[int]) -> list[RequirementReduction]:
    """The requests ``ids`` locked (``SELECT … FOR UPDATE``; no-op on SQLite), refreshed, in id order."""
    ids = sorted(i for i in ids if i > 0)
    if not ids:
        return []
    stmt = (
        select(RequirementReduction)
        .where(RequirementReduction.id.in_(ids))
        .order_by(RequirementReduction.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(stmt))


def review(actor: Actor, ids: list, action: str, comment: str = "") -> Reviewed:
    """Approve or reject the requests ``ids`` waiting for the actor's organisation, all or none.
    Commits once; returns them in the order of ``ids`` (a ``Reviewed`` list).

    Guarantees: the action is approve/reject; a rejection has a comment; the comment has at most 1000
    characters; every id is pending with ``handler_org_id`` = the actor's organisation after the rows
    are locked (PostgreSQL: ``FOR UPDATE``; SQLite: the write lock taken before reading), so two
    reviewers acting at once cannot both move the same request. Requests of the reviewer's own person
    are never decided: they are left out and listed in ``skipped_own`` (refused when nothing else is
    left). Any failure raises ``ReductionInvalid`` and changes nothing. A non-final approval forwards
    each request to the next reviewer on its route; the final one approves it (the year's requirement
    is then prorated).
    """
    if action not in ("approve", "reject"):
        raise ReductionInvalid({"trigger": E["trigger"]})
    pks = _clean_ids(ids)
    if not pks:
        raise ReductionInvalid({"ids": E["nothing_selected"]})
    try:
        check_review_input(action, comment)
    except ReductionError as exc:
        raise ReductionInvalid({"comment": exc.message}) from None
    if actor is None or actor.is_person or actor.org_id is None:
        raise ReductionInvalid({"ids": str(E["not_pending"]) % {"n": len(pks)}})
    write_lock()
    rows = _lock(pks)
    fit = [r for r in rows if r.state == PENDING and r.handler_org_id == actor.org_id]
    if len(fit) != len(pks):
        db.session.rollback()
        raise ReductionInvalid({"ids": str(E["not_pending"]) % {"n": len(pks) - len(fit)}})
    own = own_person_id(actor)
    skipped = [r.id for r in fit if own is not None and r.professional_id == own]
    if skipped and len(skipped) == len(fit):
        db.session.rollback()
        raise ReductionInvalid({"ids": E["own"]})
    by_id = {r.id: r for r in fit}
    ordered = [by_id[p] for p in pks if p not in skipped]
    audit_rows: list[dict] = []
    try:
        for obj in ordered:
            fire(obj, action, actor=actor, comment=comment, audit_rows=audit_rows, own_person=own)
        db.session.flush()
        if audit_rows:
            db.session.execute(insert(AuditLog), audit_rows)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Reviewed(ordered, skipped)


# ---------------------------------------------------------------- reading


@dataclass
class Page:
    """One page of a list: the rows, the total count, the page index (from 0) and the page count."""

    rows: list
    count: int
    page: int
    pages: int


def inbox_query(actor: Actor, year: Optional[int] = None):
    """SELECT of the requests pending review by the actor's organisation (``year`` when given);
    nothing for a professional or an actor without organisation."""
    stmt = select(RequirementReduction)
    if actor is None or actor.is_person or actor.org_id is None:
        return stmt.where(RequirementReduction.id.is_(None))
    stmt = stmt.where(RequirementReduction.state == PENDING, RequirementReduction.handler_org_id == actor.org_id)
    if year is not None:
        stmt = stmt.where(RequirementReduction.year == year)
    return stmt


def inbox(actor: Actor, year: Optional[int] = None, page: int = 0, page_size: int = PAGE_SIZE) -> Page:
    """The review inbox of the actor's organisation: pending requests it handles now, in ``year``,
    oldest submission first, ``page_size`` per page (the page index is clamped to the existing ones)."""
    stmt = inbox_query(actor, year)
    count = db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(RequirementReduction.id).subquery()))
    pages = max((count + page_size - 1) // page_size, 1)
    page = min(max(int(page or 0), 0), pages - 1)
    rows = list(db.session.scalars(
        stmt.options(selectinload(RequirementReduction.professional), selectinload(RequirementReduction.org))
        .order_by(RequirementReduction.submitted_at, RequirementReduction.id)
        .limit(page_size)
        .offset(page * page_size)
    ))
    return Page(rows, count, page, pages)


def mine(actor: Actor) -> list[RequirementReduction]:
    """The acting professional's own requests, newest first (empty for anyone else)."""
    if actor is None or not actor.is_person or actor.person_id is None:
        return []
    return list(db.session.scalars(
        select(RequirementReduction)
        .where(RequirementReduction.professional_id == actor.person_id)
        .options(selectinload(RequirementReduction.handler_org))
        .order_by(RequirementReduction.year.desc(), RequirementReduction.id.desc())
    ))


def visible_reduction(actor: Actor, pk) -> Optional[RequirementReduction]:
    """The request ``pk`` if ``actor`` may see it: the professional's own; one whose employer lies in
    the actor organisation's subtree; one whose route names the actor's organisation (it reviews or
    reviewed it). None otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    obj = db.session.get(RequirementReduction, pk)
    if obj is None or actor is None:
        return None
    if actor.is_person:
        return obj if obj.professional_id == actor.person_id else None
    if actor.org_id is not None and (actor.org_id in (obj.handler_org_id, obj.org_id) or actor.org_id in (obj.route or [])):
        return obj
    found = db.session.execute(
        select(RequirementReduction.id).where(RequirementReduction.id == pk, scope_clause(RequirementReduction, actor))
    ).first()
    return obj if found else None


def history(obj: RequirementReduction) -> list[AuditLog]:
    """The audit rows of one request, oldest first (submit, approvals, rejection, revocations)."""
    return _history(obj)


def skipped_message(n: int) -> str:
    """The translated note of a bulk review that left out ``n`` requests of the reviewer's own person."""
    return _(
        "%(n)d of the selected requests are your own and were skipped: another administrator of your "
        "organisation or the superior organisation must review them.",
        n=n,
    )


def review_message(n: int, action: str) -> str:
    """The translated confirmation of a done bulk review."""
    if action == "approve":
        return _("%(n)d reduced-requirement requests approved.", n=n)
    return _("%(n)d reduced-requirement requests rejected.", n=n)


__all__ = [
    "REASONS",
    "ReductionError",
    "ReductionInvalid",
    "delete_draft",
    "history",
    "inbox",
    "inbox_query",
    "mine",
    "reason_label",
    "request_reduction",
    "review",
    "revoke",
    "submit",
    "visible_reduction",
]
