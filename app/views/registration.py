"""Public registration pages: choose, professional, organisation, progress query (+ withdraw), and the
searchable, paginated organisation pickers (JSON). Rules live in ``services/registration.py``.

Anonymous and costly or sensitive, so: every POST here (registration with its upload, progress query,
withdrawal) is rate-limited per client address (``CE_PUBLIC_RATE_LIMIT``), and the forms that check a
password or create an account need the one-use captcha (``services/captcha.consume``), checked before
anything else is looked at.
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.utils.limit import Limit
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from sqlalchemy import or_

from ..extensions import db
from ..models import Ethnicity, Industry, Major, Organization, Region
from ..models.common import APPROVED
from ..models.org import CE_BASE, COMPETENT, EMPLOYER, HR
from ..models.reference import UnitLevel, UnitNature
from ..services import captcha as captcha_service
from ..services import registration as reg
from ..services.auth import MESSAGES as LOGIN_MESSAGES
from ..services.scope import like_contains
from ..services.uploads import max_bytes as max_upload_bytes
from ..workflows.registration import RegistrationError

PAGE_SIZE = 20
KIND_LABELS = {
    EMPLOYER: _l("Employer unit"),
    COMPETENT: _l("Competent department"),
    CE_BASE: _l("Continuing-education base"),
    HR: _l("HR bureau"),
}
_SECRET_FIELDS = ("password", "confirm", "applicant_password", "applicant_confirm", "captcha")
DEFAULT_PUBLIC_RATE_LIMIT = "30 per minute"


def public_rate_limit() -> str:
    """POSTs per client address on the public registration pages (``CE_PUBLIC_RATE_LIMIT``)."""
    return current_app.config.get("CE_PUBLIC_RATE_LIMIT") or DEFAULT_PUBLIC_RATE_LIMIT


def _client_key() -> str:
    """The client address, as the login's limit sees it (``RATELIMIT_KEY_FUNC``, e.g. behind a proxy)."""
    return (current_app.config.get("RATELIMIT_KEY_FUNC") or get_remote_address)()


def _captcha_errors() -> dict:
    """Consume the session's captcha (one use, right or wrong); ``{"captcha": message}`` if it failed."""
    if captcha_service.consume(db.session, request.form.get("captcha")):
        return {}
    return {"captcha": LOGIN_MESSAGES["bad_captcha"]}


def _regions():
    rows = db.session.query(Region).filter(Region.level.in_(("city", "county", "direct"))).order_by(Region.code).all()
    cities = [r for r in rows if r.level in ("city", "direct")]
    counties = [r for r in rows if r.level == "county"]
    return cities, counties


def _codes(model):
    return db.session.query(model).filter(model.enabled.is_(True)).order_by(model.code).all()


def _region_ids(region_id):
    """The region and the regions directly under it (a city's counties)."""
    if not region_id:
        return None
    ids = [region_id] + [r for (r,) in db.session.query(Region.id).filter(Region.parent_id == region_id)]
    return ids


def _kept(form) -> dict:
    """The submitted values to show again (never the passwords)."""
    return {k: v for k, v in form.items() if k not in _SECRET_FIELDS and k != "csrf_token"}


def _org_page(kinds, region_id, q, page):
    query = db.session.query(Organization.id, Organization.name).filter(
        Organization.status == APPROVED, Organization.kind.in_(kinds)
    )
    ids = _region_ids(region_id)
    if ids:
        query = query.filter(Organization.region_id.in_(ids))
    q = (q or "").strip()[:50]
    if q:
        query = query.filter(or_(Organization.name.like(like_contains(q), escape="\\"), Organization.credit_code == q.upper()))
    page = max(page, 1)
    rows = query.order_by(Organization.name, Organization.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1).all()
    return {
        "items": [{"id": r.id, "name": r.name} for r in rows[:PAGE_SIZE]],
        "page": page,
        "has_more": len(rows) > PAGE_SIZE,
    }


def _target(value):
    """``"professional:12"`` -> ("professional", 12); anything else -> (None, None) (then nothing matches)."""
    kind, _sep, pk = (value or "").partition(":")
    if kind in ("professional", "organization") and pk.isdigit():
        return kind, int(pk)
    return None, None


def _args():
    try:
        region_id = int(request.args.get("region") or 0) or None
        page = int(request.args.get("page") or 1)
    except ValueError:
        region_id, page = None, 1
    return region_id, request.args.get("q", ""), page


