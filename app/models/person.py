"""Professional profiles (专业技术人员) and their title / education / qualification records."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import backref, relationship

from .common import PENDING, created_at

GENDERS = ("male", "female")


class Professional(Model):
    """One professional: belongs to one employer unit; ``id_number`` mirrors the user's."""

    __tablename__ = "professional"
    __scope__ = {"org": "org_id", "person": "id"}
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), unique=True, nullable=False)
    user = relationship("CEUser", backref=backref("professional", uselist=False))
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False)
    org = relationship("Organization")
    department_id = Column(Integer, ForeignKey("department.id"))
    department = relationship("Department")
    region_id = Column(Integer, ForeignKey("region.id"))
    region = relationship("Region")
    name = Column(String(64), nullable=False, index=True)
    id_number = Column(String(32), unique=True, nullable=False)
    gender = Column(String(8))
    birth_date = Column(Date)
    ethnicity_id = Column(Integer, ForeignKey("ethnicity.id"))
    ethnicity = relationship("Ethnicity")
    native_place = Column(String(64))
    school = Column(String(128))
    major_id = Column(Integer, ForeignKey("major.id"))
    major = relationship("Major")
    title_series_id = Column(Integer, ForeignKey("title_series.id"))
    title_series = relationship("TitleSeries")
    title_level_id = Column(Integer, ForeignKey("title_level.id"))
    title_level = relationship("TitleLevel")
    # 会计: hours forced to public subjects, competent department skipped.
    is_accountant = Column(Boolean, nullable=False, default=False)
    # 13-digit 证书管理号, assigned at approval.
    certificate_no = Column(String(13), unique=True)
    status = Column(String(16), nullable=False, default=PENDING)
    created = created_at()

    __table_args__ = (Index("ix_professional_org_id_id", "org_id", "id"),)

    def __repr__(self):
        return self.name


class _PersonRecord:
    __scope__ = {"org": "professional.org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)


def _person_fk():
    return Column(Integer, ForeignKey("professional.id"), nullable=False, index=True)


class TitleRecord(_PersonRecord, Model):
    """专业技术职务: title series, specialty, level, date obtained."""

    __tablename__ = "title_record"
    professional_id = _person_fk()
    professional = relationship("Professional")
    title_series_id = Column(Integer, ForeignKey("title_series.id"))
    title_series = relationship("TitleSeries")
    specialty = Column(String(128))
    title_level_id = Column(Integer, ForeignKey("title_level.id"))
    title_level = relationship("TitleLevel")
    obtained_on = Column(Date)
    created = created_at()


class EducationRecord(_PersonRecord, Model):
    """学历: school, major, degree, graduation date."""

    __tablename__ = "education_record"
    professional_id = _person_fk()
    professional = relationship("Professional")
    school = Column(String(128), nullable=False)
    major = Column(String(128))
    education = Column(String(32))
    degree = Column(String(32))
    graduated_on = Column(Date)
    created = created_at()


class QualificationRecord(_PersonRecord, Model):
    """执业资格 / 职业资格."""

    __tablename__ = "qualification_record"
    professional_id = _person_fk()
    professional = relationship("Professional")
    name = Column(String(128), nullable=False)
    certificate_no = Column(String(64))
    obtained_on = Column(Date)
    created = created_at()


class AcademicTitleRecord(_PersonRecord, Model):
    """学术称号 (e.g. 享受政府特殊津贴专家)."""

    __tablename__ = "academic_title_record"
    professional_id = _person_fk()
    professional = relationship("Professional")
    name = Column(String(128), nullable=False)
    granted_by = Column(String(128))
    granted_on = Column(Date)
    created = created_at()
