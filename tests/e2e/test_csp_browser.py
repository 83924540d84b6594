"""Real browser under the security headers: FAB's and the console's pages run their scripts and styles
without a single Content-Security-Policy violation or script error."""

from __future__ import annotations

import pytest

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def _login(browser, url, capacity):
    _cap, id_number, _pw, _org = next(row for row in DEMO_LOGINS if row[0] == capacity)
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    problems = []
    # Failed loads are reported by status below (Chromium's own favicon probe is not a page resource).
    page.on("console", lambda m: problems.append(m.text)
            if (m.type == "error" and not m.text.startswith("Failed to load resource")) or "Content Security Policy" in m.text
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(url + "/login/")
    page.select_option("#capacity", capacity)
    page.fill("#username", id_number)
    page.fill("#password", DEMO_PASSWORD)
    page.fill("#captcha", "TEST")
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return page, problems


def _visit(page, url):
    response = page.goto(url)
    assert response.ok, (url, response.status)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")


def test_admin_pages_run_without_csp_violations(live_server, browser):
    page, problems = _login(browser, live_server, "employer")
    _visit(page, live_server + "/")
    page.click("text=查询统计")  # Bootstrap's dropdown (inline-initialised jQuery)
    page.click("a[data-menu='employer.professionals']")
    page.wait_for_url("**/professionalview/list/**")
    page.wait_for_load_state("networkidle")
    first = page.locator("a[href*='/professionalview/show/']").first
    if first.count():
        first.click()
        page.wait_for_load_state("networkidle")
    assert problems == []


def test_console_pages_run_without_csp_violations(live_server, browser):
    page, problems = _login(browser, live_server, "sysadmin")
    for path in ("/console/", "/console/region/", "/console/region/new/", "/console/unit_nature/"):
        _visit(page, live_server + path)
    # The region form's parent picker is a Select2 AJAX widget started by an inline script.
    _visit(page, live_server + "/console/region/new/")
    assert page.locator(".select2-container").count() >= 1
    assert problems == []


def test_person_pages_run_without_csp_violations(live_server, browser):
    page, problems = _login(browser, live_server, "person")
    _visit(page, live_server + "/hours/completion/")
    page.select_option("#year_from", "2024")
    page.click("#range-form button[type=submit]")
    page.wait_for_url("**year_from=2024**")
    assert problems == []
