"""Issue 10, the public (unauthenticated) pages: registration is no password oracle (lockout, captcha,
rate limit), the progress page shows no approved user's employer and withdrawing needs the
registrant's password, and the anonymous upload refuses pixel bombs from the header."""

from __future__ import annotations

import itertools
import os
import re
import struct
import time
import zlib
from datetime import date
from functools import lru_cache
from io import BytesIO

import pytest
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import Organization, Professional, User
from app.services import uploads
from app.services.auth import find_user
from app.services.identifiers import make_credit_code, make_id_number
from app.services.uploads import UploadInvalid, check_image
from tests import factories as f
from tests import images
from tests.helpers import csrf_from, login

_n = itertools.count(1)
PW = "Publ1cPage2026"
WRONG = "Wrong12345x"


def _new_id():
    n = next(_n) + 2300
    return make_id_number("410105", date(1987, 1 + n % 12, 1 + n % 28), n)


def _code():
    return make_credit_code("410100", 86000000 + next(_n))


@pytest.fixture
def world(app):
    with app.app_context():
        region = f.region()
        competent = f.org("competent", region_obj=region)
        employer = f.org("employer", parent=competent, region_obj=region)
        reviewer = f.admin(employer)
        admin = f.admin(competent, "卫管理")  # an existing user: an organisation admin
        db.session.commit()
        return {
            "region": region.id, "competent": competent.id, "competent_name": competent.name,
            "employer": employer.id, "employer_name": employer.name, "reviewer": reviewer.id,
            "admin_idn": admin.id_number, "admin_id": admin.id,
        }


def _captcha(client) -> str:
    """What the form's <img> does: a new one-use challenge (the test app's answer is always TEST)."""
    client.get("/captcha/image.png")
    return "TEST"


def _post(client, url, data, *, captcha=True, scan=None, **environ):
    token = csrf_from(client.get(url, **environ).get_data(as_text=True))
    payload = dict(data, csrf_token=token)
    if captcha is True:
        payload["captcha"] = _captcha(client)
    elif captcha:
        _captcha(client)
        payload["captcha"] = captcha
    if url == "/register/organization":
        payload["certificate_scan"] = (BytesIO(scan or images.image_bytes("PNG")), "scan.png")
    return client.post(url, data=payload, content_type="multipart/form-data", **environ)


def _org_form(world, **kw):
    d = {
        "kind": "employer", "credit_code": _code(), "name": f"公开页单位{next(_n)}", "region": str(world["region"]),
        "parent": str(world["competent"]), "phone": "0371-7654321", "applicant": "existing",
        "applicant_id_number": world["admin_idn"], "applicant_password": WRONG,
    }
    d.update(kw)
    return d


def _person_form(world, idn, **kw):
    d = {
        "id_number": idn, "password": PW, "confirm": PW, "name": "秦一", "mobile": "13700000001",
        "email": f"{idn}@public.test", "region": str(world["region"]), "employer": str(world["employer"]),
    }
    d.update(kw)
    return d


def _user(app, idn) -> User:
    with app.app_context():
        u = find_user(db.session, idn)
        db.session.expunge(u)
        return u


def _login_code(response):
    m = re.search(r'id="login-error" data-code="([a-z_]+)"', response.get_data(as_text=True))
    return m.group(1) if m else None


def _field_error(response, field):
    m = re.search(rf'data-error="{field}">([^<]*)<', response.get_data(as_text=True))
    return m.group(1) if m else None


def _org_count(app, code):
    with app.app_context():
        return db.session.query(Organization).filter_by(credit_code=code).count()


# ------------------------------------------------------------ 1. the registration password oracle


def test_wrong_passwords_through_org_registration_lock_the_account(app, client, world):
    """Before: unlimited guesses of an existing user's password through 注册单位 (no count at all)."""
    for i in range(5):
        resp = _post(client, "/register/organization", _org_form(world))
        assert resp.status_code == 200 and _field_error(resp, "applicant_password"), i
    u = _user(app, world["admin_idn"])
    assert u.fail_login_count == 5 and u.locked_until is not None
    # Locked: the right password is refused, through the login ...
    assert _login_code(login(app.test_client(), "competent", world["admin_idn"])) == "locked"
    # ... and through the registration page (which registers nothing).
    form = _org_form(world, applicant_password=f.PASSWORD)
    resp = _post(client, "/register/organization", form)
    assert resp.status_code == 200 and _field_error(resp, "applicant_password")
    assert _org_count(app, form["credit_code"]) == 0


