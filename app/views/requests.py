"""Request pages: transfers, change requests with their items, deregistrations."""

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..acting import current_actor
from ..extensions import db
from ..models import ChangeItem, ChangeRequest, Deregistration, Organization, Transfer
from ..services import deregistration as dereg
from ..services.uploads import max_bytes as max_upload_bytes
from ..workflows import deregistration as dereg_flow
from .base import ScopedInterface, ScopedModelView, person_actor, safe_back
from .choices import CHANGE_KINDS, DEREG_KINDS, INITIATORS, ORG_KINDS, STATUSES, fmt
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


# ------------------------------------------------------------------ deregistration pages
# Rules and queries live in ``services/deregistration.py``; state changes in
# ``workflows/deregistration.py``. Every page re-checks the actor: a person sees only its own
# requests, an organisation only its own and those addressed to it.

DEREG_REVIEW_VIEW = "DeregistrationReviewView"
PERSON_DEREG_VIEW = "PersonDeregistrationView"
ORG_DEREG_VIEW = "OrgDeregistrationView"
REVIEW_PAGE_SIZE = 20


def _dereg_context(obj):
    """What the detail and list templates show of one request."""
    return {
        "obj": obj,
        "subject": dereg.subject_name(obj),
        "stage": dereg.stage(obj),
        "proof_url": f"/uploads/deregistration/{obj.id}/proof" if obj.proof_file else None,
    }



