"""Scale data: ``generate`` on an empty database and on top of the demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Declaration, Organization, Professional, User
from app.services.demo import load_demo
from app.services.identifiers import is_valid_id_number
from app.services.scale import generate, scale_id_number

from .test_demo import assert_paths_consistent


def _check(session, expected_people: int) -> None:
    ids = list(session.scalars(select(Professional.id_number)))
    assert len(ids) == expected_people
    assert len(set(ids)) == len(ids)
    assert all(is_valid_id_number(i) for i in ids)
    assert session.scalar(select(func.count(func.distinct(User.email)))) == session.scalar(select(func.count(User.id)))
    certs = [c for c in session.scalars(select(Professional.certificate_no)) if c]
    assert len(set(certs)) == len(certs)
    assert_paths_consistent(session)
    # Declarations follow their professional's employer; pending ones have a handler on their route.
    bad = session.scalar(
        select(func.count()).select_from(Declaration).join(Professional)
        .where(Declaration.org_id != Professional.org_id)
    )
    assert bad == 0
    for d in session.scalars(select(Declaration).where(Declaration.state == "pending").limit(200)):
        assert d.handler_org_id == d.route[d.step]


def test_generate_on_empty_database(fresh_app):
    app = fresh_app()
    with app.app_context():
        stats = generate(persons=2000)
        assert stats["professionals"] == 2000 and stats["users"] == 2000
        assert stats["declarations"] == 2000
        assert stats["seconds"] >= 0
        s = db.session
        _check(s, 2000)
        states = set(s.scalars(select(Declaration.state)))
        assert {"draft", "pending", "approved"} <= states
        kinds = dict(s.execute(select(Organization.kind, func.count()).group_by(Organization.kind)).all())
        assert kinds["province"] == 1 and kinds["hr"] >= 18 and kinds["employer"] >= 2000 // 30
        # New rows can still be added through the ORM afterwards (ids/sequences moved on).
        root = s.scalars(select(Organization).where(Organization.kind == "province")).one()
        extra = Organization(kind="employer", name="规模测试后新增单位", parent_id=root.id, status="approved")
        s.add(extra)
        s.commit()
        assert extra.path == f"{root.path}{extra.id}/"


def test_generate_after_demo_and_twice(fresh_app):
    app = fresh_app()
    with app.app_context():
        assert load_demo()
        s = db.session
        demo_people = s.scalar(select(func.count(Professional.id)))
        county_bureaus = s.scalar(select(func.count()).where(Organization.kind == "hr"))
        stats = generate(persons=2000, declarations_per_person=2)
        assert stats["professionals"] == 2000 and stats["declarations"] == 4000
        generate(persons=500)
        _check(s, demo_people + 2500)
        # The demo's HR bureaus are reused, not duplicated per run.
        names = list(s.scalars(select(Organization.name).where(Organization.kind == "hr")))
        assert len(names) == len(set(names)) and len(names) >= county_bureaus


def test_scale_id_numbers_are_injective():
    counties = ["410102", "410103", "410105"]
    numbers = {scale_id_number(i, counties)[0] for i in range(30_000)}
    assert len(numbers) == 30_000
