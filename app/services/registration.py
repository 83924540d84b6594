"""Registration of professionals and organisations, the public progress query and withdrawal.

Every entry point validates everything first (collecting one message per field into
``RegistrationInvalid.errors``), then writes in one transaction and commits. State changes after
submission go through ``app.workflows.registration``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from stdnum.cn import ric
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Department, Ethnicity, Industry, Major, Membership, Organization, Professional, Region, User
from ..models.common import APPROVED, PENDING, REJECTED, WITHDRAWN
from ..models.org import CE_BASE, COMPETENT, EMPLOYER, HR, PROVINCE
from ..models.reference import UnitLevel, UnitNature
from ..workflows.registration import STATE_LABELS, RegistrationError, fire, matches_registrant, reviewer_org_id
from .auth import clear_failures, is_locked, register_failure
from .identifiers import is_valid_credit_code, is_valid_id_number
from .uploads import UploadInvalid, check_image, delete_upload, store_image

# Kinds an organisation may register as, and the kinds its superior may have (SPEC §1).
REGISTRABLE_KINDS = (EMPLOYER, COMPETENT, CE_BASE, HR)
SUPERIOR_KINDS = {
    EMPLOYER: (EMPLOYER, COMPETENT, HR, PROVINCE),
    COMPETENT: (COMPETENT, HR, PROVINCE),
    CE_BASE: (COMPETENT, HR, PROVINCE),
    HR: (HR, PROVINCE),
}
# A registration in one of these states may be replaced by a new one.
REPLACEABLE = (REJECTED, WITHDRAWN)

_MOBILE_RE = re.compile(r"^1\d{10}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^[0-9+\-() ]{5,32}$")

E = {
    "required": _l("This field is required."),
    "id_invalid": _l("Invalid ID number."),
    "id_taken": _l("This ID number is already registered."),
    "id_user_password": _l("This ID number already has an account: enter that account's password."),
    "birth_mismatch": _l("The birth date does not match the ID number."),
    "password_length": _l("The password must be 8 to 64 characters long."),
    "password_chars": _l("The password may contain only letters and digits, and must contain both."),
    "password_id": _l("The password must not contain the ID number."),
    "password_confirm": _l("The two passwords do not match."),
    "mobile": _l("Enter an 11-digit mobile number starting with 1."),
    "email": _l("Enter a valid email address."),
    "email_taken": _l("This email address is already used by another account."),
    "region": _l("Choose a region."),
    "employer": _l("Choose an approved employer unit."),
    "department": _l("Choose a department of the chosen employer unit."),
    "choice": _l("Choose a value from the list."),
    "kind": _l("Choose an organisation type."),
    "credit_code": _l("Invalid unified social credit code."),
    "credit_code_taken": _l("This unified social credit code is already registered."),
    "superior": _l("Choose an approved superior organisation of an allowed type."),
    "phone": _l("Invalid phone number."),
    "applicant_login": _l("Wrong ID number or password."),
    "too_long": _l("This value is too long."),
    "scan_required": _l("Upload a scan of the registration certificate."),
}


class RegistrationInvalid(Exception):
    """Validation failed; ``errors`` maps field name -> translatable message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(sorted(errors)))
        self.errors = errors


def _s(data, key) -> str:
    v = data.get(key)
    return v.strip() if isinstance(v, str) else ("" if v is None else str(v).strip())


def _int(data, key) -> Optional[int]:
    v = _s(data, key)
    try:
        return int(v) if v else None
    except ValueError:
        return None


def normalize_id(value: str) -> str:
    return ric.compact(value or "").upper()


def _check_password(errors, data, id_number: str, field="password", confirm="confirm") -> str:
    """Apply the one password policy (``services.passwords``) and the confirmation match."""
    from .passwords import validate_password

    pw = data.get(field) or ""
    policy = validate_password(pw, id_number)
    if not pw:
        errors[field] = E["required"]
    elif policy:
        errors[field] = policy[0]
    elif (data.get(confirm) or "") != pw:
        errors[confirm] = E["password_confirm"]
    return pw


