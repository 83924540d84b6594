"""Past-year declaration windows (补报): who may open one, and what it lets the professional declare."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models import Declaration, DeclarationWindow
from app.services.declaration_windows import WindowInvalid, check_window, open_window
from app.services.declarations import DeclarationInvalid, open_years, save_declaration
from tests import factories as f
from tests.services.test_declarations import admin_actor, conference, person_actor

TODAY = dt.date.today()
LAST_YEAR = TODAY.year - 1


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def world():
    province = f.org("province")
    county = f.org("hr", parent=province)
    other_county = f.org("hr", parent=province)
    employer = f.org("employer", parent=county)
    person = f.professional(employer, "补报甲")
    db.session.commit()
    return county, other_county, employer, person


def _conference_of(year):
    return conference(year=year, start_date=f"{year}-03-01", end_date=f"{year}-03-02")


def test_a_window_opens_a_past_year_until_its_date(ctx):
    county, _other, _employer, person = world()
    refused = pytest.raises(DeclarationInvalid)
    with refused as e:
        save_declaration(person_actor(person), _conference_of(LAST_YEAR), [])
    assert "year" in e.value.errors
    open_window(admin_actor(county), person.id_number, LAST_YEAR, TODAY, "疫情期间未能申报")
    assert open_years(person) == {TODAY.year, LAST_YEAR}
    saved = save_declaration(person_actor(person), _conference_of(LAST_YEAR), [])
    assert saved.year == LAST_YEAR and saved.state == "draft"
    # Once the window has closed the year is closed again.
    db.session.query(DeclarationWindow).filter_by(professional_id=person.id).update({"until": TODAY - dt.timedelta(days=1)})
    db.session.commit()
    assert open_years(person) == {TODAY.year}


@pytest.mark.parametrize("field,kwargs", [
    ("year", {"year": TODAY.year}),
    ("year", {"year": 2012}),
    ("until", {"until": TODAY - dt.timedelta(days=1)}),
    ("until", {"until": TODAY + dt.timedelta(days=400)}),
    ("reason", {"reason": " "}),
    ("reason", {"reason": "理" * 1001}),
])
def test_bad_windows_are_refused_and_nothing_written(ctx, field, kwargs):
    county, _other, _employer, person = world()
    args = {"year": LAST_YEAR, "until": TODAY, "reason": "补报"}
    args.update(kwargs)
    with pytest.raises(WindowInvalid) as e:
        open_window(admin_actor(county), person.id_number, **args)
    assert field in e.value.errors
    assert db.session.query(DeclarationWindow).filter_by(professional_id=person.id).count() == 0


def test_only_an_hr_bureau_with_the_person_in_scope(ctx):
    county, other_county, employer, person = world()
    with pytest.raises(WindowInvalid) as e:
        check_window(admin_actor(other_county), person.id_number, LAST_YEAR, TODAY, "补报")
    assert set(e.value.errors) == {"id_number"}
    with pytest.raises(WindowInvalid):
        check_window(admin_actor(employer), person.id_number, LAST_YEAR, TODAY, "补报")
    with pytest.raises(WindowInvalid):
        check_window(person_actor(person), person.id_number, LAST_YEAR, TODAY, "补报")
    open_window(admin_actor(county), person.id_number.lower(), LAST_YEAR, TODAY, "补报")
    with pytest.raises(WindowInvalid) as e:
        open_window(admin_actor(county), person.id_number, LAST_YEAR, TODAY, "再次")
    assert set(e.value.errors) == {"year"}
    assert db.session.query(Declaration).filter_by(professional_id=person.id).count() == 0
