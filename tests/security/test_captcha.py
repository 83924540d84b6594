"""Captcha answers are usable once, enforced on the server: a copied session cookie never passes again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.capacities import PERSON
from app.extensions import db
from app.models import CaptchaChallenge
from app.services import captcha
from tests import factories
from tests.helpers import csrf_from


@pytest.fixture
def person(app):
    with app.app_context():
        p = factories.professional(factories.org("employer"), "周八")
        db.session.commit()
        return p.id_number


def _cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _post_login(client, token, idn, answer="TEST"):
    return client.post(
        "/login/",
        data={"csrf_token": token, "capacity": PERSON, "username": idn, "password": factories.PASSWORD, "captcha": answer},
    )


def test_a_cookie_copied_before_a_login_does_not_pass_the_captcha_again(app, person):
    attacker = app.test_client()
    token = csrf_from(attacker.get("/login/").get_data(as_text=True))
    attacker.get("/captcha/image.png")
    copied = _cookie(app, attacker)
    assert _post_login(attacker, token, person).status_code == 302  # the captcha is solved once

    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    response = _post_login(replay, token, person)
    assert response.status_code == 200
    assert "验证码错误" in response.get_data(as_text=True)


def test_a_wrong_answer_uses_the_challenge_up_too(app, person):
    client = app.test_client()
    token = csrf_from(client.get("/login/").get_data(as_text=True))
    client.get("/captcha/image.png")
    copied = _cookie(app, client)
    assert "验证码错误" in _post_login(client, token, person, answer="NOPE").get_data(as_text=True)
    again = app.test_client()
    again.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    assert "验证码错误" in _post_login(again, token, person).get_data(as_text=True)


def test_the_session_holds_an_id_not_the_answer_and_expired_challenges_fail(app, person):
    client = app.test_client()
    token = csrf_from(client.get("/login/").get_data(as_text=True))
    client.get("/captcha/image.png")
    with client.session_transaction() as s:
        challenge = s["ce_captcha"]
    with app.app_context():
        row = db.session.get(CaptchaChallenge, challenge)
        assert row is not None and row.digest == captcha.digest(app.secret_key, "TEST")
        assert challenge != row.digest and "TEST" not in challenge
        row.expires_at = datetime.utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert "验证码错误" in _post_login(client, token, person).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CaptchaChallenge, challenge) is None


def test_a_new_image_replaces_the_previous_challenge_and_purges_expired_ones(app):
    client = app.test_client()
    with app.app_context():
        db.session.add(CaptchaChallenge(id="stale-challenge", digest="x" * 64, expires_at=datetime.utcnow() - timedelta(minutes=1)))
        db.session.commit()
    client.get("/captcha/image.png")
    with client.session_transaction() as s:
        first = s["ce_captcha"]
    client.get("/captcha/image.png")
    with client.session_transaction() as s:
        second = s["ce_captcha"]
    with app.app_context():
        assert db.session.get(CaptchaChallenge, first) is None
        assert db.session.get(CaptchaChallenge, second) is not None
        assert db.session.get(CaptchaChallenge, "stale-challenge") is None


def test_consume_is_true_once(app):
    """The service API other pages (public registration) use: ``consume(db.session, answer)``."""
    with app.test_request_context("/"):
        captcha.issue(db.session, "AB12")
        from flask import session

        challenge = session["ce_captcha"]
        assert captcha.consume(db.session, "ab12 ") is True
        session["ce_captcha"] = challenge  # the same id presented again (a copied cookie)
        assert captcha.consume(db.session, "AB12") is False
        assert captcha.consume(db.session, "AB12") is False  # nothing in the session at all