def _check_id(errors, data, field="id_number") -> str:
    idn = normalize_id(_s(data, field))
    if not idn:
        errors[field] = E["required"]
    elif not is_valid_id_number(idn):
        errors[field] = E["id_invalid"]
    return idn


def _check_mobile_email(errors, data, user_id=None, mobile="mobile", email="email"):
    m, e = _s(data, mobile), _s(data, email).lower()
    if not m:
        errors[mobile] = E["required"]
    elif not _MOBILE_RE.match(m):
        errors[mobile] = E["mobile"]
    if not e:
        errors[email] = E["required"]
    elif len(e) > 64 or not _EMAIL_RE.match(e):
        errors[email] = E["email"]
    else:
        q = db.session.query(User.id).filter(func.lower(User.email) == e)
        if user_id:
            q = q.filter(User.id != user_id)
        if q.first():
            errors[email] = E["email_taken"]
    return m, e


def _check_name(errors, data, field="name", maxlen=64) -> str:
    n = _s(data, field)
    if not n:
        errors[field] = E["required"]
    elif len(n) > maxlen:
        errors[field] = E["too_long"]
    return n


def _check_ref(errors, data, field, model, required=False):
    pk = _int(data, field)
    if pk is None:
        if _s(data, field) or required:
            errors[field] = E["required"] if required and not _s(data, field) else E["choice"]
        return None
    obj = db.session.get(model, pk)
    if obj is None or getattr(obj, "enabled", True) is False:
        errors[field] = E["choice"]
        return None
    return obj


def _check_region(errors, data, field="region"):
    pk = _int(data, field)
    obj = db.session.get(Region, pk) if pk else None
    if obj is None:
        errors[field] = E["region"]
    return obj


def _fill_user(u: User, id_number: str, name: str, password: str, mobile: str, email: str, phone: str = ""):
    u.username = id_number
    u.id_number = id_number
    u.last_name = name[:1]
    u.first_name = name[1:] or name
    u.email = email
    u.mobile = mobile
    if phone:
        u.phone = phone
    u.password = generate_password_hash(password)
    u.active = True


def _find_user(id_number: str) -> Optional[User]:
    return (
        db.session.query(User)
        .filter((func.upper(User.id_number) == id_number) | (func.upper(User.username) == id_number))
        .first()
    )


def password_refusal(user: User, password: str) -> Optional[str]:
    """Check an existing account's password under the login lockout; None when it is right.

    Returns ``"locked"`` while the account is locked (whatever the password; nothing is counted) or
    when this failure locks it, else ``"bad_password"`` for a wrong one. A wrong password counts towards
    ``CE_LOCKOUT_ATTEMPTS`` exactly as a failed login does (``services.auth.register_failure``) and
    a right one clears the count, so the public forms are no password oracle. Commits the count:
    call it before writing anything else.
    """
    if is_locked(user):
        return "locked"
    if not user.password or not check_password_hash(user.password, password or ""):
        return "locked" if register_failure(db.session, user) else "bad_password"
    clear_failures(db.session, user)
    return None


def _prove_password(errors, field, user: User, password: str, wrong_message) -> bool:
    """``password_refusal`` for a form: on failure puts a message on ``field`` and returns False."""
    refusal = password_refusal(user, password)
    if refusal is not None:
        errors[field] = _locked_message() if refusal == "locked" else wrong_message
        return False
    return True


def _locked_message():
    return _l(
        "Too many failed attempts. This account is locked for %(minutes)s minutes.",
        minutes=int(current_app.config.get("CE_LOCKOUT_MINUTES", 15)),
    )


def _holds_more_than_profile(user: User) -> bool:
    """True when the account is more than a rejected / withdrawn professional registration (an admin
    membership of any state, or the system administrator): replacing it needs its password."""
    return bool(user.is_sysadmin) or db.session.query(Membership.id).filter(Membership.user_id == user.id).first() is not None


def birth_and_gender(id_number: str) -> tuple[date, str]:
    return ric.get_birth_date(id_number), ("male" if int(id_number[16]) % 2 else "female")


# ---------------------------------------------------------------- professional


def register_professional(data: dict) -> Professional:
    """Register (or re-register after rejection/withdrawal) a professional; status ``pending``."""
    errors: dict = {}
    idn = _check_id(errors, data)
    user = existing = None
    if "id_number" not in errors:
        user = _find_user(idn)
        existing = db.session.query(Professional).filter(func.upper(Professional.id_number) == idn).first()
        if existing is not None and existing.status not in REPLACEABLE:
            errors["id_number"] = E["id_taken"]
        if data.get("birth_date"):
            birth, _g = birth_and_gender(idn)
            if _s(data, "birth_date") != birth.isoformat():
                errors["birth_date"] = E["birth_mismatch"]
    password = _check_password(errors, data, idn)
    if (
        user is not None
        and (existing is None or _holds_more_than_profile(user))
        and "password" not in errors
        and "confirm" not in errors
    ):
        # Already a user (e.g. an organisation admin): prove it is the same person. Without this, a
        # re-registration after a rejection would overwrite an admin's password.
        _prove_password(errors, "password", user, password, E["id_user_password"])
    mobile, email = _check_mobile_email(errors, data, user.id if user else None)
    region = _check_region(errors, data)
    employer = None
    emp_id = _int(data, "employer")
    if emp_id:
        employer = db.session.get(Organization, emp_id)
    if employer is None or employer.kind != EMPLOYER or employer.status != APPROVED:
        errors["employer"] = E["employer"]
        employer = None
    department = None
    if _s(data, "department"):
        department = db.session.get(Department, _int(data, "department") or 0)
        if department is None or employer is None or department.org_id != employer.id:
            errors["department"] = E["department"]
    name = _check_name(errors, data)
    ethnicity = _check_ref(errors, data, "ethnicity", Ethnicity)
    major = _check_ref(errors, data, "major", Major)
    school = _s(data, "school")
    if len(school) > 128:
        errors["school"] = E["too_long"]
    phone = _s(data, "phone")
    if phone and not _PHONE_RE.match(phone):
        errors["phone"] = E["phone"]
    if errors:
        raise RegistrationInvalid(errors)

    birth, gender = birth_and_gender(idn)
    try:
        if user is None:
            user = User()
            db.session.add(user)
            _fill_user(user, idn, name, password, mobile, email, phone)
        elif existing is not None:
            # Replacing a rejected / withdrawn registration: the new data wins.
            _fill_user(user, idn, name, password, mobile, email, phone)
        else:
            user.mobile = user.mobile or mobile
        p = existing or Professional(user=user)
        if existing is None:
            db.session.add(p)
        p.user = user
        p.org = employer
        p.department = department
        p.region = region
        p.name = name
        p.id_number = idn
        p.gender = gender
        p.birth_date = birth
        p.ethnicity = ethnicity
        p.school = school or None
        p.major = major
        p.native_place = _s(data, "native_place")[:64] or None
        p.status = PENDING
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return p


# ---------------------------------------------------------------- organisation


