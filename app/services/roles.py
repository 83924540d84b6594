"""Permission modules and levels, and the base FAB role per capacity derived from them (idempotent).

A *module* is one menu item of a capacity (``app.permissions.MENUS``) or an action module without a
menu link (``ACTION_MODULES``, e.g. the password reset). Its *levels* (查看 view, 编辑 edit, 导出
export, 审核 review) follow from its letters and from what its view offers. Every role, the base
role of a capacity as much as an organisation's custom role, is derived from chosen levels through
``item_permissions``: one function, so no role can hold a permission that no level names.

The system administrator's choices for the base roles (role matrix) are stored per capacity in
``BaseRoleChoice`` (the module-levels it offered and those it chose); ``sync_base_roles`` (``flask
ce init``) derives from them, and gives a module-level that did not exist when the choice was saved
(added by an upgrade) its default: granted.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import select

from ..capacities import CAPACITIES, ROLE_NAMES, SYSADMIN
from ..permissions import (
    ACTION_MODULES,
    API_ACCESS,
    API_LETTERS,
    APIS,
    CATEGORY_LABELS,
    EXTRA_PERMISSIONS,
    FIXED_MODULES,
    FULL_ID_CAPACITIES,
    LETTER_LEVELS,
    LEVEL_API_LETTERS,
    LEVELS,
    MENUS,
    PERM_LETTERS,
    SYSADMIN_SECURITY_MENUS,
    category_name,
    item_name,
)

FULL_ID = ("can_view_full_id", "IdNumber")
# Pages over a model whose REST API is not named after the page.
VIEW_APIS = {"HoursReviewView": "DeclarationApi", "HoursDeclarationView": "DeclarationApi"}
CONSOLE = ("can_access", "ConsoleAccess")
# FAB security views: held by the system administrator only when the developer flag
# ``CE_DEV_SECURITY_PAGES`` registers them (they are not registered otherwise).
SYSADMIN_SECURITY_VIEWS = ("CEUserDBModelView", "CERoleModelView", "UserDBModelView", "RoleModelView", "UserStatsChartView", "PermissionModelView", "ViewMenuModelView", "PermissionViewModelView")


@dataclass(frozen=True)
class Module:
    """One permission module of a capacity."""

    capacity: str
    category: str
    key: str
    label: object
    view: str  # the permission view (class name; "View.method" items keep only the class)
    letters: str
    menu: bool  # has its own menu link

    @property
    def category_label(self):
        return CATEGORY_LABELS[self.category]

    def letters_of(self, level: str) -> str:
        letters = "".join(ch for ch in self.letters if LETTER_LEVELS.get(ch) == level)
        if level == "export" and "L" in self.letters:
            letters += "X"
        return letters


def capacity_modules(capacity: str) -> list[Module]:
    """Every module of ``capacity`` in menu order; action modules follow their category's items."""
    actions = dict(ACTION_MODULES.get(capacity, ()))
    out: list[Module] = []
    seen = set()
    for cat, items in MENUS.get(capacity, ()):
        seen.add(cat)
        for key, label, view, letters in items:
            out.append(Module(capacity, cat, key, label, view.split(".", 1)[0], letters, True))
        for key, label, view, letters in actions.get(cat, ()):
            out.append(Module(capacity, cat, key, label, view, letters, False))
    for cat, items in ACTION_MODULES.get(capacity, ()):
        if cat not in seen:
            for key, label, view, letters in items:
                out.append(Module(capacity, cat, key, label, view, letters, False))
    return out


def existing_pairs(sm) -> set[tuple[str, str]]:
    """Every (permission, view menu) pair the database knows, in one query."""
    return set(pv_index(sm))


def module_levels(module: Module, pairs) -> tuple[str, ...]:
    """The levels that exist for ``module``: those its letters name and its view really offers."""
    out = []
    for level in LEVELS:
        letters = module.letters_of(level)
        if not letters:
            continue
        if "C" in letters or any((perm, module.view) in pairs for ch in letters for perm in PERM_LETTERS.get(ch, ())):
            out.append(level)
    return tuple(out)


