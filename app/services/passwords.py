"""Password policy, change, admin reset and the forgotten-password token (SPEC §2, issue 3 item 6)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import string
from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import Membership, Organization, Professional, User
from ..models.common import APPROVED, utcnow
from .audit_trail import record_event
from .auth import find_user
from .mail import send_mail
from .scope import Actor
from .sessions import end_sessions

log = logging.getLogger(__name__)

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
    "otp_expired": _l(
        "This one-time password has expired (it was valid for 72 hours). Ask your administrator to reset "
        "your password again, or use Forgot password."
    ),
}

# Why an admin reset is refused (``reset_refusal``); shown to the admin who tried.
REFUSALS = {
    "not_admin": _l("Only an organisation administrator or the system administrator can reset passwords."),
    "self": _l("You cannot reset your own password here: use Change password."),
    "sysadmin": _l("The password of a system administrator cannot be reset here: the system administrator changes it on the Change password page."),
    "foreign": _l(
        "This account also belongs to an organisation outside your organisation and its sub-units; "
        "only the system administrator can reset its password."
    ),
    "own_admin": _l("Only the super administrator can reset the password of an administrator of your own organisation."),
    "not_reachable": _l(
        "You can reset the passwords of the professionals of your organisation and its sub-units and of "
        "the administrators of your sub-units only."
    ),
    "missing": _l("This account does not exist."),
}

#: One-time passwords (admin reset, new admin account): length, validity, alphabet. Letters and
#: digits only (the password policy) without look-alikes (0/O, 1/l/I) since they are read aloud.
ONE_TIME_LENGTH = 14
ONE_TIME_HOURS = 72
_ONE_TIME_LETTERS = "".join(c for c in string.ascii_letters if c not in "OolI")
_ONE_TIME_DIGITS = "23456789"


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
    user.temp_password_expires_at = None
    user.fail_login_count = 0
    user.locked_until = None


def _commit_new_password(session, user: User, new: str) -> None:
    """Write an already-validated new password in one transaction (rolled back on failure).

    Every session and API token of the user ends with it (the caller signs the user in again).
    """
    try:
        _set(user, new, must_change=False)
        end_sessions(user)
        record_event("change_password", object_type="user", object_id=user.id, user_id=user.id, session=session)
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


# -- one-time passwords and the admin reset ------------------------------------------------------


def one_time_password() -> str:
    """A fresh random password (``secrets``): ``ONE_TIME_LENGTH`` letters and digits, both present,
    so it satisfies the password policy; never derived from anything about the user."""
    alphabet = _ONE_TIME_LETTERS + _ONE_TIME_DIGITS
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(ONE_TIME_LENGTH))
        if any(c in _ONE_TIME_DIGITS for c in value) and any(c in _ONE_TIME_LETTERS for c in value):
            return value


def set_one_time_password(user: User, now: Optional[datetime] = None) -> str:
    """Give ``user`` a new one-time password (returned in clear, once) valid ``ONE_TIME_HOURS``,
    forcing a change at the next login and ending every session of the user. Not committed."""
    value = one_time_password()
    _set(user, value, must_change=True)
    user.temp_password_expires_at = (now or utcnow()) + timedelta(hours=ONE_TIME_HOURS)
    end_sessions(user)
    return value


def one_time_password_expired(user: User, now: Optional[datetime] = None) -> bool:
    """True when ``user``'s password is a one-time password whose validity has passed (the login
    must then be refused with ``MESSAGES["otp_expired"]``)."""
    expires = getattr(user, "temp_password_expires_at", None)
    return expires is not None and expires <= (now or utcnow())


def _in_subtree(org: Optional[Organization], actor: Actor) -> bool:
    return org is not None and bool(actor.org_path) and (org.path or "").startswith(actor.org_path)


def reset_refusal(session, actor: Optional[Actor], user: Optional[User]) -> Optional[str]:
    """Why ``actor`` may not reset ``user``'s password (a ``REFUSALS`` key), or None when it may.

    The rule (issue 10): a system administrator (capacity 系统管理员) may reset any account that is
    not a system administrator's. An organisation admin reaches only (a) professionals employed in
    its organisation's subtree and (b) approved admins of organisations strictly below its own; an
    admin of its own organisation only when the actor is that organisation's super admin. Never a
    system administrator, never itself (that is the change-password page), and never an account
    holding any membership (whatever its state) or a professional profile outside the subtree: such
    an account is reset by the system administrator.
    """
    if user is None:
        return "missing"
    if actor is None:
        return "not_admin"
    if user.id == actor.user_id:
        return "self"
    if user.is_sysadmin:
        return "sysadmin"
    if actor.is_global:
        return None
    if actor.is_person or not actor.membership_id or not actor.org_path:
        return "not_admin"
    mine = session.get(Membership, actor.membership_id)
    if mine is None or mine.user_id != actor.user_id or mine.org_id != actor.org_id:
        return "not_admin"
    memberships = list(session.execute(select(Membership).where(Membership.user_id == user.id)).scalars())
    person = session.execute(select(Professional).where(Professional.user_id == user.id)).scalar_one_or_none()
    if any(not _in_subtree(m.org, actor) for m in memberships):
        return "foreign"
    if person is not None and not _in_subtree(person.org, actor):
        return "foreign"
    own = [m for m in memberships if m.org_id == actor.org_id]
    if own and not mine.is_super:
        return "own_admin"
    reachable = (
        person is not None
        or any(m.status == APPROVED and m.org_id != actor.org_id for m in memberships)
        or any(m.status == APPROVED for m in own)
    )
    return None if reachable else "not_reachable"


def user_in_scope(session, actor: Actor, user_id: int) -> Optional[User]:
    """The user if ``actor`` may reset its password (see ``reset_refusal``), else None."""
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and reset_refusal(session, actor, user) is None else None


def mail_configured() -> bool:
    """True when real mail is set up (``MAIL_SERVER``): passwords are never written to the
    development outbox."""
    return bool(current_app.config.get("MAIL_SERVER"))


def mail_one_time_password(user: User, value: str) -> bool:
    """Mail ``value`` to ``user`` where mail is configured and the user has an address; True when sent.

    A failure is logged (without the password) and does not undo the reset: the admin has the
    password on screen.
    """
    if not user.email or not mail_configured():
        return False
    try:
        send_mail(
            user.email,
            _("Your one-time password"),
            _(
                "An administrator reset your password. Your one-time password is:\n\n%(password)s\n\n"
                "It is valid for %(hours)s hours; you must set a new password when you sign in.",
                password=value,
                hours=ONE_TIME_HOURS,
            ),
        )
    except Exception:  # noqa: BLE001 - the reset stands; the admin hands the password over instead
        log.exception("one-time password mail to user %s failed", user.id)
        return False
    return True


def admin_reset(session, admin_actor: Actor, user: User) -> str:
    """Reset ``user``'s password to a random one-time password and return it (to be shown once).

    Guarantees: allowed only by ``reset_refusal``'s rule, otherwise ``LookupError`` whose argument is
    the translated reason, nothing written; the password expires after ``ONE_TIME_HOURS`` and must
    be changed at the next login; every session and API token of the user ends; audited
    (``reset_password``); mailed to the user where mail is configured.
    """
    reason = reset_refusal(session, admin_actor, user)
    if reason is not None:
        raise LookupError(str(REFUSALS[reason]))
    admin = session.get(User, admin_actor.user_id)
    try:
        value = set_one_time_password(user)
        record_event(
            "reset_password",
            object_type="user",
            object_id=user.id,
            actor=admin_actor,
            comment=admin.full_name if admin is not None else "",
            session=session,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    mail_one_time_password(user, value)
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
    "REFUSALS",
    "admin_reset",
    "change_password",
    "one_time_password",
    "one_time_password_expired",
    "reset_refusal",
    "set_one_time_password",
    "find_for_reset",
    "make_reset_token",
    "reset_with_token",
    "user_for_token",
    "validate_password",
]
