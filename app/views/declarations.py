"""Hours declaration screens (学时申报): the professional's declaration form and progress query, the
organisation's declaration for its people with its records, and the reviewers' inbox (学时学分审批).

Views parse input and render; every rule (validation, uploads, routing, transitions, hours) lives in
``services/declarations.py`` and ``workflows/declaration.py``. Lists are limited with the one scope
predicate; details and actions check ``scope.visible`` first (404 outside the scope).
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField

from ..extensions import db
from ..models import Declaration, Organization, Professional
from ..models.org import CE_BASE
from ..plugins import HoursContext, get_learning_form, learning_forms
from ..plugins.base import Required, to_formdata
from ..services import declarations as service
from ..services import scope
from ..services.lists import capped_count
from ..services.declarations import DeclarationInvalid
from ..workflows.declaration import DeclarationError, is_own
from .base import masked, org_actor, person_actor, safe_back
from .choices import SUBJECT_TYPES

PAGE_SIZE = 20
CONFIRM_PREVIEW = 50
COMMON_FIELDS = ("subject_type", "form_code", "year", "start_date", "end_date", "result", "requested_hours", "remark")
MAX_EVIDENCE = 5
STATES = ("draft", "pending", "approved", "rejected", "annulled")
TRIGGERS = ("approve", "reject")
TRIGGER_LABELS = {"approve": _l("Approve"), "reject": _l("Reject")}
HISTORY_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "revoke": _l("Revoked"),
    "annul": _l("Annulled"),
    "save": _l("Saved"),
    "create": _l("Created"),
}
STATE_LABELS = {
    "draft": _l("Not submitted"),
    "pending": _l("Pending review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "annulled": _l("Annulled"),
}
INBOX_KINDS = {"professional": _l("Professionals' declarations"), "ce_base": _l("CE bases' declarations")}


def _message(exc) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(str(v) for v in errors.values())
    return str(exc)


# -- small helpers ----------------------------------------------------------------------------------


def _int_arg(name, default=None, source=None):
    source = request.args if source is None else source
    try:
        return int(source.get(name, ""))
    except (TypeError, ValueError):
        return default


def _page(name):
    return max(_int_arg(f"page_{name}", 0) or 0, 0)


def _capped_count(stmt) -> tuple[int, bool]:
    return capped_count(stmt.with_only_columns(Declaration.id))




def form_name(code) -> str:
    lf = get_learning_form(code) if code else None
    return str(lf.name) if lf is not None else (code or "")


def _hours(value) -> str:
    if value is None:
        return ""
    return str(value)


def _field_value(field, value):
    if value is None or value == "":
        return ""
    if isinstance(field, BooleanField):
        return _("Yes") if value in (True, "y", "true", "1", 1) else _("No")
    if isinstance(field, SelectField):
        for choice in field.choices or []:
            if str(choice[0]) == str(value):
                return str(choice[1])
    return value


def data_rows(declaration) -> list[tuple[str, str]]:
    """(label, shown value) of the learning form's own fields, labels from the plugin form."""
    data = declaration.data or {}
    lf = get_learning_form(declaration.form_code)
    if lf is None:
        return [(k, v) for k, v in data.items()]
    bound = lf.bind(data=data)
    return [(str(f.label.text), _field_value(f, data.get(name))) for name, f in bound._fields.items()]


def _probe_context(year) -> HoursContext:
    return HoursContext(year=year or date.today().year, public_required=0, professional_required=0)


def _computes(lf, year) -> bool:
    """True when the form computes standard hours (else the requested hours are typed in)."""
    try:
        return lf.hours({}, _probe_context(year)) is not None
    except Exception:
        return True


def _standard_hours(lf, data, context):
    if lf is None or context is None:
        return None
    clean, errs = lf.validate(data)
    if errs:
        return None
    return lf.standard_hours(clean, context)


