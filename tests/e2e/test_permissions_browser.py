"""Real browser: an employer super admin builds a role in the permission matrix (professionals: view
only), assigns it to a new admin; that admin sees the list but no edit, export or reset, and a URL
outside the role answers 403."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A live server on the demo data, with a plain (role-less) admin added to the demo employer."""
    from tests.conftest import demo_app

    with demo_app(tmp_path_factory, "e2e_perm") as app:
        with app.app_context():
            from app.extensions import db
            from app.models import Membership, Organization
            from tests import factories

            _cap, boss_idn, _pw, org_name = next(row for row in DEMO_LOGINS if row[0] == "employer")
            org = db.session.query(Organization).filter_by(name=org_name).one()
            plain = factories.user("只读管理员")
            db.session.add(Membership(user=plain, org=org, is_super=False, status="approved", enabled=True))
            db.session.commit()
            info = {"boss": boss_idn, "plain": plain.id_number, "plain_name": plain.full_name}
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        info["url"] = f"http://127.0.0.1:{server.server_port}"
        yield info
        server.shutdown()


def _login(page, url, capacity, id_number, password):
    page.goto(url + "/login/")
    page.locator("#captcha-img").wait_for()
    page.select_option("#capacity", capacity)
    page.fill("#username", id_number)
    page.fill("#password", password)
    page.fill("#captcha", "TEST")
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_view_only_role_built_in_the_matrix(live, browser):
    from tests.factories import PASSWORD

    url = live["url"]
    os.makedirs(ARTIFACTS, exist_ok=True)
    boss = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = boss.new_page()
    _login(page, url, "employer", live["boss"], DEMO_PASSWORD)
    page.goto(url + "/orgroles/add")
    matrix = page.locator("#level-matrix")
    matrix.wait_for()
    text = matrix.inner_text()
    assert "查看" in text and "编辑" in text and "导出" in text and "专业技术人员" in text
    page.fill("#name", "人员只读")
    page.check("input[name=levels][value='professionals:view']")
    # Ticking export ticks view too; untick it again: view only.
    page.check("input[name=levels][value='titles:export']")
    assert page.is_checked("input[name=levels][value='titles:view']")
    page.uncheck("input[name=levels][value='titles:export']")
    page.uncheck("input[name=levels][value='titles:view']")
    path = os.path.join(ARTIFACTS, "permission_matrix.png")
    page.screenshot(path=path, full_page=True)
    assert os.path.getsize(path) > 10_000
    page.click("#role-form button[type=submit]")
    page.wait_for_url("**/orgroles/list/**")
    assert "人员只读" in page.inner_text("body")

    page.goto(url + "/orgadmins/list/")
    row = page.locator("tr", has_text=live["plain_name"])
    row.locator("a[href*='/orgadmins/roles/']").click()
    page.check("label:has-text('人员只读') input[name=roles]")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url("**/orgadmins/list/**")
    boss.close()

    admin = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    _login(page, url, "employer", live["plain"], PASSWORD)
    menus = page.eval_on_selector_all("a[data-menu]", "els => els.map(e => e.dataset.menu)")
    assert menus == ["employer.professionals"]
    page.goto(url + "/professionalview/list/")
    body = page.inner_text("body")
    assert "专业技术人员" in body and "身份证号" in body
    assert page.locator("a[href*='/professionalview/export/']").count() == 0
    assert page.locator("a[href*='/professionalview/edit/']").count() == 0
    assert page.locator("form[action*='/password/admin-reset/']").count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, "view_only_professionals.png"), full_page=True)
    show = page.locator("a[href*='/professionalview/show/']").first
    if show.count():
        show.click()
        page.wait_for_url("**/professionalview/show/**")
        assert page.locator("a[href*='/professionalview/edit/']").count() == 0
    for forbidden in ("/professionalview/export/", "/departmentview/list/", "/hours/review/", "/orgroles/list/"):
        response = page.goto(url + forbidden)
        assert response.status == 403, forbidden
    admin.close()
