"""Hours declarations (学时申报): save and submit, declare for people, review in bulk, the hours ledger.

Every command takes the actor explicitly, validates everything first (collecting one message per
field into ``DeclarationInvalid.errors``), then writes in one transaction and commits. State changes go
through ``app.workflows.declaration`` (which writes the audit rows and posts the ledger).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ..capacities import CE_BASE, COMPETENT, EMPLOYER
from ..extensions import db
from ..models import (
    Attachment,
    AuditLog,
    Declaration,
    HoursLedger,
    Organization,
    Professional,
    TraineeResult,
    TrainingClass,
)
from ..models.common import APPROVED
from ..models.learning import PROFESSIONAL, PUBLIC, SUBJECT_TYPES
from ..plugins import HoursContext, get_learning_form
from ..workflows.base import Reviewed, own_person_id, write_lock
from ..workflows.declaration import (
    DRAFT,
    MAX_HOURS,
    PENDING,
    DeclarationError,
    check_review_input,
    fire,
    post_hours,
)
from ..workflows.declaration import history as _history
from .requirements import requirement_for
from .routing import NoRoute, route_for
from .scope import Actor, scope_clause
from .uploads import UploadInvalid, check_image, delete_upload, store_image

MAX_EVIDENCE = 5
REMARK_MAX = 1000
RESULT_MAX = 64
# Capacities that may declare hours for their people (单位/主管部门/继续教育基地 学时学分申报).
DECLARING_CAPACITIES = (EMPLOYER, COMPETENT, CE_BASE)
# Rows locked and loaded per query when reviewing many declarations.
CHUNK = 2000

E = {
    "required": _l("This field is required."),
    "too_long": _l("This value is too long."),
    "choice": _l("Choose a value from the list."),
    "not_person": _l("Only an approved professional may declare hours."),
    "not_found": _l("The declaration was not found or is not yours."),
    "not_draft": _l("Only a draft can be edited or deleted."),
    "form": _l("Choose an available learning form."),
    "subject_form": _l("This learning form cannot be declared for the chosen subject type."),
    "year": _l("Only the current year can be declared."),
    "date": _l("Enter a date as YYYY-MM-DD."),
    "date_order": _l("The start date must not be after the end date."),
    "remark": _l("The remark may have at most 1000 characters."),
    "result": _l("The result may have at most 64 characters."),
    "hours": _l("Enter the requested hours: a number greater than 0 and at most 999.9, with one decimal place."),
    "evidence_max": _l("At most %(n)d evidence files can be attached to a declaration."),
    "evidence_file": _l("%(name)s: %(message)s"),
    "evidence_required": _l("Upload at least one evidence file before submitting."),
    "not_declaring_org": _l("Only an employer unit, a competent department or a CE base may declare hours for its people."),
    "people_required": _l("Select at least one professional."),
    "people_scope": _l("%(n)d of the selected professionals are not approved professionals of your organisation."),
    "people_mix": _l(
        "Accountants and other professionals cannot be declared together (accountants' hours go to public "
        "subjects and skip the competent department). Declare them separately."
    ),
    "route": _l("No HR bureau was found above the organisation; the declaration cannot be routed."),
    "nothing_selected": _l("Select at least one declaration."),
    "not_pending": _l(
        "%(n)d of the selected declarations are not pending review by your organisation "
        "(already reviewed, revoked or addressed to another organisation). Nothing was changed."
    ),
    "trigger": _l("Unknown review action."),
    "review_hours": _l("Declaration %(id)s: %(message)s"),
    "own": _l(
        "You cannot review your own declaration. Another administrator of your organisation or the "
        "superior organisation must review it."
    ),
    "already_counted": _l(
        "Some of the selected declarations were approved at the same time by someone else and their hours "
        "are already counted. Nothing was changed; please reload the list."
    ),
}


class DeclarationInvalid(Exception):
    """Validation failed; ``errors`` maps a field (plugin fields by their own name) or rule to a
    translated message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(sorted(errors)))
        self.errors = {k: str(v) for k, v in errors.items()}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


# ---------------------------------------------------------------- context and rules


def open_years(professional: Professional) -> set[int]:
    """The years ``professional`` may declare hours for now: the current year and the past years an HR
    bureau opened for this person (``services.declaration_windows``), while their window lasts."""
    from .declaration_windows import open_window_years

    return {dt.date.today().year} | open_window_years(professional.id)


