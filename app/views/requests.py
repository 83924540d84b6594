"""Request pages: transfers, change requests with their items, deregistrations."""

from flask_babel import lazy_gettext as _l

from ..models import ChangeItem, ChangeRequest, Deregistration, Transfer
from .base import ScopedInterface, ScopedModelView
from .choices import CHANGE_KINDS, DEREG_KINDS, INITIATORS, STATUSES, fmt
from .labels import LABELS


class TransferView(ScopedModelView):
    datamodel = ScopedInterface(Transfer)
    list_title = _l("Transfers")
    show_title = _l("Transfer details")
    label_columns = LABELS
    list_columns = ["professional", "from_org", "to_org", "initiated_by", "state", "created"]
    show_columns = list_columns + ["reason", "decided_at"]
    search_columns = ["initiated_by", "state"]
    formatters_columns = {"initiated_by": fmt(INITIATORS), "state": fmt(STATUSES)}
    base_permissions = ["can_list", "can_show", "can_export"]
    base_order = ("id", "desc")


class ChangeRequestView(ScopedModelView):
    datamodel = ScopedInterface(ChangeRequest)
    list_title = _l("Change requests")
    show_title = _l("Change request details")
    label_columns = LABELS
    list_columns = ["kind", "professional", "org", "handler_org", "state", "created"]
    show_columns = list_columns + ["reason", "decided_at"]
    search_columns = ["kind", "state"]
    formatters_columns = {"kind": fmt(CHANGE_KINDS), "state": fmt(STATUSES)}
    base_permissions = ["can_list", "can_show", "can_export"]
    base_order = ("id", "desc")


class ChangeItemView(ScopedModelView):
    datamodel = ScopedInterface(ChangeItem)
    list_title = _l("Changed fields")
    show_title = _l("Changed field")
    label_columns = LABELS
    list_columns = ["change_request", "field", "current_value", "new_value"]
    show_columns = list_columns
    search_columns = ["field"]
    base_permissions = ["can_list", "can_show"]


class DeregistrationView(ScopedModelView):
    datamodel = ScopedInterface(Deregistration)
    list_title = _l("Deregistrations")
    show_title = _l("Deregistration details")
    label_columns = LABELS
    list_columns = ["kind", "professional", "org", "state", "handler_org", "created"]
    show_columns = list_columns + ["merge_into_org", "reason", "decided_at"]
    search_columns = ["kind", "state"]
    formatters_columns = {"kind": fmt(DEREG_KINDS), "state": fmt(STATUSES)}
    base_permissions = ["can_list", "can_show", "can_export"]
    base_order = ("id", "desc")
