"""Annual completion (年度完成情况): a person's hours per year against the requirement that applies.

A year passes when an approved declaration of a full-year form (援藏援疆… ``counts_full_year``)
exists for it, or when public ≥ the public minimum, professional ≥ the professional minimum and
public + professional ≥ the total minimum. With ``public_counts_as_professional`` on the rule,
public hours beyond the public minimum count toward the professional minimum. Hours are the finally
approved ones (the hours ledger). The same rule is written twice on purpose: ``evaluate`` for one
person's years (Python, with the reasons shown to the person) and ``passed_clause`` for lists of
thousands (SQL); ``tests/services/test_completion.py`` checks that both agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Declaration,
    HoursLedger,
    Organization,
    Professional,
    Region,
    RequirementReduction,
    TitleLevel,
)
from ..models.learning import PROFESSIONAL, PUBLIC
from ..plugins import all_learning_forms
from .requirements import (
    ELSEWHERE,
    LEVEL_BY_RANK,
    LEVELS,
    MONTHS,
    SCOPES,
    ZHENGZHOU,
    ZHENGZHOU_PREFIX,
    Requirement,
    pick_rule,
    requirement_for,
    rules_for_year,
)
from .scope import Actor, like_contains, scope_clause

ZERO = Decimal("0.0")
APPROVED = "approved"
MESSAGES = {
    "empty": _l("Choose a range of years to print."),
    "failed": _l("Merged printing needs every year in the range to be passed; not passed: %(years)s."),
}


@dataclass
class YearResult:
    """One row of 年度完成情况. ``shortfall`` maps "public" / "professional" / "total" to the hours
    still missing (empty when passed)."""

    year: int
    public: Decimal
    professional: Decimal
    requirement: Requirement
    full_year: bool = False
    passed: bool = False
    shortfall: dict = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.public + self.professional


def full_year_codes() -> list[str]:
    """Codes of the learning forms whose approval completes the year (enabled or not: past approvals
    keep counting after a form is switched off)."""
    return sorted(code for code, form in all_learning_forms().items() if getattr(form, "counts_full_year", False))


def evaluate(public: Decimal, professional: Decimal, req: Requirement, full_year: bool = False) -> tuple[bool, dict]:
    """(passed, shortfall) of a year with ``public`` / ``professional`` approved hours under ``req``."""
    if full_year:
        return True, {}
    credited = professional
    if req.public_counts_as_professional and public > req.public_min:
        credited = professional + (public - req.public_min)
    short = {}
    if public < req.public_min:
        short[PUBLIC] = req.public_min - public
    if credited < req.professional_min:
        short[PROFESSIONAL] = req.professional_min - credited
    if public + professional < req.total_min:
        short["total"] = req.total_min - (public + professional)
    return not short, short


def first_year(professional: Professional) -> int:
    """The first year of 年度完成情况: the registration year, or an earlier year with approved hours."""
    years = [professional.created.year if professional.created else dt.date.today().year]
    earliest = db.session.scalar(
        select(func.min(HoursLedger.year)).where(HoursLedger.professional_id == professional.id)
    )
    if earliest is not None:
        years.append(int(earliest))
    return min(years)


def year_results(professional: Professional, year_from: Optional[int] = None,
                 year_to: Optional[int] = None, rules: Optional[dict] = None) -> list[YearResult]:
    """One ``YearResult`` per year from ``year_from`` (default: ``first_year``) to ``year_to`` (default:
    this year), newest first, as the professional's 年度完成情况 page lists them. ``rules`` (year →
    ``rules_for_year(year)``) may be passed to share the requirement rows across many people."""
    start = year_from if year_from is not None else first_year(professional)
    end = year_to if year_to is not None else dt.date.today().year
    if start > end:
        return []
    hours: dict[tuple[int, str], Decimal] = {}
    for year, subject, value in db.session.execute(
        select(HoursLedger.year, HoursLedger.subject_type, HoursLedger.hours).where(
            HoursLedger.professional_id == professional.id, HoursLedger.year.between(start, end)
        )
    ):
        hours[(year, subject)] = Decimal(value).quantize(Decimal("0.1"))
    codes = full_year_codes()
    full_years = set()
    if codes:
        full_years = set(db.session.scalars(
            select(Declaration.year).where(
                Declaration.professional_id == professional.id, Declaration.year.between(start, end),
                Declaration.state == APPROVED, Declaration.form_code.in_(codes),
            )
        ))
    out = []
    for year in range(end, start - 1, -1):
        req = requirement_for(professional, year, rows=rules.get(year) if rules is not None else None)
        public = hours.get((year, PUBLIC), ZERO)
        prof = hours.get((year, PROFESSIONAL), ZERO)
        full = year in full_years
        passed, short = evaluate(public, prof, req, full)
        out.append(YearResult(year, public, prof, req, full, passed, short))
    return out


def merge_refusal(results: list[YearResult]) -> Optional[str]:
    """Why the years of ``results`` cannot be printed on one merged certificate, or None when every
    year in the range passed."""
    if not results:
        return str(MESSAGES["empty"])
    failed = sorted(r.year for r in results if not r.passed)
    if failed:
        return str(MESSAGES["failed"]) % {"years": "、".join(str(y) for y in failed)}
    return None


def counted_declarations(professional: Professional, year: int) -> list[Declaration]:
    """The finally approved declarations behind a year's hours, in the order they were decided."""
    return list(db.session.scalars(
        select(Declaration).where(
            Declaration.professional_id == professional.id, Declaration.year == year, Declaration.state == APPROVED
        ).order_by(Declaration.decided_at, Declaration.id)
    ))


