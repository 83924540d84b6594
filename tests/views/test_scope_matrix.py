"""Scope matrix: for every scoped model view and REST API, an admin of organisation A cannot see,
change, delete or act on rows of organisation B outside A's subtree, and lists show only A's rows.

Both rules are covered: the read rule (list and show) and the stricter write rule (edit, delete,
actions): rows A reads but may not change (a catalogue of its superior, a request it only handles,
a transfer into its subtree, its own membership, the audit trail) are refused with 403 and unchanged.

A = a county HR bureau; B = an employer under the *other* county. Every view registered in
``app.views.registry.MODEL_VIEWS`` over a scoped model must have a builder here (a test checks it).
"""

from __future__ import annotations


from datetime import date

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AcademicTitleRecord,
    Attachment,
    AuditLog,
    Certificate,
    ChangeItem,
    ChangeRequest,
    Declaration,
    DeclarationWindow,
    Department,
    Deregistration,
    EducationRecord,
    Membership,
    Organization,
    Professional,
    QualificationRecord,
    Subject,
    TitleRecord,
    TraineeResult,
    TrainingClass,
    TrainingPlan,
    Transfer,
)
from app.services.scope import Actor, is_scoped, scope_clause, write_clause
from app.views.api import APIS
from app.views.registry import MODEL_VIEWS
from tests import factories
from tests.helpers import login, token_for


def _declaration(side):
    return Declaration(professional=side["person"], org=side["employer"], subject_type="public", form_code="other", year=2026, requested_hours=10, state="draft", route=[], data={})


def _plan(side):
    return TrainingPlan(org=side["employer"], subject_type="public", year=2026, name=f"计划-{side['employer'].name}", state="draft")


def _class(side):
    return TrainingClass(plan=_plan(side), org=side["employer"], name=f"培训班-{side['employer'].name}")


def _change(side):
    return ChangeRequest(kind="person_info", professional=side["person"], org=side["employer"], handler_org=side["employer"], state="pending", route=[])


BUILDERS = {
    Organization: lambda s: s["employer"],
    Department: lambda s: Department(org=s["employer"], name=f"科室-{s['employer'].name}"),
    Membership: lambda s: s["membership"],
    Professional: lambda s: s["person"],
    TitleRecord: lambda s: TitleRecord(professional=s["person"], specialty="内科"),
    EducationRecord: lambda s: EducationRecord(professional=s["person"], school="郑州大学"),
    QualificationRecord: lambda s: QualificationRecord(professional=s["person"], name="执业医师"),
    AcademicTitleRecord: lambda s: AcademicTitleRecord(professional=s["person"], name="学科带头人"),
    Declaration: _declaration,
    DeclarationWindow: lambda s: DeclarationWindow(professional=s["person"], year=2025, until=date(2099, 1, 1), reason="补报", opened_by_org=s["hr"]),
    Attachment: lambda s: Attachment(declaration=_declaration(s), filename="a.png", stored_path="x/a.png", content_type="image/png", size=10),
    Subject: lambda s: Subject(subject_type="professional", name=f"科目-{s['hr'].name}", owner_org=s["hr"]),
    Certificate: lambda s: Certificate(professional=s["person"], template_code="yearly", year_from=2025, year_to=2025, verification_code=f"v-{s['person'].id_number}", inputs={}),
    TrainingPlan: _plan,
    TrainingClass: _class,
    TraineeResult: lambda s: TraineeResult(training_class=_class(s), id_number=s["person"].id_number, name=s["person"].name, score="90"),
    Transfer: lambda s: Transfer(professional=s["person"], from_org=s["employer"], to_org=s["employer2"], state="pending"),
    ChangeRequest: _change,
    ChangeItem: lambda s: ChangeItem(change_request=_change(s), field="school", current_value="a", new_value="b"),
    Deregistration: lambda s: Deregistration(kind="person", professional=s["person"], org=s["employer"], reason="退休", state="pending"),
    AuditLog: lambda s: AuditLog(object_type="declaration", object_id=1, trigger="submit", actor_org=s["employer"]),
}

SCOPED_VIEWS = [v for v in MODEL_VIEWS if is_scoped(v.datamodel.obj)]


