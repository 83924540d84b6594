"""Capacity login through the real form: menus per capacity and every SPEC §2 message."""

from __future__ import annotations

import re

import pytest

from app.capacities import CE_BASE, COMPETENT, EMPLOYER, HR, PERSON, PROVINCE, SYSADMIN
from app.extensions import db
from app.permissions import SYSADMIN_SECURITY_MENUS, expected_menu
from tests import factories
from tests.helpers import login

MENU_RE = re.compile(r'data-menu="([^"]+)"')
CATEGORY_RE = re.compile(r'data-menu-category="([^"]+)"')


@pytest.fixture(scope="module")
def w(app):
    with app.app_context():
        world = factories.world()
        pending_org = factories.org("employer", "待审核单位", world["competent"], status="pending")
        world["pending_org_admin"] = factories.admin(pending_org)
        world["pending_person"] = factories.professional(world["employer"], "赵六", status="pending")
        world["disabled_admin"] = factories.admin(world["employer"], enabled=False)
        db.session.commit()
        return {k: (v.id_number if hasattr(v, "id_number") else v.id) for k, v in world.items()}


CASES = [
    (PERSON, "person"),
    (EMPLOYER, "employer_admin"),
    (COMPETENT, "competent_admin"),
    (CE_BASE, "ce_base_admin"),
    (HR, "county_admin"),
    (PROVINCE, "province_admin"),
    (SYSADMIN, "sysadmin"),
]


@pytest.mark.parametrize("capacity,key", CASES)
def test_each_capacity_logs_in_and_sees_exactly_its_menu(app, w, capacity, key):
    client = app.test_client()
    response = login(client, capacity, w[key])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get("/").get_data(as_text=True)
    expected = expected_menu(capacity)
    items = set(MENU_RE.findall(page))
    categories = set(CATEGORY_RE.findall(page))
    want_items = {i for items_ in expected.values() for i in items_}
    want_categories = set(expected)
    if capacity == SYSADMIN:
        # FAB's raw security pages are off (CE_DEV_SECURITY_PAGES): no "Security" menu at all.
        assert not set(SYSADMIN_SECURITY_MENUS) & (items | categories)
    assert items == want_items
    assert categories == want_categories


def _error(response) -> str:
    html = response.get_data(as_text=True)
    m = re.search(r'id="login-error" data-code="([a-z_]+)">\s*([^<]+)', html)
    return (m.group(1), m.group(2).strip()) if m else (None, html)


def test_unknown_account_offers_registration(app, w):
    code, text = _error(login(app.test_client(), PERSON, "110105194912310029"))
    assert code == "no_account"
    assert "账户不存在" in text


def test_wrong_password(app, w):
    code, text = _error(login(app.test_client(), EMPLOYER, w["employer_admin"], password="Wrong12345"))
    assert (code, text) == ("bad_password", "账户或密码错误")


def test_wrong_captcha_keeps_user_out(app, w):
    client = app.test_client()
    response = login(client, EMPLOYER, w["employer_admin"], captcha="NOPE")
    assert response.status_code == 200
    assert "验证码错误" in response.get_data(as_text=True)
    assert client.get("/professionalview/list/").status_code in (302, 403)


def test_captcha_cannot_be_replayed(app, w):
    client = app.test_client()
    login(client, EMPLOYER, w["employer_admin"], captcha="NOPE")
    # The failed attempt consumed the captcha: the right answer without a new image fails too.
    from tests.helpers import csrf_from

    token = csrf_from(client.get("/login/").get_data(as_text=True))
    response = client.post(
        "/login/",
        data={"csrf_token": token, "capacity": EMPLOYER, "username": w["employer_admin"], "password": factories.PASSWORD, "captcha": "TEST"},
    )
    assert "验证码错误" in response.get_data(as_text=True)


def test_wrong_capacity(app, w):
    code, text = _error(login(app.test_client(), HR, w["employer_admin"]))
    assert (code, text) == ("wrong_capacity", "您选择的登录角色未注册")


def test_professional_under_review_names_the_reviewing_org(app, w):
    code, text = _error(login(app.test_client(), PERSON, w["pending_person"]))
    assert code == "pending"
    assert text == "此帐号还未被审核，审核单位：测试医院"


def test_org_under_review_names_its_superior(app, w):
    code, text = _error(login(app.test_client(), EMPLOYER, w["pending_org_admin"]))
    assert code == "pending"
    assert text.endswith("测试市卫健委")


def test_admin_without_role(app, w):
    code, text = _error(login(app.test_client(), EMPLOYER, w["disabled_admin"]))
    assert code == "no_role"
    assert "未分配角色" in text


def test_session_cookie_flags(app, w):
    client = app.test_client()
    response = login(client, EMPLOYER, w["employer_admin"])
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_logout_is_post_only(app, w):
    client = app.test_client()
    login(client, EMPLOYER, w["employer_admin"])
    assert client.get("/logout/").status_code == 405
    assert client.get("/professionalview/list/").status_code == 200
