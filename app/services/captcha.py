"""Offline image captcha. The session holds only an HMAC of the answer, never the answer."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from captcha.image import ImageCaptcha

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_image = ImageCaptcha(width=120, height=44, font_sizes=(32, 36))


def new_text(length: int = 4) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def digest(secret_key: str, text: str) -> str:
    """Keyed hash of a captcha answer (case-insensitive)."""
    return hmac.new(secret_key.encode(), text.strip().upper().encode(), hashlib.sha256).hexdigest()


def matches(secret_key: str, expected_digest: str | None, answer: str | None) -> bool:
    """True when ``answer`` is the captcha whose digest is ``expected_digest``."""
    if not expected_digest or not answer:
        return False
    return hmac.compare_digest(expected_digest, digest(secret_key, answer))


def render_png(text: str) -> bytes:
    return _image.generate(text, format="png").getvalue()
