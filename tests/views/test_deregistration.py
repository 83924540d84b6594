"""Deregistration pages: the whole person path, the organisation path, and scope refusals."""

from __future__ import annotations

import io
import re

import pytest

from app.extensions import db
from app.models import AuditLog, Declaration, Deregistration, Organization, Professional
from tests import factories as f
from tests.helpers import csrf_from, login
from tests.images import image_bytes


@pytest.fixture(scope="module")
def t(app):
    with app.app_context():
        province = f.org("province", "注销省厅")
        city = f.org("hr", "注销市人社局", province)
        county = f.org("hr", "注销县人社局", city)
        other_county = f.org("hr", "注销另一县人社局", city)
        employer = f.org("employer", "注销测试医院", county)
        other_employer = f.org("employer", "注销另一单位", other_county)
        data = {
            "province": province.id, "city": city.id, "county": county.id, "other_county": other_county.id,
            "employer": employer.id, "other_employer": other_employer.id,
        }
        for key in list(data):
            data[key + "_admin"] = f.admin(db.session.get(Organization, data[key])).id_number
        db.session.commit()
        return data


def _client(app, capacity, id_number):
    client = app.test_client()
    response = login(client, capacity, id_number)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _login_error(response):
    m = re.search(r'id="login-error" data-code="([a-z_]+)">\s*([^<]+)', response.get_data(as_text=True))
    return (m.group(1), m.group(2).strip()) if m else (None, None)


def _token(client, url):
    return csrf_from(client.get(url).get_data(as_text=True))


def _person(app, t, name):
    with app.app_context():
        p = f.professional(db.session.get(Organization, t["employer"]), name)
        db.session.add(Declaration(professional_id=p.id, org_id=t["employer"], subject_type="public", form_code="other", year=2025, requested_hours=12, recognised_hours=12, state="approved", route=[], data={}))
        db.session.commit()
        return p.id, p.id_number


def _review(client, pk, action, reason="", confirm=True):
    token = _token(client, "/review/deregistrations/list/")
    data = {"csrf_token": token, "ids": pk if isinstance(pk, list) else [pk], "action": action, "reason": reason}
    if confirm:
        data["confirmed"] = "1"
    return client.post("/review/deregistrations/review", data=data)


def _dereg(app, pk):
    with app.app_context():
        obj = db.session.get(Deregistration, pk)
        return (obj.state, obj.handler_org_id) if obj else None


def test_person_path_to_closed_login(app, t):
    person_id, idn = _person(app, t, "注销丁")
    client = _client(app, "person", idn)
    page = client.get("/deregistration/mine/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="cause"' in html and 'id="dereg-none"' in html
    # Missing reason: the form comes back with the error, nothing stored.
    token = csrf_from(html)
    bad = client.post("/deregistration/mine/apply", data={"csrf_token": token, "cause": "retired", "reason": " "})
    assert bad.status_code == 200 and 'data-error="reason"' in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Deregistration).filter_by(professional_id=person_id).count() == 0
    ok = client.post("/deregistration/mine/apply", data={"csrf_token": token, "cause": "retired", "reason": "已退休"})
    assert ok.status_code == 302
    with app.app_context():
        pk = db.session.query(Deregistration.id).filter_by(professional_id=person_id).scalar()
    assert _dereg(app, pk) == ("pending", t["employer"])
    html = client.get("/deregistration/mine/list/").get_data(as_text=True)
    assert 'id="dereg-open"' in html and f'data-id="{pk}"' in html

    # The employer sees it in its inbox, confirms, approves: forwarded to the county HR bureau.
    emp = _client(app, "employer", t["employer_admin"])
    inbox = emp.get("/review/deregistrations/list/").get_data(as_text=True)
    assert f'data-id="{pk}"' in inbox
    assert emp.get(f"/review/deregistrations/show/{pk}").status_code == 200
    confirm = _review(emp, pk, "approve", confirm=False)
    assert confirm.status_code == 200 and 'id="confirm-count" data-count="1"' in confirm.get_data(as_text=True)
    assert _dereg(app, pk) == ("pending", t["employer"])  # the confirmation page changes nothing
    assert _review(emp, pk, "approve").status_code == 302
    assert _dereg(app, pk) == ("pending", t["county"])
    assert f'data-id="{pk}"' not in emp.get("/review/deregistrations/list/").get_data(as_text=True)

    # The person can no longer withdraw (the withdraw button is gone, a forged POST is refused).
    html = client.get("/deregistration/mine/list/").get_data(as_text=True)
    assert f'/deregistration/mine/withdraw/{pk}' not in html
    client.post(f"/deregistration/mine/withdraw/{pk}", data={"csrf_token": csrf_from(html)})
    assert _dereg(app, pk) == ("pending", t["county"])

    # The city HR bureau (above the county) is not the handler: refused, nothing changes.
    city = _client(app, "hr", t["city_admin"])
    _review(city, pk, "approve")
    assert _dereg(app, pk) == ("pending", t["county"])

    hr = _client(app, "hr", t["county_admin"])
    assert f'data-id="{pk}"' in hr.get("/review/deregistrations/list/").get_data(as_text=True)
    assert _review(hr, pk, "approve", reason="同意注销").status_code == 302
    assert _dereg(app, pk)[0] == "approved"
    history = hr.get("/review/deregistrations/list/?tab=history").get_data(as_text=True)
    assert f'data-id="{pk}"' in history
    detail = hr.get(f"/review/deregistrations/show/{pk}").get_data(as_text=True)
    assert detail.count('data-trigger="approve"') == 2 and 'data-trigger="apply"' in detail

    # The professional can no longer sign in; hours rows are kept.
    code, text = _login_error(login(app.test_client(), "person", idn))
    assert code == "deregistered" and text
    with app.app_context():
        assert db.session.get(Professional, person_id).status == "deregistered"
        assert db.session.query(Declaration).filter_by(professional_id=person_id).count() == 1
    # The old session loses the professional capacity too.
    assert client.get("/deregistration/mine/list/").status_code in (302, 403)


