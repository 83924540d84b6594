"""Admin memberships (管理员管理) and sub-units (下级单位)."""

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_login import current_user
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..acting import current_actor
from ..extensions import db
from ..models import Membership, Professional, User
from ..services import admins, org_roles
from ..services.admins import AdminError
from ..services.scope import scope_clause
from .base import ScopedInterface, ScopedModelView, can_view_full_id, masked
from .choices import ORG_KINDS, STATUSES, fmt
from .labels import LABELS
from .password import show_one_time_password


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
        if session.get(User, uid).is_sysadmin:
            session.rollback()
            raise ValueError(str(admins.MESSAGES["sysadmin"]))


# -- 管理员管理: the organisation's own admins, managed by its super admin -------------------------

ADD_PATHS = ("existing", "new", "professional")
BULK_ACTIONS = {"enable": _l("Enable"), "disable": _l("Disable"), "remove": _l("Remove admin rights")}


def _actor_or_404():
    actor = current_actor()
    if actor is None or actor.org_id is None or actor.membership_id is None:
        abort(404)
    return actor


def _refused(exc: AdminError, endpoint: str = "OrgAdminView.list", **kw):
    flash(str(exc.message), "danger")
    return redirect(url_for(endpoint, **kw))


class OrgAdminView(BaseView):
    """管理员: add (existing user / new user / own professional), super-admin swap, roles, enable /
    disable, remove, password reset. Only the organisation's super admin (who holds the capacity's
    base role) reaches these pages; the service refuses everyone else too."""

    route_base = "/orgadmins"
    default_view = "list"
    class_permission_name = "OrgAdminView"
    method_permission_name = {
        "list": "list", "add": "add", "roles": "edit", "set_super": "edit", "bulk": "edit", "withdraw": "edit"
    }

    @expose("/list/")
    @has_access
    def list(self):
        actor = _actor_or_404()
        rows = [(m, admins.roles_of(db.session, m)) for m in admins.own_admins(db.session, actor)]
        return self.render_template(
            "ce/org/admins.html",
            title=_("Administrators"),
            rows=rows,
            is_super=admins.is_super(db.session, actor),
            me=actor.membership_id,
            masked=masked,
            bulk_actions=BULK_ACTIONS,
            invitations=admins.pending_invitations(db.session, actor),
        )

    @expose("/invitation/<int:invitation_id>/withdraw", methods=["POST"])
    @has_access
    def withdraw(self, invitation_id):
        actor = _actor_or_404()
        try:
            admins.withdraw_invitation(db.session, actor, invitation_id)
        except AdminError as exc:
            return _refused(exc)
        flash(_("The invitation was withdrawn."), "success")
        return redirect(url_for("OrgAdminView.list"))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        actor = _actor_or_404()
        if not admins.is_super(db.session, actor):
            return _refused(AdminError(admins.MESSAGES["not_super"]))
        how = request.values.get("how", "existing")
        if how not in ADD_PATHS:
            how = "existing"
        values = {k: (request.form.get(k) or "").strip()[:64] for k in ("id_number", "name", "mobile", "email", "phone")}
        errors = {}
        if request.method == "POST":
            role_ids = request.form.getlist("roles")
            try:
                if how == "existing":
                    invitation = admins.invite_existing_user(db.session, actor, values["id_number"], values["name"], role_ids)
                elif how == "new":
                    membership, value = admins.add_new_user(db.session, actor, values, role_ids)
                else:
                    admins.add_professional(db.session, actor, request.form.get("professional"), role_ids)
            except AdminError as exc:
                errors = exc.errors or {"form": exc.message}
            else:
                if how == "existing":
                    flash(
                        _(
                            "%(name)s has been invited. They become an administrator only after accepting the "
                            "invitation under “My invitations” (%(path)s) once signed in.",
                            name=invitation.user.full_name,
                            path=url_for("InvitationView.list"),
                        ),
                        "success",
                    )
                elif how == "new":
                    # The one-time password is shown on this response only (never in a redirect URL or flash).
                    return show_one_time_password(self, membership.user, value, url_for("OrgAdminView.list"), created=True)
                else:
                    flash(_("The administrator was added."), "success")
                return redirect(url_for("OrgAdminView.list"))
        q = (request.args.get("q") or "").strip()[:32]
        people = admins.own_professionals(db.session, actor, q, full_id=can_view_full_id()) if how == "professional" else []
        return self.render_template(
            "ce/org/admin_add.html",
            title=_("Add administrator"),
            how=how,
            values=values,
            errors=errors,
            q=q,
            people=people,
            masked=masked,
            roles=org_roles.org_roles(db.session, actor),
            chosen_roles={int(r) for r in request.form.getlist("roles") if r.isdigit()},
        )

    @expose("/roles/<int:membership_id>", methods=["GET", "POST"])
    @has_access
    def roles(self, membership_id):
        actor = _actor_or_404()
        try:
            admins.require_super(db.session, actor)
            membership = admins._own(db.session, actor, membership_id)
        except AdminError as exc:
            return _refused(exc)
        if request.method == "POST":
            try:
                admins.set_roles(db.session, actor, membership_id, request.form.getlist("roles"))
            except AdminError as exc:
                flash(str(exc.message), "danger")
            else:
                flash(_("The roles were saved. They apply from the administrator's next page."), "success")
                return redirect(url_for("OrgAdminView.list"))
        held = {r.id for r in admins.roles_of(db.session, membership)}
        return self.render_template(
            "ce/org/admin_roles.html",
            title=_("Assign roles"),
            membership=membership,
            roles=org_roles.org_roles(db.session, actor),
            held=held,
        )

    @expose("/super/<int:membership_id>", methods=["POST"])
    @has_access
    def set_super(self, membership_id):
        actor = _actor_or_404()
        try:
            target = admins.set_super(db.session, actor, membership_id)
        except AdminError as exc:
            return _refused(exc)
        flash(_("%(name)s is now the super administrator.", name=target.user.full_name), "success")
        return redirect(url_for("OrgAdminView.list"))

    @expose("/bulk", methods=["POST"])
    @has_access
    def bulk(self):
        """Enable / disable / remove the selected admins, after a confirmation page."""
        actor = _actor_or_404()
        name = request.form.get("action", "")
        ids = [int(x) for x in request.form.getlist("rowid") if x.isdigit()]
        if name not in BULK_ACTIONS:
            abort(400)
        try:
            admins.require_super(db.session, actor)
            items = [admins._own(db.session, actor, pk) for pk in ids]
            if not items:
                raise AdminError(admins.MESSAGES["nothing"])
        except AdminError as exc:
            return _refused(exc)
        if request.form.get("confirm") != "1":
            return self.render_template(
                "ce/org/admin_confirm.html", title=_("Please confirm"), action=name, label=BULK_ACTIONS[name], items=items
            )
        try:
            if name == "remove":
                n = admins.remove_admins(db.session, actor, ids)
            else:
                n = admins.set_enabled(db.session, actor, ids, name == "enable")
        except AdminError as exc:
            return _refused(exc)
        flash(_("%(n)d administrators updated.", n=n), "success")
        return redirect(url_for("OrgAdminView.list"))


