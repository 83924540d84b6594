"""Organisation admins (管理员管理) and sub-unit management (下级单位), SPEC §3.

Every command takes the acting admin explicitly, validates everything first (raising ``AdminError``
with translatable messages, nothing written), then writes in one transaction with an audit row.
Only the super admin (超级管理员) of an organisation manages its own admins and roles; sub-units are
managed by any organisation above them (its scope), through the sub-unit pages.

An existing user from elsewhere is never made an admin directly: the super admin sends an
invitation (``AdminInvitation``) that grants nothing until the invited user, logged in, accepts it
(issue 10: adding anyone by ID number and name put them within reach of the password reset).
A new admin account gets a random one-time password, shown once to the super admin.
"""

from __future__ import annotations

import secrets
from typing import Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..models import AdminInvitation, AuditLog, Membership, Organization, OrgRole, Professional, User
from ..models.common import APPROVED, utcnow
from .audit_trail import record_event
from .auth import find_user
from .passwords import mail_one_time_password, set_one_time_password
from .scope import Actor, like_prefix

# AdminInvitation.status values.
INVITED = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"
WITHDRAWN = "withdrawn"

MESSAGES = {
    "not_super": _l("Only the super administrator of this organisation can manage administrators and roles."),
    "not_found": _l("This administrator does not belong to your organisation."),
    "no_user": _l("No account matches this ID number and name."),
    "already": _l("This person is already an administrator of this organisation."),
    "professional": _l("Choose one of your unit's approved professionals."),
    "self_super": _l("You are already the super administrator."),
    "target_state": _l("Only an enabled, approved administrator can become the super administrator."),
    "super_locked": _l("The super administrator cannot be disabled or removed: make another administrator super administrator first."),
    "role": _l("Choose roles of your own organisation only."),
    "subunit": _l("This organisation is not one of your sub-units."),
    "subunit_admin": _l("This administrator does not belong to one of your sub-units."),
    "subunit_super": _l("The super administrator of a sub-unit cannot be removed."),
    "nothing": _l("No administrator selected."),
    "sysadmin": _l("A system administrator cannot become an administrator of an organisation."),
    "invited": _l("This person has already been invited; the invitation is waiting for their answer."),
    "invitation": _l("This invitation does not exist or has already been answered."),
    "org_closed": _l("This organisation can no longer take new administrators."),
}


class AdminError(Exception):
    """A refused command. ``message`` is translatable; ``errors`` maps form fields to messages."""

    def __init__(self, message=None, errors: Optional[dict] = None):
        super().__init__(str(message or ""))
        self.message = message
        self.errors = errors or {}


def _audit(session, actor: Actor, object_type: str, object_id: int, trigger: str, comment: str = "") -> None:
    session.add(
        AuditLog(
            object_type=object_type,
            object_id=object_id,
            trigger=trigger,
            actor_user_id=actor.user_id,
            actor_org_id=actor.org_id,
            comment=comment or None,
        )
    )


def _commit(session) -> None:
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


# -- who may manage ------------------------------------------------------------------------------


def is_super(session, actor: Optional[Actor]) -> bool:
    """True when ``actor`` acts through an enabled super-admin membership of its organisation."""
    if actor is None or not actor.membership_id:
        return False
    m = session.get(Membership, actor.membership_id)
    return m is not None and m.is_super and m.enabled and m.org_id == actor.org_id


def require_super(session, actor: Optional[Actor]) -> Membership:
    """The actor's super-admin membership; raises ``AdminError`` (not_super) for anyone else."""
    if not is_super(session, actor):
        raise AdminError(MESSAGES["not_super"])
    return session.get(Membership, actor.membership_id)


def own_admins(session, actor: Actor) -> list[Membership]:
    """The admins of the actor's own organisation, super admin first."""
    return list(
        session.execute(
            select(Membership)
            .where(Membership.org_id == actor.org_id)
            .order_by(Membership.is_super.desc(), Membership.id)
        ).scalars()
    )


