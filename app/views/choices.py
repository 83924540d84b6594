"""Coded values shown as translated labels, and the select fields that edit them."""

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from ..capacities import LABELS as CAPACITY_LABELS

ORG_KINDS = {
    "province": _l("Province HR department"),
    "hr": _l("HR bureau"),
    "competent": _l("Competent department"),
    "employer": _l("Employer unit"),
    "ce_base": _l("CE base"),
}
STATUSES = {
    "pending": _l("Pending review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "closed": _l("Closed"),
    "deregistered": _l("Deregistered"),
    "draft": _l("Draft"),
    "revoked": _l("Revoked"),
    "no": _l("No"),
    "yes": _l("Yes"),
    "passed": _l("Passed"),
    "failed": _l("Failed"),
}
SUBJECT_TYPES = {"public": _l("Public subject"), "professional": _l("Professional subject")}
GENDERS = {"male": _l("Male"), "female": _l("Female")}
TITLE_LEVELS = {
    "all": _l("All levels"),
    "junior": _l("Junior"),
    "intermediate": _l("Intermediate"),
    "senior": _l("Senior"),
}
REGION_SCOPES = {"all": _l("Whole province"), "zhengzhou": _l("Zhengzhou"), "elsewhere": _l("Outside Zhengzhou")}
INITIATORS = {"person": _l("Person"), "unit": _l("Unit")}
CHANGE_KINDS = {
    "person_info": _l("Personal information"),
    "id_document": _l("ID document"),
    "org_info": _l("Organisation information"),
    "org_superior": _l("Change of superior"),
}
DEREG_KINDS = {"person": _l("Professional"), "org": _l("Organisation")}
CAPACITIES = CAPACITY_LABELS


def fmt(mapping):
    """Formatter showing the translated label of a code."""

    def _format(value):
        return mapping.get(value, value) if value is not None else ""

    return _format


def select(label, mapping, default=None):
    """A required select over a mapping of code → label."""
    return SelectField(label, choices=list(mapping.items()), default=default, widget=Select2Widget())

# Learning-form names by stable code (SPEC §5); the plugin registry (declarations issue) will supply these.
LEARNING_FORMS = {
    "training_class": _l("Training class at a CE base"),
    "training_programme": _l("Training or study programme"),
    "degree_course": _l("Degree education"),
    "course_study": _l("Course study"),
    "academic_conference": _l("Academic conference"),
    "research_project": _l("Research project"),
    "book": _l("Book or translation"),
    "paper": _l("Published paper"),
    "patent": _l("Patent"),
    "award": _l("Award"),
    "qualification_exam": _l("Qualification exam"),
    "research_report": _l("Research report endorsed by leaders"),
    "aid_posting": _l("Aid or grassroots posting"),
    "grassroots_service": _l("Grassroots service"),
    "unit_plan": _l("Unit training plan"),
    "other": _l("Other"),
}
