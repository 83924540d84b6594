"""Hours pages: declarations, their evidence, subject catalogues, requirements and certificates."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from flask_appbuilder.fieldwidgets import DatePickerWidget
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from ..models import AnnualRequirement, Attachment, Certificate, Declaration, DeclarationWindow, Subject
from .base import ScopedInterface, ScopedModelView
from .choices import LEARNING_FORMS, REGION_SCOPES, STATUSES, SUBJECT_TYPES, TITLE_LEVELS, fmt, select
from .labels import LABELS


class DeclarationView(ScopedModelView):
    datamodel = ScopedInterface(Declaration)
    list_title = _l("Hours declarations")
    show_title = _l("Declaration details")
    add_title = _l("Declare hours")
    edit_title = _l("Edit declaration")
    label_columns = LABELS
    list_columns = [
        "professional", "year", "subject_type", "form_code", "requested_hours", "recognised_hours", "state", "handler_org",
    ]
    show_columns = [
        "professional", "org", "declared_by_org", "year", "subject_type", "form_code", "start_date", "end_date",
        "result", "requested_hours", "recognised_hours", "remark", "state", "handler_org", "created", "submitted_at",
        "decided_at",
    ]
    add_columns = ["professional", "year", "subject_type", "form_code", "start_date", "end_date", "result", "requested_hours", "remark"]
    edit_columns = ["start_date", "end_date", "result", "requested_hours", "remark"]
    search_columns = ["year", "subject_type", "form_code", "state"]
    formatters_columns = {"subject_type": fmt(SUBJECT_TYPES), "state": fmt(STATUSES), "form_code": fmt(LEARNING_FORMS)}
    add_form_extra_fields = {
        "subject_type": select(_l("Subject type"), SUBJECT_TYPES),
        "form_code": select(_l("Learning form"), LEARNING_FORMS),
    }
    order_columns = ["year", "requested_hours", "state"]
    base_order = ("id", "desc")

    def pre_add(self, item):
        super().pre_add(item)
        if item.professional is not None:
            item.org_id = item.professional.org_id
        elif item.professional_id is not None:
            from ..models import Professional

            item.org_id = self.datamodel.session.get(Professional, item.professional_id).org_id

    def pre_update(self, item):
        if item.state != "draft":
            self.datamodel.session.rollback()
            raise ValueError(_l("Only drafts can be edited."))
        super().pre_update(item)

    def pre_delete(self, item):
        if item.state != "draft":
            raise ValueError(_l("Only drafts can be deleted."))


class AttachmentView(ScopedModelView):
    datamodel = ScopedInterface(Attachment)
    list_title = _l("Evidence files")
    show_title = _l("Evidence file")
    label_columns = LABELS
    list_columns = ["declaration", "filename", "content_type", "size", "created"]
    show_columns = list_columns
    search_columns = ["filename", "content_type"]
    base_permissions = ["can_list", "can_show"]


class SubjectView(ScopedModelView):
    datamodel = ScopedInterface(Subject)
    list_title = _l("Subject catalogue")
    show_title = _l("Subject details")
    add_title = _l("Add subject")
    edit_title = _l("Edit subject")
    label_columns = LABELS
    list_columns = ["name", "subject_type", "year", "specialty", "owner_org", "enabled"]
    show_columns = list_columns
    add_columns = ["name", "subject_type", "year", "specialty", "enabled"]
    edit_columns = ["name", "year", "specialty", "enabled"]
    search_columns = ["name", "subject_type", "year", "specialty", "enabled"]
    formatters_columns = {"subject_type": fmt(SUBJECT_TYPES)}
    add_form_extra_fields = {"subject_type": select(_l("Subject type"), SUBJECT_TYPES)}

    def pre_add(self, item):
        from ..acting import current_actor

        item.owner_org_id = current_actor().org_id
        super().pre_add(item)


class UniqueRequirement:
    """Form check of the year field: one requirement per (year, title level, region scope)."""

    def __call__(self, form, field):
        from ..extensions import db

        level = getattr(form, "title_level", None)
        scope = getattr(form, "region_scope", None)
        if field.data is None or level is None or scope is None:
            return
        found = db.session.query(AnnualRequirement.id).filter_by(
            year=field.data, title_level=level.data, region_scope=scope.data
        ).first()
        if found is not None:
            raise ValidationError(str(_l("A requirement for this year, title level and region scope already exists.")))


def _hours_range():
    return [NumberRange(0, 999, message=_l("Enter hours from 0 to 999."))]


class AnnualRequirementView(ScopedModelView):
    datamodel = ScopedInterface(AnnualRequirement)
    list_title = _l("Yearly hour requirements")
    show_title = _l("Requirement details")
    add_title = _l("Add requirement")
    edit_title = _l("Edit requirement")
    label_columns = LABELS
    list_columns = ["year", "title_level", "region_scope", "public_min", "professional_min", "total_min"]
    show_columns = list_columns + ["public_counts_as_professional"]
    add_columns = show_columns
    edit_columns = ["public_min", "professional_min", "total_min", "public_counts_as_professional"]
    search_columns = ["year", "title_level", "region_scope"]
    formatters_columns = {"title_level": fmt(TITLE_LEVELS), "region_scope": fmt(REGION_SCOPES)}
    validators_columns = {
        "year": [NumberRange(2000, 2100, message=_l("Enter a year from 2000 to 2100.")), UniqueRequirement()],
        "public_min": _hours_range(),
        "professional_min": _hours_range(),
        "total_min": _hours_range(),
    }
    add_form_extra_fields = {
        "title_level": select(_l("Title level"), TITLE_LEVELS, "all"),
        "region_scope": select(_l("Region scope"), REGION_SCOPES, "all"),
    }
    base_order = ("year", "desc")


CERTIFICATE_LAYOUTS = {"annual": _l("One year"), "merged": _l("Merged years")}


def verify_link(code):
    """The certificate's public verification page as a link (the code is ours: URL-safe characters)."""
    if not code:
        return ""
    url = url_for("CertificateVerifyView.verify", code=code)
    return Markup('<a href="{}" target="_blank" rel="noopener">{}</a>').format(url, _l("Verify"))


