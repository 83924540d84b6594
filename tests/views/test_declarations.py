"""Hours declaration screens: the professional's form and progress query, the organisation's declaration
for its people and its records, the review inbox, evidence downloads — opened through the real pages
with each capacity, and refused (403 / 404 / nothing changed) outside it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditLog, Declaration, Professional
from tests import factories as f
from tests import images
from tests.helpers import csrf_from, login, token_for

YEAR = date.today().year
DECLARE = "/hours/declarations/declare"
PROGRESS = "/hours/declarations/"
INBOX = "/hours/review/"
UNIT_DECLARE = "/hours/unit/declare"
UNIT_FORM = "/hours/unit/declare/form"
UNIT_RECORDS = "/hours/unit/records"


@pytest.fixture
def w(app):
    """province → city HR → (county HR, other county HR → employer_b, competent → employer); ids and logins."""
    with app.app_context():
        world = f.world()
        out = {}
        for key, value in world.items():
            if key.endswith("_admin") or key == "sysadmin":
                out[key] = value.id_number
            elif key.startswith("person"):
                out[key] = value.id
                out[key + "_login"] = value.id_number
            else:
                out[key] = value.id
        accountant = f.professional(db.session.get(type(world["employer"]), world["employer"].id), "会计甲", is_accountant=True)
        out["accountant"] = accountant.id
        out["colleague"] = f.professional(world["employer"], "同事乙").id
        db.session.commit()
        return out


def _client(app, w, capacity, who):
    c = app.test_client()
    idn = w[who + "_login"] if who.startswith("person") else w[who]
    assert login(c, capacity, idn).status_code == 302
    return c


def _conference(**extra):
    data = {
        "subject_type": "professional", "form_code": "academic_conference", "year": str(YEAR),
        "start_date": f"{YEAR}-03-01", "end_date": f"{YEAR}-03-02", "result": "合格", "requested_hours": "",
        "remark": "全国学术会议", "academic_conference-level": "national",
        "academic_conference-conference": "全国医学年会", "academic_conference-days": "2",
        "academic_conference-presented_paper": "y",
    }
    data.update(extra)
    return data


def _declare(client, action, evidence=1, **extra):
    page = client.get(DECLARE)
    assert page.status_code == 200
    payload = dict(_conference(**extra), csrf_token=csrf_from(page.get_data(as_text=True)), submit_action=action)
    payload["evidence"] = [(BytesIO(images.image_bytes("PNG")), f"proof{i}.png") for i in range(evidence)]
    return client.post(DECLARE, data=payload, content_type="multipart/form-data")


def _decls(app, person_id):
    with app.app_context():
        return (
            db.session.query(Declaration).filter_by(professional_id=person_id)
            .options(selectinload(Declaration.attachments)).order_by(Declaration.id).all()
        )


# -- pages open for their capacity and refuse the others ------------------------------------------------

PAGES = {
    DECLARE: {"person"},
    PROGRESS: {"person"},
    UNIT_DECLARE: {"employer", "competent"},
    UNIT_RECORDS: {"employer", "competent"},
    INBOX: {"employer", "competent", "hr", "province"},
}
CAPACITIES = [("person", "person"), ("employer", "employer_admin"), ("competent", "competent_admin"),
              ("hr", "city_admin"), ("province", "province_admin"), ("ce_base", "ce_base_admin")]


@pytest.mark.parametrize("capacity,who", CAPACITIES)
def test_pages_open_for_their_capacity_only(app, w, capacity, who):
    c = _client(app, w, capacity, who)
    for url, allowed in PAGES.items():
        r = c.get(url)
        if capacity in allowed:
            assert r.status_code == 200, (capacity, url)
        else:
            assert r.status_code in (302, 403), (capacity, url, r.status_code)
            if r.status_code == 302:
                assert "/login" in r.headers["Location"] or r.headers["Location"].endswith("/")


def test_declare_form_shows_every_learning_form_group(app, w):
    c = _client(app, w, "person", "person")
    html = c.get(DECLARE).get_data(as_text=True)
    for code in ("training_class", "academic_conference", "paper", "research_project", "other"):
        assert f'data-code="{code}"' in html
    assert 'name="academic_conference-days"' in html and 'name="paper-journal"' in html
    assert html.count('type="file" name="evidence"') == 5
    assert 'value="save"' in html and 'value="submit"' in html


# -- the whole path: draft, submit, three reviewers, recognised hours -------------------------------------


def test_declare_draft_submit_and_three_reviewers_approve(app, w):
    person = _client(app, w, "person", "person")
    r = _declare(person, "save")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    [d] = _decls(app, w["person"])
    assert d.state == "draft" and d.requested_hours == Decimal("18.0")  # national 6/day × (2 days + 1 for the paper)
    assert d.data["conference"] == "全国医学年会"
    pk = d.id

    # the draft is on the progress page with edit/delete; the detail shows the form's labels and evidence
    html = person.get(PROGRESS + "?state=draft").get_data(as_text=True)
    assert f'data-id="{pk}"' in html
    html = person.get(f"/hours/declarations/{pk}").get_data(as_text=True)
    assert "全国医学年会" in html and "/uploads/attachment/" in html
    att = re.search(r"/uploads/attachment/(\d+)", html).group(1)
    assert person.get(f"/uploads/attachment/{att}").status_code == 200

    # edit keeps the values, then submit the draft
    html = person.get(f"/hours/declarations/{pk}/edit").get_data(as_text=True)
    assert 'value="全国医学年会"' in html
    r = person.post(f"/hours/declarations/{pk}/submit", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302
    [d] = _decls(app, w["person"])
    assert d.state == "pending" and d.handler_org_id == w["employer"]
    html = person.get(PROGRESS).get_data(as_text=True)
    assert "测试医院" in html  # current handler

    # employer → competent → city HR, each on its inbox; the last one sets the recognised hours
    for capacity, who, org in (("employer", "employer_admin", "employer"), ("competent", "competent_admin", "competent"),
                               ("hr", "city_admin", "city")):
        c = _client(app, w, capacity, who)
        html = c.get(INBOX).get_data(as_text=True)
        assert f'data-id="{pk}"' in html, capacity
        detail = c.get(f"/hours/review/{pk}").get_data(as_text=True)
        assert 'id="approve-one"' in detail and "/uploads/attachment/" in detail
        data = {"csrf_token": csrf_from(detail), "ids": str(pk), "scope": "single", "trigger": "approve",
                "year": str(YEAR), "comment": ""}
        if org == "city":
            data.update(recognised_hours="10", comment="论文未在会上宣读")
        r = c.post("/hours/review/review", data=data)
        assert r.status_code == 302
        [d] = _decls(app, w["person"])
        assert d.state == ("approved" if org == "city" else "pending"), (capacity, d.state)
    assert d.recognised_hours == Decimal("10.0")

    html = person.get(PROGRESS + "?state=approved").get_data(as_text=True)
    row = re.search(rf'<tr data-id="{pk}".*?</tr>', html, re.S).group(0)
    assert "10.0" in row
    detail = person.get(f"/hours/declarations/{pk}").get_data(as_text=True)
    assert detail.count('data-trigger="approve"') == 3 and "论文未在会上宣读" in detail


def test_failed_submit_keeps_values_and_shows_errors_next_to_fields(app, w):
    person = _client(app, w, "person", "person")
    r = _declare(person, "submit", **{"academic_conference-days": "0", "remark": "保留的备注"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'data-field="days"' in html and "保留的备注" in html and 'value="全国医学年会"' in html
    assert _decls(app, w["person"]) == []


def test_revoke_and_delete_draft(app, w):
    person = _client(app, w, "person", "person")
    assert _declare(person, "submit").status_code == 302
    [d] = _decls(app, w["person"])
    token = token_for(person, PROGRESS)
    assert person.post(f"/hours/declarations/{d.id}/revoke", data={"csrf_token": token}).status_code == 302
    [d] = _decls(app, w["person"])
    assert d.state == "draft"
    assert person.post(f"/hours/declarations/{d.id}/delete", data={"csrf_token": token}).status_code == 302
    assert _decls(app, w["person"]) == []


def test_person_cannot_open_or_act_on_someone_elses_declaration(app, w):
    other = _client(app, w, "person", "person_b")
    assert _declare(other, "save").status_code == 302
    [d] = _decls(app, w["person_b"])
    person = _client(app, w, "person", "person")
    assert person.get(f"/hours/declarations/{d.id}").status_code == 404
    token = token_for(person, PROGRESS)
    assert person.post(f"/hours/declarations/{d.id}/delete", data={"csrf_token": token}).status_code == 404
    assert person.get(f"/hours/declarations/{d.id}/edit").status_code == 404
    att = d.attachments[0].id
    assert person.get(f"/uploads/attachment/{att}").status_code == 404
    assert _decls(app, w["person_b"])[0].state == "draft"


# -- the inbox: bulk actions, foreign ids, scope -------------------------------------------------------


def _pending(app, w, key, n=2):
    c = _client(app, w, "person", key)
    for _i in range(n):
        assert _declare(c, "submit").status_code == 302
    return [d.id for d in _decls(app, w[key])]


def test_bulk_approve_selected_with_confirmation(app, w):
    ids = _pending(app, w, "person", 2)
    c = _client(app, w, "employer", "employer_admin")
    token = token_for(c, INBOX)
    r = c.post("/hours/review/review", data={"csrf_token": token, "action": "approve", "ids": [str(i) for i in ids],
                                             "year": str(YEAR)})
    assert r.status_code == 200 and 'data-count="2"' in r.get_data(as_text=True)
    assert all(d.handler_org_id == w["employer"] for d in _decls(app, w["person"]))
    r = c.post("/hours/review/review", data={"csrf_token": token, "trigger": "approve", "scope": "selected",
                                             "confirmed": "1", "ids": [str(i) for i in ids], "year": str(YEAR)})
    assert r.status_code == 302
    assert all(d.handler_org_id == w["competent"] and d.state == "pending" for d in _decls(app, w["person"]))


def test_bulk_reject_all_matching_needs_comment(app, w):
    _pending(app, w, "person", 2)
    c = _client(app, w, "employer", "employer_admin")
    token = token_for(c, INBOX)
    base = {"csrf_token": token, "trigger": "reject", "scope": "all", "confirmed": "1", "year": str(YEAR),
            "kind": "professional", "expected": "2"}
    r = c.post("/hours/review/review", data=dict(base, comment=""))
    assert r.status_code == 200  # confirmation page again with the message
    assert all(d.state == "pending" for d in _decls(app, w["person"]))
    r = c.post("/hours/review/review", data=dict(base, comment="材料不全"))
    assert r.status_code == 302
    assert all(d.state == "rejected" for d in _decls(app, w["person"]))


def test_bulk_with_a_foreign_id_changes_nothing(app, w):
    mine = _pending(app, w, "person", 1)
    foreign = _pending(app, w, "person_b", 1)
    c = _client(app, w, "employer", "employer_admin")
    token = token_for(c, INBOX)
    r = c.post("/hours/review/review", data={"csrf_token": token, "trigger": "approve", "scope": "selected",
                                             "confirmed": "1", "ids": [str(mine[0]), str(foreign[0])], "year": str(YEAR)})
    assert r.status_code == 302
    assert _decls(app, w["person"])[0].handler_org_id == w["employer"]
    assert _decls(app, w["person_b"])[0].state == "pending"
    with app.app_context():
        assert db.session.query(AuditLog).filter(AuditLog.object_type.ilike("%declaration%"),
                                                 AuditLog.trigger == "approve",
                                                 AuditLog.object_id.in_(mine + foreign)).count() == 0


def test_inbox_scope_detail_and_year_filter(app, w):
    foreign = _pending(app, w, "person_b", 1)[0]
    mine = _pending(app, w, "person", 1)[0]
    c = _client(app, w, "employer", "employer_admin")
    html = c.get(INBOX).get_data(as_text=True)
    assert f'data-id="{mine}"' in html and f'data-id="{foreign}"' not in html
    assert c.get(f"/hours/review/{foreign}").status_code == 404
    assert f'data-id="{mine}"' not in c.get(INBOX + f"?year={YEAR - 1}").get_data(as_text=True)
    # the competent department sees it only once the employer approved it; other county HR never
    comp = _client(app, w, "competent", "competent_admin")
    assert f'data-id="{mine}"' not in comp.get(INBOX).get_data(as_text=True)
    county = _client(app, w, "hr", "county_admin")
    assert county.get(f"/hours/review/{mine}").status_code == 404


def test_evidence_download_within_scope_only(app, w):
    pk = _pending(app, w, "person", 1)[0]
    with app.app_context():
        att = db.session.get(Declaration, pk).attachments[0].id
    assert _client(app, w, "employer", "employer_admin").get(f"/uploads/attachment/{att}").status_code == 200
    assert _client(app, w, "hr", "city_admin").get(f"/uploads/attachment/{att}").status_code == 200
    assert _client(app, w, "hr", "other_county_admin").get(f"/uploads/attachment/{att}").status_code == 404
    assert _client(app, w, "employer", "employer_b_admin").get(f"/uploads/attachment/{att}").status_code == 404


# -- organisations declare for their people ------------------------------------------------------------


def _unit_post(c, people, **extra):
    payload = dict(_conference(**extra), csrf_token=token_for(c, UNIT_DECLARE), people=[str(p) for p in people],
                   submit_action="submit")
    return c.post(UNIT_FORM, data=payload)


def test_unit_declares_for_its_people_and_sees_records(app, w):
    c = _client(app, w, "employer", "employer_admin")
    html = c.get(UNIT_DECLARE + "?q=同事").get_data(as_text=True)
    assert f'data-id="{w["colleague"]}"' in html and f'data-id="{w["person_b"]}"' not in html
    r = c.get(UNIT_DECLARE + f"?pick={w['person']}&pick={w['colleague']}&go=1")
    assert r.status_code == 302 and "people=" in r.headers["Location"]
    r = _unit_post(c, [w["person"], w["colleague"]])
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    made = _decls(app, w["person"]) + _decls(app, w["colleague"])
    assert len(made) == 2 and all(d.declared_by_org_id == w["employer"] and d.state == "pending" for d in made)
    assert all(d.handler_org_id != w["employer"] for d in made)  # starts above the declaring unit
    html = c.get(UNIT_RECORDS + "?state=pending").get_data(as_text=True)
    assert all(f'data-id="{d.id}"' in html for d in made)
    assert c.get(f"/hours/unit/{made[0].id}").status_code == 200


def test_unit_mix_of_accountants_refused_with_message(app, w):
    c = _client(app, w, "employer", "employer_admin")
    r = _unit_post(c, [w["person"], w["accountant"]])
    assert r.status_code == 200
    assert "declaration-error" in r.get_data(as_text=True)  # the service's message, shown as an alert
    assert _decls(app, w["person"]) == [] and _decls(app, w["accountant"]) == []


def test_unit_cannot_declare_for_people_outside_scope(app, w):
    c = _client(app, w, "employer", "employer_admin")
    r = _unit_post(c, [w["person"], w["person_b"]])
    assert r.status_code == 302
    assert _decls(app, w["person"]) == [] and _decls(app, w["person_b"]) == []
    with app.app_context():
        assert db.session.get(Professional, w["person_b"]).org_id == w["employer_b"]


def test_standard_hours_computed_for_the_page(app, w):
    person = _client(app, w, "person", "person")
    token = token_for(person, DECLARE)
    r = person.post("/hours/declarations/compute", data=dict(_conference(), csrf_token=token))
    assert r.get_json() == {"hours": "18.0", "computes": True}
    r = person.post("/hours/declarations/compute", data={"csrf_token": token, "form_code": "training_class", "year": str(YEAR)})
    assert r.get_json() == {"hours": None, "computes": False}


def test_inbox_masks_id_numbers_and_separates_ce_base_declarations(app, w):
    own = _pending(app, w, "person", 1)[0]
    with app.app_context():
        p = db.session.get(Professional, w["colleague"])
        base = Declaration(professional_id=p.id, org_id=p.org_id, declared_by_org_id=w["ce_base"], subject_type="public",
                           form_code="training_class", year=YEAR, requested_hours=8, state="pending",
                           route=[w["employer"]], handler_org_id=w["employer"], data={})
        db.session.add(base)
        db.session.commit()
        base_id, idn = base.id, db.session.get(Professional, w["person"]).id_number
    c = _client(app, w, "employer", "employer_admin")
    html = c.get(INBOX).get_data(as_text=True)
    assert f'data-id="{own}"' in html and f'data-id="{base_id}"' not in html and idn not in html
    html = c.get(INBOX + "?kind=ce_base").get_data(as_text=True)
    assert f'data-id="{base_id}"' in html and f'data-id="{own}"' not in html


def test_accountant_declares_public_subject_only(app, w):
    with app.app_context():
        p = db.session.get(Professional, w["accountant"])
        idn = p.id_number
    c = app.test_client()
    assert login(c, "person", idn).status_code == 302
    html = c.get(DECLARE).get_data(as_text=True)
    assert 'id="accountant-note"' in html and 'value="professional"' not in html


def test_single_review_with_other_hours_needs_a_reason(app, w):
    pk = _pending(app, w, "person", 1)[0]
    c = _client(app, w, "employer", "employer_admin")
    detail = c.get(f"/hours/review/{pk}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(detail), "ids": str(pk), "scope": "single", "trigger": "approve",
            "year": str(YEAR), "recognised_hours": "5", "comment": ""}
    assert c.post("/hours/review/review", data=data).status_code == 302
    [d] = _decls(app, w["person"])
    assert d.state == "pending" and d.handler_org_id == w["employer"] and d.recognised_hours is None


def test_edit_draft_through_the_page(app, w):
    person = _client(app, w, "person", "person")
    assert _declare(person, "save").status_code == 302
    [d] = _decls(app, w["person"])
    html = person.get(f"/hours/declarations/{d.id}/edit").get_data(as_text=True)
    payload = dict(_conference(**{"academic_conference-days": "3"}), csrf_token=csrf_from(html), submit_action="save")
    assert person.post(f"/hours/declarations/{d.id}/edit", data=payload).status_code == 302
    [d] = _decls(app, w["person"])
    assert d.state == "draft" and d.requested_hours == Decimal("24.0") and len(d.attachments) == 1
