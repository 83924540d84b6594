"""What waits for the acting user on the home page (待审核 …)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..models import ChangeRequest, Declaration, Deregistration, Professional, Transfer
from .scope import Actor, scope_clause


def waiting_counts(session, actor: Actor) -> list[tuple[str, int]]:
    """(label, count) pairs of items waiting for the actor; counts are scoped by the one predicate."""
    if actor.is_person:
        mine = session.scalar(
            select(func.count()).select_from(Declaration).where(
                scope_clause(Declaration, actor), Declaration.state == "pending"
            )
        )
        drafts = session.scalar(
            select(func.count()).select_from(Declaration).where(scope_clause(Declaration, actor), Declaration.state == "draft")
        )
        return [(_l("My declarations under review"), mine or 0), (_l("My drafts"), drafts or 0)]
    if actor.is_global:
        return []
    out = []
    out.append((
        _l("Hours declarations to review"),
        session.scalar(
            select(func.count()).select_from(Declaration).where(
                Declaration.handler_org_id == actor.org_id, Declaration.state == "pending"
            )
        ) or 0,
    ))
    out.append((
        _l("Professionals awaiting approval"),
        session.scalar(
            select(func.count()).select_from(Professional).where(
                Professional.org_id == actor.org_id, Professional.status == "pending"
            )
        ) or 0,
    ))
    for label, model in (
        (_l("Change requests to review"), ChangeRequest),
        (_l("Deregistrations to review"), Deregistration),
    ):
        out.append((label, session.scalar(
            select(func.count()).select_from(model).where(model.handler_org_id == actor.org_id, model.state == "pending")
        ) or 0))
    out.append((_l("Transfers to accept"), session.scalar(
        select(func.count()).select_from(Transfer).where(Transfer.to_org_id == actor.org_id, Transfer.state == "pending")
    ) or 0))
    return out