def hours_context(professional: Professional, year: int) -> HoursContext:
    """The ``HoursContext`` of ``professional`` in ``year``: the minimums of
    ``services.requirements.requirement_for`` (prorated when a reduced requirement was approved)."""
    req = requirement_for(professional, year)
    return HoursContext(year, req.public_min, req.professional_min, req.total_min)


def _date(value, field: str, errors: dict) -> Optional[dt.date]:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        errors[field] = E["required"]
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        errors[field] = E["date"]
        return None


def _client_hours(value) -> Optional[Decimal]:
    try:
        hours = Decimal(_text(value))
    except (InvalidOperation, ValueError):
        return None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS or hours != hours.quantize(Decimal("0.1")):
        return None
    return hours.quantize(Decimal("0.1"))


def _validate(values: dict, professional: Professional, errors: dict) -> dict:
    """Check the common fields and the plugin form's data for ``professional``; returns the clean values
    (subject_type, form_code, year, start_date, end_date, result, requested_hours, remark, data)."""
    clean: dict = {}
    subject = _text(values.get("subject_type"))
    if professional.is_accountant:
        subject = PUBLIC  # 会计: hours go to public subjects
    elif subject not in SUBJECT_TYPES:
        errors["subject_type"] = E["choice"]
    clean["subject_type"] = subject
    code = _text(values.get("form_code"))
    form = get_learning_form(code, enabled_only=True) if code else None
    if form is None:
        errors["form_code"] = E["form"]
    elif not professional.is_accountant and subject in SUBJECT_TYPES and subject not in form.subject_types:
        errors["subject_type"] = E["subject_form"]
    clean["form_code"] = code
    try:
        year = int(_text(values.get("year")))
    except ValueError:
        year = None
    if year is None or year not in open_years(professional):
        errors["year"] = E["year"]
    clean["year"] = year
    start = _date(values.get("start_date"), "start_date", errors)
    end = _date(values.get("end_date"), "end_date", errors)
    if start and end and start > end:
        errors["end_date"] = E["date_order"]
    clean["start_date"], clean["end_date"] = start, end
    result = _text(values.get("result"))
    if len(result) > RESULT_MAX:
        errors["result"] = E["result"]
    clean["result"] = result or None
    remark = _text(values.get("remark"))
    if len(remark) > REMARK_MAX:
        errors["remark"] = E["remark"]
    clean["remark"] = remark or None
    data, standard = {}, None
    if form is not None:
        data, form_errors = form.validate(values.get("data") or {})
        for name, messages in form_errors.items():
            errors.setdefault(name, "；".join(messages))
        if not form_errors and year is not None:
            standard = form.standard_hours(data, hours_context(professional, year))
    clean["data"] = data
    if standard is not None:
        clean["requested_hours"] = standard  # the plugin's standard; the client's value is ignored
    else:
        hours = _client_hours(values.get("requested_hours"))
        if hours is None and form is not None and "requested_hours" not in errors:
            errors["requested_hours"] = E["hours"]
        clean["requested_hours"] = hours
    return clean


def _files(evidence) -> list:
    """The chosen files of ``evidence`` (empty file inputs dropped)."""
    return [f for f in (evidence or []) if f is not None and getattr(f, "filename", "")]


def _check_evidence(files: list, existing: int, errors: dict, too_many=None) -> list:
    """Check every file by content (nothing written); returns ``(checked image, display name)`` pairs.
    More than ``MAX_EVIDENCE`` files in all puts ``too_many`` (default: the declaration's message)."""
    if existing + len(files) > MAX_EVIDENCE:
        errors["evidence"] = str(too_many or E["evidence_max"]) % {"n": MAX_EVIDENCE}
        return []
    checked, problems = [], []
    for storage in files:
        name = _display_name(storage.filename)
        try:
            checked.append((check_image(storage), name))
        except UploadInvalid as exc:
            problems.append(str(E["evidence_file"]) % {"name": name, "message": str(exc)})
    if problems:
        errors["evidence"] = "；".join(problems)
    return checked


