"""Organisation pages: the organisation tree (单位资料 / 下级单位) and internal departments."""

from flask import flash, redirect, request, url_for
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterEqualFunction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..acting import current_actor
from ..services import departments
from ..services.departments import full_path

from ..models import Department, Organization
from .base import ScopedInterface, ScopedModelView
from .choices import ORG_KINDS, STATUSES, fmt, select
from .labels import LABELS


class OrganizationView(ScopedModelView):
    datamodel = ScopedInterface(Organization)
    list_title = _l("Organisations")
    show_title = _l("Organisation details")
    add_title = _l("Add organisation")
    edit_title = _l("Edit organisation")
    label_columns = LABELS
    list_columns = ["name", "kind", "credit_code", "region", "parent", "status"]
    show_columns = [
        "name", "kind", "credit_code", "region", "parent", "status", "nature", "level",
        "affiliation", "industry", "phone", "address", "review_closed", "remark", "created",
    ]
    add_columns = [
        "name", "kind", "credit_code", "region", "parent", "nature", "level", "affiliation",
        "industry", "phone", "address", "remark",
    ]
    # review_closed (关闭审核权限) is the superior's to toggle, on the sub-unit pages.
    edit_columns = ["name", "phone", "address", "nature", "level", "affiliation", "industry", "remark"]
    search_columns = ["name", "credit_code", "kind", "status"]
    formatters_columns = {"kind": fmt(ORG_KINDS), "status": fmt(STATUSES)}
    add_form_extra_fields = {"kind": select(_l("Kind"), ORG_KINDS)}
    order_columns = ["name", "kind", "status"]
    base_order = ("id", "asc")


def _own_org_id():
    actor = current_actor()
    return actor.org_id if actor is not None and actor.org_id is not None else -1


# The superior-department picker offers the unit's own enabled departments only.
OWN_ENABLED_DEPARTMENTS = [["org_id", FilterEqualFunction, _own_org_id], ["enabled", FilterEqual, True]]


class DepartmentTreeChecks:
    """Add/edit/delete hooks of the department page and API: no self-parent, no cycle, no parent of
    another unit, no delete while in use. ``tree_error`` is what the view raises with the message
    (FAB pages show a ``ValueError`` next to the form; the REST API answers 400 for ``BadRequest``)."""

    tree_error: type = ValueError

    def pre_add(self, item):
        super().pre_add(item)
        self._check_tree(item)

    def pre_update(self, item):
        # The tree first, before any query flushes a self-parent or a cycle into the database.
        self._check_tree(item)
        super().pre_update(item)

    def pre_delete(self, item):
        try:
            departments.check_delete(self.datamodel.session, item)
        except departments.DepartmentError as exc:
            raise self.tree_error(str(exc.message)) from exc

    def _check_tree(self, item):
        session = self.datamodel.session
        try:
            with session.no_autoflush:
                departments.check_parent(item, item.parent)
        except departments.DepartmentError as exc:
            session.rollback()
            raise self.tree_error(str(exc.message)) from exc


class DepartmentView(DepartmentTreeChecks, ScopedModelView):
    """内设部门: the unit's department tree (full path shown), add child, disable / enable."""

    datamodel = ScopedInterface(Department)
    list_title = _l("Internal departments")
    show_title = _l("Department details")
    add_title = _l("Add department")
    edit_title = _l("Edit department")
    label_columns = dict(LABELS, parent=_l("Superior department"))
    list_columns = ["name", "parent", "org", "enabled"]
    add_columns = ["name", "parent", "enabled"]
    edit_columns = ["name", "parent", "enabled"]
    show_columns = ["name", "parent", "org", "enabled"]
    search_columns = ["name", "enabled"]
    formatters_columns = {"parent": full_path}
    base_order = ("org_id", "asc")
    add_form_query_rel_fields = {"parent": OWN_ENABLED_DEPARTMENTS}
    edit_form_query_rel_fields = {"parent": OWN_ENABLED_DEPARTMENTS}
    method_permission_name = {"add_child": "add", "disable": "edit", "enable": "edit"}

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        # 添加下级: /add?parent=<id> pre-selects the superior department (own enabled ones only).
        if request.method == "GET" and request.args.get("parent", "").isdigit():
            parent = self.datamodel.session.get(Department, int(request.args["parent"]))
            if parent is not None and parent.org_id == _own_org_id() and parent.enabled:
                form.parent.data = parent
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)


    @fab_action("add_child", _l("Add sub-department"), None, "fa-plus", multiple=False)
    def add_child(self, item):
        return redirect(url_for(self.__class__.__name__ + ".add", parent=item.id))

    @fab_action("disable", _l("Disable"), _l("Disable the selected departments?"), "fa-ban", single=False)
    def disable(self, items):
        return self._set_enabled(items, False)

    @fab_action("enable", _l("Enable"), _l("Enable the selected departments?"), "fa-check", single=False)
    def enable(self, items):
        return self._set_enabled(items, True)

    def _set_enabled(self, items, enabled):
        items = items if isinstance(items, list) else [items]
        for item in items:
            item.enabled = enabled
        self.datamodel.session.commit()
        flash(_("%(n)d departments updated.", n=len(items)), "success")
        self.update_redirect()
        return redirect(self.get_redirect())
