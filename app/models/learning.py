"""Hours: subject catalogues, declarations with their attachments, yearly requirements, certificates."""

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .common import created_at, utcnow

PUBLIC = "public"
PROFESSIONAL = "professional"
SUBJECT_TYPES = (PUBLIC, PROFESSIONAL)


class Subject(Model):
    """A catalogue entry: public subjects by province HR, professional subjects by competent depts."""

    __tablename__ = "subject"
    __scope__ = {"org": "owner_org_id", "shared": True}
    id = Column(Integer, primary_key=True)
    subject_type = Column(String(16), nullable=False)
    name = Column(String(200), nullable=False)
    year = Column(Integer)
    specialty = Column(String(128))
    owner_org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    owner_org = relationship("Organization")
    enabled = Column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return self.name


class Declaration(Model):
    """学时申报: one learning record of one professional, moving through the review chain."""

    __tablename__ = "declaration"
    # The handler is always the employer or one of its superiors (routes go up the tree), so
    # the subtree of ``org_id`` already covers a reviewer's inbox; no OR on the handler needed.
    __scope__ = {"org": "org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False, index=True)
    professional = relationship("Professional")
    # The employer unit of the person when declared: the scope anchor.
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False)
    org = relationship("Organization", foreign_keys=[org_id])
    # Set when an organisation (unit, competent dept, CE base) declared for its people.
    declared_by_org_id = Column(Integer, ForeignKey("organization.id"))
    declared_by_org = relationship("Organization", foreign_keys=[declared_by_org_id])
    subject_type = Column(String(16), nullable=False)
    form_code = Column(String(64), nullable=False)
    year = Column(Integer, nullable=False)
    data = Column(JSON, nullable=False, default=dict)
    start_date = Column(Date)
    end_date = Column(Date)
    result = Column(String(64))
    requested_hours = Column(Numeric(6, 1), nullable=False, default=0)
    recognised_hours = Column(Numeric(6, 1))
    remark = Column(Text)
    state = Column(String(16), nullable=False, default="draft")
    # Ordered reviewer organisation ids, the current step and the current handler.
    route = Column(JSON, nullable=False, default=list)
    step = Column(Integer, nullable=False, default=0)
    handler_org_id = Column(Integer, ForeignKey("organization.id"))
    handler_org = relationship("Organization", foreign_keys=[handler_org_id])
    created = created_at()
    submitted_at = Column(DateTime)
    decided_at = Column(DateTime)

    __table_args__ = (
        Index("ix_declaration_org_id_id", "org_id", "id"),
        # Full-year forms (援派/挂职) complete a year: the completion lists look them up by form and year.
        Index("ix_declaration_full_year", "form_code", "year", "state", "professional_id"),
        # The review inbox: one handler's pending rows of a year in submission order (PostgreSQL
        # carries declared_by_org_id in the index for the CE-base tab).
        Index(
            "ix_declaration_inbox", "handler_org_id", "state", "year", "submitted_at", "id",
            postgresql_include=["declared_by_org_id"],
        ),
        Index("ix_declaration_person_year", "professional_id", "year"),
    )


class Attachment(Model):
    """Evidence image of a declaration, stored outside static files."""

    __tablename__ = "attachment"
    __scope__ = {"org": "declaration.org_id", "person": "declaration.professional_id"}
    id = Column(Integer, primary_key=True)
    declaration_id = Column(Integer, ForeignKey("declaration.id", ondelete="CASCADE"), nullable=False, index=True)
    declaration = relationship("Declaration", backref="attachments")
    filename = Column(String(255), nullable=False)
    stored_path = Column(String(255), nullable=False)
    content_type = Column(String(64), nullable=False)
    size = Column(Integer, nullable=False)
    created = created_at()


class HoursLedger(Model):
    """Approved hours of one professional per (year, subject type): the sum of the recognised hours of
    the finally approved declarations, kept in the transaction of each final approval."""

    __tablename__ = "hours_ledger"
    __scope__ = {"org": "professional.org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False)
    professional = relationship("Professional")
    year = Column(Integer, nullable=False)
    subject_type = Column(String(16), nullable=False)
    hours = Column(Numeric(7, 1), nullable=False, default=0)
    updated = Column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("professional_id", "year", "subject_type", name="uq_hours_ledger_person_year_subject"),
        Index("ix_hours_ledger_year_subject", "year", "subject_type"),
    )


