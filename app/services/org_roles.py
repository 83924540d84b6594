"""Custom organisation roles (角色管理): a role is a named set of permission modules.

A module is one menu item of the organisation kind's capacity (``views.menus.MENUS``), except the
admin and role management items themselves (those stay with the super admin). Each ``OrgRole`` is
backed by a FAB role whose permissions are derived from its modules by ``roles.item_permissions``,
the same function that derives the capacity's base role, so a role can never exceed its kind.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..models import Membership, Organization, OrgRole, membership_role
from ..views.menus import CATEGORY_LABELS, MENUS
from .admins import AdminError, _audit, _commit, require_super
from .scope import Actor

# Menu items a custom role can never hold: managing admins and roles is the super admin's.
EXCLUDED_MODULES = ("admins", "roles")
NAME_MAX = 40

MESSAGES = {
    "name": _l("Enter a role name of at most 40 characters."),
    "name_taken": _l("Your organisation already has a role with this name."),
    "modules": _l("Choose at least one permission module."),
    "module_kind": _l("This permission module is not available to your kind of organisation."),
    "not_found": _l("This role does not belong to your organisation."),
}


def modules_for(kind: str) -> list[tuple[str, object, object]]:
    """(module key, label, category label) a custom role of an organisation of ``kind`` may hold."""
    out = []
    for cat, items in MENUS.get(kind, ()):
        for key, label, _view, _letters in items:
            if key not in EXCLUDED_MODULES:
                out.append((key, label, CATEGORY_LABELS[cat]))
    return out


def fab_role_name(org_id: int, name: str) -> str:
    """The backing FAB role's globally unique name."""
    return f"org{org_id}:{name}"


def apply_permissions(sm, org_role: OrgRole, kind: str) -> None:
    """Give the backing FAB role exactly the permissions derived from the role's valid modules."""
    from .roles import item_permissions

    allowed = {key for key, _l_, _c in modules_for(kind)}
    keys = [k for k in (org_role.modules or []) if k in allowed]
    pvs = []
    for perm, view in sorted(item_permissions(sm, kind, set(keys))):
        pv = sm.find_permission_view_menu(perm, view)
        if pv is not None:
            pvs.append(pv)
    org_role.role.permissions = pvs


def _validate(session, actor: Actor, name: str, modules, exclude_id=None) -> tuple[str, list[str]]:
    org = session.get(Organization, actor.org_id)
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        errors["name"] = MESSAGES["name"]
    else:
        stmt = select(OrgRole.id).where(OrgRole.org_id == actor.org_id, OrgRole.name == name)
        if exclude_id is not None:
            stmt = stmt.where(OrgRole.id != exclude_id)
        if session.execute(stmt).first() is not None:
            errors["name"] = MESSAGES["name_taken"]
    allowed = [key for key, _l_, _c in modules_for(org.kind)]
    chosen = list(dict.fromkeys(str(m) for m in (modules or ())))
    if not chosen:
        errors["modules"] = MESSAGES["modules"]
    elif any(m not in allowed for m in chosen):
        errors["modules"] = MESSAGES["module_kind"]
    if errors:
        raise AdminError(next(iter(errors.values())), errors)
    return name, [k for k in allowed if k in chosen]


def org_roles(session, actor: Actor) -> list[OrgRole]:
    """The custom roles of the actor's own organisation, by name."""
    return list(session.execute(select(OrgRole).where(OrgRole.org_id == actor.org_id).order_by(OrgRole.name)).scalars())


def own_role(session, actor: Actor, org_role_id) -> OrgRole:
    """The role ``org_role_id`` if it belongs to the actor's organisation, else ``AdminError``."""
    try:
        role = session.get(OrgRole, int(org_role_id))
    except (TypeError, ValueError):
        role = None
    if role is None or role.org_id != actor.org_id:
        raise AdminError(MESSAGES["not_found"])
    return role


def usage(session, org_role: OrgRole) -> int:
    """How many admins hold ``org_role``."""
    return session.execute(
        select(func.count()).select_from(membership_role).where(membership_role.c.role_id == org_role.role_id)
    ).scalar_one()


def create_role(session, sm, actor: Actor, name: str, modules) -> OrgRole:
    """Create a custom role of the actor's organisation from modules of its kind; audited.

    Guarantees: only the super admin; name unique within the organisation; every module belongs to
    the organisation kind's menu (never the admin/role items); nothing written on error.
    """
    require_super(session, actor)
    name, keys = _validate(session, actor, name, modules)
    org = session.get(Organization, actor.org_id)
    role = sm.role_model(name=fab_role_name(org.id, name))
    session.add(role)
    org_role = OrgRole(org_id=org.id, role=role, name=name, modules=keys)
    session.add(org_role)
    apply_permissions(sm, org_role, org.kind)
    session.flush()
    _audit(session, actor, "org_role", org_role.id, "create_role", name)
    _commit(session)
    return org_role


def update_role(session, sm, actor: Actor, org_role_id, name: str, modules) -> OrgRole:
    """Rename a role and/or change its modules; the admins holding it get the new permissions at
    their next request. Same guarantees as ``create_role``."""
    require_super(session, actor)
    org_role = own_role(session, actor, org_role_id)
    name, keys = _validate(session, actor, name, modules, exclude_id=org_role.id)
    org = session.get(Organization, actor.org_id)
    org_role.name = name
    org_role.modules = keys
    org_role.role.name = fab_role_name(org.id, name)
    apply_permissions(sm, org_role, org.kind)
    _audit(session, actor, "org_role", org_role.id, "update_role", name)
    _commit(session)
    return org_role


def delete_role(session, actor: Actor, org_role_id) -> None:
    """Delete a role and its backing FAB role. A role still assigned to an admin is refused (the
    admin would silently lose powers): take it away first. Audited."""
    require_super(session, actor)
    org_role = own_role(session, actor, org_role_id)
    n = usage(session, org_role)
    if n:
        raise AdminError(_l("This role is assigned to %(n)d administrator(s): take it away from them first.", n=n))
    role = org_role.role
    _audit(session, actor, "org_role", org_role.id, "delete_role", org_role.name)
    session.delete(org_role)
    session.flush()
    role.permissions = []
    session.delete(role)
    _commit(session)


def sync_org_roles(sm) -> int:
    """Re-derive every custom role's permissions from its modules (after menus or views changed)."""
    session = sm.session
    roles = list(session.execute(select(OrgRole)).scalars())
    for org_role in roles:
        apply_permissions(sm, org_role, org_role.org.kind)
    session.commit()
    return len(roles)


def assigned_memberships(session, org_role: OrgRole) -> list[Membership]:
    """The admins holding ``org_role``."""
    return list(
        session.execute(
            select(Membership).join(membership_role, membership_role.c.membership_id == Membership.id).where(
                membership_role.c.role_id == org_role.role_id
            )
        ).scalars()
    )