def test_right_password_through_registration_still_registers_and_clears_the_count(app, client, world):
    _post(client, "/register/organization", _org_form(world))
    assert _user(app, world["admin_idn"]).fail_login_count == 1
    form = _org_form(world, applicant_password=f.PASSWORD)
    assert _post(client, "/register/organization", form).status_code == 302
    assert _org_count(app, form["credit_code"]) == 1
    assert _user(app, world["admin_idn"]).fail_login_count == 0


def test_professional_registration_of_an_existing_admin_counts_towards_the_lockout(app, client, world):
    for _ in range(5):
        resp = _post(client, "/register/professional", _person_form(world, world["admin_idn"], password=WRONG, confirm=WRONG))
        assert _field_error(resp, "password")
    assert _user(app, world["admin_idn"]).locked_until is not None
    resp = _post(client, "/register/professional", _person_form(world, world["admin_idn"], password=f.PASSWORD, confirm=f.PASSWORD))
    assert resp.status_code == 200 and _field_error(resp, "password")
    with app.app_context():
        assert db.session.query(Professional).filter_by(id_number=world["admin_idn"]).count() == 0


def test_re_registration_after_rejection_does_not_overwrite_an_admins_password(app, client, world):
    """Before: a rejected professional profile let anyone re-register with the ID number and set a new
    password on an account that is also an organisation admin."""
    with app.app_context():
        admin = db.session.get(User, world["admin_id"])
        f.professional(db.session.get(Organization, world["employer"]), "卫管理", status="rejected", user_obj=admin)
        db.session.commit()
    resp = _post(client, "/register/professional", _person_form(world, world["admin_idn"], name="卫管理"))
    assert resp.status_code == 200 and _field_error(resp, "password")
    assert check_password_hash(_user(app, world["admin_idn"]).password, f.PASSWORD)
    assert _user(app, world["admin_idn"]).fail_login_count == 1
    # The admin itself, with its password, may register again.
    ok = _post(client, "/register/professional",
               _person_form(world, world["admin_idn"], name="卫管理", password=f.PASSWORD, confirm=f.PASSWORD))
    assert ok.status_code == 302


@pytest.mark.parametrize("captcha", [None, "WRONG"])
def test_registration_needs_the_captcha(app, client, world, captcha):
    form = _org_form(world)
    resp = _post(client, "/register/organization", form, captcha=captcha)
    assert resp.status_code == 200 and _field_error(resp, "captcha")
    # Refused before anything else: the password was not even checked, nothing was registered.
    assert _field_error(resp, "applicant_password") is None
    assert _user(app, world["admin_idn"]).fail_login_count in (0, None)
    assert _org_count(app, form["credit_code"]) == 0
    idn = _new_id()
    resp = _post(client, "/register/professional", _person_form(world, idn), captcha=captcha)
    assert resp.status_code == 200 and _field_error(resp, "captcha")
    with app.app_context():
        assert db.session.query(User).filter_by(username=idn).count() == 0


def test_one_captcha_answer_is_usable_once_on_the_registration_page(app, client, world):
    idn = _new_id()
    token = csrf_from(client.get("/register/professional").get_data(as_text=True))
    answer = _captcha(client)
    first = client.post("/register/professional", data=dict(_person_form(world, idn, confirm="different1"),
                                                            csrf_token=token, captcha=answer))
    assert _field_error(first, "confirm") and not _field_error(first, "captcha")
    # The same answer again, without a new image: refused.
    again = client.post("/register/professional", data=dict(_person_form(world, idn), csrf_token=token, captcha=answer))
    assert again.status_code == 200 and _field_error(again, "captcha")
    with app.app_context():
        assert db.session.query(User).filter_by(username=idn).count() == 0


