"""Admin memberships (管理员管理)."""

from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..acting import current_actor
from ..models import Membership, Professional, User
from ..services.scope import scope_clause
from .base import ScopedInterface, ScopedModelView
from .choices import STATUSES, fmt
from .labels import LABELS


def users_in_scope(actor):
    """Condition on ``User``: professionals or admins inside the actor's scope."""
    return or_(
        User.id.in_(select(Professional.user_id).where(scope_clause(Professional, actor))),
        User.id.in_(select(Membership.user_id).where(scope_clause(Membership, actor))),
    )


class FilterUserInScope(BaseFilter):
    name = _l("In scope")
    arg_name = "uscope"

    def apply(self, query, value):
        return query.filter(users_in_scope(current_actor()))


class MembershipView(ScopedModelView):
    datamodel = ScopedInterface(Membership)
    list_title = _l("Administrators")
    show_title = _l("Administrator details")
    add_title = _l("Add administrator")
    edit_title = _l("Edit administrator")
    label_columns = LABELS
    list_columns = ["user", "org", "is_super", "status", "enabled"]
    show_columns = ["user", "org", "is_super", "status", "enabled", "roles", "created"]
    add_columns = ["user", "org", "enabled"]
    edit_columns = ["enabled"]
    search_columns = ["is_super", "status", "enabled"]
    formatters_columns = {"status": fmt(STATUSES)}
    add_form_query_rel_fields = {"user": [["id", FilterUserInScope, None]]}

    def pre_add(self, item):
        super().pre_add(item)
        session = self.datamodel.session
        uid = item.user.id if item.user is not None else item.user_id
        allowed = session.execute(select(User.id).where(User.id == uid, users_in_scope(current_actor()))).first()
        if allowed is None:
            session.rollback()
            raise ValueError(_("The selected user is outside your scope."))
