"""Past-year declaration windows (补报): an HR bureau opens one past year for one professional."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..capacities import HR, PROVINCE
from ..extensions import db
from ..models import DeclarationWindow, Professional
from ..models.common import APPROVED
from .scope import Actor, scope_clause

# The first year the platform keeps requirements for (SPEC §6).
FIRST_YEAR = 2013
# A window stays open at most this long.
MAX_DAYS = 366

E = {
    "capacity": _l("Only an HR bureau may open a past year for declarations."),
    "person": _l("No approved professional with this ID number is in your area."),
    "until": _l("The window must close between today and one year from today."),
    "reason": _l("Give a reason of at most 1000 characters."),
    "taken": _l("This year is already open for this professional."),
}


class WindowInvalid(Exception):
    """Validation failed; ``errors`` maps field name -> translated message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(sorted(errors)))
        self.errors = errors

    def __str__(self):
        return "；".join(str(m) for m in self.errors.values())


def open_window_years(professional_id: int, today: Optional[dt.date] = None) -> set[int]:
    """Past years open for ``professional_id`` today (windows whose closing date has not passed)."""
    today = today or dt.date.today()
    rows = db.session.scalars(
        select(DeclarationWindow.year).where(
            DeclarationWindow.professional_id == professional_id, DeclarationWindow.until >= today
        )
    )
    return set(rows)


def check_window(actor: Actor, id_number: str, year, until, reason: str) -> Professional:
    """Validate a window an HR bureau wants to open; returns the professional it is for.

    Guarantees: the actor is an HR bureau or the province; the professional is approved and inside the
    actor's scope; the year is past (``FIRST_YEAR`` onwards); the window closes within a year; a reason
    is given; the year is not already open for that person. Raises ``WindowInvalid``; writes nothing.
    """
    errors: dict = {}
    if actor is None or actor.capacity not in (HR, PROVINCE):
        raise WindowInvalid({"id_number": E["capacity"]})
    today = dt.date.today()
    person = db.session.scalars(
        select(Professional).where(
            func.upper(Professional.id_number) == (id_number or "").strip().upper(),
            Professional.status == APPROVED,
            scope_clause(Professional, actor),
        )
    ).first()
    if person is None:
        errors["id_number"] = E["person"]
    if not isinstance(year, int) or not FIRST_YEAR <= year < today.year:
        errors["year"] = _l("Choose a past year from %(first)d to %(last)d.", first=FIRST_YEAR, last=today.year - 1)
    if not isinstance(until, dt.date) or not today <= until <= today + dt.timedelta(days=MAX_DAYS):
        errors["until"] = E["until"]
    if not (reason or "").strip() or len(reason) > 1000:
        errors["reason"] = E["reason"]
    if person is not None and "year" not in errors:
        taken = db.session.scalar(
            select(DeclarationWindow.id).where(
                DeclarationWindow.professional_id == person.id, DeclarationWindow.year == year
            )
        )
        if taken:
            errors["year"] = E["taken"]
    if errors:
        raise WindowInvalid(errors)
    return person


def open_window(actor: Actor, id_number: str, year: int, until: dt.date, reason: str) -> DeclarationWindow:
    """Open ``year`` for the professional with ``id_number`` until ``until`` (validated by
    ``check_window`` first). Commits."""
    person = check_window(actor, id_number, year, until, reason)
    window = DeclarationWindow(
        professional_id=person.id, year=year, until=until, reason=reason.strip(), opened_by_org_id=actor.org_id
    )
    try:
        db.session.add(window)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return window
