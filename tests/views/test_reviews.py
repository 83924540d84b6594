"""Registration review screens (注册审核): for every kind the whole path through the pages
(public registration → the reviewer's list, detail and approval → login), rejection with and without
a reason, withdraw and register again, bulk approval of the selected rows and of every row matching
the search, a foreign id in a bulk post, and the scope of an HR bureau's lists."""

from __future__ import annotations

import itertools
from io import BytesIO
import os
import re
from datetime import date

import pytest
from sqlalchemy import func

from app.extensions import db
from app.models import AuditLog, Organization, Professional
from app.services.identifiers import make_credit_code, make_id_number
from tests import factories as f
from tests import images
from tests.helpers import csrf_from, login, token_for

PW = "Review2026ok"
_n = itertools.count(1)
BASE = "/review/registrations"


@pytest.fixture(autouse=True)
def _outbox(app, tmp_path, monkeypatch):
    """Approval notices go to a temporary outbox."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


def new_id():
    n = next(_n) + 3100
    return make_id_number("410105", date(1979, 1 + n % 12, 1 + n % 28), n)


def new_code():
    return make_credit_code("410100", 86500000 + next(_n))


@pytest.fixture
def w(app):
    """province → city HR → (county A HR, county B HR, competent → employer); one admin each."""
    with app.app_context():
        region = f.region()
        province = f.org("province", region_obj=region)
        city = f.org("hr", region_obj=region, parent=province)
        county_a = f.org("hr", region_obj=region, parent=city)
        county_b = f.org("hr", region_obj=region, parent=city)
        competent = f.org("competent", region_obj=region, parent=city)
        employer = f.org("employer", region_obj=region, parent=competent)
        employer_b = f.org("employer", region_obj=region, parent=county_b)
        out = {"region": region.id}
        for key, o in (("province", province), ("city", city), ("county_a", county_a), ("county_b", county_b),
                       ("competent", competent), ("employer", employer), ("employer_b", employer_b)):
            out[key] = o.id
            out[key + "_admin"] = f.admin(o).id_number
        db.session.commit()
        return out


# kind -> (superior key in ``w``, reviewer capacity)
KINDS = {
    "professional": ("employer", "employer"),
    "employer": ("competent", "competent"),
    "ce_base": ("competent", "competent"),
    "competent": ("county_a", "hr"),
    "hr": ("city", "hr"),
}


def _post(client, url, data):
    token = csrf_from(client.get(url).get_data(as_text=True))
    client.get("/captcha/image.png")  # the public forms' one-use captcha (the test app's answer is TEST)
    payload = dict(data, csrf_token=token, captcha="TEST")
    if url == "/register/organization":  # an organisation registers with its certificate scan
        payload["certificate_scan"] = (BytesIO(images.image_bytes("PNG")), "scan.png")
    return client.post(url, data=payload)


def register(client, w, kind, superior=None, idn=None, code=None, name=None):
    """Register through the public page; returns (model, lookup value, ID number, login capacity)."""
    idn = idn or new_id()
    parent = w[superior or KINDS[kind][0]]
    if kind == "professional":
        data = {
            "id_number": idn, "password": PW, "confirm": PW, "name": name or "审一", "mobile": "13700000001",
            "email": f"{idn}@review.test", "region": str(w["region"]), "employer": str(parent),
        }
        resp = _post(client, "/register/professional", data)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
        return idn, "person"
    code = code or new_code()
    data = {
        "kind": kind, "credit_code": code, "name": name or f"待审{kind}{code[-5:]}", "region": str(w["region"]),
        "parent": str(parent), "phone": "0371-7654321", "applicant": "new",
        "applicant_id_number": idn, "applicant_password": PW, "applicant_confirm": PW,
        "applicant_name": "申一", "applicant_mobile": "13600000001", "applicant_email": f"{idn}@orgreview.test",
    }
    resp = _post(client, "/register/organization", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return code, kind


def obj_id(app, kind, key):
    with app.app_context():
        if kind == "professional":
            return db.session.query(Professional.id).filter_by(id_number=key).scalar()
        return db.session.query(Organization.id).filter_by(credit_code=key).scalar()


def status(app, kind, pk):
    with app.app_context():
        model = Professional if kind == "professional" else Organization
        return db.session.get(model, pk).status


def audit_count(app, object_type=None, pk=None):
    with app.app_context():
        q = db.session.query(func.count(AuditLog.id))
        if pk is not None:
            q = q.filter(AuditLog.object_type == object_type, AuditLog.object_id == pk)
        return q.scalar()


def reviewer(app, w, kind, superior=None):
    client = app.test_client()
    key = superior or KINDS[kind][0]
    capacity = {"employer": "employer", "competent": "competent", "province": "province"}.get(key, "hr")
    assert login(client, capacity, w[key + "_admin"]).status_code == 302
    return client


def review(client, kind, ids, action="approve", reason="", confirmed=True, **extra):
    """POST the review form (as the detail page / confirmation page does)."""
    data = {"csrf_token": token_for(client), "trigger": action, "scope": "selected", "reason": reason, "ids": [str(i) for i in ids]}
    if confirmed:
        data["confirmed"] = "1"
    data.update(extra)
    return client.post(f"{BASE}/{kind}/review", data=data)


def rows(html):
    return set(int(x) for x in re.findall(r'<tr data-id="(\d+)"', html))


# ------------------------------------------------------------------------------ whole paths


@pytest.mark.parametrize("kind", list(KINDS))
def test_register_approve_on_review_screen_then_login(app, client, w, kind):
    key, capacity = register(client, w, kind)
    idn = key if kind == "professional" else None
    pk = obj_id(app, kind, key)
    rc = reviewer(app, w, kind)

    listing = rc.get(f"{BASE}/{kind}/")
    assert listing.status_code == 200
    assert pk in rows(listing.get_data(as_text=True))
    detail = rc.get(f"{BASE}/{kind}/{pk}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert 'id="approve-one"' in html and 'id="registration-fields"' in html
    if kind != "professional":
        assert 'id="registration-applicants"' in html

    resp = review(rc, kind, [pk], "approve", back=f"{BASE}/{kind}/{pk}")
    assert resp.status_code == 302
    assert status(app, kind, pk) == "approved"
    assert pk not in rows(rc.get(f"{BASE}/{kind}/").get_data(as_text=True))
    history = rc.get(f"{BASE}/{kind}/history/").get_data(as_text=True)
    assert f'data-object="{pk}" data-trigger="approve"' in history
    # the registrant logs in with the capacity of the registration
    if kind == "professional":
        assert login(app.test_client(), capacity, idn, PW).status_code == 302
    else:
        with app.app_context():
            from app.models import Membership

            m = db.session.query(Membership).filter_by(org_id=pk).one()
            applicant = m.user.id_number
            assert m.status == "approved"
        assert login(app.test_client(), capacity, applicant, PW).status_code == 302
    assert os.listdir(os.path.join(app.instance_path, "outbox"))  # the approval notice


@pytest.mark.parametrize("kind", list(KINDS))
def test_reject_needs_reason_then_register_again(app, client, w, kind):
    key, _capacity = register(client, w, kind)
    pk = obj_id(app, kind, key)
    rc = reviewer(app, w, kind)
    audits = audit_count(app, "professional" if kind == "professional" else "organization", pk)

    resp = review(rc, kind, [pk], "reject", reason="  ")
    assert resp.status_code == 200  # the confirmation page again, with the message flashed
    assert 'id="confirm-count"' in resp.get_data(as_text=True)
    assert status(app, kind, pk) == "pending"
    assert audit_count(app, "professional" if kind == "professional" else "organization", pk) == audits

    assert review(rc, kind, [pk], "reject", reason="材料不全").status_code == 302
    assert status(app, kind, pk) == "rejected"
    history = rc.get(f"{BASE}/{kind}/history/").get_data(as_text=True)
    assert f'data-object="{pk}" data-trigger="reject"' in history and "材料不全" in history

    # the same ID number / credit code registers again; the reviewer sees it pending once more
    if kind == "professional":
        register(client, w, kind, idn=key, name="审二")
    else:
        with app.app_context():
            from app.models import Membership

            old_applicant = db.session.query(Membership).filter_by(org_id=pk).one().user.id_number
        assert old_applicant
        register(client, w, kind, code=key, idn=new_id())
    assert obj_id(app, kind, key) == pk and status(app, kind, pk) == "pending"
    assert pk in rows(rc.get(f"{BASE}/{kind}/").get_data(as_text=True))


def test_withdrawn_organisation_registers_again_and_is_approved(app, client, w):
    code, _cap = register(client, w, "employer", idn=(idn := new_id()))
    pk = obj_id(app, "employer", code)
    resp = _post(client, "/register/progress", {
        "name": "申一", "id_number": idn, "action": "withdraw", "target": f"organization:{pk}", "password": PW,
    })
    assert 'data-status="withdrawn"' in resp.get_data(as_text=True)
    rc = reviewer(app, w, "employer")
    assert pk not in rows(rc.get(f"{BASE}/employer/").get_data(as_text=True))
    # a withdrawn registration cannot be approved by posting its id
    assert review(rc, "employer", [pk], "approve").status_code == 302
    assert status(app, "employer", pk) == "withdrawn"

    register(client, w, "employer", code=code, idn=new_id())
    assert pk in rows(rc.get(f"{BASE}/employer/").get_data(as_text=True))
    assert review(rc, "employer", [pk], "approve").status_code == 302
    assert status(app, "employer", pk) == "approved"


# ------------------------------------------------------------------------------ bulk


@pytest.fixture
def pending_people(app, w):
    with app.app_context():
        employer = db.session.get(Organization, w["employer"])
        other = db.session.get(Organization, w["employer_b"])
        mine = [f.professional(employer, name, status="pending").id for name in ("批量甲", "批量乙", "其他丙")]
        foreign = f.professional(other, "外单位丁", status="pending").id
        db.session.commit()
        return mine, foreign


def test_bulk_selected_shows_count_then_approves(app, w, pending_people):
    mine, _foreign = pending_people
    rc = reviewer(app, w, "professional")
    token = token_for(rc)
    confirm = rc.post(f"{BASE}/professional/review", data={"csrf_token": token, "action": "approve", "ids": [mine[0], mine[1]]})
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and 'data-count="2"' in html
    assert "批量甲" in html and "批量乙" in html and "其他丙" not in html
    assert status(app, "professional", mine[0]) == "pending"  # nothing happens before the confirmation

    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert form["confirmed"] == "1" and form["scope"] == "selected"
    resp = review(rc, "professional", mine[:2], "approve")
    assert resp.status_code == 302
    assert [status(app, "professional", pk) for pk in mine] == ["approved", "approved", "pending"]


def test_bulk_all_matching_the_filter(app, w, pending_people):
    mine, foreign = pending_people
    rc = reviewer(app, w, "professional")
    listing = rc.get(f"{BASE}/professional/?q=批量").get_data(as_text=True)
    assert rows(listing) == set(mine[:2])
    confirm = rc.post(f"{BASE}/professional/review", data={"csrf_token": token_for(rc), "action": "approve_all", "q": "批量"})
    html = confirm.get_data(as_text=True)
    assert 'data-count="2"' in html and 'name="expected" value="2"' in html
    resp = rc.post(f"{BASE}/professional/review", data={
        "csrf_token": token_for(rc), "trigger": "approve", "scope": "all", "q": "批量", "expected": "2", "confirmed": "1",
    })
    assert resp.status_code == 302
    assert [status(app, "professional", pk) for pk in mine] == ["approved", "approved", "pending"]
    assert status(app, "professional", foreign) == "pending"


def test_bulk_all_refused_when_the_list_changed_since_confirmation(app, w, pending_people):
    mine, _foreign = pending_people
    rc = reviewer(app, w, "professional")
    audits = audit_count(app)
    resp = rc.post(f"{BASE}/professional/review", data={
        "csrf_token": token_for(rc), "trigger": "reject", "scope": "all", "q": "批量", "expected": "5",
        "reason": "重复", "confirmed": "1",
    })
    assert resp.status_code == 302
    assert all(status(app, "professional", pk) == "pending" for pk in mine)
    assert audit_count(app) == audits


def test_bulk_with_one_foreign_id_is_refused_and_changes_nothing(app, w, pending_people):
    mine, foreign = pending_people
    rc = reviewer(app, w, "professional")
    audits = audit_count(app)
    resp = review(rc, "professional", [mine[0], foreign, mine[1]], "approve")
    assert resp.status_code == 302
    page = rc.get(resp.headers["Location"]).get_data(as_text=True)
    assert "alert-danger" in page
    assert [status(app, "professional", pk) for pk in mine] == ["pending"] * 3
    assert status(app, "professional", foreign) == "pending"
    assert audit_count(app) == audits
    # nor can the foreign one be opened
    assert rc.get(f"{BASE}/professional/{foreign}").status_code == 404


def test_review_needs_post_and_csrf(app, w, pending_people):
    mine, _foreign = pending_people
    rc = reviewer(app, w, "professional")
    assert rc.get(f"{BASE}/professional/review").status_code == 405
    resp = rc.post(f"{BASE}/professional/review", data={"trigger": "approve", "ids": [mine[0]], "confirmed": "1"})
    assert resp.status_code == 400
    assert status(app, "professional", mine[0]) == "pending"


# ------------------------------------------------------------------------------ scope


def test_hr_bureau_sees_only_registrations_addressed_to_it(app, client, w):
    code_a, _ = register(client, w, "competent", superior="county_a", name="甲县待审主管部门")
    code_b, _ = register(client, w, "competent", superior="county_b", name="乙县待审主管部门")
    pk_a, pk_b = obj_id(app, "competent", code_a), obj_id(app, "competent", code_b)
    rc = reviewer(app, w, "competent", superior="county_a")
    html = rc.get(f"{BASE}/competent/").get_data(as_text=True)
    assert pk_a in rows(html) and pk_b not in rows(html)
    assert "乙县待审主管部门" not in html
    assert rc.get(f"{BASE}/competent/?q=乙县待审").get_data(as_text=True).count("<tr data-id=") == 0
    assert rc.get(f"{BASE}/competent/{pk_b}").status_code == 404
    # the city above both is not the reviewer either: a registration goes to the direct superior only
    city = reviewer(app, w, "competent", superior="city")
    assert not rows(city.get(f"{BASE}/competent/").get_data(as_text=True)) & {pk_a, pk_b}

    audits = audit_count(app, "organization", pk_b)
    resp = review(rc, "competent", [pk_b], "approve")
    assert resp.status_code == 302
    assert status(app, "competent", pk_b) == "pending"
    assert audit_count(app, "organization", pk_b) == audits
    resp = rc.post(f"{BASE}/competent/review", data={"csrf_token": token_for(rc), "action": "approve_all", "q": "乙县"})
    assert resp.status_code == 302  # nothing matching: "no registration selected"
    assert status(app, "competent", pk_b) == "pending"


def test_tabs_follow_the_capacity(app, w):
    employer = reviewer(app, w, "professional")
    html = employer.get(f"{BASE}/professional/").get_data(as_text=True)
    assert set(re.findall(r'data-kind="(\w+)"', html)) == {"professional", "employer"}
    assert employer.get(f"{BASE}/hr/").status_code == 404
    assert employer.get(f"{BASE}/").status_code == 302
    hr = reviewer(app, w, "hr")
    html = hr.get(f"{BASE}/hr/").get_data(as_text=True)
    assert set(re.findall(r'data-kind="(\w+)"', html)) == {"hr", "competent", "employer", "ce_base"}
    assert hr.get(f"{BASE}/professional/").status_code == 404


def test_non_reviewers_are_refused(app, w):
    with app.app_context():
        region = db.session.get(Organization, w["competent"]).region
        base = f.org("ce_base", parent=db.session.get(Organization, w["competent"]), region_obj=region)
        base_admin = f.admin(base).id_number
        person = f.professional(db.session.get(Organization, w["employer"]), "审人", status="approved").id_number
        db.session.commit()
    for capacity, idn in (("ce_base", base_admin), ("person", person)):
        c = app.test_client()
        assert login(c, capacity, idn).status_code == 302
        assert c.get(f"{BASE}/employer/").status_code == 403
        resp = c.post(f"{BASE}/employer/review", data={"csrf_token": token_for(c), "trigger": "approve", "ids": ["1"], "confirmed": "1"})
        assert resp.status_code == 403
    assert app.test_client().get(f"{BASE}/employer/").status_code == 302  # anonymous: to the login page


def test_detail_links_the_certificate_scan(app, client, w):
    code, _ = register(client, w, "employer")
    pk = obj_id(app, "employer", code)
    rc = reviewer(app, w, "employer")
    html = rc.get(f"{BASE}/employer/{pk}").get_data(as_text=True)
    assert f'href="/uploads/org/{pk}/certificate"' in html
    scan = rc.get(f"/uploads/org/{pk}/certificate")
    assert scan.status_code == 200 and scan.content_type == "image/png"
    with app.app_context():  # an organisation created before scans were required has none
        db.session.get(Organization, pk).certificate_scan = None
        db.session.commit()
    assert 'id="certificate-link"' not in rc.get(f"{BASE}/employer/{pk}").get_data(as_text=True)


def test_list_is_paginated_20_a_page(app, w):
    with app.app_context():
        employer = db.session.get(Organization, w["employer"])
        for i in range(23):
            f.professional(employer, f"分页审{i:02d}", status="pending")
        db.session.commit()
    rc = reviewer(app, w, "professional")
    first = rc.get(f"{BASE}/professional/?q=分页审").get_data(as_text=True)
    second = rc.get(f"{BASE}/professional/?q=分页审&page_RegistrationReviewView=1").get_data(as_text=True)
    assert len(rows(first)) == 20 and len(rows(second)) == 3
    assert not rows(first) & rows(second)
    assert "page_RegistrationReviewView=1" in first


def test_back_link_never_leaves_the_site(app, w, pending_people):
    mine, foreign = pending_people
    rc = reviewer(app, w, "professional")
    for back in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        resp = review(rc, "professional", [foreign], "approve", back=back)  # refused: goes "back"
        assert resp.status_code == 302
        assert "evil" not in resp.headers["Location"] and "javascript" not in resp.headers["Location"]
    assert status(app, "professional", foreign) == "pending"
