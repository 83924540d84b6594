"""Demo data: what ``load_demo`` guarantees (kinds, counts, logins, valid identifiers, paths, idempotence)."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.capacities import CAPACITIES
from app.extensions import db
from app.models import (
    HoursLedger,
    AnnualRequirement,
    Declaration,
    Department,
    Membership,
    Organization,
    Professional,
    Region,
    Subject,
    TitleLevel,
    TrainingPlan,
    User,
)
from app.plugins import get_learning_form
from app.services.demo import DEMO_LOGINS, load_demo, read_regions_csv
from app.services.routing import route_for
from app.services.identifiers import is_valid_credit_code, is_valid_id_number

COUNTED = (Region, Organization, User, Membership, Professional, Declaration, Department, Subject, TrainingPlan,
           AnnualRequirement)


def _counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def assert_paths_consistent(session):
    """Every organisation's path is its parent's path plus its own id."""
    paths = dict(session.execute(select(Organization.id, Organization.path)).all())
    for oid, parent_id, path in session.execute(select(Organization.id, Organization.parent_id, Organization.path)):
        expected = (paths[parent_id] if parent_id else "/") + f"{oid}/"
        assert path == expected, (oid, path, expected)


def test_load_demo_creates_the_demo_world(fresh_app):
    app = fresh_app()
    with app.app_context():
        assert load_demo() is True
        s = db.session

        # Regions: province, the 17 cities + 济源 with their codes, counties, 省直.
        codes = dict(s.execute(select(Region.code, Region.name)).all())
        assert codes["41"] == "河南省"
        cities = [r for r in read_regions_csv() if r["level"] == "city" and r["code"] != "419000"]
        assert len(cities) == 17
        for row in cities:
            assert codes[row["code"]] == row["name"]
        assert codes["419001"] == "济源市"
        assert s.scalar(select(func.count()).where(Region.level == "direct")) == 1

        # One HR bureau per city and for 济源, each directly under the province HR department.
        province = s.scalars(select(Organization).where(Organization.kind == "province")).one()
        assert province.parent_id is None
        city_bureaus = s.scalars(select(Organization).where(Organization.kind == "hr", Organization.parent_id == province.id)).all()
        bureau_regions = {b.region.code for b in city_bureaus}
        assert {r["code"] for r in cities} | {"419001"} <= bureau_regions
        county_bureaus = s.scalars(select(Organization).where(Organization.kind == "hr", Organization.parent_id != province.id)).all()
        assert {b.region.parent.code for b in county_bureaus} >= {"410100", "410300"}

        kinds = dict(s.execute(select(Organization.kind, func.count()).group_by(Organization.kind)).all())
        assert kinds["province"] == 1 and kinds["competent"] >= 4 and kinds["employer"] >= 5 and kinds["ce_base"] >= 1
        employers = s.scalars(select(Organization).where(Organization.kind == "employer")).all()
        assert any(e.parent.kind == "hr" for e in employers), "an employer without a competent department"
        assert any(e.parent.kind == "employer" for e in employers), "an employer with a sub-unit"
        assert all(o.status == "approved" for o in employers)
        assert all(is_valid_credit_code(c) for c in s.scalars(select(Organization.credit_code)))
        assert_paths_consistent(s)

        # Base data.
        assert set(s.scalars(select(TitleLevel.code))) >= {"junior", "intermediate", "senior"}
        req = {(r.year, r.title_level, r.region_scope): (r.public_min, r.professional_min, r.total_min)
               for r in s.scalars(select(AnnualRequirement))}
        assert req[(2014, "junior", "all")] == (22, 52, 74)
        assert req[(2015, "senior", "all")] == (26, 60, 86)
        assert req[(2016, "all", "zhengzhou")] == (30, 60, 90)
        assert req[(2017, "all", "elsewhere")] == (24, 66, 90)
        assert req[(2018, "all", "all")] == (30, 60, 90)

        # Professionals.
        people = s.scalars(select(Professional)).all()
        assert len(people) >= 25
        approved = [p for p in people if p.status == "approved"]
        assert {p.title_level.code for p in approved} == {"junior", "intermediate", "senior"}
        assert any(p.is_accountant for p in approved)
        assert sum(p.status == "pending" for p in people) == 2
        assert all(p.org.kind == "employer" for p in people)
        assert all(p.id_number == p.user.id_number == p.user.username for p in people)
        certs = [p.certificate_no for p in approved]
        assert len(set(certs)) == len(certs) and all(len(c) == 13 and c.isdigit() and c.startswith("41") for c in certs)
        assert all(is_valid_id_number(u) for u in s.scalars(select(User.id_number)))

        # Declarations, departments, catalogues, plan.
        states = set(s.scalars(select(Declaration.state)))
        assert {"draft", "pending", "approved", "rejected"} <= states
        approved: dict = {}
        for d in s.scalars(select(Declaration)):
            assert d.org_id == d.professional.org_id
            # The route is the one the routing service gives, and the data is valid for its form.
            assert d.route == route_for(d.professional, subject_type=d.subject_type)
            clean, errors = get_learning_form(d.form_code).validate(d.data)
            assert not errors, (d.form_code, errors)
            if d.state == "pending":
                assert d.handler_org_id == d.route[d.step]
            if d.state == "approved":
                key = (d.professional_id, d.year, d.subject_type)
                approved[key] = approved.get(key, 0) + d.recognised_hours
        # Approved hours are in the ledger, as a final approval would have posted them.
        ledger = {(r.professional_id, r.year, r.subject_type): r.hours for r in s.scalars(select(HoursLedger))}
        assert approved and ledger == approved
        assert s.scalar(select(func.count()).select_from(Department)) >= 2
        assert {x.subject_type for x in s.scalars(select(Subject))} == {"public", "professional"}
        assert s.scalar(select(func.count()).select_from(TrainingPlan)) >= 1

        # Logins: every capacity, the right password and a usable membership.
        assert {c for c, *_ in DEMO_LOGINS} == set(CAPACITIES)
        for capacity, id_number, password, org_name in DEMO_LOGINS:
            user = s.scalars(select(User).where(User.id_number == id_number)).one()
            assert check_password_hash(user.password, password)
            if capacity == "person":
                assert user.professional.status == "approved"
            elif capacity == "sysadmin":
                assert user.is_sysadmin
            else:
                assert any(m.org.kind == capacity and m.org.name == org_name and m.is_super and m.enabled
                           for m in user.memberships)
        # One person is both a professional and an organisation admin.
        assert s.scalar(select(func.count()).select_from(Membership).join(Professional, Professional.user_id == Membership.user_id)) >= 1


def test_load_demo_is_idempotent(fresh_app):
    app = fresh_app()
    with app.app_context():
        assert load_demo() is True
        before = _counts()
        assert load_demo() is False
        assert _counts() == before
