"""E-certificates: issue only for passed years, reprint gives the same PDF, superseding, merged
ranges, bulk print in scope (all or nothing), verification and revocation when hours are annulled."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Certificate, Declaration, HoursLedger, Membership
from app.services import certificates as certs
from app.services.certificates import CertificateRefused
from app.services.declarations import annul
from app.services.scope import Actor
from app.workflows.declaration import DeclarationError, post_ledger
from tests import factories as f

YEAR = dt.date.today().year - 1


@pytest.fixture
def ctx(app, monkeypatch):
    # Links use the configured public address; the request's own host is ignored.
    monkeypatch.setitem(app.config, "CE_PUBLIC_BASE_URL", "https://ce.example.test")
    with app.app_context(), app.test_request_context(base_url="https://request-host.example"):
        yield
        db.session.rollback()


def admin_actor(org):
    user = f.admin(org)
    m = db.session.query(Membership).filter_by(user_id=user.id, org_id=org.id).one()
    return Actor(user_id=user.id, capacity=org.kind, org_id=org.id, org_path=org.path, membership_id=m.id)


def person_actor(p):
    return Actor(user_id=p.user_id, capacity="person", org_id=p.org_id, person_id=p.id)


def world():
    province = f.org("province", "证书省人社厅")
    city = f.org("hr", "证书市人社局", province)
    county = f.org("hr", "证书县人社局", city)
    employer = f.org("employer", "证书医院", county)
    other = f.org("employer", "证书外单位", f.org("hr", "证书另一市人社局", province))
    direct = f.org("employer", "证书省直单位", province)
    people = []
    for i, org in enumerate((employer, employer, other, direct)):
        p = f.professional(org, f"证书{'甲乙丙丁'[i]}")
        p.certificate_no = f"41010{i}{9000000 + p.id:07d}"[:13]
        people.append(p)
    db.session.flush()
    return {"province": province, "city": city, "county": county, "employer": employer, "people": people}


def passed(p, year=YEAR):
    post_ledger({(p.id, year, "public"): Decimal(30), (p.id, year, "professional"): Decimal(60)})


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_issue_reprint_and_supersede(ctx):
    w = world()
    a = w["people"][0]
    with pytest.raises(CertificateRefused):
        certs.issue(a, YEAR, YEAR)  # nothing approved yet
    assert db.session.query(Certificate).filter_by(professional_id=a.id).count() == 0
    passed(a)
    cert = certs.issue(a, YEAR, YEAR)
    assert cert.layout == "annual" and cert.template_code and len(cert.verification_code) >= 20
    assert cert.issuer_org_id == w["city"].id  # the city-level bureau, not the county
    assert cert.inputs["verify_url"] == f"https://ce.example.test/verify/{cert.verification_code}"
    first = certs.render(cert)
    assert hashlib.sha256(first).hexdigest() == cert.pdf_sha256
    text = text_of(first)
    assert a.name in text and a.certificate_no in text and "证书市人社局" in text
    # Reprint: same certificate, byte-identical PDF.
    again = certs.issue(a, YEAR, YEAR)
    assert again.id == cert.id and certs.render(again) == first
    # More hours later: a new certificate, the old one superseded (shown revoked when verified).
    post_ledger({(a.id, YEAR, "professional"): Decimal(6)})
    newer = certs.issue(a, YEAR, YEAR)
    assert newer.id != cert.id and newer.verification_code != cert.verification_code and cert.revoked
    assert "66.0" in text_of(certs.render(newer))


def test_province_direct_units_are_issued_by_the_province(ctx):
    w = world()
    d = w["people"][3]
    passed(d)
    assert certs.issue(d, YEAR, YEAR).issuer_org_id == w["province"].id


def test_merged_needs_every_year(ctx):
    a = world()["people"][0]
    for year in (YEAR - 2, YEAR - 1, YEAR):
        passed(a, year)
    cert = certs.issue(a, YEAR - 2, YEAR, certs.MERGED)
    assert [y["year"] for y in cert.inputs["years"]] == [YEAR - 2, YEAR - 1, YEAR]
    text = text_of(certs.render(cert))
    assert all(str(y) in text for y in (YEAR - 2, YEAR - 1, YEAR))
    with pytest.raises(CertificateRefused) as exc:
        certs.issue(a, YEAR - 3, YEAR, certs.MERGED)
    assert str(YEAR - 3) in str(exc.value)


def test_bulk_print_in_scope_all_or_nothing(ctx):
    w = world()
    a, b, outsider, _ = w["people"]
    for p in (a, b, outsider):
        passed(p)
    hr = admin_actor(w["county"])
    issued, data = certs.print_for_people(hr, [a.id, b.id], YEAR)
    assert len(PdfReader(io.BytesIO(data)).pages) == 2 and {c.professional_id for c in issued} == {a.id, b.id}
    before = db.session.query(Certificate).count()
    for ids in ([a.id, outsider.id], [outsider.id], ["x"], []):
        with pytest.raises(CertificateRefused):
            certs.print_for_people(hr, ids, YEAR)
    assert db.session.query(Certificate).count() == before
    employer_admin = admin_actor(w["employer"])
    with pytest.raises(CertificateRefused):
        certs.print_for_people(employer_admin, [outsider.id], YEAR)
    with pytest.raises(CertificateRefused):  # a person's year that did not pass stops the whole print
        certs.print_for_people(hr, [a.id, w["people"][0].id, b.id], YEAR + 1)


def test_verify_valid_unknown_and_revoked_after_annulment(ctx):
    w = world()
    a = w["people"][0]
    d = Declaration(professional_id=a.id, org_id=a.org_id, subject_type="professional", form_code="other",
                    year=YEAR, data={}, requested_hours=60, recognised_hours=60, state="approved",
                    route=[w["employer"].id, w["county"].id], step=1)
    db.session.add(d)
    post_ledger({(a.id, YEAR, "public"): Decimal(30), (a.id, YEAR, "professional"): Decimal(60)})
    cert = certs.issue(a, YEAR, YEAR)
    db.session.commit()
    v = certs.verify(cert.verification_code)
    assert v.valid and v.name == "证**" and a.id_number not in v.id_number and v.id_number.startswith(a.id_number[:6])
    assert certs.verify("no-such-code") is None and certs.verify("") is None
    # Only the final reviewer annuls, with a reason.
    with pytest.raises(DeclarationError):
        annul(admin_actor(w["employer"]), d.id, "材料不实")
    with pytest.raises(DeclarationError):
        annul(admin_actor(w["county"]), d.id, "")
    annul(admin_actor(w["county"]), d.id, "材料不实")
    assert db.session.get(Declaration, d.id).state == "annulled"
    ledger = db.session.query(HoursLedger).filter_by(professional_id=a.id, year=YEAR, subject_type="professional").one()
    assert ledger.hours == 0
    v = certs.verify(cert.verification_code)
    assert not v.valid and str(YEAR) in v.reason
    with pytest.raises(CertificateRefused):
        certs.issue(a, YEAR, YEAR)
