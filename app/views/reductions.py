"""Reduced requirement screens (学时折算): the professional's requests (list, form, detail, submit,
revoke, delete) and the reviewers' inbox (approve / reject one or many with a comment).

Views parse input and render; every rule lives in ``services/reductions.py`` and
``workflows/reduction.py``. Details, evidence and actions check the request's visibility first (404
outside it); the review POST acts only on requests waiting for the acting organisation.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Professional, RequirementReduction
from ..services import declarations as declarations_service
from ..services import reductions as service
from ..services.reductions import ReductionInvalid
from ..workflows.reduction import STATE_LABELS, ReductionError
from .base import masked, org_actor, person_actor, safe_back
from .declarations import _int_arg, _message

FIELDS = ("year", "reason", "months_on_duty", "remark")
TRIGGERS = ("approve", "reject")
TRIGGER_LABELS = {"approve": _l("Approve"), "reject": _l("Reject")}
HISTORY_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "revoke": _l("Revoked"),
}
CONFIRM_PREVIEW = 50

PERSON_VIEW = "ReductionView"
REVIEW_VIEW = "ReductionReviewView"


def _history(obj):
    try:
        return service.history(obj)
    except Exception:  # the detail page still opens when the history cannot be read
        current_app.logger.exception("reduction %s: history failed", obj.id)
        return []


def _helpers():
    return {
        "reason_label": service.reason_label,
        "states": STATE_LABELS,
        "show_id": masked,
        "history_labels": HISTORY_LABELS,
    }


def _evidence(obj) -> list[dict]:
    """(index, filename) of the request's evidence images, for thumbnails served by ``UploadView``."""
    return [{"index": i, "filename": (e or {}).get("filename") or ""} for i, e in enumerate(obj.evidence or [])]


def _years():
    this = date.today().year
    return list(range(this, this - 8, -1))


# =====================================================================================================
# 学时折算申请 (professional)