def _side(hr):
    employer = factories.org("employer", f"单位-{hr.name}", hr)
    employer2 = factories.org("employer", f"单位二-{hr.name}", hr)
    admin_user = factories.admin(employer)
    membership = db.session.query(Membership).filter_by(user_id=admin_user.id).one()
    person = factories.professional(employer, f"人员{hr.id}")
    return {"hr": hr, "employer": employer, "employer2": employer2, "person": person, "membership": membership}


@pytest.fixture(scope="module")
def matrix(app):
    """Rows of every scoped model on side A (inside the county) and side B (outside it)."""
    with app.app_context():
        province = factories.org("province", "矩阵省厅")
        city = factories.org("hr", "矩阵市人社局", province)
        county_a = factories.org("hr", "矩阵甲县人社局", city)
        county_b = factories.org("hr", "矩阵乙县人社局", city)
        a_admin = factories.admin(county_a)
        # Give A every permission of every view and API, so a refusal can only come from the scope.
        sm = app.appbuilder.sm
        role = sm.find_role("MatrixAll") or sm.add_role("MatrixAll")
        names = {v.__name__ for v in SCOPED_VIEWS} | {a.__name__ for a in APIS}
        # ... and of the custom account pages, so their refusals too come from the actor checks.
        names |= {"UserAdminView", "RoleMatrixView", "PasswordAdminView"}
        role.permissions = [pv for pv in sm.session.query(sm.permissionview_model).all() if pv.view_menu.name in names]
        membership = db.session.query(Membership).filter_by(user_id=a_admin.id).one()
        membership.roles.append(db.session.merge(role))
        sides = {"A": _side(county_a), "B": _side(county_b)}
        rows = {}
        for model, build in BUILDERS.items():
            for key, side in sides.items():
                obj = build(side)
                db.session.add(obj)
                db.session.flush()
                rows[(model, key)] = obj.id
        # "R": rows A may read but never write.
        a, b = sides["A"], sides["B"]
        readonly = {
            Subject: Subject(subject_type="public", name="矩阵市公需科目", owner_org=city),
            ChangeRequest: ChangeRequest(kind="person_info", professional=b["person"], org=b["employer"], handler_org=county_a, state="pending", route=[county_a.id]),
            Deregistration: Deregistration(kind="person", professional=b["person"], org=b["employer"], handler_org=county_a, reason="退休", state="pending"),
            Transfer: Transfer(professional=b["person"], from_org=b["employer"], to_org=a["employer"], state="pending"),
            Membership: membership,
            AuditLog: AuditLog(object_type="declaration", object_id=2, trigger="approve", actor_org=county_a),
        }
        for model, obj in readonly.items():
            db.session.add(obj)
            db.session.flush()
            rows[(model, "R")] = obj.id
        db.session.commit()
        return {
            "rows": rows, "admin": a_admin.id_number, "b_employer": sides["B"]["employer"].id,
            "a_employer": sides["A"]["employer"].id, "a_person": sides["A"]["person"].id,
            "actor": Actor(user_id=a_admin.id, capacity="hr", org_id=county_a.id, org_path=county_a.path, membership_id=membership.id),
        }


def _snapshot(model, pk):
    obj = db.session.get(model, pk)
    if obj is None:
        return None
    data = {c.key: getattr(obj, c.key) for c in sa_inspect(model).column_attrs}
    db.session.expire_all()
    return data


@pytest.fixture
def a_client(app, matrix):
    client = app.test_client()
    assert login(client, "hr", matrix["admin"]).status_code == 302
    return client


def test_every_scoped_view_and_api_has_a_builder():
    missing = [v.__name__ for v in SCOPED_VIEWS if v.datamodel.obj not in BUILDERS]
    missing += [a.__name__ for a in APIS if a.datamodel.obj not in BUILDERS]
    assert not missing


def _base(view):
    return "/" + view.__name__.lower()


