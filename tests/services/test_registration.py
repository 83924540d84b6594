"""Registration services: validation (all errors at once, nothing saved), re-registration, progress, withdraw."""

from __future__ import annotations

import itertools
from pathlib import Path
from datetime import date

import pytest
from flask import current_app

from app.extensions import db
from app.models import AuditLog, Organization, User
from app.services import registration as reg
from app.services.identifiers import make_credit_code, make_id_number
from app.services.scope import Actor
from app.workflows.registration import RegistrationError
from tests import factories as f
from tests import images

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _outbox(app, tmp_path, monkeypatch):
    """Approval notices go to a temporary outbox."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture
def ctx(app):
    with app.app_context(), app.test_request_context():
        yield
        db.session.rollback()


def new_id(female=False):
    n = next(_n) + 400
    return make_id_number("410105", date(1985, 1 + n % 12, 1 + n % 28), n, female=female)


def person_data(employer, region, **kw):
    idn = kw.pop("id_number", None) or new_id()
    d = {
        "id_number": idn, "password": "Abcd1234x", "confirm": "Abcd1234x", "mobile": "13800000000",
        "email": f"{idn}@reg.test", "region": str(region.id), "employer": str(employer.id), "name": "陈一",
    }
    d.update(kw)
    return d


def org_data(parent, region, kind="employer", **kw):
    n = next(_n)
    idn = new_id()
    d = {
        "kind": kind, "credit_code": make_credit_code("410100", 81000000 + n), "name": f"注册单位{n}",
        "region": str(region.id), "parent": str(parent.id), "phone": "0371-1234567", "address": "路1号",
        "applicant": "new", "applicant_id_number": idn, "applicant_password": "Abcd1234x",
        "applicant_confirm": "Abcd1234x", "applicant_name": "吴二", "applicant_mobile": "13900000000",
        "applicant_email": f"{idn}@org.test",
    }
    d.update(kw)
    return d


def test_register_professional_then_approve(ctx):
    employer = f.org("employer")
    reviewer = f.admin(employer)
    db.session.commit()
    p = reg.register_professional(person_data(employer, f.region()))
    assert p.status == "pending" and p.user.username == p.id_number and p.birth_date and p.gender == "male"
    assert p.user.full_name == "陈一"
    (prog,) = reg.progress_query("陈一", p.id_number)
    assert prog.status == "pending" and prog.reviewer == employer.name and prog.can_withdraw
    reg.review(p, "approve", Actor(reviewer.id, "admin", employer.id))
    assert p.status == "approved" and len(p.certificate_no) == 13
    (mail,) = Path(current_app.instance_path, "outbox").glob("*.eml")
    assert p.user.email in mail.read_text()


def test_professional_validation_collects_all_errors_and_saves_nothing(ctx):
    pending_employer = f.org("employer", status="pending")
    db.session.commit()
    before = db.session.query(User).count()
    idn = new_id()
    with pytest.raises(reg.RegistrationInvalid) as e:
        reg.register_professional({
            "id_number": idn[:-1] + ("0" if idn[-1] != "0" else "1"), "password": "abcdefgh", "confirm": "x",
            "mobile": "2380000000", "email": "nope", "region": "", "employer": str(pending_employer.id), "name": "",
        })
    assert set(e.value.errors) == {"id_number", "password", "mobile", "email", "region", "employer", "name"}
    assert db.session.query(User).count() == before


@pytest.mark.parametrize("pw,err", [
    ("Ab1", "password_length"), ("abcdefgh1!", "password_chars"), ("12345678", "password_chars"),
    ("abcdefgh", "password_chars"), ("A" * 70 + "1", "password_length"),
])
def test_password_rules(ctx, pw, err):
    errors = {}
    reg._check_password(errors, {"password": pw, "confirm": pw}, "410105198501010011")
    assert errors["password"] == reg.E[err]


def test_password_must_not_contain_id(ctx):
    idn = new_id()
    errors = {}
    reg._check_password(errors, {"password": "a" + idn, "confirm": "a" + idn}, idn)
    assert errors["password"] == reg.E["password_id"]


def test_duplicate_then_rejected_or_withdrawn_reregisters(ctx):
    employer = f.org("employer")
    other = f.org("employer")
    reviewer = f.admin(employer)
    db.session.commit()
    data = person_data(employer, f.region())
    p = reg.register_professional(data)
    with pytest.raises(reg.RegistrationInvalid) as e:
        reg.register_professional(data)
    assert e.value.errors == {"id_number": reg.E["id_taken"]}
    reg.review(p, "reject", Actor(reviewer.id, "admin", employer.id), reason="单位不对")
    p2 = reg.register_professional(dict(data, employer=str(other.id), password="Newpass123", confirm="Newpass123"))
    assert p2.id == p.id and p2.status == "pending" and p2.org_id == other.id
    assert reg.progress_query("陈一", data["id_number"])[0].reviewer == other.name
    reg.withdraw("陈一", data["id_number"], password="Newpass123")
    assert p2.status == "withdrawn"
    with pytest.raises(RegistrationError):
        reg.withdraw("陈一", data["id_number"], password="Newpass123")
    p3 = reg.register_professional(dict(data, password="Newpass456", confirm="Newpass456"))
    assert p3.id == p.id and p3.status == "pending"
    triggers = [r.trigger for r in db.session.query(AuditLog).filter_by(object_type="professional", object_id=p.id)]
    assert triggers == ["reject", "withdraw"]


def test_progress_needs_matching_name(ctx):
    employer = f.org("employer")
    db.session.commit()
    p = reg.register_professional(person_data(employer, f.region()))
    assert reg.progress_query("别人", p.id_number) == []
    with pytest.raises(RegistrationError):
        reg.withdraw("别人", p.id_number, password="Abcd1234x")
    assert p.status == "pending"


def test_register_organization_new_applicant_then_approve(ctx):
    competent = f.org("competent")
    reviewer = f.admin(competent)
    db.session.commit()
    data = org_data(competent, f.region())
    o = reg.register_organization(data, scan=images.upload(images.image_bytes("PNG")))
    assert o.status == "pending" and o.path.endswith(f"/{o.id}/")
    (m,) = o.memberships
    assert m.is_super and m.status == "pending" and m.user.username == data["applicant_id_number"]
    (prog,) = reg.progress_query("吴二", data["applicant_id_number"])
    assert prog.object_type == "organization" and prog.reviewer == competent.name
    reg.review(o, "approve", Actor(reviewer.id, "admin", competent.id))
    assert o.status == "approved" and m.status == "approved"


def test_register_organization_existing_applicant(ctx):
    hr = f.org("hr")
    someone = f.professional(f.org("employer"), "郑三").user
    db.session.commit()
    bad = org_data(hr, f.region(), kind="competent", applicant="existing",
                   applicant_id_number=someone.id_number, applicant_password="wrong")
    with pytest.raises(reg.RegistrationInvalid) as e:
        reg.register_organization(bad, scan=images.upload(images.image_bytes("PNG")))
    assert set(e.value.errors) == {"applicant_password"}
    o = reg.register_organization(dict(bad, applicant_password=f.PASSWORD), scan=images.upload(images.image_bytes("JPEG"), "scan.jpg"))
    assert [m.user_id for m in o.memberships] == [someone.id]


def test_organization_validation(ctx):
    employer_parent = f.org("employer")
    db.session.commit()
    count = db.session.query(Organization).count()
    taken = employer_parent.credit_code
    with pytest.raises(reg.RegistrationInvalid) as e:
        reg.register_organization(org_data(employer_parent, f.region(), kind="hr", credit_code=taken,
                                           phone="", applicant_email="x"))
    assert set(e.value.errors) == {"credit_code", "parent", "phone", "applicant_email", "certificate_scan"}
    with pytest.raises(reg.RegistrationInvalid) as e:
        reg.register_organization(org_data(employer_parent, f.region(), kind="bogus", credit_code="123"))
    assert set(e.value.errors) == {"kind", "credit_code", "certificate_scan"}
    assert db.session.query(Organization).count() == count


@pytest.mark.parametrize("body17", [
    "41010519990230001",  # 30 February, valid checksum
    "41010520990101001",  # born in the future
])
def test_impossible_birth_date_is_refused_and_nothing_saved(ctx, body17):
    from stdnum.cn import ric

    idn = body17 + ric.calc_check_digit(body17 + "0")
    employer = f.org("employer")
    db.session.commit()
    before = db.session.query(User).count()
    with pytest.raises(reg.RegistrationInvalid) as e:
        reg.register_professional(person_data(employer, f.region(), id_number=idn))
    assert e.value.errors == {"id_number": reg.E["id_invalid"]}
    assert db.session.query(User).count() == before