def _posted_values() -> dict:
    """The common fields and the chosen form's fields (plain names) of the posted form."""
    values = {k: (request.form.get(k) or "").strip() for k in COMMON_FIELDS}
    code = values["form_code"]
    prefix = code + "-"
    values["data"] = {k[len(prefix):]: v for k, v in request.form.items() if code and k.startswith(prefix)}
    return values


def _evidence_files():
    return [f for f in request.files.getlist("evidence") if f and f.filename][:MAX_EVIDENCE]


def _values_of(decl) -> dict:
    return {
        "subject_type": decl.subject_type,
        "form_code": decl.form_code,
        "year": str(decl.year),
        "start_date": decl.start_date.isoformat() if decl.start_date else "",
        "end_date": decl.end_date.isoformat() if decl.end_date else "",
        "result": decl.result or "",
        "requested_hours": _hours(decl.requested_hours),
        "remark": decl.remark or "",
        "data": dict(decl.data or {}),
    }


def _groups(values, posted, field_errors, context):
    """One field group per enabled learning form (prefix ``<code>-``), bound to what was typed."""
    groups = []
    year = _int_arg("year", None, {"year": values.get("year")})
    for code, lf in learning_forms().items():
        prefix = code + "-"
        if posted:
            bound = lf.bind(formdata=request.form, prefix=prefix)
        elif code == values.get("form_code"):
            stored = {prefix + k: v for k, v in (values.get("data") or {}).items()}
            bound = lf.bind(formdata=to_formdata(stored), prefix=prefix)
        else:
            bound = lf.bind(data={}, prefix=prefix)
        fields = []
        for name, field in bound._fields.items():
            error = field_errors.get(name) if code == values.get("form_code") else None
            fields.append({
                "name": name,
                "field": field,
                "error": error,
                "boolean": isinstance(field, BooleanField),
                "required": any(isinstance(v, Required) for v in field.validators),
            })
        groups.append({
            "code": code,
            "name": str(lf.name),
            "subject_types": sorted(lf.subject_types),
            "evidence": str(lf.evidence or ""),
            "hours_rule": str(lf.hours_rule or ""),
            "computes": _computes(lf, year),
            "fields": fields,
        })
    return groups


def _split_errors(errors: dict, code: str = "") -> tuple[dict, dict, list]:
    """(common field errors, plugin field errors, other messages) of a ``DeclarationInvalid``."""
    lf = learning_forms().get(code or "")
    plugin_names = {name for name, _label in lf.fields()} if lf is not None else set()
    common, plugin, other = {}, {}, []
    for key, msg in (errors or {}).items():
        msg = msg if isinstance(msg, str) else "; ".join(str(m) for m in msg)
        if key in COMMON_FIELDS or key == "evidence":
            common[key] = msg
        elif key in plugin_names:
            plugin[key] = msg
        else:
            other.append(msg)
    return common, plugin, other


def _history(decl):
    try:
        return service.history(decl)
    except Exception:  # the detail page still opens when the history cannot be read
        current_app.logger.exception("declaration %s: history failed", decl.id)
        return []


def _context_for(professional, year):
    if professional is None:
        return None
    try:
        return service.hours_context(professional, int(year))
    except Exception:
        return None


def _compute_response(professional):
    """JSON standard hours of the posted form for ``professional`` (None: typed in by the declarant)."""
    values = _posted_values()
    lf = learning_forms().get(values["form_code"])
    if lf is None:
        return jsonify({"hours": None, "computes": False})
    year = _int_arg("year", date.today().year, values)
    computes = _computes(lf, year)
    hours = _standard_hours(lf, values["data"], _context_for(professional, year)) if computes else None
    return jsonify({"hours": _hours(hours) or None, "computes": computes})


