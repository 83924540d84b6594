"""Flask-Admin base-data console at ``/console`` for the system-administrator capacity only."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import inspect as sa_inspect

from .models import (
    Affiliation,
    AnnualRequirement,
    Ethnicity,
    Industry,
    Major,
    PluginSetting,
    Region,
    TitleLevel,
    TitleSeries,
    UnitLevel,
    UnitNature,
)

CONSOLE_PERMISSION = ("can_access", "ConsoleAccess")


def console_allowed() -> bool:
    """True when the current user acts as system administrator (FAB permission check)."""
    if not current_user.is_authenticated:
        return False
    return current_app.appbuilder.sm.has_access(*CONSOLE_PERMISSION)


class ConsoleForm(BaseForm, FlaskForm):
    """Flask-Admin forms carrying Flask-WTF's CSRF token, checked by the global CSRFProtect."""


class _Guard:
    def is_accessible(self):
        return console_allowed()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("CapacityLoginView.login", next=request.path))
        abort(403)


class ConsoleHome(_Guard, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("ce/console_index.html")


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection): such text is
# exported with a leading apostrophe, which spreadsheets show as text and do not evaluate.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_csv_cell(value):
    """``value`` safe for a spreadsheet cell: text beginning like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _changes(model) -> str:
    """The changed columns of ``model`` as ``name: old → new`` (what an edit did, for the audit row)."""
    state = sa_inspect(model)
    out = []
    for attr in state.mapper.attrs:
        if getattr(attr, "uselist", False):
            continue  # collections (a region's children) are not edited here
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            out.append(f"{attr.key}: {_text(old)} → {_text(new)}")
    return "; ".join(out)


def _text(value) -> str:
    return repr(value) if value is None or isinstance(value, (str, int, float, bool)) else repr(str(value))


def _describe(model) -> str:
    values = [f"{k}={getattr(model, k)!r}" for k in ("code", "name", "year") if hasattr(model, k)]
    return ", ".join(values)


class BaseDataView(_Guard, ModelView):
    """Console table: create, edit, delete and export write an audit row in the same transaction;
    the CSV export escapes cells a spreadsheet would run as formulas."""

    form_base_class = ConsoleForm
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    page_size = 50
    column_display_pk = False
    column_searchable_list = ("code", "name")
    column_list = ("code", "name", "enabled")
    column_labels = {"code": _l("Code"), "name": _l("Name"), "enabled": _l("Enabled")}

    def _audit(self, trigger: str, model, comment: str) -> None:
        from .acting import current_actor
        from .services.audit_trail import record_event

        record_event(
            trigger, object_type=type(model).__name__, object_id=model.id, actor=current_actor(),
            comment=comment, session=self.session,
        )

    def on_model_change(self, form, model, is_created):
        """Before the commit of a create or edit: one audit row with the changed values."""
        super().on_model_change(form, model, is_created)
        changes = _changes(model)
        if is_created:
            self.session.flush()  # the new row's id
        self._audit("console_create" if is_created else "console_edit", model, changes)

    def on_model_delete(self, model):
        """Before the commit of a delete: one audit row naming what was deleted."""
        super().on_model_delete(model)
        self._audit("console_delete", model, _describe(model))

    def get_export_value(self, model, name):
        return escape_csv_cell(super().get_export_value(model, name))

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """The export, audited (one row naming the table) before the file is streamed."""
        if self.can_export and export_type in self.export_types:
            from .acting import current_actor
            from .services.audit_trail import record_event

            record_event("export", object_type=self.model.__name__, actor=current_actor(),
                         comment=f"console {export_type}", session=self.session)
            self.session.commit()
        return super().export(export_type)


class RegionConsoleView(BaseDataView):
    column_list = ("code", "name", "level", "parent")
    column_labels = {"code": _l("Code"), "name": _l("Name"), "level": _l("Level"), "parent": _l("Superior")}
    form_ajax_refs = {"parent": {"fields": ("name", "code"), "page_size": 20}}


class RequirementConsoleView(BaseDataView):
    column_searchable_list = ()
    column_list = ("year", "title_level", "region_scope", "public_min", "professional_min", "total_min", "public_counts_as_professional")
    column_labels = {
        "year": _l("Year credited"), "title_level": _l("Title level"), "region_scope": _l("Region scope"),
        "public_min": _l("Public hours minimum"), "professional_min": _l("Professional hours minimum"),
        "total_min": _l("Total hours minimum"), "public_counts_as_professional": _l("Extra public hours count as professional"),
    }


def _plugin_column(attr):
    def _format(view, context, model, name):
        from .plugins import discovered_plugins

        info = next((i for i in discovered_plugins() if i.code == model.code), None)
        if info is None:
            return _l("Not installed")
        if attr == "name":
            return info.plugin.name
        if attr == "fields" and info.kind == "learning_form":
            return ", ".join(f"{label} ({field})" for field, label in info.plugin.fields())
        return getattr(info, attr, "")

    return _format


class PluginConsoleView(BaseDataView):
    """Every discovered plugin has a row (created on listing); the admin only toggles ``enabled``."""

    can_create = False
    can_delete = False
    column_searchable_list = ("code",)
    column_filters = ("kind", "enabled")
    column_list = ("code", "name", "kind", "enabled", "source", "fields")
    column_details_list = column_list
    column_labels = {
        "code": _l("Code"), "name": _l("Name"), "kind": _l("Kind"), "enabled": _l("Enabled"),
        "source": _l("Source"), "fields": _l("Fields"),
    }
    column_formatters = {"name": _plugin_column("name"), "source": _plugin_column("source"), "fields": _plugin_column("fields")}
    column_formatters_detail = column_formatters
    column_choices = {"kind": [("learning_form", _l("Learning form")), ("certificate_template", _l("Certificate template"))]}
    form_columns = ("enabled",)

    @expose("/")
    def index_view(self):
        from .plugins import sync_plugin_settings

        if sync_plugin_settings(self.session):
            self.session.commit()
        return super().index_view()


CONSOLE_TABLES = [
    (Region, RegionConsoleView, _l("Regions")),
    (UnitNature, BaseDataView, _l("Unit natures")),
    (Affiliation, BaseDataView, _l("Affiliations")),
    (UnitLevel, BaseDataView, _l("Unit levels")),
    (Industry, BaseDataView, _l("Industries")),
    (TitleSeries, BaseDataView, _l("Title series")),
    (TitleLevel, BaseDataView, _l("Title levels")),
    (Major, BaseDataView, _l("Majors")),
    (Ethnicity, BaseDataView, _l("Ethnicities")),
    (AnnualRequirement, RequirementConsoleView, _l("Yearly hour requirements")),
    (PluginSetting, PluginConsoleView, _l("Plugins")),
]


def init_app(app, db) -> Admin:
    """Mount the console; endpoints are prefixed ``console_`` so they never collide with FAB views."""
    admin = Admin(
        app,
        name=str(_l("Base data console")),
        url="/console",
        endpoint="console",
        index_view=ConsoleHome(url="/console", endpoint="console"),
    )
    for model, view, label in CONSOLE_TABLES:
        admin.add_view(view(model, db.session, name=label, endpoint="console_" + model.__tablename__, url=model.__tablename__))
    return admin
