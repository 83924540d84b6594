"""Base classes of the plugin API: ``LearningForm``, ``CertificateTemplate``, ``HoursContext``.

Configurators subclass these in their own distribution and advertise it under the entry-point group
``ce_platform.plugins`` (see ``docs/plugins.md``). Nothing here touches the database or the request:
a learning form validates plain dicts (the JSON stored on a declaration) as well as request form data.
"""

from __future__ import annotations

import abc
import datetime as dt
import gettext as _gettext
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar, Mapping

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, DecimalField, Form, IntegerField, SelectField, StringField
from wtforms.validators import StopValidation, ValidationError

log = logging.getLogger(__name__)

PUBLIC = "public"
PROFESSIONAL = "professional"
SUBJECT_TYPES = frozenset({PUBLIC, PROFESSIONAL})
ONE_PLACE = Decimal("0.1")
#: certificate layouts: one year per certificate, or a range of years merged onto one page.
ANNUAL = "annual"
MERGED = "merged"
CERTIFICATE_LAYOUTS = (ANNUAL, MERGED)


def quantize_hours(value: Any) -> Decimal:
    """``value`` as a ``Decimal`` with exactly one decimal place, rounded half up (16.25 → 16.3).

    Accepts ``Decimal``, ``int``, ``str`` and ``float`` (converted through ``str`` so 0.1 stays 0.1).
    """
    if isinstance(value, float):
        value = str(value)
    return Decimal(value).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class HoursContext:
    """What an hours rule may know about the person's year: the year credited and its requirements.

    ``public_required`` / ``professional_required`` (and ``total_required`` when known) are the
    minimums that apply to this person in ``year`` (already prorated for reduced requirements).
    They are normalised to ``Decimal`` with one decimal place.
    """

    year: int
    public_required: Decimal
    professional_required: Decimal
    total_required: Decimal | None = None

    def __post_init__(self):
        object.__setattr__(self, "public_required", quantize_hours(self.public_required))
        object.__setattr__(self, "professional_required", quantize_hours(self.professional_required))
        if self.total_required is not None:
            object.__setattr__(self, "total_required", quantize_hours(self.total_required))


# ---------------------------------------------------------------------------------------------
# WTForms building blocks: a base form translated like the rest of the app, and fields whose
# type errors carry our own (translatable) messages.


class _WTFormsTranslations:
    """Resolves WTForms' built-in messages in the current Flask-Babel locale at the time they are used."""

    _cache: dict[str, Any] = {}

    def _translations(self):
        code = None
        try:
            from flask_babel import get_locale

            locale = get_locale()
        except Exception:  # no app context or no locale selector: untranslated
            locale = None
        if locale is not None:
            code = locale.language
            if code == "zh" and (locale.script == "Hant" or locale.territory in ("TW", "HK", "MO")):
                code = "zh_TW"
        if not code:
            return _gettext.NullTranslations()
        if code not in self._cache:
            from wtforms.i18n import get_translations

            self._cache[code] = get_translations([code])
        return self._cache[code]

    def gettext(self, string):
        return self._translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return self._translations().ngettext(singular, plural, n)


class PluginForm(Form):
    """Base class for the WTForms form of a learning form (plain WTForms: no request, no CSRF).

    Views that embed it in a request form should use a prefix (``LearningForm.bind(prefix=...)``).
    """

    class Meta:
        def get_translations(self, form):
            return _WTFormsTranslations()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TextField(StringField):
    """A string field whose value is stripped of surrounding white space."""

    def __init__(self, label=None, validators=None, filters=(), **kwargs):
        super().__init__(label, validators, filters=(_strip, *filters), **kwargs)


class IntField(IntegerField):
    """Integer field with a clear, translatable conversion error."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Enter a whole number."))) from exc


class NumberField(DecimalField):
    """Decimal field with a clear, translatable conversion error."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            value = Decimal(str(valuelist[0]).strip())
            if not value.is_finite():
                raise InvalidOperation
            self.data = value
        except (InvalidOperation, ValueError) as exc:
            self.data = None
            raise ValueError(str(_l("Enter a number."))) from exc


