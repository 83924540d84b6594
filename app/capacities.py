"""The login capacities (用户类型) and the base FAB role each one maps to."""

from flask_babel import lazy_gettext as _l

from .models.org import CE_BASE, COMPETENT, EMPLOYER, HR, PROVINCE

PERSON = "person"
SYSADMIN = "sysadmin"

# Ordered as in the login form's select.
CAPACITIES = (PERSON, EMPLOYER, COMPETENT, CE_BASE, HR, PROVINCE, SYSADMIN)
ORG_CAPACITIES = (EMPLOYER, COMPETENT, CE_BASE, HR, PROVINCE)

LABELS = {
    PERSON: _l("Professional"),
    EMPLOYER: _l("Employer unit"),
    COMPETENT: _l("Competent department"),
    CE_BASE: _l("CE base"),
    HR: _l("HR bureau"),
    PROVINCE: _l("Province HR department"),
    SYSADMIN: _l("System administrator"),
}

# One base FAB role per capacity; the system administrator gets FAB's admin role.
ROLE_NAMES = {
    PERSON: "Professional",
    EMPLOYER: "Employer",
    COMPETENT: "Competent",
    CE_BASE: "CEBase",
    HR: "HRBureau",
    PROVINCE: "ProvinceHR",
    SYSADMIN: "SysAdmin",
}
