"""Second factor (等保 level 3): TOTP (RFC 6238, pyotp) with single-use recovery codes.

* A code is accepted once: the accepted time step is stored on the user and a code of the same or an
  earlier step is refused afterwards (one atomic UPDATE, so two workers cannot both accept it).
* Recovery codes (10, 80 random bits each) are stored as SHA-256 hashes and shown once.
* Required for the system administrator and the province HR admins when ``CE_TOTP_REQUIRED`` is on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime
from typing import Optional

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, or_, update

from ..capacities import PROVINCE, SYSADMIN
from ..models import TotpRecoveryCode, User
from .audit_trail import record_event
from .masking import mask_id_number
from .sessions import end_sessions

REQUIRED_CAPACITIES = (SYSADMIN, PROVINCE)
RECOVERY_CODES = 10
STEP_SECONDS = 30
_DIGITS = re.compile(r"^\d{6}$")


def required_for(capacity: Optional[str]) -> bool:
    """True when acting as ``capacity`` needs an enrolled second factor (setting ``CE_TOTP_REQUIRED``)."""
    return bool(current_app.config.get("CE_TOTP_REQUIRED", False)) and capacity in REQUIRED_CAPACITIES


def required_for_user(user: User) -> bool:
    """True when any capacity ``user`` holds needs a second factor (then it may not be switched off)."""
    if not current_app.config.get("CE_TOTP_REQUIRED", False):
        return False
    if user.is_sysadmin:
        return True
    return any(m.org is not None and m.org.kind == PROVINCE for m in user.memberships)


def is_enrolled(user: Optional[User]) -> bool:
    return bool(user is not None and user.totp_secret)


def new_secret() -> str:
    """A fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans (the account shown with a masked ID number)."""
    issuer = str(current_app.config.get("CE_TOTP_ISSUER") or current_app.config.get("APP_NAME") or "CE")
    return pyotp.TOTP(secret).provisioning_uri(name=mask_id_number(user.id_number or user.username or ""), issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (rendered on the server, no external service)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2)


def _matching_step(secret: str, code: str, now: float) -> Optional[int]:
    """The time step (current, or one either side for clock drift) whose code is ``code``."""
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _clean_code(code: Optional[str]) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _claim_step(session, user: User, step: int) -> bool:
    """Record ``step`` as used unless it (or a later one) was already: True when this call claimed it."""
    result = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def verify_code(session, user: User, code: Optional[str], now: Optional[float] = None) -> bool:
    """True when ``code`` is the user's current TOTP code and was never accepted before (committed)."""
    code = _clean_code(code)
    if not is_enrolled(user) or not _DIGITS.match(code):
        return False
    step = _matching_step(user.totp_secret, code, time.time() if now is None else now)
    if step is None:
        return False
    claimed = _claim_step(session, user, step)
    session.commit()
    return claimed


def _hash_code(code: str) -> str:
    return hashlib.sha256(_clean_code(code).encode()).hexdigest()


def use_recovery_code(session, user: User, code: Optional[str]) -> bool:
    """True when ``code`` is one of the user's unused recovery codes; it is used up (committed)."""
    if not is_enrolled(user) or len(_clean_code(code)) != 16:
        return False
    result = session.execute(
        update(TotpRecoveryCode)
        .where(
            TotpRecoveryCode.user_id == user.id,
            TotpRecoveryCode.code_hash == _hash_code(code),
            TotpRecoveryCode.used_at.is_(None),
        )
        .values(used_at=datetime.utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def verify_second_factor(session, user: User, code: Optional[str]) -> bool:
    """A TOTP code (6 digits) or a recovery code; each accepted at most once."""
    if _DIGITS.match(_clean_code(code)):
        return verify_code(session, user, code)
    return use_recovery_code(session, user, code)


def remaining_recovery_codes(session, user: User) -> int:
    return session.query(TotpRecoveryCode).filter_by(user_id=user.id, used_at=None).count()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 16 characters, 80 bits
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def enrol(session, user: User, secret: str, code: Optional[str]) -> Optional[list[str]]:
    """Turn the second factor on with ``secret`` once ``code`` proves the app holds it.

    Returns the 10 new recovery codes (to show once), or None when the code is wrong (nothing
    changed). Ends the user's other sessions and tokens (``end_sessions``); committed.
    """
    code = _clean_code(code)
    if not secret or not _DIGITS.match(code):
        return None
    step = _matching_step(secret, code, time.time())
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    codes = _replace_recovery_codes(session, user)
    end_sessions(user)
    record_event("totp_enabled", object_type="user", object_id=user.id, user_id=user.id, session=session)
    session.commit()
    return codes


def _replace_recovery_codes(session, user: User) -> list[str]:
    session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(TotpRecoveryCode(user_id=user.id, code_hash=_hash_code(c)) for c in codes)
    return codes


def disable(session, user: User, code: Optional[str]) -> bool:
    """Turn the second factor off after a valid code (TOTP or recovery); refused while it is required.

    Ends the user's other sessions and tokens; committed. Returns False (nothing changed) otherwise.
    """
    if not is_enrolled(user) or required_for_user(user):
        return False
    if not verify_second_factor(session, user, code):
        return False
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id))
    end_sessions(user)
    record_event("totp_disabled", object_type="user", object_id=user.id, user_id=user.id, session=session)
    session.commit()
    return True