def test_public_posts_are_rate_limited_per_address(fresh_app):
    application = fresh_app(RATELIMIT_ENABLED=True, CE_PUBLIC_RATE_LIMIT="3 per minute")
    with application.app_context():
        competent = f.org("competent")
        admin = f.admin(competent)
        db.session.commit()
        w = {"region": f.region().id, "competent": competent.id, "admin_idn": admin.id_number}
        db.session.commit()
    client = application.test_client()
    statuses = [_post(client, "/register/organization", _org_form(w)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    # The fourth POST from this address answers 429, on each public page (registration with its upload,
    # progress query, withdrawal) ...
    assert _post(client, "/register/organization", _org_form(w)).status_code == 429
    assert [_query(client, "某人", w["admin_idn"]).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [_post(client, "/register/professional", {}).status_code for _ in range(4)] == [200, 200, 200, 429]
    # ... before the password is looked at: only three failures were counted.
    with application.app_context():
        assert find_user(db.session, w["admin_idn"]).fail_login_count == 3
    # The forms themselves and another address are not limited.
    assert client.get("/register/organization").status_code == 200
    other = application.test_client()
    assert _post(other, "/register/organization", _org_form(w), environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


# ------------------------------------------------------------ 2. the progress page


def _query(client, name, idn):
    token = csrf_from(client.get("/register/progress").get_data(as_text=True))
    return client.post("/register/progress", data={"csrf_token": token, "name": name, "id_number": idn, "action": "query"})


def _withdraw(client, name, idn, target, password=None, captcha=True):
    data = {"name": name, "id_number": idn, "action": "withdraw", "target": target}
    if password is not None:
        data["password"] = password
    token = csrf_from(client.get("/register/progress").get_data(as_text=True))
    payload = dict(data, csrf_token=token)
    if captcha is True:
        payload["captcha"] = _captcha(client)
    elif captcha:
        _captcha(client)
        payload["captcha"] = captcha
    return client.post("/register/progress", data=payload)


def _registered(app, client, world, status=None):
    idn = _new_id()
    assert _post(client, "/register/professional", _person_form(world, idn)).status_code == 302
    with app.app_context():
        p = db.session.query(Professional).filter_by(id_number=idn).one()
        if status:
            p.status = status
        db.session.commit()
        return idn, p.id


def test_progress_never_shows_an_approved_users_employer(app, client, world):
    """Before: the 'reviewing organisation' column named an approved professional's employer to anyone."""
    idn, _pid = _registered(app, client, world, status="approved")
    html = _query(app.test_client(), "秦一", idn).get_data(as_text=True)
    assert 'data-status="approved"' in html
    assert world["employer_name"] not in html


def test_progress_shows_the_reviewer_while_pending(app, client, world):
    idn, _pid = _registered(app, client, world)
    html = _query(app.test_client(), "秦一", idn).get_data(as_text=True)
    assert 'data-status="pending"' in html and world["employer_name"] in html


def test_progress_hides_an_approved_organisation(app, client, world):
    form = _org_form(world, applicant_password=f.PASSWORD)
    assert _post(client, "/register/organization", form).status_code == 302
    with app.app_context():
        o = db.session.query(Organization).filter_by(credit_code=form["credit_code"]).one()
        o.status = "approved"
        db.session.commit()
    html = _query(app.test_client(), "卫管理", world["admin_idn"]).get_data(as_text=True)
    assert 'data-status="approved"' in html
    assert form["name"] not in html and world["competent_name"] not in html


def test_withdraw_needs_the_registrants_password_and_the_captcha(app, client, world):
    """Before: name + ID number (both shown to many people) were enough to withdraw anyone's registration."""
    idn, pid = _registered(app, client, world)
    target = f"professional:{pid}"
    stranger = app.test_client()

    def status():
        with app.app_context():
            return db.session.get(Professional, pid).status

    assert _field_error(_withdraw(stranger, "秦一", idn, target), "password")  # no password
    assert _field_error(_withdraw(stranger, "秦一", idn, target, WRONG), "password")
    assert status() == "pending" and _user(app, idn).fail_login_count == 2
    assert _field_error(_withdraw(stranger, "秦一", idn, target, PW, captcha=None), "captcha")
    assert _field_error(_withdraw(stranger, "秦一", idn, target, PW, captcha="WRONG"), "captcha")
    assert status() == "pending"
    resp = _withdraw(client, "秦一", idn, target, PW)
    assert 'data-status="withdrawn"' in resp.get_data(as_text=True)
    assert status() == "withdrawn" and _user(app, idn).fail_login_count == 0


def test_wrong_passwords_through_withdraw_lock_the_account(app, client, world):
    idn, pid = _registered(app, client, world)
    for _ in range(5):
        _withdraw(client, "秦一", idn, f"professional:{pid}", WRONG)
    assert _user(app, idn).locked_until is not None
    resp = _withdraw(client, "秦一", idn, f"professional:{pid}", PW)  # the right one: refused while locked
    assert _field_error(resp, "password")
    with app.app_context():
        assert db.session.get(Professional, pid).status == "pending"


def test_withdraw_an_organisation_registration_with_the_applicants_password(app, client, world):
    form = _org_form(world, applicant_password=f.PASSWORD)
    assert _post(client, "/register/organization", form).status_code == 302
    with app.app_context():
        oid = db.session.query(Organization.id).filter_by(credit_code=form["credit_code"]).scalar()
    assert _field_error(_withdraw(client, form["name"], world["admin_idn"], f"organization:{oid}", WRONG), "password")
    resp = _withdraw(client, form["name"], world["admin_idn"], f"organization:{oid}", f.PASSWORD)
    assert 'data-status="withdrawn"' in resp.get_data(as_text=True)


# ------------------------------------------------------------ 4. the unauthenticated upload cost


@lru_cache(maxsize=None)
def _png(width: int, height: int, rows: int | None = None) -> bytes:
    """A valid 1-bit grayscale PNG of width x height (small: it compresses to a few KB), or only its
    first ``rows`` rows (a header claiming the full size)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    body = b"".join(comp.compress(row) for _ in range(height if rows is None else rows)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_pixel_bomb_is_refused_from_the_header_quickly(app):
    """Before: a 6300 x 6300 PNG (39.7 MP, under the old 40 MP limit) was decoded and re-encoded."""
    raw = _png(6300, 6300)
    assert len(raw) < 100_000
    with app.test_request_context():
        started = time.perf_counter()
        with pytest.raises(UploadInvalid) as e:
            check_image(images.upload(raw, "bomb.png"))
        elapsed = time.perf_counter() - started
    assert e.value.code == "pixels" and e.value.params == {"mp": "25"}
    assert elapsed < 0.5, elapsed


def test_far_larger_picture_hits_pillows_guard_with_the_same_message(app):
    with app.test_request_context():
        with pytest.raises(UploadInvalid) as e:
            check_image(images.upload(_png(30000, 30000, rows=1), "huge.png"))
    assert e.value.code == "pixels"


def test_pixel_limit_is_a_setting_and_normal_scans_pass(app, monkeypatch):
    with app.test_request_context():
        a4 = check_image(images.upload(_png(2480, 3508), "a4.png"))  # A4 at 300 dpi
        assert (a4.width, a4.height) == (2480, 3508)
        monkeypatch.setitem(app.config, "CE_UPLOAD_MAX_PIXELS", 2480 * 3508 - 1)
        with pytest.raises(UploadInvalid):
            check_image(images.upload(_png(2480, 3508), "a4.png"))
    assert uploads.MAX_PIXELS >= 17_500_000  # an A3 page at 300 dpi


def _stored(app):
    root = app.config["UPLOAD_FOLDER"]
    return {os.path.join(d, x) for d, _, fs in os.walk(root) for x in fs} if os.path.isdir(root) else set()


def test_registration_page_refuses_the_bomb_with_a_message_and_stores_nothing(app, client, world):
    before = _stored(app)
    form = _org_form(world, applicant_password=f.PASSWORD)
    started = time.perf_counter()
    resp = _post(client, "/register/organization", form, scan=_png(6300, 6300))
    elapsed = time.perf_counter() - started
    assert resp.status_code == 200 and "25" in (_field_error(resp, "certificate_scan") or "")  # the limit, in MP
    assert _org_count(app, form["credit_code"]) == 0 and _stored(app) == before
    assert elapsed < 2.0, elapsed
    # A normal scan still passes.
    assert _post(client, "/register/organization", form).status_code == 302
    assert _org_count(app, form["credit_code"]) == 1 and len(_stored(app)) == len(before) + 1
