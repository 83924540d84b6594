"""Audit rows for certificate prints (single, merged, bulk) and console edits (create, edit, delete,
export): who did it, on what, written with the act itself; a refused act writes none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Certificate, Membership, Professional, UnitNature, User
from tests import factories as f
from tests.helpers import csrf_from, login
from tests.views.test_certificates import COMPLETION, PRINT, YEAR, client_for, w  # noqa: F401  (fixture)


def _rows(app, trigger, object_type, ids=None):
    with app.app_context():
        stmt = select(AuditLog).where(AuditLog.trigger == trigger, AuditLog.object_type == object_type)
        if ids is not None:
            stmt = stmt.where(AuditLog.object_id.in_(ids))
        return [
            {"object_id": r.object_id, "user": r.actor_user_id, "org": r.actor_org_id, "comment": r.comment}
            for r in db.session.scalars(stmt.order_by(AuditLog.id))
        ]


def _certificate_ids(app, person_id):
    with app.app_context():
        return [c.id for c in db.session.scalars(select(Certificate).where(Certificate.professional_id == person_id))]


def _user_of(app, person_id):
    with app.app_context():
        return db.session.get(Professional, person_id).user_id


def _admin_user(app, id_number):
    with app.app_context():
        return db.session.scalars(select(User).where(User.id_number == id_number)).one().id


def test_single_print_is_audited_for_the_person(app, w):  # noqa: F811
    c = client_for(app, "person", w["person_login"])
    token = csrf_from(c.get(COMPLETION).get_data(as_text=True))
    assert c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token}).status_code == 200
    assert c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token}).status_code == 200  # reprint
    ids = _certificate_ids(app, w["person"])
    rows = _rows(app, "print", "certificate", ids)
    assert len(ids) == 1 and len(rows) == 2  # every print, reprints included
    assert all(r["user"] == _user_of(app, w["person"]) and r["org"] is None for r in rows)
    assert f"professional {w['person']}, {YEAR}" in rows[0]["comment"]
    # A refused print (year not passed) writes no row.
    assert c.post(f"{COMPLETION}print/{YEAR - 2}", data={"csrf_token": token}).status_code == 302
    assert len(_rows(app, "print", "certificate", _certificate_ids(app, w["person"]))) == 2


def test_merged_print_is_audited(app, w):  # noqa: F811
    c = client_for(app, "person", w["person_login"])
    token = csrf_from(c.get(COMPLETION).get_data(as_text=True))
    r = c.post(f"{COMPLETION}print-merged", data={"csrf_token": token, "year_from": YEAR - 1, "year_to": YEAR})
    assert r.status_code == 200
    rows = _rows(app, "print_merged", "certificate", _certificate_ids(app, w["person"]))
    assert len(rows) == 1 and f"{YEAR - 1}-{YEAR}" in rows[0]["comment"]
    assert rows[0]["user"] == _user_of(app, w["person"])


def test_bulk_print_is_audited_per_certificate_for_the_admin(app, w):  # noqa: F811
    admin = client_for(app, "hr", w["city_admin"])
    token = csrf_from(admin.get(f"{PRINT}?year={YEAR}").get_data(as_text=True))
    r = admin.post(f"{PRINT}print", data={"csrf_token": token, "year": YEAR, "ids": [w["person"], w["person_b"]]})
    assert r.status_code == 200
    ids = _certificate_ids(app, w["person"]) + _certificate_ids(app, w["person_b"])
    rows = _rows(app, "print_bulk", "certificate", ids)
    assert sorted(r["object_id"] for r in rows) == sorted(ids) and len(ids) == 2
    admin_id = _admin_user(app, w["city_admin"])
    with app.app_context():
        city_id = db.session.scalars(select(Membership.org_id).where(Membership.user_id == admin_id)).one()
    assert all(r["user"] == admin_id and r["org"] == city_id for r in rows)
    assert "2 in one print" in rows[0]["comment"]
    # The employer admin's refused print of someone outside its scope writes nothing.
    employer = client_for(app, "employer", w["employer_admin"])
    token = csrf_from(employer.get(f"{PRINT}?year={YEAR}").get_data(as_text=True))
    with app.app_context():
        before = db.session.query(AuditLog).filter(AuditLog.trigger == "print_bulk").count()
    assert employer.post(f"{PRINT}print", data={"csrf_token": token, "year": YEAR, "ids": [w["person_b"]]}).status_code == 302
    with app.app_context():
        assert db.session.query(AuditLog).filter(AuditLog.trigger == "print_bulk").count() == before


@pytest.fixture
def sysadmin(app):
    with app.app_context():
        u = f.user("系统管理员", is_sysadmin=True)
        db.session.commit()
        return {"id": u.id, "id_number": u.id_number}


def _console(app, sysadmin):
    c = app.test_client()
    assert login(c, "sysadmin", sysadmin["id_number"]).status_code == 302
    return c


def test_console_create_edit_delete_are_audited(app, sysadmin):
    c = _console(app, sysadmin)
    token = csrf_from(c.get("/console/unit_nature/new/").get_data(as_text=True))
    code = f"aud{sysadmin['id']}"
    assert c.post("/console/unit_nature/new/", data={"csrf_token": token, "code": code, "name": "审计性质", "enabled": "y"}).status_code == 302
    with app.app_context():
        pk = db.session.scalars(select(UnitNature.id).where(UnitNature.code == code)).one()
    created = _rows(app, "console_create", "UnitNature", [pk])
    assert len(created) == 1 and created[0]["user"] == sysadmin["id"] and "审计性质" in created[0]["comment"]

    edit = c.get(f"/console/unit_nature/edit/?id={pk}")
    token = csrf_from(edit.get_data(as_text=True))
    assert c.post(f"/console/unit_nature/edit/?id={pk}", data={"csrf_token": token, "code": code, "name": "改后性质"}).status_code == 302
    edited = _rows(app, "console_edit", "UnitNature", [pk])
    assert len(edited) == 1 and edited[0]["user"] == sysadmin["id"]
    assert "name: '审计性质' → '改后性质'" in edited[0]["comment"] and "enabled: True → False" in edited[0]["comment"]

    # Without the CSRF token: refused, nothing deleted, nothing audited.
    assert c.post("/console/unit_nature/delete/", data={"id": pk}).status_code == 400
    assert _rows(app, "console_delete", "UnitNature", [pk]) == []
    token = csrf_from(c.get("/console/unit_nature/").get_data(as_text=True))
    assert c.post("/console/unit_nature/delete/", data={"csrf_token": token, "id": pk}).status_code == 302
    with app.app_context():
        assert db.session.get(UnitNature, pk) is None
    deleted = _rows(app, "console_delete", "UnitNature", [pk])
    assert len(deleted) == 1 and deleted[0]["user"] == sysadmin["id"] and code in deleted[0]["comment"]


def test_console_export_is_audited(app, sysadmin):
    c = _console(app, sysadmin)
    with app.app_context():
        before = db.session.query(AuditLog).filter_by(trigger="export", object_type="UnitNature").count()
    response = c.get("/console/unit_nature/export/csv/")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    response.get_data()
    rows = _rows(app, "export", "UnitNature")
    assert len(rows) == before + 1 and rows[-1]["user"] == sysadmin["id"] and "console csv" in rows[-1]["comment"]
