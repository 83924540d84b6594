"""Password policy, change, admin reset and the forgotten-password token (SPEC §2, issue 3 item 6)."""

from __future__ import annotations

import hashlib
import re
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import AuditLog, Membership, Professional, User
from .auth import find_user
from .scope import Actor, scope_clause

MIN_LENGTH = 8
MAX_LENGTH = 64
_LETTERS_DIGITS = re.compile(r"^[A-Za-z0-9]+$")
_SALT = "ce-password-reset"

MESSAGES = {
    "length": _l("The password must be 8 to 64 characters long."),
    "chars": _l("The password may contain only letters and digits, and must contain both."),
    "id": _l("The password must not contain the ID number."),
    "confirm": _l("The two passwords do not match."),
    "old": _l("The current password is wrong."),
}


class PasswordError(Exception):
    """Refused change: ``errors`` maps a form field to its messages."""

    def __init__(self, errors: dict):
        super().__init__("password")
        self.errors = errors


def validate_password(password: str, id_number: Optional[str]) -> list:
    """The policy's messages for ``password`` (empty list = acceptable)."""
    password = password or ""
    errors = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        errors.append(MESSAGES["length"])
    if not (_LETTERS_DIGITS.match(password) and re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        errors.append(MESSAGES["chars"])
    idn = (id_number or "").strip().upper()
    if idn and idn in password.upper():
        errors.append(MESSAGES["id"])
    return errors


def _check_new(user: User, new: str, confirm: str) -> dict:
    errors = {}
    problems = validate_password(new, user.id_number)
    if problems:
        errors["new_password"] = problems
    if (new or "") != (confirm or ""):
        errors["confirm_password"] = [MESSAGES["confirm"]]
    return errors


def _set(user: User, password: str, must_change: bool) -> None:
    user.password = generate_password_hash(password)
    user.must_change_password = must_change
    user.fail_login_count = 0
    user.locked_until = None


def _commit_new_password(session, user: User, new: str) -> None:
    """Write an already-validated new password in one transaction (rolled back on failure)."""
    try:
        _set(user, new, must_change=False)
        session.commit()
    except Exception:
        session.rollback()
        raise


def change_password(session, user: User, old: str, new: str, confirm: str) -> None:
    """Change ``user``'s password after checking the old one; raises ``PasswordError``, nothing written."""
    errors = {}
    if not user.password or not check_password_hash(user.password, old or ""):
        errors["old_password"] = [MESSAGES["old"]]
    errors.update(_check_new(user, new, confirm))
    if errors:
        raise PasswordError(errors)
    _commit_new_password(session, user, new)


def user_in_scope(session, actor: Actor, user_id: int) -> Optional[User]:
    """The user if it is a professional or an admin inside ``actor``'s scope, else None."""
    cond = or_(
        User.id.in_(select(Professional.user_id).where(scope_clause(Professional, actor))),
        User.id.in_(select(Membership.user_id).where(scope_clause(Membership, actor))),
    )
    return session.execute(select(User).where(User.id == user_id, cond)).scalar_one_or_none()


def reset_value(id_number: str) -> str:
    """The reset password: the last six characters of the ID number, a trailing x upper-case."""
    return (id_number or "").strip()[-6:].upper()


def admin_reset(session, admin_actor: Actor, user: User) -> str:
    """Reset ``user``'s password to the last six of the ID number and force a change; audited.

    Raises ``LookupError`` when the user is outside the actor's scope (nothing written).
    """
    if user is None or user_in_scope(session, admin_actor, user.id) is None:
        raise LookupError("user outside scope")
    admin = session.get(User, admin_actor.user_id)
    value = reset_value(user.id_number or user.username)
    try:
        _set(user, value, must_change=True)
        session.add(
            AuditLog(
                object_type="user",
                object_id=user.id,
                trigger="reset_password",
                actor_user_id=admin_actor.user_id,
                actor_org_id=admin_actor.org_id,
                comment=admin.full_name if admin is not None else "",
            )
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return value


# -- forgotten password ---------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password or "").encode()).hexdigest()[:32]


def make_reset_token(user: User) -> str:
    """A signed token naming the user and its current password hash: single use, time-limited."""
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_token(session, token: str) -> Optional[User]:
    """The user of a valid, unexpired, unused token, else None."""
    max_age = int(current_app.config.get("CE_PASSWORD_RESET_MAX_AGE", 3600))
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = session.get(User, data.get("u"))
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        return None
    return user


def find_for_reset(session, id_number: str, contact: str) -> Optional[User]:
    """The user whose ID number and registered email or mobile both match, else None."""
    user = find_user(session, id_number)
    contact = (contact or "").strip()
    if user is None or not contact or not user.active:
        return None
    email = (user.email or "").strip().lower()
    if contact.lower() == email or contact == (user.mobile or "").strip():
        return user
    return None


def reset_with_token(session, token: str, new: str, confirm: str) -> User:
    """Set a new password through a reset token; raises ``PasswordError`` (``token`` key when invalid)."""
    user = user_for_token(session, token)
    if user is None:
        raise PasswordError({"token": [_l("This reset link is invalid or has expired.")]})
    errors = _check_new(user, new, confirm)
    if errors:
        raise PasswordError(errors)
    _commit_new_password(session, user, new)
    return user


__all__ = [
    "MESSAGES",
    "PasswordError",
    "admin_reset",
    "change_password",
    "find_for_reset",
    "make_reset_token",
    "reset_with_token",
    "user_for_token",
    "validate_password",
]
