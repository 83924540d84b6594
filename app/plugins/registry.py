"""Discovery of learning forms and certificate templates: built-ins plus the ``ce_platform.plugins``
entry-point group, filtered by the ``PluginSetting`` rows the system admin edits in the console.

A broken third-party plugin never breaks the app: it is logged, listed by ``plugin_errors()`` and
skipped. Built-ins are loaded the same way but their errors propagate (they are our bugs).
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Iterable, Mapping

from wtforms import Form

from .base import CERTIFICATE_LAYOUTS, SUBJECT_TYPES, CertificateTemplate, LearningForm

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ce_platform.plugins"
KIND_LEARNING_FORM = "learning_form"
KIND_CERTIFICATE_TEMPLATE = "certificate_template"
#: Modules holding built-in plugins; the certificates work adds its template module here.
BUILTIN_MODULES: tuple[str, ...] = ("app.plugins.builtin_forms", "app.plugins.builtin_certificates")
BUILTIN_SOURCE = "built-in"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class PluginLoadError(Exception):
    """A plugin object that does not satisfy the API (bad code, missing form class…)."""


@dataclass
class Registry:
    """Everything discovered once per process (until ``reload_plugins()``)."""

    learning_forms: dict[str, LearningForm] = field(default_factory=dict)
    certificate_templates: dict[str, CertificateTemplate] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # code → "built-in" or "dist 1.0 (entry point)"
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, message)


_lock = threading.Lock()
_registry: Registry | None = None


def _kind_of(obj) -> str:
    return KIND_LEARNING_FORM if isinstance(obj, LearningForm) else KIND_CERTIFICATE_TEMPLATE


def _is_plugin_class(obj) -> bool:
    return (
        inspect.isclass(obj)
        and issubclass(obj, (LearningForm, CertificateTemplate))
        and obj not in (LearningForm, CertificateTemplate)
        and not inspect.isabstract(obj)
        and not obj.__name__.startswith("_")
        and bool(getattr(obj, "code", ""))
    )


def _expand(obj: Any) -> list[LearningForm | CertificateTemplate]:
    """Plugin instances from what an entry point (or a built-in module) points at: an instance, a class,
    a module (its ``ce_plugins`` list if any, else the concrete plugin classes defined in it), an
    iterable of those, or a callable returning any of those."""
    if isinstance(obj, (LearningForm, CertificateTemplate)):
        return [obj]
    if inspect.isclass(obj):
        if _is_plugin_class(obj):
            return [obj()]
        raise PluginLoadError(f"{obj!r} is not a concrete LearningForm or CertificateTemplate subclass")
    if isinstance(obj, ModuleType):
        listed = getattr(obj, "ce_plugins", None)
        if listed is not None:
            return _expand(list(listed))
        return [cls() for cls in vars(obj).values() if _is_plugin_class(cls) and cls.__module__ == obj.__name__]
    if isinstance(obj, (list, tuple, set, frozenset)):
        out = []
        for item in obj:
            out.extend(_expand(item))
        return out
    if callable(obj):
        return _expand(obj())
    raise PluginLoadError(f"{obj!r} is not a plugin, a plugin class, a module or a list of them")


def _check(plugin) -> None:
    """Raise ``PluginLoadError`` unless ``plugin`` satisfies the API contract."""
    code = getattr(plugin, "code", "")
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise PluginLoadError(f"{plugin!r}: code {code!r} must be lower-case letters, digits and _ (at most 64)")
    if not str(plugin.name or ""):
        raise PluginLoadError(f"{code}: name is empty")
    if isinstance(plugin, LearningForm):
        types = plugin.subject_types
        if not types or not set(types) <= SUBJECT_TYPES:
            raise PluginLoadError(f"{code}: subject_types {types!r} must be a non-empty subset of {sorted(SUBJECT_TYPES)}")
        if not (inspect.isclass(plugin.form_class) and issubclass(plugin.form_class, Form)):
            raise PluginLoadError(f"{code}: form_class must be a wtforms.Form subclass")
        plugin.fields()  # the form must build without a request
    else:
        if plugin.layout not in CERTIFICATE_LAYOUTS:
            raise PluginLoadError(f"{code}: layout {plugin.layout!r} must be one of {list(CERTIFICATE_LAYOUTS)}")
        if not isinstance(plugin.priority, int):
            raise PluginLoadError(f"{code}: priority must be an integer")


def _add(registry: Registry, plugin, source: str) -> None:
    _check(plugin)
    if plugin.code in registry.sources:
        raise PluginLoadError(f"code {plugin.code!r} is already provided by {registry.sources[plugin.code]}")
    target = registry.learning_forms if isinstance(plugin, LearningForm) else registry.certificate_templates
    target[plugin.code] = plugin
    registry.sources[plugin.code] = source


def _entry_point_source(ep) -> str:
    dist = getattr(ep, "dist", None)
    if dist is not None:
        return f"{dist.metadata['Name']} {dist.version} ({ep.name} = {ep.value})"
    return f"{ep.name} = {ep.value}"


def _discover() -> Registry:
    registry = Registry()
    for module_name in BUILTIN_MODULES:
        for plugin in _expand(import_module(module_name)):
            _add(registry, plugin, BUILTIN_SOURCE)
    eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (_entry_point_source(e), e.name))
    seen = set()
    for ep in eps:
        source = _entry_point_source(ep)
        if (ep.name, ep.value) in seen:  # the same distribution found twice on sys.path
            continue
        seen.add((ep.name, ep.value))
        try:
            plugins = _expand(ep.load())
        except Exception as exc:
            log.exception("plugin %s could not be loaded and is skipped", source)
            registry.errors.append((source, f"{type(exc).__name__}: {exc}"))
            continue
        for plugin in plugins:
            try:
                _add(registry, plugin, source)
            except Exception as exc:
                log.error("plugin %s: %s; skipped", source, exc)
                registry.errors.append((source, f"{type(exc).__name__}: {exc}"))
    return registry


def registry() -> Registry:
    """The process-wide registry, discovered on first use (thread-safe)."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = _discover()
    return _registry