class HoursPosting(Model):
    """One finally approved declaration's hours as posted to the ledger. The unique declaration id
    makes a second posting of the same declaration fail on every database (a racing second final
    approval is refused); annulling the declaration deletes its posting and takes the hours back out.
    ``HoursLedger`` stays the running total per person, year and subject type."""

    __tablename__ = "hours_posting"
    __scope__ = {"org": "professional.org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    declaration_id = Column(Integer, ForeignKey("declaration.id", ondelete="CASCADE"), nullable=False)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False, index=True)
    professional = relationship("Professional")
    year = Column(Integer, nullable=False)
    subject_type = Column(String(16), nullable=False)
    hours = Column(Numeric(6, 1), nullable=False)
    created = created_at()

    __table_args__ = (UniqueConstraint("declaration_id", name="uq_hours_posting_declaration"),)


class DeclarationWindow(Model):
    """A past year an HR bureau opened for one professional's declarations (补报), until a date."""

    __tablename__ = "declaration_window"
    __scope__ = {"org": "professional.org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False, index=True)
    professional = relationship("Professional")
    year = Column(Integer, nullable=False)
    until = Column(Date, nullable=False)
    reason = Column(Text, nullable=False)
    opened_by_org_id = Column(Integer, ForeignKey("organization.id"), nullable=False)
    opened_by_org = relationship("Organization")
    created = created_at()

    __table_args__ = (UniqueConstraint("professional_id", "year", name="uq_declaration_window_person_year"),)


class AnnualRequirement(Model):
    """管理年度完成继续教育学时: minimums by year, title level and region scope."""

    __tablename__ = "annual_requirement"
    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False, index=True)
    # junior / intermediate / senior / all
    title_level = Column(String(16), nullable=False, default="all")
    # all / zhengzhou / elsewhere
    region_scope = Column(String(16), nullable=False, default="all")
    public_min = Column(Numeric(6, 1), nullable=False)
    professional_min = Column(Numeric(6, 1), nullable=False)
    total_min = Column(Numeric(6, 1), nullable=False)
    public_counts_as_professional = Column(Boolean, nullable=False, default=False)

    __table_args__ = (UniqueConstraint("year", "title_level", "region_scope"),)


class RequirementReduction(Model):
    """学时折算: a request to prorate one year's minimums by the months on duty (abroad or sick leave
    over six months, maternity, other approved reasons), reviewed along the declaration chain."""

    __tablename__ = "requirement_reduction"
    __scope__ = {"org": "org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False)
    professional = relationship("Professional")
    # The employer unit of the person when requested: the scope anchor.
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization", foreign_keys=[org_id])
    year = Column(Integer, nullable=False)
    # abroad / sick_leave / maternity / other
    reason = Column(String(16), nullable=False)
    months_on_duty = Column(Integer, nullable=False)
    remark = Column(Text)
    # Evidence images: [{"filename", "stored_path", "content_type", "size"}] (services/uploads).
    evidence = Column(JSON, nullable=False, default=list)
    state = Column(String(16), nullable=False, default="draft")
    route = Column(JSON, nullable=False, default=list)
    step = Column(Integer, nullable=False, default=0)
    handler_org_id = Column(Integer, ForeignKey("organization.id"))
    handler_org = relationship("Organization", foreign_keys=[handler_org_id])
    created = created_at()
    submitted_at = Column(DateTime)
    decided_at = Column(DateTime)

    __table_args__ = (
        Index("ix_requirement_reduction_inbox", "handler_org_id", "state", "year"),
        Index("ix_requirement_reduction_person_year", "professional_id", "year"),
        # Audit rows name the request by id: SQLite must not give a deleted draft's id to a new request.
        {"sqlite_autoincrement": True},
    )


class Certificate(Model):
    """An issued e-certificate (one year or a merged range) with its verification code and hash.

    ``inputs`` is the whole rendering context, so a reprint renders the same document; the
    certificate is revoked (with the time and reason) when hours behind it are annulled."""

    __tablename__ = "certificate"
    __scope__ = {"org": "professional.org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False, index=True)
    professional = relationship("Professional")
    template_code = Column(String(64), nullable=False)
    year_from = Column(Integer, nullable=False)
    year_to = Column(Integer, nullable=False)
    verification_code = Column(String(64), unique=True, nullable=False)
    inputs = Column(JSON, nullable=False, default=dict)
    pdf_sha256 = Column(String(64))
    issuer_org_id = Column(Integer, ForeignKey("organization.id"))
    issuer_org = relationship("Organization")
    # annual / merged
    layout = Column(String(16), nullable=False, default="annual")
    revoked = Column(Boolean, nullable=False, default=False)
    revoked_at = Column(DateTime)
    revoked_reason = Column(String(255))
    issued_at = created_at()

    __table_args__ = (Index("ix_certificate_person_years", "professional_id", "year_from", "year_to"),)


class PluginSetting(Model):
    """Enabled flag of a learning-form or certificate-template plugin, edited in the console."""

    __tablename__ = "plugin_setting"
    id = Column(Integer, primary_key=True)
    code = Column(String(64), unique=True, nullable=False)
    kind = Column(String(32), nullable=False, default="learning_form")
    enabled = Column(Boolean, nullable=False, default=True)
