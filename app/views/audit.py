"""The audit trail (操作日志), read-only."""

from flask_babel import lazy_gettext as _l

from ..models import AuditLog
from .base import ScopedInterface, ScopedModelView
from .labels import LABELS


class AuditLogView(ScopedModelView):
    datamodel = ScopedInterface(AuditLog)
    list_title = _l("Audit log")
    show_title = _l("Audit entry")
    label_columns = LABELS
    list_columns = ["created", "object_type", "object_id", "trigger", "from_state", "to_state", "actor_user", "actor_org"]
    show_columns = list_columns + ["comment"]
    search_columns = ["object_type", "trigger", "from_state", "to_state"]
    base_permissions = ["can_list", "can_show", "can_export"]
    base_order = ("id", "desc")