def _own(session, actor: Actor, membership_id) -> Membership:
    try:
        m = session.get(Membership, int(membership_id))
    except (TypeError, ValueError):
        m = None
    if m is None or m.org_id != actor.org_id:
        raise AdminError(MESSAGES["not_found"])
    return m


def _own_roles(session, actor: Actor, org_role_ids: Iterable) -> list[OrgRole]:
    ids = set()
    for value in org_role_ids or ():
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise AdminError(MESSAGES["role"], {"roles": MESSAGES["role"]}) from None
    if not ids:
        return []
    roles = list(session.execute(select(OrgRole).where(OrgRole.id.in_(ids), OrgRole.org_id == actor.org_id)).scalars())
    if len(roles) != len(ids):
        raise AdminError(MESSAGES["role"], {"roles": MESSAGES["role"]})
    return roles


def _new_membership(session, actor: Actor, user: User, roles: list[OrgRole], how: str) -> Membership:
    m = Membership(user=user, org_id=actor.org_id, is_super=False, status=APPROVED, enabled=True)
    m.roles = [r.role for r in roles]
    session.add(m)
    session.flush()
    _audit(session, actor, "membership", m.id, "add_admin", f"{how}: {user.full_name}")
    return m


def _already(session, actor: Actor, user: Optional[User]) -> bool:
    return user is not None and session.execute(
        select(Membership.id).where(Membership.user_id == user.id, Membership.org_id == actor.org_id)
    ).first() is not None


# -- adding admins -------------------------------------------------------------------------------


def invite_existing_user(session, actor: Actor, id_number: str, name: str, org_role_ids=()) -> AdminInvitation:
    """Invite an existing user (ID number and name must both match) to become an admin of the
    actor's organisation.

    Guarantees: only the super admin may invite; never a system administrator; the invitation
    grants nothing (no membership, no login capacity, no reach for password resets) until the
    invited user accepts it (``accept_invitation``); only the organisation's own roles are noted
    for it; audited; nothing written on any error.
    """
    require_super(session, actor)
    errors = {}
    user = find_user(session, id_number)
    invitation = None
    if user is None or user.full_name != (name or "").strip():
        errors["id_number"] = MESSAGES["no_user"]
    elif user.is_sysadmin:
        errors["id_number"] = MESSAGES["sysadmin"]
    elif _already(session, actor, user):
        errors["id_number"] = MESSAGES["already"]
    else:
        invitation = session.execute(
            select(AdminInvitation).where(AdminInvitation.user_id == user.id, AdminInvitation.org_id == actor.org_id)
        ).scalar_one_or_none()
        if invitation is not None and invitation.status == INVITED:
            errors["id_number"] = MESSAGES["invited"]
    roles = _own_roles(session, actor, org_role_ids)
    if errors:
        raise AdminError(next(iter(errors.values())), errors)
    if invitation is None:  # one row per user and organisation: an answered one is renewed
        invitation = AdminInvitation(user_id=user.id, org_id=actor.org_id)
        session.add(invitation)
    invitation.status = INVITED
    invitation.role_ids = [r.id for r in roles]
    invitation.invited_by_id = actor.user_id
    invitation.created = utcnow()
    invitation.decided_at = None
    session.flush()
    _audit(session, actor, "admin_invitation", invitation.id, "invite_admin", user.full_name)
    _commit(session)
    return invitation


def _waiting(condition):
    """SELECT of the invitations matching ``condition`` still waiting for an answer."""
    return select(AdminInvitation).where(condition, AdminInvitation.status == INVITED)


def pending_invitations(session, actor: Actor) -> list[AdminInvitation]:
    """The actor's organisation's invitations still waiting for an answer, oldest first."""
    stmt = _waiting(AdminInvitation.org_id == actor.org_id).order_by(AdminInvitation.id)
    return list(session.execute(stmt).scalars())


