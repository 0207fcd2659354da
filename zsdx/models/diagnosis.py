"""事前诊断 and 评估评测 results."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from .accounts import Organisation, ZsdxUser
from .base import now
from .content import StoredFile
from .filing import Project
from .reference import Town
from .review import ReviewableMixin


class DiagnosisMethod:
    SELF = "self"  # 自诊断
    INSTITUTION = "institution"  # 诊断机构诊断
    CITY = "city"  # 市工信局分配
    ALL = (SELF, INSTITUTION, CITY)


class PreDiagnosis(ReviewableMixin, Model):
    """事前诊断 (manual 03, SPEC §3.3), created at 已备案.

    The institution's report goes through the chain "diagnosis_report" (the enterprise 确认 / 退回修改);
    a self-diagnosis binds one of the enterprise's submitted assessment results directly.
    """

    __tablename__ = "zs_pre_diagnosis"
    chain_name = "diagnosis_report"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="pre_diagnosis")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True, index=True)
    organisation = relationship(Organisation, foreign_keys=[organisation_id])
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    method = Column(String(16), nullable=True)  # DiagnosisMethod, from the filing
    started_at = Column(DateTime, nullable=True)  # 【发起诊断】
    institution_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True, index=True)
    institution = relationship(Organisation, foreign_keys=[institution_id])
    assigned_at = Column(DateTime, nullable=True)
    report_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)
    report_file = relationship(StoredFile)
    reported_level = Column(Integer, nullable=True)  # the institution's 改造前数字化水平等级 (1-4)
    reported_score = Column(Numeric(6, 2), nullable=True)
    assessment_id = Column(Integer, ForeignKey("zs_assessment.id"), nullable=True)
    assessment = relationship("AssessmentResult")
    level = Column(Integer, nullable=True)  # the bound 改造前 level (0-4)
    score = Column(Numeric(8, 4), nullable=True)
    level_source = Column(String(16), nullable=True)  # self | institution: a self-assessment never counts as on-site
    diagnosed_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)


# 分配评估机构 (zsdx/views/institution_reports.py): the waiting and the assigned ones, each newest first
Index(
    "ix_zs_pre_diagnosis_city_assign",
    PreDiagnosis.method,
    PreDiagnosis.started_at,
    PreDiagnosis.id,
    PreDiagnosis.institution_id,
)
# 评估机构 任务列表: an institution's tasks, newest assignment first (read backwards, up to the page)
Index("ix_zs_pre_diagnosis_institution_tasks", PreDiagnosis.institution_id, PreDiagnosis.assigned_at, PreDiagnosis.id)


class AssessmentResult(Model):
    """评估评测: one questionnaire of an enterprise (企业自测); answers as JSON, scores kept at submission."""

    __tablename__ = "zs_assessment"
    id = Column(Integer, primary_key=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    user = relationship(ZsdxUser)
    index_version = Column(String(32), nullable=False)
    kind = Column(String(16), nullable=False, default="self")  # 评测类型: 企业自测
    answers = Column(Text, nullable=False, default="{}")
    submitted = Column(Boolean, nullable=False, default=False, index=True)
    total = Column(Numeric(10, 6), nullable=True)
    basic_score = Column(Numeric(10, 6), nullable=True)
    management_score = Column(Numeric(10, 6), nullable=True)
    effect_score = Column(Numeric(10, 6), nullable=True)
    level = Column(Integer, nullable=True)
    scenarios_built = Column(Integer, nullable=True)
    constraint_built = Column(Integer, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    submitted_at = Column(DateTime, nullable=True)
