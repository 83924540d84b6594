"""Registration review (注册审核): the pending registrations addressed to the actor's organisation,
the review history (已审核) and the one-by-one / selected / all-matching approval or rejection.

A registration is addressed to its registrant's direct superior (``workflows.registration.
reviewer_org_id``): a professional's employer unit, an organisation's parent. Every finder here
filters on ``reviewer == actor.org_id`` (and the scope predicate), so a reviewer never sees or acts
on a registration addressed elsewhere. ``review_many`` validates every id before changing anything
and commits once; approval notices are sent after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select

from ..capacities import CE_BASE, COMPETENT, EMPLOYER, HR, PROVINCE
from ..extensions import db
from ..models import AuditLog, Membership, Organization, Professional, User
from ..models.common import PENDING
from ..workflows.base import Reviewed, write_lock
from ..workflows.registration import RegistrationError, fire
from .registration import notify_approved, normalize_id
from .lists import capped_count
from .scope import Actor, like_contains, like_prefix, scope_clause

PROFESSIONAL = "professional"
# Kinds of registration a reviewer handles: a professional, or an organisation of one kind.
KINDS = (PROFESSIONAL, EMPLOYER, CE_BASE, COMPETENT, HR)
KIND_LABELS = {
    PROFESSIONAL: _l("Professionals"),
    EMPLOYER: _l("Employer units"),
    CE_BASE: _l("CE bases"),
    COMPETENT: _l("Competent departments"),
    HR: _l("HR bureaus"),
}
# What each reviewing capacity reviews (SPEC §1 table, seeds 000/003/004 “审核账户”), in tab order.
REVIEW_KINDS = {
    EMPLOYER: (PROFESSIONAL, EMPLOYER),
    COMPETENT: (EMPLOYER, CE_BASE, COMPETENT),
    HR: (HR, COMPETENT, EMPLOYER, CE_BASE),
    PROVINCE: (HR, COMPETENT, EMPLOYER, CE_BASE),
}
TRIGGERS = ("approve", "reject")
PAGE_SIZE = 20

MESSAGES = {
    "kind": _l("This kind of registration is not reviewed here."),
    "trigger": _l("Unknown review action."),
    "nothing": _l("No registration was selected."),
    "reason": _l("Please give a reason for the rejection."),
    "reason_long": _l("The reason must be at most 1000 characters."),
    "own": _l(
        "You cannot review your own registration or one you applied for. Another administrator of your "
        "organisation must review it."
    ),
}
REASON_MAX = 1000


class ReviewRefused(Exception):
    """The review was refused as a whole; ``message`` is translatable. Nothing was written."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message

    def __str__(self):
        return str(self.message)


def kinds_for(actor: Optional[Actor]) -> tuple:
    """The registration kinds ``actor``'s capacity reviews (empty for non-reviewers)."""
    if actor is None or actor.org_id is None:
        return ()
    return REVIEW_KINDS.get(actor.capacity, ())


def _check_kind(actor: Optional[Actor], kind: str) -> None:
    if kind not in kinds_for(actor):
        raise ReviewRefused("kind", MESSAGES["kind"])


def _model(kind: str):
    return Professional if kind == PROFESSIONAL else Organization



def _addressed(kind: str, actor: Actor):
    """SQL condition: registrations of ``kind`` addressed to the actor's organisation, in its scope."""
    if kind == PROFESSIONAL:
        return and_(Professional.org_id == actor.org_id, scope_clause(Professional, actor))
    return and_(
        Organization.parent_id == actor.org_id,
        Organization.kind == kind,
        Organization.path.like(like_prefix(actor.org_path or "/-/"), escape="\\"),
    )


def _search(kind: str, q: str):
    """SQL condition for the search box: name (contains), ID number or credit code (exact)."""
    q = (q or "").strip()[:64]
    if not q:
        return None
    code = q.upper()
    if kind == PROFESSIONAL:
        return or_(
            Professional.name.like(like_contains(q), escape="\\"),
            func.upper(Professional.id_number) == normalize_id(q),
        )
    applicant = exists(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.org_id == Organization.id,
            Membership.is_super.is_(True),
            func.upper(User.id_number) == normalize_id(q),
        )
    )
    return or_(Organization.name.like(like_contains(q), escape="\\"), Organization.credit_code == code, applicant)


def _pending_query(kind: str, actor: Actor, q: str = ""):
    model = _model(kind)
    stmt = select(model).where(model.status == PENDING, _addressed(kind, actor))
    cond = _search(kind, q)
    if cond is not None:
        stmt = stmt.where(cond)
    return stmt