def withdraw_invitation(session, actor: Actor, invitation_id) -> AdminInvitation:
    """The super admin withdraws a pending invitation of its organisation; audited."""
    require_super(session, actor)
    inv = _invitation(session, invitation_id)
    if inv is None or inv.org_id != actor.org_id or inv.status != INVITED:
        raise AdminError(MESSAGES["invitation"])
    inv.status = WITHDRAWN
    inv.decided_at = utcnow()
    _audit(session, actor, "admin_invitation", inv.id, "withdraw_invitation", inv.user.full_name if inv.user else "")
    _commit(session)
    return inv


def _invitation(session, invitation_id) -> Optional[AdminInvitation]:
    try:
        return session.get(AdminInvitation, int(invitation_id))
    except (TypeError, ValueError):
        return None


def my_invitations(session, actor: Actor) -> list[AdminInvitation]:
    """The pending invitations addressed to the logged-in user (whatever capacity it acts in)."""
    stmt = _waiting(AdminInvitation.user_id == actor.user_id).order_by(AdminInvitation.id)
    return list(session.execute(stmt).scalars())


def count_my_invitations(session, actor: Actor) -> int:
    """How many invitations addressed to the logged-in user wait for an answer (the home-page notice)."""
    stmt = _waiting(AdminInvitation.user_id == actor.user_id).with_only_columns(func.count())
    return session.execute(stmt).scalar_one()


def _my_pending(session, actor: Optional[Actor], invitation_id) -> AdminInvitation:
    inv = _invitation(session, invitation_id)
    if actor is None or inv is None or inv.user_id != actor.user_id or inv.status != INVITED:
        raise AdminError(MESSAGES["invitation"])
    return inv


def accept_invitation(session, actor: Actor, invitation_id) -> Membership:
    """The invited user (``actor.user_id``) accepts: it becomes an approved, enabled, ordinary admin
    of the organisation with the invitation's roles that still exist.

    Guarantees: only the invited user itself can accept, once; never a system administrator; not
    for an organisation that is no longer approved; audited; nothing written on any error.
    """
    inv = _my_pending(session, actor, invitation_id)
    user = session.get(User, actor.user_id)
    if user is None or user.is_sysadmin:
        raise AdminError(MESSAGES["sysadmin"])
    if inv.org is None or inv.org.status != APPROVED:
        raise AdminError(MESSAGES["org_closed"])
    if session.execute(select(Membership.id).where(Membership.user_id == user.id, Membership.org_id == inv.org_id)).first():
        raise AdminError(MESSAGES["already"])
    ids = [int(i) for i in (inv.role_ids or []) if str(i).isdigit()]
    roles = (
        list(session.execute(select(OrgRole).where(OrgRole.id.in_(ids), OrgRole.org_id == inv.org_id)).scalars()) if ids else []
    )
    m = Membership(user=user, org_id=inv.org_id, is_super=False, status=APPROVED, enabled=True)
    session.add(m)
    m.roles = [r.role for r in roles]
    inv.status = ACCEPTED
    inv.decided_at = utcnow()
    session.flush()
    record_event("accept_invitation", object_type="membership", object_id=m.id, user_id=user.id, org_id=inv.org_id, session=session)
    _commit(session)
    return m


def decline_invitation(session, actor: Actor, invitation_id) -> AdminInvitation:
    """The invited user declines: nothing is granted; audited. Only the invited user itself can."""
    inv = _my_pending(session, actor, invitation_id)
    inv.status = DECLINED
    inv.decided_at = utcnow()
    record_event("decline_invitation", object_type="admin_invitation", object_id=inv.id, user_id=actor.user_id, org_id=inv.org_id, session=session)
    _commit(session)
    return inv


