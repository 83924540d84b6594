"""Certificate scan upload through the public organisation registration page, and serving stored
uploads only within scope."""

from __future__ import annotations

import itertools
import re
import os
from datetime import date
from io import BytesIO

import pytest

from app.extensions import db
from app.models import Organization, User
from app.services.identifiers import make_credit_code, make_id_number
from tests import factories as f
from tests import images
from tests.helpers import csrf_from, login

_n = itertools.count(1)
PW = "Upl0ad2026x"


def _new_id():
    n = next(_n) + 1700
    return make_id_number("410105", date(1986, 1 + n % 12, 1 + n % 28), n)


@pytest.fixture
def world(app):
    with app.app_context():
        region = f.region()
        competent = f.org("competent", region_obj=region)
        outsider = f.org("competent", region_obj=region)
        competent_admin = f.admin(competent)
        outsider_admin = f.admin(outsider)
        db.session.commit()
        return {
            "region": region.id, "competent": competent.id,
            "competent_admin": competent_admin.id_number, "outsider_admin": outsider_admin.id_number,
        }


def _form(world):
    idn = _new_id()
    code = make_credit_code("410100", 84000000 + next(_n))
    return {
        "kind": "employer", "credit_code": code, "name": f"扫描件单位{code[-4:]}", "region": str(world["region"]),
        "parent": str(world["competent"]), "phone": "0371-7654321", "applicant": "new",
        "applicant_id_number": idn, "applicant_password": PW, "applicant_confirm": PW,
        "applicant_name": "鲁一", "applicant_mobile": "13600000001", "applicant_email": f"{idn}@upload.test",
    }


def _post(client, data, content: bytes | None, filename: str = "scan.png"):
    token = csrf_from(client.get("/register/organization").get_data(as_text=True))
    client.get("/captcha/image.png")  # the form's one-use captcha (the test app's answer is TEST)
    payload = dict(data, csrf_token=token, captcha="TEST")
    if content is not None:
        payload["certificate_scan"] = (BytesIO(content), filename)
    return client.post("/register/organization", data=payload, content_type="multipart/form-data")


def _stored_files(app):
    root = app.config["UPLOAD_FOLDER"]
    return {os.path.join(d, x) for d, _, fs in os.walk(root) for x in fs} if os.path.isdir(root) else set()


def _org(app, code):
    with app.app_context():
        return db.session.query(Organization).filter_by(credit_code=code).one_or_none()


@pytest.mark.parametrize("content,filename", [
    (None, None),
    (images.PHP, "shell.jpg"),
    (images.HTML, "page.png"),
    (images.image_bytes("PNG"), "../../../evil.png"),
    (images.image_bytes("PNG"), "scan.php"),
])
def test_bad_scan_gives_message_and_stores_nothing(app, client, world, content, filename):
    data = _form(world)
    before = _stored_files(app)
    resp = _post(client, data, content, filename)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-error="certificate_scan"' in html
    assert data["name"] in html  # what was typed is kept
    assert _org(app, data["credit_code"]) is None
    with app.app_context():
        assert db.session.query(User).filter_by(username=data["applicant_id_number"]).count() == 0
    assert _stored_files(app) == before


def test_palette_gif_accepted_and_converted(app, client, world):
    data = _form(world)
    assert _post(client, data, images.palette_gif(), "scan.gif").status_code == 302
    org = _org(app, data["credit_code"])
    assert org.certificate_scan.endswith(".png") and org.certificate_scan.startswith("org_certificate/")


def test_other_errors_store_no_file(app, client, world):
    data = dict(_form(world), applicant_confirm="different1")
    before = _stored_files(app)
    resp = _post(client, data, images.image_bytes("PNG"))
    assert 'data-error="applicant_confirm"' in resp.get_data(as_text=True)
    assert _stored_files(app) == before


def test_oversized_request_is_413(app, client, world):
    data = _form(world)
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = _post(client, data, b"\x89PNG\r\n\x1a\n" + b"\x00" * limit, "huge.png")
    assert resp.status_code == 413
    assert _org(app, data["credit_code"]) is None


def test_file_over_the_per_file_limit_gets_a_field_message(app, client, world):
    data = _form(world)
    app.config["CE_UPLOAD_MAX_BYTES"] = 2000
    try:
        resp = _post(client, data, images.image_bytes("BMP", size=(100, 100)), "big.bmp")
    finally:
        app.config["CE_UPLOAD_MAX_BYTES"] = 5 * 1024 * 1024
    assert 'data-error="certificate_scan"' in resp.get_data(as_text=True)
    assert _org(app, data["credit_code"]) is None


def test_scan_served_only_within_scope(app, client, world):
    data = _form(world)
    raw = images.jpeg_with_exif()
    resp = _post(client, data, raw, "scan.jpg")
    assert resp.status_code == 302, re.findall(r"data-error=\"(\w+)\">([^<]*)", resp.get_data(as_text=True))
    org = _org(app, data["credit_code"])
    url = f"/uploads/org/{org.id}/certificate"

    anonymous = client.get(url)
    assert anonymous.status_code in (302, 401, 403) and anonymous.content_type != "image/jpeg"

    login(client, "competent", world["outsider_admin"])
    assert client.get(url).status_code == 404
    client.post("/logout/", data={"csrf_token": csrf_from(client.get("/acting/").get_data(as_text=True))})

    login(client, "competent", world["competent_admin"])
    resp = client.get(url)
    assert resp.status_code == 200 and resp.content_type == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert b"SecretCamera" not in resp.data and resp.data != raw
    assert client.get("/uploads/org/999999/certificate").status_code == 404
