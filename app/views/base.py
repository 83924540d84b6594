"""The shared base views. Every FAB view and REST API of the product inherits from these.

They close the holes measured in ARCHITECTURE.md:
* rows are always loaded through the scope predicate (list, show, edit, delete, actions, REST);
  edit, delete, actions and REST PUT/DELETE load them through the stricter write rule
  (``scope.write_clause``: 403 for a row the actor may read but not change, 404 outside its scope),
  and a created or changed row must be owned where the actor may write;
* actions accept POST only and re-load their rows with the write rule;
* related-field choices (forms and REST ``_info``) are limited to the scope, and creating or
  updating a row that points at an organisation or person outside the scope is refused;
* search is on scalar columns only;
* counts are capped (``CE_COUNT_CAP``) so large scopes page fast;
* ID numbers are masked unless the actor holds ``can_view_full_id`` on ``IdNumber``; without it the
  birth date (which would restore the masked digits) is blanked, ID-number columns can only be
  searched for an exact value (no starts-with / contains / ends-with / in, in the search form, the
  ``_flt_*`` URL filters or REST ``q`` filters), birth-date columns not at all, and neither sorts;
* the Excel export writes one audit row (model, filters, row count).
"""

from __future__ import annotations

import copy
import io
import json
from datetime import date, datetime

from flask import abort, current_app, flash, has_request_context, redirect, request, send_file
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.utils.base import is_safe_redirect_url
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, false
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, selectinload
from werkzeug.exceptions import BadRequest

from ..acting import current_actor
from ..extensions import db
from ..services import scope
from ..services.audit_trail import record_event
from ..services.masking import mask_id_number

FULL_ID_PERMISSION = ("can_view_full_id", "IdNumber")


class FilterInScope(BaseFilter):
    """Base filter applying the one scope predicate to the filtered model."""

    name = _l("In scope")
    arg_name = "scope"

    def apply(self, query, value):
        return query.filter(scope.scope_clause(self.datamodel.obj, current_actor()))


class FilterWritable(BaseFilter):
    """Base filter applying the write rule (rows the actor may change or delete)."""

    name = _l("Writable")
    arg_name = "writable"

    def apply(self, query, value):
        return query.filter(scope.write_clause(self.datamodel.obj, current_actor()))


SCOPE_FILTER = [["id", FilterInScope, None]]
WRITE_FILTER = [["id", FilterWritable, None]]


class ScopedInterface(SQLAInterface):
    """SQLAInterface whose counts stop at ``CE_COUNT_CAP`` + 1 rows and whose list queries load
    the listed many-to-one relations in one extra query each (no N+1)."""

    eager: tuple = ()
    # Columns holding ID numbers / birth dates: see ``apply_filters`` and ``apply_order_by``.
    id_columns: tuple = ("id_number",)
    birth_columns: tuple = ("birth_date",)

    def _reveals(self, column: str, flt=None) -> bool:
        """True when filtering (``flt``) or sorting (no ``flt``) on ``column`` would give away a
        masked ID number to an actor without ``can_view_full_id``."""
        name = (column or "").split(".")[-1]
        if name in self.birth_columns:
            sensitive = True
        elif name in self.id_columns:
            sensitive = flt is None or type(flt) is not FilterEqual
        else:
            return False
        return sensitive and has_request_context() and not can_view_full_id()

    def apply_filters(self, query, filters):
        # A partial ID-number filter (starts-with, contains, ...) or any birth-date filter from an
        # actor who sees masked numbers matches nothing: the answer is the same as for a wrong guess.
        if filters and any(self._reveals(f.column_name, f) for f in filters.filters):
            return query.filter(false())
        return super().apply_filters(query, filters)

    def apply_order_by(self, query, order_column, order_direction, *args, **kwargs):
        if order_column and self._reveals(order_column):
            order_column, order_direction = "", ""
        return super().apply_order_by(query, order_column, order_direction, *args, **kwargs)

    def apply_all(self, query, *args, **kwargs):
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*[selectinload(getattr(self.obj, key)) for key in self.eager])
        return query

    def query_count(self, query, filters=None, select_columns=None) -> int:
        cap = current_app.config.get("CE_COUNT_CAP", 10000)
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        return inner.order_by(None).limit(cap + 1).count()