def add_new_user(session, actor: Actor, data: dict, org_role_ids=()) -> tuple[Membership, str]:
    """Create a user (ID number validated as in registration) and make it an admin.

    Returns the membership and the account's random one-time password, to be shown once to the
    creating super admin (mailed to the new admin where mail is configured). As after an admin
    reset it expires after 72 hours and must be changed at the first login. Guarantees otherwise
    as ``invite_existing_user``; nothing written on any error.
    """
    from .registration import E, _check_id, _check_mobile_email, _check_name, _fill_user, _find_user

    require_super(session, actor)
    errors: dict = {}
    idn = _check_id(errors, data)
    if "id_number" not in errors and _find_user(idn) is not None:
        errors["id_number"] = E["id_taken"]
    name = _check_name(errors, data)
    mobile, email = _check_mobile_email(errors, data)
    roles = _own_roles(session, actor, org_role_ids)
    if errors:
        raise AdminError(next(iter(errors.values())), errors)
    user = User()
    session.add(user)
    # _fill_user hashes a password: a random throw-away one, replaced at once by the one-time password.
    _fill_user(user, idn, name, secrets.token_urlsafe(24), mobile, email, (data.get("phone") or "").strip()[:32])
    value = set_one_time_password(user)
    session.flush()
    m = _new_membership(session, actor, user, roles, "new")
    _commit(session)
    mail_one_time_password(user, value)
    return m, value


def own_professionals(session, actor: Actor, q: str = "", limit: int = 20, full_id: bool = False) -> list[Professional]:
    """Approved professionals of the actor's own unit matching ``q``: a part of the name, or the ID number.

    The ID number matches by prefix only when ``full_id`` (the actor may see full ID numbers);
    otherwise only the exact full number matches, so a masked list cannot be undone digit by digit.
    """
    stmt = select(Professional).where(Professional.org_id == actor.org_id, Professional.status == APPROVED)
    q = (q or "").strip()
    if q:
        id_match = (
            func.upper(Professional.id_number).startswith(q.upper(), autoescape=True)
            if full_id
            else func.upper(Professional.id_number) == q.upper()
        )
        stmt = stmt.where(Professional.name.contains(q, autoescape=True) | id_match)
    return list(session.execute(stmt.order_by(Professional.name, Professional.id).limit(limit)).scalars())


def add_professional(session, actor: Actor, professional_id, org_role_ids=()) -> Membership:
    """Make one of the unit's own approved professionals an admin (they are already the unit's own people,
    so no invitation). Guarantees: only the super admin; own roles only; audited; nothing written on error."""
    require_super(session, actor)
    errors = {}
    try:
        person = session.get(Professional, int(professional_id))
    except (TypeError, ValueError):
        person = None
    if person is None or person.org_id != actor.org_id or person.status != APPROVED or person.user is None:
        errors["professional"] = MESSAGES["professional"]
    elif _already(session, actor, person.user):
        errors["professional"] = MESSAGES["already"]
    roles = _own_roles(session, actor, org_role_ids)
    if errors:
        raise AdminError(next(iter(errors.values())), errors)
    m = _new_membership(session, actor, person.user, roles, "professional")
    _commit(session)
    return m


# -- managing admins -----------------------------------------------------------------------------


def set_super(session, actor: Actor, membership_id) -> Membership:
    """Hand the super-admin right to another admin of the organisation.

    Guarantees: afterwards exactly one super admin (the target) remains; the previous one keeps an
    ordinary admin membership (with its roles); audited; refused for anyone but the super admin.
    """
    mine = require_super(session, actor)
    target = _own(session, actor, membership_id)
    if target.id == mine.id:
        raise AdminError(MESSAGES["self_super"])
    if not target.enabled or target.status != APPROVED:
        raise AdminError(MESSAGES["target_state"])
    for m in session.execute(select(Membership).where(Membership.org_id == actor.org_id, Membership.is_super.is_(True))).scalars():
        m.is_super = False
    target.is_super = True
    _audit(session, actor, "membership", target.id, "set_super", target.user.full_name if target.user else "")
    _commit(session)
    return target


def _many(session, actor: Actor, membership_ids) -> list[Membership]:
    ids = list(dict.fromkeys(membership_ids or ()))
    if not ids:
        raise AdminError(MESSAGES["nothing"])
    items = [_own(session, actor, pk) for pk in ids]
    if any(m.is_super for m in items):
        raise AdminError(MESSAGES["super_locked"])
    return items


