"""角色管理: the organisation's custom roles as sets of permission modules (super admin only)."""

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
    """List, create, edit and delete the organisation's roles; modules limited to its kind."""

    route_base = "/orgroles"
    default_view = "list"
    class_permission_name = "OrgRoleView"
    method_permission_name = {"list": "list", "add": "add", "edit": "edit", "delete": "delete"}

    def _modules(self, actor):
        kind = db.session.get(Organization, actor.org_id).kind
        return org_roles.modules_for(kind)

    @expose("/list/")
    @has_access
    def list(self):
        actor = _actor_or_404()
        roles = org_roles.org_roles(db.session, actor)
        labels = {key: label for key, label, _c in self._modules(actor)}
        rows = [(r, [labels.get(k, k) for k in r.modules or []], org_roles.usage(db.session, r)) for r in roles]
        return self.render_template(
            "ce/org/roles.html", title=_("Roles"), rows=rows, is_super=admins.is_super(db.session, actor)
        )

    def _form(self, actor, org_role=None):
        errors = {}
        name = org_role.name if org_role is not None else ""
        chosen = set(org_role.modules or []) if org_role is not None else set()
        if request.method == "POST":
            name = (request.form.get("name") or "").strip()[:64]
            chosen = set(request.form.getlist("modules"))
            sm = current_app.appbuilder.sm
            try:
                if org_role is None:
                    org_roles.create_role(db.session, sm, actor, name, request.form.getlist("modules"))
                else:
                    org_roles.update_role(db.session, sm, actor, org_role.id, name, request.form.getlist("modules"))
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
            modules=self._modules(actor),
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
