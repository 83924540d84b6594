"""Training pages: plans, classes and trainee results."""

from flask_babel import lazy_gettext as _l

from ..models import TraineeResult, TrainingClass, TrainingPlan
from .base import ScopedInterface, ScopedModelView
from .choices import STATUSES, SUBJECT_TYPES, fmt, select
from .labels import LABELS, PERSON_LABELS


class TrainingPlanView(ScopedModelView):
    datamodel = ScopedInterface(TrainingPlan)
    list_title = _l("Training plans")
    show_title = _l("Training plan details")
    add_title = _l("Add training plan")
    edit_title = _l("Edit training plan")
    label_columns = LABELS
    list_columns = ["name", "org", "year", "subject_type", "subject", "planned_headcount", "state"]
    show_columns = list_columns + ["form", "hours", "start_date", "end_date", "description", "handler_org", "created"]
    add_columns = ["name", "year", "subject_type", "subject", "form", "planned_headcount", "hours", "start_date", "end_date", "description"]
    edit_columns = add_columns
    search_columns = ["name", "year", "subject_type", "state"]
    formatters_columns = {"subject_type": fmt(SUBJECT_TYPES), "state": fmt(STATUSES)}
    add_form_extra_fields = {"subject_type": select(_l("Subject type"), SUBJECT_TYPES)}
    edit_form_extra_fields = add_form_extra_fields
    base_order = ("id", "desc")

    def pre_update(self, item):
        if item.state not in ("draft", "rejected"):
            self.datamodel.session.rollback()
            raise ValueError(_l("An approved or pending plan cannot be changed."))
        super().pre_update(item)

    def pre_delete(self, item):
        if item.state not in ("draft", "rejected"):
            raise ValueError(_l("An approved or pending plan cannot be deleted."))


class TrainingClassView(ScopedModelView):
    datamodel = ScopedInterface(TrainingClass)
    list_title = _l("Training classes")
    show_title = _l("Training class details")
    add_title = _l("Add training class")
    edit_title = _l("Edit training class")
    label_columns = LABELS
    list_columns = ["name", "plan", "org", "start_date", "end_date", "hours", "results_declared"]
    show_columns = list_columns + ["location", "created"]
    add_columns = ["plan", "name", "start_date", "end_date", "hours", "location"]
    edit_columns = ["name", "start_date", "end_date", "hours", "location"]
    search_columns = ["name", "results_declared"]
    formatters_columns = {"results_declared": fmt(STATUSES)}
    base_order = ("id", "desc")


class TraineeResultView(ScopedModelView):
    datamodel = ScopedInterface(TraineeResult)
    list_title = _l("Trainee results")
    show_title = _l("Trainee result")
    add_title = _l("Add trainee result")
    edit_title = _l("Edit trainee result")
    label_columns = PERSON_LABELS
    list_columns = ["training_class", "name", "id_number", "score", "passed"]
    show_columns = list_columns + ["remark", "created"]
    add_columns = ["training_class", "id_number", "name", "score", "remark"]
    edit_columns = ["score", "remark"]
    search_columns = ["name", "id_number", "passed"]
    formatters_columns = {"passed": fmt(STATUSES)}
    base_order = ("id", "desc")
