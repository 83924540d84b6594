"""Shared column helpers and the status vocabulary used by several aggregates."""

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def created_at() -> Column:
    return Column(DateTime, default=utcnow, nullable=False)


# Registration / review status of an organisation, a membership or a professional profile.
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
CLOSED = "closed"
REVIEW_STATUSES = (PENDING, APPROVED, REJECTED, WITHDRAWN, CLOSED)
