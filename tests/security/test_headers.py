"""Security headers (Flask-Talisman): CSP, nosniff, frame and referrer policies, ``no-store`` on pages;
HSTS and the HTTPS redirect only in production; the uploads' and the verification page's stricter
policies are kept."""

from __future__ import annotations

import os

import pytest

from app.extensions import db
from tests import factories as f
from tests import images
from tests.conftest import TEST_CONFIG
from tests.helpers import login

STRONG_KEY = "p" * 40


def _csp(response) -> dict:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.fixture(scope="module")
def people(app):
    with app.app_context():
        w = f.world()
        return {"person": w["person"].id_number, "competent_admin": w["competent_admin"].id_number,
                "employer": w["employer"].id}


def test_login_page_headers(client):
    response = client.get("/login/")
    assert response.status_code == 200  # no HTTPS redirect outside production
    csp = _csp(response)
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-eval'" not in csp["script-src"] and "*" not in sum(csp.values(), [])
    # Inline scripts run only with this response's nonce; an injected <script> has none.
    assert "'unsafe-inline'" not in csp["script-src"]
    nonce = next(v for v in csp["script-src"] if v.startswith("'nonce-"))[len("'nonce-"):-1]
    html = response.get_data(as_text=True)
    assert f'<script nonce="{nonce}"' in html and '<script nonce=""' not in html
    assert nonce not in client.get("/login/").headers["Content-Security-Policy"]  # one per response
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers
    assert "Strict-Transport-Security" not in client.get("/login/", base_url="https://localhost").headers


def test_authenticated_pages_and_errors_are_not_stored(app, people):
    c = app.test_client()
    assert login(c, "person", people["person"]).status_code == 302
    for url in ("/hours/completion/", "/acting/", "/no/such/page"):
        response = c.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def test_console_keeps_inline_scripts_without_a_nonce(app, people):
    with app.app_context():
        sysadmin = f.user("系统管理员", is_sysadmin=True)
        db.session.commit()
        id_number = sysadmin.id_number
    c = app.test_client()
    assert login(c, "sysadmin", id_number).status_code == 302
    response = c.get("/console/unit_nature/")
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == ["'self'", "'unsafe-inline'"]  # Flask-Admin's onclick and javascript: links
    assert csp["frame-ancestors"] == ["'none'"] and response.headers["Cache-Control"] == "no-store"


def test_error_page_before_talisman_still_gets_a_nonce(client):
    response = client.post("/login/", data={})  # CSRF refused before Talisman's before_request
    assert response.status_code == 400
    csp = _csp(response)
    nonce = next(v for v in csp["script-src"] if v.startswith("'nonce-"))[len("'nonce-"):-1]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)


def test_static_files_may_be_cached_but_not_sniffed(client):
    response = client.get("/static/appbuilder/css/ab.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_verification_page_keeps_no_referrer(client):
    response = client.get("/verify/no-such-code")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_upload_keeps_its_sandbox_policy(app, people):
    from app.models import Organization
    from app.services.uploads import upload_path

    with app.app_context():
        org = db.session.get(Organization, people["employer"])
        org.certificate_scan = "org_certificate/test-headers/scan.png"
        full = upload_path(org.certificate_scan)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(images.image_bytes("PNG"))
        db.session.commit()
    c = app.test_client()
    assert login(c, "competent", people["competent_admin"]).status_code == 302
    response = c.get(f"/uploads/org/{people['employer']}/certificate")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_redirects_to_https_and_sends_hsts(fresh_app, monkeypatch):
    for name in ("SESSION_COOKIE_SECURE", "CE_FORCE_HTTPS", "CE_TOTP_REQUIRED"):
        monkeypatch.delenv(name, raising=False)
    app = fresh_app(CE_ENV="production", SECRET_KEY=STRONG_KEY, CE_PUBLIC_BASE_URL="https://localhost",
                    CE_TOTP_REQUIRED=False)
    c = app.test_client()
    plain = c.get("/login/")
    assert plain.status_code == 302 and plain.headers["Location"].startswith("https://localhost/login/")
    secure = c.get("/login/", base_url="https://localhost")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in secure.headers.get("Set-Cookie", "") or app.config["SESSION_COOKIE_SECURE"] is True
    # Behind the proxy (X-Forwarded-Proto: https) there is no redirect loop.
    assert c.get("/login/", headers={"X-Forwarded-Proto": "https"}).status_code == 200


def test_settings_are_consistent_with_the_test_config():
    # The conftest key is the only one tests use; it is not the old constant.
    assert TEST_CONFIG["SECRET_KEY"] != "dev-only-change-me-" + "ce-platform"
