"""角色管理: the organisation's custom roles as module × level matrices (super admin only)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from ..acting import current_actor
from ..extensions import db
from ..models import Organization
from ..services import admins, org_roles
from ..services.admins import AdminError


def _actor_or_404():
    actor = current_actor()
    if actor is None or actor.org_id is None or actor.membership_id is None:
        abort(404)
    return actor


class OrgRoleView(BaseView):
    """List, create, edit and delete the organisation's roles; module levels limited to its kind's
    base role, chosen in a matrix (modules grouped like the menu × 查看/编辑/导出/审核)."""

    route_base = "/orgroles"
    default_view = "list"
    class_permission_name = "OrgRoleView"
    method_permission_name = {"list": "list", "add": "add", "edit": "edit", "delete": "delete"}

    def _kind(self, actor):
        return db.session.get(Organization, actor.org_id).kind

    @expose("/list/")
    @has_access
    def list(self):
        actor = _actor_or_404()
        roles = org_roles.org_roles(db.session, actor)
        kind = self._kind(actor)
        rows = [(r, org_roles.describe(r, kind), org_roles.usage(db.session, r)) for r in roles]
        return self.render_template(
            "ce/org/roles.html", title=_("Roles"), rows=rows, is_super=admins.is_super(db.session, actor)
        )

    def _form(self, actor, org_role=None):
        errors = {}
        sm = current_app.appbuilder.sm
        name = org_role.name if org_role is not None else ""
        chosen = set()
        if org_role is not None:
            chosen = {f"{k}:{lv}" for k, levels in org_roles.role_levels(org_role).items() for lv in levels}
        if request.method == "POST":
            name = (request.form.get("name") or "").strip()[:64]
            # "levels": module:level checkboxes of the matrix; "modules": a whole module (every level).
            levels = request.form.getlist("levels") + request.form.getlist("modules")
            chosen = set(levels)
            try:
                if org_role is None:
                    org_roles.create_role(db.session, sm, actor, name, levels)
                else:
                    org_roles.update_role(db.session, sm, actor, org_role.id, name, levels)
            except AdminError as exc:
                errors = exc.errors or {"form": exc.message}
            else:
                flash(_("The role was saved."), "success")
                return redirect(url_for("OrgRoleView.list"))
        return self.render_template(
            "ce/org/role_form.html",
            title=_("Edit role") if org_role is not None else _("Add role"),
            name=name,
            chosen=chosen,
            groups=org_roles.matrix(db.session, sm, self._kind(actor)),
            columns=org_roles.level_columns(),
            errors=errors,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        actor = _actor_or_404()
        if not admins.is_super(db.session, actor):
            flash(str(admins.MESSAGES["not_super"]), "danger")
            return redirect(url_for("OrgRoleView.list"))
        return self._form(actor)

    @expose("/edit/<int:pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        actor = _actor_or_404()
        try:
            admins.require_super(db.session, actor)
            org_role = org_roles.own_role(db.session, actor, pk)
        except AdminError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for("OrgRoleView.list"))
        return self._form(actor, org_role)

    @expose("/delete/<int:pk>", methods=["POST"])
    @has_access
    def delete(self, pk):
        actor = _actor_or_404()
        try:
            org_roles.delete_role(db.session, actor, pk)
        except AdminError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("The role was deleted."), "success")
        return redirect(url_for("OrgRoleView.list"))
