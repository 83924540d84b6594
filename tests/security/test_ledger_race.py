"""Races on the file-based SQLite database of the test session (or PostgreSQL with TEST_DATABASE_URL):
ten parallel final approvals count a declaration's hours once, a duplicate posting is refused, and
parallel evidence uploads never pass the five-file limit."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Attachment, AuditLog, Declaration, Membership
from app.services import declarations as svc
from app.services.declarations import DeclarationInvalid, ledger_hours, review, save_declaration
from app.services.scope import Actor
from app.workflows.declaration import DeclarationError
from tests import factories as f
from tests.images import image_bytes, upload

YEAR = dt.date.today().year
N = 10


def admin_actor(org):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def person_actor(person):
    return Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)


def tree():
    province = f.org("province")
    county = f.org("hr", parent=province)
    competent = f.org("competent", parent=county)
    employer = f.org("employer", parent=competent)
    person = f.professional(employer, "并发甲")
    return {"county": county, "employer": employer, "person": person, "me": person_actor(person),
            "emp": admin_actor(employer), "comp": admin_actor(competent), "hr": admin_actor(county)}


def conference():
    return {
        "subject_type": "professional", "form_code": "academic_conference", "year": YEAR,
        "start_date": f"{YEAR}-03-01", "end_date": f"{YEAR}-03-02", "result": "合格", "requested_hours": "99",
        "remark": "", "data": {"level": "national", "conference": "全国学术年会", "days": 2, "presented_paper": True},
    }


def pngs(n):
    return [upload(image_bytes(), f"证明{i}.png") for i in range(n)]


def race(app, work, n=N) -> list:
    """Run ``work(i)`` in ``n`` threads released together; returns each result (or exception)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context(), app.test_request_context():
            try:
                barrier.wait(10)
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001 - collected for the assertions
                results[i] = exc
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not any(th.is_alive() for th in threads)
    return results


def _at_final_step(app):
    """A declaration waiting for the HR bureau (the final reviewer) and ten admins of that bureau."""
    with app.app_context(), app.test_request_context():
        t = tree()
        obj = save_declaration(t["me"], conference(), pngs(1), submit=True)
        review(t["emp"], [obj.id], "approve")
        review(t["comp"], [obj.id], "approve")
        admins = [t["hr"]] + [admin_actor(t["county"]) for _ in range(N - 1)]
        db.session.commit()
        return obj.id, t["person"].id, admins


def _slow(monkeypatch, module, name, seconds=0.2):
    """Widen the window between reading and writing so that every thread reads before any commits."""
    real = getattr(module, name)

    def slow(*a, **kw):
        time.sleep(seconds)
        return real(*a, **kw)

    monkeypatch.setattr(module, name, slow)


def test_ten_parallel_final_approvals_count_the_hours_once(app, monkeypatch):
    pk, person_id, admins = _at_final_step(app)
    _slow(monkeypatch, svc, "fire")
    results = race(app, lambda i: review(admins[i], [pk], "approve") and "ok")
    assert results.count("ok") == 1, results
    assert all(isinstance(r, (DeclarationInvalid, DeclarationError)) for r in results if r != "ok"), results
    with app.app_context():
        assert db.session.get(Declaration, pk).state == "approved"
        finals = db.session.query(AuditLog).filter_by(
            object_type="declaration", object_id=pk, trigger="approve", to_state="approved")
        assert finals.count() == 1
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("18.0")
        postings = db.session.execute(text("SELECT count(*) FROM hours_posting WHERE declaration_id = :d"), {"d": pk})
        assert postings.scalar() == 1
        db.session.remove()


def test_a_second_posting_of_the_same_declaration_is_refused(app):
    """Even when a lost update puts an approved declaration back at its final step, approving it again
    cannot post its hours twice: the unique posting refuses it and nothing changes."""
    pk, person_id, admins = _at_final_step(app)
    with app.app_context(), app.test_request_context():
        review(admins[0], [pk], "approve")
        obj = db.session.get(Declaration, pk)
        handler = obj.route[-1]
        db.session.execute(text("UPDATE declaration SET state = 'pending', handler_org_id = :h WHERE id = :d"),
                           {"h": handler, "d": pk})
        db.session.commit()
        n_audit = db.session.query(AuditLog).filter_by(object_type="declaration", object_id=pk).count()
        with pytest.raises(DeclarationInvalid) as exc:
            review(admins[1], [pk], "approve")
        assert "ids" in exc.value.errors
        db.session.expire_all()
        assert db.session.get(Declaration, pk).state == "pending"
        assert db.session.query(AuditLog).filter_by(object_type="declaration", object_id=pk).count() == n_audit
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("18.0")
        db.session.remove()


def test_annul_removes_the_posting_and_the_hours(app):
    pk, person_id, admins = _at_final_step(app)
    with app.app_context(), app.test_request_context():
        review(admins[0], [pk], "approve")
        svc.annul(admins[1], pk, "材料虚假")
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("0.0")
        left = db.session.execute(text("SELECT count(*) FROM hours_posting WHERE declaration_id = :d"), {"d": pk})
        assert left.scalar() == 0
        with pytest.raises(DeclarationError):
            svc.annul(admins[2], pk, "再次撤销")
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("0.0")
        db.session.remove()


def test_parallel_annulments_remove_the_hours_once(app, monkeypatch):
    pk, person_id, admins = _at_final_step(app)
    with app.app_context(), app.test_request_context():
        review(admins[0], [pk], "approve")
        db.session.remove()
    _slow(monkeypatch, svc, "fire")
    results = race(app, lambda i: svc.annul(admins[i], pk, "材料虚假") and "ok")
    assert results.count("ok") == 1, results
    with app.app_context():
        assert db.session.get(Declaration, pk).state == "annulled"
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("0.0")
        db.session.remove()


