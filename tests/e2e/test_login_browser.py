"""Real browser: an employer admin logs in (Chinese UI, captcha, capacity) and opens the professionals list."""

from __future__ import annotations

import os

import pytest

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def test_employer_admin_logs_in_and_opens_professionals(live_server, browser):
    capacity, id_number, _pw, org_name = next(row for row in DEMO_LOGINS if row[0] == "employer")
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/login/")
    assert "用户类型" in page.content()
    captcha = page.locator("#captcha-img")
    captcha.wait_for()
    assert page.eval_on_selector("#captcha-img", "e => e.complete && e.naturalWidth") > 0
    assert captcha.bounding_box()["width"] >= 100  # visible beside the field, not collapsed
    page.select_option("#capacity", capacity)
    page.fill("#username", id_number)
    page.fill("#password", DEMO_PASSWORD)
    page.fill("#captcha", "TEST")  # the test app's captcha factory (never set in production config)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.click("text=查询统计")
    page.click("a[data-menu='employer.professionals']")
    page.wait_for_url("**/professionalview/list/**")
    body = page.inner_text("body")
    assert "专业技术人员" in body and "身份证号" in body
    assert "记录数" in body
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, "employer_professionals.png")
    page.screenshot(path=path, full_page=True)
    assert os.path.getsize(path) > 10_000
    page.close()
