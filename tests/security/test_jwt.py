"""REST tokens: only a logged-in session (captcha passed, capacity chosen) obtains one; there is no
password → token endpoint; the token's capacity is the one that acts (re-checked in the database);
forged, foreign and expired tokens are refused."""

from __future__ import annotations

import base64
import json
import time

import pytest

from app.extensions import db
from app.models import Declaration, Membership
from tests import factories as f
from tests.helpers import csrf_from, login, token_for
from tests.views.test_declaration_api import API, bearer, build_world, create_pending, issue_token, session_client

TOKEN = "/api/v1/token/"


@pytest.fixture
def w(app):
    return build_world(app)


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_anonymous_gets_no_token_and_there_is_no_password_login(app):
    c = app.test_client()
    assert c.post(TOKEN).status_code == 400  # no CSRF token
    csrf = csrf_from(c.get("/login/").get_data(as_text=True))  # an anonymous session's token
    r = c.post(TOKEN, headers={"X-CSRFToken": csrf})
    assert r.status_code == 401 and "access_token" not in (r.get_json() or {})
    r = c.post(TOKEN, json={"username": "x", "password": "y", "provider": "db"}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 401
    assert c.get(TOKEN).status_code == 405
    for url in ("/api/v1/security/login", "/api/v1/security/refresh"):
        assert c.post(url, json={"username": "x", "password": "y", "provider": "db"}).status_code == 404


def test_a_failed_captcha_gives_no_session_and_so_no_token(app, w):
    c = app.test_client()
    r = login(c, "person", w["person_login"], captcha="NOPE")
    assert r.status_code == 200  # the form again
    csrf = csrf_from(c.get("/login/").get_data(as_text=True))
    assert c.post(TOKEN, headers={"X-CSRFToken": csrf}).status_code == 401


def test_token_claims_carry_the_acting_capacity(app, w):
    token = issue_token(session_client(app, w, "person", "person"))
    claims = claims_of(token)
    assert claims["ce_capacity"] == "person" and claims["ce_membership_id"] is None
    assert claims["exp"] - claims["iat"] == 1800 and claims["type"] == "access"
    token = issue_token(session_client(app, w, "employer", "employer_admin"))
    claims = claims_of(token)
    with app.app_context():
        membership = db.session.query(Membership).filter_by(org_id=w["employer"]).one()
        assert claims["ce_capacity"] == "employer" and claims["ce_membership_id"] == membership.id
        assert claims["sub"] == str(membership.user_id)


def test_a_token_cannot_obtain_another_token(app, w):
    c, h = bearer(app, w, "person", "person")
    assert c.post(TOKEN, headers=h).status_code == 401


def test_session_login_required_for_the_token_even_with_csrf(app, w):
    c = session_client(app, w, "person", "person")
    assert c.post(TOKEN).status_code == 400  # CSRF required from the browser session
    c.post("/logout/", data={"csrf_token": token_for(c)})
    csrf = csrf_from(c.get("/login/").get_data(as_text=True))
    assert c.post(TOKEN, headers={"X-CSRFToken": csrf}).status_code == 401


def test_token_of_one_capacity_cannot_act_as_another(app, w):
    """The same user is a professional and an employer admin: the token's capacity decides."""
    pk = create_pending(app, w)  # waiting for the employer
    with app.app_context():
        both = f.admin(db.session.get(f.Organization, w["employer"]), "双身份")
        f.professional(db.session.get(f.Organization, w["employer"]), "双身份", user_obj=both)
        idn = both.id_number
        db.session.commit()
    w = dict(w, both=idn, both_person_login=idn)
    person_session = app.test_client()
    assert login(person_session, "person", idn).status_code == 302
    person_token = issue_token(person_session)
    employer_session = app.test_client()
    assert login(employer_session, "employer", idn).status_code == 302
    # the employer session with the person's token: the token (person) acts, not the session
    h = {"Authorization": f"Bearer {person_token}"}
    assert employer_session.post(f"{API}/{pk}/approve", json={}, headers=h).status_code == 403
    assert employer_session.get(f"{API}/{pk}", headers=h).status_code == 404
    assert app.test_client().post(f"{API}/{pk}/approve", json={}, headers=h).status_code == 403
    # a token whose claims were edited to another capacity fails its signature
    head, payload, sig = person_token.split(".")
    claims = claims_of(person_token)
    claims["ce_capacity"] = "employer"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    r = app.test_client().post(f"{API}/{pk}/approve", json={}, headers={"Authorization": f"Bearer {head}.{forged}.{sig}"})
    assert r.status_code == 401
    with app.app_context():
        assert db.session.get(Declaration, pk).step == 0
    # the employer token of the same user may approve
    employer_token = issue_token(employer_session)
    r = app.test_client().post(f"{API}/{pk}/approve", json={}, headers={"Authorization": f"Bearer {employer_token}"})
    assert r.status_code == 200, r.get_data(as_text=True)


def test_token_naming_someone_elses_membership_is_refused(app, w):
    """Even a correctly signed token is checked against the database like the session."""
    from flask_jwt_extended import create_access_token

    pk = create_pending(app, w)
    with app.app_context():
        other = db.session.query(Membership).filter_by(org_id=w["county"]).one()
        employer = db.session.query(Membership).filter_by(org_id=w["employer"]).one()
        token = create_access_token(identity=str(other.user_id),
                                    additional_claims={"ce_capacity": "employer", "ce_membership_id": employer.id,
                                                       "ce_epoch": other.user.session_epoch})
    r = app.test_client().post(f"{API}/{pk}/approve", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    with app.app_context():
        assert db.session.get(Declaration, pk).step == 0


def test_disabled_membership_stops_its_token(app, w):
    c, h = bearer(app, w, "employer", "employer_admin")
    assert c.get(API + "/", headers=h).status_code == 200
    with app.app_context():
        membership = db.session.query(Membership).filter_by(org_id=w["employer"]).one()
        membership.enabled = False
        db.session.commit()
    assert c.get(API + "/", headers=h).status_code == 403


def test_bearer_and_session_of_different_users_are_refused(app, w):
    _c, h = bearer(app, w, "person", "person")
    other = session_client(app, w, "employer", "employer_admin")
    assert other.get(API + "/", headers=h).status_code == 401


def test_expired_token_is_refused(app, w, monkeypatch):
    monkeypatch.setitem(app.config, "CE_API_TOKEN_SECONDS", 1)
    session = session_client(app, w, "person", "person")
    r = session.post(TOKEN, headers={"X-CSRFToken": token_for(session)})
    token = r.get_json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    c = app.test_client()
    assert c.get(API + "/", headers=h).status_code == 200
    time.sleep(2.1)
    r = c.get(API + "/", headers=h)
    assert r.status_code == 401 and r.get_json()["message"]
    assert c.post(API + "/", json={}, headers=h).status_code == 401


def test_garbage_bearer_is_401_not_a_csrf_bypass(app, w):
    c = session_client(app, w, "person", "person")
    r = c.post(API + "/", json={}, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
