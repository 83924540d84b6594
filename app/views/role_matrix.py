"""基础角色权限: the system administrator's matrix of every capacity's base role (module × level)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from ..capacities import CAPACITIES
from ..extensions import db
from ..services import role_matrix
from ..services.org_roles import level_columns
from .base import sysadmin_actor


class RoleMatrixView(BaseView):
    """One capacity at a time (tabs): its modules grouped like its menu × 查看/编辑/导出/审核."""

    route_base = "/security/base-roles"
    default_view = "index"
    class_permission_name = "RoleMatrixView"
    method_permission_name = {"index": "list", "save": "edit"}

    @expose("/")
    @expose("/<capacity>")
    @has_access
    def index(self, capacity=None):
        sysadmin_actor()
        capacity = capacity or CAPACITIES[1]
        if capacity not in CAPACITIES:
            abort(404)
        groups, chosen = role_matrix.capacity_matrix(db.session, current_app.appbuilder.sm, capacity)
        return self.render_template(
            "ce/base_roles.html",
            title=_("Base role permissions"),
            capacity=capacity,
            capacities=role_matrix.capacities(),
            groups=groups,
            chosen=chosen,
            columns=level_columns(),
        )

    @expose("/<capacity>", methods=["POST"])
    @has_access
    def save(self, capacity):
        actor = sysadmin_actor()
        if capacity not in CAPACITIES:
            abort(404)
        try:
            role_matrix.save_capacity(db.session, current_app.appbuilder.sm, actor, capacity, request.form.getlist("levels"))
        except role_matrix.RoleMatrixError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("The base role was saved. Administrators get the new permissions at their next request."), "success")
        return redirect(url_for("RoleMatrixView.index", capacity=capacity))
