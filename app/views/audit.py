"""The audit trail (操作日志), read-only: what was done is shown in words, not internal codes."""

from flask_babel import lazy_gettext as _l

from ..models import AuditLog
from .base import ScopedInterface, ScopedModelView
from .labels import LABELS

# Triggers written by the workflows (workflows.base.audit) and by services.audit_trail.record_event.
TRIGGER_LABELS = {
    "submit": _l("Submit"),
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "revoke": _l("Revoke"),
    "withdraw": _l("Withdraw"),
    "annul": _l("Annul recognition"),
    "apply": _l("Apply"),
    "login": _l("Sign in"),
    "login_failed": _l("Failed sign-in"),
    "lockout": _l("Account locked"),
    "logout": _l("Sign out"),
    "change_password": _l("Change password"),
    "reset_password": _l("Reset password"),
    "totp_enabled": _l("Two-factor authentication turned on"),
    "totp_disabled": _l("Two-factor authentication turned off"),
    "invite_admin": _l("Invite administrator"),
    "accept_invitation": _l("Accept invitation"),
    "decline_invitation": _l("Decline invitation"),
    "withdraw_invitation": _l("Withdraw invitation"),
    "add_admin": _l("Add administrator"),
    "remove_admin": _l("Remove administrator"),
    "set_roles": _l("Assign roles"),
    "set_super": _l("Hand over super administrator"),
    "disable": _l("Disable"),
    "enable": _l("Enable"),
    "disable_user": _l("Disable account"),
    "enable_user": _l("Enable account"),
    "unlock_user": _l("Unlock account"),
    "create_role": _l("Create role"),
    "update_role": _l("Change role"),
    "delete_role": _l("Delete role"),
    "update_base_role": _l("Change base permissions"),
    "open_review": _l("Open hours review"),
    "close_review": _l("Close hours review"),
    "export": _l("Export"),
    "print": _l("Print certificate"),
    "print_merged": _l("Print merged certificate"),
    "print_bulk": _l("Bulk print certificates"),
    "console_create": _l("Console: create"),
    "console_edit": _l("Console: edit"),
    "console_delete": _l("Console: delete"),
}

OBJECT_LABELS = {
    "user": _l("Account"),
    "membership": _l("Administrator"),
    "admin_invitation": _l("Administrator invitation"),
    "org_role": _l("Role"),
    "base_role_choice": _l("Base permissions"),
    "organization": _l("Organisation"),
    "professional": _l("Professional"),
    "declaration": _l("Hours declaration"),
    "reduction": _l("Reduced requirement"),
    "deregistration": _l("Deregistration"),
    "certificate": _l("E-certificate"),
}


def trigger_label(value):
    """The Chinese name of an audit trigger (the code itself when it is not a known one)."""
    return TRIGGER_LABELS.get(value, value) if value else ""


def object_label(value):
    """The Chinese name of an audited object type; exports and console edits name a model class."""
    if not value:
        return ""
    if value in OBJECT_LABELS:
        return OBJECT_LABELS[value]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in value).lstrip("_")
    return OBJECT_LABELS.get(snake, value)


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
    formatters_columns = {
        "trigger": trigger_label,
        "object_type": object_label,
        # Chinese order (姓名), not FAB's "first last".
        "actor_user": lambda user: user.full_name if user is not None else "",
    }
