"""Annual completion: the pass rule, reductions, full-year forms (aid posting), the merged-print rule,
and the SQL of the admin lists agreeing with the per-person computation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AnnualRequirement, Declaration, RequirementReduction
from app.services.completion import (
    completion_query,
    counted_declarations,
    evaluate,
    merge_refusal,
    year_results,
)
from app.services.requirements import Requirement, requirement_for
from app.services.scope import Actor
from app.workflows.declaration import post_ledger
from tests import factories as f
from tests.services.test_requirements import SENIOR, level

D = Decimal


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def hours(p, year, public=0, professional=0):
    post_ledger({(p.id, year, "public"): D(public), (p.id, year, "professional"): D(professional)})


def approved(p, year, form_code, subject="professional", hours_=D(60)):
    d = Declaration(professional_id=p.id, org_id=p.org_id, subject_type=subject, form_code=form_code, year=year,
                    data={}, requested_hours=hours_, recognised_hours=hours_, state="approved",
                    decided_at=dt.datetime(year, 12, 1))
    db.session.add(d)
    db.session.flush()
    return d


def test_evaluate_the_three_minimums():
    req = Requirement(2020, D(30), D(60), D(90))
    assert evaluate(D(30), D(60), req) == (True, {})
    assert evaluate(D(29.5), D(70), req) == (False, {"public": D("0.5")})
    assert evaluate(D(40), D(50), req) == (False, {"professional": D(10)})
    flexible = Requirement(2020, D(30), D(60), D(90), public_counts_as_professional=True)
    assert evaluate(D(40), D(50), flexible) == (True, {})
    assert evaluate(D(35), D(50), flexible) == (False, {"professional": D(5), "total": D(5)})
    assert evaluate(D(0), D(0), req, full_year=True) == (True, {})


def world():
    province = f.org("province")
    bureau = f.org("hr", parent=province)
    employer = f.org("employer", parent=bureau)
    other = f.org("employer", parent=f.org("hr", parent=province))
    people = [f.professional(employer, n) for n in ("完成甲", "完成乙", "完成丙", "完成丁", "完成戊")]
    outsider = f.professional(other, "完成外")
    actor = Actor(user_id=0, capacity="hr", org_id=bureau.id, org_path=bureau.path)
    return people, outsider, actor


def test_year_results_reductions_and_aid_posting(ctx):
    (a, b, c, d, e), outsider, actor = world()
    year = 2020
    hours(a, year, 30, 60)          # passes
    hours(b, year, 30, 59.5)        # half an hour short
    hours(c, year, 15, 30)          # six months on duty: 15 + 30 = 45 needed
    db.session.add(RequirementReduction(professional_id=c.id, org_id=c.org_id, year=year, reason="sick_leave",
                                        months_on_duty=6, state="approved"))
    approved(d, year, "aid_posting")  # completes the year whatever the hours
    hours(outsider, year, 30, 60)
    db.session.flush()
    by_person = {p.id: year_results(p, year, year)[0] for p in (a, b, c, d, e)}
    assert by_person[a.id].passed and by_person[a.id].total == D(90)
    assert not by_person[b.id].passed and by_person[b.id].shortfall == {"professional": D("0.5"), "total": D("0.5")}
    assert by_person[c.id].passed and by_person[c.id].requirement.professional_min == D(30)
    assert by_person[d.id].passed and by_person[d.id].full_year
    assert not by_person[e.id].passed
    # The SQL of the lists agrees with the per-person rule, and stays in scope.
    rows = db.session.execute(completion_query(actor, year, passed=None)).all()
    sql = {row[0].id: bool(row.passed) for row in rows}
    assert sql == {pid: r.passed for pid, r in by_person.items()}
    passed = {row[0].id for row in db.session.execute(completion_query(actor, year))}
    assert passed == {a.id, c.id, d.id}
    failed = {row[0].id for row in db.session.execute(completion_query(actor, year, passed=False))}
    assert failed == {b.id, e.id}
    found = db.session.execute(completion_query(actor, year, search=a.id_number)).all()
    assert [r[0].id for r in found] == [a.id]
    assert outsider.id not in sql


def test_sql_and_python_agree_on_old_rules_and_a_counting_flag(ctx):
    people, _, actor = world()
    senior = level(*SENIOR)
    for p in people:
        p.title_level = senior if p.name in ("完成甲", "完成乙") else None
    hours(people[0], 2014, 26, 60)   # senior 26 + 60 → pass
    hours(people[1], 2014, 22, 52)   # senior → fail
    hours(people[2], 2014, 26, 60)   # no title: the strictest row (26 + 60) → pass
    hours(people[3], 2014, 22, 52)   # no title → fail
    db.session.add(AnnualRequirement(year=2092, title_level="all", region_scope="all", public_min=30,
                                     professional_min=60, total_min=90, public_counts_as_professional=True))
    hours(people[0], 2092, 40, 50)   # 10 public hours count as professional → pass
    hours(people[1], 2092, 35, 50)   # → fail
    db.session.flush()
    for year in (2014, 2092):
        sql = {row[0].id: bool(row.passed) for row in db.session.execute(completion_query(actor, year, passed=None))}
        python = {p.id: year_results(p, year, year)[0].passed for p in people}
        assert sql == python, year
    assert requirement_for(people[0], 2092).public_counts_as_professional


def test_merged_print_needs_every_year_passed(ctx):
    (a, *_), _, _ = world()
    for year in (2018, 2019, 2020):
        hours(a, year, 30, 60)
    hours(a, 2021, 30, 10)
    assert merge_refusal(year_results(a, 2018, 2020)) is None
    reason = merge_refusal(year_results(a, 2018, 2021))
    assert reason is not None and "2021" in reason and "2020" not in reason
    assert merge_refusal([]) is not None


def test_rows_from_registration_year_and_counted_declarations(ctx):
    (a, *_), _, _ = world()
    this_year = dt.date.today().year
    results = year_results(a)
    assert [r.year for r in results] == [this_year]  # registered this year, no older hours
    hours(a, this_year - 2, 30, 60)
    results = year_results(a)
    assert [r.year for r in results] == [this_year, this_year - 1, this_year - 2]
    d = approved(a, this_year, "other", hours_=D(12))
    assert counted_declarations(a, this_year) == [d]
