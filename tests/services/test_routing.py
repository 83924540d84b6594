"""Review routes of hours declarations for every organisation shape (SPEC §5)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.routing import route_for
from tests import factories as f


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def _tree():
    province = f.org("province")
    city = f.org("hr", parent=province)
    county = f.org("hr", parent=city)
    competent = f.org("competent", parent=county)
    sub_competent = f.org("competent", parent=competent)
    return province, city, county, competent, sub_competent


def test_employer_competent_hr(ctx):
    province, city, county, competent, _ = _tree()
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "路由甲")
    assert route_for(person) == [employer.id, competent.id, county.id]


def test_two_competent_departments_are_both_on_the_route(ctx):
    province, city, county, competent, sub = _tree()
    employer = f.org("employer", parent=sub)
    person = f.professional(employer, "路由乙")
    assert route_for(person) == [employer.id, sub.id, competent.id, county.id]


def test_without_competent_department_employer_then_hr(ctx):
    province, city, county, competent, _ = _tree()
    employer = f.org("employer", parent=county)
    person = f.professional(employer, "路由丙")
    assert route_for(person) == [employer.id, county.id]


def test_accountant_skips_competent_departments(ctx):
    province, city, county, competent, sub = _tree()
    employer = f.org("employer", parent=sub)
    person = f.professional(employer, "会计甲", is_accountant=True)
    assert route_for(person) == [employer.id, county.id]
    assert route_for(person, subject_type="public") == [employer.id, county.id]


def test_parent_employer_open_reviews_and_closed_is_skipped(ctx):
    province, city, county, competent, _ = _tree()
    top = f.org("employer", parent=competent)
    middle = f.org("employer", parent=top)
    unit = f.org("employer", parent=middle)
    person = f.professional(unit, "路由丁")
    assert route_for(person) == [unit.id, middle.id, top.id, competent.id, county.id]
    middle.review_closed = True
    db.session.flush()
    assert route_for(person) == [unit.id, top.id, competent.id, county.id]


def test_organisation_made_declaration_starts_above_the_declaring_org(ctx):
    province, city, county, competent, _ = _tree()
    top = f.org("employer", parent=competent)
    unit = f.org("employer", parent=top)
    person = f.professional(unit, "路由戊")
    assert route_for(person, declared_by_org=unit) == [top.id, competent.id, county.id]
    assert route_for(person, declared_by_org=top) == [competent.id, county.id]
    assert route_for(person, declared_by_org=competent) == [county.id]


def test_ce_base_declaration_goes_to_its_superior(ctx):
    province, city, county, competent, _ = _tree()
    base = f.org("ce_base", parent=competent)
    employer = f.org("employer", parent=county)
    person = f.professional(employer, "路由己")
    assert route_for(person, declared_by_org=base) == [competent.id, county.id]


def test_no_hr_bureau_above_goes_to_the_province(ctx):
    province = f.org("province")
    competent = f.org("competent", parent=province)
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "路由庚")
    assert route_for(person) == [employer.id, competent.id, province.id]
    direct = f.org("employer", parent=province)
    person2 = f.professional(direct, "路由辛")
    assert route_for(person2) == [direct.id, province.id]


def test_route_is_never_empty_even_when_everything_below_is_closed(ctx):
    province, city, county, competent, _ = _tree()
    employer = f.org("employer", parent=county, review_closed=True)
    person = f.professional(employer, "路由壬")
    assert route_for(person) == [county.id]
    assert route_for(person, declared_by_org=county) == [city.id]
