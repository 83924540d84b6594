"""Organisation pages: the organisation tree (单位资料 / 下级单位) and internal departments."""

from flask_babel import lazy_gettext as _l

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
    edit_columns = ["name", "phone", "address", "nature", "level", "affiliation", "industry", "review_closed", "remark"]
    search_columns = ["name", "credit_code", "kind", "status"]
    formatters_columns = {"kind": fmt(ORG_KINDS), "status": fmt(STATUSES)}
    add_form_extra_fields = {"kind": select(_l("Kind"), ORG_KINDS)}
    order_columns = ["name", "kind", "status"]
    base_order = ("id", "asc")


class DepartmentView(ScopedModelView):
    datamodel = ScopedInterface(Department)
    list_title = _l("Internal departments")
    show_title = _l("Department details")
    add_title = _l("Add department")
    edit_title = _l("Edit department")
    label_columns = LABELS
    list_columns = ["name", "org", "parent", "enabled"]
    add_columns = ["name", "parent", "enabled"]
    edit_columns = ["name", "parent", "enabled"]
    show_columns = ["name", "org", "parent", "enabled"]
    search_columns = ["name", "enabled"]