def level_permissions(module: Module, level: str, pairs) -> set[tuple[str, str]]:
    """(permission, view menu) pairs one level of one module grants (page and REST API)."""
    wanted: set[tuple[str, str]] = set()
    letters = module.letters_of(level)
    if "C" in letters:
        wanted.add(CONSOLE)
    for ch in letters:
        for perm in PERM_LETTERS.get(ch, ()):
            if (perm, module.view) in pairs:
                wanted.add((perm, module.view))
    api = api_of(module)
    api_letters = APIS.get(module.capacity, {}).get(api, "")
    for ch in LEVEL_API_LETTERS[level]:
        if ch not in api_letters:
            continue
        if ch in "AED" and ch not in module.letters:
            continue
        if ch == "S" and not set(module.letters) & {"A", "E"}:
            continue
        for perm in API_LETTERS[ch]:
            if (perm, api) in pairs:
                wanted.add((perm, api))
    return wanted


def api_of(module: Module) -> str | None:
    """The REST API over the same model as the module's page, if any."""
    view = module.view
    return VIEW_APIS.get(view) or (view[: -len("View")] + "Api" if view.endswith("View") else None)


def normalise_levels(capacity: str, chosen, pairs, allowed=None) -> dict[str, list[str]]:
    """``chosen`` (``{key: [levels]}``, ``["key:level", ...]`` or ``["key", ...]`` = every level of
    the module) as ``{key: [levels]}`` in matrix order, limited to levels that exist (and to
    ``allowed`` when given); any other level of a module includes its view level."""
    wanted: dict[str, set] = {}
    if isinstance(chosen, dict):
        for key, levels in chosen.items():
            wanted.setdefault(str(key), set()).update(str(lv) for lv in (levels or ()))
    else:
        for entry in chosen or ():
            key, _sep, level = str(entry).partition(":")
            wanted.setdefault(key, set()).add(level or "*")
    out: dict[str, list[str]] = {}
    for module in capacity_modules(capacity):
        if module.key not in wanted:
            continue
        available = module_levels(module, pairs)
        if allowed is not None:
            available = tuple(lv for lv in available if lv in allowed.get(module.key, ()))
        levels = wanted[module.key]
        picked = [lv for lv in available if "*" in levels or lv in levels]
        if picked and "view" in available and "view" not in picked:
            picked.insert(0, "view")
        if picked:
            out[module.key] = picked
    return out


def unknown_levels(capacity: str, chosen, pairs, allowed=None) -> list[str]:
    """The ``key:level`` entries of ``chosen`` that name no module-level of ``capacity`` (or none
    of ``allowed``): a form posting them is refused rather than silently trimmed."""
    modules = {m.key: m for m in capacity_modules(capacity)}
    bad = []
    entries = (
        [f"{k}:{lv}" for k, lvs in chosen.items() for lv in (lvs or ())] if isinstance(chosen, dict) else list(chosen or ())
    )
    for entry in entries:
        key, _sep, level = str(entry).partition(":")
        module = modules.get(key)
        available = module_levels(module, pairs) if module is not None else ()
        if allowed is not None:
            available = tuple(lv for lv in available if lv in allowed.get(key, ()))
        if module is None or (level and level not in available) or (not level and not available):
            bad.append(str(entry))
    return bad


def item_permissions(sm, capacity: str, keys=None, pairs=None) -> set[tuple[str, str]]:
    """(permission, view menu) pairs the chosen module levels of ``capacity`` need.

    ``keys``: None for every level of every module, a set of module keys for every level of those,
    or ``{key: [levels]}``. Each chosen module brings its menu entry and its category's (when it
    has any level), and each level the permissions its letters name on the module's view and on the
    capacity's REST API over the same model. A custom role (``keys`` given) also gets the session's
    API token. The base role of a capacity and every custom organisation role are derived here.
    """
    pairs = existing_pairs(sm) if pairs is None else pairs
    if keys is None:
        levels = {m.key: module_levels(m, pairs) for m in capacity_modules(capacity)}
    else:
        levels = normalise_levels(capacity, keys, pairs)
    wanted: set[tuple[str, str]] = set()
    for module in capacity_modules(capacity):
        chosen = levels.get(module.key) or ()
        if not chosen:
            continue
        if module.menu:
            wanted.add(("menu_access", category_name(capacity, module.category)))
            wanted.add(("menu_access", item_name(capacity, module.key)))
        for level in chosen:
            wanted |= level_permissions(module, level, pairs)
    if keys is not None and wanted:
        wanted |= {pair for pair in API_ACCESS if pair in pairs}
    return wanted


def default_levels(capacity: str, pairs) -> dict[str, list[str]]:
    """Every level of every module: a base role nobody has edited."""
    return {m.key: list(module_levels(m, pairs)) for m in capacity_modules(capacity) if module_levels(m, pairs)}


