"""Helpers shared by the paged lists of services and custom views."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db


def capped_count(stmt) -> tuple[int, bool]:
    """Rows of ``stmt`` counted up to ``CE_COUNT_CAP`` (+1, to know there are more): (count, capped).

    A capped count shows as "N+"; large scopes then page as fast as small ones.
    """
    cap = current_app.config.get("CE_COUNT_CAP", 10000)
    inner = stmt.order_by(None).limit(cap + 1).subquery()
    n = db.session.scalar(select(func.count()).select_from(inner)) or 0
    return min(n, cap), n > cap