class CertificateView(ScopedModelView):
    datamodel = ScopedInterface(Certificate)
    list_title = _l("E-certificates")
    show_title = _l("Certificate details")
    label_columns = LABELS
    list_columns = ["professional", "year_from", "year_to", "layout", "issuer_org", "revoked", "issued_at", "verification_code"]
    show_columns = [
        "professional", "template_code", "layout", "year_from", "year_to", "issuer_org", "revoked", "revoked_reason",
        "issued_at", "verification_code",
    ]
    formatters_columns = {"layout": fmt(CERTIFICATE_LAYOUTS), "verification_code": verify_link}
    search_columns = ["year_from", "year_to", "revoked"]
    base_permissions = ["can_list", "can_show", "can_export"]
    base_order = ("id", "desc")


class WindowCheck:
    """Form-level check of a declaration window, run as the validator of the last field: the service's
    messages go next to their own fields, so nothing typed is lost on a refusal."""

    def __call__(self, form, field):
        from ..acting import current_actor
        from ..services.declaration_windows import WindowInvalid, check_window

        if any(f.errors for f in form if f is not field):
            return
        try:
            check_window(current_actor(), form.id_number.data, form.year.data, form.until.data, field.data)
        except WindowInvalid as e:
            own = None
            for name, message in e.errors.items():
                target = getattr(form, name, None)
                if target is None or target is field:
                    own = message
                else:
                    target.errors = list(target.errors) + [str(message)]
            raise ValidationError(str(own or _l("Please correct the errors above."))) from None


class DeclarationWindowView(ScopedModelView):
    """补报: past years an HR bureau opened for one professional (see ``services.declaration_windows``)."""

    datamodel = ScopedInterface(DeclarationWindow)
    list_title = _l("Past-year declaration windows")
    show_title = _l("Declaration window")
    add_title = _l("Open a past year for declarations")
    label_columns = dict(LABELS, id_number=_l("ID number"), until=_l("Open until"), opened_by_org=_l("Opened by"))
    list_columns = ["professional", "year", "until", "reason", "opened_by_org", "created"]
    show_columns = list_columns
    add_columns = ["id_number", "year", "until", "reason"]
    search_columns = ["year"]
    base_permissions = ["can_list", "can_show", "can_add", "can_delete"]
    base_order = ("id", "desc")
    add_form_extra_fields = {
        "id_number": StringField(_l("ID number"), validators=[DataRequired(), Length(max=32)]),
        "year": IntegerField(_l("Year"), validators=[DataRequired()]),
        "until": DateField(_l("Open until"), validators=[DataRequired()], widget=DatePickerWidget()),
        "reason": TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000), WindowCheck()]),
    }

    def pre_add(self, item):
        from ..acting import current_actor
        from ..services.declaration_windows import check_window

        actor = current_actor()
        # Checked again at write time (the form check ran on the same data a moment ago).
        item.professional = check_window(actor, item.id_number, item.year, item.until, item.reason)
        item.opened_by_org_id = actor.org_id
        super().pre_add(item)