class CappedListWidget(ListWidget):
    template = "ce/widgets/list.html"


def org_actor():
    """The acting organisation admin (403 for a professional, the system administrator or nobody)."""
    actor = current_actor()
    if actor is None or actor.is_person or actor.is_global or actor.org_id is None:
        abort(403)
    return actor


def sysadmin_actor():
    """The acting system administrator (403 for anybody else)."""
    actor = current_actor()
    if actor is None or not actor.is_global:
        abort(403)
    return actor


def person_actor():
    """The acting professional (403 for anybody else)."""
    actor = current_actor()
    if actor is None or not actor.is_person:
        abort(403)
    return actor


def safe_back(value, default: str) -> str:
    """``value`` when it is a same-site path (no scheme, no ``//`` or ``/\\`` host trick), else ``default``:
    the "back" target a form posts, used for redirects after an action."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and is_safe_redirect_url(value):
        return value
    return default


def can_view_full_id() -> bool:
    """True when the acting roles hold ``can_view_full_id`` (read from the per-request permission cache)."""
    return current_app.appbuilder.sm.has_access(*FULL_ID_PERMISSION)


def masked(value):
    """Formatter for ID-number columns in lists, show pages and exports."""
    if value is None:
        return ""
    return value if can_view_full_id() else mask_id_number(value)


def masked_birth_date(value):
    """Formatter for birth-date columns: blank unless the actor sees full ID numbers (the birth
    date is exactly the part a masked ID number hides)."""
    if value is None or not can_view_full_id():
        return ""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def setup_sensitive_columns(view) -> None:
    """Tell the view's interface its ID-number / birth-date columns, and put the exact-match
    filter first in the ID-number columns' filter lists (so index 0 means "equal" for everybody
    and the search form of an actor without full IDs can offer that one alone)."""
    view.datamodel.id_columns = tuple(view.id_number_columns)
    view.datamodel.birth_columns = tuple(view.birth_date_columns)
    filters = view._filters
    for attr in ("_search_filters", "_all_filters"):
        table = dict(getattr(filters, attr, None) or {})
        for col in view.id_number_columns:
            if col in table:
                table[col] = sorted(table[col], key=lambda f: type(f) is not FilterEqual)
        setattr(filters, attr, table)


# Fields only a workflow may change (transfer, review, registration, deregistration, hand-over...):
# never editable in a generic form or REST PUT. "*" applies to every model.
WORKFLOW_FIELDS = {
    "*": ("state", "status", "route", "step", "handler_org", "handler_org_id", "recognised_hours", "is_super",
          "submitted_at", "decided_at"),
    "professional": ("org", "org_id", "user", "user_id", "name", "id_number", "certificate_no", "birth_date", "gender"),
    "organization": ("parent", "parent_id", "kind", "path", "credit_code", "review_closed", "certificate_scan"),
    "department": ("org", "org_id"),
    "membership": ("org", "org_id", "user", "user_id", "roles"),
    "declaration": ("org", "org_id", "professional", "professional_id", "declared_by_org", "declared_by_org_id"),
    "training_plan": ("org", "org_id"),
    "training_class": ("org", "org_id", "plan", "plan_id", "results_declared"),
    "trainee_result": ("training_class", "class_id", "id_number", "passed"),
    "certificate": ("*",),
}


def workflow_fields_changed(item) -> list[str]:
    """The workflow-only fields (``WORKFLOW_FIELDS``) changed on ``item`` since it was loaded.
    Call it before anything flushes the session (a query autoflushes and clears the history)."""
    table = getattr(type(item), "__tablename__", "")
    state = sa_inspect(item)
    if state.transient or state.pending:
        return []
    names = set(WORKFLOW_FIELDS["*"]) | set(WORKFLOW_FIELDS.get(table, ()))
    attrs = state.attrs
    if "*" in names:
        names = set(attrs.keys())
    return sorted(n for n in names if n in attrs.keys() and attrs[n].history.has_changes())


def check_workflow_fields(item) -> None:
    """Raise ``BadRequest`` when a generic edit changed a field only a workflow may change."""
    changed = workflow_fields_changed(item)
    if changed:
        raise BadRequest(_("These fields change only through their own process: %(fields)s", fields=", ".join(changed)))


def refuse_write(datamodel, pk, read_filters, write_filters):
    """``None`` when row ``pk`` may be written, else the HTTP status to answer: 403 for a row the
    actor may read but not change, 404 for one outside its scope (or missing)."""
    if datamodel.get(pk, write_filters) is not None:
        return None
    return 403 if datamodel.get(pk, read_filters) is not None else 404


def check_item_writable(session, item) -> None:
    """Raise ``BadRequest`` unless the new or changed ``item`` is owned where the actor may write."""
    if not scope.item_writable(session, current_actor(), item):
        raise BadRequest(_("You may not change records of this organisation."))


def yes_no(value):
    """Booleans as 是/否 (translated), never ``True``/``False``."""
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def blank_none(value):
    """Empty cells instead of ``None``."""
    return "" if value is None else value


def _scalar_columns(model) -> list[str]:
    mapper = sa_inspect(model)
    return [c.key for c in mapper.column_attrs if not c.key.endswith("_id") and c.key not in ("id", "password", "data", "route")]


def _scoped_relations(model):
    """(relationship key, local fk column key, target model) for many-to-one links to scoped models."""
    out = []
    for rel in sa_inspect(model).relationships:
        if rel.direction is not RelationshipDirection.MANYTOONE:
            continue
        target = rel.mapper.class_
        if scope.is_scoped(target):
            local = list(rel.local_columns)[0]
            out.append((rel.key, local.key, target))
    return out


def apply_scope_setup(view, rel_field_attrs) -> None:
    """Give a FAB view or API the scope filter, scalar-only search and scoped related-field choices.

    ``rel_field_attrs`` names the view's related-field query attributes (they differ between
    ``ModelView`` and ``ModelRestApi``); explicit entries a view declares win over the default.
    """
    model = view.datamodel.obj
    view.base_filters = list(view.base_filters or []) + SCOPE_FILTER
    if not view.search_columns:
        view.search_columns = _scalar_columns(model)
    rel_filters = {key: [["id", FilterInScope, None]] for key, _fk, _t in _scoped_relations(model)}
    for attr in rel_field_attrs:
        merged = dict(rel_filters)
        merged.update(getattr(view, attr, None) or {})
        setattr(view, attr, merged)


def check_item_scope(session, item, exempt=()) -> None:
    """Raise ``BadRequest`` when ``item`` points at an organisation or row outside the actor's scope."""
    actor = current_actor()
    if actor is None:
        raise BadRequest(_("Not allowed."))
    for key, fk, target in _scoped_relations(type(item)):
        if key in exempt:
            continue
        related = getattr(item, key, None)
        value = related.id if related is not None else getattr(item, fk, None)
        if value is None:
            continue
        if not scope.visible(session, target, actor, value):
            raise BadRequest(_("The selected %(field)s is outside your scope.", field=key))