def register_organization(data: dict, scan=None) -> Organization:
    """Register an organisation with its applicant (super admin); both wait for the superior.

    ``scan`` is the uploaded certificate scan (a werkzeug ``FileStorage``); it is checked by content
    and re-encoded with the rest of the validation, and stored only once everything is valid.
    """
    errors: dict = {}
    kind = _s(data, "kind")
    if kind not in REGISTRABLE_KINDS:
        errors["kind"] = E["kind"]
    code = _s(data, "credit_code").upper()
    replaced = None
    if not code:
        errors["credit_code"] = E["required"]
    elif not is_valid_credit_code(code):
        errors["credit_code"] = E["credit_code"]
    else:
        found = db.session.query(Organization).filter(Organization.credit_code == code).first()
        if found is not None:
            if found.status in REPLACEABLE:
                replaced = found
            else:
                errors["credit_code"] = E["credit_code_taken"]
    name = _check_name(errors, data, maxlen=200)
    region = _check_region(errors, data)
    parent = db.session.get(Organization, _int(data, "parent") or 0) if _int(data, "parent") else None
    if parent is None or parent.status != APPROVED or kind in SUPERIOR_KINDS and parent.kind not in SUPERIOR_KINDS[kind]:
        errors["parent"] = E["superior"]
    phone = _s(data, "phone")
    if not phone:
        errors["phone"] = E["required"]
    elif not _PHONE_RE.match(phone):
        errors["phone"] = E["phone"]
    address = _s(data, "address")
    if len(address) > 255:
        errors["address"] = E["too_long"]
    nature = _check_ref(errors, data, "nature", UnitNature)
    level = _check_ref(errors, data, "level", UnitLevel)
    industry = _check_ref(errors, data, "industry", Industry)
    scan_image = None
    if scan is None or not getattr(scan, "filename", ""):
        errors["certificate_scan"] = E["scan_required"]
    else:
        try:
            scan_image = check_image(scan)
        except UploadInvalid as e:
            errors["certificate_scan"] = str(e)

    # The applicant: an existing user (ID + password) or a new one.
    existing_user = _s(data, "applicant") == "existing"
    a_idn = _check_id(errors, data, "applicant_id_number")
    a_user = None
    if existing_user:
        if "applicant_id_number" not in errors:
            a_user = _find_user(a_idn)
            if a_user is None:
                errors["applicant_password"] = E["applicant_login"]
            elif not _prove_password(
                errors, "applicant_password", a_user, data.get("applicant_password") or "", E["applicant_login"]
            ):
                a_user = None
    else:
        if "applicant_id_number" not in errors and _find_user(a_idn) is not None:
            errors["applicant_id_number"] = E["id_taken"]
        a_password = _check_password(errors, data, a_idn, "applicant_password", "applicant_confirm")
        a_name = _check_name(errors, data, "applicant_name")
        a_mobile, a_email = _check_mobile_email(errors, data, None, "applicant_mobile", "applicant_email")
    if errors:
        raise RegistrationInvalid(errors)

    stored = None
    try:
        if scan_image is not None:
            stored = store_image(scan_image, "org_certificate")
        if a_user is None:
            a_user = User()
            db.session.add(a_user)
            _fill_user(a_user, a_idn, a_name, a_password, a_mobile, a_email, _s(data, "applicant_phone"))
        o = replaced or Organization()
        if replaced is None:
            db.session.add(o)
        o.kind = kind
        o.name = name
        o.credit_code = code
        o.region = region
        o.parent = parent
        o.phone = phone
        o.address = address or None
        o.nature = nature
        o.level = level
        o.industry = industry
        if stored:
            o.certificate_scan = stored
        o.status = PENDING
        db.session.flush()
        m = db.session.query(Membership).filter_by(org_id=o.id, user_id=a_user.id).first()
        if m is None:
            m = Membership(org=o, user=a_user)
            db.session.add(m)
        m.is_super = True
        m.status = PENDING
        m.enabled = True
        if replaced is not None:  # earlier applicants of the replaced registration lose their claim
            for other in db.session.query(Membership).filter(Membership.org_id == o.id, Membership.id != m.id):
                if other.status == PENDING:
                    other.status = REJECTED
        db.session.commit()
    except Exception:
        db.session.rollback()
        delete_upload(stored)
        raise
    return o


# ---------------------------------------------------------------- progress / withdraw


# What an anonymous visitor may learn from name + ID number (SPEC §2: the state and the reviewing
# organisation): the organisation name only for an application that is not (or no longer) an
# affiliation, the reviewer only while pending; never an approved person's employer or unit.
_NAME_SHOWN = (PENDING, REJECTED, WITHDRAWN)
TYPE_LABELS = {"professional": _l("Professional registration"), "organization": _l("Organisation registration")}


@dataclass
class Progress:
    object_type: str
    object_id: int
    name: Optional[str]
    status: str
    status_label: object
    reviewer: Optional[str]

    @property
    def can_withdraw(self) -> bool:
        return self.status == PENDING

    @property
    def type_label(self):
        return TYPE_LABELS[self.object_type]

    @property
    def target(self) -> str:
        """The value the withdraw form posts to name this registration."""
        return f"{self.object_type}:{self.object_id}"