def test_parallel_uploads_never_pass_five_evidence_files(app, monkeypatch):
    with app.app_context(), app.test_request_context():
        t = tree()
        obj = save_declaration(t["me"], conference(), pngs(1))
        pk, me = obj.id, t["me"]
        db.session.commit()
    _slow(monkeypatch, svc, "store_image", 0.1)
    files = [pngs(1) for _ in range(N)]
    results = race(app, lambda i: save_declaration(me, conference(), files[i], declaration_id=pk) and "ok")
    with app.app_context():
        count = db.session.query(Attachment).filter_by(declaration_id=pk).count()
        assert count == 5, (count, results)
        assert results.count("ok") == 4, results
        refused = [r for r in results if r != "ok"]
        assert all(isinstance(r, DeclarationInvalid) and "evidence" in r.errors for r in refused), results
        db.session.remove()


def test_workflow_refuses_a_second_posting_with_a_clear_code(app):
    """The single-row path (``fire`` without a batch) hits the same unique posting."""
    from app.workflows.declaration import fire

    pk, person_id, admins = _at_final_step(app)
    with app.app_context(), app.test_request_context():
        obj = db.session.get(Declaration, pk)
        handler = obj.handler_org_id
        fire(obj, "approve", actor=admins[0])
        db.session.commit()
        db.session.execute(text("UPDATE declaration SET state = 'pending', handler_org_id = :h WHERE id = :d"),
                           {"h": handler, "d": pk})
        db.session.commit()
        obj = db.session.get(Declaration, pk)
        db.session.refresh(obj)
        with pytest.raises(DeclarationError) as exc:
            fire(obj, "approve", actor=admins[1])
        assert exc.value.code == "already_counted"
        db.session.rollback()
        assert ledger_hours(person_id, YEAR)["professional"] == Decimal("18.0")
        db.session.remove()


def test_parallel_uploads_to_a_reduction_never_pass_five_files(app, monkeypatch):
    from app.models import RequirementReduction
    from app.services import reductions as red

    with app.app_context(), app.test_request_context():
        t = tree()
        values = {"year": str(YEAR), "reason": "maternity", "months_on_duty": "6"}
        obj = red.request_reduction(t["me"], values, pngs(1))
        pk, me = obj.id, t["me"]
        db.session.commit()
    _slow(monkeypatch, red, "store_image", 0.1)
    files = [pngs(1) for _ in range(N)]
    results = race(app, lambda i: red.request_reduction(me, values, files[i], reduction_id=pk) and "ok")
    with app.app_context():
        evidence = db.session.get(RequirementReduction, pk).evidence
        assert len(evidence) == 5, (len(evidence), results)
        assert results.count("ok") == 4, results
        db.session.remove()


def test_migration_backfills_postings_and_corrects_a_doubled_ledger(tmp_path):
    """a10c0003 on a database where a race counted a declaration twice: one posting per approved
    declaration, and the running total set back to the hours counted once."""
    import os

    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from app import create_app
    from tests.conftest import TEST_CONFIG, _database_url, _drop_pg_database

    name = f"test_ce_mig_{os.getpid()}"
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=_database_url(tmp_path, name),
                          UPLOAD_FOLDER=str(tmp_path / "uploads")))
    try:
        with app.app_context():
            upgrade(revision="a10b0002")
            conn = db.session.connection()
            insp = inspect(conn)

            def row(table, **values):
                for col in insp.get_columns(table):
                    if col["name"] in values or col["nullable"] or col.get("default") is not None \
                            or col.get("autoincrement") is True or col["name"] == "id":
                        continue
                    kind = str(col["type"]).upper()
                    values[col["name"]] = (
                        0 if "INT" in kind or "NUMERIC" in kind else
                        False if "BOOL" in kind else
                        dt.datetime(2025, 1, 1) if "TIME" in kind else
                        dt.date(2025, 1, 1) if "DATE" in kind else
                        "[]" if "JSON" in kind else f"{table[:3]}{len(values)}"
                    )
                cols = ", ".join(values)
                marks = ", ".join(f":{k}" for k in values)
                conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({marks})"), values)

            row("organization", id=1, kind="employer", name="迁移单位", path="/1/", status="approved")
            row("ab_user", id=1, username="u1", first_name="甲", last_name="迁", email="m@test.local",
                active=True, id_number="u1")
            row("professional", id=1, user_id=1, org_id=1, name="迁移甲", id_number="u1", status="approved")
            for pk, state in ((1, "approved"), (2, "approved"), (3, "pending")):
                row("declaration", id=pk, professional_id=1, org_id=1, subject_type="professional",
                    form_code="other", year=2025, data="{}", requested_hours=10, recognised_hours=10,
                    state=state, route="[1]", step=0)
            # Declaration 2 was approved by two reviewers at once: 30 hours in the ledger, not 20.
            row("hours_ledger", professional_id=1, year=2025, subject_type="professional", hours=30,
                updated=dt.datetime(2025, 1, 1))
            db.session.commit()
            upgrade(revision="a10c0003")
            postings = db.session.execute(text(
                "SELECT declaration_id, hours FROM hours_posting ORDER BY declaration_id")).all()
            assert [(p, Decimal(h)) for p, h in postings] == [(1, Decimal("10.0")), (2, Decimal("10.0"))]
            total = db.session.execute(text("SELECT hours FROM hours_ledger WHERE professional_id = 1")).scalar()
            assert Decimal(total) == Decimal("20.0")
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop_pg_database(name)