@dataclass
class Page:
    """One page of a list: ``items`` (0-based ``page``), total ``count`` (capped when ``capped``)."""

    items: list
    page: int
    page_size: int
    count: int
    capped: bool = False
    extra: dict = field(default_factory=dict)


def pending(kind: str, actor: Actor, q: str = "", page: int = 0, page_size: int = PAGE_SIZE) -> Page:
    """Pending registrations of ``kind`` addressed to the actor's organisation, oldest first.

    Guarantees: only rows whose reviewer is ``actor.org_id`` (never another organisation's); raises
    ``ReviewRefused`` for a kind the actor's capacity does not review.
    """
    _check_kind(actor, kind)
    model = _model(kind)
    stmt = _pending_query(kind, actor, q)
    count, capped = capped_count(stmt)
    page = max(int(page or 0), 0)
    items = db.session.scalars(stmt.order_by(model.created, model.id).offset(page * page_size).limit(page_size)).all()
    return Page(items=list(items), page=page, page_size=page_size, count=count, capped=capped)


def matching_ids(kind: str, actor: Actor, q: str = "") -> list[int]:
    """Ids of every pending registration of ``kind`` addressed to the actor matching the search ``q``."""
    _check_kind(actor, kind)
    model = _model(kind)
    stmt = _pending_query(kind, actor, q).with_only_columns(model.id).order_by(model.id)
    return list(db.session.scalars(stmt))


def get_pending(kind: str, actor: Actor, pk: int):
    """The registration ``pk`` of ``kind`` if it is addressed to the actor (any status), else None."""
    _check_kind(actor, kind)
    model = _model(kind)
    return db.session.scalars(select(model).where(model.id == pk, _addressed(kind, actor))).first()


def pending_named(kind: str, actor: Actor, ids, limit: int = 50) -> list:
    """Up to ``limit`` of the rows ``ids`` that are pending and addressed to the actor (for a preview)."""
    _check_kind(actor, kind)
    model = _model(kind)
    pks = [p for p in _clean_ids(ids) if p > 0][: max(limit, 0) * 4 or 1]
    if not pks:
        return []
    stmt = select(model).where(model.id.in_(pks), model.status == PENDING, _addressed(kind, actor)).order_by(model.id)
    return list(db.session.scalars(stmt.limit(limit)))


def applicants(org: Organization) -> list[Membership]:
    """The applicant (super-admin) memberships of an organisation registration, with their users."""
    return (
        db.session.query(Membership)
        .filter(Membership.org_id == org.id, Membership.is_super.is_(True))
        .order_by(Membership.id)
        .all()
    )


@dataclass
class HistoryRow:
    id: int
    created: object
    trigger: str
    comment: Optional[str]
    object_id: int
    name: str
    reviewer: str


def history(kind: str, actor: Actor, q: str = "", page: int = 0, page_size: int = PAGE_SIZE) -> Page:
    """已审核: approvals and rejections of ``kind`` made by the actor's organisation, newest first.

    Read from the audit trail (one row per review); only rows whose ``actor_org_id`` is the actor's
    organisation are listed.
    """
    _check_kind(actor, kind)
    model = _model(kind)
    object_type = "professional" if kind == PROFESSIONAL else "organization"
    stmt = (
        select(AuditLog.id, AuditLog.created, AuditLog.trigger, AuditLog.comment, AuditLog.object_id, model.name,
               User.first_name, User.last_name)
        .join(model, model.id == AuditLog.object_id)
        .outerjoin(User, User.id == AuditLog.actor_user_id)
        .where(
            AuditLog.object_type == object_type,
            AuditLog.actor_org_id == actor.org_id,
            AuditLog.trigger.in_(TRIGGERS),
        )
    )
    if kind != PROFESSIONAL:
        stmt = stmt.where(Organization.kind == kind)
    cond = _search(kind, q)
    if cond is not None:
        stmt = stmt.where(cond)
    count, capped = capped_count(stmt)
    page = max(int(page or 0), 0)
    rows = db.session.execute(
        stmt.order_by(AuditLog.created.desc(), AuditLog.id.desc()).offset(page * page_size).limit(page_size)
    ).all()
    items = [
        HistoryRow(
            id=r.id, created=r.created, trigger=r.trigger, comment=r.comment, object_id=r.object_id, name=r.name,
            reviewer=f"{r.last_name or ''}{r.first_name or ''}",
        )
        for r in rows
    ]
    return Page(items=items, page=page, page_size=page_size, count=count, capped=capped)


