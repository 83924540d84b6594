"""Organisations of every kind in one tree (materialised path) and their internal departments."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .common import APPROVED, created_at

PROVINCE = "province"
HR = "hr"
COMPETENT = "competent"
EMPLOYER = "employer"
CE_BASE = "ce_base"
ORG_KINDS = (PROVINCE, HR, COMPETENT, EMPLOYER, CE_BASE)


class Organization(Model):
    """Any organisation. ``path`` is ``/<root id>/…/<own id>/``; a subtree is ``path LIKE '<path>%'``."""

    __tablename__ = "organization"
    __scope__ = {"org": "id"}
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    credit_code = Column(String(18), unique=True)
    region_id = Column(Integer, ForeignKey("region.id"), index=True)
    region = relationship("Region")
    parent_id = Column(Integer, ForeignKey("organization.id"), index=True)
    parent = relationship("Organization", remote_side=[id], backref="children")
    path = Column(String(255), nullable=False, default="")
    status = Column(String(16), nullable=False, default=APPROVED, index=True)
    nature_id = Column(Integer, ForeignKey("unit_nature.id"))
    nature = relationship("UnitNature")
    level_id = Column(Integer, ForeignKey("unit_level.id"))
    level = relationship("UnitLevel")
    affiliation_id = Column(Integer, ForeignKey("affiliation.id"))
    affiliation = relationship("Affiliation")
    industry_id = Column(Integer, ForeignKey("industry.id"))
    industry = relationship("Industry")
    phone = Column(String(32))
    address = Column(String(255))
    certificate_scan = Column(String(255))
    # 关闭审核权限: the superior closed this unit's hours-review right.
    review_closed = Column(Boolean, nullable=False, default=False)
    remark = Column(Text)
    created = created_at()

    __table_args__ = (
        Index("ix_organization_path", "path"),
        # LIKE 'prefix%' can only use a btree under a non-C collation with pattern ops (PostgreSQL).
        Index("ix_organization_path_pattern", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    def __repr__(self):
        return self.name


class Department(Model):
    """内设部门: a node of an organisation's internal department tree."""

    __tablename__ = "department"
    __scope__ = {"org": "org_id"}
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization")
    parent_id = Column(Integer, ForeignKey("department.id"))
    parent = relationship("Department", remote_side=[id])
    name = Column(String(128), nullable=False)
    enabled = Column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return self.name
