"""The audit trail: one row per fired workflow trigger or security-relevant admin act."""

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .common import created_at


class AuditLog(Model):
    __tablename__ = "audit_log"
    __scope__ = {"org": "actor_org_id"}
    id = Column(Integer, primary_key=True)
    object_type = Column(String(64), nullable=False)
    object_id = Column(Integer, nullable=False)
    trigger = Column(String(64), nullable=False)
    from_state = Column(String(32))
    to_state = Column(String(32))
    actor_user_id = Column(Integer, ForeignKey("ab_user.id"))
    actor_user = relationship("CEUser")
    actor_org_id = Column(Integer, ForeignKey("organization.id"))
    actor_org = relationship("Organization")
    comment = Column(Text)
    created = created_at()

    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        # Review history tabs: what one organisation decided, newest first.
        Index("ix_audit_org_trigger_created", "actor_org_id", "trigger", "created"),
    )