@pytest.mark.parametrize("view", SCOPED_VIEWS, ids=lambda v: v.__name__)
def test_view_refuses_rows_outside_scope(app, matrix, a_client, view):
    model = view.datamodel.obj
    pk_b = matrix["rows"][(model, "B")]
    pk_a = matrix["rows"][(model, "A")]
    with app.app_context():
        before = _snapshot(model, pk_b)
    token = token_for(a_client)
    base = _base(view)

    assert a_client.get(f"{base}/show/{pk_b}").status_code == 404
    if "can_edit" in (view.base_permissions or ["can_edit"]):
        assert a_client.get(f"{base}/edit/{pk_b}").status_code == 404
        assert a_client.post(f"{base}/edit/{pk_b}", data={"csrf_token": token, "name": "篡改", "remark": "篡改"}).status_code == 404
    if "can_delete" in (view.base_permissions or ["can_delete"]):
        assert a_client.post(f"{base}/delete/{pk_b}", data={"csrf_token": token}).status_code == 404
    assert a_client.get(f"{base}/delete/{pk_b}").status_code in (302, 403, 404, 405)
    response = a_client.post(f"{base}/action_post", data={"csrf_token": token, "action": "muldelete", "rowid": [pk_b]})
    assert response.status_code == 404
    assert a_client.get(f"{base}/action/muldelete/{pk_b}").status_code == 405
    with app.app_context():
        assert _snapshot(model, pk_b) == before

    if "can_add" in (view.base_permissions or ["can_add"]):
        form = a_client.get(f"{base}/add").get_data(as_text=True)
        assert "乙县" not in form, "the add form offers rows outside the scope"

    listing = a_client.get(f"{base}/list/?psize_{view.__name__}=100")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert f"/show/{pk_b}\"" not in html
    assert f"/show/{pk_a}\"" in html
    if "can_export" in (view.base_permissions or ["can_export"]):
        assert a_client.get(f"{base}/export/").status_code == 200


def _api(a):
    return f"/api/v1/{a.resource_name}"


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.__name__)
def test_api_refuses_rows_outside_scope(app, matrix, a_client, api):
    model = api.datamodel.obj
    pk_b = matrix["rows"][(model, "B")]
    pk_a = matrix["rows"][(model, "A")]
    with app.app_context():
        before = _snapshot(model, pk_b)
        before_a = _snapshot(model, pk_a)
    headers = {"X-CSRFToken": token_for(a_client)}
    assert a_client.get(f"{_api(api)}/{pk_b}").status_code == 404
    assert a_client.get(f"{_api(api)}/{pk_a}").status_code == 200
    assert a_client.put(f"{_api(api)}/{pk_b}", json={"name": "篡改"}, headers=headers).status_code in (404, 405)
    assert a_client.delete(f"{_api(api)}/{pk_b}", headers=headers).status_code in (404, 405)
    listing = a_client.get(f"{_api(api)}/?q=(page_size:100)").get_json()
    ids = set(listing["ids"])
    assert pk_b not in ids and pk_a in ids
    info = a_client.get(f"{_api(api)}/_info").get_json()
    for field in info.get("add_columns", []) + info.get("edit_columns", []):
        if field["name"] == "org":
            values = {v["id"] for v in field.get("values", [])}
            assert matrix["b_employer"] not in values
    if "org" in (api.edit_columns or []):
        response = a_client.put(f"{_api(api)}/{pk_a}", json={"org": matrix["b_employer"]}, headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)
    if "org" in (api.add_columns or []):
        response = a_client.post(_api(api) + "/", json=_post_payload(api, matrix["b_employer"], matrix["a_person"]), headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)
    with app.app_context():
        assert _snapshot(model, pk_b) == before
        assert _snapshot(model, pk_a) == before_a


def _post_payload(api, org_id, person_id):
    """A valid creation payload except that it names B's organisation."""
    base = {
        "org": org_id, "professional": person_id, "name": "越权", "year": 2026, "subject_type": "public",
        "form_code": "other", "requested_hours": 1, "kind": "employer",
    }
    return {k: v for k, v in base.items() if k in set(api.add_columns)}