def _form_context(values, errors=None, posted=False, professional=None):
    common, plugin, other = _split_errors(errors or {}, values.get("form_code"))
    lf = learning_forms().get(values.get("form_code") or "")
    year = _int_arg("year", date.today().year, values)
    standard = None
    if lf is not None:
        data = values.get("data") or {}
        standard = _standard_hours(lf, data, _context_for(professional, year))
    return {
        "values": values,
        "groups": _groups(values, posted, plugin, None),
        "errors": common,
        "other_errors": other,
        "subject_types": SUBJECT_TYPES,
        "standard": _hours(standard),
        "this_year": date.today().year,
        "max_evidence": MAX_EVIDENCE,
    }


def _detail_context(decl):
    return {
        "obj": decl,
        "form_label": form_name(decl.form_code),
        "subject_label": SUBJECT_TYPES.get(decl.subject_type, decl.subject_type),
        "state_label": STATE_LABELS.get(decl.state, decl.state),
        "data_rows": data_rows(decl),
        "attachments": sorted(decl.attachments, key=lambda a: a.id),
        "history": _history(decl),
        "history_labels": HISTORY_LABELS,
        "states": STATE_LABELS,
        "show_id": masked,
    }


def _list_helpers():
    return {
        "form_name": form_name,
        "subjects": SUBJECT_TYPES,
        "states": STATE_LABELS,
        "show_id": masked,
        "fmt_hours": _hours,
    }


def _years():
    this = date.today().year
    return list(range(this, this - 8, -1))


# =====================================================================================================
# 学时(分)申报 and 申报进度查询 (professional)


PERSON_VIEW = "HoursDeclarationView"


