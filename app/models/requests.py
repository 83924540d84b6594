"""Change requests (current/new rows), transfers between employers and deregistrations."""

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .common import created_at


class Transfer(Model):
    """人员调转: person- or unit-initiated move from one employer to another."""

    __tablename__ = "transfer"
    __scope__ = {"org": "from_org_id", "org2": "to_org_id", "person": "professional_id"}
    id = Column(Integer, primary_key=True)
    professional_id = Column(Integer, ForeignKey("professional.id"), nullable=False, index=True)
    professional = relationship("Professional")
    from_org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    from_org = relationship("Organization", foreign_keys=[from_org_id])
    to_org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    to_org = relationship("Organization", foreign_keys=[to_org_id])
    # person / unit
    initiated_by = Column(String(16), nullable=False, default="person")
    state = Column(String(16), nullable=False, default="pending")
    reason = Column(Text)
    created = created_at()
    decided_at = Column(DateTime)


class ChangeRequest(Model):
    """A request to change a person's or an organisation's data; items hold current and new values."""

    __tablename__ = "change_request"
    __scope__ = {"org": "org_id", "handler": "handler_org_id"}
    id = Column(Integer, primary_key=True)
    # person_info / id_document / org_info / org_superior
    kind = Column(String(32), nullable=False)
    professional_id = Column(Integer, ForeignKey("professional.id"), index=True)
    professional = relationship("Professional")
    # The organisation that owns the changed data (the person's employer or the org itself).
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization", foreign_keys=[org_id])
    handler_org_id = Column(Integer, ForeignKey("organization.id"), index=True)
    handler_org = relationship("Organization", foreign_keys=[handler_org_id])
    state = Column(String(16), nullable=False, default="pending")
    route = Column(JSON, nullable=False, default=list)
    step = Column(Integer, nullable=False, default=0)
    reason = Column(Text)
    created = created_at()
    decided_at = Column(DateTime)


class ChangeItem(Model):
    """One field of a change request: its current and new value (Frappe-style property history)."""

    __tablename__ = "change_item"
    __scope__ = {"org": "change_request.org_id"}
    id = Column(Integer, primary_key=True)
    change_request_id = Column(
        Integer, ForeignKey("change_request.id", ondelete="CASCADE"), nullable=False, index=True
    )
    change_request = relationship("ChangeRequest", backref="items")
    field = Column(String(64), nullable=False)
    current_value = Column(Text)
    new_value = Column(Text)


class Deregistration(Model):
    """注销: a professional's retirement/death, or an organisation's closure or merger."""

    __tablename__ = "deregistration"
    __scope__ = {"org": "org_id", "handler": "handler_org_id"}
    id = Column(Integer, primary_key=True)
    # person / org
    kind = Column(String(16), nullable=False)
    professional_id = Column(Integer, ForeignKey("professional.id"), index=True)
    professional = relationship("Professional")
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization", foreign_keys=[org_id])
    merge_into_org_id = Column(Integer, ForeignKey("organization.id"))
    merge_into_org = relationship("Organization", foreign_keys=[merge_into_org_id])
    reason = Column(Text, nullable=False)
    proof_file = Column(String(255))
    state = Column(String(16), nullable=False, default="pending")
    handler_org_id = Column(Integer, ForeignKey("organization.id"), index=True)
    handler_org = relationship("Organization", foreign_keys=[handler_org_id])
    created = created_at()
    decided_at = Column(DateTime)
