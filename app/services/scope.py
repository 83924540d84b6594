"""The one scope predicate: what an actor (user + acting capacity + organisation) may see.

Every model that holds organisation data declares ``__scope__``:

* ``org``: the column (or ``relationship.column``) naming the owning organisation;
* ``org2``: optional second organisation column (e.g. a transfer's target unit);
* ``handler``: optional column of the organisation currently handling the row (review inbox);
* ``person``: the column naming the professional, for the professional capacity;
* ``shared``: rows of the actor's ancestors are visible too (catalogues issued from above).

Models without ``__scope__`` are reference data, readable by everyone logged in.

There are two rules. The **read rule** (``scope_clause(model, actor)``) is everything above. The
**write rule** (``write_clause(model, actor)`` = ``scope_clause(model, actor, write=True)``) is stricter
and is what every edit, delete, mutating action and REST PUT/DELETE/POST loads rows with:

* only through the acting capacity's own column: ``person`` for a professional, ``org`` (the
  actor's subtree) for an organisation admin; never ``org2``, never ``handler`` (a reviewer reads
  an inbox row but changes it only through its workflow) and never ``shared`` ancestor rows (a
  department reads the province's public subjects but cannot edit or delete them);
* ``Organization``: the actor's own organisation and its subordinates, never an ancestor (the
  editable fields are the views' business);
* ``Membership``: admins of organisations strictly below the actor's; admins of its own
  organisation only for its super admin, and never a super admin's or the actor's own row;
* the audit trail is written by services only (``READ_ONLY_TABLES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import and_, false, or_, select, true

from sqlalchemy import inspect as sa_inspect

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


# Tables no page, API or console may change: only services and workflows add their rows.
READ_ONLY_TABLES = frozenset({"audit_log"})


def scope_clause(model, actor: Optional[Actor], write: bool = False):
    """SQL condition limiting ``model`` rows to what ``actor`` may see (``false()`` for nobody).

    With ``write=True`` the stricter write rule (see the module docstring): rows the actor may
    change or delete. The write rule's rows are always a subset of the read rule's.
    """
    if write:
        return write_clause(model, actor)
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


def _is_super_admin(actor: Actor):
    """SQL condition: the actor's acting membership is its organisation's super admin."""
    from ..models.account import Membership

    if actor.membership_id is None:
        return false()
    return (
        select(Membership.id)
        .where(Membership.id == actor.membership_id, Membership.org_id == actor.org_id, Membership.is_super.is_(True))
        .exists()
    )


def write_clause(model, actor: Optional[Actor]):
    """SQL condition limiting ``model`` rows to those ``actor`` may change or delete.

    Guarantees: never wider than ``scope_clause(model, actor)``; never a shared ancestor row, a
    row reached only as its handler or second organisation, a row of another capacity (a
    professional writes only its own rows, an admin only rows owned inside its subtree), an
    ancestor organisation, or an audit row. Reference data (no ``__scope__``) is left to the
    permissions, as for reading.
    """
    spec = getattr(model, "__scope__", None)
    if actor is None:
        return false()
    if getattr(model, "__tablename__", None) in READ_ONLY_TABLES:
        return false()
    if spec is None or actor.is_global:
        return true()
    if actor.is_person:
        if "person" in spec and actor.person_id is not None:
            return _equals(model, spec["person"], actor.person_id)
        return false()
    if actor.org_path is None:
        return false()
    if model is Organization:
        return Organization.path.like(like_prefix(actor.org_path), escape="\\")
    if model.__name__ == "Membership":
        below = select(Organization.id).where(
            Organization.path.like(like_prefix(actor.org_path), escape="\\"), Organization.id != actor.org_id
        )
        own = and_(
            model.org_id == actor.org_id,
            model.is_super.is_(False),
            model.id != (actor.membership_id or -1),
            _is_super_admin(actor),
        )
        return or_(model.org_id.in_(below), own)
    return _in(model, spec["org"], subtree_ids(actor))


def _owner_value(item, spec: str):
    """The value of ``col`` / ``relationship.col`` of ``__scope__`` on an in-memory ``item``, also
    before it was flushed (read through the relationship when only that is set)."""
    if "." in spec:
        rel_name, col = spec.split(".", 1)
        target = getattr(item, rel_name, None)
        if target is None:
            rel = sa_inspect(type(item)).relationships[rel_name]
            fk = getattr(item, list(rel.local_columns)[0].key, None)
            if fk is None:
                return None
            target = object_session_get(item, rel.mapper.class_, fk)
        return None if target is None else _owner_value(target, col)
    value = getattr(item, spec, None)
    if value is not None:
        return value
    for rel in sa_inspect(type(item)).relationships:
        if rel.direction.name == "MANYTOONE" and [c.key for c in rel.local_columns] == [spec]:
            related = getattr(item, rel.key, None)
            return None if related is None else related.id
    return None


def object_session_get(item, model, pk):
    from sqlalchemy.orm import object_session

    session = object_session(item)
    return session.get(model, pk) if session is not None else None


def item_writable(session, actor: Optional[Actor], item) -> bool:
    """True when the in-memory ``item`` (new, or with its changes applied) is owned where the
    actor may write: its ``org`` owner inside the actor's subtree (for an organisation: its
    superior, when new), or for a professional its ``person`` column being itself. An owner not
    yet known (set later by the caller) is left to the caller's own checks."""
    model = type(item)
    spec = getattr(model, "__scope__", None)
    if actor is None:
        return False
    if getattr(model, "__tablename__", None) in READ_ONLY_TABLES:
        return False
    if spec is None or actor.is_global:
        return True
    if actor.is_person:
        if "person" not in spec or actor.person_id is None:
            return False
        person = _owner_value(item, spec["person"])
        return person is None or int(person) == actor.person_id
    if model is Organization and item.id is None:
        owner = item.parent.id if item.parent is not None else item.parent_id
        return owner is not None and org_in_scope(session, actor, owner)
    owner = _owner_value(item, spec["org"])
    if owner is None:
        return True
    if not org_in_scope(session, actor, owner):
        return False
    if model.__name__ == "Membership" and int(owner) == actor.org_id:
        if item.is_super or (item.id is not None and item.id == actor.membership_id):
            return False
        return session.execute(select(_is_super_admin(actor))).scalar() is True
    return True


def writable(session, model, actor: Optional[Actor], pk) -> bool:
    """True when the row ``pk`` of ``model`` exists and the actor may change or delete it."""
    stmt = select(model.id).where(model.id == pk, write_clause(model, actor))
    return session.execute(stmt).first() is not None


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
