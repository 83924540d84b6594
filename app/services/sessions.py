"""Ending a user's sessions and API tokens everywhere (logout, password change, disable, reset)."""

from __future__ import annotations

from ..models import User


def end_sessions(user: User) -> None:
    """Make every session cookie and API token of ``user`` issued so far invalid.

    Bumps ``user.session_epoch``; the caller commits (in the same transaction as the change that
    required it). Requests carrying an older epoch are treated as logged out (see ``app.acting``).
    """
    user.session_epoch = (user.session_epoch or 0) + 1
