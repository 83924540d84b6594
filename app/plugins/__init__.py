"""Plugin API for learning forms and certificate templates (a public contract: configurators write
against it, see ``docs/plugins.md``).

* ``LearningForm`` / ``CertificateTemplate``: base classes; ``HoursContext``: what an hours rule knows.
* ``learning_forms()``: code → instance of the *enabled* learning forms (built-ins in this package
  plus every installed distribution advertising the entry-point group ``ce_platform.plugins``);
  ``all_learning_forms()`` lists them enabled or not; ``certificate_templates()`` likewise.
* ``template_for(layout, context)``: the certificate template that prints a context (enabled, applies,
  highest priority; the built-in as fallback); ``get_certificate_template(code)`` one by code.
* ``sync_plugin_settings(session)``: one ``PluginSetting`` row per discovered plugin for the console.
"""

from .base import (
    ANNUAL,
    CERTIFICATE_LAYOUTS,
    MERGED,
    PROFESSIONAL,
    PUBLIC,
    SUBJECT_TYPES,
    CertificateTemplate,
    HoursContext,
    LearningForm,
    PluginForm,
    quantize_hours,
)
from .registry import (
    ENTRY_POINT_GROUP,
    KIND_CERTIFICATE_TEMPLATE,
    KIND_LEARNING_FORM,
    PluginInfo,
    all_certificate_templates,
    all_learning_forms,
    certificate_templates,
    discovered_plugins,
    get_certificate_template,
    get_learning_form,
    learning_forms,
    plugin_errors,
    reload_plugins,
    sync_plugin_settings,
    template_for,
)

__all__ = [
    "ANNUAL",
    "CERTIFICATE_LAYOUTS",
    "CertificateTemplate",
    "ENTRY_POINT_GROUP",
    "HoursContext",
    "KIND_CERTIFICATE_TEMPLATE",
    "KIND_LEARNING_FORM",
    "LearningForm",
    "MERGED",
    "PROFESSIONAL",
    "PUBLIC",
    "PluginForm",
    "PluginInfo",
    "SUBJECT_TYPES",
    "all_certificate_templates",
    "all_learning_forms",
    "certificate_templates",
    "discovered_plugins",
    "get_certificate_template",
    "get_learning_form",
    "learning_forms",
    "plugin_errors",
    "quantize_hours",
    "reload_plugins",
    "sync_plugin_settings",
    "template_for",
]
