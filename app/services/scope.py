"""The one scope predicate: what an actor (user + acting capacity + organisation) may see.

Every model that holds organisation data declares ``__scope__``:

* ``org``: the column (or ``relationship.column``) naming the owning organisation;
* ``org2``: optional second organisation column (e.g. a transfer's target unit);
* ``handler``: optional column of the organisation currently handling the row (review inbox);
* ``person``: the column naming the professional, for the professional capacity;
* ``shared``: rows of the actor's ancestors are visible too (catalogues issued from above).

Models without ``__scope__`` are reference data, readable by everyone logged in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import false, or_, select, true

from ..capacities import PERSON, SYSADMIN
from ..models.org import Organization


@dataclass(frozen=True)
class Actor:
    """Who acts: the user, the capacity chosen at login and, for admins, the organisation."""

    user_id: int
    capacity: str
    org_id: Optional[int] = None
    org_path: Optional[str] = None
    person_id: Optional[int] = None
    membership_id: Optional[int] = None

    @property
    def is_global(self) -> bool:
        return self.capacity == SYSADMIN

    @property
    def is_person(self) -> bool:
        return self.capacity == PERSON


def escape_like(text: str) -> str:
    """``text`` with the LIKE wildcards and the escape character escaped (use ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(path: str) -> str:
    """A LIKE pattern matching ``path`` and everything below it, with wildcards escaped."""
    return escape_like(path) + "%"


def like_contains(text: str) -> str:
    """A LIKE pattern matching any value containing ``text``, with wildcards escaped."""
    return "%" + escape_like(text) + "%"


def subtree_ids(actor: Actor):
    """SELECT of the ids of the actor's organisation and every organisation below it."""
    return select(Organization.id).where(Organization.path.like(like_prefix(actor.org_path), escape="\\"))


def ancestor_ids(actor: Actor) -> list[int]:
    """Ids of the organisations above the actor's organisation (from its path)."""
    return [int(x) for x in (actor.org_path or "").strip("/").split("/") if x]


def _column(model, spec: str):
    """Resolve ``col`` or ``relationship.col`` of ``__scope__`` to (column, via) for ``model``."""
    if "." not in spec:
        return getattr(model, spec), None
    rel_name, col = spec.split(".", 1)
    rel = getattr(model, rel_name).property
    target = rel.mapper.class_
    local = list(rel.local_columns)[0]
    return getattr(target, col), (local, target)


def _in(model, spec: str, ids):
    column, via = _column(model, spec)
    if via is None:
        return column.in_(ids)
    local, target = via
    return local.in_(select(target.id).where(column.in_(ids)))


def _equals(model, spec: str, value):
    column, via = _column(model, spec)
    if via is None:
        return column == value
    local, target = via
    return local.in_(select(target.id).where(column == value))


def scope_clause(model, actor: Optional[Actor]):
    """SQL condition limiting ``model`` rows to what ``actor`` may see (``false()`` for nobody)."""
    spec = getattr(model, "__scope__", None)
    if spec is None:
        return true() if actor is not None else false()
    if actor is None:
        return false()
    if actor.is_global:
        return true()
    if actor.is_person:
        if "person" in spec and actor.person_id is not None:
            return _equals(model, spec["person"], actor.person_id)
        if model is Organization:
            return false()
        return false()
    if actor.org_path is None:
        return false()
    if model is Organization:
        return Organization.path.like(like_prefix(actor.org_path), escape="\\")
    ids = subtree_ids(actor)
    clauses = [_in(model, spec["org"], ids)]
    if "org2" in spec:
        clauses.append(_in(model, spec["org2"], ids))
    if "handler" in spec:
        clauses.append(_equals(model, spec["handler"], actor.org_id))
    if spec.get("shared"):
        clauses.append(_in(model, spec["org"], ancestor_ids(actor)))
    return or_(*clauses) if len(clauses) > 1 else clauses[0]


def is_scoped(model) -> bool:
    return getattr(model, "__scope__", None) is not None


def org_in_scope(session, actor: Optional[Actor], org_id) -> bool:
    """True when organisation ``org_id`` lies in the actor's subtree (global actors: any org)."""
    if org_id is None or actor is None:
        return False
    if actor.is_global:
        return True
    if actor.is_person or actor.org_path is None:
        return False
    stmt = select(Organization.id).where(
        Organization.id == int(org_id),
        Organization.path.like(like_prefix(actor.org_path), escape="\\"),
    )
    return session.execute(stmt).first() is not None


def visible(session, model, actor: Optional[Actor], pk) -> bool:
    """True when the row ``pk`` of ``model`` exists and is in the actor's scope."""
    stmt = select(model.id).where(model.id == pk, scope_clause(model, actor))
    return session.execute(stmt).first() is not None
