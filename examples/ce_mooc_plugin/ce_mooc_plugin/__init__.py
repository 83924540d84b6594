"""Example plugin: the learning form ``mooc_course`` (网络课程 / MOOC), hours from the course credits,
and the certificate template ``mooc_health_annual`` (``certificates.py``).

Everything a configurator needs is here: a WTForms form (``PluginForm`` subclass) with validators
carrying translatable messages, and a ``LearningForm`` subclass with code, name, subject types,
evidence guidance and the hours rule. The entry point in ``pyproject.toml`` points at this module.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from app.plugins import PROFESSIONAL, PUBLIC, HoursContext, LearningForm, PluginForm, quantize_hours
from app.plugins.base import MaxLength, NumberField, Range, Required, TextField

#: Hours recognised per course credit (set by the configurator's HR bureau).
HOURS_PER_CREDIT = Decimal("10")
MAX_CREDITS = Decimal("20")


class MoocCourseFields(PluginForm):
    platform = TextField(_l("Course platform"), [Required(_l("Please fill in the course platform.")), MaxLength(200)])
    course = TextField(_l("Course"), [Required(_l("Please fill in the course.")), MaxLength(200)])
    credits = NumberField(
        _l("Credits"),
        [
            Required(_l("Please fill in the credits.")),
            Range(min=0, min_exclusive=True, max=MAX_CREDITS, message=_l("Enter credits greater than 0 and at most 20.")),
        ],
    )
    certificate_no = TextField(_l("Certificate number"), [MaxLength(64)])

    def validate_credits(self, field):
        # A rule that is not a type error becomes an error on the field, like the built-in forms do.
        if field.data is not None and field.data * 2 != int(field.data * 2):
            raise ValidationError(str(_l("Credits are counted in halves: enter e.g. 1, 1.5 or 2.")))


class MoocCourse(LearningForm):
    code = "mooc_course"
    name = _l("Online course (MOOC)")
    subject_types = frozenset({PUBLIC, PROFESSIONAL})
    form_class = MoocCourseFields
    evidence = _l("Upload the course completion certificate showing the credits.")
    hours_rule = _l("10 hours per credit.")

    def hours(self, data: dict, context: HoursContext) -> Decimal | None:
        return quantize_hours(HOURS_PER_CREDIT * Decimal(str(data["credits"])))


from .certificates import HealthAnnualCertificate  # noqa: E402

#: What the entry point provides (a module listing ``ce_plugins`` provides exactly these).
ce_plugins = [MoocCourse, HealthAnnualCertificate]
