"""Audit rows for security-relevant acts that are not workflow triggers (logins, exports, prints,
console edits, password resets...). Workflow triggers write theirs through ``workflows.base.audit``."""

from __future__ import annotations

from typing import Optional

from ..extensions import db
from ..models import AuditLog


def record_event(
    trigger: str,
    *,
    object_type: str,
    object_id: Optional[int] = None,
    actor=None,
    user_id: Optional[int] = None,
    org_id: Optional[int] = None,
    comment: Optional[str] = None,
    session=None,
) -> AuditLog:
    """Add one audit row (not committed: it is written with the caller's transaction).

    ``actor`` (a ``services.scope.Actor``) supplies the acting user and organisation; ``user_id`` /
    ``org_id`` override them (e.g. a failed login has a user but no actor). ``object_id`` defaults to
    0 for acts on no single row (an export of a list).
    """
    session = session or db.session
    row = AuditLog(
        object_type=object_type,
        object_id=object_id if object_id is not None else 0,
        trigger=trigger,
        actor_user_id=user_id if user_id is not None else getattr(actor, "user_id", None),
        actor_org_id=org_id if org_id is not None else (
            None if actor is None or getattr(actor, "is_person", False) else getattr(actor, "org_id", None)
        ),
        comment=(comment or "")[:2000] or None,
    )
    session.add(row)
    return row
