"""基础角色权限: the system administrator edits the base role of every capacity (capacity × module ×
level). The choice is stored in ``BaseRoleChoice`` and the base role (and every custom role of that
kind, which never exceeds it) is re-derived from it, here and at each ``flask ce init``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..capacities import CAPACITIES, LABELS
from ..models.permissions import BaseRoleChoice
from .audit_trail import record_event
from .roles import apply_base_role, base_levels, capacity_modules, existing_pairs, module_levels, offered_pairs
from .scope import Actor
from ..permissions import FIXED_MODULES

MESSAGES = {
    "not_sysadmin": _l("Only the system administrator manages the base roles."),
    "capacity": _l("Unknown user type."),
    "unknown": _l("The form named a permission this user type does not have. Nothing was saved."),
}


class RoleMatrixError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _require_sysadmin(actor: Actor | None) -> None:
    if actor is None or not actor.is_global:
        raise RoleMatrixError(MESSAGES["not_sysadmin"])


def capacity_matrix(session, sm, capacity: str):
    """(groups, chosen) of one capacity's base role: groups as ``[(category label, [(key, label,
    levels)])]`` in menu order (fixed modules left out), chosen as a set of ``key:level``."""
    if capacity not in CAPACITIES:
        raise RoleMatrixError(MESSAGES["capacity"])
    pairs = existing_pairs(sm)
    fixed = FIXED_MODULES.get(capacity, ())
    groups: list = []
    for m in capacity_modules(capacity):
        levels = module_levels(m, pairs)
        if m.key in fixed or not levels:
            continue
        if not groups or groups[-1][0] != m.category_label:
            groups.append((m.category_label, []))
        groups[-1][1].append((m.key, m.label, list(levels)))
    chosen = {f"{k}:{lv}" for k, levels in base_levels(session, capacity, pairs).items() for lv in levels}
    return groups, chosen


def capacities() -> list[tuple[str, object]]:
    """(capacity, Chinese label) in login-form order."""
    return [(c, LABELS[c]) for c in CAPACITIES]


def save_capacity(session, sm, actor: Actor, capacity: str, entries) -> BaseRoleChoice:
    """Store the system administrator's choice of ``key:level`` entries for ``capacity``'s base role
    and re-derive that role and the custom roles of that kind, in one transaction; audited.

    Guarantees: system administrator only; every entry is a module level the capacity offers (an
    unknown one refuses the whole form, nothing written); edit, export or review of a module
    include its view level; the system administrator's own user and base-role pages are never
    offered, so the matrix cannot lock everybody out of it.
    """
    _require_sysadmin(actor)
    if capacity not in CAPACITIES:
        raise RoleMatrixError(MESSAGES["capacity"])
    pairs = existing_pairs(sm)
    offered = offered_pairs(capacity, pairs)
    entries = list(dict.fromkeys(str(e) for e in (entries or ())))
    if any(e not in offered for e in entries):
        raise RoleMatrixError(MESSAGES["unknown"])
    chosen = set(entries)
    for entry in list(chosen):  # any level of a module brings its view level
        key = entry.split(":", 1)[0]
        if f"{key}:view" in offered:
            chosen.add(f"{key}:view")
    try:
        choice = session.execute(select(BaseRoleChoice).where(BaseRoleChoice.capacity == capacity)).scalar_one_or_none()
        if choice is None:
            choice = BaseRoleChoice(capacity=capacity)
            session.add(choice)
        choice.offered = offered
        choice.chosen = [e for e in offered if e in chosen]
        choice.updated_by_id = actor.user_id
        session.flush()
        apply_base_role(sm, capacity, pairs)
        _rederive_custom_roles(session, sm, capacity, pairs)
        record_event(
            "update_base_role",
            object_type="base_role_choice",
            object_id=choice.id,
            actor=actor,
            comment=f"{capacity}: {len(choice.chosen)}/{len(offered)}",
            session=session,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return choice


def _rederive_custom_roles(session, sm, kind: str, pairs) -> None:
    from ..models import Organization, OrgRole
    from .org_roles import apply_permissions

    roles = session.execute(select(OrgRole).join(Organization, OrgRole.org_id == Organization.id).where(Organization.kind == kind)).scalars()
    for org_role in roles:
        apply_permissions(sm, org_role, kind, pairs)
