"""用户管理: the system administrator's list of every account (person, memberships, roles, state)
with disable / enable / unlock / password reset, each POSTed and confirmed on a second page."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..capacities import LABELS
from ..extensions import db
from ..services import users as users_service
from .base import masked, sysadmin_actor

ACTIONS = {
    "disable": (_l("Disable"), users_service.disable, _l("The account was disabled and signed out everywhere.")),
    "enable": (_l("Enable"), users_service.enable, _l("The account was enabled.")),
    "unlock": (_l("Unlock"), users_service.unlock, _l("The account was unlocked.")),
    "reset": (_l("Reset password"), None, None),
}


class UserAdminView(BaseView):
    """Every account, searchable by exact ID number or by name, 20 a page."""

    route_base = "/security/users"
    default_view = "list"
    class_permission_name = "UserAdminView"
    method_permission_name = {"list": "list", "act": "edit"}

    @expose("/")
    @has_access
    def list(self):
        actor = sysadmin_actor()
        q = (request.args.get("q") or "").strip()[:64]
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            page = 0
        total, rows = users_service.search(db.session, actor, q, page)
        pages = (total + users_service.PAGE_SIZE - 1) // users_service.PAGE_SIZE
        return self.render_template(
            "ce/users.html",
            title=_("Users"),
            rows=rows,
            q=q,
            page=page,
            pages=pages,
            total=total,
            me=actor.user_id,
            masked=masked,
            capacity_label=lambda c: LABELS.get(c, c),
            actions=ACTIONS,
        )

    @expose("/<int:user_id>/<action>", methods=["POST"])
    @has_access
    def act(self, user_id, action):
        actor = sysadmin_actor()
        if action not in ACTIONS:
            abort(404)
        label, func, done = ACTIONS[action]
        back = url_for("UserAdminView.list", q=request.form.get("q") or None)
        user = users_service.find_user(db.session, actor, user_id)
        if user is None:
            abort(404)
        if request.form.get("confirm") != "1":
            return self.render_template(
                "ce/user_confirm.html", title=_("Confirm"), user=user, action=action, label=label, masked=masked, back=back,
                refusal=users_service.refusal(actor, user),
            )
        try:
            if action == "reset":
                user, value = users_service.reset_password(db.session, actor, user_id)
            else:
                func(db.session, actor, user_id)
        except users_service.UserAdminError as exc:
            flash(str(exc.message), "danger")
            return redirect(back)
        if action != "reset":
            flash(str(done), "success")
            return redirect(back)
        # The one-time password is shown on this response only: never stored, never in a cookie.
        response = make_response(
            self.render_template(
                "ce/user_password.html", title=_("Reset password"), user=user, password=value, masked=masked, back=back
            )
        )
        response.headers["Cache-Control"] = "no-store"
        return response
