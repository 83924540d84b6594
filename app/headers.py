"""HTTP security headers (Flask-Talisman) and ``no-store`` on every non-static response.

The content security policy allows only this site's own scripts, styles, images and fonts. Inline
scripts run only with the request's nonce: FAB's templates and ours write ``nonce="{{
baselib.get_nonce() }}"`` on every ``<script>`` (an injected script has no nonce and is blocked). The
console (Flask-Admin) still uses ``onclick`` attributes and ``javascript:`` links, so its pages keep
``'unsafe-inline'`` for scripts (system administrators only). ``style-src`` allows inline styles
(``style`` attributes are everywhere; they cannot run code). Nothing else is relaxed: no ``eval``, no
other origin, no plugins, no framing, no ``<base>`` elsewhere, forms post only here. A response that
sets its own policy (the sandboxed uploads, the verification page's ``no-referrer``) keeps it. HSTS and
the HTTP → HTTPS redirect are on in production only (``CE_FORCE_HTTPS``, ``SESSION_COOKIE_SECURE``).
"""

from __future__ import annotations

from fnmatch import fnmatch
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_talisman import DENY, Talisman
from flask_talisman.talisman import NONCE_LENGTH, get_random_string

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",  # + the request's nonce
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The Flask-Admin console (endpoints console*): inline handlers, so no nonce (it would disable 'unsafe-inline').
CONSOLE_POLICY = dict(CONTENT_SECURITY_POLICY, **{"script-src": "'self' 'unsafe-inline'"})
NONCE_IN = ["script-src"]
REFERRER_POLICY = "same-origin"
# Types a browser renders as a document that can run script: only these get the page policy (a PDF
# under object-src 'none' would not open in Chromium's viewer; nosniff keeps other types inert).
DOCUMENT_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml")


def _is_console() -> bool:
    return (request.endpoint or "").startswith("console")


class _Talisman(Talisman):
    """Talisman with the console's own policy, a nonce made on first use (error pages rendered before
    Talisman's ``before_request`` get one too), and a stricter policy set by the view kept in place."""

    def _get_local_options(self):
        options = super()._get_local_options()
        if _is_console():
            options = dict(options, content_security_policy=CONSOLE_POLICY, content_security_policy_nonce_in=[])
        return options

    def _make_nonce(self):
        if not _is_console():
            self._get_nonce()

    def _get_nonce(self):
        if _is_console():
            return ""
        if not getattr(request, "csp_nonce", None):
            request.csp_nonce = get_random_string(NONCE_LENGTH)
        return request.csp_nonce

    def _set_content_security_policy_headers(self, headers, options):
        content_type = (headers.get("Content-Type") or "text/html").split(";")[0].strip().lower()
        if "Content-Security-Policy" in headers or content_type not in DOCUMENT_TYPES:
            options = dict(options, content_security_policy=None)
        super()._set_content_security_policy_headers(headers, options)

    def _set_referrer_policy_headers(self, headers):
        if "Referrer-Policy" not in headers:
            super()._set_referrer_policy_headers(headers)


def init_app(app: Flask) -> None:
    """Install the security headers on ``app`` (after ``settings.apply_environment``).

    Guarantees on every response: CSP (documents), ``X-Content-Type-Options: nosniff``,
    ``X-Frame-Options: DENY``, ``Referrer-Policy``; ``Cache-Control: no-store`` unless the response
    chose its own or is a static file; HSTS over HTTPS when cookies are Secure; HTTP redirected to
    HTTPS only when ``CE_FORCE_HTTPS`` (production default).
    """
    config = app.config
    secure = bool(config.get("SESSION_COOKIE_SECURE"))
    _Talisman(
        app,
        force_https=bool(config.get("CE_FORCE_HTTPS")),
        frame_options=DENY,
        strict_transport_security=secure,
        strict_transport_security_max_age=int(config.get("CE_HSTS_SECONDS", 365 * 24 * 3600)),
        strict_transport_security_include_subdomains=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=NONCE_IN,
        referrer_policy=REFERRER_POLICY,
        session_cookie_secure=secure,
        session_cookie_samesite=config.get("SESSION_COOKIE_SAMESITE") or "Lax",
        session_cookie_http_only=True,
        x_content_type_options=True,
    )
    app.after_request(_no_store)
    app.after_request(_safe_location)


def _no_store(response):
    """Pages carry personal data and CSRF tokens: no browser or proxy keeps a copy (static files may)."""
    endpoint = request.endpoint or ""
    if "Cache-Control" not in response.headers and not (endpoint == "static" or endpoint.endswith(".static")):
        response.headers["Cache-Control"] = "no-store"
    return response


def _safe_location(response):
    """A redirect leads only to this site or a configured host (``FAB_SAFE_REDIRECT_HOSTS``).

    FAB's ``get_safe_redirect`` lets ``/\\evil.example`` through (no host to urlparse, but browsers
    read the backslash as a slash); any such target, a foreign host or a non-http scheme becomes the
    home page.
    """
    if not 300 <= response.status_code < 400 or "Location" not in response.headers:
        return response
    if not is_safe_location(response.headers["Location"]):
        response.headers["Location"] = current_app.appbuilder.get_url_for_index
    return response


def is_safe_location(url: str) -> bool:
    """True when a browser following ``url`` stays on this host or a configured one."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    parts = urlsplit(url.strip().replace("\\", "/"))
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return False
    if not parts.netloc:
        return not parts.scheme
    allowed = [request.host, *(current_app.config.get("FAB_SAFE_REDIRECT_HOSTS") or [])]
    return any(fnmatch(parts.netloc.lower(), pattern.lower()) for pattern in allowed)