# -- 下级单位: sub-units, their admins and their hours-review right -------------------------------


class SubunitView(BaseView):
    """下级单位 (and a competent department's CE bases): list, detail with admins, remove a sub-unit
    admin's rights, close / reopen the sub-unit's hours-review right. Only organisations strictly
    below the acting one are reachable."""

    route_base = "/subunits"
    default_view = "list"
    class_permission_name = "SubunitView"
    method_permission_name = {"list": "list", "show": "show", "remove_admin": "edit", "review": "edit"}
    page_size = 20

    @expose("/list/")
    @has_access
    def list(self):
        actor = _actor_or_404()
        q = (request.args.get("q") or "").strip()[:64]
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            page = 0
        stmt = admins.subunits_query(actor, q)
        rows = list(db.session.execute(stmt.offset(page * self.page_size).limit(self.page_size + 1)).scalars())
        return self.render_template(
            "ce/org/subunits.html",
            title=_("Subordinate units"),
            rows=rows[: self.page_size],
            more=len(rows) > self.page_size,
            page=page,
            q=q,
            kinds=ORG_KINDS,
            statuses=STATUSES,
        )

    @expose("/show/<int:org_id>")
    @has_access
    def show(self, org_id):
        actor = _actor_or_404()
        try:
            org = admins.subunit(db.session, actor, org_id)
        except AdminError:
            abort(404)
        members = list(
            db.session.execute(
                select(Membership).where(Membership.org_id == org.id).order_by(Membership.is_super.desc(), Membership.id)
            ).scalars()
        )
        return self.render_template(
            "ce/org/subunit_show.html",
            title=_("Sub-unit details"),
            org=org,
            members=members,
            masked=masked,
            kinds=ORG_KINDS,
            statuses=STATUSES,
        )

    @expose("/remove-admin/<int:membership_id>", methods=["POST"])
    @has_access
    def remove_admin(self, membership_id):
        actor = _actor_or_404()
        m = db.session.get(Membership, membership_id)
        org_id = m.org_id if m is not None else None
        try:
            admins.remove_subunit_admin(db.session, actor, membership_id)
        except AdminError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for("SubunitView.list"))
        flash(_("The administrator's rights were removed."), "success")
        return redirect(url_for("SubunitView.show", org_id=org_id))

    @expose("/review/<int:org_id>", methods=["POST"])
    @has_access
    def review(self, org_id):
        actor = _actor_or_404()
        closed = request.form.get("closed") == "1"
        try:
            admins.set_review_closed(db.session, actor, org_id, closed)
        except AdminError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for("SubunitView.list"))
        flash(_("The hours-review right was closed.") if closed else _("The hours-review right was reopened."), "success")
        return redirect(url_for("SubunitView.show", org_id=org_id))


