"""Internal departments (内设部门) as a tree inside one organisation."""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..models import Department, Professional

MESSAGES = {
    "parent": _l("Choose an enabled department of your own organisation as the superior department."),
    "cycle": _l("A department cannot be placed under itself or one of its own sub-departments."),
    "in_use": _l("This department still has sub-departments or professionals: disable it instead."),
    "member": _l("Choose a department of the professional's own employer."),
}

MAX_DEPTH = 32


class DepartmentError(Exception):
    """A refused department change; the message is translatable."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def ancestors(dept: Optional[Department]) -> list[Department]:
    """``dept`` and its ancestors, root last (stops on a broken cycle)."""
    out, seen = [], set()
    while dept is not None and dept.id not in seen and len(out) < MAX_DEPTH:
        seen.add(dept.id)
        out.append(dept)
        dept = dept.parent
    return out


def full_path(dept: Optional[Department]) -> str:
    """``Root / … / dept`` (empty for None)."""
    return " / ".join(d.name for d in reversed(ancestors(dept)))


def check_parent(dept: Department, parent: Optional[Department]) -> None:
    """Raise ``DepartmentError`` unless ``parent`` may be ``dept``'s superior department.

    Guarantees: the parent is an enabled department of the same organisation, and never ``dept``
    itself or one of its descendants (no cycle).
    """
    if parent is None:
        return
    if parent is dept or (dept.id is not None and parent.id == dept.id):
        raise DepartmentError(MESSAGES["cycle"])
    org_id = dept.org.id if dept.org is not None else dept.org_id
    if org_id is None or parent.org_id != org_id or not parent.enabled:
        raise DepartmentError(MESSAGES["parent"])
    if dept.id is not None and any(a.id == dept.id for a in ancestors(parent)):
        raise DepartmentError(MESSAGES["cycle"])


def check_member_department(person) -> None:
    """Raise ``DepartmentError`` unless ``person``'s department (if any) belongs to its own employer."""
    dept = person.department
    if dept is not None and dept.org_id != person.org_id:
        raise DepartmentError(MESSAGES["member"])


def check_delete(session, dept: Department) -> None:
    """Refuse deleting a department that still has sub-departments or professionals."""
    child = session.execute(select(Department.id).where(Department.parent_id == dept.id)).first()
    person = session.execute(select(Professional.id).where(Professional.department_id == dept.id)).first()
    if child is not None or person is not None:
        raise DepartmentError(MESSAGES["in_use"])