class ReductionView(BaseView):
    """The professional's reduced-requirement requests: list, request, edit draft, submit, revoke, delete."""

    route_base = "/hours/reductions"
    default_view = "index"
    class_permission_name = PERSON_VIEW

    def _actor(self):
        return person_actor()

    def _own(self, actor, pk) -> RequirementReduction:
        obj = service.visible_reduction(actor, pk)
        if obj is None:
            abort(404)
        return obj

    def _open_years(self, actor, values) -> list[int]:
        person = db.session.get(Professional, actor.person_id)
        years = sorted(declarations_service.open_years(person), reverse=True) if person is not None else []
        chosen = _int_arg("year", None, values)
        if chosen is not None and chosen not in years:
            years.append(chosen)  # what was typed stays visible next to its error
        return years

    def _render_form(self, actor, values, errors=None, obj=None):
        errors = dict(errors or {})
        other = [m for k, m in errors.items() if k not in FIELDS and k != "evidence"]
        return self.render_template(
            "ce/reduction/form.html",
            title=_("Reduced requirement"),
            action_url=url_for(f"{PERSON_VIEW}.edit", pk=obj.id) if obj is not None else url_for(f"{PERSON_VIEW}.add"),
            back_url=url_for(f"{PERSON_VIEW}.index"),
            values=values,
            errors=errors,
            other_errors=other,
            years=self._open_years(actor, values),
            reasons=service.REASONS,
            months=list(range(0, service.MONTHS_MAX + 1)),
            obj=obj,
            evidence=_evidence(obj) if obj is not None else [],
            max_evidence=service.MAX_EVIDENCE,
        )

    def _save(self, actor, obj=None):
        values = {k: (request.form.get(k) or "").strip() for k in FIELDS}
        submit = request.form.get("submit_action") == "submit"
        files = [f for f in request.files.getlist("evidence") if f and f.filename][: service.MAX_EVIDENCE + 1]
        try:
            saved = service.request_reduction(
                actor, values, files, submit=submit, reduction_id=obj.id if obj is not None else None
            )
        except ReductionInvalid as exc:
            db.session.rollback()
            flash(_("Please correct the errors below."), "danger")
            return self._render_form(actor, values, exc.errors, obj=obj)
        except ReductionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return self._render_form(actor, values, None, obj=obj)
        if submit:
            flash(_("The request was submitted for review."), "success")
        else:
            flash(_("The request was saved as a draft; submit it when ready."), "success")
        return redirect(url_for(f"{PERSON_VIEW}.show", pk=saved.id))

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        """学时折算申请: the person's requests with state and current handler."""
        actor = self._actor()
        return self.render_template(
            "ce/reduction/index.html",
            title=_("Reduced requirement"),
            rows=service.mine(actor),
            **_helpers(),
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def add(self):
        """The request form: year, reason, months on duty, remark, evidence; save as draft or submit."""
        actor = self._actor()
        if request.method == "POST":
            return self._save(actor)
        values = {k: "" for k in FIELDS}
        values["year"] = str(date.today().year)
        return self._render_form(actor, values)

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def edit(self, pk):
        actor = self._actor()
        obj = self._own(actor, pk)
        if obj.state != "draft":
            flash(_("Only drafts can be edited."), "warning")
            return redirect(url_for(f"{PERSON_VIEW}.show", pk=pk))
        if request.method == "POST":
            return self._save(actor, obj)
        values = {
            "year": str(obj.year), "reason": obj.reason, "months_on_duty": str(obj.months_on_duty),
            "remark": obj.remark or "",
        }
        return self._render_form(actor, values, obj=obj)

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        actor = self._actor()
        obj = self._own(actor, pk)
        return self.render_template(
            "ce/reduction/show.html",
            title=_("Reduced requirement"),
            obj=obj,
            evidence=_evidence(obj),
            history=_history(obj),
            person_actions=True,
            can_review=False,
            back_url=url_for(f"{PERSON_VIEW}.index"),
            **_helpers(),
        )

    def _act(self, pk, fn, done, target):
        actor = self._actor()
        self._own(actor, pk)
        try:
            fn(actor, pk)
        except (ReductionInvalid, ReductionError) as exc:
            db.session.rollback()
            flash(_message(exc), "danger")
            return redirect(url_for(f"{PERSON_VIEW}.show", pk=pk))
        flash(done, "success")
        return redirect(target)

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    @permission_name("edit")
    def submit(self, pk):
        return self._act(pk, service.submit, _("The request was submitted for review."),
                         url_for(f"{PERSON_VIEW}.show", pk=pk))

    @expose("/<int:pk>/revoke", methods=["POST"])
    @has_access
    @permission_name("edit")
    def revoke(self, pk):
        return self._act(pk, service.revoke, _("The request was revoked and is a draft again."),
                         url_for(f"{PERSON_VIEW}.show", pk=pk))

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    @permission_name("delete")
    def delete(self, pk):
        return self._act(pk, service.delete_draft, _("The draft was deleted."), url_for(f"{PERSON_VIEW}.index"))


# =====================================================================================================
# 学时折算审核 (employer, competent department, HR bureau, province)


class ReductionReviewView(BaseView):
    """The review inbox of reduced-requirement requests waiting for the acting organisation, by year."""

    route_base = "/hours/reductions/review"
    default_view = "index"
    class_permission_name = REVIEW_VIEW

    def _actor(self):
        return org_actor()

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        """The current year by default, with a year filter; 20 per page; select many and act."""
        actor = self._actor()
        year = _int_arg("year", date.today().year)
        found = service.inbox(actor, year, _int_arg("page", 0) or 0)
        return self.render_template(
            "ce/reduction/inbox.html",
            title=_("Reduced requirement review"),
            rows=found.rows,
            count=found.count,
            page=found.page,
            pages=found.pages,
            year=year,
            years=_years(),
            **_helpers(),
        )

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        actor = self._actor()
        obj = service.visible_reduction(actor, pk)
        if obj is None:
            abort(404)
        can_review = (
            obj.state == "pending"
            and obj.handler_org_id == actor.org_id
            and self.appbuilder.sm.has_access("can_review", REVIEW_VIEW)
        )
        return self.render_template(
            "ce/reduction/show.html",
            title=_("Reduced requirement"),
            obj=obj,
            evidence=_evidence(obj),
            history=_history(obj),
            person_actions=False,
            can_review=can_review,
            back_url=url_for(f"{REVIEW_VIEW}.index", year=obj.year),
            **_helpers(),
        )

    @expose("/review", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self):
        """Approve / reject one (from its detail) or the selected ones (after a confirmation page)."""
        actor = self._actor()
        trigger = request.form.get("trigger", "")
        which = request.form.get("scope", "selected")
        if trigger not in TRIGGERS or which not in ("selected", "single"):
            abort(400)
        year = _int_arg("year", date.today().year, request.form)
        back = safe_back(request.form.get("back"), url_for(f"{REVIEW_VIEW}.index", year=year))
        raw = request.form.getlist("ids")
        if not all(v.isdigit() for v in raw):
            abort(400)
        ids = sorted({int(v) for v in raw})
        if not ids:
            flash(_("Select at least one request."), "warning")
            return redirect(back)
        if which == "single" and len(ids) != 1:
            abort(400)
        # Every id must be waiting for the acting organisation: otherwise nothing is changed.
        mine = set(db.session.scalars(
            service.inbox_query(actor).where(RequirementReduction.id.in_(ids))
            .with_only_columns(RequirementReduction.id)
        ))
        if mine != set(ids):
            flash(_("Some of the selected requests are not waiting for your review; nothing was changed."), "danger")
            return redirect(back)
        comment = (request.form.get("comment") or "").strip()
        if which == "selected" and request.form.get("confirmed") != "1":
            return self._confirm(trigger, year, ids, comment, back)
        try:
            done = service.review(actor, ids, trigger, comment=comment)
        except (ReductionInvalid, ReductionError) as exc:
            db.session.rollback()
            flash(_message(exc), "danger")
            if which == "single":
                return redirect(back)
            return self._confirm(trigger, year, ids, comment, back)
        flash(service.review_message(len(done), trigger), "success")
        if getattr(done, "skipped_own", None):
            flash(service.skipped_message(len(done.skipped_own)), "warning")
        return redirect(url_for(f"{REVIEW_VIEW}.index", year=year))

    def _confirm(self, trigger, year, ids, comment, back):
        preview = db.session.scalars(
            select(RequirementReduction).where(RequirementReduction.id.in_(ids[:CONFIRM_PREVIEW]))
            .options(selectinload(RequirementReduction.professional)).order_by(RequirementReduction.id)
        ).all()
        return self.render_template(
            "ce/reduction/confirm.html",
            title=_("Confirm review"),
            trigger=trigger,
            trigger_label=TRIGGER_LABELS[trigger],
            year=year,
            ids=ids,
            count=len(ids),
            preview=preview,
            more=max(len(ids) - len(preview), 0),
            comment=comment,
            back=back,
            **_helpers(),
        )