# -- 我的邀请: invitations to become an admin, answered by the invited user --------------------------


class InvitationView(BaseView):
    """The logged-in user's pending admin invitations: accept or decline (POST, CSRF).

    Open to every logged-in user whatever it acts as (like the capacity switch), so it is guarded by
    the login, not by a permission: an ordinary admin acts only through its custom roles and would
    otherwise never reach it. The service lets a user answer only its own invitations.
    """

    route_base = "/account"
    default_view = "list"

    @staticmethod
    def _actor():
        actor = current_actor()
        if not current_user.is_authenticated or actor is None:
            return None
        return actor

    @expose("/invitations/")
    def list(self):
        actor = self._actor()
        if actor is None:
            return redirect(url_for("CapacityLoginView.login"))
        return self.render_template(
            "ce/invitations.html", title=_("My invitations"), invitations=admins.my_invitations(db.session, actor)
        )

    @expose("/invitations/<int:invitation_id>/accept", methods=["POST"])
    def accept(self, invitation_id):
        actor = self._actor()
        if actor is None:
            return redirect(url_for("CapacityLoginView.login"))
        try:
            m = admins.accept_invitation(db.session, actor, invitation_id)
        except AdminError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(
                _("You are now an administrator of %(org)s. Switch capacity to act for it.", org=m.org.name)
                if m.roles
                else _("You are now an administrator of %(org)s. You can act for it once its super administrator gives you a role.", org=m.org.name),
                "success",
            )
        return redirect(url_for("InvitationView.list"))

    @expose("/invitations/<int:invitation_id>/decline", methods=["POST"])
    def decline(self, invitation_id):
        actor = self._actor()
        if actor is None:
            return redirect(url_for("CapacityLoginView.login"))
        try:
            admins.decline_invitation(db.session, actor, invitation_id)
        except AdminError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("The invitation was declined."), "success")
        return redirect(url_for("InvitationView.list"))
