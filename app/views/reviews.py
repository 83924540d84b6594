"""注册审核: review screens of the registrations addressed to the acting organisation.

One tab per kind the capacity reviews (an employer: professionals and sub-units; a competent
department: employer units, CE bases, competent departments; HR bureaus and the province: HR
bureaus, competent departments, employer units, CE bases), each with 待审核 (pending) and 已审核
(history). Approve or reject one, the selected rows, or every row matching the search, after a
confirmation page showing the count. Rules and queries live in ``services/registration_review.py``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import acting
from ..models.org import CE_BASE, COMPETENT, EMPLOYER, HR
from ..services import registration_review as rr
from ..services.masking import mask_id_number
from .base import can_view_full_id, masked_birth_date, safe_back
from .choices import GENDERS, ORG_KINDS, STATUSES
from .labels import LABELS

VIEW_NAME = "RegistrationReviewView"
# Shown on the confirmation page before a bulk action (the rest are only counted).
CONFIRM_PREVIEW = 50
TRIGGER_LABELS = {"approve": _l("Approve"), "reject": _l("Reject")}
RESULT_LABELS = {"approve": _l("Approved"), "reject": _l("Rejected")}


def _page_arg() -> int:
    try:
        return max(int(request.args.get(f"page_{VIEW_NAME}", 0)), 0)
    except ValueError:
        return 0


def _id(value) -> str:
    if not value:
        return ""
    return value if can_view_full_id() else mask_id_number(value)


class RegistrationReviewView(BaseView):
    """Pending registrations (待审核), history (已审核), detail and the review action."""

    route_base = "/review/registrations"
    default_view = "index"
    class_permission_name = VIEW_NAME

    # -- helpers -----------------------------------------------------------------------------

    def _actor(self, kind=None):
        actor = acting.current_actor()
        kinds = rr.kinds_for(actor)
        if not kinds:
            abort(403)
        if kind is not None and kind not in kinds:
            abort(404)
        return actor, kinds

    def _tabs(self, actor, kinds):
        counts = rr.counts(actor)
        return [
            {"kind": k, "label": rr.KIND_LABELS[k], "count": counts.get(k, 0), "url": url_for(f"{VIEW_NAME}.{k}")}
            for k in kinds
        ]

    def _render_list(self, kind, tab):
        actor, kinds = self._actor(kind)
        q = (request.args.get("q") or "").strip()[:64]
        if tab == "history":
            page = rr.history(kind, actor, q, _page_arg())
        else:
            page = rr.pending(kind, actor, q, _page_arg())
        return self.render_template(
            "ce/review/registrations.html",
            title=_("Registration review"),
            kind=kind,
            kind_label=rr.KIND_LABELS[kind],
            tab=tab,
            tabs=self._tabs(actor, kinds),
            q=q,
            page=page,
            modelview_name=VIEW_NAME,
            labels=LABELS,
            org_kinds=ORG_KINDS,
            results=RESULT_LABELS,
            show_id=_id,
            pending_url=url_for(f"{VIEW_NAME}.{kind}", q=q or None),
            history_url=url_for(f"{VIEW_NAME}.history", kind=kind, q=q or None),
        )

    # -- pages -------------------------------------------------------------------------------

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        """The first kind the acting capacity reviews."""
        _actor, kinds = self._actor()
        return redirect(url_for(f"{VIEW_NAME}.{kinds[0]}"))

    @expose("/professional/")
    @has_access
    @permission_name("list")
    def professional(self):
        return self._render_list(rr.PROFESSIONAL, "pending")

    @expose("/employer/")
    @has_access
    @permission_name("list")
    def employer(self):
        return self._render_list(EMPLOYER, "pending")

    @expose("/ce_base/")
    @has_access
    @permission_name("list")
    def ce_base(self):
        return self._render_list(CE_BASE, "pending")

    @expose("/competent/")
    @has_access
    @permission_name("list")
    def competent(self):
        return self._render_list(COMPETENT, "pending")

    @expose("/hr/")
    @has_access
    @permission_name("list")
    def hr(self):
        return self._render_list(HR, "pending")

    @expose("/<kind>/history/")
    @has_access
    @permission_name("list")
    def history(self, kind):
        return self._render_list(kind, "history")

    @expose("/<kind>/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, kind, pk):
        """All registration fields of one registration addressed to the actor (any status)."""
        actor, kinds = self._actor(kind)
        obj = rr.get_pending(kind, actor, pk)
        if obj is None:
            abort(404)
        fields = self._fields(kind, obj)
        applicants = [] if kind == rr.PROFESSIONAL else rr.applicants(obj)
        return self.render_template(
            "ce/review/registration_show.html",
            title=_("Registration details"),
            kind=kind,
            kind_label=rr.KIND_LABELS[kind],
            obj=obj,
            fields=fields,
            applicants=applicants,
            show_id=_id,
            is_pending=obj.status == "pending",
            is_own=bool(rr.own_ids(kind, actor, [obj.id])),
            certificate_url=(
                f"/uploads/org/{obj.id}/certificate" if kind != rr.PROFESSIONAL and obj.certificate_scan else None
            ),
            back_url=url_for(f"{VIEW_NAME}.{kind}"),
        )

    @staticmethod
    def _fields(kind, obj):
        def name(rel):
            return rel.name if rel is not None else ""

        status = STATUSES.get(obj.status, obj.status)
        if kind == rr.PROFESSIONAL:
            user = obj.user
            return [
                (LABELS["name"], obj.name),
                (LABELS["id_number"], _id(obj.id_number)),
                (LABELS["gender"], GENDERS.get(obj.gender, obj.gender or "")),
                (LABELS["birth_date"], masked_birth_date(obj.birth_date)),
                (LABELS["ethnicity"], name(obj.ethnicity)),
                (LABELS["native_place"], obj.native_place or ""),
                (LABELS["region"], name(obj.region)),
                (_l("Employer unit"), name(obj.org)),
                (LABELS["department"], name(obj.department)),
                (LABELS["school"], obj.school or ""),
                (LABELS["major"], name(obj.major)),
                (_l("Mobile"), (user.mobile or "") if user else ""),
                (_l("Email"), (user.email or "") if user else ""),
                (LABELS["phone"], (user.phone or "") if user else ""),
                (_l("Submitted"), obj.created.strftime("%Y-%m-%d %H:%M") if obj.created else ""),
                (LABELS["status"], status),
            ]
        return [
            (LABELS["kind"], ORG_KINDS.get(obj.kind, obj.kind)),
            (LABELS["name"], obj.name),
            (LABELS["credit_code"], obj.credit_code or ""),
            (LABELS["nature"], name(obj.nature)),
            (LABELS["level"], name(obj.level)),
            (LABELS["industry"], name(obj.industry)),
            (LABELS["region"], name(obj.region)),
            (LABELS["parent"], name(obj.parent)),
            (LABELS["phone"], obj.phone or ""),
            (LABELS["address"], obj.address or ""),
            (_l("Submitted"), obj.created.strftime("%Y-%m-%d %H:%M") if obj.created else ""),
            (LABELS["status"], status),
        ]

    # -- the action --------------------------------------------------------------------------

    @expose("/<kind>/review", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self, kind):
        """Approve / reject one, the selected, or all matching rows.

        Without ``confirmed`` the confirmation page (count, names, reason) is shown; with it the
        service validates every row and changes all or nothing.
        """
        actor, _kinds = self._actor(kind)
        action = request.form.get("action", "")
        if action:  # a button of the list page: approve / reject / approve_all / reject_all
            trigger, _sep, suffix = action.partition("_")
            scope = "all" if suffix == "all" else "selected"
        else:
            trigger, scope = request.form.get("trigger", ""), request.form.get("scope", "selected")
        if trigger not in rr.TRIGGERS or scope not in ("selected", "all"):
            abort(400)
        q = (request.form.get("q") or "").strip()[:64]
        if scope == "all":
            ids = rr.matching_ids(kind, actor, q)
        else:
            ids = request.form.getlist("ids")
        back = safe_back(request.form.get("back"), url_for(f"{VIEW_NAME}.{kind}", q=q or None))
        if not ids:
            flash(_("No registration was selected."), "warning")
            return redirect(back)
        reason = request.form.get("reason", "")
        if request.form.get("confirmed") != "1":
            return self._confirm(actor, kind, trigger, scope, q, ids, reason, back)
        expected = None
        if scope == "all":
            try:
                expected = int(request.form.get("expected", ""))
            except ValueError:
                abort(400)
        try:
            done = rr.review_many(ids, kind, trigger, actor, reason, expected=expected)
        except rr.ReviewRefused as exc:
            flash(str(exc.message), "danger")
            if exc.code in ("reason", "reason_long"):
                return self._confirm(actor, kind, trigger, scope, q, ids, reason, back)
            return redirect(back)
        if trigger == "approve":
            flash(_("%(n)d registrations approved.", n=len(done)), "success")
        else:
            flash(_("%(n)d registrations rejected.", n=len(done)), "success")
        if getattr(done, "skipped_own", None):
            flash(rr.skipped_message(len(done.skipped_own)), "warning")
        return redirect(url_for(f"{VIEW_NAME}.{kind}", q=q or None))

    def _confirm(self, actor, kind, trigger, scope, q, ids, reason, back):
        preview = rr.pending_named(kind, actor, ids, CONFIRM_PREVIEW)
        return self.render_template(
            "ce/review/confirm.html",
            title=_("Confirm review"),
            kind=kind,
            kind_label=rr.KIND_LABELS[kind],
            trigger=trigger,
            trigger_label=TRIGGER_LABELS[trigger],
            scope=scope,
            q=q,
            ids=ids if scope != "all" else [],
            count=len(ids),
            preview=preview,
            more=max(len(ids) - len(preview), 0),
            reason=reason,
            back=back,
            action_url=url_for(f"{VIEW_NAME}.review", kind=kind),
        )