class DayField(DateField):
    """ISO date field (YYYY-MM-DD) with a clear, translatable conversion error."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = dt.date.fromisoformat(str(valuelist[0]).strip()[:10])
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Enter a date as YYYY-MM-DD."))) from exc


class FlagField(BooleanField):
    """Check box; in dict data it accepts ``True``/``False`` and the strings "true"/"false"/"y"/"1"/"0"."""

    false_values = (False, "false", "False", "0", "no", "n", "off", "")


class ChoiceField(SelectField):
    """A required select with one clear message when nothing or something unknown was chosen."""

    def __init__(self, label=None, validators=None, choices=None, message=None, **kwargs):
        super().__init__(label, validators, choices=choices, **kwargs)
        self.message = message

    def pre_validate(self, form):
        values = {str(value) for value, _label, *_ in self.iter_choices()}
        if self.data in (None, "") or str(self.data) not in values:
            raise StopValidation(str(self.message or _l("Choose one of the listed options.")))


class Required:
    """The field must have a value (0 and False count as a value; empty strings and None do not)."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            if field.errors:  # a conversion error already says what is wrong
                raise StopValidation()
            raise StopValidation(str(self.message or _l("This field is required.")))


class Range:
    """Number within ``[min, max]`` (``min_exclusive`` makes the lower bound strict). Skips ``None``."""

    def __init__(self, min=None, max=None, message=None, min_exclusive=False):
        self.min, self.max, self.message, self.min_exclusive = min, max, message, min_exclusive

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        too_low = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
        too_high = self.max is not None and value > self.max
        if too_low or too_high:
            raise ValidationError(str(self.message or _l("The value is out of range.")))


class MaxLength:
    """String at most ``max`` characters."""

    def __init__(self, max, message=None):
        self.max, self.message = max, message

    def __call__(self, form, field):
        if isinstance(field.data, str) and len(field.data) > self.max:
            raise ValidationError(str(self.message or _l("Enter at most %(max)d characters.", max=self.max)))


# ---------------------------------------------------------------------------------------------
# Conversions between dicts (JSON on the declaration) and forms.


def to_formdata(data: Mapping[str, Any] | None) -> MultiDict:
    """A request-like ``MultiDict`` from a plain dict: ``None``/``False`` are left out, ``True`` → "y",
    dates → ISO strings, lists → repeated keys, anything else → ``str``."""
    md = MultiDict()
    for key, value in (data or {}).items():
        if value is None or value is False:
            continue
        if value is True:
            md.add(key, "y")
        elif isinstance(value, (dt.date, dt.datetime)):
            md.add(key, value.isoformat()[:10])
        elif isinstance(value, (list, tuple)):
            for item in value:
                md.add(key, str(item))
        else:
            md.add(key, str(value))
    return md


