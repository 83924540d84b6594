"""Yearly requirements (管理年度完成继续教育学时): which minimums apply to a person in a year.

Requirements are base data (``AnnualRequirement``) by year, title level (junior / intermediate /
senior / all) and region scope (zhengzhou / elsewhere / all). A year's rows hold until a later year
has rows of its own (the seeded table has 2013–2018: "2018 onwards" is the 2018 row). An approved
reduced requirement (学时折算, ``RequirementReduction``) prorates the year's minimums by the months
on duty. ``requirement_for`` is the one function that answers "what applies to this person in this
year"; ``rules_for_year`` and ``pick_rule`` are its pure parts, shared with the SQL of
``services.completion``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional

from sqlalchemy import func, select

from ..extensions import db
from ..models import AnnualRequirement, Professional, RequirementReduction

LEVELS = ("junior", "intermediate", "senior")
ALL = "all"
ZHENGZHOU = "zhengzhou"
ELSEWHERE = "elsewhere"
SCOPES = (ZHENGZHOU, ELSEWHERE)
# Title levels by their rank in the code table (1 初级, 2 中级, 3 高级), so renamed codes still match.
LEVEL_BY_RANK = {1: "junior", 2: "intermediate", 3: "senior"}
ZHENGZHOU_PREFIX = "4101"
MONTHS = 12
# Before the first year with rows (the platform started in 2013): the national 30 + 60 = 90.
DEFAULT = (Decimal("30.0"), Decimal("60.0"), Decimal("90.0"))
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Requirement:
    """The minimums of one person in one year. ``rule_year`` is the year of the rows applied (None:
    the default); ``months_on_duty`` is set when an approved reduction prorated the minimums."""

    year: int
    public_min: Decimal
    professional_min: Decimal
    total_min: Decimal
    public_counts_as_professional: bool = False
    rule_year: Optional[int] = None
    months_on_duty: Optional[int] = None


def title_level_key(professional: Professional) -> Optional[str]:
    """"junior" / "intermediate" / "senior" for the person's title level, else None."""
    level = professional.title_level
    if level is None:
        return None
    if level.code in LEVELS:
        return level.code
    return LEVEL_BY_RANK.get(level.rank)


def region_scope(professional: Professional) -> str:
    """"zhengzhou" when the person's region (else the employer's) lies in Zhengzhou, else "elsewhere"."""
    region = professional.region or (professional.org.region if professional.org is not None else None)
    code = region.code if region is not None else ""
    return ZHENGZHOU if code.startswith(ZHENGZHOU_PREFIX) else ELSEWHERE


def rules_for_year(year: int) -> list[AnnualRequirement]:
    """The requirement rows that govern ``year``: those of the latest year ≤ ``year`` having rows
    (empty before the first one)."""
    rule_year = db.session.scalar(
        select(func.max(AnnualRequirement.year)).where(AnnualRequirement.year <= year)
    )
    if rule_year is None:
        return []
    return list(db.session.scalars(
        select(AnnualRequirement).where(AnnualRequirement.year == rule_year).order_by(AnnualRequirement.id)
    ))


def pick_rule(rows: Iterable[AnnualRequirement], level: Optional[str], scope: str):
    """The row for a person of ``level`` and ``scope`` among one year's ``rows``: an exact title level
    beats "all", then an exact region scope beats "all". A person without a title level in a year
    whose rows are by level gets the strictest row (highest total): a missing title must not lower
    the requirement. None when ``rows`` is empty."""
    rows = list(rows)
    best, best_score = None, -1
    for row in rows:
        if row.title_level not in (ALL, level) or row.region_scope not in (ALL, scope):
            continue
        score = (2 if row.title_level == level else 0) + (1 if row.region_scope == scope else 0)
        if score > best_score:
            best, best_score = row, score
    if best is None and rows:
        candidates = [r for r in rows if r.region_scope in (ALL, scope)] or rows
        best = max(candidates, key=lambda r: (r.total_min, r.professional_min, -r.id))
    return best


def prorate(value: Decimal, months_on_duty: int) -> Decimal:
    """``value`` × months on duty / 12, to one decimal (half up): 66 with six months → 33.0."""
    return (Decimal(value) * Decimal(months_on_duty) / MONTHS).quantize(TENTH, rounding=ROUND_HALF_UP)


def approved_reduction(professional_id: int, year: int) -> Optional[RequirementReduction]:
    """The approved reduced-requirement request of the person for ``year`` (the latest one), if any."""
    return db.session.scalars(
        select(RequirementReduction)
        .where(
            RequirementReduction.professional_id == professional_id,
            RequirementReduction.year == year,
            RequirementReduction.state == "approved",
        )
        .order_by(RequirementReduction.decided_at.desc(), RequirementReduction.id.desc())
        .limit(1)
    ).first()


def requirement_for(professional: Professional, year: int, *, rows=None, reduction=True) -> Requirement:
    """The requirement that applies to ``professional`` in ``year``.

    Guarantees: the row is chosen by ``pick_rule`` among ``rules_for_year(year)`` (pass ``rows`` to
    reuse them for many people); with no rows, 30 + 60 = 90; when ``reduction`` is true and an
    approved reduced requirement exists for the year, every minimum is prorated by its months on duty.
    """
    if rows is None:
        rows = rules_for_year(year)
    row = pick_rule(rows, title_level_key(professional), region_scope(professional))
    if row is None:
        public, professional_min, total = DEFAULT
        req = Requirement(year, public, professional_min, total)
    else:
        req = Requirement(
            year,
            Decimal(row.public_min).quantize(TENTH),
            Decimal(row.professional_min).quantize(TENTH),
            Decimal(row.total_min).quantize(TENTH),
            bool(row.public_counts_as_professional),
            row.year,
        )
    if reduction and professional.id is not None:
        found = approved_reduction(professional.id, year)
        if found is not None:
            req = reduced(req, found.months_on_duty)
    return req


def reduced(req: Requirement, months_on_duty: int) -> Requirement:
    """``req`` with every minimum prorated by ``months_on_duty`` (0–11)."""
    return replace(
        req,
        public_min=prorate(req.public_min, months_on_duty),
        professional_min=prorate(req.professional_min, months_on_duty),
        total_min=prorate(req.total_min, months_on_duty),
        months_on_duty=months_on_duty,
    )