def test_form_post_naming_a_row_outside_scope_creates_nothing(app, matrix, a_client):
    b_department = matrix["rows"][(Department, "B")]
    with app.app_context():
        before = db.session.query(Department).count()
    response = a_client.post(
        "/departmentview/add",
        data={"csrf_token": token_for(a_client), "name": "越权科室", "parent": b_department, "enabled": "y"},
    )
    assert response.status_code == 200  # the form comes back with the error next to the field
    assert "越权科室" in response.get_data(as_text=True)  # what was typed is kept
    with app.app_context():
        assert db.session.query(Department).count() == before


def test_declaration_pages_and_evidence_refuse_rows_outside_scope(app, matrix, a_client):
    """The review inbox, its detail, its actions and the evidence downloads (custom pages, not
    ``MODEL_VIEWS``) show and act on side A only."""
    import os

    from app.models.common import utcnow
    from app.services.uploads import upload_path
    from tests.images import image_bytes

    pk = {key: matrix["rows"][(Declaration, key)] for key in "AB"}
    with app.app_context():
        names = {}
        for key, decl_id in pk.items():
            d = db.session.get(Declaration, decl_id)
            d.state, d.route, d.step, d.handler_org_id = "pending", [d.org.parent_id], 0, d.org.parent_id
            d.submitted_at = utcnow()
            names[key] = d.professional.name
        attachments = {key: matrix["rows"][(Attachment, key)] for key in "AB"}
        for key, att_id in attachments.items():
            att = db.session.get(Attachment, att_id)
            att.stored_path = f"evidence/matrix/{key}.png"
            full = upload_path(att.stored_path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as fh:
                fh.write(image_bytes("PNG"))
        db.session.commit()
        year = db.session.get(Declaration, pk["A"]).year
        before = _snapshot(Declaration, pk["B"])

    inbox = a_client.get(f"/hours/review/?year={year}").get_data(as_text=True)
    assert names["A"] in inbox and names["B"] not in inbox
    searched = a_client.get(f"/hours/review/?year={year}&q={names['A']}").get_data(as_text=True)
    assert names["A"] in searched
    assert f"/hours/review/{pk['A']}" in searched
    other = a_client.get(f"/hours/review/?year={year}&q={names['B']}").get_data(as_text=True)
    assert f"/hours/review/{pk['B']}" not in other
    assert a_client.get(f"/hours/review/{pk['A']}").status_code == 200
    assert a_client.get(f"/hours/review/{pk['B']}").status_code == 404
    token = token_for(a_client, f"/hours/review/?year={year}")
    a_client.post("/hours/review/review", data={
        "csrf_token": token, "trigger": "approve", "scope": "single", "ids": [pk["B"]], "year": year,
    })
    a_client.post("/hours/review/review", data={
        "csrf_token": token, "trigger": "reject", "scope": "selected", "ids": [pk["B"]], "confirmed": "1",
        "comment": "越权", "year": year,
    })
    assert a_client.get(f"/uploads/attachment/{attachments['A']}").status_code == 200
    assert a_client.get(f"/uploads/attachment/{attachments['B']}").status_code == 404
    with app.app_context():
        assert _snapshot(Declaration, pk["B"]) == before


def test_a_declaration_addressed_to_the_reviewer_from_outside_its_subtree_is_reviewable(app, matrix, a_client):
    """A CE base's declaration goes to the base's superiors, which need not be above the person's
    employer: the reviewer it waits for sees its detail and evidence, like the inbox lists it."""
    import os

    from app.models.common import utcnow
    from app.services.uploads import upload_path
    from tests.images import image_bytes

    with app.app_context():
        outside = db.session.get(Declaration, matrix["rows"][(Declaration, "B")])
        a_county = db.session.get(Organization, matrix["a_employer"]).parent_id
        decl = Declaration(
            professional_id=outside.professional_id, org_id=outside.org_id, subject_type="public",
            form_code="other", year=outside.year, requested_hours=8, data={}, state="pending",
            route=[a_county], step=0, handler_org_id=a_county, submitted_at=utcnow(),
        )
        db.session.add(decl)
        db.session.flush()
        att = Attachment(declaration_id=decl.id, filename="e.png", stored_path="evidence/matrix/outside.png",
                         content_type="image/png", size=10)
        db.session.add(att)
        full = upload_path(att.stored_path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(image_bytes("PNG"))
        db.session.commit()
        decl_id, att_id, year = decl.id, att.id, decl.year
    assert f"/hours/review/{decl_id}" in a_client.get(f"/hours/review/?year={year}").get_data(as_text=True)
    assert a_client.get(f"/hours/review/{decl_id}").status_code == 200
    assert a_client.get(f"/uploads/attachment/{att_id}").status_code == 200


def test_certificate_printing_and_annulment_refuse_people_outside_scope(app, matrix, a_client):
    """Certificate printing (custom page) lists and prints side A only; posting B's person id prints
    nothing; B's approved declaration cannot be annulled from A."""
    from decimal import Decimal

    from app.workflows.declaration import post_ledger

    year = date.today().year - 1
    with app.app_context():
        people = {}
        for key in "AB":
            decl = db.session.get(Declaration, matrix["rows"][(Declaration, key)])
            person = decl.professional
            person.certificate_no = person.certificate_no or f"41010{key == 'A' and 1 or 2}{person.id:07d}"
            post_ledger({(person.id, year, "public"): Decimal(30), (person.id, year, "professional"): Decimal(60)})
            people[key] = person.id
        decl_b = db.session.get(Declaration, matrix["rows"][(Declaration, "B")])
        decl_b.state, decl_b.route, decl_b.recognised_hours = "approved", [decl_b.org.parent_id], 10
        decl_b_id = decl_b.id
        db.session.commit()
        before = (db.session.query(Certificate).count(), _snapshot(Declaration, decl_b_id))
    page = a_client.get(f"/certificates/print/?year={year}&result=all").get_data(as_text=True)
    assert f'data-id="{people["A"]}"' in page and f'data-id="{people["B"]}"' not in page
    token = token_for(a_client, "/certificates/print/")
    refused = a_client.post("/certificates/print/print", data={"csrf_token": token, "year": year, "ids": [people["B"]]})
    assert refused.mimetype != "application/pdf"
    mixed = a_client.post("/certificates/print/print",
                          data={"csrf_token": token, "year": year, "ids": [people["A"], people["B"]]})
    assert mixed.mimetype != "application/pdf"
    assert a_client.post(f"/hours/review/{decl_b_id}/annul", data={"csrf_token": token, "comment": "越权"}).status_code == 404
    with app.app_context():
        assert (db.session.query(Certificate).count(), _snapshot(Declaration, decl_b_id)) == before
    ok = a_client.post("/certificates/print/print", data={"csrf_token": token, "year": year, "ids": [people["A"]]})
    assert ok.mimetype == "application/pdf"


def test_reduction_pages_and_evidence_refuse_rows_outside_scope(app, matrix, a_client):
    """The reduced-requirement inbox, its detail, its review POST and the evidence downloads (custom
    pages, not ``MODEL_VIEWS``) show and act on side A only."""
    import os

    from app.models import RequirementReduction
    from app.models.common import utcnow
    from app.services.uploads import upload_path
    from tests.images import image_bytes

    year = date.today().year
    with app.app_context():
        ids, names = {}, {}
        for key in "AB":
            decl = db.session.get(Declaration, matrix["rows"][(Declaration, key)])
            person, employer = decl.professional, decl.org
            rel = f"reduction_evidence/matrix/{key}.png"
            full = upload_path(rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as fh:
                fh.write(image_bytes("PNG"))
            obj = RequirementReduction(
                professional_id=person.id, org_id=employer.id, year=year, reason="abroad", months_on_duty=5,
                evidence=[{"filename": "e.png", "stored_path": rel, "content_type": "image/png", "size": 10}],
                state="pending", route=[employer.parent_id], step=0, handler_org_id=employer.parent_id,
                submitted_at=utcnow(),
            )
            db.session.add(obj)
            db.session.flush()
            ids[key], names[key] = obj.id, person.name
        db.session.commit()
        before = _snapshot(RequirementReduction, ids["B"])

    inbox = a_client.get(f"/hours/reductions/review/?year={year}").get_data(as_text=True)
    assert f'data-id="{ids["A"]}"' in inbox and f'data-id="{ids["B"]}"' not in inbox
    assert a_client.get(f"/hours/reductions/review/{ids['A']}").status_code == 200
    assert a_client.get(f"/hours/reductions/review/{ids['B']}").status_code == 404
    assert a_client.get(f"/uploads/reduction/{ids['A']}/0").status_code == 200
    assert a_client.get(f"/uploads/reduction/{ids['B']}/0").status_code == 404
    assert a_client.get(f"/uploads/reduction/{ids['A']}/1").status_code == 404
    # The person pages are the professional's only.
    assert a_client.get(f"/hours/reductions/{ids['A']}").status_code in (302, 403)
    token = token_for(a_client, f"/hours/reductions/review/?year={year}")
    for scope in ("single", "selected"):
        a_client.post("/hours/reductions/review/review", data={
            "csrf_token": token, "trigger": "reject", "scope": scope, "ids": [ids["B"]], "confirmed": "1",
            "comment": "越权", "year": year,
        })
    mixed = a_client.post("/hours/reductions/review/review", data={
        "csrf_token": token, "trigger": "approve", "scope": "selected", "ids": [ids["A"], ids["B"]],
        "confirmed": "1", "year": year,
    })
    assert mixed.status_code == 302
    with app.app_context():
        assert _snapshot(RequirementReduction, ids["B"]) == before
        assert db.session.get(RequirementReduction, ids["A"]).state == "pending"  # all or nothing


# -- the write rule ----------------------------------------------------------------------------

READONLY_VIEWS = [v for v in SCOPED_VIEWS if v.datamodel.obj in (Subject, ChangeRequest, Deregistration, Transfer, Membership, AuditLog)]


def _ids(model, clause):
    return set(db.session.execute(select(model.id).where(clause)).scalars())


@pytest.mark.parametrize("model", list(BUILDERS), ids=lambda m: m.__name__)
def test_write_rule_is_within_the_read_rule(app, matrix, model):
    """For every scoped model: A writes its own rows, never B's, never the rows it only reads."""
    actor = matrix["actor"]
    with app.app_context():
        readable = _ids(model, scope_clause(model, actor))
        writable = _ids(model, write_clause(model, actor))
        assert scope_clause(model, actor, write=True).compare(write_clause(model, actor))
    rows = matrix["rows"]
    assert writable <= readable
    assert rows[(model, "B")] not in readable | writable
    if model is not AuditLog:
        assert rows[(model, "A")] in writable
    if (model, "R") in rows:
        assert rows[(model, "R")] in readable and rows[(model, "R")] not in writable


@pytest.mark.parametrize("view", READONLY_VIEWS, ids=lambda v: v.__name__)
def test_view_refuses_writes_to_rows_it_only_reads(app, matrix, a_client, view):
    """Read rule: the row is listed and shown. Write rule: edit, delete and actions answer 403 and
    change nothing (the shared catalogue of a superior, a request A only handles, a transfer into
    A's subtree, A's own membership, the audit trail)."""
    model = view.datamodel.obj
    pk = matrix["rows"][(model, "R")]
    with app.app_context():
        before = _snapshot(model, pk)
    base = _base(view)
    token = token_for(a_client)
    assert a_client.get(f"{base}/show/{pk}").status_code == 200
    assert f"/show/{pk}\"" in a_client.get(f"{base}/list/?psize_{view.__name__}=100").get_data(as_text=True)
    if "can_edit" in (view.base_permissions or ["can_edit"]):
        assert a_client.get(f"{base}/edit/{pk}").status_code == 403
        assert a_client.post(f"{base}/edit/{pk}", data={"csrf_token": token, "name": "篡改", "enabled": ""}).status_code == 403
    if "can_delete" in (view.base_permissions or ["can_delete"]):
        assert a_client.post(f"{base}/delete/{pk}", data={"csrf_token": token}).status_code == 403
    response = a_client.post(f"{base}/action_post", data={"csrf_token": token, "action": "muldelete", "rowid": [pk]})
    assert response.status_code == 403
    with app.app_context():
        assert _snapshot(model, pk) == before


def test_department_cannot_delete_or_edit_the_superior_s_public_subjects(app, matrix, a_client):
    """The finding: a competent department deleted the province's public subjects."""
    pk = matrix["rows"][(Subject, "R")]
    token = token_for(a_client)
    a_client.post(f"/subjectview/delete/{pk}", data={"csrf_token": token})
    a_client.post(f"/subjectview/edit/{pk}", data={"csrf_token": token, "name": "改名", "year": 2026, "enabled": "y"})
    with app.app_context():
        subject = db.session.get(Subject, pk)
        assert subject is not None and subject.name == "矩阵市公需科目"
    # Its own catalogue stays editable.
    own = matrix["rows"][(Subject, "A")]
    assert a_client.get(f"/subjectview/edit/{own}").status_code == 200


@pytest.mark.parametrize("view", [v for v in SCOPED_VIEWS if "can_edit" in (v.base_permissions or ["can_edit"])], ids=lambda v: v.__name__)
def test_view_edit_form_opens_for_own_rows(app, matrix, a_client, view):
    """The write rule is not wider than needed, nor narrower: A's own rows open for editing."""
    pk = matrix["rows"][(view.datamodel.obj, "A")]
    assert a_client.get(f"{_base(view)}/edit/{pk}").status_code == 200


def test_write_rule_of_a_professional_reaches_its_own_rows_only(app, matrix):
    """Another capacity's rows: acting as a professional, a user writes only rows naming itself,
    never organisation rows (catalogues, departments, organisations, memberships)."""
    with app.app_context():
        person = db.session.get(Professional, matrix["a_person"])
        actor = Actor(user_id=person.user_id, capacity="person", org_id=person.org_id, person_id=person.id)
        own = _ids(TitleRecord, write_clause(TitleRecord, actor))
        assert own == {matrix["rows"][(TitleRecord, "A")]}
        for model in (Subject, Department, Organization, Membership, AuditLog, ChangeRequest):
            assert not _ids(model, write_clause(model, actor)), model.__name__


def test_account_pages_refuse_an_organisation_admin_and_rows_outside_scope(app, matrix, a_client):
    """The custom account pages (issue 10), as A's admin holding their permissions: 用户管理 and the
    base-role matrix are the system administrator's only; a password reset reaches A's professional
    but not B's; nobody accepts an invitation addressed to someone else."""
    from app.models import AdminInvitation, User
    from app.services.admins import INVITED

    with app.app_context():
        people = {k: db.session.get(Professional, matrix["rows"][(Professional, k)]) for k in "AB"}
        users = {k: p.user_id for k, p in people.items()}
        invitation = AdminInvitation(user_id=users["B"], org_id=matrix["b_employer"], status=INVITED, role_ids=[])
        db.session.add(invitation)
        db.session.commit()
        inv_id = invitation.id
        before = {k: (db.session.get(User, u).password, db.session.get(User, u).active) for k, u in users.items()}
    token = token_for(a_client, "/")
    assert a_client.get("/security/users/").status_code == 403
    assert a_client.post(f"/security/users/{users['B']}/disable", data={"csrf_token": token, "confirm": "1"}).status_code == 403
    assert a_client.get("/security/base-roles/employer").status_code == 403
    assert a_client.post("/security/base-roles/employer", data={"csrf_token": token}).status_code == 403
    assert a_client.post(f"/password/admin-reset/{users['B']}", data={"csrf_token": token}).status_code in (403, 404)
    assert a_client.post(f"/account/invitations/{inv_id}/accept", data={"csrf_token": token}).status_code in (302, 403, 404)
    with app.app_context():
        assert db.session.get(User, users["B"]).password == before["B"][0]
        assert db.session.get(User, users["B"]).active and db.session.get(User, users["A"]).active
        assert db.session.get(AdminInvitation, inv_id).status == INVITED
        assert db.session.query(Membership).filter_by(user_id=matrix["actor"].user_id, org_id=matrix["b_employer"]).count() == 0
    # Within scope the same reset goes through (so the refusal above is the scope's).
    assert a_client.post(f"/password/admin-reset/{users['A']}", data={"csrf_token": token}).status_code == 200
    with app.app_context():
        assert db.session.get(User, users["A"]).password != before["A"][0]
