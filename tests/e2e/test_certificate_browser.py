"""Real browser, demo data: the demo professional (three reviewers approved 30 public + 60 professional
hours in 2024 and 2025) sees 通过 on 年度完成情况, may merge-print 2024–2025 but not 2023–2025, prints
the 2025 certificate (a Chinese PDF with embedded fonts), and the certificate's QR code leads to the
public verification page, which confirms it without a login."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from pypdf import PdfReader

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def _login(browser, url, capacity, id_number, password):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url + "/login/")
    page.select_option("#capacity", capacity)
    page.fill("#username", id_number)
    page.fill("#password", password)
    page.fill("#captcha", "TEST")
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def _fonts(reader):
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            embedded = bool(descriptor and "/FontFile2" in descriptor.get_object())
            names.add((str(font.get("/BaseFont")), str(font.get("/Subtype")), embedded))
    return names


def test_completion_print_and_verify_by_qr(live_server, browser, tmp_path):
    import zxingcpp
    from PIL import Image

    url = live_server
    _cap, person_idn, _pw, _org = DEMO_LOGINS[0]
    page = _login(browser, url, "person", person_idn, DEMO_PASSWORD)
    page.goto(url + "/hours/completion/")
    row = page.locator('tr[data-year="2025"]')
    assert row.get_attribute("data-passed") == "yes"
    assert "通过" in row.locator(".result").inner_text() and row.locator(".total").inner_text() == "90.0"
    assert page.locator('tr[data-year="2023"]').get_attribute("data-passed") == "no"
    page.screenshot(path=f"{ARTIFACTS}/completion.png", full_page=True)

    page.select_option("#year_from", "2023")
    page.select_option("#year_to", "2025")
    page.click("#range-form button[type=submit]")
    page.wait_for_url("**year_from=2023**")
    assert page.is_visible("#merge-refusal") and not page.is_visible("#merge-print")
    assert "2023" in page.inner_text("#merge-refusal")
    page.select_option("#year_from", "2024")
    page.click("#range-form button[type=submit]")
    page.wait_for_url("**year_from=2024**")
    assert page.locator("#merge-refusal").count() == 0, page.inner_text("#merge-refusal")
    assert page.is_visible("#merge-print")

    token = page.get_attribute('tr[data-year="2025"] input[name=csrf_token]', "value")
    response = page.context.request.post(url + "/hours/completion/print/2025", form={"csrf_token": token})
    assert response.ok and response.headers["content-type"] == "application/pdf"
    data = response.body()
    reader = PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text()
    assert "河南省专业技术人员继续教育证书" in text and "2025" in text and "90.0" in text
    cert_no = page.evaluate("document.getElementById('certificate-no').innerText")
    assert cert_no in text
    assert all(embedded for name, subtype, embedded in _fonts(reader) if name != "/Helvetica")

    pdf_path = tmp_path / "certificate.pdf"
    pdf_path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf_path), os.path.join(ARTIFACTS, "demo_certificate")],
                   check=True, timeout=60)
    found = zxingcpp.read_barcodes(Image.open(os.path.join(ARTIFACTS, "demo_certificate.png")))
    links = [b.text for b in found if b.text.startswith(url + "/verify/")]
    assert len(links) == 1, [b.text for b in found]
    page.context.close()

    anonymous = browser.new_context(locale="zh-CN").new_page()
    anonymous.goto(links[0])
    assert anonymous.is_visible("#verify-valid")
    assert "该证书真实有效" in anonymous.inner_text("#verify-valid")
    assert cert_no in anonymous.inner_text("#verify-table")
    assert person_idn not in anonymous.content()
    anonymous.screenshot(path=f"{ARTIFACTS}/verify.png", full_page=True)
    anonymous.context.close()
