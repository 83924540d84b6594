"""用户管理: the system administrator's list of every account, and disable / enable / unlock /
password reset on it. Never on oneself, never on another system administrator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..capacities import LABELS, ROLE_NAMES, SYSADMIN
from ..models import Membership, OrgRole, Professional, User
from ..models.common import utcnow
from .audit_trail import record_event
from .scope import Actor, like_contains
from .sessions import end_sessions

PAGE_SIZE = 20
_ID_RE = re.compile(r"^(\d{17}[\dX]|\d{15})$")

MESSAGES = {
    "not_sysadmin": _l("Only the system administrator manages user accounts."),
    "missing": _l("This user does not exist."),
    "self": _l("You cannot do this to your own account: use the change-password page or ask another system administrator."),
    "sysadmin": _l("System administrators' accounts are not managed on this page: a system administrator changes only its own password, on the change-password page."),
}


class UserAdminError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class UserRow:
    """One account as the users list shows it."""

    user: User
    memberships: list = field(default_factory=list)  # [(Membership, capacity label, [role names])]
    professional: Professional | None = None
    locked: bool = False
    totp: bool | None = None  # None: the installation has no second factor column

    @property
    def manageable(self) -> bool:
        return not self.user.is_sysadmin


def _require_sysadmin(actor: Actor | None) -> None:
    if actor is None or actor.capacity != SYSADMIN:
        raise UserAdminError(MESSAGES["not_sysadmin"])


def _search_clause(q: str):
    q = (q or "").strip()
    if not q:
        return None
    idn = q.upper()
    if _ID_RE.match(idn):
        return User.id_number == idn  # exact only: no prefix probing of ID numbers
    full = func.coalesce(User.last_name, "").op("||")(func.coalesce(User.first_name, ""))
    return or_(full.like(like_contains(q), escape="\\"), User.email == q)


def search(session, actor: Actor, q: str = "", page: int = 0, page_size: int = PAGE_SIZE) -> tuple[int, list[UserRow]]:
    """(total, rows of one page) of every account matching ``q``: an ID number matches exactly,
    anything else the name (contains). System administrator only."""
    _require_sysadmin(actor)
    clause = _search_clause(q)
    stmt = select(User)
    count = select(func.count()).select_from(User)
    if clause is not None:
        stmt, count = stmt.where(clause), count.where(clause)
    total = session.execute(count).scalar_one()
    page = max(int(page or 0), 0)
    users = list(
        session.execute(
            stmt.options(selectinload(User.memberships).selectinload(Membership.org), selectinload(User.memberships).selectinload(Membership.roles))
            .order_by(User.id.desc())
            .offset(page * page_size)
            .limit(page_size)
        ).scalars()
    )
    return total, _rows(session, users)


def _rows(session, users: list[User]) -> list[UserRow]:
    ids = [u.id for u in users]
    if not ids:
        return []
    persons = {p.user_id: p for p in session.execute(select(Professional).where(Professional.user_id.in_(ids))).scalars()}
    role_ids = {r.id for u in users for m in u.memberships for r in m.roles}
    custom = {}
    if role_ids:
        custom = {o.role_id: o.name for o in session.execute(select(OrgRole).where(OrgRole.role_id.in_(role_ids))).scalars()}
    now = utcnow()
    has_totp = hasattr(User, "totp_secret")
    out = []
    for u in users:
        memberships = []
        for m in sorted(u.memberships, key=lambda m: m.id):
            kind = m.org.kind if m.org is not None else None
            roles = [custom.get(r.id, r.name) for r in m.roles]
            memberships.append((m, LABELS.get(kind, kind), roles))
        out.append(
            UserRow(
                user=u,
                memberships=memberships,
                professional=persons.get(u.id),
                locked=bool(u.locked_until and u.locked_until > now),
                totp=bool(getattr(u, "totp_secret", None)) if has_totp else None,
            )
        )
    return out


def base_role_label(capacity: str) -> str:
    """The base role of ``capacity`` by its (translated) capacity name."""
    return str(LABELS[capacity]) if capacity in ROLE_NAMES else capacity


def find_user(session, actor: Actor, user_id) -> User | None:
    """The account ``user_id`` (None when there is none). System administrator only."""
    _require_sysadmin(actor)
    try:
        return session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def refusal(actor: Actor, user: User):
    """Why ``actor`` may not act on ``user`` on this page (oneself, a system administrator), or None."""
    if user.id == actor.user_id:
        return MESSAGES["self"]
    if user.is_sysadmin:
        return MESSAGES["sysadmin"]
    return None


def _target(session, actor: Actor, user_id) -> User:
    user = find_user(session, actor, user_id)
    if user is None:
        raise UserAdminError(MESSAGES["missing"])
    refused = refusal(actor, user)
    if refused is not None:
        raise UserAdminError(refused)
    return user


def _commit(session, actor: Actor, user: User, trigger: str) -> None:
    try:
        record_event(trigger, object_type="user", object_id=user.id, actor=actor, session=session)
        session.commit()
    except Exception:
        session.rollback()
        raise


def disable(session, actor: Actor, user_id) -> User:
    """Disable the account (no login any more) and end every session and API token of it; audited."""
    user = _target(session, actor, user_id)
    user.active = False
    end_sessions(user)
    _commit(session, actor, user, "disable_user")
    return user


def enable(session, actor: Actor, user_id) -> User:
    """Enable a disabled account again; audited."""
    user = _target(session, actor, user_id)
    user.active = True
    _commit(session, actor, user, "enable_user")
    return user


def unlock(session, actor: Actor, user_id) -> User:
    """Lift a login lockout (failed-attempt count back to zero); audited."""
    user = _target(session, actor, user_id)
    user.locked_until = None
    user.fail_login_count = 0
    _commit(session, actor, user, "unlock_user")
    return user


def reset_password(session, actor: Actor, user_id) -> tuple[User, str]:
    """Reset the password through ``passwords.admin_reset`` (random one-time password, forced
    change, sessions ended, audited, mailed where configured); returns it to be shown once."""
    from . import passwords

    user = _target(session, actor, user_id)
    try:
        value = passwords.admin_reset(session, actor, user)
    except LookupError as exc:
        raise UserAdminError(str(exc.args[0]) if exc.args else MESSAGES["missing"]) from exc
    return user, value
