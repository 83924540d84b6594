"""Flask-Admin base-data console at ``/console`` for the system-administrator capacity only."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

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


class BaseDataView(_Guard, ModelView):
    form_base_class = ConsoleForm
    can_view_details = True
    can_export = True
    page_size = 50
    column_display_pk = False
    column_searchable_list = ("code", "name")
    column_list = ("code", "name", "enabled")
    column_labels = {"code": _l("Code"), "name": _l("Name"), "enabled": _l("Enabled")}


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