class PersonDeregistrationView(BaseView):
    """个人中心 · 账号注销: the professional's own requests, the application form and withdrawal."""

    route_base = "/deregistration/mine"
    default_view = "list"
    class_permission_name = PERSON_DEREG_VIEW

    def _actor(self):
        return person_actor()

    def _render(self, actor, values=None, errors=None):
        requests_ = dereg.person_requests(actor)
        open_req = next((r for r in requests_ if r.state == "pending"), None)
        return self.render_template(
            "ce/deregistration/person.html",
            title=_("Account deregistration"),
            rows=[dict(_dereg_context(r), withdraw=("withdraw" in dereg_flow.available_triggers(r, actor))) for r in requests_],
            open_request=open_req,
            causes=dereg.PERSON_CAUSES,
            values=values or {},
            errors=errors or {},
            states=dereg_flow.STATE_LABELS,
        )

    @expose("/list/")
    @has_access
    @permission_name("list")
    def list(self):
        return self._render(self._actor())

    @expose("/apply", methods=["POST"])
    @has_access
    @permission_name("add")
    def apply(self):
        actor = self._actor()
        values = {k: (request.form.get(k) or "")[: dereg.REASON_MAX + 10] for k in ("cause", "reason")}
        try:
            dereg.apply_person(actor, values["cause"], values["reason"])
        except dereg.DeregistrationInvalid as e:
            return self._render(actor, values, e.errors), 200
        flash(_("Your deregistration request was submitted to your employer unit for review."), "success")
        return redirect(url_for(f"{PERSON_DEREG_VIEW}.list"))

    @expose("/withdraw/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def withdraw(self, pk):
        actor = self._actor()
        try:
            dereg.withdraw(actor, pk)
        except dereg.DeregistrationInvalid:
            abort(404)
        except dereg.DeregistrationError as e:
            flash(str(e), "danger")
        else:
            flash(_("The deregistration request was withdrawn."), "info")
        return redirect(url_for(f"{PERSON_DEREG_VIEW}.list"))


class OrgDeregistrationView(BaseView):
    """单位 · 注销/合并申请: the organisation's own requests, the application (super admin only), the
    merge-target picker, withdrawal and the printable proof template."""

    route_base = "/deregistration/unit"
    default_view = "list"
    class_permission_name = ORG_DEREG_VIEW

    def _actor(self):
        actor = current_actor()
        if actor is None or actor.is_person or actor.org_id is None:
            abort(403)
        return actor

    def _render(self, actor, values=None, errors=None):
        org = db.session.get(Organization, actor.org_id)
        requests_ = dereg.org_requests(actor)
        target_name = ""
        if (values or {}).get("merge_into", "").isdigit():
            target = db.session.get(Organization, int(values["merge_into"]))
            target_name = target.name if target is not None else ""
        return self.render_template(
            "ce/deregistration/org.html",
            title=_("Deregistration or merger"),
            org=org,
            is_super=dereg_flow.is_super_admin(actor, actor.org_id),
            rows=[dict(_dereg_context(r), withdraw=("withdraw" in dereg_flow.available_triggers(r, actor))) for r in requests_],
            open_request=next((r for r in requests_ if r.state == "pending"), None),
            blockers=dereg.org_blockers(org) if org is not None else {},
            kinds=dereg.ORG_REQUESTS,
            values=values or {"request_kind": "deregister"},
            errors=errors or {},
            picked_name=target_name,
            upload_mb=round(max_upload_bytes() / 1024 / 1024, 1),
        )

    @expose("/list/")
    @has_access
    @permission_name("list")
    def list(self):
        return self._render(self._actor())

    @expose("/apply", methods=["POST"])
    @has_access
    @permission_name("add")
    def apply(self):
        actor = self._actor()
        values = {k: (request.form.get(k) or "")[: dereg.REASON_MAX + 10] for k in ("request_kind", "reason", "merge_into")}
        try:
            dereg.apply_org(
                actor, values["request_kind"], values["reason"], values["merge_into"] or None, request.files.get("proof_file")
            )
        except dereg.DeregistrationInvalid as e:
            return self._render(actor, values, e.errors), 200
        flash(_("The request was submitted to the superior organisation for review."), "success")
        return redirect(url_for(f"{ORG_DEREG_VIEW}.list"))

    @expose("/withdraw/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def withdraw(self, pk):
        actor = self._actor()
        obj = dereg.visible_request(actor, pk)
        if obj is None or obj.kind != "org" or obj.org_id != actor.org_id:
            abort(404)
        try:
            dereg.withdraw(actor, pk)
        except dereg.DeregistrationInvalid:
            abort(404)
        except dereg.DeregistrationError as e:
            flash(str(e), "danger")
        else:
            flash(_("The request was withdrawn."), "info")
        return redirect(url_for(f"{ORG_DEREG_VIEW}.list"))

    @expose("/targets")
    @has_access
    @permission_name("add")
    def targets(self):
        """JSON for the merge-target picker: approved organisations of the same kind, 20 a page."""
        actor = self._actor()
        try:
            page = int(request.args.get("page") or 1)
        except ValueError:
            page = 1
        return jsonify(dereg.merge_targets(actor, request.args.get("q", ""), page))

    @expose("/template")
    @has_access
    @permission_name("list")
    def template(self):
        """The printable application form (证明文件模板), pre-filled with the organisation's data."""
        actor = self._actor()
        org = db.session.get(Organization, actor.org_id)
        return self.render_template(
            "ce/deregistration/proof_template.html",
            title=_("Application for deregistration or merger of an organisation"),
            org=org,
            kinds=dereg.ORG_REQUESTS,
            org_kinds=ORG_KINDS,
        )


class DeregistrationReviewView(BaseView):
    """注销审核: requests waiting for the acting organisation (approve / reject, one or selected, after
    a confirmation page), the ones it reviewed, and the detail of any request in its scope."""

    route_base = "/review/deregistrations"
    default_view = "list"
    class_permission_name = DEREG_REVIEW_VIEW

    def _actor(self):
        actor = current_actor()
        if actor is None or actor.is_person or actor.org_id is None:
            abort(403)
        return actor

    @expose("/list/")
    @has_access
    @permission_name("list")
    def list(self):
        actor = self._actor()
        tab = "history" if request.args.get("tab") == "history" else "pending"
        q = (request.args.get("q") or "").strip()[:50]
        try:
            page = max(int(request.args.get("page") or 1), 1)
        except ValueError:
            page = 1
        query = dereg.handled_query(actor) if tab == "history" else dereg.inbox_query(actor, q)
        rows = query.offset((page - 1) * REVIEW_PAGE_SIZE).limit(REVIEW_PAGE_SIZE + 1).all()
        return self.render_template(
            "ce/deregistration/review_list.html",
            title=_("Deregistration review"),
            tab=tab,
            q=q,
            page=page,
            has_more=len(rows) > REVIEW_PAGE_SIZE,
            rows=[_dereg_context(r) for r in rows[:REVIEW_PAGE_SIZE]],
            kinds=DEREG_KINDS,
            pending_count=dereg.inbox_query(actor).count(),
        )

    @expose("/show/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        actor = self._actor()
        obj = dereg.visible_request(actor, pk)
        if obj is None:
            abort(404)
        return self.render_template(
            "ce/deregistration/show.html",
            title=_("Deregistration details"),
            kinds=DEREG_KINDS,
            history=dereg.history(obj),
            can_review=dereg_flow.is_handler(obj, actor) and obj.state == "pending",
            is_own=bool(dereg.own_ids(actor, [obj])),
            **_dereg_context(obj),
        )

    @expose("/review", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self):
        """Approve or reject the posted ids. Without ``confirmed`` a confirmation page is shown; with
        it, every id must be waiting for the actor's organisation or nothing changes."""
        actor = self._actor()
        trigger = request.form.get("action") or request.form.get("trigger") or ""
        if trigger not in ("approve", "reject"):
            abort(400)
        ids = request.form.getlist("ids")
        reason = request.form.get("reason", "")
        back = safe_back(request.form.get("back", ""), url_for(f"{DEREG_REVIEW_VIEW}.list"))
        if not ids:
            flash(_("No request was selected."), "warning")
            return redirect(back)
        if request.form.get("confirmed") != "1":
            try:
                wanted = sorted({int(i) for i in ids})
            except ValueError:
                abort(400)
            rows = dereg.inbox_query(actor).filter(Deregistration.id.in_(wanted)).all()
            if len(rows) != len(wanted):
                flash(str(dereg.E["not_found"]), "danger")
                return redirect(back)
            return self.render_template(
                "ce/deregistration/confirm.html",
                title=_("Confirm"),
                trigger=trigger,
                rows=[_dereg_context(r) for r in rows],
                reason=reason,
                back=back,
                kinds=DEREG_KINDS,
            )
        try:
            done = dereg.review(actor, ids, trigger, reason)
        except dereg.DeregistrationInvalid as e:
            for message in e.errors.values():
                flash(str(message), "danger")
            return redirect(back)
        except dereg.DeregistrationError as e:
            flash(str(e), "danger")
            return redirect(back)
        if trigger == "approve":
            flash(_("%(n)d requests approved.", n=len(done)), "success")
        else:
            flash(_("%(n)d requests rejected.", n=len(done)), "success")
        if getattr(done, "skipped_own", None):
            flash(dereg.skipped_message(len(done.skipped_own)), "warning")
        return redirect(url_for(f"{DEREG_REVIEW_VIEW}.list"))