def _display_name(filename: str) -> str:
    """The original file name for display: last path part, no control characters, ≤ 255 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:255] or "file"


def _acting_person(actor: Actor) -> Optional[Professional]:
    if actor is None or not actor.is_person or actor.person_id is None:
        return None
    person = db.session.get(Professional, actor.person_id)
    if person is None or person.user_id != actor.user_id or person.status != APPROVED:
        return None
    return person


def _own(actor: Actor, declaration_id) -> Declaration:
    """The actor's own (self-made) declaration, else ``DeclarationInvalid``."""
    try:
        pk = int(declaration_id)
    except (TypeError, ValueError):
        raise DeclarationInvalid({"declaration": E["not_found"]}) from None
    obj = db.session.get(Declaration, pk)
    if (
        obj is None
        or actor is None
        or not actor.is_person
        or actor.person_id is None
        or obj.professional_id != actor.person_id
        or obj.declared_by_org_id is not None
    ):
        raise DeclarationInvalid({"declaration": E["not_found"]})
    return obj


def _apply(obj: Declaration, clean: dict) -> None:
    for key in ("subject_type", "form_code", "year", "start_date", "end_date", "result", "requested_hours",
                "remark", "data"):
        setattr(obj, key, clean[key])


# ---------------------------------------------------------------- the professional's commands


def save_declaration(
    actor: Actor,
    values: dict,
    evidence: list,
    declaration_id: Optional[int] = None,
    submit: bool = False,
) -> Declaration:
    """Create or edit (while a draft) the acting professional's declaration; with ``submit`` also submit
    it. Commits and returns it.

    Guarantees: the actor is an approved professional acting for itself and, when editing, the
    declaration is its own draft; the learning form is enabled and allows the subject type
    (accountants: always public, any form); the year is open (the current year); dates given and
    start ≤ end; result ≤ 64 and remark ≤ 1000 characters; the plugin form's data is valid (errors
    keyed by its field names); the requested hours are the plugin's standard hours when it has them
    (the client's value ignored), else a number in (0, 999.9]; every new evidence file is a valid
    image and the total is at most 5; submitting needs at least one evidence file and a route.
    Raises ``DeclarationInvalid`` (or ``DeclarationError``) with nothing written and no file left.
    """
    person = _acting_person(actor)
    if person is None:
        raise DeclarationInvalid({"actor": E["not_person"]})
    obj = None
    existing = 0
    if declaration_id is not None:
        obj = _own(actor, declaration_id)
        if obj.state != DRAFT:
            raise DeclarationInvalid({"declaration": E["not_draft"]})
        existing = len(obj.attachments)
    errors: dict = {}
    clean = _validate(values or {}, person, errors)
    files = _files(evidence)
    checked = _check_evidence(files, existing, errors)
    if submit and "evidence" not in errors and existing + len(files) == 0:
        errors["evidence"] = E["evidence_required"]
    route = None
    if submit and not errors:
        try:
            route = route_for(person, subject_type=clean["subject_type"])
        except NoRoute:
            errors["route"] = E["route"]
    if errors:
        raise DeclarationInvalid(errors)
    stored: list[str] = []
    if obj is not None and checked:
        _lock_for_evidence(obj, len(checked))
    try:
        if obj is None:
            obj = Declaration(professional_id=person.id, org_id=person.org_id, state=DRAFT, route=[], step=0)
            db.session.add(obj)
        _apply(obj, clean)
        db.session.flush()
        for image, name in checked:
            rel = store_image(image, "evidence")
            stored.append(rel)
            db.session.add(Attachment(
                declaration_id=obj.id, filename=name, stored_path=rel, content_type=image.mimetype,
                size=len(image.data),
            ))
        if submit:
            fire(obj, "submit", actor=actor, route=route)
        db.session.commit()
    except Exception:
        db.session.rollback()
        for rel in stored:
            delete_upload(rel)
        raise
    return obj


def _lock_for_evidence(obj: Declaration, adding: int) -> None:
    """Lock the draft ``obj`` (SQLite: the write lock; PostgreSQL: its row, ``FOR UPDATE``), then count
    its attachments again: parallel uploads to one declaration are attached one after the other and
    never pass ``MAX_EVIDENCE``. Raises ``DeclarationInvalid`` (transaction rolled back) when the draft
    is gone, is no longer a draft or the new files would pass the limit."""
    write_lock()
    locked = _lock([obj.id])
    if not locked or locked[0].state != DRAFT:
        db.session.rollback()
        raise DeclarationInvalid({"declaration": E["not_draft"]})
    have = db.session.scalar(select(func.count(Attachment.id)).where(Attachment.declaration_id == obj.id)) or 0
    if have + adding > MAX_EVIDENCE:
        db.session.rollback()
        raise DeclarationInvalid({"evidence": str(E["evidence_max"]) % {"n": MAX_EVIDENCE}})


