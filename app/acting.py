"""The acting capacity of the current request: read from the session (or, for a request authenticated
by a bearer token, from the token's verified claims), checked against the database."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Optional

from flask import current_app, g, has_request_context, session
from flask_login import current_user

from .capacities import PERSON, SYSADMIN
from .services.scope import Actor

SESSION_KEYS = ("ce_capacity", "ce_membership_id")
# Signed-session stamps of a login: the user's session epoch, when it began and when it was last used.
STAMP_KEYS = ("ce_epoch", "ce_login_at", "ce_seen_at")
# Flask-Login's own keys: dropped when a session is no longer current.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember")
# Password and captcha passed, second factor awaited (never an authenticated session).
PENDING_KEY = "ce_2fa"
# The last-used stamp is rewritten at most this often (seconds), to spare a new cookie per request.
SEEN_RESOLUTION = 15


def _now() -> int:
    return int(time.time())


def start_session(user, actor: Actor) -> None:
    """Stamp a just-authenticated session (call right after ``login_user``) and remember the actor.

    The stamps are the user's current ``session_epoch`` (see ``services.sessions.end_sessions``),
    the login time (absolute lifetime) and the last-use time (idle timeout).
    """
    now = _now()
    session["ce_epoch"] = user.session_epoch or 0
    session["ce_login_at"] = now
    session["ce_seen_at"] = now
    remember(actor)


def keep_current_session(user) -> None:
    """After ``end_sessions(user)`` by the user themself (password change, 2FA change), keep this one
    session: it takes the new epoch while every other cookie and token of the user stays ended."""
    if has_request_context() and "ce_epoch" in session:
        session["ce_epoch"] = user.session_epoch or 0


def _limits() -> tuple[int, int]:
    cfg = current_app.config
    return int(cfg.get("CE_SESSION_IDLE_MINUTES", 30)) * 60, int(cfg.get("CE_SESSION_MAX_HOURS", 12)) * 3600


def session_is_current(user) -> bool:
    """True when the signed session still authenticates ``user``: same epoch, not idle longer than
    ``CE_SESSION_IDLE_MINUTES``, not older than ``CE_SESSION_MAX_HOURS``. Refreshes the last-use stamp."""
    epoch, login_at, seen_at = (session.get(k) for k in STAMP_KEYS)
    if not isinstance(epoch, int) or epoch != (user.session_epoch or 0):
        return False
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False
    idle, lifetime = _limits()
    now = _now()
    if now - seen_at > idle or now - login_at > lifetime:
        return False
    if now - seen_at >= SEEN_RESOLUTION:
        session["ce_seen_at"] = now
    return True


def drop_login() -> None:
    """Forget the login of this session (an ended or expired one), keeping e.g. its CSRF token."""
    for key in LOGIN_KEYS + SESSION_KEYS + STAMP_KEYS + (PENDING_KEY,):
        session.pop(key, None)
    for key in ("ce_actor", "ce_roles", "ce_perms"):
        g.pop(key, None)


def token_is_current(user, claims: dict) -> bool:
    """True when a verified JWT may still act for ``user``: active, same session epoch as when it was
    issued, and no forced password change pending."""
    return bool(
        user is not None
        and user.active
        and not user.must_change_password
        and claims.get("ce_epoch") == (user.session_epoch or 0)
    )


def begin_second_factor(user, actor: Actor, next_url: str) -> None:
    """Keep the user awaiting its second factor (``CE_TOTP_PENDING_SECONDS``, default 5 minutes)."""
    session[PENDING_KEY] = {
        "user_id": user.id,
        "epoch": user.session_epoch or 0,
        "until": _now() + int(current_app.config.get("CE_TOTP_PENDING_SECONDS", 300)),
        "actor": asdict(actor),
        "next": next_url,
    }


def pending_second_factor(user_loader) -> Optional[tuple]:
    """``(user, actor, next_url)`` awaiting the second factor, or None (none, expired or ended).

    ``user_loader(user_id)`` returns the user from the database.
    """
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("until"), int) or pending["until"] < _now():
        session.pop(PENDING_KEY, None)
        return None
    user = user_loader(pending.get("user_id"))
    if user is None or not user.active or pending.get("epoch") != (user.session_epoch or 0):
        session.pop(PENDING_KEY, None)
        return None
    try:
        actor = Actor(**pending["actor"])
    except (TypeError, KeyError):
        session.pop(PENDING_KEY, None)
        return None
    return user, actor, pending.get("next") or ""


def remember(actor: Actor) -> None:
    """Store the chosen capacity in the session (called right after a successful login)."""
    session["ce_capacity"] = actor.capacity
    session["ce_membership_id"] = actor.membership_id
    g.pop("ce_actor", None)
    g.pop("ce_roles", None)
    g.pop("ce_perms", None)


def forget() -> None:
    for key in SESSION_KEYS + STAMP_KEYS:
        session.pop(key, None)
    g.pop("ce_actor", None)
    g.pop("ce_roles", None)
    g.pop("ce_perms", None)


def _load() -> Optional[Actor]:
    from .extensions import db
    from .models import Membership, User
    from .services.auth import actor_for_membership

    claims = _bearer_claims()
    if claims is not None:
        # A REST request with a verified JWT: the capacity comes from the token, never the session.
        try:
            user_id = int(claims.get("sub"))
        except (TypeError, ValueError):
            return None
        capacity = claims.get("ce_capacity")
        membership_id = claims.get("ce_membership_id")
    else:
        if not current_user or not current_user.is_authenticated:
            return None
        user_id = current_user.id
        capacity = session.get("ce_capacity")
        membership_id = session.get("ce_membership_id")
    user = db.session.get(User, user_id)
    if user is None or not user.active or capacity is None:
        return None
    if claims is not None:
        if not token_is_current(user, claims):
            return None
    elif session.get("ce_epoch") != (user.session_epoch or 0):
        return None  # ended by logout, password change, disable or reset elsewhere
    if capacity == SYSADMIN:
        return Actor(user_id=user.id, capacity=SYSADMIN) if user.is_sysadmin else None
    if capacity == PERSON:
        person = user.professional
        if person is None or person.status != "approved":
            return None
        return Actor(user_id=user.id, capacity=PERSON, org_id=person.org_id, person_id=person.id)
    membership = db.session.get(Membership, membership_id or 0)
    if (
        membership is None
        or membership.user_id != user.id
        or not membership.enabled
        or membership.status != "approved"
        or membership.org.status != "approved"
        or membership.org.kind != capacity
    ):
        return None
    return actor_for_membership(membership)


def _bearer_claims() -> Optional[dict]:
    """The verified JWT claims when this request is authenticated by a bearer token, else None."""
    if not g.get("ce_bearer"):
        return None
    from flask_jwt_extended import get_jwt

    return get_jwt()


def current_actor() -> Optional[Actor]:
    """The actor of this request, or None outside a request or when nobody is logged in."""
    if not has_request_context():
        return None
    if "ce_actor" not in g:
        g.ce_actor = _load()
    return g.ce_actor


# Endpoints a user who must enrol a second factor may still open.
ENROL_ALLOWED = {
    "TotpView.setup",
    "CapacityLoginView.logout",
    "CapacityLoginView.login",
    "PasswordView.change",
    "CaptchaView.image",
    "LocaleView.index",
    "static",
    "appbuilder.static",
}


def require_second_factor():
    """before_request: acting in a capacity that requires TOTP (``CE_TOTP_REQUIRED``) without an
    enrolled second factor reaches only the enrolment page (the REST API answers 403)."""
    from flask import abort, redirect, request, url_for

    from .services import totp

    endpoint = request.endpoint
    if endpoint is None or endpoint in ENROL_ALLOWED or endpoint.endswith(".static"):
        return None
    if not current_app.config.get("CE_TOTP_REQUIRED", False):
        return None
    if not current_user or not current_user.is_authenticated:
        return None
    actor = current_actor()
    if actor is None or not totp.required_for(actor.capacity) or totp.is_enrolled(current_user):
        return None
    if request.path.startswith("/api/"):
        abort(403)
    return redirect(url_for("TotpView.setup"))
