"""Public registration pages: the whole path for a professional and an organisation, validation errors,
reject / withdraw then register again, the progress page and the paginated employer picker."""

from __future__ import annotations

import itertools
from io import BytesIO
from datetime import date

import pytest

from app.extensions import db
from app.models import Organization, Professional, User
from app.services import registration as reg
from app.services.identifiers import make_credit_code, make_id_number
from app.services.scope import Actor
from tests import factories as f
from tests import images
from tests.helpers import csrf_from, login

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _outbox(app, tmp_path, monkeypatch):
    """Approval notices go to a temporary outbox."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path
PW = "Regist3r2026"


def new_id():
    n = next(_n) + 700
    return make_id_number("410105", date(1988, 1 + n % 12, 1 + n % 28), n)


@pytest.fixture
def world(app):
    with app.app_context():
        region = f.region()
        competent = f.org("competent", region_obj=region)
        employer = f.org("employer", parent=competent, region_obj=region)
        reviewer = f.admin(employer)
        competent_admin = f.admin(competent)
        db.session.commit()
        # Built and closed: requests must run in their own app contexts (a held one shares its session).
        return {
            "region": region.id, "competent": competent.id, "employer": employer.id,
            "reviewer": reviewer.id, "reviewer_id": reviewer.id_number,
            "competent_admin": competent_admin.id,
        }


def _post(client, url, data):
    token = csrf_from(client.get(url).get_data(as_text=True))
    client.get("/captcha/image.png")  # what the page's <img> does: a one-use challenge in the session
    payload = dict({"captcha": "TEST"}, **data, csrf_token=token)
    if url == "/register/organization":  # an organisation registers with its certificate scan
        payload["certificate_scan"] = (BytesIO(images.image_bytes("PNG")), "scan.png")
    return client.post(url, data=payload)


def _person_form(w, idn, **kw):
    d = {
        "id_number": idn, "password": PW, "confirm": PW, "name": "冯一", "mobile": "13700000000",
        "email": f"{idn}@page.test", "region": str(w["region"]), "employer": str(w["employer"]),
    }
    d.update(kw)
    return d


def _review(app, model, obj_id, trigger, user_id, org_id, reason=None):
    with app.app_context(), app.test_request_context():
        obj = db.session.get(model, obj_id)
        reg.review(obj, trigger, Actor(user_id, "admin", org_id), reason=reason)


def _professional(app, idn):
    with app.app_context():
        p = db.session.query(Professional).filter_by(id_number=idn).one()
        db.session.expunge(p)
        return p


def test_public_pages_open_without_login(client, world):
    for url in ("/register/", "/register/professional", "/register/organization", "/register/progress"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert 'name="csrf_token"' in resp.get_data(as_text=True) or url == "/register/"
    assert "/register/progress" in client.get("/login/").get_data(as_text=True)


def test_professional_whole_path(app, client, world):
    idn = new_id()
    resp = _post(client, "/register/professional", _person_form(world, idn))
    assert resp.status_code == 302 and "/register/progress" in resp.headers["Location"]
    assert login(client, "person", idn, PW).status_code != 302  # pending: refused
    page = _post(client, "/register/progress", {"name": "冯一", "id_number": idn, "action": "query"})
    html = page.get_data(as_text=True)
    assert 'data-status="pending"' in html
    p = _professional(app, idn)
    _review(app, Professional, p.id, "approve", world["reviewer"], world["employer"])
    assert _professional(app, idn).certificate_no
    assert login(client, "person", idn, PW).status_code == 302


def test_professional_validation_errors_shown_and_nothing_saved(app, client, world):
    idn = new_id()
    with app.app_context():
        users = db.session.query(User).count()
    resp = _post(client, "/register/professional", _person_form(world, idn, confirm="other1234", mobile="123", email=""))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for field in ("confirm", "mobile", "email"):
        assert f'data-error="{field}"' in html
    assert f'value="{idn}"' in html and PW not in html  # typed values kept, passwords not
    with app.app_context():
        assert db.session.query(User).count() == users
        assert db.session.query(Professional).filter_by(id_number=idn).count() == 0


def test_reject_then_register_again(app, client, world):
    idn = new_id()
    _post(client, "/register/professional", _person_form(world, idn))
    p = _professional(app, idn)
    _review(app, Professional, p.id, "reject", world["reviewer"], world["employer"], reason="信息有误")
    html = _post(client, "/register/progress", {"name": "冯一", "id_number": idn}).get_data(as_text=True)
    assert 'data-status="rejected"' in html
    resp = _post(client, "/register/professional", _person_form(world, idn, name="冯二"))
    assert resp.status_code == 302
    assert _professional(app, idn).status == "pending" and _professional(app, idn).name == "冯二"


def test_withdraw_then_register_again(app, client, world):
    idn = new_id()
    _post(client, "/register/professional", _person_form(world, idn))
    p = _professional(app, idn)
    resp = _post(client, "/register/progress", {
        "name": "冯一", "id_number": idn, "action": "withdraw", "target": f"professional:{p.id}", "password": PW,
    })
    assert 'data-status="withdrawn"' in resp.get_data(as_text=True)
    assert _professional(app, idn).status == "withdrawn"
    assert _post(client, "/register/professional", _person_form(world, idn)).status_code == 302
    assert _professional(app, idn).status == "pending"


def test_withdraw_with_wrong_name_changes_nothing(app, client, world):
    idn = new_id()
    _post(client, "/register/professional", _person_form(world, idn))
    p = _professional(app, idn)
    _post(client, "/register/progress", {
        "name": "别人", "id_number": idn, "action": "withdraw", "target": f"professional:{p.id}", "password": PW,
    })
    assert _professional(app, idn).status == "pending"


def test_organization_whole_path(app, client, world):
    idn = new_id()
    code = make_credit_code("410100", 82000000 + next(_n))
    data = {
        "kind": "employer", "credit_code": code, "name": f"页面注册单位{code[-4:]}", "region": str(world["region"]),
        "parent": str(world["competent"]), "phone": "0371-7654321", "applicant": "new",
        "applicant_id_number": idn, "applicant_password": PW, "applicant_confirm": PW,
        "applicant_name": "韩一", "applicant_mobile": "13600000000", "applicant_email": f"{idn}@orgpage.test",
    }
    bad = _post(client, "/register/organization", dict(data, credit_code="123", applicant_confirm="nope"))
    html = bad.get_data(as_text=True)
    assert 'data-error="credit_code"' in html and 'data-error="applicant_confirm"' in html
    with app.app_context():
        assert db.session.query(User).filter_by(username=idn).count() == 0
    assert _post(client, "/register/organization", data).status_code == 302
    assert login(client, "employer", idn, PW).status_code != 302
    with app.app_context():
        org_id = db.session.query(Organization.id).filter_by(credit_code=code).scalar()
    _review(app, Organization, org_id, "approve", world["competent_admin"], world["competent"])
    assert login(client, "employer", idn, PW).status_code == 302


def test_employer_picker_is_paginated_and_searchable(app, client, world):
    with app.app_context():
        region = f.region("419901", "分页县", "county")
        for i in range(25):
            f.org("employer", f"分页医院{i:02d}", region_obj=region)
        f.org("employer", "分页医院待审", region_obj=region, status="pending")
        f.org("competent", "分页主管部门", region_obj=region)
        db.session.commit()
        rid = region.id
    first = client.get(f"/register/employers?region={rid}&q=分页").get_json()
    assert len(first["items"]) == 20 and first["has_more"]
    second = client.get(f"/register/employers?region={rid}&q=分页&page=2").get_json()
    assert len(second["items"]) == 5 and not second["has_more"]
    names = {i["name"] for i in first["items"] + second["items"]}
    assert "分页医院待审" not in names and "分页主管部门" not in names
    one = client.get(f"/register/employers?region={rid}&q=医院07").get_json()
    assert [i["name"] for i in one["items"]] == ["分页医院07"]
    sup = client.get(f"/register/superiors?kind=employer&region={rid}&q=分页主管").get_json()
    assert [i["name"] for i in sup["items"]] == ["分页主管部门"]
    assert client.get("/register/superiors?kind=bogus").get_json()["items"] == []
