"""Brute force: lockout after repeated failures (no enumeration) and the per-address login rate limit."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from app.capacities import PERSON
from app.extensions import db
from app.models import User
from app.services.auth import find_user
from tests import factories
from tests.helpers import login


@pytest.fixture
def person(app):
    """A fresh approved professional (its ID number) for each test: counters never leak between tests."""
    with app.app_context():
        employer = factories.org("employer")
        p = factories.professional(employer, "钱七")
        db.session.commit()
        return p.id_number


def _error(response):
    html = response.get_data(as_text=True)
    m = re.search(r'id="login-error" data-code="([a-z_]+)">\s*([^<]+)', html)
    return (m.group(1), m.group(2).strip()) if m else (None, html[:500])


def _user(app, idn) -> User:
    with app.app_context():
        u = find_user(db.session, idn)
        db.session.expunge(u)
        return u


def test_five_failures_lock_and_right_password_is_refused(app, person):
    client = app.test_client()
    for _ in range(4):
        assert _error(login(client, PERSON, person, password="Wrong12345"))[0] == "bad_password"
    fifth = _error(login(client, PERSON, person, password="Wrong12345"))
    assert fifth[0] == "locked"
    u = _user(app, person)
    assert u.fail_login_count == 5 and u.locked_until > datetime.utcnow() + timedelta(minutes=14)
    right = login(client, PERSON, person)
    wrong = login(client, PERSON, person, password="Wrong12345")
    # Locked: the right and a wrong password get the same status and text.
    assert right.status_code == wrong.status_code == 200
    assert _error(right) == _error(wrong) == fifth
    assert client.get("/professionalview/list/").status_code in (302, 403)


def test_unlocked_after_the_period_and_counter_reset_on_success(app, person):
    client = app.test_client()
    for _ in range(5):
        login(client, PERSON, person, password="Wrong12345")
    with app.app_context():
        u = find_user(db.session, person)
        u.locked_until = datetime.utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert login(client, PERSON, person).status_code == 302
    u = _user(app, person)
    assert u.fail_login_count == 0 and u.locked_until is None


def test_success_resets_the_counter(app, person):
    client = app.test_client()
    for _ in range(4):
        login(client, PERSON, person, password="Wrong12345")
    assert login(client, PERSON, person).status_code == 302
    assert _user(app, person).fail_login_count == 0
    # Four more failures do not lock: the count started again.
    other = app.test_client()
    for _ in range(4):
        assert _error(login(other, PERSON, person, password="Wrong12345"))[0] == "bad_password"


def test_configurable_threshold(app, person, monkeypatch):
    monkeypatch.setitem(app.config, "CE_LOCKOUT_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "CE_LOCKOUT_MINUTES", 1)
    client = app.test_client()
    assert _error(login(client, PERSON, person, password="Wrong12345"))[0] == "bad_password"
    assert _error(login(client, PERSON, person, password="Wrong12345"))[0] == "locked"
    u = _user(app, person)
    assert u.locked_until < datetime.utcnow() + timedelta(minutes=2)


def test_unknown_account_keeps_the_spec_message(app, person):
    client = app.test_client()
    for _ in range(6):
        code, _text = _error(login(client, PERSON, "110105194912310029", password="Wrong12345"))
        assert code == "no_account"


def test_login_posts_are_rate_limited_per_address(fresh_app):
    application = fresh_app(RATELIMIT_ENABLED=True, CE_LOGIN_RATE_LIMIT="3 per minute")
    with application.app_context():
        p = factories.professional(factories.org("employer"), "孙八")
        db.session.commit()
        idn = p.id_number
    client = application.test_client()
    statuses = [login(client, PERSON, idn, password="Wrong12345").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    # The GET of the form is not limited; another address is not affected.
    assert client.get("/login/").status_code == 200
    other = application.test_client()
    page = other.get("/login/", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert page.status_code == 200