class RegistrationView(BaseView):
    """注册: public, no login."""

    route_base = "/register"
    default_view = "index"
    # Per client address and per page, on POSTs only (FAB applies it to the blueprint; Flask-Limiter
    # keeps one counter per endpoint): the GETs of the forms and the organisation pickers are free.
    limits = [Limit(public_rate_limit, key_func=_client_key, methods=("POST",))]

    @expose("/")
    def index(self):
        return self.render_template("ce/register_choose.html", title=_("Register"))

    def _person_context(self, values, errors):
        cities, counties = _regions()
        employer_name = ""
        if values.get("employer", "").isdigit():
            emp = db.session.get(Organization, int(values["employer"]))
            employer_name = emp.name if emp and emp.status == APPROVED and emp.kind == EMPLOYER else ""
        return dict(
            title=_("Professional registration"),
            values=values,
            errors=errors,
            cities=cities,
            counties=counties,
            ethnicities=_codes(Ethnicity),
            majors=_codes(Major),
            picked_name=employer_name,
        )

    @expose("/professional", methods=["GET", "POST"])
    def professional(self):
        values, errors = {}, {}
        if request.method == "POST":
            values = _kept(request.form)
            # The captcha first: a wrong one looks at nothing else (no password check, no account).
            errors = _captcha_errors()
            if not errors:
                try:
                    reg.register_professional(request.form.to_dict())
                except reg.RegistrationInvalid as e:
                    errors = e.errors
                else:
                    flash(_("Your registration was submitted and waits for review by your employer unit."), "info")
                    return redirect(url_for("RegistrationView.progress"))
        return self.render_template("ce/register_professional.html", **self._person_context(values, errors))

    @expose("/organization", methods=["GET", "POST"])
    def organization(self):
        values, errors = {"applicant": "new"}, {}
        if request.method == "POST":
            values = _kept(request.form)
            # The captcha before the applicant's password and before the upload is decoded.
            errors = _captcha_errors()
            if not errors:
                try:
                    reg.register_organization(request.form.to_dict(), request.files.get("certificate_scan"))
                except reg.RegistrationInvalid as e:
                    errors = e.errors
                else:
                    flash(_("The registration was submitted and waits for review by the superior organisation."), "info")
                    return redirect(url_for("RegistrationView.progress"))
        cities, counties = _regions()
        parent_name = ""
        if values.get("parent", "").isdigit():
            par = db.session.get(Organization, int(values["parent"]))
            parent_name = par.name if par and par.status == APPROVED else ""
        return self.render_template(
            "ce/register_organization.html",
            title=_("Organisation registration"),
            values=values,
            errors=errors,
            cities=cities,
            counties=counties,
            kinds=KIND_LABELS,
            natures=_codes(UnitNature),
            levels=_codes(UnitLevel),
            industries=_codes(Industry),
            picked_name=parent_name,
            upload_mb=round(max_upload_bytes() / 1024 / 1024, 1),
        )

    @expose("/progress", methods=["GET", "POST"])
    def progress(self):
        """注册审核进度查询: name + ID number give each registration's state (and, while pending, the
        reviewing organisation); withdrawing a pending one needs the registrant's password and the captcha.
        Only POSTs query, so every query counts towards the rate limit."""
        form = request.form if request.method == "POST" else {}
        name = (form.get("name") or "").strip()
        id_number = (form.get("id_number") or "").strip()
        results, searched, errors = [], False, {}
        if request.method == "POST" and form.get("action") == "withdraw":
            errors = _captcha_errors()
            object_type, object_id = _target(form.get("target"))
            if not errors:
                try:
                    reg.withdraw(name, id_number, object_type, object_id, password=form.get("password") or "")
                    flash(_("The registration was withdrawn. You may register again."), "info")
                except RegistrationError as e:
                    errors = {"password": e.message} if e.code in ("bad_password", "locked") else {}
                    if not errors:
                        flash(str(e.message), "danger")
        if request.method == "POST" and name and id_number:
            results, searched = reg.progress_query(name, id_number), True
        elif request.method == "POST":
            flash(_("Enter your name and ID number."), "warning")
        return self.render_template(
            "ce/register_progress.html",
            title=_("Registration progress"),
            name=name,
            id_number=id_number,
            results=results,
            searched=searched,
            errors=errors,
        )

    @expose("/employers")
    def employers(self):
        """Approved employer units, optionally in a region, searched by name; 20 a page."""
        region_id, q, page = _args()
        return jsonify(_org_page((EMPLOYER,), region_id, q, page))

    @expose("/superiors")
    def superiors(self):
        """Approved organisations that may be the superior of an organisation of ``kind``."""
        region_id, q, page = _args()
        kinds = reg.SUPERIOR_KINDS.get(request.args.get("kind", ""), ())
        if not kinds:
            return jsonify({"items": [], "page": 1, "has_more": False})
        return jsonify(_org_page(kinds, region_id, q, page))
