"""Real browser: a professional declares an academic conference with evidence (the form's fields load
when the form is chosen, the standard hours are computed on the page), every reviewer on the route
approves on the 学时学分审批 inbox in turn, and the professional sees the recognised hours."""

from __future__ import annotations

import os
import re
import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from tests import images
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
YEAR = date.today().year


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo data behind a real server, with the app for reading the route and adding reviewers."""
    from tests.conftest import demo_app

    with demo_app(tmp_path_factory, "e2edecl") as app:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield app, f"http://127.0.0.1:{server.server_port}"
        server.shutdown()


def _login(browser, url, capacity, id_number, password):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url + "/login/")
    page.select_option("#capacity", capacity)
    page.fill("#username", id_number)
    page.fill("#password", password)
    page.fill("#captcha", "TEST")
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def test_declare_conference_three_reviewers_then_recognised_hours(served, browser, tmp_path):
    app, url = served
    _cap, person_idn, _pw, _org = DEMO_LOGINS[0]
    page = _login(browser, url, "person", person_idn, DEMO_PASSWORD)
    page.goto(url + "/hours/declarations/declare")
    page.select_option("#form_code", "academic_conference")
    assert page.is_visible("#academic_conference-conference")
    assert not page.is_visible("#paper-journal")
    page.select_option("#academic_conference-level", "national")
    page.fill("#academic_conference-conference", "全国医学学术年会")
    page.fill("#academic_conference-days", "2")
    page.check("#academic_conference-presented_paper")
    page.fill("#start_date", f"{YEAR}-03-01")
    page.fill("#end_date", f"{YEAR}-03-02")
    page.fill("#result", "合格")
    # switching to another form and back keeps what was typed
    page.select_option("#form_code", "paper")
    page.select_option("#form_code", "academic_conference")
    assert page.input_value("#academic_conference-conference") == "全国医学学术年会"
    page.wait_for_function("document.getElementById('requested_hours').value === '18.0'")
    assert page.eval_on_selector("#requested_hours", "e => e.readOnly")
    proof = tmp_path / "proof.png"
    proof.write_bytes(images.image_bytes("PNG", size=(200, 120)))
    page.set_input_files("input[name=evidence] >> nth=0", str(proof))
    page.click("#submit-declaration")
    page.wait_for_url(re.compile(r".*/hours/declarations/\d+$"))
    pk = int(page.url.rsplit("/", 1)[1])
    assert page.get_attribute("#detail-state", "data-state") == "pending"
    page.context.close()

    from app.extensions import db
    from app.models import Declaration, Organization
    from tests import factories

    with app.app_context():
        route = list(db.session.get(Declaration, pk).route)
        reviewers = []
        for org_id in route:
            org = db.session.get(Organization, org_id)
            reviewers.append((org.kind, factories.admin(org).id_number))
        db.session.commit()
    assert len(reviewers) >= 2

    for kind, idn in reviewers:
        page = _login(browser, url, kind, idn, factories.PASSWORD)
        page.goto(url + "/hours/review/")
        page.click(f"tr[data-id='{pk}'] a")
        page.wait_for_url(f"**/hours/review/{pk}")
        assert page.locator("#detail-evidence img").count() == 1
        assert page.eval_on_selector("#detail-evidence img", "e => e.complete && e.naturalWidth") > 0
        page.click("#approve-one")
        page.wait_for_url("**/hours/review/**")
        page.context.close()

    page = _login(browser, url, "person", person_idn, DEMO_PASSWORD)
    page.goto(url + "/hours/declarations/?state=approved")
    row = page.locator(f"tr[data-id='{pk}']")
    assert row.locator("td.recognised").inner_text().strip() == "18.0"
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "declaration_progress.png"), full_page=True)
    page.goto(url + f"/hours/declarations/{pk}")
    assert page.locator("#declaration-history tr[data-trigger='approve']").count() == len(reviewers)
    page.context.close()
