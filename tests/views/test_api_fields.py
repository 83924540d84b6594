"""Workflow-only fields are read-only in every form and API, and the department API keeps its tree
sound: no self-parent, no cycle, no superior department of another organisation (clear 400s)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Department, Organization, Professional, TrainingPlan
from app.views.api import APIS
from app.views.base import WORKFLOW_FIELDS
from app.views.registry import MODEL_VIEWS
from tests import factories
from tests.helpers import login, token_for


@pytest.fixture(scope="module")
def unit(app):
    with app.app_context():
        hr = factories.org("hr", "字段测试人社局")
        employer = factories.org("employer", "字段测试单位", hr)
        other = factories.org("employer", "字段测试另一单位", hr)
        admin = factories.admin(employer)
        hr_admin = factories.admin(hr)
        sysadmin = factories.user("字段系统管理员", is_sysadmin=True)
        person = factories.professional(employer, "字段甲")
        top = Department(org=employer, name="字段科室")
        child = Department(org=employer, name="字段子科室", parent=top)
        foreign = Department(org=other, name="另一单位科室")
        plan = TrainingPlan(org=employer, subject_type="public", year=2026, name="字段计划", state="draft")
        db.session.add_all([top, child, foreign, plan])
        db.session.commit()
        return {
            "admin": admin.id_number, "hr_admin": hr_admin.id_number, "sysadmin": sysadmin.id_number, "employer": employer.id, "other": other.id,
            "person": person.id, "top": top.id, "child": child.id, "foreign": foreign.id, "plan": plan.id,
        }


def _client(app, capacity, id_number):
    client = app.test_client()
    assert login(client, capacity, id_number).status_code == 302
    return client, {"X-CSRFToken": token_for(client)}


def test_no_form_or_api_edits_a_workflow_only_field():
    """Audit of every model view and REST API: nothing a workflow owns is in an edit form or schema."""
    offenders = []
    for cls in list(MODEL_VIEWS) + list(APIS):
        table = cls.datamodel.obj.__tablename__
        owned = set(WORKFLOW_FIELDS["*"]) | set(WORKFLOW_FIELDS.get(table, ()))
        edit = set(getattr(cls, "edit_columns", None) or [])
        if "*" in owned and edit:
            offenders.append((cls.__name__, sorted(edit)))
        elif edit & owned:
            offenders.append((cls.__name__, sorted(edit & owned)))
    assert not offenders


def test_put_professional_with_another_org_does_not_move_the_person(app, unit):
    for capacity, who in (("employer", unit["admin"]), ("sysadmin", unit["sysadmin"])):
        client, headers = _client(app, capacity, who)
        r = client.put(f"/api/v1/professional/{unit['person']}", json={"org": unit["other"]}, headers=headers)
        assert r.status_code in (400, 422), r.get_data(as_text=True)
        r = client.put(f"/api/v1/professional/{unit['person']}", json={"status": "deregistered", "org_id": unit["other"]}, headers=headers)
        assert r.status_code in (400, 422)
        with app.app_context():
            person = db.session.get(Professional, unit["person"])
            assert person.org_id == unit["employer"] and person.status == "approved"


def test_put_professional_department_of_another_unit_is_refused(app, unit):
    client, headers = _client(app, "sysadmin", unit["sysadmin"])
    r = client.put(f"/api/v1/professional/{unit['person']}", json={"department": unit["foreign"]}, headers=headers)
    assert r.status_code == 400
    with app.app_context():
        assert db.session.get(Professional, unit["person"]).department_id is None
    r = client.put(f"/api/v1/professional/{unit['person']}", json={"department": unit["top"], "school": "郑大"}, headers=headers)
    assert r.status_code == 200
    with app.app_context():
        assert db.session.get(Professional, unit["person"]).department_id == unit["top"]


def test_professional_form_ignores_posted_org(app, unit):
    client, _h = _client(app, "employer", unit["admin"])
    token = token_for(client)
    client.post(f"/professionalview/edit/{unit['person']}", data={"csrf_token": token, "org": unit["other"], "school": "河大"})
    with app.app_context():
        assert db.session.get(Professional, unit["person"]).org_id == unit["employer"]


def test_training_plan_and_department_keep_their_organisation(app, unit):
    client, headers = _client(app, "employer", unit["admin"])
    r = client.put(f"/api/v1/training_plan/{unit['plan']}", json={"org": unit["other"]}, headers=headers)
    assert r.status_code in (400, 422)
    r = client.put(f"/api/v1/department/{unit['top']}", json={"org": unit["other"]}, headers=headers)
    assert r.status_code in (400, 422)
    with app.app_context():
        assert db.session.get(TrainingPlan, unit["plan"]).org_id == unit["employer"]
        assert db.session.get(Department, unit["top"]).org_id == unit["employer"]
        assert db.session.get(Organization, unit["employer"]).parent_id is not None


@pytest.mark.parametrize("case", ["self", "cycle", "other_org"])
def test_department_api_refuses_a_bad_superior(app, unit, case):
    client, headers = _client(app, "hr", unit["hr_admin"])
    target, parent = {"self": ("top", "top"), "cycle": ("top", "child"), "other_org": ("top", "foreign")}[case]
    r = client.put(f"/api/v1/department/{unit[target]}", json={"parent": unit[parent]}, headers=headers)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["message"]
    with app.app_context():
        assert db.session.get(Department, unit["top"]).parent_id is None
        assert db.session.get(Department, unit["child"]).parent_id == unit["top"]


def test_department_api_refuses_a_new_department_under_another_unit(app, unit):
    client, headers = _client(app, "hr", unit["hr_admin"])
    with app.app_context():
        before = db.session.query(Department).count()
    r = client.post("/api/v1/department/", json={"name": "越界科室", "org": unit["employer"], "parent": unit["foreign"]}, headers=headers)
    assert r.status_code == 400
    r = client.post("/api/v1/department/", json={"name": "正常科室", "org": unit["employer"], "parent": unit["top"]}, headers=headers)
    assert r.status_code == 201
    with app.app_context():
        assert db.session.query(Department).count() == before + 1
