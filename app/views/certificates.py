"""Annual completion and e-certificate screens: the professional's 年度完成情况 with 证书打印 and
合并打印, the admins' certificate printing over their scope, and the public verification page.

Rules live in ``services/completion.py`` and ``services/certificates.py``; these views parse input,
check the acting capacity and render. Printing is a POST (it issues a certificate) and answers with
the PDF.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import acting
from ..extensions import db
from ..models import Professional
from ..services import certificates as service
from ..services.certificates import ANNUAL, MERGED, CertificateRefused
from ..services.completion import completion_query, counted_declarations, merge_refusal, year_results
from ..services.lists import capped_count
from ..services.masking import mask_id_number
from ..services.scope import visible
from .base import org_actor, person_actor
from .choices import SUBJECT_TYPES
from .declarations import form_name

PAGE_SIZE = 20
RESULTS = {"passed": _l("Year passed"), "failed": _l("Not passed"), "all": _l("All")}
EARLIEST_YEAR = 2013


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _pdf(data: bytes, filename: str) -> Response:
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


class CompletionView(BaseView):
    """年度完成情况: one row per year since registration, the year detail, 证书打印 and 合并打印."""

    route_base = "/hours/completion"
    default_view = "index"
    class_permission_name = "CompletionView"

    def _professional(self) -> Professional:
        person_id = person_actor().person_id
        professional = db.session.get(Professional, person_id) if person_id is not None else None
        if professional is None:
            abort(403)
        return professional

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        """The years (newest first); with a year range, the merged-print button or why it is absent."""
        professional = self._professional()
        this_year = dt.date.today().year
        year_from = _int(request.args.get("year_from"))
        year_to = _int(request.args.get("year_to"))
        ranged = year_from is not None or year_to is not None
        error = None
        if ranged:
            year_from = year_from if year_from is not None else EARLIEST_YEAR
            year_to = year_to if year_to is not None else this_year
            if not (EARLIEST_YEAR <= year_from <= year_to <= this_year):
                error = _("Choose a valid range of years.")
                rows = year_results(professional)
                ranged = False
            else:
                rows = year_results(professional, year_from, year_to)
        else:
            rows = year_results(professional)
        refusal = merge_refusal(rows) if ranged and year_from != year_to else None
        return self.render_template(
            "ce/completion/index.html",
            title=_("Annual completion"),
            rows=rows,
            professional=professional,
            ranged=ranged and year_from != year_to,
            year_from=year_from,
            year_to=year_to,
            years=list(range(this_year, EARLIEST_YEAR - 1, -1)),
            refusal=refusal,
            error=error,
        )

    @expose("/<int:year>")
    @has_access
    @permission_name("list")
    def detail(self, year):
        """The counted (finally approved) declarations of a year and the requirement applied."""
        professional = self._professional()
        result = year_results(professional, year, year)
        if not result:
            abort(404)
        return self.render_template(
            "ce/completion/detail.html",
            title=_("Completion in %(year)s", year=year),
            result=result[0],
            declarations=counted_declarations(professional, year),
            subjects=SUBJECT_TYPES,
            form_name=form_name,
            declaration_endpoint="HoursDeclarationView.show",
            back_url=url_for("CompletionView.index"),
        )

    @expose("/print/<int:year>", methods=["POST"])
    @has_access
    @permission_name("list")
    def print_year(self, year):
        """证书打印: the certificate of one passed year (issued or reprinted) as a PDF."""
        return self._print(year, year, ANNUAL)

    @expose("/print-merged", methods=["POST"])
    @has_access
    @permission_name("list")
    def print_merged(self):
        """合并打印: one certificate over a range whose every year passed."""
        year_from = _int(request.form.get("year_from"))
        year_to = _int(request.form.get("year_to"))
        if year_from is None or year_to is None or year_from >= year_to:
            flash(_("Choose a valid range of years."), "danger")
            return redirect(url_for("CompletionView.index"))
        return self._print(year_from, year_to, MERGED)

    def _print(self, year_from, year_to, layout):
        self._professional()
        try:
            cert, data = service.print_own(acting.current_actor(), year_from, year_to, layout)
        except CertificateRefused as exc:
            flash(str(exc), "danger")
            args = {"year_from": year_from, "year_to": year_to} if layout == MERGED else {}
            return redirect(url_for("CompletionView.index", **args))
        name = f"certificate-{year_from}" + (f"-{year_to}" if year_to != year_from else "") + ".pdf"
        return _pdf(data, name)


class CertificatePrintView(BaseView):
    """证书打印 for employer, competent department and HR admins: search their scope by year and ID
    number or name; print one, or the selected ones as one PDF (one page each)."""

    route_base = "/certificates/print"
    default_view = "index"
    class_permission_name = "CertificatePrintView"

    def _actor(self):
        return org_actor()

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        """The professionals of the scope with their hours of the chosen year, 20 per page."""
        actor = self._actor()
        this_year = dt.date.today().year
        year = _int(request.args.get("year"), this_year - 1)
        if not EARLIEST_YEAR <= year <= this_year:
            year = this_year - 1
        search = (request.args.get("q") or "").strip()[:64]
        result = request.args.get("result", "passed")
        result = result if result in RESULTS else "passed"
        passed = {"passed": True, "failed": False, "all": None}[result]
        stmt = completion_query(actor, year, search=search, passed=passed)
        count, capped = capped_count(stmt.with_only_columns(Professional.id))
        page = max(_int(request.args.get("page_CertificatePrintView"), 0) or 0, 0)
        rows = db.session.execute(stmt.limit(PAGE_SIZE).offset(page * PAGE_SIZE)).all()
        return self.render_template(
            "ce/completion/print.html",
            title=_("Certificate printing"),
            rows=rows,
            year=year,
            years=list(range(this_year, EARLIEST_YEAR - 1, -1)),
            search=search,
            result=result,
            results=RESULTS,
            count=count,
            capped=capped,
            page=page,
            page_size=PAGE_SIZE,
            modelview_name="CertificatePrintView",
            mask=mask_id_number,
            max_bulk=service.MAX_BULK,
        )

    @expose("/person/<int:pk>/<int:year>")
    @has_access
    @permission_name("list")
    def detail(self, pk, year):
        """One person's year as the admin sees it: hours, requirement, result and the counted
        declarations (each opens on the review detail, where the final reviewer may annul it)."""
        actor = self._actor()
        if not visible(db.session, Professional, actor, pk) or not EARLIEST_YEAR <= year <= dt.date.today().year:
            abort(404)
        professional = db.session.get(Professional, pk)
        result = year_results(professional, year, year)[0]
        return self.render_template(
            "ce/completion/detail.html",
            title=_("%(name)s: completion in %(year)s", name=professional.name, year=year),
            result=result,
            declarations=counted_declarations(professional, year),
            subjects=SUBJECT_TYPES,
            form_name=form_name,
            declaration_endpoint="HoursReviewView.show",
            back_url=url_for("CertificatePrintView.index", year=year),
        )

    @expose("/print", methods=["POST"])
    @has_access
    @permission_name("list")
    def print_selected(self):
        """One PDF with the certificates of the posted ids (all in scope and passed, else nothing)."""
        actor = self._actor()
        year = _int(request.form.get("year"))
        ids = request.form.getlist("ids")
        back = url_for("CertificatePrintView.index", year=year, q=request.form.get("q") or None)
        if year is None:
            flash(_("Choose a valid range of years."), "danger")
            return redirect(back)
        try:
            certs, data = service.print_for_people(actor, ids, year)
        except CertificateRefused as exc:
            flash(str(exc), "danger")
            return redirect(back)
        return _pdf(data, f"certificates-{year}-{len(certs)}.pdf")


class CertificateVerifyView(BaseView):
    """The public verification page (no login): a stable URL per verification code, the target of the
    certificate's QR code. Shows validity and masked personal data only."""

    route_base = "/verify"
    default_view = "index"

    @expose("/")
    def index(self):
        code = (request.args.get("code") or "").strip()
        if code:
            return redirect(url_for("CertificateVerifyView.verify", code=code[:64]))
        return self.render_template("ce/completion/verify.html", title=_("Certificate verification"), result=None,
                                    code="", searched=False)

    @expose("/<code>")
    def verify(self, code):
        result = service.verify(code)
        body = self.render_template(
            "ce/completion/verify.html",
            title=_("Certificate verification"),
            result=result,
            code=code[:64],
            searched=True,
        )
        resp = Response(body, status=200 if result is not None else 404)
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp
