"""The system administrator's choices for the base role of each capacity (基础角色权限)."""

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String

from .common import utcnow


class BaseRoleChoice(Model):
    """Which module levels (``"key:level"``) the base role of one capacity holds, as last saved in
    the role matrix. ``offered`` are the module levels the matrix showed then: a module level not
    in it (added by a later upgrade) takes its default, so ``flask ce init`` never undoes an edit
    and never withholds something new."""

    __tablename__ = "base_role_choice"
    id = Column(Integer, primary_key=True)
    capacity = Column(String(16), nullable=False, unique=True)
    offered = Column(JSON, nullable=False, default=list)
    chosen = Column(JSON, nullable=False, default=list)
    updated = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id = Column(Integer, ForeignKey("ab_user.id"))
