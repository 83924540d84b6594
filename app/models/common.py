"""Shared column helpers and the status vocabulary used by several aggregates."""

from datetime import datetime, timezone

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, Integer, String


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


class SerialCounter(Model):
    """A named counter incremented under a row lock (``services.certificate_numbers``): serials that
    stay unique when many transactions draw one at the same time."""

    __tablename__ = "serial_counter"
    name = Column(String(32), primary_key=True)
    value = Column(Integer, nullable=False, default=0)
