"""Real browser: a professional registers under a demo employer (region + employer picker), the
employer admin approves it on the review screen (注册审核), the professional logs in and sees the
professional menu."""

from __future__ import annotations

import os
from datetime import date

import pytest

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD, ORG_NAMES
from app.services.identifiers import make_id_number
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PASSWORD = "Browser2026ok"
NAME = "浏览器测试"


def _shot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    page.screenshot(path=path, full_page=True)
    assert os.path.getsize(path) > 10_000
    return path


def _login(page, base, capacity, id_number, password):
    page.goto(base + "/login/")
    page.locator("#captcha-img").wait_for()
    page.select_option("#capacity", capacity)
    page.fill("#username", id_number)
    page.fill("#password", password)
    page.fill("#captcha", "TEST")  # the test app's captcha factory
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _logout(page):
    page.context.clear_cookies()


def test_professional_registers_employer_approves_professional_logs_in(live_server, browser):
    employer_name = ORG_NAMES["zdyfy"]
    capacity, admin_id, _pw, org_name = next(row for row in DEMO_LOGINS if row[0] == "employer")
    assert org_name == employer_name
    idn = make_id_number("410105", date(1992, 6, 18), 731)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})

    # 1. register through the public page, choosing the employer in the picker
    page.goto(live_server + "/register/professional")
    page.fill("#f-id_number", idn)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    page.fill("#f-name", NAME)
    page.fill("#f-mobile", "13912345678")
    page.fill("#f-email", "browser-test@example.test")
    page.select_option("#f-city", label="郑州市")
    page.click("#open-employer")
    page.fill("#q-employer", "第一附属医院")
    page.click("#search-employer")
    page.locator("#list-employer button", has_text=employer_name).first.wait_for()
    page.locator("#list-employer button").filter(has_text=employer_name).filter(
        has_not_text="心血管").first.click()
    assert page.input_value("#picked-employer") == employer_name
    page.locator("#captcha-img").wait_for()
    page.fill("#f-captcha", "TEST")  # the test app's captcha factory
    _shot(page, "register_professional.png")
    page.click("form button.btn-primary[type=submit]")
    page.wait_for_url("**/register/progress")
    assert page.locator(".alert").count() >= 1  # "submitted, waits for review by your employer unit"

    # pending: the login is refused and names the reviewing unit
    page.goto(live_server + "/login/")
    page.locator("#captcha-img").wait_for()
    page.select_option("#capacity", "person")
    page.fill("#username", idn)
    page.fill("#password", PASSWORD)
    page.fill("#captcha", "TEST")
    page.click("button[type=submit]")
    assert employer_name in page.inner_text("#login-error")

    # 2. the employer admin approves it on the review screen
    _logout(page)
    _login(page, live_server, capacity, admin_id, DEMO_PASSWORD)
    page.click("a[data-menu-category='employer.cat.review']")
    page.click("a[data-menu='employer.reg_professionals']")
    page.wait_for_url("**/review/registrations/professional/**")
    row = page.locator("#review-table tbody tr", has_text=NAME)
    row.wait_for()
    _shot(page, "review_pending.png")
    row.locator("a.btn").click()
    page.wait_for_url("**/review/registrations/professional/*")
    assert NAME in page.inner_text("#registration-fields")
    _shot(page, "review_detail.png")
    page.click("#approve-one")
    page.wait_for_url("**/review/registrations/professional/**")
    assert page.locator("#review-table tbody tr", has_text=NAME).count() == 0
    page.click("#review-tabs a[data-tab='history']")
    page.wait_for_url("**/history/**")
    assert NAME in page.inner_text("#history-table")
    _shot(page, "review_history.png")

    # 3. the professional logs in and sees the professional menu
    _logout(page)
    _login(page, live_server, "person", idn, PASSWORD)
    assert page.locator("a[data-menu-category='person.cat.profile']").count() == 1
    assert page.locator("a[data-menu-category='person.cat.ce']").count() == 1
    assert page.locator("a[data-menu-category='employer.cat.review']").count() == 0
    page.click("a[data-menu-category='person.cat.ce']")
    assert page.locator("a[data-menu='person.declare']").is_visible()
    _shot(page, "professional_home.png")
    page.close()