class HoursDeclarationView(BaseView):
    """The professional's own declarations: declare, progress query, detail, edit, submit, revoke, delete."""

    route_base = "/hours/declarations"
    default_view = "progress"
    class_permission_name = PERSON_VIEW

    def _actor(self):
        return person_actor()

    def _own(self, actor, pk) -> Declaration:
        if not scope.visible(db.session, Declaration, actor, pk):
            abort(404)
        return db.session.get(Declaration, pk)

    def _render_form(self, actor, values, errors=None, posted=False, decl=None):
        professional = db.session.get(Professional, actor.person_id)
        if professional is not None and professional.is_accountant:
            values = dict(values, subject_type="public")
        ctx = _form_context(values, errors, posted, professional)
        return self.render_template(
            "ce/declaration/form.html",
            title=_("Edit declaration") if decl is not None else _("Declare hours"),
            action_url=url_for(f"{PERSON_VIEW}.edit", pk=decl.id) if decl is not None else url_for(f"{PERSON_VIEW}.declare"),
            compute_url=url_for(f"{PERSON_VIEW}.compute"),
            back_url=url_for(f"{PERSON_VIEW}.progress"),
            decl=decl,
            attachments=sorted(decl.attachments, key=lambda a: a.id) if decl is not None else [],
            with_evidence=True,
            people=None,
            public_only=bool(professional is not None and professional.is_accountant),
            **ctx,
        )

    def _save(self, actor, decl=None):
        values = _posted_values()
        submit = request.form.get("submit_action") == "submit"
        try:
            saved = service.save_declaration(
                actor, values, _evidence_files(), declaration_id=decl.id if decl is not None else None, submit=submit
            )
        except DeclarationInvalid as exc:
            db.session.rollback()
            common, plugin, _other = _split_errors(exc.errors, values["form_code"])
            if common or plugin:
                flash(_("Please correct the errors below."), "danger")
            return self._render_form(actor, values, exc.errors, posted=True, decl=decl)
        except DeclarationError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return self._render_form(actor, values, None, posted=True, decl=decl)
        if submit:
            flash(_("The declaration was submitted for review."), "success")
        else:
            flash(_("The declaration was saved as a draft; submit it when ready."), "success")
        return redirect(url_for(f"{PERSON_VIEW}.show", pk=saved.id))

    @expose("/declare", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def declare(self):
        """学时(分)申报: the form of the chosen learning form, evidence, save as draft or submit."""
        actor = self._actor()
        if request.method == "POST":
            return self._save(actor)
        values = {k: "" for k in COMMON_FIELDS}
        values.update(year=str(date.today().year), data={}, subject_type="professional")
        first = next(iter(learning_forms()), "")
        values["form_code"] = request.args.get("form_code") if request.args.get("form_code") in learning_forms() else first
        copy = _int_arg("copy")
        if copy and scope.visible(db.session, Declaration, actor, copy):
            # A rejected declaration corrected and submitted again as a new declaration.
            values = _values_of(db.session.get(Declaration, copy))
            values["year"] = str(date.today().year)
        return self._render_form(actor, values)

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def edit(self, pk):
        actor = self._actor()
        decl = self._own(actor, pk)
        if decl.state != "draft":
            flash(_("Only drafts can be edited."), "warning")
            return redirect(url_for(f"{PERSON_VIEW}.show", pk=pk))
        if request.method == "POST":
            return self._save(actor, decl)
        return self._render_form(actor, _values_of(decl), decl=decl)

    @expose("/compute", methods=["POST"])
    @has_access
    @permission_name("add")
    def compute(self):
        """Standard hours of the posted form data (JSON), shown read-only where the form computes them."""
        actor = self._actor()
        return _compute_response(db.session.get(Professional, actor.person_id))

    @expose("/")
    @has_access
    @permission_name("list")
    def progress(self):
        """申报进度查询: tabs by state, year and subject filters, paged."""
        actor = self._actor()
        state = request.args.get("state", "")
        state = state if state in STATES else ""
        year = _int_arg("year")
        subject = request.args.get("subject_type", "")
        subject = subject if subject in SUBJECT_TYPES else ""
        stmt = select(Declaration).where(scope.scope_clause(Declaration, actor))
        if state:
            stmt = stmt.where(Declaration.state == state)
        if year:
            stmt = stmt.where(Declaration.year == year)
        if subject:
            stmt = stmt.where(Declaration.subject_type == subject)
        count, capped = _capped_count(stmt)
        page = _page(PERSON_VIEW)
        rows = db.session.scalars(
            stmt.options(selectinload(Declaration.handler_org))
            .order_by(Declaration.id.desc())
            .limit(PAGE_SIZE)
            .offset(page * PAGE_SIZE)
        ).all()
        tabs = [("", _("All"))] + [(s, STATE_LABELS[s]) for s in STATES]
        return self.render_template(
            "ce/declaration/progress.html",
            title=_("Declaration progress"),
            rows=rows,
            count=count,
            capped=capped,
            page=page,
            page_size=PAGE_SIZE,
            modelview_name=PERSON_VIEW,
            tabs=tabs,
            state=state,
            year=year,
            years=_years(),
            subject=subject,
            **_list_helpers(),
        )

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        actor = self._actor()
        decl = self._own(actor, pk)
        return self.render_template(
            "ce/declaration/show.html",
            title=_("Declaration details"),
            person_actions=True,
            back_url=url_for(f"{PERSON_VIEW}.progress"),
            **_detail_context(decl),
        )

    def _act(self, pk, fn, done):
        actor = self._actor()
        self._own(actor, pk)
        try:
            fn(actor, pk)
        except (DeclarationInvalid, DeclarationError) as exc:
            db.session.rollback()
            flash(_message(exc), "danger")
            return redirect(url_for(f"{PERSON_VIEW}.show", pk=pk))
        flash(done, "success")
        return None

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    @permission_name("edit")
    def submit(self, pk):
        return self._act(pk, service.submit, _("The declaration was submitted for review.")) or redirect(
            url_for(f"{PERSON_VIEW}.show", pk=pk)
        )

    @expose("/<int:pk>/revoke", methods=["POST"])
    @has_access
    @permission_name("edit")
    def revoke(self, pk):
        return self._act(pk, service.revoke, _("The declaration was revoked and is a draft again.")) or redirect(
            url_for(f"{PERSON_VIEW}.show", pk=pk)
        )

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    @permission_name("delete")
    def delete(self, pk):
        return self._act(pk, service.delete_draft, _("The draft was deleted.")) or redirect(
            url_for(f"{PERSON_VIEW}.progress")
        )


# =====================================================================================================
# 学时学分申报 and 单位申报记录 (employer units and competent departments)


UNIT_VIEW = "UnitDeclarationView"


class UnitDeclarationView(BaseView):
    """An organisation declares hours for professionals of its scope; its records (单位申报记录)."""

    route_base = "/hours/unit"
    default_view = "records"
    class_permission_name = UNIT_VIEW

    def _actor(self):
        return org_actor()

    def _people_stmt(self, actor, q):
        stmt = select(Professional).where(scope.scope_clause(Professional, actor), Professional.status == "approved")
        if q:
            stmt = stmt.where(or_(Professional.name.like(scope.like_prefix(q), escape="\\"), Professional.id_number == q.upper()))
        return stmt

    @expose("/declare")
    @has_access
    @permission_name("add")
    def declare(self):
        """Step 1: choose the professionals (search, paging, check boxes kept across pages)."""
        actor = self._actor()
        q = (request.args.get("q") or "").strip()[:64]
        selected = {v for v in request.args.getlist("sel") if v.isdigit()}
        shown = {v for v in request.args.getlist("shown") if v.isdigit()}
        picked = {v for v in request.args.getlist("pick") if v.isdigit()}
        selected = (selected - shown) | picked
        if request.args.get("go"):
            if not selected:
                flash(_("Select at least one professional."), "warning")
            else:
                return redirect(url_for(f"{UNIT_VIEW}.form", people=sorted(selected, key=int)))
        stmt = self._people_stmt(actor, q)
        count = db.session.execute(select(func.count()).select_from(stmt.with_only_columns(Professional.id).subquery())).scalar_one()
        pages = max((count + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(max(_int_arg("page", 0) or 0, 0), pages - 1)
        rows = db.session.scalars(
            stmt.options(selectinload(Professional.org), selectinload(Professional.department))
            .order_by(Professional.id)
            .limit(PAGE_SIZE)
            .offset(page * PAGE_SIZE)
        ).all()
        return self.render_template(
            "ce/declaration/unit_people.html",
            title=_("Unit hours declaration"),
            rows=rows,
            q=q,
            selected=selected,
            count=count,
            page=page,
            pages=pages,
            show_id=masked,
        )

    def _people(self, actor, ids):
        people = []
        for raw in ids:
            if not str(raw).isdigit():
                return None
            if not scope.visible(db.session, Professional, actor, int(raw)):
                return None
            people.append(db.session.get(Professional, int(raw)))
        return people

    def _render_form(self, actor, people, values, errors=None, posted=False):
        public_only = bool(people) and all(p.is_accountant for p in people)
        if public_only:
            values = dict(values, subject_type="public")
        ctx = _form_context(values, errors, posted, people[0] if people else None)
        return self.render_template(
            "ce/declaration/form.html",
            title=_("Unit hours declaration"),
            action_url=url_for(f"{UNIT_VIEW}.form"),
            compute_url=url_for(f"{UNIT_VIEW}.compute"),
            back_url=url_for(f"{UNIT_VIEW}.declare", sel=[p.id for p in people]),
            decl=None,
            attachments=[],
            with_evidence=False,
            people=people,
            show_id=masked,
            public_only=public_only,
            **ctx,
        )

    @expose("/declare/form", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def form(self):
        """Step 2: the common fields and the learning form's fields, declared for every chosen person."""
        actor = self._actor()
        source = request.form if request.method == "POST" else request.args
        ids = list(dict.fromkeys(source.getlist("people")))
        people = self._people(actor, ids)
        if people is None:
            flash(_("A selected professional is outside your scope."), "danger")
            return redirect(url_for(f"{UNIT_VIEW}.declare"))
        if not people:
            flash(_("Select at least one professional."), "warning")
            return redirect(url_for(f"{UNIT_VIEW}.declare"))
        if request.method == "GET":
            values = {k: "" for k in COMMON_FIELDS}
            values.update(year=str(date.today().year), data={}, subject_type="professional")
            values["form_code"] = next(iter(learning_forms()), "")
            return self._render_form(actor, people, values)
        values = _posted_values()
        try:
            made = service.declare_for(actor, [p.id for p in people], values)
        except DeclarationInvalid as exc:
            db.session.rollback()
            common, plugin, _other = _split_errors(exc.errors, values["form_code"])
            if common or plugin:
                flash(_("Please correct the errors below."), "danger")
            return self._render_form(actor, people, values, exc.errors, posted=True)
        except DeclarationError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return self._render_form(actor, people, values, None, posted=True)
        flash(_("%(n)d declarations were submitted for review.", n=len(made)), "success")
        return redirect(url_for(f"{UNIT_VIEW}.records"))

    @expose("/compute", methods=["POST"])
    @has_access
    @permission_name("add")
    def compute(self):
        actor = self._actor()
        people = self._people(actor, request.form.getlist("people")[:1]) or [None]
        return _compute_response(people[0])

    @expose("/records")
    @has_access
    @permission_name("list")
    def records(self):
        """单位申报记录: declarations this organisation made, all / pending / approved / rejected."""
        actor = self._actor()
        state = request.args.get("state", "")
        state = state if state in ("pending", "approved", "rejected") else ""
        year = _int_arg("year")
        q = (request.args.get("q") or "").strip()[:64]
        stmt = (
            select(Declaration)
            .join(Professional, Declaration.professional_id == Professional.id)
            .where(Declaration.declared_by_org_id == actor.org_id, scope.scope_clause(Declaration, actor))
        )
        if state:
            stmt = stmt.where(Declaration.state == state)
        if year:
            stmt = stmt.where(Declaration.year == year)
        if q:
            stmt = stmt.where(or_(Professional.name.like(scope.like_prefix(q), escape="\\"), Professional.id_number == q.upper()))
        count, capped = _capped_count(stmt)
        page = _page(UNIT_VIEW)
        rows = db.session.scalars(
            stmt.options(selectinload(Declaration.handler_org), selectinload(Declaration.professional))
            .order_by(Declaration.id.desc())
            .limit(PAGE_SIZE)
            .offset(page * PAGE_SIZE)
        ).all()
        tabs = [("", _("All"))] + [(s, STATE_LABELS[s]) for s in ("pending", "approved", "rejected")]
        return self.render_template(
            "ce/declaration/records.html",
            title=_("Unit declaration records"),
            rows=rows,
            count=count,
            capped=capped,
            page=page,
            page_size=PAGE_SIZE,
            modelview_name=UNIT_VIEW,
            tabs=tabs,
            state=state,
            year=year,
            years=_years(),
            q=q,
            **_list_helpers(),
        )

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        actor = self._actor()
        decl = service.visible_declaration(actor, pk)
        if decl is None:
            abort(404)
        return self.render_template(
            "ce/declaration/show.html",
            title=_("Declaration details"),
            person_actions=False,
            back_url=url_for(f"{UNIT_VIEW}.records"),
            **_detail_context(decl),
        )


# =====================================================================================================
# 学时学分审批 (employer, competent department, HR bureau, province)


REVIEW_VIEW = "HoursReviewView"


class HoursReviewView(BaseView):
    """The review inbox: pending declarations handled by the acting organisation, by year."""

    route_base = "/hours/review"
    default_view = "index"
    class_permission_name = REVIEW_VIEW

    def _actor(self):
        return org_actor()

    @staticmethod
    def _pending(actor):
        # Addressed to the actor's own organisation: that is the reviewer's scope for this inbox (the
        # subtree predicate would add a join over every organisation and say nothing more; a CE base's
        # declaration may even be handled by an organisation above the base, not above the employer).
        return select(Declaration).where(
            Declaration.state == "pending",
            Declaration.handler_org_id == actor.org_id,
        )

    def _inbox(self, actor, kind, year, q):
        ce_bases = select(Organization.id).where(Organization.kind == CE_BASE)
        stmt = self._pending(actor).where(Declaration.year == year)
        if kind == "ce_base":
            stmt = stmt.where(Declaration.declared_by_org_id.in_(ce_bases))
        else:
            stmt = stmt.where(or_(Declaration.declared_by_org_id.is_(None), Declaration.declared_by_org_id.not_in(ce_bases)))
        if q:
            stmt = stmt.join(Professional, Declaration.professional_id == Professional.id).where(
                or_(Professional.name.like(scope.like_prefix(q), escape="\\"), Professional.id_number == q.upper())
            )
        return stmt

    @staticmethod
    def _filters(source):
        kind = source.get("kind", "professional")
        kind = kind if kind in INBOX_KINDS else "professional"
        year = _int_arg("year", date.today().year, source)
        q = (source.get("q") or "").strip()[:64]
        return kind, year, q

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        """学时学分审批: the current year by default; tabs for professionals' and CE bases' declarations."""
        actor = self._actor()
        kind, year, q = self._filters(request.args)
        stmt = self._inbox(actor, kind, year, q)
        count, capped = _capped_count(stmt)
        page = _page(REVIEW_VIEW)
        rows = db.session.scalars(
            stmt.options(selectinload(Declaration.professional), selectinload(Declaration.org),
                         selectinload(Declaration.declared_by_org))
            .order_by(Declaration.submitted_at, Declaration.id)
            .limit(PAGE_SIZE)
            .offset(page * PAGE_SIZE)
        ).all()
        tabs = []
        for k, label in INBOX_KINDS.items():
            # The current tab without a search was counted just above.
            n, c = (count, capped) if k == kind and not q else _capped_count(self._inbox(actor, k, year, ""))
            tabs.append({"kind": k, "label": label, "count": f"{n}+" if c else n,
                         "url": url_for(f"{REVIEW_VIEW}.index", kind=k, year=year)})
        return self.render_template(
            "ce/declaration/inbox.html",
            title=_("Hours approval"),
            rows=rows,
            count=count,
            capped=capped,
            page=page,
            page_size=PAGE_SIZE,
            modelview_name=REVIEW_VIEW,
            tabs=tabs,
            kind=kind,
            year=year,
            years=_years(),
            q=q,
            **_list_helpers(),
        )

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def show(self, pk):
        actor = self._actor()
        decl = service.visible_declaration(actor, pk)
        if decl is None:
            abort(404)
        can_review = (
            decl.state == "pending"
            and decl.handler_org_id == actor.org_id
            and self.appbuilder.sm.has_access("can_review", REVIEW_VIEW)
            and not is_own(decl, actor)  # nobody decides their own declaration
        )
        can_annul = (
            decl.state == "approved"
            and bool(decl.route)
            and decl.route[-1] == actor.org_id
            and self.appbuilder.sm.has_access("can_review", REVIEW_VIEW)
            and not is_own(decl, actor)
        )
        return self.render_template(
            "ce/declaration/show.html",
            title=_("Declaration details"),
            person_actions=False,
            can_review=can_review,
            can_annul=can_annul,
            back_url=url_for(f"{REVIEW_VIEW}.index", year=decl.year),
            **_detail_context(decl),
        )

    @expose("/<int:pk>/annul", methods=["POST"])
    @has_access
    @permission_name("review")
    def annul(self, pk):
        """撤销认定: the final reviewer withdraws approved hours with a reason; certificates covering
        the year are revoked."""
        actor = self._actor()
        try:
            service.annul(actor, pk, request.form.get("comment") or "")
        except DeclarationInvalid:
            abort(404)
        except DeclarationError as exc:
            flash(_message(exc), "danger")
            return redirect(url_for(f"{REVIEW_VIEW}.show", pk=pk))
        flash(_("The approved hours were annulled."), "success")
        return redirect(url_for(f"{REVIEW_VIEW}.show", pk=pk))

    @expose("/review", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self):
        """Approve / reject one, the selected, or all matching the filter (after a confirmation page)."""
        actor = self._actor()
        action = request.form.get("action", "")
        if action:
            trigger, _sep, suffix = action.partition("_")
            which = "all" if suffix == "all" else "selected"
        else:
            trigger, which = request.form.get("trigger", ""), request.form.get("scope", "selected")
        if trigger not in TRIGGERS or which not in ("selected", "all", "single"):
            abort(400)
        kind, year, q = self._filters(request.form)
        back = safe_back(request.form.get("back"), url_for(f"{REVIEW_VIEW}.index", kind=kind, year=year, q=q or None))
        if which == "all":
            ids = list(db.session.scalars(self._inbox(actor, kind, year, q).with_only_columns(Declaration.id)
                                          .order_by(Declaration.id)))
        else:
            raw = request.form.getlist("ids")
            if not all(v.isdigit() for v in raw):
                abort(400)
            ids = sorted({int(v) for v in raw})
        if not ids:
            flash(_("No declaration was selected."), "warning")
            return redirect(back)
        # Every id must be waiting for the acting organisation: otherwise nothing is changed.
        mine = set(db.session.scalars(self._pending(actor).where(Declaration.id.in_(ids)).with_only_columns(Declaration.id)))
        if mine != set(ids):
            flash(_("Some of the selected declarations are not waiting for your review; nothing was changed."), "danger")
            return redirect(back)
        comment = (request.form.get("comment") or "").strip()
        recognised = None
        if which == "single":
            if len(ids) != 1:
                abort(400)
            raw_hours = (request.form.get("recognised_hours") or "").strip()[:16]
            recognised = {ids[0]: raw_hours} if raw_hours else None
        elif request.form.get("confirmed") != "1":
            return self._confirm(trigger, which, kind, year, q, ids, comment, back)
        if which == "all":
            expected = _int_arg("expected", -1, request.form)
            if expected != len(ids):
                flash(_("The matching declarations changed; please confirm again."), "warning")
                return self._confirm(trigger, which, kind, year, q, ids, comment, back)
        try:
            done = service.review(actor, ids, trigger, comment=comment, recognised_hours=recognised)
        except (DeclarationInvalid, DeclarationError) as exc:
            db.session.rollback()
            flash(_message(exc), "danger")
            if which == "single":
                return redirect(back)
            return self._confirm(trigger, which, kind, year, q, ids, comment, back)
        n = len(done) if isinstance(done, (list, tuple)) else len(ids)
        if trigger == "approve":
            flash(_("%(n)d declarations approved.", n=n), "success")
        else:
            flash(_("%(n)d declarations rejected.", n=n), "success")
        if getattr(done, "skipped_own", None):
            flash(service.skipped_message(len(done.skipped_own)), "warning")
        if which == "single":
            return redirect(url_for(f"{REVIEW_VIEW}.index", year=year, kind=kind))
        return redirect(url_for(f"{REVIEW_VIEW}.index", kind=kind, year=year, q=q or None))

    def _confirm(self, trigger, which, kind, year, q, ids, comment, back):
        preview = db.session.scalars(
            select(Declaration).where(Declaration.id.in_(ids[:CONFIRM_PREVIEW]))
            .options(selectinload(Declaration.professional)).order_by(Declaration.id)
        ).all()
        return self.render_template(
            "ce/declaration/confirm.html",
            title=_("Confirm review"),
            trigger=trigger,
            trigger_label=TRIGGER_LABELS[trigger],
            scope=which,
            kind=kind,
            year=year,
            q=q,
            ids=ids if which != "all" else [],
            count=len(ids),
            preview=preview,
            more=max(len(ids) - len(preview), 0),
            comment=comment,
            back=back,
            form_name=form_name,
            fmt_hours=_hours,
        )
