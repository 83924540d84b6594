"""The shared base views. Every FAB view and REST API of the product inherits from these.

They close the holes measured in ARCHITECTURE.md:
* rows are always loaded through the scope predicate (list, show, edit, delete, actions, REST);
* actions accept POST only and re-load their rows with the scope;
* related-field choices (forms and REST ``_info``) are limited to the scope, and creating or
  updating a row that points at an organisation or person outside the scope is refused;
* search is on scalar columns only;
* counts are capped (``CE_COUNT_CAP``) so large scopes page fast;
* ID numbers are masked unless the actor holds ``can_view_full_id`` on ``IdNumber``.
"""

from __future__ import annotations

import io
from datetime import date, datetime

from flask import abort, current_app, flash, redirect, request, send_file
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.utils.base import is_safe_redirect_url
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, selectinload
from werkzeug.exceptions import BadRequest

from ..acting import current_actor
from ..services import scope
from ..services.masking import mask_id_number

FULL_ID_PERMISSION = ("can_view_full_id", "IdNumber")


class FilterInScope(BaseFilter):
    """Base filter applying the one scope predicate to the filtered model."""

    name = _l("In scope")
    arg_name = "scope"

    def apply(self, query, value):
        return query.filter(scope.scope_clause(self.datamodel.obj, current_actor()))


SCOPE_FILTER = [["id", FilterInScope, None]]


class ScopedInterface(SQLAInterface):
    """SQLAInterface whose counts stop at ``CE_COUNT_CAP`` + 1 rows and whose list queries load
    the listed many-to-one relations in one extra query each (no N+1)."""

    eager: tuple = ()

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
    # Columns holding ID numbers (masked).
    id_number_columns: tuple = ("id_number",)
    export_columns: list | None = None

    def __init__(self, **kwargs):
        model = self.datamodel.obj
        apply_scope_setup(self, ("add_form_query_rel_fields", "edit_form_query_rel_fields", "search_form_query_rel_fields"))
        relations = {r.key for r in sa_inspect(model).relationships if r.direction is RelationshipDirection.MANYTOONE}
        self.datamodel.eager = tuple(c for c in (self.list_columns or []) if c in relations)
        formatters = dict(self.formatters_columns or {})
        for col in self.id_number_columns:
            formatters.setdefault(col, masked)
        booleans = {c.key for c in sa_inspect(model).column_attrs if isinstance(c.columns[0].type, Boolean)}
        for col in set(self.list_columns or []) | set(self.show_columns or []):
            formatters.setdefault(col, yes_no if col in booleans else blank_none)
        self.formatters_columns = formatters
        super().__init__(**kwargs)

    # -- scope on writes ---------------------------------------------------------------------

    def pre_add(self, item):
        fill_owner(item)
        self._check(item)

    def pre_update(self, item):
        self._check(item)

    def _check(self, item):
        try:
            check_item_scope(self.datamodel.session, item, self.scope_exempt_relations)
        except BadRequest as exc:
            self.datamodel.session.rollback()
            raise ValueError(exc.description) from exc

    # -- actions: POST only, rows re-loaded with the scope -----------------------------------

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        action = self.actions.get(name)
        if action is None:
            abort(404)
        permission_name = self.get_action_permission_name(name)
        if not self.appbuilder.sm.has_access(permission_name, self.class_permission_name):
            abort(403)
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        return action.func(item)

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
            item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
            if item is None:
                abort(404)
            items.append(item)
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
    # The back-office's own pages call the API with the session cookie (and its CSRF token).
    allow_browser_login = True
    max_page_size = 100
    page_size = 20

    def __init__(self):
        apply_scope_setup(self, ("add_query_rel_fields", "edit_query_rel_fields", "search_query_rel_fields"))
        super().__init__()

    def pre_add(self, item):
        fill_owner(item)
        check_item_scope(self.datamodel.session, item, self.scope_exempt_relations)

    def pre_update(self, item):
        try:
            check_item_scope(self.datamodel.session, item, self.scope_exempt_relations)
        except BadRequest:
            self.datamodel.session.rollback()
            raise

    def _mask(self, row: dict) -> None:
        if can_view_full_id():
            return
        for col in self.id_number_columns:
            if row.get(col):
                row[col] = mask_id_number(row[col])

    def pre_get(self, data):
        self._mask(data.get("result", {}))

    def pre_get_list(self, data):
        for row in data.get("result", []):
            self._mask(row)
