"""证书管理号 (证书管理办法 第十三条): 13 digits = 41 (Henan) + 2 digits of the province-direct unit /
city / province-administered county + 2 digits of the county or district (GB/T 2260) + a 7-digit
serial generated at registration.

Serials come from one counter row (``SerialCounter`` "certificate_no") incremented by an UPDATE, so
concurrent approvals wait on the row lock and never draw the same serial; bulk loaders (demo,
scale) write numbers themselves and then call ``sync_counter``.
"""

from __future__ import annotations

import re
from typing import Optional

from flask import current_app, has_app_context
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Professional, Region, SerialCounter

COUNTER = "certificate_no"
PROVINCE = "41"
SERIAL_DIGITS = 7
MAX_SERIAL = 10**SERIAL_DIGITS - 1
# 省直 is a region entry of the platform, not a division. The seed's sample profile of a 省直 unit
# shows 4119010013109, so province-direct units get "1901" unless configured otherwise.
DIRECT_DIGITS = "1901"
NUMBER_RE = re.compile(r"^41\d{11}$")


class SerialsExhausted(RuntimeError):
    """All 9,999,999 serials have been given."""


def region_digits(region: Optional[Region]) -> str:
    """The 4 digits after "41" for a person of ``region``: city + county of its GB/T 2260 code (a city
    itself gives "xx00", 济源 419001 gives "9001"); the 省直 entry (level "direct") gives the configured
    ``CE_CERTIFICATE_DIRECT_DIGITS``; no region or an unknown code gives "0000"."""
    if region is not None and region.level == "direct":
        digits = current_app.config.get("CE_CERTIFICATE_DIRECT_DIGITS") if has_app_context() else None
        return digits or DIRECT_DIGITS
    code = region.code if region is not None else ""
    if len(code) == 6 and code.isdigit() and code.startswith(PROVINCE):
        return code[2:6]
    return "0000"


def person_region(professional: Professional) -> Optional[Region]:
    """The region that names a person's certificate: their own, else their employer's."""
    if professional.region is not None:
        return professional.region
    return professional.org.region if professional.org is not None else None


def format_number(region: Optional[Region], serial: int) -> str:
    """The 13-digit number of ``serial`` for a person of ``region``."""
    if not 0 < serial <= MAX_SERIAL:
        raise SerialsExhausted(serial)
    return f"{PROVINCE}{region_digits(region)}{serial:0{SERIAL_DIGITS}d}"


def next_serial() -> int:
    """Draw the next serial in the current transaction (row-locked until it ends)."""
    result = db.session.execute(
        update(SerialCounter).where(SerialCounter.name == COUNTER).values(value=SerialCounter.value + 1)
    )
    if result.rowcount == 0:
        db.session.add(SerialCounter(name=COUNTER, value=_highest_serial() + 1))
        db.session.flush()
    return db.session.scalar(select(SerialCounter.value).where(SerialCounter.name == COUNTER))


def assign(professional: Professional) -> str:
    """Give ``professional`` a certificate number unless it has one; returns the number. Flushes
    nothing else; the caller commits."""
    if not professional.certificate_no:
        professional.certificate_no = format_number(person_region(professional), next_serial())
    return professional.certificate_no


def _highest_serial() -> int:
    top = db.session.scalar(
        select(func.max(func.substr(Professional.certificate_no, 7, SERIAL_DIGITS))).where(
            Professional.certificate_no.isnot(None)
        )
    )
    return int(top) if top and str(top).isdigit() else 0


def sync_counter() -> int:
    """Move the counter up to the highest serial already written (after bulk loads); returns it."""
    top = _highest_serial()
    current = db.session.scalar(select(SerialCounter).where(SerialCounter.name == COUNTER))
    if current is None:
        db.session.add(SerialCounter(name=COUNTER, value=top))
    elif current.value < top:
        current.value = top
    db.session.flush()
    return top


def is_valid_number(number: str) -> bool:
    """True for a syntactically valid 13-digit Henan certificate number."""
    return bool(number) and bool(NUMBER_RE.match(number))
