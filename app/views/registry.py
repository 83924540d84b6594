"""Explicit view registration in one place (the way Superset's ``init_views`` does it)."""

from __future__ import annotations

from .account import InvitationView, MembershipView, OrgAdminView, SubunitView
from .api import APIS, AUTH_APIS
from .audit import AuditLogView
from .certificates import CertificatePrintView, CertificateVerifyView, CompletionView
from .declarations import HoursDeclarationView, HoursReviewView, UnitDeclarationView
from .home import ActingView, CaptchaView
from .learning import (
    AnnualRequirementView,
    AttachmentView,
    CertificateView,
    DeclarationView,
    DeclarationWindowView,
    SubjectView,
)
from ..permissions import register_menus
from .org import DepartmentView, OrganizationView
from .org_roles import OrgRoleView
from .role_matrix import RoleMatrixView
from .users import UserAdminView
from .password import PasswordAdminView, PasswordView
from .reductions import ReductionReviewView, ReductionView
from .person import (
    AcademicTitleRecordView,
    EducationRecordView,
    ProfessionalView,
    QualificationRecordView,
    TitleRecordView,
)
from .registration import RegistrationView
from .reviews import RegistrationReviewView
from .requests import (
    ChangeItemView,
    ChangeRequestView,
    DeregistrationReviewView,
    DeregistrationView,
    OrgDeregistrationView,
    PersonDeregistrationView,
    TransferView,
)
from .totp import TotpView
from .training import TraineeResultView, TrainingClassView, TrainingPlanView
from .uploads import UploadView

MODEL_VIEWS = [
    OrganizationView,
    DepartmentView,
    MembershipView,
    ProfessionalView,
    TitleRecordView,
    EducationRecordView,
    QualificationRecordView,
    AcademicTitleRecordView,
    DeclarationView,
    DeclarationWindowView,
    AttachmentView,
    SubjectView,
    AnnualRequirementView,
    CertificateView,
    TrainingPlanView,
    TrainingClassView,
    TraineeResultView,
    TransferView,
    ChangeRequestView,
    ChangeItemView,
    DeregistrationView,
    AuditLogView,
]

# Endpoints anyone may open without logging in.
PUBLIC_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "CapacityLoginView.login",
    "CaptchaView.image",
    "LocaleView.index",
    "HomeView.index",
    "UtilView.back",
    "PasswordView.forgot",
    "PasswordView.reset",
    "RegistrationView.index",
    "RegistrationView.professional",
    "RegistrationView.organization",
    "RegistrationView.progress",
    "RegistrationView.employers",
    "RegistrationView.superiors",
    "CertificateVerifyView.index",
    "CertificateVerifyView.verify",
}


def init_views(appbuilder) -> None:
    for view in MODEL_VIEWS:
        appbuilder.add_view_no_menu(view)
    for api in APIS + AUTH_APIS:
        appbuilder.add_api(api)
    appbuilder.add_view_no_menu(CaptchaView)
    appbuilder.add_view_no_menu(ActingView)
    appbuilder.add_view_no_menu(PasswordView)
    appbuilder.add_view_no_menu(PasswordAdminView)
    appbuilder.add_view_no_menu(TotpView)
    appbuilder.add_view_no_menu(RegistrationView)
    # Organisation self-management pages (plain views over the acting organisation only).
    appbuilder.add_view_no_menu(OrgAdminView)
    appbuilder.add_view_no_menu(OrgRoleView)
    # System administrator: users and the base-role matrix (FAB's raw pages are off, see security.py).
    appbuilder.add_view_no_menu(UserAdminView)
    appbuilder.add_view_no_menu(RoleMatrixView)
    appbuilder.add_view_no_menu(SubunitView)
    appbuilder.add_view_no_menu(InvitationView)  # /account/invitations/: any logged-in user
    appbuilder.add_view_no_menu(RegistrationReviewView)
    appbuilder.add_view_no_menu(UploadView)
    appbuilder.add_view_no_menu(PersonDeregistrationView)
    appbuilder.add_view_no_menu(OrgDeregistrationView)
    appbuilder.add_view_no_menu(DeregistrationReviewView)
    appbuilder.add_view_no_menu(HoursDeclarationView)
    appbuilder.add_view_no_menu(UnitDeclarationView)
    appbuilder.add_view_no_menu(HoursReviewView)
    appbuilder.add_view_no_menu(ReductionView)
    appbuilder.add_view_no_menu(ReductionReviewView)
    appbuilder.add_view_no_menu(CompletionView)
    appbuilder.add_view_no_menu(CertificatePrintView)
    appbuilder.add_view_no_menu(CertificateVerifyView)
    register_menus(appbuilder)