def reload_plugins() -> Registry:
    """Discover again (after installing or removing a distribution; tests)."""
    global _registry
    with _lock:
        _registry = _discover()
    return _registry


def _disabled_codes(session=None) -> set[str]:
    """Codes with a ``PluginSetting`` row whose ``enabled`` is False. Without a session and outside an
    app context nothing is disabled."""
    from sqlalchemy import select

    from ..models import PluginSetting

    if session is None:
        from flask import has_app_context

        if not has_app_context():
            return set()
        from ..extensions import db

        session = db.session
    return set(session.execute(select(PluginSetting.code).where(PluginSetting.enabled.is_(False))).scalars())


def all_learning_forms() -> dict[str, LearningForm]:
    """Every discovered learning form, enabled or not, built-ins first in 第七条 order (code → instance)."""
    return dict(registry().learning_forms)


def learning_forms(session=None) -> dict[str, LearningForm]:
    """The enabled learning forms (code → instance), in the order of ``all_learning_forms()``.

    A code is disabled by a ``PluginSetting`` row with ``enabled`` False; no row means enabled.
    ``session`` defaults to ``db.session`` (outside an app context nothing is disabled).
    """
    disabled = _disabled_codes(session)
    return {code: form for code, form in registry().learning_forms.items() if code not in disabled}


def get_learning_form(code: str, enabled_only: bool = False, session=None) -> LearningForm | None:
    """The learning form ``code`` (also a disabled one unless ``enabled_only``), or None if unknown.

    Existing declarations of a form that was disabled later still need it for display and review.
    """
    form = registry().learning_forms.get(code)
    if form is None or (enabled_only and code in _disabled_codes(session)):
        return None
    return form


def all_certificate_templates() -> dict[str, CertificateTemplate]:
    """Every discovered certificate template, enabled or not (code → instance)."""
    return dict(registry().certificate_templates)


def certificate_templates(session=None) -> dict[str, CertificateTemplate]:
    """The enabled certificate templates (code → instance); same enabling rule as ``learning_forms``."""
    disabled = _disabled_codes(session)
    return {code: t for code, t in registry().certificate_templates.items() if code not in disabled}


def get_certificate_template(code: str, enabled_only: bool = False, session=None) -> CertificateTemplate | None:
    """The certificate template ``code`` (also a disabled one unless ``enabled_only``), or None if unknown.

    A reprint of an issued certificate uses the template stored with it, even if it was disabled later.
    """
    template = registry().certificate_templates.get(code)
    if template is None or (enabled_only and code in _disabled_codes(session)):
        return None
    return template


def template_for(layout: str, context: Mapping[str, Any], session=None) -> CertificateTemplate:
    """The template that prints a certificate of ``layout`` ("annual" / "merged") for ``context``.

    Among the *enabled* templates of that layout whose ``applies_to(context)`` is true, the one with the
    highest ``priority`` (ties: built-ins first, then discovery order). A template whose
    ``applies_to`` raises is logged and skipped. When none is left (e.g. the built-in was disabled),
    the built-in template of the layout is the fallback. ``LookupError`` for an unknown layout.
    """
    if layout not in CERTIFICATE_LAYOUTS:
        raise LookupError(f"unknown certificate layout {layout!r}")
    reg = registry()
    candidates = []
    for order, (code, template) in enumerate(certificate_templates(session).items()):
        if template.layout != layout:
            continue
        try:
            applies = bool(template.applies_to(context))
        except Exception:
            log.exception("certificate template %s: applies_to() failed; skipped", code)
            continue
        if applies:
            builtin = reg.sources.get(code) == BUILTIN_SOURCE
            candidates.append((-template.priority, 0 if builtin else 1, order, template))
    if candidates:
        return min(candidates, key=lambda c: c[:3])[3]
    for code, template in reg.certificate_templates.items():
        if template.layout == layout and reg.sources.get(code) == BUILTIN_SOURCE:
            return template
    raise LookupError(f"no certificate template for layout {layout!r}")


def plugin_errors() -> list[tuple[str, str]]:
    """``(source, message)`` of every third-party plugin skipped at discovery."""
    return list(registry().errors)


@dataclass(frozen=True)
class PluginInfo:
    """One discovered plugin for listings: kind, code, the instance and where it came from."""

    kind: str
    code: str
    plugin: Any
    source: str


def discovered_plugins() -> list[PluginInfo]:
    """Every discovered learning form and certificate template (enabled or not), in registry order."""
    reg = registry()
    items: Iterable = list(reg.learning_forms.values()) + list(reg.certificate_templates.values())
    return [PluginInfo(_kind_of(p), p.code, p, reg.sources[p.code]) for p in items]


def sync_plugin_settings(session) -> list[str]:
    """Create the missing ``PluginSetting`` rows (enabled) for every discovered plugin; returns their codes.

    Flushes but does not commit. Safe when two processes sync at once (a row created meanwhile is skipped).
    """
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from ..models import PluginSetting

    existing = set(session.execute(select(PluginSetting.code)).scalars())
    created = []
    for info in discovered_plugins():
        if info.code in existing:
            continue
        try:
            with session.begin_nested():
                session.add(PluginSetting(code=info.code, kind=info.kind, enabled=True))
        except IntegrityError:
            continue
        created.append(info.code)
    return created
