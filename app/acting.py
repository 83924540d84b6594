"""The acting capacity of the current request: read from the session (or, for a request authenticated
by a bearer token, from the token's verified claims), checked against the database."""

from __future__ import annotations

from typing import Optional

from flask import g, has_request_context, session
from flask_login import current_user

from .capacities import PERSON, SYSADMIN
from .services.scope import Actor

SESSION_KEYS = ("ce_capacity", "ce_membership_id")


def remember(actor: Actor) -> None:
    """Store the chosen capacity in the session (called right after a successful login)."""
    session["ce_capacity"] = actor.capacity
    session["ce_membership_id"] = actor.membership_id
    g.pop("ce_actor", None)
    g.pop("ce_roles", None)
    g.pop("ce_perms", None)


def forget() -> None:
    for key in SESSION_KEYS:
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
