"""Keeps ``Organization.path`` right on insert and when a superior changes (subtree moved along)."""

from __future__ import annotations

from sqlalchemy import String, event, func, literal, select, update

from ..models.org import Organization


def path_for(parent_path: str | None, org_id: int) -> str:
    """The materialised path of an organisation with id ``org_id`` under ``parent_path``."""
    return f"{parent_path or '/'}{org_id}/"


def _parent_path(connection, parent_id):
    if parent_id is None:
        return None
    return connection.execute(select(Organization.path).where(Organization.id == parent_id)).scalar()


@event.listens_for(Organization, "after_insert")
def _set_path(mapper, connection, target):
    path = path_for(_parent_path(connection, target.parent_id), target.id)
    connection.execute(update(Organization).where(Organization.id == target.id).values(path=path))
    target.path = path


@event.listens_for(Organization, "after_update")
def _move_subtree(mapper, connection, target):
    from sqlalchemy import inspect

    history = inspect(target).attrs.parent_id.history
    if not history.has_changes():
        return
    old = connection.execute(select(Organization.path).where(Organization.id == target.id)).scalar()
    new = path_for(_parent_path(connection, target.parent_id), target.id)
    if new.startswith(old):
        raise ValueError("an organisation cannot be moved under its own subtree")
    connection.execute(
        update(Organization)
        .where(Organization.path.like(old.replace("%", "\\%").replace("_", "\\_") + "%", escape="\\"))
        .values(path=literal(new, String) + func.substr(Organization.path, len(old) + 1, type_=String))
    )
    target.path = new
