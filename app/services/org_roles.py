"""Custom organisation roles (角色管理): a role is a named set of permission module levels.

A module is one permission module of the organisation kind's capacity (``services.roles``: a menu
item or an action module such as the password reset), except the admin and role management items
themselves (those stay with the super admin). A role stores ``{module: [levels]}`` (查看 view,
编辑 edit, 导出 export, 审核 review) and is backed by a FAB role holding exactly the permissions
``roles.item_permissions`` derives from those levels, the same function that derives the
capacity's base role; only levels the base role holds can be chosen, so a role never exceeds it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..models import Membership, Organization, OrgRole, membership_role
from ..permissions import LEVEL_LABELS, LEVELS
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


def allowed_levels(session, sm, kind: str, pairs=None) -> dict[str, list[str]]:
    """Module → levels a custom role of an organisation of ``kind`` may hold: those of the kind's
    base role (as the system administrator left it), without the admin and role modules."""
    from .roles import base_levels, existing_pairs

    pairs = existing_pairs(sm) if pairs is None else pairs
    return {k: v for k, v in base_levels(session, kind, pairs).items() if k not in EXCLUDED_MODULES}


def modules_for(kind: str) -> list[tuple[str, object, object]]:
    """(module key, label, category label) of every module a custom role of ``kind`` may name."""
    from .roles import capacity_modules

    return [(m.key, m.label, m.category_label) for m in capacity_modules(kind) if m.key not in EXCLUDED_MODULES]


def matrix(session, sm, kind: str) -> list[tuple[object, list[tuple[str, object, list[str]]]]]:
    """The role form's matrix: [(category label, [(module key, label, levels offered)])], grouped
    like the menu; modules with no level offered are left out."""
    from .roles import capacity_modules

    allowed = allowed_levels(session, sm, kind)
    groups: list = []
    for m in capacity_modules(kind):
        levels = allowed.get(m.key)
        if m.key in EXCLUDED_MODULES or not levels:
            continue
        if not groups or groups[-1][0] != m.category_label:
            groups.append((m.category_label, []))
        groups[-1][1].append((m.key, m.label, levels))
    return groups


def level_columns() -> list[tuple[str, object]]:
    """(level, Chinese label) in matrix column order."""
    return [(lv, LEVEL_LABELS[lv]) for lv in LEVELS]


def role_levels(org_role: OrgRole) -> dict[str, list[str]]:
    """The role's stored ``{module: [levels]}`` (an old list of modules reads as every level)."""
    raw = org_role.modules or {}
    if isinstance(raw, dict):
        return {str(k): list(v or ()) for k, v in raw.items()}
    return {str(k): list(LEVELS) for k in raw}


def describe(org_role: OrgRole, kind: str) -> list[str]:
    """"Label（查看、编辑）" per module of the role, for the roles list."""
    labels = {key: label for key, label, _c in modules_for(kind)}
    out = []
    for key, levels in role_levels(org_role).items():
        if key in labels and levels:
            names = "、".join(str(LEVEL_LABELS[lv]) for lv in LEVELS if lv in levels)
            out.append(f"{labels[key]}（{names}）")
    return out


def fab_role_name(org_id: int, name: str) -> str:
    """The backing FAB role's globally unique name."""
    return f"org{org_id}:{name}"


def apply_permissions(sm, org_role: OrgRole, kind: str, pairs=None) -> None:
    """Give the backing FAB role exactly the permissions derived from the role's levels that the
    kind's base role still holds."""
    from .roles import existing_pairs, item_permissions, normalise_levels, pv_index

    pairs = existing_pairs(sm) if pairs is None else pairs
    allowed = allowed_levels(sm.session, sm, kind, pairs)
    levels = normalise_levels(kind, role_levels(org_role), pairs, allowed)
    index = pv_index(sm)
    org_role.role.permissions = [
        index[pair] for pair in sorted(item_permissions(sm, kind, levels, pairs)) if pair in index
    ]


def _validate(session, sm, actor: Actor, name: str, levels, exclude_id=None) -> tuple[str, dict[str, list[str]]]:
    from .roles import existing_pairs, normalise_levels, unknown_levels

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
    pairs = existing_pairs(sm)
    allowed = allowed_levels(session, sm, org.kind, pairs)
    chosen = normalise_levels(org.kind, levels, pairs, allowed)
    if unknown_levels(org.kind, levels, pairs, allowed):
        errors["modules"] = MESSAGES["module_kind"]
    elif not chosen:
        errors["modules"] = MESSAGES["modules"]
    if errors:
        raise AdminError(next(iter(errors.values())), errors)
    return name, chosen


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


def create_role(session, sm, actor: Actor, name: str, levels) -> OrgRole:
    """Create a custom role of the actor's organisation from module levels of its kind; audited.

    ``levels``: ``["module:level", ...]`` (a bare ``"module"`` means every level it offers) or
    ``{module: [levels]}``. Guarantees: only the super admin; name unique within the organisation;
    every module level is one the kind's base role holds (never the admin/role items; an unknown
    one refuses the whole form); choosing edit, export or review includes view; written in one
    transaction, nothing written on error.
    """
    require_super(session, actor)
    name, keys = _validate(session, sm, actor, name, levels)
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


def update_role(session, sm, actor: Actor, org_role_id, name: str, levels) -> OrgRole:
    """Rename a role and/or change its module levels; the admins holding it get the new
    permissions at their next request. Same guarantees as ``create_role``."""
    require_super(session, actor)
    org_role = own_role(session, actor, org_role_id)
    name, keys = _validate(session, sm, actor, name, levels, exclude_id=org_role.id)
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
    """Re-derive every custom role's permissions from its levels (after menus, views or the base
    roles changed). Stored levels are kept in normal form (levels a module does not offer are
    dropped); a level the base role lost is withheld, and given back if the base role regains it."""
    from .roles import existing_pairs, normalise_levels

    session = sm.session
    pairs = existing_pairs(sm)
    roles = list(session.execute(select(OrgRole)).scalars())
    for org_role in roles:
        kind = org_role.org.kind
        levels = normalise_levels(kind, role_levels(org_role), pairs)
        if levels != org_role.modules:
            org_role.modules = levels
        apply_permissions(sm, org_role, kind, pairs)
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
