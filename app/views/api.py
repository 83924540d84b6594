"""REST APIs (``/api/v1/<resource>/``), all on the shared scoped base."""

from ..models import Declaration, Department, Organization, Professional, TrainingPlan
from .base import ScopedInterface, ScopedRestApi


class OrganizationApi(ScopedRestApi):
    resource_name = "organization"
    datamodel = ScopedInterface(Organization)
    list_columns = ["id", "name", "kind", "credit_code", "parent_id", "region_id", "status"]
    show_columns = list_columns + ["phone", "address", "remark"]
    add_columns = ["name", "kind", "credit_code", "parent", "region", "phone", "address"]
    edit_columns = ["name", "phone", "address", "remark"]


class DepartmentApi(ScopedRestApi):
    resource_name = "department"
    datamodel = ScopedInterface(Department)
    list_columns = ["id", "name", "org_id", "parent_id", "enabled"]
    show_columns = list_columns
    add_columns = ["name", "org", "parent", "enabled"]
    edit_columns = ["name", "org", "parent", "enabled"]


class ProfessionalApi(ScopedRestApi):
    resource_name = "professional"
    datamodel = ScopedInterface(Professional)
    list_columns = ["id", "name", "id_number", "gender", "org_id", "department_id", "status"]
    show_columns = list_columns + ["birth_date", "school", "certificate_no", "is_accountant"]
    edit_columns = ["department", "school", "is_accountant", "org"]
    add_columns = []
    exclude_route_methods = {"post"}


class DeclarationApi(ScopedRestApi):
    resource_name = "declaration"
    datamodel = ScopedInterface(Declaration)
    list_columns = [
        "id", "professional_id", "org_id", "year", "subject_type", "form_code", "requested_hours",
        "recognised_hours", "state", "handler_org_id",
    ]
    show_columns = list_columns + ["start_date", "end_date", "result", "remark"]
    add_columns = ["professional", "org", "year", "subject_type", "form_code", "requested_hours", "remark"]
    edit_columns = ["remark", "requested_hours", "org"]


class TrainingPlanApi(ScopedRestApi):
    resource_name = "training_plan"
    datamodel = ScopedInterface(TrainingPlan)
    list_columns = ["id", "name", "org_id", "year", "subject_type", "state"]
    show_columns = list_columns + ["planned_headcount", "description"]
    add_columns = ["name", "org", "year", "subject_type", "planned_headcount"]
    edit_columns = ["name", "org", "planned_headcount", "description"]


APIS = [OrganizationApi, DepartmentApi, ProfessionalApi, DeclarationApi, TrainingPlanApi]
