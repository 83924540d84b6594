"""Base FAB role per capacity, synchronised from ``views.menus`` (idempotent)."""

from __future__ import annotations

from ..capacities import CAPACITIES, ROLE_NAMES, SYSADMIN
from ..views.menus import (
    API_ACCESS,
    API_LETTERS,
    APIS,
    EXTRA_PERMISSIONS,
    FULL_ID_CAPACITIES,
    MENUS,
    PERM_LETTERS,
    SYSADMIN_SECURITY_MENUS,
    category_name,
    item_name,
)

FULL_ID = ("can_view_full_id", "IdNumber")
# Permissions a custom-role module brings besides its menu item's view (key -> (permission, view)).
MODULE_EXTRAS = {"professionals": (("can_admin_reset", "PasswordAdminView"),)}
# Pages over a model whose REST API is not named after the page.
VIEW_APIS = {"HoursReviewView": "DeclarationApi", "HoursDeclarationView": "DeclarationApi"}
CONSOLE = ("can_access", "ConsoleAccess")
# FAB security views the system administrator uses to manage all users and roles.
SYSADMIN_SECURITY_VIEWS = ("CEUserDBModelView", "CERoleModelView", "UserDBModelView", "RoleModelView", "UserStatsChartView", "PermissionModelView", "ViewMenuModelView", "PermissionViewModelView")


def item_permissions(sm, capacity: str, keys=None) -> set[tuple[str, str]]:
    """(permission, view menu) pairs the menu items ``keys`` of ``capacity`` need (all items when None).

    Each item brings its own menu entry, its category's entry, the permissions its letters name on
    its view and the matching letters of the capacity's REST API over the same model. The base role
    of a capacity and every custom organisation role are derived through this one function.
    """
    wanted: set[tuple[str, str]] = set()
    for cat, items in MENUS[capacity]:
        for key, _label, view, letters in items:
            if keys is not None and key not in keys:
                continue
            wanted.add(("menu_access", category_name(capacity, cat)))
            wanted.add(("menu_access", item_name(capacity, key)))
            if view == "ConsoleAccess":
                wanted.add(CONSOLE)
                continue
            view = view.split(".", 1)[0]  # "View.method" items: the permissions are the view's
            for letter in letters:
                for perm in PERM_LETTERS[letter]:
                    if sm.find_permission_view_menu(perm, view) is not None:
                        wanted.add((perm, view))
            if keys is not None:
                api = VIEW_APIS.get(view) or (view[: -len("View")] + "Api" if view.endswith("View") else None)
                api_letters = APIS.get(capacity, {}).get(api, "")
                for letter in set(letters) & set(api_letters):
                    for perm in API_LETTERS[letter]:
                        if sm.find_permission_view_menu(perm, api) is not None:
                            wanted.add((perm, api))
                for perm, extra_view in MODULE_EXTRAS.get(key, ()) + API_ACCESS:
                    if sm.find_permission_view_menu(perm, extra_view) is not None:
                        wanted.add((perm, extra_view))
    return wanted


def wanted_permissions(sm, capacity: str) -> set[tuple[str, str]]:
    """(permission, view menu) pairs the base role of ``capacity`` must hold, and nothing more."""
    wanted = item_permissions(sm, capacity)
    for api, letters in APIS.get(capacity, {}).items():
        for letter in letters:
            for perm in API_LETTERS[letter]:
                if sm.find_permission_view_menu(perm, api) is not None:
                    wanted.add((perm, api))
    for perm, view in EXTRA_PERMISSIONS.get(capacity, ()):
        if sm.find_permission_view_menu(perm, view) is not None:
            wanted.add((perm, view))
    if capacity in FULL_ID_CAPACITIES:
        wanted.add(FULL_ID)
    if capacity == SYSADMIN:
        for name in SYSADMIN_SECURITY_MENUS:
            wanted.add(("menu_access", name))
        for view in SYSADMIN_SECURITY_VIEWS:
            vm = sm.find_view_menu(view)
            if vm is None:
                continue
            for pv in sm.find_permissions_view_menu(vm):
                wanted.add((pv.permission.name, view))
    return wanted


def sync_base_roles(sm) -> dict[str, int]:
    """Create or update one role per capacity with exactly its permissions; returns counts per role."""
    sm.add_permission_view_menu(*FULL_ID)
    sm.add_permission_view_menu(*CONSOLE)
    counts = {}
    for capacity in CAPACITIES:
        name = ROLE_NAMES[capacity]
        role = sm.find_role(name) or sm.add_role(name)
        pvs = []
        for perm, view in sorted(wanted_permissions(sm, capacity)):
            pv = sm.find_permission_view_menu(perm, view) or sm.add_permission_view_menu(perm, view)
            if pv is not None:
                pvs.append(pv)
        role.permissions = pvs
        sm.session.commit()
        counts[name] = len(pvs)
    from .org_roles import sync_org_roles

    sync_org_roles(sm)
    return counts