def test_person_withdraws_and_employer_rejects(app, t):
    person_id, idn = _person(app, t, "注销戊")
    client = _client(app, "person", idn)
    token = _token(client, "/deregistration/mine/list/")
    client.post("/deregistration/mine/apply", data={"csrf_token": token, "cause": "other", "reason": "出国定居"})
    with app.app_context():
        first = db.session.query(Deregistration.id).filter_by(professional_id=person_id).scalar()
    assert client.post(f"/deregistration/mine/withdraw/{first}", data={"csrf_token": token}).status_code == 302
    assert _dereg(app, first)[0] == "withdrawn"
    client.post("/deregistration/mine/apply", data={"csrf_token": token, "cause": "retired", "reason": "退休"})
    with app.app_context():
        second = db.session.query(Deregistration.id).filter(Deregistration.professional_id == person_id, Deregistration.id != first).scalar()
    emp = _client(app, "employer", t["employer_admin"])
    _review(emp, second, "reject", reason="")  # a rejection needs a reason
    assert _dereg(app, second)[0] == "pending"
    _review(emp, second, "reject", reason="未到退休年龄")
    assert _dereg(app, second)[0] == "rejected"
    assert login(app.test_client(), "person", idn).status_code == 302


def test_review_scope_refusals(app, t):
    _pid, idn = _person(app, t, "注销己")
    client = _client(app, "person", idn)
    token = _token(client, "/deregistration/mine/list/")
    client.post("/deregistration/mine/apply", data={"csrf_token": token, "cause": "retired", "reason": "退休"})
    with app.app_context():
        pk = db.session.query(Deregistration.id).filter_by(professional_id=_pid).scalar()
        audit_before = db.session.query(AuditLog).filter_by(object_type="deregistration").count()
    stranger = _client(app, "employer", t["other_employer_admin"])
    assert f'data-id="{pk}"' not in stranger.get("/review/deregistrations/list/").get_data(as_text=True)
    assert stranger.get(f"/review/deregistrations/show/{pk}").status_code == 404
    for confirm in (False, True):
        for action in ("approve", "reject"):
            _review(stranger, pk, action, reason="越权", confirm=confirm)
    other_hr = _client(app, "hr", t["other_county_admin"])
    _review(other_hr, pk, "approve")
    assert other_hr.get(f"/review/deregistrations/show/{pk}").status_code == 404
    # A mixed batch (one addressed to the employer, one not) changes nothing either.
    emp = _client(app, "employer", t["employer_admin"])
    with app.app_context():
        far_person = f.professional(db.session.get(Organization, t["other_employer"]), "远处")
        far = Deregistration(kind="person", professional_id=far_person.id, org_id=t["other_employer"], reason="x", state="pending", handler_org_id=t["other_employer"])
        db.session.add(far)
        db.session.commit()
        far_id = far.id
    _review(emp, [pk, far_id], "approve")
    assert _dereg(app, pk) == ("pending", t["employer"]) and _dereg(app, far_id) == ("pending", t["other_employer"])
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(object_type="deregistration").count() == audit_before
    # The person cannot open the review pages; another person cannot withdraw it.
    assert client.get("/review/deregistrations/list/").status_code in (302, 403)
    _oid, other_idn = _person(app, t, "注销庚")
    other = _client(app, "person", other_idn)
    assert other.post(f"/deregistration/mine/withdraw/{pk}", data={"csrf_token": _token(other, "/deregistration/mine/list/")}).status_code == 404
    assert _dereg(app, pk)[0] == "pending"
    # GET is not an action.
    assert emp.get("/review/deregistrations/review").status_code == 405


