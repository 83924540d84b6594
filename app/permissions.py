"""Menus and base-role permissions of every capacity, declared as data in one place.

Each capacity has its own categories and items (names ``<capacity>.<key>``), so a capacity sees
exactly its menu. Every item is also a permission module (角色管理, base-role matrix) whose levels
come from its ``perms`` letters: L gives the levels 查看 view (list/show) and 导出 export (where the
view exports), A/E/D (add/edit/delete) give 编辑 edit, R gives 审核 review, C the console (view).
``ACTION_MODULES`` are modules without a menu link of their own (e.g. the password reset).
An item's view is a view class name (the link goes to its ``list``) or ``"View.method"`` (the link
goes to that endpoint; the permissions are those of ``View``).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .capacities import CE_BASE, COMPETENT, EMPLOYER, HR, PERSON, PROVINCE, SYSADMIN

PERM_LETTERS = {
    "L": ("can_list", "can_show"),
    "X": ("can_export",),  # implied by L: the export level
    "A": ("can_add",),
    "E": ("can_edit",),
    "D": ("can_delete", "muldelete"),
    "R": ("can_review",),
    "P": ("can_admin_reset",),
}
# Permission levels of a module, in matrix column order, and the letters that bring each.
LEVELS = ("view", "edit", "export", "review")
LEVEL_LABELS = {"view": _l("View"), "edit": _l("Edit"), "export": _l("Export"), "review": _l("Review")}
LETTER_LEVELS = {"L": "view", "C": "view", "X": "export", "A": "edit", "E": "edit", "D": "edit", "P": "edit", "R": "review"}
# REST API letters each level brings (only those the capacity's API holds, see ``APIS``).
LEVEL_API_LETTERS = {"view": ("L",), "edit": ("A", "E", "D", "S"), "export": (), "review": ("R",)}
API_LETTERS = {
    "L": ("can_get", "can_info"),
    "A": ("can_post",),
    "E": ("can_put",),
    "D": ("can_delete",),
    "S": ("can_submit",),
    "R": ("can_review",),
}

CATEGORY_LABELS = {
    "profile": _l("User profile"),
    "ce": _l("Continuing education"),
    "unit": _l("Unit profile"),
    "accounts": _l("Direct accounts"),
    "review": _l("Account review"),
    "hours": _l("Hours"),
    "training": _l("Training"),
    "query": _l("Queries and statistics"),
    "system": _l("System"),
}

# capacity -> [(category key, [(item key, label, view class name, perms)])]
MENUS: dict[str, list] = {
    PERSON: [
        ("profile", [
            ("my_info", _l("Basic information"), "ProfessionalView", "LE"),
            ("titles", _l("Professional titles"), "TitleRecordView", "LAED"),
            ("education", _l("Education"), "EducationRecordView", "LAED"),
            ("qualifications", _l("Qualifications"), "QualificationRecordView", "LAED"),
            ("academic_titles", _l("Academic titles"), "AcademicTitleRecordView", "LAED"),
            ("changes", _l("Change history"), "ChangeRequestView", "L"),
            ("transfers", _l("Transfer records"), "TransferView", "L"),
            ("deregistration", _l("Deregistration"), "PersonDeregistrationView", "LAE"),
        ]),
        ("ce", [
            ("declare", _l("Declare hours"), "HoursDeclarationView.declare", "LAED"),
            ("progress", _l("Declaration progress"), "HoursDeclarationView.progress", "LED"),
            ("reduction", _l("Reduced requirement"), "ReductionView.index", "LAED"),
            ("evidence", _l("Evidence files"), "AttachmentView", "L"),
            ("completion", _l("Annual completion"), "CompletionView.index", "L"),
            ("certificates", _l("E-certificates"), "CertificateView", "L"),
        ]),
    ],
    EMPLOYER: [
        ("unit", [
            ("unit_info", _l("Unit information"), "OrganizationView", "LE"),
            ("departments", _l("Internal departments"), "DepartmentView", "LAED"),
            ("deregistration", _l("Deregistration or merger"), "OrgDeregistrationView", "LAE"),
        ]),
        ("accounts", [
            ("admins", _l("Administrators"), "OrgAdminView", "LAE"),
            ("roles", _l("Roles"), "OrgRoleView", "LAED"),
            ("subunits", _l("Subordinate units"), "SubunitView", "LE"),
        ]),
        ("review", [
            ("reg_professionals", _l("Review registered professionals"), "RegistrationReviewView.professional", "LR"),
            ("reg_subunits", _l("Review subordinate units"), "RegistrationReviewView.employer", "LR"),
            ("transfers", _l("Transfers"), "TransferView", "L"),
            ("changes", _l("Information changes"), "ChangeRequestView", "L"),
            ("change_items", _l("Changed fields"), "ChangeItemView", "L"),
            ("deregistrations", _l("Deregistration review"), "DeregistrationReviewView", "LR"),
            ("deregistration_records", _l("Deregistration records"), "DeregistrationView", "L"),
        ]),
        ("hours", [
            ("declare", _l("Unit hours declaration"), "UnitDeclarationView.declare", "LA"),
            ("records", _l("Unit declaration records"), "UnitDeclarationView.records", "L"),
            ("approval", _l("Hours approval"), "HoursReviewView.index", "LR"),
            ("reduction_approval", _l("Reduced requirement review"), "ReductionReviewView.index", "LR"),
            ("evidence", _l("Evidence files"), "AttachmentView", "L"),
            ("plans", _l("Unit training plans"), "TrainingPlanView", "LAED"),
        ]),
        ("query", [
            ("professionals", _l("Professionals"), "ProfessionalView", "LE"),
            ("titles", _l("Professional titles"), "TitleRecordView", "L"),
            ("education", _l("Education"), "EducationRecordView", "L"),
            ("qualifications", _l("Qualifications"), "QualificationRecordView", "L"),
            ("academic_titles", _l("Academic titles"), "AcademicTitleRecordView", "L"),
            ("certificates", _l("E-certificates"), "CertificateView", "L"),
            ("certificate_print", _l("Certificate printing"), "CertificatePrintView.index", "L"),
        ]),
    ],
    COMPETENT: [
        ("unit", [
            ("unit_info", _l("Unit information"), "OrganizationView", "LE"),
            ("departments", _l("Internal departments"), "DepartmentView", "LAED"),
            ("deregistration", _l("Deregistration or merger"), "OrgDeregistrationView", "LAE"),
        ]),
        ("accounts", [
            ("admins", _l("Administrators"), "OrgAdminView", "LAE"),
            ("roles", _l("Roles"), "OrgRoleView", "LAED"),
            ("subunits", _l("Subordinate units and CE bases"), "SubunitView", "LE"),
        ]),
        ("review", [
            ("reg_employers", _l("Review employer units"), "RegistrationReviewView.employer", "LR"),
            ("reg_ce_bases", _l("Review CE bases"), "RegistrationReviewView.ce_base", "LR"),
            ("reg_competent", _l("Review competent departments"), "RegistrationReviewView.competent", "LR"),
            ("transfers", _l("Transfers"), "TransferView", "L"),
            ("changes", _l("Information changes"), "ChangeRequestView", "L"),
            ("change_items", _l("Changed fields"), "ChangeItemView", "L"),
            ("deregistrations", _l("Deregistration review"), "DeregistrationReviewView", "LR"),
            ("deregistration_records", _l("Deregistration records"), "DeregistrationView", "L"),
        ]),
        ("hours", [
            ("declare", _l("Unit hours declaration"), "UnitDeclarationView.declare", "LA"),
            ("records", _l("Unit declaration records"), "UnitDeclarationView.records", "L"),
            ("approval", _l("Hours approval"), "HoursReviewView.index", "LR"),
            ("reduction_approval", _l("Reduced requirement review"), "ReductionReviewView.index", "LR"),
            ("evidence", _l("Evidence files"), "AttachmentView", "L"),
        ]),
        ("training", [
            ("plans", _l("Training plan review"), "TrainingPlanView", "L"),
            ("classes", _l("Training classes"), "TrainingClassView", "L"),
            ("catalogue", _l("Professional subject catalogue"), "SubjectView", "LAED"),
        ]),
        ("query", [
            ("professionals", _l("Professionals"), "ProfessionalView", "L"),
            ("titles", _l("Professional titles"), "TitleRecordView", "L"),
            ("certificates", _l("E-certificates"), "CertificateView", "L"),
            ("certificate_print", _l("Certificate printing"), "CertificatePrintView.index", "L"),
        ]),
    ],
    CE_BASE: [
        ("unit", [
            ("unit_info", _l("Unit information"), "OrganizationView", "LE"),
            ("departments", _l("Internal departments"), "DepartmentView", "LAED"),
            ("deregistration", _l("Deregistration or merger"), "OrgDeregistrationView", "LAE"),
        ]),
        ("accounts", [
            ("admins", _l("Administrators"), "OrgAdminView", "LAE"),
            ("roles", _l("Roles"), "OrgRoleView", "LAED"),
        ]),
        ("training", [
            ("plans", _l("Training plans"), "TrainingPlanView", "LAED"),
            ("classes", _l("Training classes"), "TrainingClassView", "LAED"),
            ("results", _l("Trainee results"), "TraineeResultView", "LAED"),
            ("catalogue", _l("Subject catalogue"), "SubjectView", "L"),
        ]),
        ("hours", [
            ("declare", _l("Trainee hours declaration"), "DeclarationView", "LA"),
        ]),
    ],
    HR: [
        ("unit", [
            ("unit_info", _l("Unit information"), "OrganizationView", "LE"),
            ("departments", _l("Internal departments"), "DepartmentView", "LAED"),
            ("deregistration", _l("Deregistration or merger"), "OrgDeregistrationView", "LAE"),
        ]),
        ("accounts", [
            ("admins", _l("Administrators"), "OrgAdminView", "LAE"),
            ("roles", _l("Roles"), "OrgRoleView", "LAED"),
            ("subunits", _l("Organisations in the area"), "SubunitView", "LE"),
        ]),
        ("review", [
            ("reg_hr", _l("Review HR bureaus"), "RegistrationReviewView.hr", "LR"),
            ("reg_competent", _l("Review competent departments"), "RegistrationReviewView.competent", "LR"),
            ("reg_employers", _l("Review employer units"), "RegistrationReviewView.employer", "LR"),
            ("reg_ce_bases", _l("Review CE bases"), "RegistrationReviewView.ce_base", "LR"),
            ("transfers", _l("Transfers"), "TransferView", "L"),
            ("changes", _l("Information changes"), "ChangeRequestView", "L"),
            ("change_items", _l("Changed fields"), "ChangeItemView", "L"),
            ("deregistrations", _l("Deregistration review"), "DeregistrationReviewView", "LR"),
            ("deregistration_records", _l("Deregistration records"), "DeregistrationView", "L"),
        ]),
        ("hours", [
            ("approval", _l("Hours approval"), "HoursReviewView.index", "LR"),
            ("reduction_approval", _l("Reduced requirement review"), "ReductionReviewView.index", "LR"),
            ("windows", _l("Past-year declaration windows"), "DeclarationWindowView", "LAD"),
            ("evidence", _l("Evidence files"), "AttachmentView", "L"),
        ]),
        ("training", [
            ("plans", _l("Training plan review"), "TrainingPlanView", "L"),
            ("classes", _l("Training classes"), "TrainingClassView", "L"),
            ("results", _l("Trainee results"), "TraineeResultView", "L"),
            ("catalogue", _l("Subject catalogue"), "SubjectView", "L"),
        ]),
        ("query", [
            ("professionals", _l("Professionals"), "ProfessionalView", "L"),
            ("titles", _l("Professional titles"), "TitleRecordView", "L"),
            ("education", _l("Education"), "EducationRecordView", "L"),
            ("certificates", _l("E-certificates"), "CertificateView", "L"),
            ("certificate_print", _l("Certificate printing"), "CertificatePrintView.index", "L"),
        ]),
        ("system", [
            ("requirements", _l("Yearly hour requirements"), "AnnualRequirementView", "L"),
            ("audit", _l("Audit log"), "AuditLogView", "L"),
        ]),
    ],
    PROVINCE: [
        ("unit", [
            ("unit_info", _l("Unit information"), "OrganizationView", "LE"),
            ("departments", _l("Internal departments"), "DepartmentView", "LAED"),
        ]),
        ("accounts", [
            ("admins", _l("Administrators"), "OrgAdminView", "LAE"),
            ("roles", _l("Roles"), "OrgRoleView", "LAED"),
            ("subunits", _l("Organisations in the province"), "SubunitView", "LE"),
        ]),
        ("review", [
            ("reg_hr", _l("Review HR bureaus"), "RegistrationReviewView.hr", "LR"),
            ("reg_competent", _l("Review competent departments"), "RegistrationReviewView.competent", "LR"),
            ("reg_employers", _l("Review employer units"), "RegistrationReviewView.employer", "LR"),
            ("reg_ce_bases", _l("Review CE bases"), "RegistrationReviewView.ce_base", "LR"),
            ("transfers", _l("Transfers"), "TransferView", "L"),
            ("changes", _l("Information changes"), "ChangeRequestView", "L"),
            ("change_items", _l("Changed fields"), "ChangeItemView", "L"),
            ("deregistrations", _l("Deregistration review"), "DeregistrationReviewView", "LR"),
            ("deregistration_records", _l("Deregistration records"), "DeregistrationView", "L"),
        ]),
        ("hours", [
            ("approval", _l("Hours approval"), "HoursReviewView.index", "LR"),
            ("reduction_approval", _l("Reduced requirement review"), "ReductionReviewView.index", "LR"),
            ("windows", _l("Past-year declaration windows"), "DeclarationWindowView", "LAD"),
            ("evidence", _l("Evidence files"), "AttachmentView", "L"),
        ]),
        ("training", [
            ("plans", _l("Training plan review"), "TrainingPlanView", "L"),
            ("classes", _l("Training classes"), "TrainingClassView", "L"),
            ("results", _l("Trainee results"), "TraineeResultView", "L"),
            ("catalogue", _l("Public subject catalogue"), "SubjectView", "LAED"),
        ]),
        ("query", [
            ("professionals", _l("Professionals"), "ProfessionalView", "L"),
            ("titles", _l("Professional titles"), "TitleRecordView", "L"),
            ("education", _l("Education"), "EducationRecordView", "L"),
            ("certificates", _l("E-certificates"), "CertificateView", "L"),
            ("certificate_print", _l("Certificate printing"), "CertificatePrintView.index", "L"),
        ]),
        ("system", [
            ("requirements", _l("Yearly hour requirements"), "AnnualRequirementView", "LAED"),
            ("audit", _l("Audit log"), "AuditLogView", "L"),
        ]),
    ],
    SYSADMIN: [
        ("system", [
            ("organisations", _l("All organisations"), "OrganizationView", "LAED"),
            ("professionals", _l("All professionals"), "ProfessionalView", "LE"),
            ("admins", _l("All administrators"), "MembershipView", "LAED"),
            ("requirements", _l("Yearly hour requirements"), "AnnualRequirementView", "LAED"),
            ("audit", _l("Audit log"), "AuditLogView", "L"),
            ("console", _l("Base data console"), "ConsoleAccess", "C"),
            ("users", _l("Users"), "UserAdminView", "LE"),
            ("base_roles", _l("Base role permissions"), "RoleMatrixView.index", "LE"),
        ]),
    ],
}

# REST APIs per capacity: API class name -> letters (API_LETTERS). Declarations: the professional
# creates, edits and submits its own (A, E, S); reviewers approve and reject (R). Organisations declare
# for their people on the pages only.
APIS: dict[str, dict[str, str]] = {
    PERSON: {"ProfessionalApi": "L", "DeclarationApi": "LAES"},
    EMPLOYER: {"OrganizationApi": "LE", "DepartmentApi": "LAED", "ProfessionalApi": "LE", "DeclarationApi": "LR", "TrainingPlanApi": "LAED"},
    COMPETENT: {"OrganizationApi": "LE", "DepartmentApi": "LAED", "ProfessionalApi": "L", "DeclarationApi": "LR", "TrainingPlanApi": "L"},
    CE_BASE: {"OrganizationApi": "LE", "DepartmentApi": "LAED", "TrainingPlanApi": "LAED"},
    HR: {"OrganizationApi": "LE", "DepartmentApi": "LAED", "ProfessionalApi": "L", "DeclarationApi": "LR", "TrainingPlanApi": "L"},
    PROVINCE: {"OrganizationApi": "LE", "DepartmentApi": "LAED", "ProfessionalApi": "L", "DeclarationApi": "LR", "TrainingPlanApi": "L"},
    SYSADMIN: {"OrganizationApi": "LAED", "DepartmentApi": "LAED", "ProfessionalApi": "LE", "DeclarationApi": "L", "TrainingPlanApi": "L"},
}

# Permission modules without a menu link: capacity -> [(category key, [(key, label, view, perms)])].
# The password reset is its own module (not part of the professionals queries): the reset buttons
# show only to admins holding it.
ACTION_MODULES: dict[str, list] = {
    capacity: [("accounts", [("password_reset", _l("Password reset"), "PasswordAdminView", "P")])]
    for capacity in (EMPLOYER, COMPETENT, CE_BASE, HR, PROVINCE)
}

# Permissions a capacity's base role holds outside its menus: (permission, view) pairs.
EXTRA_PERMISSIONS = {
    capacity: (("can_download", "UploadView"),)
    for capacity in (EMPLOYER, COMPETENT, CE_BASE, HR, PROVINCE)
}
EXTRA_PERMISSIONS[SYSADMIN] = (("can_download", "UploadView"),)
EXTRA_PERMISSIONS[PERSON] = (("can_download", "UploadView"),)
# Every capacity may turn its logged-in session into a short-lived API token and read the API spec.
API_ACCESS = (("can_issue", "ApiToken"), ("can_get", "OpenApi"))
for _capacity in list(EXTRA_PERMISSIONS):
    EXTRA_PERMISSIONS[_capacity] = EXTRA_PERMISSIONS[_capacity] + API_ACCESS

# FAB's own security pages: registered only with the developer flag ``CE_DEV_SECURITY_PAGES``
# (English permission tokens and internal role names); then for the system administrator only.
SYSADMIN_SECURITY_MENUS = ("Security", "List Users", "List Roles")
# System administrator modules always held (never offered in the base-role matrix): without them
# nobody could undo a matrix edit.
FIXED_MODULES = {SYSADMIN: ("users", "base_roles")}
# Every capacity's role: the view full ID permission only where it is the person's own data.
FULL_ID_CAPACITIES = (PERSON, SYSADMIN)


def item_name(capacity: str, key: str) -> str:
    return f"{capacity}.{key}"


def category_name(capacity: str, key: str) -> str:
    return f"{capacity}.cat.{key}"


def register_menus(appbuilder) -> None:
    """Add one menu link per capacity item, pointing at the item's view list (or the console)."""
    for capacity, categories in MENUS.items():
        for cat_key, items in categories:
            for key, label, view, _perms in items:
                href = "/console/" if view == "ConsoleAccess" else (view if "." in view else f"{view}.list")
                appbuilder.add_link(
                    item_name(capacity, key),
                    href=href,
                    label=label,
                    category=category_name(capacity, cat_key),
                    category_label=CATEGORY_LABELS[cat_key],
                )


def expected_menu(capacity: str) -> dict[str, list[str]]:
    """Category name → item names a capacity must see (used by the role sync and the tests)."""
    return {
        category_name(capacity, cat): [item_name(capacity, key) for key, *_ in items]
        for cat, items in MENUS[capacity]
    }