def fill_owner(item) -> None:
    """Default the owner columns of a new row from the actor (person or organisation)."""
    actor = current_actor()
    if actor is None:
        return
    if actor.is_person and hasattr(item, "professional_id") and item.professional_id is None:
        item.professional_id = actor.person_id
    if hasattr(item, "org_id") and getattr(item, "org_id", None) is None and getattr(item, "org", None) is None:
        item.org_id = actor.org_id


class ScopedModelView(ModelView):
    """Base of every admin page: scoped, capped, masked, POST-only actions, scalar search, export."""

    page_size = 20
    list_widget = CappedListWidget
    # Relationship keys not checked against the scope (e.g. a transfer's target unit).
    scope_exempt_relations: tuple = ()
    # Columns holding ID numbers (masked) and birth dates (blank beside a masked number).
    id_number_columns: tuple = ("id_number",)
    birth_date_columns: tuple = ("birth_date",)
    export_columns: list | None = None

    def __init__(self, **kwargs):
        model = self.datamodel.obj
        apply_scope_setup(self, ("add_form_query_rel_fields", "edit_form_query_rel_fields", "search_form_query_rel_fields"))
        relations = {r.key for r in sa_inspect(model).relationships if r.direction is RelationshipDirection.MANYTOONE}
        self.datamodel.eager = tuple(c for c in (self.list_columns or []) if c in relations)
        formatters = dict(self.formatters_columns or {})
        for col in self.id_number_columns:
            formatters.setdefault(col, masked)
        for col in self.birth_date_columns:
            formatters.setdefault(col, masked_birth_date)
        booleans = {c.key for c in sa_inspect(model).column_attrs if isinstance(c.columns[0].type, Boolean)}
        for col in set(self.list_columns or []) | set(self.show_columns or []):
            formatters.setdefault(col, yes_no if col in booleans else blank_none)
        self.formatters_columns = formatters
        super().__init__(**kwargs)
        self._write_filters = self.datamodel.get_filters().add_filter_list(list(self.base_filters or []) + WRITE_FILTER)
        setup_sensitive_columns(self)

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None):
        """The search form; without full ID numbers: exact match only on ID-number columns and no
        birth-date columns."""
        if can_view_full_id():
            return super()._get_search_widget(form=form, exclude_cols=exclude_cols, widgets=widgets)
        widgets = widgets or {}
        limited = copy.copy(self._filters)
        limited._search_filters = {
            col: (flts[:1] if col in self.id_number_columns else flts)
            for col, flts in self._filters.get_search_filters().items()
            if col not in self.birth_date_columns
        }
        widgets["search"] = self.search_widget(
            route_base=self.route_base,
            form=form,
            include_cols=[c for c in self.search_columns if c not in self.birth_date_columns],
            exclude_cols=exclude_cols or [],
            filters=limited,
        )
        return widgets

    # -- scope on writes ---------------------------------------------------------------------

    def _writable_or_abort(self, pk):
        status = refuse_write(self.datamodel, pk, self._base_filters, self._write_filters)
        if status is not None:
            abort(status)

    def _edit(self, pk):
        self._writable_or_abort(pk)
        return super()._edit(pk)

    def _delete(self, pk):
        self._writable_or_abort(pk)
        return super()._delete(pk)

    def pre_add(self, item):
        fill_owner(item)
        self._check(item)

    def pre_update(self, item):
        self._check(item, update=True)

    def _check(self, item, update=False):
        try:
            if update:
                check_workflow_fields(item)
            check_item_scope(self.datamodel.session, item, self.scope_exempt_relations)
            check_item_writable(self.datamodel.session, item)
        except BadRequest as exc:
            self.datamodel.session.rollback()
            raise ValueError(exc.description) from exc

    def _load_for_action(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        self._writable_or_abort(pk)
        return self.datamodel.get(pk, self._write_filters)

    # -- actions: POST only, rows re-loaded with the scope -----------------------------------

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        action = self.actions.get(name)
        if action is None:
            abort(404)
        permission_name = self.get_action_permission_name(name)
        if not self.appbuilder.sm.has_access(permission_name, self.class_permission_name):
            abort(403)
        return action.func(self._load_for_action(pk))

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        action = self.actions.get(name)
        if action is None:
            abort(404)
        permission_name = self.get_action_permission_name(name)
        if not self.appbuilder.sm.has_access(permission_name, self.class_permission_name):
            abort(403)
        items = []
        for pk in request.form.getlist("rowid"):
            items.append(self._load_for_action(pk))
        if not items:
            flash(_("No record selected."), "warning")
            return redirect(self.get_redirect())
        return action.func(items if action.multiple else items[0])

    # -- bulk delete (confirmed in the browser; each row re-checked by pre_delete) -----------

    @fab_action("muldelete", _l("Delete"), _l("Delete all selected records?"), "fa-trash", single=False)
    def muldelete(self, items):
        errors = []
        for item in items:
            try:
                self.pre_delete(item)
            except Exception as exc:  # a domain refusal: keep every row, report it
                errors.append(str(exc))
        if errors:
            flash(errors[0], "danger")
        else:
            for item in items:
                self.datamodel.session.delete(item)
            self.datamodel.session.commit()
            flash(_("%(n)d records deleted.", n=len(items)), "success")
        self.update_redirect()
        return redirect(self.get_redirect())

    # -- export ------------------------------------------------------------------------------

    @expose("/export/")
    @has_access
    def export(self):
        """The current filtered list as an Excel workbook (scoped, masked, text cells only)."""
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        get_filter_args = __import__("flask_appbuilder.urltools", fromlist=["get_filter_args"]).get_filter_args
        get_filter_args(self._filters)
        columns = self.export_columns or self.list_columns
        limit = current_app.config.get("CE_EXPORT_LIMIT", 50000)
        _count, items = self.datamodel.query(self._filters, page=0, page_size=limit)
        self._audit_export(len(items))
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(str(self.list_title or self.__class__.__name__)[:31])
        ws.append([str(self.label_columns.get(c, c)) for c in columns])
        for item in items:
            row = []
            for col in columns:
                value = self._export_value(item, col)
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                row.append(cell)
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        buf.seek(0)
        return send_file(
            buf,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{self.__class__.__name__}.xlsx",
        )

    def _audit_export(self, rows: int) -> None:
        """One audit row per export: the model, the request's filters and the number of rows."""
        wanted = {k: request.args.getlist(k) for k in sorted(request.args) if k.startswith("_flt_")}
        comment = json.dumps({"view": self.__class__.__name__, "filters": wanted, "rows": rows}, ensure_ascii=False)
        record_event("export", object_type=self.datamodel.obj.__name__, actor=current_actor(), comment=comment)
        db.session.commit()

    def _export_value(self, item, col):
        value = item
        for part in col.split("."):
            value = getattr(value, part, None) if value is not None else None
        if col in self.formatters_columns:
            value = self.formatters_columns[col](value)
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return str(value)


class ScopedRestApi(ModelRestApi):
    """Base of every REST API: same scope, capped counts, related choices and write checks."""

    scope_exempt_relations: tuple = ()
    id_number_columns: tuple = ("id_number",)
    birth_date_columns: tuple = ("birth_date",)
    # The back-office's own pages call the API with the session cookie (and its CSRF token).
    allow_browser_login = True
    max_page_size = 100
    page_size = 20

    def __init__(self):
        apply_scope_setup(self, ("add_query_rel_fields", "edit_query_rel_fields", "search_query_rel_fields"))
        super().__init__()
        self._write_filters = self.datamodel.get_filters().add_filter_list(list(self.base_filters or []) + WRITE_FILTER)
        self.datamodel.id_columns = tuple(self.id_number_columns)
        self.datamodel.birth_columns = tuple(self.birth_date_columns)

    def _refused_write(self, pk):
        status = refuse_write(self.datamodel, pk, self._base_filters, self._write_filters)
        if status == 403:
            return self.response_403()
        if status == 404:
            return self.response_404()
        return None

    def put_headless(self, pk):
        return self._refused_write(pk) or super().put_headless(pk)

    def delete_headless(self, pk):
        return self._refused_write(pk) or super().delete_headless(pk)

    def pre_add(self, item):
        fill_owner(item)
        check_item_scope(self.datamodel.session, item, self.scope_exempt_relations)
        check_item_writable(self.datamodel.session, item)

    def pre_update(self, item):
        try:
            check_workflow_fields(item)
            check_item_scope(self.datamodel.session, item, self.scope_exempt_relations)
            check_item_writable(self.datamodel.session, item)
        except BadRequest:
            self.datamodel.session.rollback()
            raise

    def _mask(self, row: dict) -> None:
        if can_view_full_id():
            return
        for col in self.id_number_columns:
            if row.get(col):
                row[col] = mask_id_number(row[col])
        for col in self.birth_date_columns:
            if col in row:
                row[col] = None

    def pre_get(self, data):
        self._mask(data.get("result", {}))

    def pre_get_list(self, data):
        for row in data.get("result", []):
            self._mask(row)