def test_org_path(app, t):
    with app.app_context():
        unit = f.org("employer", "注销子单位", db.session.get(Organization, t["employer"]))
        unit_admin = f.admin(unit).id_number
        target = f.org("employer", "合并目标单位", db.session.get(Organization, t["county"]))
        unit_id, target_id = unit.id, target.id
        db.session.commit()
    client = _client(app, "employer", unit_admin)
    page = client.get("/deregistration/unit/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="proof_file"' in html and 'id="proof-template"' in html
    template = client.get("/deregistration/unit/template")
    assert template.status_code == 200 and "注销子单位" in template.get_data(as_text=True)
    found = client.get("/deregistration/unit/targets?q=合并目标").get_json()
    assert [i["id"] for i in found["items"]] == [target_id]
    token = csrf_from(html)
    # A merge without a valid target: refused, nothing stored.
    bad = client.post(
        "/deregistration/unit/apply",
        data={"csrf_token": token, "request_kind": "merge", "reason": "合并", "merge_into": str(unit_id),
              "proof_file": (io.BytesIO(image_bytes()), "proof.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 200 and 'data-error="merge_into"' in bad.get_data(as_text=True)
    ok = client.post(
        "/deregistration/unit/apply",
        data={"csrf_token": token, "request_kind": "merge", "reason": "并入上级指定单位", "merge_into": str(target_id),
              "proof_file": (io.BytesIO(image_bytes()), "proof.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    with app.app_context():
        pk = db.session.query(Deregistration.id).filter_by(kind="org", org_id=unit_id).scalar()
    assert _dereg(app, pk) == ("pending", t["employer"])
    # The parent reviews it and opens the proof file; the grandparent (county) is not the handler.
    hr = _client(app, "hr", t["county_admin"])
    _review(hr, pk, "approve")
    assert _dereg(app, pk) == ("pending", t["employer"])
    emp = _client(app, "employer", t["employer_admin"])
    detail = emp.get(f"/review/deregistrations/show/{pk}").get_data(as_text=True)
    assert f"/uploads/deregistration/{pk}/proof" in detail
    proof = emp.get(f"/uploads/deregistration/{pk}/proof")
    assert proof.status_code == 200 and proof.mimetype == "image/png"
    assert _review(emp, pk, "approve").status_code == 302
    assert _dereg(app, pk)[0] == "approved"
    with app.app_context():
        assert db.session.get(Organization, unit_id).status == "deregistered"
    code, text = _login_error(login(app.test_client(), "employer", unit_admin))
    assert code == "org_deregistered" and text


def test_org_apply_refused_while_it_has_professionals(app, t):
    _person(app, t, "在职人员")
    client = _client(app, "employer", t["employer_admin"])
    html = client.get("/deregistration/unit/list/").get_data(as_text=True)
    assert 'data-blocker="professionals"' in html
    response = client.post(
        "/deregistration/unit/apply",
        data={"csrf_token": csrf_from(html), "request_kind": "deregister", "reason": "撤销",
              "proof_file": (io.BytesIO(image_bytes()), "proof.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and 'data-error="professionals"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Deregistration).filter_by(kind="org", org_id=t["employer"]).count() == 0
