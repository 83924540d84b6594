"""Settings that depend on the environment, resolved once when the app is built.

Production is recognised by ``CE_ENV=production`` (config.py). There the app refuses to start
without a ``SECRET_KEY`` of at least 32 characters or without ``CE_PUBLIC_BASE_URL``; in development a
missing key is generated once into ``instance/secret_key`` (mode 0600) and reused. Settings left
``None`` in config.py take the default of the environment (Secure cookies, TOTP required: on in
production only), and the hosts a redirect may lead to are pinned to the configured public address.
"""

from __future__ import annotations

import logging
import os
import secrets
from urllib.parse import urlsplit

from flask import Flask

PRODUCTION = "production"
MIN_KEY_LENGTH = 32
# Settings that are on in production and off otherwise unless set explicitly (None = not set).
PRODUCTION_DEFAULTS = ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "CE_TOTP_REQUIRED", "CE_FORCE_HTTPS")

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The app must not start with this configuration; the message says what to set."""


def is_production(config) -> bool:
    """True when ``CE_ENV`` (from the environment or the app's config) is ``production``."""
    return str(config.get("CE_ENV") or "").strip().lower() == PRODUCTION


def apply_environment(app: Flask) -> None:
    """Resolve the environment-dependent settings of ``app`` before anything reads them.

    Guarantees: afterwards ``SECRET_KEY`` is set and never a constant of the code; in production
    ``ConfigurationError`` is raised (the app does not start) when ``SECRET_KEY`` or
    ``CE_PUBLIC_BASE_URL`` is missing; every name of ``PRODUCTION_DEFAULTS`` is a bool; with a public
    address ``FAB_SAFE_REDIRECT_HOSTS`` holds its host (FAB would otherwise trust the request's Host
    header for ``next=``); in production ``TRUSTED_HOSTS`` holds the public host (other Host headers
    get 400).
    """
    config = app.config
    production = is_production(config)
    config["CE_ENV"] = PRODUCTION if production else "development"
    for name in PRODUCTION_DEFAULTS:
        if config.get(name) is None:
            config[name] = production
    if production:
        _check_production(config)
    if not config.get("SECRET_KEY"):
        path = config.get("CE_SECRET_KEY_FILE") or os.path.join(app.instance_path, "secret_key")
        config["SECRET_KEY"] = load_or_create_secret_key(path)
    public_host = urlsplit(_public_base(config)).netloc
    extra_hosts = list(config.get("CE_TRUSTED_HOSTS") or [])
    if not config.get("FAB_SAFE_REDIRECT_HOSTS") and (production or config.get("CE_PUBLIC_BASE_URL")):
        # Without it FAB trusts the request's Host for next= targets (left so only in development
        # without a public address, where FAB's history redirects carry the local address).
        config["FAB_SAFE_REDIRECT_HOSTS"] = [public_host, *extra_hosts]
    if production and not config.get("TRUSTED_HOSTS"):
        config["TRUSTED_HOSTS"] = [urlsplit(_public_base(config)).hostname, *extra_hosts]


def _public_base(config) -> str:
    from .services.public_urls import DEV_BASE_URL

    return config.get("CE_PUBLIC_BASE_URL") or DEV_BASE_URL


def _check_production(config) -> None:
    key = config.get("SECRET_KEY") or ""
    if not key:
        raise ConfigurationError(
            "CE_ENV=production needs SECRET_KEY in the environment (e.g. SECRET_KEY=$(openssl rand -hex 32)); "
            "the app does not start without it."
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(f"SECRET_KEY must be at least {MIN_KEY_LENGTH} characters in production.")
    base = config.get("CE_PUBLIC_BASE_URL") or ""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "CE_ENV=production needs CE_PUBLIC_BASE_URL, the public address such as https://ce.example.gov.cn "
            "(links in mails and certificate QR codes are built from it, never from the request's Host)."
        )


def load_or_create_secret_key(path: str) -> str:
    """The development key stored at ``path``; created once (random, mode 0600) when absent.

    Creation is atomic: the key is written to a private temporary file and hard-linked into place,
    so two processes starting together end up with the same key and nobody reads a half-written file.
    """
    key = _read_key(path)
    if key:
        return key
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = os.path.join(directory, f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
    finally:
        os.unlink(tmp)
    key = _read_key(path)
    if not key:
        raise ConfigurationError(f"Could not create the development secret key at {path}.")
    log.warning("SECRET_KEY is not set: using the development key in %s (set SECRET_KEY in production).", path)
    return key


def _read_key(path: str) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    if mode & 0o077:
        os.chmod(path, 0o600)  # readable by others: tighten before use
    with open(path) as f:
        return f.read().strip() or None
