"""CE bases' and employers' training plans, the classes held on them and the trainees' results."""

from flask_appbuilder import Model
from sqlalchemy import Column, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from .common import created_at


class TrainingPlan(Model):
    """培训计划 of a CE base (or 单位培训计划 of an employer), reviewed by the superior chain."""

    __tablename__ = "training_plan"
    # Reviewers are superiors of the plan's organisation: the subtree covers them.
    __scope__ = {"org": "org_id"}
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization", foreign_keys=[org_id])
    subject_type = Column(String(16), nullable=False)
    subject_id = Column(Integer, ForeignKey("subject.id"))
    subject = relationship("Subject")
    year = Column(Integer, nullable=False)
    name = Column(String(200), nullable=False)
    form = Column(String(64))
    planned_headcount = Column(Integer)
    hours = Column(Numeric(6, 1))
    start_date = Column(Date)
    end_date = Column(Date)
    description = Column(Text)
    state = Column(String(16), nullable=False, default="draft")
    route = Column(Text)
    handler_org_id = Column(Integer, ForeignKey("organization.id"), index=True)
    handler_org = relationship("Organization", foreign_keys=[handler_org_id])
    created = created_at()

    def __repr__(self):
        return self.name


class TrainingClass(Model):
    """培训班 held on an approved plan."""

    __tablename__ = "training_class"
    __scope__ = {"org": "org_id"}
    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("training_plan.id"), nullable=False, index=True)
    plan = relationship("TrainingPlan")
    org_id = Column(Integer, ForeignKey("organization.id"), nullable=False, index=True)
    org = relationship("Organization")
    name = Column(String(200), nullable=False)
    start_date = Column(Date)
    end_date = Column(Date)
    hours = Column(Numeric(6, 1))
    location = Column(String(200))
    results_declared = Column(String(16), nullable=False, default="no")
    created = created_at()

    def __repr__(self):
        return self.name


class TraineeResult(Model):
    """学员成绩: one trainee of one class."""

    __tablename__ = "trainee_result"
    __scope__ = {"org": "training_class.org_id"}
    id = Column(Integer, primary_key=True)
    class_id = Column(Integer, ForeignKey("training_class.id"), nullable=False, index=True)
    training_class = relationship("TrainingClass")
    id_number = Column(String(32), nullable=False)
    name = Column(String(64))
    score = Column(String(32))
    passed = Column(String(16), nullable=False, default="pending")
    remark = Column(String(500))
    created = created_at()