def _clean_ids(ids) -> list[int]:
    out = []
    for value in ids or ():
        try:
            pk = int(value)
        except (TypeError, ValueError):
            out.append(-1)  # an unreadable id counts as one that is not pending for the actor
            continue
        if pk not in out:
            out.append(pk)
    return out


def own_ids(kind: str, actor: Actor, ids) -> set[int]:
    """Which of the registrations ``ids`` of ``kind`` are the actor's own: its user registered as that
    professional, or applied for that organisation (its applicant super-admin membership)."""
    pks = [p for p in ids if p > 0]
    if actor is None or actor.user_id is None or not pks:
        return set()
    if kind == PROFESSIONAL:
        stmt = select(Professional.id).where(Professional.id.in_(pks), Professional.user_id == actor.user_id)
    else:
        stmt = select(Membership.org_id).where(
            Membership.org_id.in_(pks), Membership.user_id == actor.user_id, Membership.is_super.is_(True)
        )
    return set(db.session.scalars(stmt))


def skipped_message(n: int) -> str:
    """The translated note of a bulk review that left out ``n`` of the reviewer's own registrations."""
    return _(
        "%(n)d of the selected registrations are your own and were skipped: another administrator of your "
        "organisation must review them.",
        n=n,
    )


def review_many(ids, kind: str, trigger: str, actor: Actor, reason: Optional[str] = None,
                expected: Optional[int] = None) -> Reviewed:
    """Approve or reject the registrations ``ids`` of ``kind`` as ``actor``, all or none.

    Validates first: the kind is one the actor reviews, the trigger is approve/reject, a rejection has
    a reason (≤ 1000 characters), at least one id, every id is pending and addressed to the actor's
    organisation, and (when ``expected`` is given) the count still equals it. Any failure raises
    ``ReviewRefused`` and nothing is written. The rows are read under a lock (PostgreSQL: ``FOR
    UPDATE``; SQLite: the write lock taken before reading), so two reviewers cannot both decide one.
    The reviewer's own registrations (``own_ids``) are never decided: they are left out and listed in
    ``skipped_own`` (refused when nothing else is left). Then fires the workflow for each row (one
    audit row each) and commits once; approval notices are emailed after the commit. Returns the rows
    (a ``Reviewed`` list).
    """
    _check_kind(actor, kind)
    if trigger not in TRIGGERS:
        raise ReviewRefused("trigger", MESSAGES["trigger"])
    reason = (reason or "").strip() or None
    if trigger == "reject" and not reason:
        raise ReviewRefused("reason", MESSAGES["reason"])
    if reason and len(reason) > REASON_MAX:
        raise ReviewRefused("reason_long", MESSAGES["reason_long"])
    pks = _clean_ids(ids)
    if not pks:
        raise ReviewRefused("nothing", MESSAGES["nothing"])
    if expected is not None and expected != len(pks):
        raise ReviewRefused("changed", _l(
            "The list changed since you confirmed it (now %(n)d registrations). Nothing was changed; "
            "please confirm again.",
            n=len(pks),
        ))
    model = _model(kind)
    write_lock()
    rows = db.session.scalars(
        select(model).where(model.id.in_([p for p in pks if p > 0]), model.status == PENDING, _addressed(kind, actor))
        .with_for_update(of=model).execution_options(populate_existing=True)
    ).all()
    if len(rows) != len(pks):
        raise ReviewRefused("not_pending", _l(
            "%(n)d of the selected registrations are not pending review by your organisation "
            "(already reviewed, withdrawn or addressed to another organisation). Nothing was changed.",
            n=len(pks) - len(rows),
        ))
    skipped = own_ids(kind, actor, pks)
    if skipped and len(skipped) == len(pks):
        raise ReviewRefused("own", MESSAGES["own"])
    by_id = {r.id: r for r in rows}
    ordered = [by_id[p] for p in pks if p not in skipped]
    try:
        for obj in ordered:
            fire(obj, trigger, actor=actor, reason=reason)
        db.session.commit()
    except RegistrationError as exc:
        db.session.rollback()
        raise ReviewRefused(exc.code, exc.message) from exc
    except Exception:
        db.session.rollback()
        raise
    if trigger == "approve":
        for obj in ordered:
            notify_approved(obj)
    return Reviewed(ordered, sorted(skipped))


def counts(actor: Actor) -> dict[str, int]:
    """Pending registrations per kind the actor reviews (for the tab badges)."""
    out = {}
    for kind in kinds_for(actor):
        out[kind], _capped = capped_count(_pending_query(kind, actor))
    return out
