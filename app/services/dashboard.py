"""What waits for the acting user on the home page (待审核 …)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..models import ChangeRequest, Declaration, Deregistration, Professional, Transfer
from .scope import Actor, scope_clause


# The page (permission, view) each admin count opens: a count shows only to an actor who may open it.
COUNT_PAGES = {
    "declarations": ("can_list", "HoursReviewView"),
    "professionals": ("can_list", "RegistrationReviewView"),
    "changes": ("can_list", "ChangeRequestView"),
    "deregistrations": ("can_list", "DeregistrationReviewView"),
    "transfers": ("can_list", "TransferView"),
}


def waiting_counts(session, actor: Actor, allowed=None) -> list[tuple[str, int]]:
    """(label, count) pairs of items waiting for the actor; counts are scoped by the one predicate.

    ``allowed(permission, view)`` tells whether the actor's acting roles open a page: an admin's
    count is left out (not even computed) unless its roles open the page that handles it.
    """
    allowed = allowed or (lambda _perm, _view: True)
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
    def count(model, *where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    queries = (
        ("declarations", _l("Hours declarations to review"),
         lambda: count(Declaration, Declaration.handler_org_id == actor.org_id, Declaration.state == "pending")),
        ("professionals", _l("Professionals awaiting approval"),
         lambda: count(Professional, Professional.org_id == actor.org_id, Professional.status == "pending")),
        ("changes", _l("Change requests to review"),
         lambda: count(ChangeRequest, ChangeRequest.handler_org_id == actor.org_id, ChangeRequest.state == "pending")),
        ("deregistrations", _l("Deregistrations to review"),
         lambda: count(Deregistration, Deregistration.handler_org_id == actor.org_id, Deregistration.state == "pending")),
        ("transfers", _l("Transfers to accept"),
         lambda: count(Transfer, Transfer.to_org_id == actor.org_id, Transfer.state == "pending")),
    )
    return [(label, query()) for key, label, query in queries if allowed(*COUNT_PAGES[key])]