# ---------------------------------------------------------------- lists (SQL)


@dataclass
class _Columns:
    public: object
    professional: object
    full_year: object
    passed: object


def _year_requirement_columns(year: int, level_expr, scope_expr, months):
    """SQL expressions for the public / professional / total minimums and the counting flag of
    ``year``, resolved per person exactly as ``pick_rule`` does (and prorated by ``months``)."""
    rows = rules_for_year(year)
    combos = {}
    for level in (*LEVELS, None):
        for scope in SCOPES:
            row = pick_rule(rows, level, scope)
            if row is None:
                combos[(level, scope)] = (Decimal(30), Decimal(60), Decimal(90), False)
            else:
                combos[(level, scope)] = (Decimal(row.public_min), Decimal(row.professional_min),
                                          Decimal(row.total_min), bool(row.public_counts_as_professional))
    values = set(combos.values())

    def column(i):
        if len(values) == 1:
            return literal(next(iter(values))[i])
        whens = []
        for (level, scope), value in combos.items():
            level_cond = level_expr.is_(None) if level is None else level_expr == level
            whens.append((and_(level_cond, scope_expr == scope), literal(value[i])))
        return case(*whens, else_=literal(combos[(None, ELSEWHERE)][i]))

    def prorated(expr):
        return case((months.is_(None), expr), else_=func.round(expr * months / float(MONTHS), 1))

    return prorated(column(0)), prorated(column(1)), prorated(column(2)), column(3)


def passed_columns(year: int, stmt):
    """Add to ``stmt`` (a select from ``Professional`` joined to its ``Organization``) the joins that
    evaluate ``year``; returns (stmt, columns) where columns carries the public and professional hours,
    the full-year flag and the pass condition as SQL expressions."""
    pub = aliased(HoursLedger)
    pro = aliased(HoursLedger)
    red = aliased(RequirementReduction)
    own_region = aliased(Region)
    org_region = aliased(Region)
    stmt = (
        stmt.outerjoin(pub, and_(pub.professional_id == Professional.id, pub.year == year, pub.subject_type == PUBLIC))
        .outerjoin(pro, and_(pro.professional_id == Professional.id, pro.year == year,
                             pro.subject_type == PROFESSIONAL))
        .outerjoin(red, and_(red.professional_id == Professional.id, red.year == year, red.state == APPROVED))
    )
    rows = rules_for_year(year)
    by_level = any(r.title_level != "all" for r in rows)
    by_region = any(r.region_scope != "all" for r in rows)
    level_expr = literal(None)
    scope_expr = literal(ELSEWHERE)
    if by_level:
        stmt = stmt.outerjoin(TitleLevel, TitleLevel.id == Professional.title_level_id)
        level_expr = case(
            (TitleLevel.code.in_(LEVELS), TitleLevel.code),
            *[(TitleLevel.rank == rank, literal(code)) for rank, code in LEVEL_BY_RANK.items()],
            else_=literal(None),
        )
    if by_region:
        stmt = stmt.outerjoin(own_region, own_region.id == Professional.region_id).outerjoin(
            org_region, org_region.id == Organization.region_id
        )
        code = func.coalesce(own_region.code, org_region.code)
        scope_expr = case((code.like(ZHENGZHOU_PREFIX + "%"), literal(ZHENGZHOU)), else_=literal(ELSEWHERE))
    public_min, professional_min, total_min, counts = _year_requirement_columns(
        year, level_expr, scope_expr, red.months_on_duty
    )
    public = func.coalesce(pub.hours, 0)
    professional = func.coalesce(pro.hours, 0)
    extra = case((and_(counts == True, public > public_min), public - public_min), else_=0)  # noqa: E712
    codes = full_year_codes()
    full_year = (
        exists().where(
            Declaration.professional_id == Professional.id, Declaration.year == year,
            Declaration.state == APPROVED, Declaration.form_code.in_(codes),
        )
        if codes else literal(False)
    )
    by_hours = and_(public >= public_min, professional + extra >= professional_min, public + professional >= total_min)
    return stmt, _Columns(public, professional, full_year, or_(full_year, by_hours))


def completion_query(actor: Actor, year: int, *, search: str = "", passed: Optional[bool] = True):
    """Professionals (approved) in ``actor``'s scope with their hours of ``year``, newest id first;
    ``search`` matches the exact ID number or part of the name; ``passed`` True / False keeps only
    those who passed / did not, None keeps all. Returns a select of (Professional, public hours,
    professional hours, passed flag)."""
    stmt = select(Professional).join(Organization, Organization.id == Professional.org_id).where(
        Professional.status == APPROVED, scope_clause(Professional, actor)
    )
    stmt, cols = passed_columns(year, stmt)
    text = (search or "").strip()
    if text:
        stmt = stmt.where(or_(Professional.id_number == text.upper(), Professional.name.like(like_contains(text),
                                                                                             escape="\\")))
    if passed is True:
        stmt = stmt.where(cols.passed)
    elif passed is False:
        stmt = stmt.where(~cols.passed)
    return stmt.add_columns(cols.public, cols.professional, cols.passed.label("passed")).order_by(
        Professional.id.desc()
    )
