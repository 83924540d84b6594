"""Yearly requirements: every row of the SPEC §6 table as seeded by the migration, the boundary years,
carrying a year's rows forward, the strictest row for a person without a title level, prorating."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AnnualRequirement, RequirementReduction, TitleLevel
from app.services.requirements import prorate, requirement_for
from tests import factories as f


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def level(code, rank):
    found = db.session.query(TitleLevel).filter_by(code=code).one_or_none()
    if found is None:
        found = TitleLevel(code=code, name=code, rank=rank)
        db.session.add(found)
        db.session.flush()
    return found


def person(title=None, region_code="410105"):
    region = f.region(region_code, "区" + region_code, "county")
    employer = f.org("employer", region_obj=region)
    p = f.professional(employer, "要求甲", region=region)
    if title:
        p.title_level = level(*title)
    db.session.flush()
    return p


def minimums(p, year):
    r = requirement_for(p, year)
    return (r.public_min, r.professional_min, r.total_min)


D = Decimal
JUNIOR, INTERMEDIATE, SENIOR = ("junior", 1), ("intermediate", 2), ("senior", 3)


@pytest.mark.parametrize("year", [2013, 2014, 2015])
def test_2013_to_2015_by_title_level(ctx, year):
    assert minimums(person(JUNIOR), year) == (D(22), D(52), D(74))
    assert minimums(person(INTERMEDIATE), year) == (D(26), D(60), D(86))
    assert minimums(person(SENIOR), year) == (D(26), D(60), D(86))


@pytest.mark.parametrize("year", [2016, 2017])
def test_2016_and_2017_by_region(ctx, year):
    zhengzhou = person(JUNIOR, "410105")  # 金水区, Zhengzhou
    luoyang = person(SENIOR, "410302")  # 老城区, Luoyang
    assert minimums(zhengzhou, year) == (D(30), D(60), D(90))
    assert minimums(luoyang, year) == (D(24), D(66), D(90))


@pytest.mark.parametrize("year", [2018, 2019, 2026, 2040])
def test_2018_onwards_thirty_plus_sixty(ctx, year):
    for p in (person(JUNIOR, "410302"), person(SENIOR, "410105"), person()):
        assert minimums(p, year) == (D(30), D(60), D(90))


def test_boundary_years(ctx):
    junior_luoyang = person(JUNIOR, "410302")
    assert minimums(junior_luoyang, 2015) == (D(22), D(52), D(74))
    assert minimums(junior_luoyang, 2016) == (D(24), D(66), D(90))
    assert minimums(junior_luoyang, 2017) == (D(24), D(66), D(90))
    assert minimums(junior_luoyang, 2018) == (D(30), D(60), D(90))
    # Before the platform's first year: the national 30 + 60 = 90.
    assert minimums(junior_luoyang, 2012) == (D(30), D(60), D(90))


def test_a_missing_title_level_gets_the_strictest_row(ctx):
    assert minimums(person(None, "410302"), 2014) == (D(26), D(60), D(86))


def test_a_new_years_rows_hold_until_a_later_year_has_rows(ctx):
    db.session.add(AnnualRequirement(year=2091, title_level="all", region_scope="all", public_min=40,
                                     professional_min=80, total_min=120, public_counts_as_professional=True))
    db.session.flush()
    p = person(SENIOR)
    assert minimums(p, 2090) == (D(30), D(60), D(90))
    assert minimums(p, 2091) == minimums(p, 2095) == (D(40), D(80), D(120))
    assert requirement_for(p, 2093).public_counts_as_professional is True
    assert requirement_for(p, 2093).rule_year == 2091


def test_prorating_by_months_on_duty(ctx):
    assert prorate(D(66), 6) == D("33.0")
    assert prorate(D(90), 6) == D("45.0")
    assert prorate(D(22), 7) == D("12.8")
    assert prorate(D(60), 0) == D("0.0")
    p = person(SENIOR, "410302")
    db.session.add(RequirementReduction(professional_id=p.id, org_id=p.org_id, year=2016, reason="maternity",
                                        months_on_duty=6, state="approved"))
    db.session.add(RequirementReduction(professional_id=p.id, org_id=p.org_id, year=2017, reason="abroad",
                                        months_on_duty=3, state="pending"))
    db.session.flush()
    r = requirement_for(p, 2016)
    assert (r.public_min, r.professional_min, r.total_min, r.months_on_duty) == (D(12), D(33), D(45), 6)
    assert minimums(p, 2017) == (D(24), D(66), D(90))  # pending requests change nothing
    assert requirement_for(p, 2016, reduction=False).professional_min == D(66)
