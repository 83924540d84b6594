"""No constant SECRET_KEY: development generates a private key once into instance/, production refuses
to start without one; a cookie or JWT signed with the old constant opens nothing."""

from __future__ import annotations

import os
import stat

import jwt
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import create_app
from app.settings import ConfigurationError, load_or_create_secret_key
from tests import factories as f
from tests.conftest import TEST_CONFIG
from tests.helpers import login, token_for

# What config.py fell back to before issue 10 (anyone could read it in the repository).
OLD_CONSTANT = "dev-only-change-me-" + "ce-platform"
STRONG_KEY = "k" * 40


def _config(db_url, **extra):
    config = {k: v for k, v in TEST_CONFIG.items() if k != "SECRET_KEY"}
    config.update(SQLALCHEMY_DATABASE_URI=db_url, **extra)
    return config


@pytest.fixture
def no_env_key(monkeypatch):
    for name in ("SECRET_KEY", "CE_ENV", "CE_PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _sign_session(key: str, data: dict) -> str:
    holder = Flask("forger")
    holder.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(holder).dumps(dict(data))


def test_generated_key_is_private_atomic_and_stable(tmp_path):
    path = tmp_path / "instance" / "secret_key"
    key = load_or_create_secret_key(str(path))
    assert len(key) >= 64 and key != OLD_CONSTANT
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_secret_key(str(path)) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary file left behind
    # Loosened permissions are tightened again before the key is used.
    os.chmod(path, 0o644)
    assert load_or_create_secret_key(str(path)) == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_two_app_instances_share_the_generated_key(app, tmp_path, no_env_key):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    key_file = tmp_path / "secret_key"
    first = create_app(_config(url, CE_SECRET_KEY_FILE=str(key_file)))
    second = create_app(_config(url, CE_SECRET_KEY_FILE=str(key_file)))
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert first.secret_key != OLD_CONSTANT
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_default_key_file_is_in_the_instance_folder(app, tmp_path, monkeypatch, no_env_key):
    monkeypatch.setenv("CE_INSTANCE_DIR", str(tmp_path))
    built = create_app(_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    assert (tmp_path / "secret_key").read_text().strip() == built.secret_key


def test_production_without_key_refuses_to_start(app, tmp_path, no_env_key):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    base = {"CE_ENV": "production", "CE_PUBLIC_BASE_URL": "https://ce.example.gov.cn",
            "CE_SECRET_KEY_FILE": str(tmp_path / "secret_key")}
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(_config(url, **base))
    assert not (tmp_path / "secret_key").exists()  # no development key in production
    with pytest.raises(ConfigurationError, match="at least 32"):
        create_app(_config(url, **base, SECRET_KEY="short"))
    with pytest.raises(ConfigurationError, match="CE_PUBLIC_BASE_URL"):
        create_app(_config(url, **dict(base, CE_PUBLIC_BASE_URL=None), SECRET_KEY=STRONG_KEY))


def test_production_defaults_follow_ce_env(app, no_env_key, monkeypatch):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    for name in ("SESSION_COOKIE_SECURE", "CE_TOTP_REQUIRED", "CE_FORCE_HTTPS"):
        monkeypatch.delenv(name, raising=False)
    prod = create_app(_config(url, CE_ENV="production", SECRET_KEY=STRONG_KEY,
                              CE_PUBLIC_BASE_URL="https://ce.example.gov.cn/"))
    assert prod.config["SESSION_COOKIE_SECURE"] is True and prod.config["CE_TOTP_REQUIRED"] is True
    assert prod.config["CE_FORCE_HTTPS"] is True
    assert prod.config["TRUSTED_HOSTS"] == ["ce.example.gov.cn"]
    assert prod.config["FAB_SAFE_REDIRECT_HOSTS"] == ["ce.example.gov.cn"]
    # A Host the deployment does not serve is refused outright.
    assert prod.test_client().get("/login/", headers={"Host": "evil.example"}, base_url="https://evil.example").status_code == 400
    dev = create_app(_config(url, SECRET_KEY=STRONG_KEY))
    assert dev.config["SESSION_COOKIE_SECURE"] is False and dev.config["CE_TOTP_REQUIRED"] is False
    assert dev.config["CE_FORCE_HTTPS"] is False and not dev.config.get("TRUSTED_HOSTS")
    # An explicit setting wins over the environment's default.
    explicit = create_app(_config(url, CE_ENV="production", SECRET_KEY=STRONG_KEY, CE_TOTP_REQUIRED=False,
                                  CE_PUBLIC_BASE_URL="https://ce.example.gov.cn"))
    assert explicit.config["CE_TOTP_REQUIRED"] is False


def test_cookie_signed_with_the_old_constant_opens_nothing(app, tmp_path, no_env_key):
    with app.app_context():
        w = f.world()
        sysadmin = w["sysadmin"].id_number
    real = app.test_client()
    assert login(real, "sysadmin", sysadmin).status_code == 302
    assert real.get("/console/").status_code == 200
    with real.session_transaction() as s:
        contents = dict(s)
    # The same database served by an app without SECRET_KEY in its configuration (as deployed before).
    served = create_app(_config(app.config["SQLALCHEMY_DATABASE_URI"], CE_SECRET_KEY_FILE=str(tmp_path / "k")))
    forged = served.test_client()
    forged.set_cookie("session", _sign_session(OLD_CONSTANT, contents))
    response = forged.get("/console/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    # The forging itself is sound: signed with the app's real key the same contents open the console.
    genuine = served.test_client()
    genuine.set_cookie("session", _sign_session(served.secret_key, contents))
    assert genuine.get("/console/").status_code == 200


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the old constant is short, too
def test_jwt_signed_with_the_old_constant_is_refused(app, tmp_path, no_env_key):
    with app.app_context():
        w = f.world()
        person = w["person"].id_number
    c = app.test_client()
    assert login(c, "person", person).status_code == 302
    token = c.post("/api/v1/token/", headers={"X-CSRFToken": token_for(c)}).get_json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    served = create_app(_config(app.config["SQLALCHEMY_DATABASE_URI"], CE_SECRET_KEY_FILE=str(tmp_path / "k")))
    forged = jwt.encode(claims, OLD_CONSTANT, algorithm="HS256")
    r = served.test_client().get("/api/v1/declaration/", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    genuine = jwt.encode(claims, served.secret_key, algorithm="HS256")
    r = served.test_client().get("/api/v1/declaration/", headers={"Authorization": f"Bearer {genuine}"})
    assert r.status_code == 200
