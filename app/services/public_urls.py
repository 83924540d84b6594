"""Absolute links that leave the platform (mails, certificate QR codes): built from the configured
public address, never from the request's Host header (which a client chooses)."""

from __future__ import annotations

from flask import current_app

DEV_BASE_URL = "http://127.0.0.1:8080"


def public_base_url() -> str:
    """The configured ``CE_PUBLIC_BASE_URL`` without a trailing slash (the ``make run`` address when unset)."""
    return (current_app.config.get("CE_PUBLIC_BASE_URL") or DEV_BASE_URL).rstrip("/")


def public_url(path: str) -> str:
    """``path`` (a site path such as ``/verify/abc``) as an absolute link on the public address."""
    return public_base_url() + "/" + path.lstrip("/")