def set_enabled(session, actor: Actor, membership_ids, enabled: bool) -> int:
    """Enable or disable admins of the organisation (never the super admin); all or none; audited."""
    require_super(session, actor)
    items = _many(session, actor, membership_ids)
    for m in items:
        m.enabled = bool(enabled)
        _audit(session, actor, "membership", m.id, "enable" if enabled else "disable")
    _commit(session)
    return len(items)


def remove_admins(session, actor: Actor, membership_ids) -> int:
    """Remove admin rights (delete the memberships; the user account stays); never the super admin."""
    require_super(session, actor)
    items = _many(session, actor, membership_ids)
    for m in items:
        _audit(session, actor, "membership", m.id, "remove_admin", m.user.full_name if m.user else "")
        session.delete(m)
    _commit(session)
    return len(items)


def set_roles(session, actor: Actor, membership_id, org_role_ids) -> Membership:
    """Replace an admin's roles with the given roles of the organisation (only its own); audited.

    The new permissions apply from the admin's next request (they are read per request).
    """
    require_super(session, actor)
    m = _own(session, actor, membership_id)
    roles = _own_roles(session, actor, org_role_ids)
    # Roles not managed here (e.g. granted by a system administrator) are kept.
    custom = set(session.execute(select(OrgRole.role_id)).scalars())
    m.roles = [r for r in m.roles if r.id not in custom] + [r.role for r in roles]
    _audit(session, actor, "membership", m.id, "set_roles", "，".join(r.name for r in roles))
    _commit(session)
    return m


def roles_of(session, membership: Membership) -> list[OrgRole]:
    """The organisation's custom roles assigned to ``membership``."""
    ids = [r.id for r in membership.roles]
    if not ids:
        return []
    return list(session.execute(select(OrgRole).where(OrgRole.role_id.in_(ids)).order_by(OrgRole.name)).scalars())


# -- sub-units ------------------------------------------------------------------------------------


def subunits_query(actor: Actor, q: str = ""):
    """SELECT of the organisations strictly below the actor's organisation, optionally by name."""
    stmt = select(Organization).where(
        Organization.path.like(like_prefix(actor.org_path or "/-/"), escape="\\"), Organization.id != actor.org_id
    )
    q = (q or "").strip()
    if q:
        stmt = stmt.where(Organization.name.contains(q, autoescape=True))
    return stmt.order_by(Organization.path)


def subunit(session, actor: Optional[Actor], org_id) -> Organization:
    """The organisation ``org_id`` if it lies strictly below the actor's organisation, else ``AdminError``."""
    try:
        org = session.get(Organization, int(org_id))
    except (TypeError, ValueError):
        org = None
    if (
        actor is None
        or org is None
        or org.id == actor.org_id
        or not actor.org_path
        or not (org.path or "").startswith(actor.org_path)
    ):
        raise AdminError(MESSAGES["subunit"])
    return org


def remove_subunit_admin(session, actor: Actor, membership_id) -> Membership:
    """Remove the admin rights of an admin of a sub-unit (not its super admin); audited.

    Guarantees: the membership must belong to an organisation strictly below the actor's; nothing
    changes otherwise.
    """
    try:
        m = session.get(Membership, int(membership_id))
    except (TypeError, ValueError):
        m = None
    if m is None:
        raise AdminError(MESSAGES["subunit_admin"])
    try:
        subunit(session, actor, m.org_id)
    except AdminError:
        raise AdminError(MESSAGES["subunit_admin"]) from None
    if m.is_super:
        raise AdminError(MESSAGES["subunit_super"])
    _audit(session, actor, "membership", m.id, "remove_admin", m.user.full_name if m.user else "")
    session.delete(m)
    _commit(session)
    return m


def set_review_closed(session, actor: Actor, org_id, closed: bool) -> Organization:
    """Close (关闭审核权限) or reopen a sub-unit's hours-review right; only from above; audited."""
    org = subunit(session, actor, org_id)
    org.review_closed = bool(closed)
    _audit(session, actor, "organization", org.id, "close_review" if closed else "open_review", org.name)
    _commit(session)
    return org
