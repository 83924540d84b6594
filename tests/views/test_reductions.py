"""Reduced requirement screens (学时折算): the professional's list, form, detail and actions; the
reviewers' inbox with its confirmation; evidence thumbnails — through the real pages with each
capacity, and refused (403 / 404 / nothing changed) outside it. Assertions are on structure and status
codes (the new strings are translated at integration)."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest

from app.extensions import db
from app.models import AuditLog, RequirementReduction
from tests import factories as f
from tests import images
from tests.helpers import csrf_from, login, token_for

YEAR = date.today().year
LIST = "/hours/reductions/"
ADD = "/hours/reductions/add"
INBOX = "/hours/reductions/review/"
REVIEW = "/hours/reductions/review/review"


@pytest.fixture
def w(app):
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
        return out


def _client(app, w, capacity, who):
    c = app.test_client()
    idn = w[who + "_login"] if who.startswith("person") else w[who]
    assert login(c, capacity, idn).status_code == 302
    return c


def _post_form(client, action="submit", evidence=1, url=ADD, **extra):
    page = client.get(url)
    assert page.status_code == 200
    data = {"year": str(YEAR), "reason": "sick_leave", "months_on_duty": "5", "remark": "病假七个月",
            "csrf_token": csrf_from(page.get_data(as_text=True)), "submit_action": action}
    data.update(extra)
    data["evidence"] = [(BytesIO(images.image_bytes("PNG")), f"proof{i}.png") for i in range(evidence)]
    return client.post(url, data=data, content_type="multipart/form-data")


def _rows(app, person_id):
    with app.app_context():
        return db.session.query(RequirementReduction).filter_by(professional_id=person_id).order_by(
            RequirementReduction.id).all()


PAGES = {LIST: {"person"}, ADD: {"person"}, INBOX: {"employer", "competent", "hr", "province"}}
CAPACITIES = [("person", "person"), ("employer", "employer_admin"), ("competent", "competent_admin"),
              ("hr", "city_admin"), ("province", "province_admin"), ("ce_base", "ce_base_admin")]


@pytest.mark.parametrize("capacity,who", CAPACITIES)
def test_pages_open_for_their_capacity_only(app, w, capacity, who):
    c = _client(app, w, capacity, who)
    home = c.get("/").get_data(as_text=True)
    for url, allowed in PAGES.items():
        r = c.get(url)
        if capacity in allowed:
            assert r.status_code == 200, (capacity, url)
        else:
            assert r.status_code in (302, 403), (capacity, url, r.status_code)
    # The menu links to the pages the capacity may open.
    assert ('href="/hours/reductions/"' in home) == (capacity == "person")
    assert ('href="/hours/reductions/review/"' in home) == (capacity in PAGES[INBOX])


def test_form_has_the_fields_and_keeps_input_on_error(app, w):
    c = _client(app, w, "person", "person")
    html = c.get(ADD).get_data(as_text=True)
    for name in ("year", "reason", "months_on_duty", "remark"):
        assert f'name="{name}"' in html
    assert html.count('type="file" name="evidence"') == 5
    assert 'value="save"' in html and 'value="submit"' in html
    for code in ("abroad", "sick_leave", "maternity", "other"):
        assert f'value="{code}"' in html
    r = _post_form(c, months_on_duty="12", remark="保留的备注", evidence=0)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'data-field="months_on_duty"' in page and 'data-field="evidence"' in page
    assert "保留的备注" in page and re.search(r'<option value="sick_leave" selected>', page)
    assert _rows(app, w["person"]) == []


def test_submit_review_chain_and_history_through_the_pages(app, w):
    me = _client(app, w, "person", "person")
    r = _post_form(me, evidence=2)
    assert r.status_code == 302
    (obj,) = _rows(app, w["person"])
    assert obj.state == "pending" and obj.handler_org_id == w["employer"] and len(obj.evidence) == 2
    listing = me.get(LIST).get_data(as_text=True)
    assert f'data-id="{obj.id}" data-state="pending"' in listing
    detail = me.get(f"/hours/reductions/{obj.id}").get_data(as_text=True)
    assert f"/uploads/reduction/{obj.id}/0" in detail and 'id="revoke"' in detail
    assert me.get(f"/uploads/reduction/{obj.id}/1").status_code == 200
    assert me.get(f"/uploads/reduction/{obj.id}/2").status_code == 404

    emp = _client(app, w, "employer", "employer_admin")
    inbox = emp.get(INBOX).get_data(as_text=True)
    assert f'data-id="{obj.id}"' in inbox
    shown = emp.get(f"/hours/reductions/review/{obj.id}").get_data(as_text=True)
    assert 'id="reduction-review"' in shown and f"/uploads/reduction/{obj.id}/0" in shown
    assert emp.get(f"/uploads/reduction/{obj.id}/0").status_code == 200
    token = token_for(emp, INBOX)
    # Selected ones: a confirmation showing the count first, nothing changed yet.
    confirm = emp.post(REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "selected",
                                     "ids": [obj.id], "year": YEAR})
    assert confirm.status_code == 200
    assert 'data-count="1"' in confirm.get_data(as_text=True)
    assert _rows(app, w["person"])[0].step == 0
    done = emp.post(REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "selected", "ids": [obj.id],
                                  "year": YEAR, "confirmed": "1", "comment": "情况属实"})
    assert done.status_code == 302
    (obj,) = _rows(app, w["person"])
    assert obj.state == "pending" and obj.handler_org_id == w["competent"]
    # Reviewed: the person can no longer revoke.
    assert 'id="revoke"' not in me.get(f"/hours/reductions/{obj.id}").get_data(as_text=True)
    me.post(f"/hours/reductions/{obj.id}/revoke", data={"csrf_token": token_for(me, LIST)})
    assert _rows(app, w["person"])[0].state == "pending"

    comp = _client(app, w, "competent", "competent_admin")
    token = token_for(comp, INBOX)
    # A rejection without a comment is refused and changes nothing.
    comp.post(REVIEW, data={"csrf_token": token, "trigger": "reject", "scope": "single", "ids": [obj.id],
                            "year": YEAR, "comment": ""})
    assert _rows(app, w["person"])[0].state == "pending"
    comp.post(REVIEW, data={"csrf_token": token, "trigger": "approve", "scope": "single", "ids": [obj.id],
                            "year": YEAR})
    hr = _client(app, w, "hr", "city_admin")
    hr.post(REVIEW, data={"csrf_token": token_for(hr, INBOX), "trigger": "approve", "scope": "single",
                          "ids": [obj.id], "year": YEAR})
    (obj,) = _rows(app, w["person"])
    assert obj.state == "approved"
    history = me.get(f"/hours/reductions/{obj.id}").get_data(as_text=True)
    assert history.count('data-trigger="approve"') == 3 and "情况属实" in history


def test_draft_edit_submit_and_delete(app, w):
    me = _client(app, w, "person", "person")
    assert _post_form(me, action="save", evidence=0).status_code == 302
    (obj,) = _rows(app, w["person"])
    assert obj.state == "draft"
    token = token_for(me, LIST)
    # Submitting a draft without evidence is refused.
    me.post(f"/hours/reductions/{obj.id}/submit", data={"csrf_token": token})
    assert _rows(app, w["person"])[0].state == "draft"
    r = _post_form(me, action="save", evidence=1, url=f"/hours/reductions/{obj.id}/edit", months_on_duty="7")
    assert r.status_code == 302
    (obj,) = _rows(app, w["person"])
    assert obj.months_on_duty == 7 and len(obj.evidence) == 1
    me.post(f"/hours/reductions/{obj.id}/submit", data={"csrf_token": token})
    assert _rows(app, w["person"])[0].state == "pending"
    me.post(f"/hours/reductions/{obj.id}/revoke", data={"csrf_token": token})
    assert _rows(app, w["person"])[0].state == "draft"
    me.post(f"/hours/reductions/{obj.id}/delete", data={"csrf_token": token})
    assert _rows(app, w["person"]) == []


def test_duplicate_request_is_refused_with_a_message(app, w):
    me = _client(app, w, "person", "person")
    assert _post_form(me).status_code == 302
    r = _post_form(me)
    assert r.status_code == 200 and 'data-field="year"' in r.get_data(as_text=True)
    assert len(_rows(app, w["person"])) == 1


def test_outsiders_get_404_and_change_nothing(app, w):
    me = _client(app, w, "person", "person")
    _post_form(me)
    (obj,) = _rows(app, w["person"])
    with app.app_context():
        audits = db.session.query(AuditLog).filter_by(object_type="reduction").count()
    other_person = _client(app, w, "person", "person_b")
    assert other_person.get(f"/hours/reductions/{obj.id}").status_code == 404
    assert other_person.get(f"/uploads/reduction/{obj.id}/0").status_code == 404
    other_person.post(f"/hours/reductions/{obj.id}/revoke", data={"csrf_token": token_for(other_person, LIST)})
    outsider = _client(app, w, "hr", "other_county_admin")
    assert outsider.get(f"/hours/reductions/review/{obj.id}").status_code == 404
    assert outsider.get(f"/uploads/reduction/{obj.id}/0").status_code == 404
    assert f'data-id="{obj.id}"' not in outsider.get(INBOX).get_data(as_text=True)
    token = token_for(outsider, INBOX)
    for scope in ("single", "selected"):
        outsider.post(REVIEW, data={"csrf_token": token, "trigger": "reject", "scope": scope, "ids": [obj.id],
                                    "year": YEAR, "confirmed": "1", "comment": "越权"})
    # A reviewer higher on the route, but whose turn it is not, cannot act either.
    comp = _client(app, w, "competent", "competent_admin")
    assert comp.get(f"/hours/reductions/review/{obj.id}").status_code == 200
    assert 'id="reduction-review"' not in comp.get(f"/hours/reductions/review/{obj.id}").get_data(as_text=True)
    comp.post(REVIEW, data={"csrf_token": token_for(comp, INBOX), "trigger": "approve", "scope": "single",
                            "ids": [obj.id], "year": YEAR})
    (after,) = _rows(app, w["person"])
    assert (after.state, after.step, after.handler_org_id) == ("pending", 0, w["employer"])
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(object_type="reduction").count() == audits
    # Bad ids are a bad request.
    assert comp.post(REVIEW, data={"csrf_token": token_for(comp, INBOX), "trigger": "approve", "ids": ["x"],
                                   "year": YEAR}).status_code == 400


def test_inbox_year_filter_defaults_to_this_year(app, w):
    me = _client(app, w, "person", "person")
    _post_form(me)
    (obj,) = _rows(app, w["person"])
    emp = _client(app, w, "employer", "employer_admin")
    assert f'data-id="{obj.id}"' in emp.get(INBOX).get_data(as_text=True)
    assert f'data-id="{obj.id}"' not in emp.get(f"{INBOX}?year={YEAR - 1}").get_data(as_text=True)
    assert 'id="inbox-empty"' in emp.get(f"{INBOX}?year={YEAR - 1}").get_data(as_text=True)
