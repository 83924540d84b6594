"""Users (FAB ``User`` extended in place) and their admin memberships of organisations."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import relationship

from .common import APPROVED, created_at

membership_role = Table(
    "membership_role",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("membership_id", Integer, ForeignKey("membership.id", ondelete="CASCADE"), nullable=False),
    Column("role_id", Integer, ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("membership_id", "role_id"),
)


class CEUser(FabUser):
    """A person who can log in. ``username`` holds the ID number; ``id_number`` is its canonical copy."""

    __tablename__ = "ab_user"
    id_type = Column(String(16), default="ric")
    id_number = Column(String(32), unique=True, index=True)
    mobile = Column(String(20))
    phone = Column(String(32))
    must_change_password = Column(Boolean, default=False, nullable=True)
    locked_until = Column(DateTime)
    # 系统管理员 capacity (base data, all users); not tied to an organisation.
    is_sysadmin = Column(Boolean, default=False, nullable=True)
    # Bumped by ``services.sessions.end_sessions``: every session cookie and API token carrying an
    # older value is refused (logout, password change, disable, reset).
    session_epoch = Column(Integer, nullable=False, default=0, server_default="0")
    # Second factor (services/totp.py): base32 TOTP secret once enrolled (None = not enrolled), and
    # the last accepted time step, so one code is never accepted twice.
    totp_secret = Column(String(64))
    totp_last_step = Column(Integer)
    # Set with a one-time password (admin reset, new admin account): after this moment that password
    # no longer signs in. Cleared when the user sets a password of its own.
    temp_password_expires_at = Column(DateTime)

    @property
    def full_name(self) -> str:
        return f"{self.last_name or ''}{self.first_name or ''}"


class Membership(Model):
    """An admin of an organisation (管理员): super-admin flag and the roles that give its powers."""

    __tablename__ = "membership"
    __scope__ = {"org": "org_id"}
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    user = relationship(CEUser, backref="memberships")
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization", backref="memberships")
    is_super = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False, default=APPROVED)
    enabled = Column(Boolean, nullable=False, default=True)
    roles = relationship("Role", secondary=membership_role)
    created = created_at()

    __table_args__ = (UniqueConstraint("user_id", "org_id"),)

    def __repr__(self):
        return f"{self.user.full_name if self.user else ''} @ {self.org}"


class AdminInvitation(Model):
    """An organisation's invitation to an existing user to become one of its admins (管理员邀请).

    It grants nothing while pending: the membership is created only when the invited user, logged
    in, accepts it (``services.admins.accept_invitation``). ``role_ids`` are ``OrgRole`` ids of the
    organisation, given to the membership on acceptance.
    """

    __tablename__ = "admin_invitation"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    user = relationship(CEUser, foreign_keys=[user_id])
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization")
    invited_by_id = Column(Integer, ForeignKey("ab_user.id"))
    invited_by = relationship(CEUser, foreign_keys=[invited_by_id])
    role_ids = Column(JSON, nullable=False, default=list)
    # pending / accepted / declined / withdrawn
    status = Column(String(16), nullable=False, default="pending")
    created = created_at()
    decided_at = Column(DateTime)

    __table_args__ = (UniqueConstraint("user_id", "org_id", name="uq_admin_invitation_user_org"),)


class OrgRole(Model):
    """角色: an organisation's custom role, a named set of permission modules (menu item keys of the
    organisation kind's capacity) backed by one FAB role holding exactly the derived permissions."""

    __tablename__ = "org_role"
    __scope__ = {"org": "org_id"}
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization")
    role_id = Column(Integer, ForeignKey("ab_role.id"), nullable=False, unique=True)
    role = relationship("Role")
    name = Column(String(40), nullable=False)
    modules = Column(JSON, nullable=False, default=list)
    created = created_at()

    __table_args__ = (UniqueConstraint("org_id", "name"),)

    def __repr__(self):
        return self.name


# The rest of the code says ``User``; the mapped class has its own name so the string "User"
# keeps meaning FAB's class inside FAB's relationships.
User = CEUser