def offered_pairs(capacity: str, pairs) -> list[str]:
    """``key:level`` entries the base-role matrix offers for ``capacity`` (fixed modules excluded)."""
    fixed = FIXED_MODULES.get(capacity, ())
    return [
        f"{m.key}:{lv}" for m in capacity_modules(capacity) if m.key not in fixed for lv in module_levels(m, pairs)
    ]


def base_levels(session, capacity: str, pairs) -> dict[str, list[str]]:
    """The levels the base role of ``capacity`` holds: the system administrator's stored choice
    where there is one, the default (every level) for modules and levels it never saw, and always
    the fixed modules."""
    from ..models.permissions import BaseRoleChoice

    choice = session.execute(select(BaseRoleChoice).where(BaseRoleChoice.capacity == capacity)).scalar_one_or_none()
    defaults = default_levels(capacity, pairs)
    if choice is None:
        return defaults
    offered, chosen = set(choice.offered or ()), set(choice.chosen or ())
    fixed = FIXED_MODULES.get(capacity, ())
    out: dict[str, list[str]] = {}
    for key, levels in defaults.items():
        kept = [lv for lv in levels if key in fixed or f"{key}:{lv}" in chosen or f"{key}:{lv}" not in offered]
        if kept:
            out[key] = kept
    return out


def _dev_security_pages() -> bool:
    return has_app_context() and bool(current_app.config.get("CE_DEV_SECURITY_PAGES"))


def wanted_permissions(sm, capacity: str, pairs=None) -> set[tuple[str, str]]:
    """(permission, view menu) pairs the base role of ``capacity`` must hold, and nothing more."""
    pairs = existing_pairs(sm) if pairs is None else pairs
    levels = base_levels(sm.session, capacity, pairs)
    wanted = item_permissions(sm, capacity, levels, pairs) - {pair for pair in API_ACCESS}
    # REST APIs no module's page covers (e.g. the system administrator's department API).
    covered = {api_of(m) for m in capacity_modules(capacity)}
    for api, letters in APIS.get(capacity, {}).items():
        if api in covered:
            continue
        for letter in letters:
            for perm in API_LETTERS[letter]:
                if (perm, api) in pairs:
                    wanted.add((perm, api))
    for perm, view in EXTRA_PERMISSIONS.get(capacity, ()):
        if (perm, view) in pairs:
            wanted.add((perm, view))
    if capacity in FULL_ID_CAPACITIES:
        wanted.add(FULL_ID)
    if capacity == SYSADMIN and _dev_security_pages():
        for name in SYSADMIN_SECURITY_MENUS:
            wanted.add(("menu_access", name))
        wanted |= {(p, v) for p, v in pairs if v in SYSADMIN_SECURITY_VIEWS}
    return wanted


def sync_base_roles(sm) -> dict[str, int]:
    """Create or update one role per capacity with exactly its permissions; returns counts per role.

    Keeps the system administrator's matrix edits (``base_levels``) and then re-derives every
    custom organisation role, which can never exceed its capacity's base role.
    """
    sm.add_permission_view_menu(*FULL_ID)
    sm.add_permission_view_menu(*CONSOLE)
    pairs = existing_pairs(sm)
    counts = {}
    for capacity in CAPACITIES:
        counts[ROLE_NAMES[capacity]] = apply_base_role(sm, capacity, pairs)
        sm.session.commit()
    from .org_roles import sync_org_roles

    sync_org_roles(sm)
    return counts


def apply_base_role(sm, capacity: str, pairs=None) -> int:
    """Give the base role of ``capacity`` exactly ``wanted_permissions`` (not committed)."""
    pairs = existing_pairs(sm) if pairs is None else pairs
    name = ROLE_NAMES[capacity]
    role = sm.find_role(name) or sm.add_role(name)
    index = pv_index(sm)
    pvs = []
    for perm, view in sorted(wanted_permissions(sm, capacity, pairs)):
        pv = index.get((perm, view)) or sm.add_permission_view_menu(perm, view)
        if pv is not None:
            pvs.append(pv)
    role.permissions = pvs
    return len(pvs)


def pv_index(sm) -> dict:
    """(permission, view menu) -> FAB permission-view row, loaded in one query."""
    return {(r.permission.name, r.view_menu.name): r for r in sm.session.query(sm.permissionview_model).all() if r.permission and r.view_menu}
