"""Base data (SPEC §9): regions and the small code tables edited in the system console."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship


class Region(Model):
    """An administrative division (GB/T 2260 code) or the platform's own 省直 entry."""

    __tablename__ = "region"
    id = Column(Integer, primary_key=True)
    code = Column(String(12), unique=True, nullable=False)
    name = Column(String(64), nullable=False)
    # province / city / county / direct (省直)
    level = Column(String(16), nullable=False)
    parent_id = Column(Integer, ForeignKey("region.id"), index=True)
    parent = relationship("Region", remote_side=[id])

    def __repr__(self):
        return self.name


class _CodeTable:
    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(128), nullable=False)
    enabled = Column(Boolean, default=True, nullable=False)

    def __repr__(self):
        return self.name


class UnitNature(_CodeTable, Model):
    """单位性质 (e.g. 机关, 事业单位, 企业)."""

    __tablename__ = "unit_nature"


class Affiliation(_CodeTable, Model):
    """隶属关系 (e.g. 省属, 市属, 县属)."""

    __tablename__ = "affiliation"


class UnitLevel(_CodeTable, Model):
    """单位级别 (e.g. 省级, 市级, 县级)."""

    __tablename__ = "unit_level"


class Industry(_CodeTable, Model):
    """所属行业."""

    __tablename__ = "industry"


class TitleSeries(_CodeTable, Model):
    """职称系列 (e.g. 工程, 卫生, 教育, 会计)."""

    __tablename__ = "title_series"


class TitleLevel(_CodeTable, Model):
    """职称级别: junior / intermediate / senior (初级 / 中级 / 高级)."""

    __tablename__ = "title_level"
    rank = Column(Integer, default=0, nullable=False)


class Major(_CodeTable, Model):
    """所学专业 catalogue."""

    __tablename__ = "major"


class Ethnicity(_CodeTable, Model):
    """民族."""

    __tablename__ = "ethnicity"
