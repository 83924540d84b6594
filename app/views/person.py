"""Professionals (专业技术人员信息) and their title / education / qualification / academic-title records."""

from flask_babel import lazy_gettext as _l

from ..models import AcademicTitleRecord, EducationRecord, Professional, QualificationRecord, TitleRecord
from ..services import departments
from .base import ScopedInterface, ScopedModelView
from .choices import GENDERS, STATUSES, fmt
from .labels import LABELS, PERSON_LABELS


class MemberDepartmentCheck:
    """Edit hook of the professional page and API: a person's department belongs to its own employer.
    ``department_error`` carries the message (a ``ValueError`` shows next to the form; the REST API
    answers 400 for ``BadRequest``)."""

    department_error: type = ValueError

    def pre_update(self, item):
        super().pre_update(item)
        try:
            departments.check_member_department(item)
        except departments.DepartmentError as exc:
            self.datamodel.session.rollback()
            raise self.department_error(str(exc.message)) from exc


class ProfessionalView(MemberDepartmentCheck, ScopedModelView):
    datamodel = ScopedInterface(Professional)
    list_title = _l("Professionals")
    show_title = _l("Professional details")
    add_title = _l("Add professional")
    edit_title = _l("Edit professional")
    label_columns = PERSON_LABELS
    list_columns = ["name", "id_number", "gender", "org", "department", "title_level", "status"]
    show_columns = [
        "name", "id_number", "gender", "birth_date", "ethnicity", "native_place", "org", "department",
        "region", "school", "major", "title_series", "title_level", "is_accountant", "certificate_no",
        "status", "created",
    ]
    # Name, ID number and employer change only through their own review processes (SPEC §2).
    edit_columns = [
        "department", "ethnicity", "native_place", "school", "major", "title_series", "title_level", "is_accountant",
    ]
    search_columns = ["name", "id_number", "status", "is_accountant"]
    formatters_columns = {"gender": fmt(GENDERS), "status": fmt(STATUSES)}
    order_columns = ["name", "status"]
    base_order = ("id", "desc")
    # A professional is created by registration and leaves by deregistration (注销), never here.
    base_permissions = ["can_list", "can_show", "can_edit", "can_export"]



def _record_view(model, title, columns, show_title, add_title, edit_title):
    class RecordView(ScopedModelView):
        datamodel = ScopedInterface(model)
        list_title = title
        label_columns = LABELS
        list_columns = ["professional"] + columns
        show_columns = ["professional"] + columns
        add_columns = ["professional"] + columns
        edit_columns = columns
        base_order = ("id", "desc")

    RecordView.show_title = show_title
    RecordView.add_title = add_title
    RecordView.edit_title = edit_title
    RecordView.__name__ = RecordView.__qualname__ = model.__name__ + "View"
    return RecordView


TitleRecordView = _record_view(
    TitleRecord, _l("Professional titles"), ["title_series", "specialty", "title_level", "obtained_on"],
    _l("Title details"), _l("Add title"), _l("Edit title"),
)
EducationRecordView = _record_view(
    EducationRecord, _l("Education"), ["school", "major", "education", "degree", "graduated_on"],
    _l("Education details"), _l("Add education"), _l("Edit education"),
)
QualificationRecordView = _record_view(
    QualificationRecord, _l("Qualifications"), ["name", "certificate_no", "obtained_on"],
    _l("Qualification details"), _l("Add qualification"), _l("Edit qualification"),
)
AcademicTitleRecordView = _record_view(
    AcademicTitleRecord, _l("Academic titles"), ["name", "granted_by", "granted_on"],
    _l("Academic title details"), _l("Add academic title"), _l("Edit academic title"),
)
