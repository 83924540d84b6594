"""年度完成情况, certificate printing and the public verification page through the real pages: the
print buttons follow the results, the merged button only when every year passed, PDFs come back,
admins print within their scope only, and the verification page needs no login."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Certificate, Professional
from app.workflows.declaration import post_ledger
from tests import factories as f
from tests.helpers import csrf_from, login

YEAR = dt.date.today().year - 1
COMPLETION = "/hours/completion/"
PRINT = "/certificates/print/"


@pytest.fixture
def w(app):
    with app.app_context():
        world = f.world()
        out = {k: v.id_number for k, v in world.items() if k.endswith("_admin")}
        for key in ("person", "person_b"):
            p = world[key]
            p.certificate_no = f"4101059{p.id:06d}"  # serials 9xxxxxx: never drawn by the counter in a test run
            out[key] = p.id
            out[key + "_login"] = p.id_number
        person = world["person"]
        # Registered three years ago; two passed years and one short year.
        person.created = dt.datetime(YEAR - 2, 3, 1)
        post_ledger({(person.id, YEAR, "public"): Decimal(30), (person.id, YEAR, "professional"): Decimal(60),
                     (person.id, YEAR - 1, "public"): Decimal(30), (person.id, YEAR - 1, "professional"): Decimal(64),
                     (person.id, YEAR - 2, "public"): Decimal(10)})
        post_ledger({(world["person_b"].id, YEAR, "public"): Decimal(30),
                     (world["person_b"].id, YEAR, "professional"): Decimal(60)})
        db.session.commit()
        return out


def client_for(app, capacity, id_number):
    c = app.test_client()
    assert login(c, capacity, id_number).status_code == 302
    return c


def rows(html):
    return dict(re.findall(r'data-year="(\d+)" data-passed="(yes|no)"', html))


def test_completion_page_rows_buttons_and_detail(app, w):
    c = client_for(app, "person", w["person_login"])
    page = c.get(COMPLETION)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert rows(html) == {str(YEAR + 1): "no", str(YEAR): "yes", str(YEAR - 1): "yes", str(YEAR - 2): "no"}
    assert html.count('class="btn btn-xs btn-primary print-year"') == 2
    assert "merge-print" not in html  # no range asked
    detail = c.get(f"{COMPLETION}{YEAR}")
    assert detail.status_code == 200 and 'id="year-result"' in detail.get_data(as_text=True)


def test_merged_button_only_when_every_year_passed(app, w):
    c = client_for(app, "person", w["person_login"])
    ok = c.get(f"{COMPLETION}?year_from={YEAR - 1}&year_to={YEAR}").get_data(as_text=True)
    assert 'id="merge-print"' in ok and "merge-refusal" not in ok
    refused = c.get(f"{COMPLETION}?year_from={YEAR - 2}&year_to={YEAR}").get_data(as_text=True)
    assert 'id="merge-print"' not in refused and 'id="merge-refusal"' in refused
    assert str(YEAR - 2) in refused.split('id="merge-refusal"')[1].split("</div>")[0]
    token = csrf_from(ok)
    pdf = c.post(f"{COMPLETION}print-merged", data={"csrf_token": token, "year_from": YEAR - 1, "year_to": YEAR})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert str(YEAR - 1) in text and str(YEAR) in text and "94.0" in text
    # Posting a range with a failed year is refused with the reason and gives no PDF.
    bad = c.post(f"{COMPLETION}print-merged", data={"csrf_token": token, "year_from": YEAR - 2, "year_to": YEAR})
    assert bad.status_code == 302


def test_print_one_year_and_reprint_is_identical(app, w):
    c = client_for(app, "person", w["person_login"])
    token = csrf_from(c.get(COMPLETION).get_data(as_text=True))
    first = c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token})
    second = c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token})
    assert first.status_code == 200 and first.mimetype == "application/pdf" and first.data == second.data
    assert c.post(f"{COMPLETION}print/{YEAR - 2}", data={"csrf_token": token}).status_code == 302  # not passed
    assert c.get(f"{COMPLETION}print/{YEAR}").status_code == 405
    assert c.post(f"{COMPLETION}print/{YEAR}", data={}).status_code == 400  # CSRF
    with app.app_context():
        certs = db.session.query(Certificate).filter_by(professional_id=w["person"]).all()
        assert len(certs) == 1 and certs[0].pdf_sha256 == hashlib.sha256(first.data).hexdigest()


def test_admin_print_in_scope(app, w):
    county = client_for(app, "hr", w["city_admin"])
    page = county.get(f"{PRINT}?year={YEAR}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'data-id="{w["person"]}"' in html
    token = csrf_from(html)
    pdf = county.post(f"{PRINT}print", data={"csrf_token": token, "year": YEAR, "ids": [w["person"], w["person_b"]]})
    assert pdf.status_code == 200 and len(PdfReader(io.BytesIO(pdf.data)).pages) == 2
    # The employer's admin cannot print someone of another subtree by posting the id.
    employer = client_for(app, "employer", w["employer_admin"])
    html = employer.get(f"{PRINT}?year={YEAR}").get_data(as_text=True)
    assert f'data-id="{w["person_b"]}"' not in html
    with app.app_context():
        before = db.session.query(Certificate).count()
    refused = employer.post(f"{PRINT}print", data={"csrf_token": csrf_from(html), "year": YEAR, "ids": [w["person_b"]]})
    assert refused.status_code == 302 and refused.mimetype != "application/pdf"
    with app.app_context():
        assert db.session.query(Certificate).count() == before
    # A professional cannot open the admins' page.
    person = client_for(app, "person", w["person_login"])
    assert person.get(PRINT).status_code in (302, 403)


def test_verify_page_is_public(app, w):
    c = client_for(app, "person", w["person_login"])
    token = csrf_from(c.get(COMPLETION).get_data(as_text=True))
    assert c.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token}).status_code == 200
    with app.app_context():
        cert = db.session.query(Certificate).filter_by(professional_id=w["person"]).one()
        code, name = cert.verification_code, db.session.get(Professional, w["person"]).name
    issued = c.get("/certificateview/list/").get_data(as_text=True)
    assert f'href="/verify/{code}"' in issued  # the person's issued certificates link to their page
    anonymous = app.test_client()
    ok = anonymous.get(f"/verify/{code}")
    html = ok.get_data(as_text=True)
    assert ok.status_code == 200 and 'id="verify-valid"' in html
    assert name not in html and name[0] + "*" in html and w["person_login"] not in html
    unknown = anonymous.get("/verify/not-a-real-code")
    assert unknown.status_code == 404 and 'id="verify-unknown"' in unknown.get_data(as_text=True)
    assert anonymous.get(f"/verify/?code={code}").status_code == 302
    with app.app_context():
        db.session.get(Certificate, cert.id).revoked = True
        db.session.commit()
    assert 'id="verify-revoked"' in anonymous.get(f"/verify/{code}").get_data(as_text=True)


def test_admin_detail_leads_to_annulment_which_revokes_the_certificate(app, w):
    from app.models import Declaration, Organization

    with app.app_context():
        person = db.session.get(Professional, w["person"])
        employer = db.session.get(Organization, person.org_id)
        route = [employer.id, employer.parent_id, employer.parent.parent_id]
        decl = Declaration(professional_id=person.id, org_id=employer.id, subject_type="professional",
                           form_code="other", year=YEAR, data={}, requested_hours=60, recognised_hours=60,
                           state="approved", route=route, step=2, decided_at=dt.datetime(YEAR, 6, 1))
        db.session.add(decl)
        post_ledger({(person.id, YEAR, "professional"): Decimal(60)})  # as its final approval did
        db.session.commit()
        decl_id = decl.id
    me = client_for(app, "person", w["person_login"])
    token = csrf_from(me.get(COMPLETION).get_data(as_text=True))
    assert me.post(f"{COMPLETION}print/{YEAR}", data={"csrf_token": token}).status_code == 200
    with app.app_context():
        code = db.session.query(Certificate).filter_by(professional_id=w["person"]).one().verification_code

    city = client_for(app, "hr", w["city_admin"])
    detail = city.get(f"{PRINT}person/{w['person']}/{YEAR}")
    assert detail.status_code == 200 and f"/hours/review/{decl_id}" in detail.get_data(as_text=True)
    assert city.get(f"{PRINT}person/{w['person_b']}/{YEAR}").status_code == 200  # other county, same city
    employer = client_for(app, "employer", w["employer_admin"])
    assert employer.get(f"{PRINT}person/{w['person_b']}/{YEAR}").status_code == 404
    review = city.get(f"/hours/review/{decl_id}").get_data(as_text=True)
    assert 'id="declaration-annul"' in review
    token = csrf_from(review)
    # Without a reason nothing changes; with one the hours go and the certificate is revoked.
    assert city.post(f"/hours/review/{decl_id}/annul", data={"csrf_token": token, "comment": ""}).status_code == 302
    assert 'id="verify-valid"' in app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    assert city.post(f"/hours/review/{decl_id}/annul", data={"csrf_token": token, "comment": "证明材料不实"}).status_code == 302
    with app.app_context():
        assert db.session.get(Declaration, decl_id).state == "annulled"
    assert 'id="verify-revoked"' in app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    rows_now = rows(me.get(COMPLETION).get_data(as_text=True))
    assert rows_now[str(YEAR)] == "yes"  # 30 + 120 minus the annulled 60 still passes
