"""All models, one module per aggregate. Importing this package registers every table."""

from .reference import (  # noqa: F401
    Affiliation,
    Ethnicity,
    Industry,
    Major,
    Region,
    TitleLevel,
    TitleSeries,
    UnitLevel,
    UnitNature,
)
from .org import Department, Organization  # noqa: F401
from .account import AdminInvitation, Membership, OrgRole, User, membership_role  # noqa: F401
from .person import (  # noqa: F401
    AcademicTitleRecord,
    EducationRecord,
    Professional,
    QualificationRecord,
    TitleRecord,
)
from .learning import (  # noqa: F401
    AnnualRequirement,
    Attachment,
    Certificate,
    Declaration,
    DeclarationWindow,
    HoursLedger,
    HoursPosting,
    PluginSetting,
    RequirementReduction,
    Subject,
)
from .training import TraineeResult, TrainingClass, TrainingPlan  # noqa: F401
from .requests import ChangeItem, ChangeRequest, Deregistration, Transfer  # noqa: F401
from .audit import AuditLog  # noqa: F401
from .permissions import BaseRoleChoice  # noqa: F401
from .security import CaptchaChallenge, TotpRecoveryCode  # noqa: F401
from .common import SerialCounter  # noqa: F401