def _registrations(name: str, id_number: str) -> list:
    """The registrations (professional profile, organisations applied for) of name + ID number."""
    idn = normalize_id(id_number)
    if not idn or not (name or "").strip():
        return []
    out = []
    p = db.session.query(Professional).filter(func.upper(Professional.id_number) == idn).first()
    if p is not None and matches_registrant(p, name, idn):
        out.append(p)
    orgs = (
        db.session.query(Organization)
        .join(Membership, Membership.org_id == Organization.id)
        .join(User, User.id == Membership.user_id)
        .filter(func.upper(User.id_number) == idn, Membership.is_super.is_(True))
        .order_by(Organization.id)
        .all()
    )
    out.extend(o for o in orgs if matches_registrant(o, name, idn))
    return out


def progress_query(name: str, id_number: str) -> list[Progress]:
    """The state of every registration of name + ID number (empty if none), for anyone who asks.

    Guarantees: the reviewing organisation is given only while the registration is pending, and an
    organisation's name only while it is pending, rejected or withdrawn, so an approved user's
    employer or unit is never shown to an anonymous visitor.
    """
    result = []
    for obj in _registrations(name, id_number):
        is_person = isinstance(obj, Professional)
        reviewer = None
        if obj.status == PENDING:
            rid = reviewer_org_id(obj)
            org = db.session.get(Organization, rid) if rid else None
            reviewer = org.name if org else None
        result.append(
            Progress(
                object_type="professional" if is_person else "organization",
                object_id=obj.id,
                name=obj.name if is_person or obj.status in _NAME_SHOWN else None,
                status=obj.status,
                status_label=STATE_LABELS.get(obj.status, obj.status),
                reviewer=reviewer,
            )
        )
    return result


def withdraw(
    name: str,
    id_number: str,
    object_type: Optional[str] = None,
    object_id: Optional[int] = None,
    *,
    password: str,
) -> list:
    """Withdraw the pending registration(s) of name + ID number (or only the one named). Commits.

    Only the registrant may withdraw: ``password`` must be the password of the account with that ID
    number, checked under the login lockout (a wrong one counts; a locked account is refused).
    Raises ``RegistrationError`` (``bad_password``, ``locked`` or ``nothing_pending``); nothing changes then.
    """
    targets = [
        o
        for o in _registrations(name, id_number)
        if o.status == PENDING
        and (object_type is None or ("professional" if isinstance(o, Professional) else "organization") == object_type)
        and (object_id is None or o.id == object_id)
    ]
    user = _find_user(normalize_id(id_number)) if normalize_id(id_number) else None
    if user is None or not targets:
        raise RegistrationError("nothing_pending", _l("There is no pending registration to withdraw."))
    refusal = password_refusal(user, password or "")
    if refusal == "locked":
        raise RegistrationError("locked", _locked_message())
    if refusal is not None:
        raise RegistrationError("bad_password", E["applicant_login"])
    try:
        for obj in targets:
            fire(obj, "withdraw", name=name, id_number=normalize_id(id_number))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return targets


def review(obj, trigger: str, actor, reason: Optional[str] = None):
    """Approve or reject one registration as ``actor`` (through the workflow). Commits; after an
    approval the registrant gets an email notice (SPEC §2)."""
    try:
        fire(obj, trigger, actor=actor, reason=reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if trigger == "approve":
        notify_approved(obj)
    return obj


def notify_approved(obj) -> None:
    """Email the registrant that the registration was approved; a mail failure never undoes it."""
    try:
        from .mail import send_mail
    except ImportError:  # pragma: no cover - the mail service arrives separately
        return
    if isinstance(obj, Professional):
        users = [obj.user]
    else:
        users = [m.user for m in db.session.query(Membership).filter_by(org_id=obj.id, is_super=True)]
    for user in users:
        if user is None or not user.email:
            continue
        try:
            send_mail(
                user.email,
                _l("Your registration was approved"),
                _l("Your registration (%(name)s) was approved. You can now log in with your ID number.", name=obj.name),
            )
        except Exception:  # noqa: BLE001 - logged, the approval stands
            current_app.logger.exception("approval notice to user %s failed", user.id)