def submit(actor: Actor, declaration_id) -> Declaration:
    """Submit the acting professional's own draft (it must have at least one evidence file). Commits.
    Raises ``DeclarationInvalid`` / ``DeclarationError`` with nothing changed."""
    obj = _own(actor, declaration_id)
    if obj.state != DRAFT:
        raise DeclarationInvalid({"declaration": E["not_draft"]})
    person = _acting_person(actor)
    if person is None:
        raise DeclarationInvalid({"actor": E["not_person"]})
    errors: dict = {}
    if obj.year not in open_years(person):
        errors["year"] = E["year"]
    if not obj.attachments:
        errors["evidence"] = E["evidence_required"]
    if errors:
        raise DeclarationInvalid(errors)
    try:
        fire(obj, "submit", actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return obj


def revoke(actor: Actor, declaration_id) -> Declaration:
    """The professional revokes (撤销) an own pending declaration nobody has reviewed yet: back to draft.
    Commits. Raises ``DeclarationInvalid`` (not the actor's own) or ``DeclarationError`` (refused by
    the workflow); nothing changes then."""
    obj = _own(actor, declaration_id)
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


def annul(actor: Actor, declaration_id, comment: str) -> Declaration:
    """The final reviewer annuls (撤销认定) an approved declaration with a reason: its posting is deleted,
    its hours leave the ledger (once, even when two reviewers annul at the same moment: the row is
    locked, on SQLite the database) and every certificate covering its year is revoked, in one
    transaction. Raises ``DeclarationInvalid`` (not visible) or ``DeclarationError`` (not the final
    reviewer, no reason, the reviewer's own declaration); nothing changes then. Commits."""
    from .certificates import revoke_covering

    obj = visible_declaration(actor, declaration_id)
    if obj is None:
        raise DeclarationInvalid({"declaration": E["not_found"]})
    write_lock()
    locked = _lock([obj.id])
    obj = locked[0] if locked else obj
    try:
        fire(obj, "annul", actor=actor, comment=comment)
        revoke_covering(obj.professional_id, obj.year)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return obj


def delete_draft(actor: Actor, declaration_id) -> None:
    """Delete the acting professional's own draft with its attachments (rows and stored files).
    Commits; the files are removed after the commit. Raises ``DeclarationInvalid`` otherwise."""
    obj = _own(actor, declaration_id)
    if obj.state != DRAFT:
        raise DeclarationInvalid({"declaration": E["not_draft"]})
    paths = [a.stored_path for a in obj.attachments]
    try:
        for a in list(obj.attachments):
            db.session.delete(a)
        db.session.delete(obj)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for rel in paths:
        delete_upload(rel)


# ---------------------------------------------------------------- organisations declare for their people


def _people_in_scope(actor: Actor, ids: list[int]) -> list[Professional]:
    """The approved professionals ``ids`` the actor's organisation may declare for: in its subtree, or
    (a CE base) trainees of its classes."""
    stmt = select(Professional).where(Professional.id.in_(ids), Professional.status == APPROVED)
    if actor.capacity == CE_BASE:
        trainees = select(TraineeResult.id_number).join(TrainingClass, TraineeResult.class_id == TrainingClass.id)
        trainees = trainees.where(TrainingClass.org_id == actor.org_id)
        stmt = stmt.where(scope_clause(Professional, actor) | Professional.id_number.in_(trainees))
    else:
        stmt = stmt.where(scope_clause(Professional, actor))
    return list(db.session.scalars(stmt))


def declare_for(actor: Actor, professional_ids: list[int], values: dict) -> list[Declaration]:
    """An employer unit, competent department or CE base declares the same learning for several of its
    people; every declaration is submitted at once and its route starts above the declaring
    organisation. Commits; returns the declarations in the order of ``professional_ids``.

    Guarantees: the actor acts for an organisation of a declaring kind; every id is an approved
    professional in its scope (a CE base: also its trainees); accountants and other professionals are
    not mixed; the values pass the same checks as a personal declaration for every person (hours from
    the plugin per person); no evidence needed. Raises ``DeclarationInvalid`` with nothing written.
    """
    if actor is None or actor.is_person or actor.org_id is None or actor.capacity not in DECLARING_CAPACITIES:
        raise DeclarationInvalid({"actor": E["not_declaring_org"]})
    org = db.session.get(Organization, actor.org_id)
    if org is None or org.status != APPROVED:
        raise DeclarationInvalid({"actor": E["not_declaring_org"]})
    wanted: list[int] = []
    for value in professional_ids or ():
        try:
            pk = int(value)
        except (TypeError, ValueError):
            pk = -1
        if pk not in wanted:
            wanted.append(pk)
    if not wanted:
        raise DeclarationInvalid({"people": E["people_required"]})
    people = {p.id: p for p in _people_in_scope(actor, [p for p in wanted if p > 0])}
    if len(people) != len(wanted):
        raise DeclarationInvalid({"people": str(E["people_scope"]) % {"n": len(wanted) - len(people)}})
    ordered = [people[p] for p in wanted]
    if len({bool(p.is_accountant) for p in ordered}) > 1:
        raise DeclarationInvalid({"people": E["people_mix"]})
    errors: dict = {}
    cleans = []
    for person in ordered:
        person_errors: dict = {}
        cleans.append(_validate(values or {}, person, person_errors))
        for key, message in person_errors.items():
            errors.setdefault(key, message)
        if person_errors:
            break  # the values are shared: the first person's errors say it all
    route = None
    if not errors:
        try:
            route = route_for(ordered[0], declared_by_org=org, subject_type=cleans[0]["subject_type"])
        except NoRoute:
            errors["route"] = E["route"]
    if errors:
        raise DeclarationInvalid(errors)
    out = []
    try:
        for person, clean in zip(ordered, cleans):
            obj = Declaration(
                professional_id=person.id, org_id=person.org_id, declared_by_org_id=org.id, state=DRAFT,
                route=[], step=0,
            )
            _apply(obj, clean)
            db.session.add(obj)
            out.append(obj)
        db.session.flush()
        for obj in out:
            fire(obj, "submit", actor=actor, route=route)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return out


# ---------------------------------------------------------------- review


def _clean_ids(ids) -> list[int]:
    out, seen = [], set()
    for value in ids or ():
        try:
            pk = int(value)
        except (TypeError, ValueError):
            pk = -1  # an unreadable id counts as one that is not pending for the actor
        if pk not in seen:
            seen.add(pk)
            out.append(pk)
    return out


def _lock(ids: list[int]) -> list[Declaration]:
    """Load the declarations ``ids`` with a row lock (``SELECT … FOR UPDATE``; a no-op on SQLite),
    refreshing any copy already in the session, in id order (a stable lock order)."""
    out = []
    ids = sorted(i for i in ids if i > 0)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        stmt = (
            select(Declaration)
            .where(Declaration.id.in_(chunk))
            .order_by(Declaration.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        out.extend(db.session.scalars(stmt))
    return out


def review(
    actor: Actor,
    ids: list[int],
    trigger: str,
    comment: str = "",
    recognised_hours: Optional[dict] = None,
) -> Reviewed:
    """Approve or reject the declarations ``ids`` waiting for the actor's organisation, all or none.
    Commits once; returns them in the order of ``ids`` (a ``Reviewed`` list).

    Guarantees: validates first — the trigger is approve/reject; a rejection has a comment (≤ 1000);
    recognised hours (``{id: hours}``) are 0–999.9 and, where they differ from the requested hours, the
    comment gives the reason; every id is pending with ``handler_org_id`` = the actor's organisation
    after the rows are locked (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: the database write lock
    taken before reading), so two reviewers acting at once cannot both move the same declaration.
    Declarations of the reviewer's own person are never decided: they are left out and listed in
    ``skipped_own``; when nothing else is left the review is refused. Any failure raises
    ``DeclarationInvalid`` and changes nothing. Then fires the workflow per row, inserts the audit
    rows, the hours postings (unique per declaration: a declaration counted already refuses the
    whole review) and the ledger increments in bulk.
    """
    if trigger not in ("approve", "reject"):
        raise DeclarationInvalid({"trigger": E["trigger"]})
    pks = _clean_ids(ids)
    if not pks:
        raise DeclarationInvalid({"ids": E["nothing_selected"]})
    if actor is None or actor.is_person or actor.org_id is None:
        raise DeclarationInvalid({"ids": str(E["not_pending"]) % {"n": len(pks)}})
    write_lock()
    rows = _lock(pks)
    fit = [r for r in rows if r.state == PENDING and r.handler_org_id == actor.org_id]
    if len(fit) != len(pks):
        db.session.rollback()
        raise DeclarationInvalid({"ids": str(E["not_pending"]) % {"n": len(pks) - len(fit)}})
    own = own_person_id(actor)
    skipped = [r.id for r in fit if own is not None and r.professional_id == own]
    if skipped:
        if len(skipped) == len(fit):
            db.session.rollback()
            raise DeclarationInvalid({"ids": E["own"]})
        fit = [r for r in fit if r.professional_id != own]
        pks = [p for p in pks if p not in set(skipped)]
    hours = {int(k): v for k, v in (recognised_hours or {}).items() if v is not None and v != ""}
    errors: dict = {}
    for obj in fit:
        try:
            check_review_input(obj, trigger, comment, hours.get(obj.id))
        except DeclarationError as exc:
            key = "comment" if exc.code.startswith("comment") else f"recognised_hours:{obj.id}"
            if key == "comment":
                errors[key] = exc.message
                break
            errors[key] = _("Declaration %(id)s: %(message)s", id=obj.id, message=str(exc.message))
    if errors:
        db.session.rollback()
        raise DeclarationInvalid(errors)
    by_id = {r.id: r for r in fit}
    ordered = [by_id[p] for p in pks]
    audit_rows: list[dict] = []
    postings: list[dict] = []
    try:
        for obj in ordered:
            fire(obj, trigger, actor=actor, comment=comment, recognised_hours=hours.get(obj.id),
                 audit_rows=audit_rows, postings=postings, own_person=own)
        db.session.flush()
        post_hours(postings)
        if audit_rows:
            db.session.execute(insert(AuditLog), audit_rows)
        db.session.commit()
    except IntegrityError:
        # A posting exists already: another final approval of one of these rows won the race.
        db.session.rollback()
        raise DeclarationInvalid({"ids": E["already_counted"]}) from None
    except Exception:
        db.session.rollback()
        raise
    return Reviewed(ordered, skipped)


def skipped_message(n: int) -> str:
    """The translated note of a bulk review that left out ``n`` declarations of the reviewer's own person."""
    return _(
        "%(n)d of the selected declarations are your own and were skipped: another administrator of your "
        "organisation or the superior organisation must review them.",
        n=n,
    )


# ---------------------------------------------------------------- reading


def history(declaration: Declaration) -> list[AuditLog]:
    """The audit rows of one declaration, oldest first (submit, approvals, rejection, revocations)."""
    return _history(declaration)


def ledger_hours(professional_id: int, year: int) -> dict[str, Decimal]:
    """Finally approved hours of a professional in ``year`` by subject type ({"public", "professional"}
    always present, 0 when none)."""
    out = {PUBLIC: Decimal("0.0"), PROFESSIONAL: Decimal("0.0")}
    rows = db.session.execute(
        select(HoursLedger.subject_type, HoursLedger.hours).where(
            HoursLedger.professional_id == professional_id, HoursLedger.year == year
        )
    )
    for subject, hours in rows:
        out[subject] = Decimal(hours).quantize(Decimal("0.1"))
    return out


def visible_declaration(actor: Actor, pk) -> Optional[Declaration]:
    """The declaration ``pk`` if ``actor`` may see it: the professional's own, one in the actor's
    organisation scope, one waiting for or declared by the actor's organisation."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    obj = db.session.get(Declaration, pk)
    if obj is None or actor is None:
        return None
    if actor.is_person:
        return obj if obj.professional_id == actor.person_id else None
    if actor.org_id is not None and actor.org_id in (obj.handler_org_id, obj.declared_by_org_id, obj.org_id):
        return obj
    if actor.org_id is not None and actor.org_id in (obj.route or []):
        return obj
    found = db.session.execute(
        select(Declaration.id).where(Declaration.id == pk, scope_clause(Declaration, actor))
    ).first()
    return obj if found else None


__all__ = [
    "DeclarationError",
    "DeclarationInvalid",
    "declare_for",
    "delete_draft",
    "history",
    "hours_context",
    "annul",
    "ledger_hours",
    "open_years",
    "review",
    "revoke",
    "save_declaration",
    "submit",
    "visible_declaration",
]
