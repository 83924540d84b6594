"""Offline image captcha, each answer usable once.

The session holds only a random challenge id; the answer's keyed hash lives in the database
(``CaptchaChallenge``) and the row is deleted by the first check, right or wrong. A cookie copied
before a login therefore never passes the captcha again, whichever worker answers the request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from captcha.image import ImageCaptcha
from flask import current_app, session
from sqlalchemy import delete, select

from ..models import CaptchaChallenge

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SESSION_KEY = "ce_captcha"
_image = ImageCaptcha(width=120, height=44, font_sizes=(32, 36))


def new_text(length: int = 4) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def digest(secret_key: str, text: str) -> str:
    """Keyed hash of a captcha answer (case-insensitive)."""
    return hmac.new(secret_key.encode(), text.strip().upper().encode(), hashlib.sha256).hexdigest()


def _now() -> datetime:
    return datetime.utcnow()


def _lifetime() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("CE_CAPTCHA_SECONDS", 300)))


def issue(db_session, text: str) -> None:
    """Store a new challenge for ``text`` and point the browser session at it (committed).

    Replaces the session's previous challenge and purges expired ones, so the table stays small.
    """
    now = _now()
    previous = session.pop(SESSION_KEY, None)
    if isinstance(previous, str):
        db_session.execute(delete(CaptchaChallenge).where(CaptchaChallenge.id == previous))
    db_session.execute(delete(CaptchaChallenge).where(CaptchaChallenge.expires_at < now))
    challenge_id = secrets.token_urlsafe(32)
    db_session.add(
        CaptchaChallenge(id=challenge_id, digest=digest(current_app.secret_key, text), expires_at=now + _lifetime())
    )
    db_session.commit()
    session[SESSION_KEY] = challenge_id


def consume(db_session, answer: str | None) -> bool:
    """True when ``answer`` solves the session's current captcha; the challenge is used up either way.

    The challenge row is deleted (and committed) before the answer is compared: of two requests
    presenting the same challenge, only the one whose delete removed the row can pass. Expired or
    unknown challenges fail.
    """
    challenge_id = session.pop(SESSION_KEY, None)
    if not isinstance(challenge_id, str) or not challenge_id:
        return False
    row = db_session.execute(
        select(CaptchaChallenge.digest, CaptchaChallenge.expires_at).where(CaptchaChallenge.id == challenge_id)
    ).first()
    result = db_session.execute(delete(CaptchaChallenge).where(CaptchaChallenge.id == challenge_id))
    db_session.commit()
    if row is None or result.rowcount != 1 or row.expires_at < _now() or not answer:
        return False
    return hmac.compare_digest(row.digest, digest(current_app.secret_key, answer))


def render_png(text: str) -> bytes:
    return _image.generate(text, format="png").getvalue()
