"""Capacity login: who may log in as what, with the distinct outcomes of SPEC §2."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ..capacities import ORG_CAPACITIES, PERSON, SYSADMIN
from ..models import Membership, Organization, User
from ..models.common import APPROVED, PENDING, REJECTED
from .scope import Actor


class LoginError(Exception):
    """A refused login. ``code`` is stable for callers and tests; ``message`` is translatable."""

    def __init__(self, code: str, message, reviewer: Optional[str] = None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.reviewer = reviewer


MESSAGES = {
    "no_account": _l("This account does not exist. Please register first."),
    "bad_password": _l("Wrong account or password."),
    "pending": _l("This account has not been reviewed yet. Reviewing organisation: %(org)s"),
    "rejected": _l("Your registration was rejected by %(org)s. Please register again."),
    "wrong_capacity": _l("The login role you selected is not registered."),
    "no_role": _l("No role has been assigned to this account. Please contact your administrator."),
    "disabled": _l("This account has been disabled."),
    "bad_captcha": _l("Wrong captcha."),
    "bad_code": _l("Wrong or already used authentication code."),
    "locked": _l("Too many failed attempts. This account is locked for %(minutes)s minutes."),
    "deregistered": _l("This professional account has been deregistered and can no longer sign in."),
    "org_deregistered": _l("This organisation has been deregistered; its administrators can no longer sign in to it."),
}
# Professional.status / Organization.status after an approved deregistration (workflows/deregistration.py).
DEREGISTERED = "deregistered"


def find_user(session, id_number: str) -> Optional[User]:
    """The user whose ID number matches (case-insensitive trailing X), or None."""
    key = (id_number or "").strip().upper()
    if not key:
        return None
    return session.execute(select(User).where(func.upper(User.id_number) == key)).scalar_one_or_none()


def _utcnow() -> datetime:
    """Naive UTC now (the column is a naive DateTime); tests may monkeypatch this."""
    return datetime.utcnow()


def _lockout_settings() -> tuple[int, int]:
    cfg = current_app.config
    return int(cfg.get("CE_LOCKOUT_ATTEMPTS", 5)), int(cfg.get("CE_LOCKOUT_MINUTES", 15))


def _locked_error() -> LoginError:
    return LoginError("locked", MESSAGES["locked"])


def is_locked(user: User) -> bool:
    """True while ``user`` is locked out (refused whatever the password or code)."""
    return user.locked_until is not None and user.locked_until > _utcnow()


def register_failure(session, user: User, capacity: Optional[str] = None) -> bool:
    """Count one failed authentication step (password or second factor) and commit.

    Locks the account for ``CE_LOCKOUT_MINUTES`` at ``CE_LOCKOUT_ATTEMPTS`` failures (an expired
    lock starts a fresh count) and writes a ``lockout`` audit row then. Returns True when this
    failure locked the account.
    """
    attempts, minutes = _lockout_settings()
    now = _utcnow()
    if user.locked_until is not None:  # an expired lock: a fresh count
        user.fail_login_count = 0
        user.locked_until = None
    user.fail_login_count = (user.fail_login_count or 0) + 1
    locked = attempts > 0 and user.fail_login_count >= attempts
    if locked:
        user.locked_until = now + timedelta(minutes=minutes)
        record_login(session, "lockout", user, capacity)
    session.commit()
    return locked


def clear_failures(session, user: User) -> None:
    """Reset the failure count after a successful step (committed only when something changed)."""
    if user.fail_login_count or user.locked_until is not None:
        user.fail_login_count = 0
        user.locked_until = None
        session.commit()


def record_login(session, trigger: str, user: Optional[User], capacity: Optional[str], *, reason: Optional[str] = None,
                 id_number: Optional[str] = None, org_id: Optional[int] = None) -> None:
    """Add a login audit row (``login``, ``login_failed``, ``lockout``, ``logout``; object type "user").

    Never the password; the typed ID number only when it matched no user, and then masked.
    Not committed: written with the caller's transaction.
    """
    from .audit_trail import record_event
    from .masking import mask_id_number

    from flask_babel import gettext

    from ..capacities import LABELS

    parts = []
    if capacity:
        parts.append(gettext("User type") + ": " + str(LABELS.get(capacity, capacity)))
    if reason:
        text = str(MESSAGES[reason]) if reason in MESSAGES else reason
        if "%(" in text:
            text = text % {"org": "", "minutes": _lockout_settings()[1]}
        parts.append(gettext("Reason") + ": " + text)
    if user is None and id_number:
        parts.append(gettext("ID number") + ": " + mask_id_number(id_number.strip()[:32]))
    record_event(
        trigger,
        object_type="user",
        object_id=user.id if user is not None else 0,
        user_id=user.id if user is not None else None,
        org_id=org_id,
        comment="; ".join(parts) or None,
        session=session,
    )


def _status_error(status: str, reviewer: Optional[Organization]):
    name = reviewer.name if reviewer is not None else ""
    if status == PENDING:
        return LoginError("pending", MESSAGES["pending"], reviewer=name)
    if status == REJECTED:
        return LoginError("rejected", MESSAGES["rejected"], reviewer=name)
    if status == DEREGISTERED:
        return LoginError("deregistered", MESSAGES["deregistered"])
    return LoginError("disabled", MESSAGES["disabled"])


def authenticate(session, capacity: str, id_number: str, password: str, org_id: Optional[int] = None) -> tuple[User, Actor]:
    """Check a login attempt and return the user with the actor it will act as.

    Raises ``LoginError`` with one of the codes of ``MESSAGES``; never reveals the review status
    of an account to someone who does not know its password. Every refusal writes a
    ``login_failed`` audit row (committed); the caller records the successful ``login`` once the
    session is really established (after the second factor, when the user has one).
    """
    user = find_user(session, id_number)
    try:
        actor = _check(session, user, capacity, password, org_id)
    except LoginError as exc:
        record_login(session, "login_failed", user, capacity, reason=exc.code, id_number=id_number)
        session.commit()
        raise
    return user, actor


def _check(session, user: Optional[User], capacity: str, password: str, org_id: Optional[int]) -> Actor:
    if user is None:
        raise LoginError("no_account", MESSAGES["no_account"])
    if is_locked(user):
        # Refused whatever the password: a locked account never tells whether it was right.
        raise _locked_error()
    if not user.password or not check_password_hash(user.password, password or ""):
        if register_failure(session, user, capacity):
            raise _locked_error()
        raise LoginError("bad_password", MESSAGES["bad_password"])
    clear_failures(session, user)
    if not user.active:
        raise LoginError("disabled", MESSAGES["disabled"])
    from .passwords import MESSAGES as PASSWORD_MESSAGES, one_time_password_expired  # passwords imports this module

    if one_time_password_expired(user):
        raise LoginError("otp_expired", PASSWORD_MESSAGES["otp_expired"])

    if capacity == PERSON:
        person = user.professional
        if person is None:
            raise LoginError("wrong_capacity", MESSAGES["wrong_capacity"])
        if person.status != APPROVED:
            raise _status_error(person.status, person.org)
        return Actor(user_id=user.id, capacity=PERSON, org_id=person.org_id, person_id=person.id)

    if capacity == SYSADMIN:
        if not user.is_sysadmin:
            raise LoginError("wrong_capacity", MESSAGES["wrong_capacity"])
        return Actor(user_id=user.id, capacity=SYSADMIN)

    if capacity not in ORG_CAPACITIES:
        raise LoginError("wrong_capacity", MESSAGES["wrong_capacity"])
    memberships = [m for m in user.memberships if m.org is not None and m.org.kind == capacity]
    if not memberships:
        raise LoginError("wrong_capacity", MESSAGES["wrong_capacity"])
    usable = [m for m in memberships if m.status == APPROVED and m.org.status == APPROVED]
    if not usable:
        first = memberships[0]
        if first.org.status == DEREGISTERED:
            raise LoginError("org_deregistered", MESSAGES["org_deregistered"])
        status = first.org.status if first.org.status != APPROVED else first.status
        raise _status_error(status, first.org.parent)
    # An ordinary admin acts only through the roles its super admin gave it (角色管理).
    enabled = [m for m in usable if m.enabled and (m.is_super or m.roles)]
    if not enabled:
        raise LoginError("no_role", MESSAGES["no_role"])
    chosen = next((m for m in enabled if m.org_id == org_id), enabled[0])
    return actor_for_membership(chosen)


def actor_for_membership(membership: Membership) -> Actor:
    """The actor of an organisation admin acting through ``membership``."""
    return Actor(
        user_id=membership.user_id,
        capacity=membership.org.kind,
        org_id=membership.org_id,
        org_path=membership.org.path,
        membership_id=membership.id,
    )


def available_capacities(user: User) -> list[tuple[str, Optional[Membership]]]:
    """Every (capacity, membership) the user may currently act as, for the switch page."""
    out: list[tuple[str, Optional[Membership]]] = []
    person = user.professional
    if person is not None and person.status == APPROVED:
        out.append((PERSON, None))
    for m in user.memberships:
        if m.enabled and (m.is_super or m.roles) and m.status == APPROVED and m.org is not None and m.org.status == APPROVED:
            out.append((m.org.kind, m))
    if user.is_sysadmin:
        out.append((SYSADMIN, None))
    return out