def jsonable(value: Any) -> Any:
    """A JSON-safe form of a cleaned field value: dates → "YYYY-MM-DD", Decimal → str, others unchanged."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def as_decimal(value: Any) -> Decimal:
    """``Decimal`` from a stored value (int, str, Decimal, float through ``str``)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def as_date(value: Any) -> dt.date:
    """``date`` from a stored value (date or ISO string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------------------------------------
# The plugin base classes.


class LearningForm(abc.ABC):
    """A learning form (学习形式): its fields, evidence guidance and hours rule.

    Subclass and set the class attributes; implement ``hours``. Guarantees of the base class:

    * ``validate(data)`` runs ``form_class`` on a plain dict and returns JSON-safe clean data with
      only the form's fields, or the errors per field (translated strings);
    * ``standard_hours(data, context)`` returns ``hours()`` with one decimal place (half up), or
      ``None`` where the organiser or a reviewer sets the hours (also when ``hours()`` fails: logged).
    """

    #: stable identifier stored on declarations; lower-case letters, digits and "_" (≤ 64).
    code: ClassVar[str] = ""
    #: translatable name (``lazy_gettext``) shown in the form selector.
    name: ClassVar[Any] = ""
    #: subset of ``{"public", "professional"}`` this form may be declared for.
    subject_types: ClassVar[frozenset[str]] = frozenset({PROFESSIONAL})
    #: the WTForms form with the fields beyond the common ones of a declaration.
    form_class: ClassVar[type[Form]] = PluginForm
    #: translatable guidance on the evidence to upload, shown beside the upload.
    evidence: ClassVar[Any] = ""
    #: translatable one-line summary of the hours standard (shown to declarants and reviewers).
    hours_rule: ClassVar[Any] = ""
    #: True when an approved declaration completes the whole year (public hours included).
    counts_full_year: ClassVar[bool] = False

    @abc.abstractmethod
    def hours(self, data: Mapping[str, Any], context: HoursContext) -> Decimal | None:
        """Standard hours for already-validated ``data`` (the clean dict of ``validate``), or ``None``
        when the organiser or a reviewer sets them."""

    # -- helpers every form gets --------------------------------------------------------------

    def bind(self, formdata=None, data: Mapping[str, Any] | None = None, prefix: str = "") -> Form:
        """An instance of ``form_class``: from request ``formdata`` if given, else from the dict ``data``."""
        if formdata is None:
            formdata = to_formdata(data)
        return self.form_class(formdata=formdata, prefix=prefix)

    def validate(self, data: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """Validate a plain dict. Returns ``(clean, {})`` when valid, else ``({}, errors)``.

        ``clean`` holds exactly the form's fields, JSON-safe (see ``jsonable``), and validates again
        to itself. ``errors`` maps a field name to its messages, translated in the current locale.
        """
        form = self.bind(data=data or {})
        if form.validate():
            return self.clean_data(form), {}
        return {}, self.form_errors(form)

    @staticmethod
    def clean_data(form: Form) -> dict[str, Any]:
        """JSON-safe data of a validated form instance."""
        return {name: jsonable(field.data) for name, field in form._fields.items()}

    @staticmethod
    def form_errors(form: Form) -> dict[str, list[str]]:
        """Errors of a validated form instance as ``{field: [message, ...]}`` with plain strings."""
        out: dict[str, list[str]] = {}
        for name, messages in form.errors.items():
            out[str(name) if name is not None else "__all__"] = [str(m) for m in messages]
        return out

    def standard_hours(self, data: Mapping[str, Any], context: HoursContext) -> Decimal | None:
        """``hours(data, context)`` quantized to one decimal place; ``None`` if the form sets none or fails."""
        try:
            value = self.hours(data, context)
        except Exception:
            log.exception("learning form %s: hours() failed; the hours are left to the reviewer", self.code)
            return None
        return None if value is None else quantize_hours(value)

    def fields(self) -> list[tuple[str, str]]:
        """``[(field name, label)]`` of the form's fields, in order (for listings and documentation)."""
        form = self.form_class()
        return [(name, str(field.label.text)) for name, field in form._fields.items()]

    def __repr__(self):
        return f"<{type(self).__name__} {self.code}>"


class CertificateTemplate(abc.ABC):
    """A certificate template: turns the certificate context into an HTML page (rendered to PDF).

    ``render(context)`` must return a complete HTML document; the certificates service converts it
    with xhtml2pdf, embedding the CJK font, with ``assets_dir`` as the only readable folder.
    User text in ``context`` must be escaped (render with Jinja autoescape on).
    """

    #: stable identifier stored on issued certificates (same rules as learning-form codes).
    code: ClassVar[str] = ""
    #: translatable name shown in the console and when choosing a template.
    name: ClassVar[Any] = ""
    #: xhtml2pdf page size, e.g. "A4" or "A4 landscape".
    paper_size: ClassVar[str] = "A4"
    #: folder with the template's images/CSS (the only files the PDF renderer may read), or None.
    assets_dir: ClassVar[str | None] = None
    #: which certificate it prints: "annual" (one year) or "merged" (a range of years on one page).
    layout: ClassVar[str] = ANNUAL
    #: among the enabled templates of a layout that apply to a context, the highest priority wins
    #: (the built-ins have 0; an industry template would use e.g. 10).
    priority: ClassVar[int] = 0

    def applies_to(self, context: Mapping[str, Any]) -> bool:
        """Whether this template may print the certificate of ``context`` (e.g. only for one
        ``context["industry_code"]``). The default applies to every context."""
        return True

    @abc.abstractmethod
    def render(self, context: Mapping[str, Any]) -> str:
        """The certificate as an HTML document for ``context`` (person, years, hours, verification code…)."""

    def __repr__(self):
        return f"<{type(self).__name__} {self.code}>"
