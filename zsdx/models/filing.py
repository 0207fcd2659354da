"""Projects, 项目备案 (with its revisions and 备案号 counter) and the 项目签约 placeholder."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import (
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
)
from sqlalchemy.orm import relationship

from .accounts import Organisation, ZsdxUser
from .base import now
from .content import StoredFile
from .reference import Industry, ProductCategory, Town
from .review import ReviewableMixin


# --- projects and 项目备案 --------------------------------------------------------------------------
class Project(Model):
    """A transformation project of one enterprise; every stage record hangs off it."""

    __tablename__ = "zs_project"
    id = Column(Integer, primary_key=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    filing = relationship("Filing", back_populates="project", uselist=False)
    pre_diagnosis = relationship("PreDiagnosis", back_populates="project", uselist=False)
    signing = relationship("Signing", back_populates="project", uselist=False)
    implementation = relationship("Implementation", back_populates="project", uselist=False)
    post_assessment = relationship("PostAssessment", back_populates="project", uselist=False)
    completion = relationship("Completion", back_populates="project", uselist=False)
    warehousing = relationship("Warehousing", back_populates="project", uselist=False)


# the owner's list (我的工作台 tab): WHERE organisation_id = ? ORDER BY created_at DESC, id DESC from the index
Index("ix_zs_project_owner_list", Project.organisation_id, Project.created_at, Project.id)


class Filing(ReviewableMixin, Model):
    """项目备案 (manual 02, SPEC §3.2): enterprise part and project part; chain 镇街 → 第三方 → 市工信."""

    __tablename__ = "zs_filing"
    chain_name = "filing"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="filing")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    # 企业基本信息
    ent_name = Column(String(200))
    ent_credit_code = Column(String(18))
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    ent_nature = Column(String(16))  # 国有/民营/外资/混合所有制/其他
    ent_category = Column(String(16))  # 规模以上/规模以下工业企业
    ent_scale = Column(String(16))  # 中型/小型/微型
    product_category_id = Column(Integer, ForeignKey("zs_product_category.id"), nullable=True)
    product_category = relationship(ProductCategory)
    industry_id = Column(Integer, ForeignKey("zs_industry.id"), nullable=True)
    industry = relationship(Industry)
    quality_levels = Column(String(200))  # 优质中小企业情况, comma-separated codes
    ent_address = Column(String(255))
    employees_total = Column(Integer)
    employees_digital = Column(Integer)
    ent_description = Column(Text)
    # 项目基本信息
    project_name = Column(String(200), index=True)
    project_summary = Column(Text)
    build_address = Column(String(255))
    planned_investment = Column(Numeric(14, 2))  # 万元, excl. tax
    start_date = Column(Date)
    end_date = Column(Date)
    target_level = Column(String(8))  # 2/3/4
    diagnosis_method = Column(String(16))  # self / institution / city
    intended_industry_provider = Column(String(200))
    intended_scenario_provider = Column(String(200))
    chain_leader = Column(Boolean, nullable=True)  # 是否“链主”带动
    authorization_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)
    authorization_file = relationship(StoredFile, foreign_keys=[authorization_file_id])
    chain_evidence_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)
    chain_evidence_file = relationship(StoredFile, foreign_keys=[chain_evidence_file_id])
    filing_no = Column(String(13), unique=True, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)
    revisions = relationship("FilingRevision", back_populates="filing", order_by="FilingRevision.id")

    @property
    def display_name(self):
        return self.project_name or ""


# 数据看板 (zsdx/dashboard.py): the overdue filings (a range of step_entered_at per step, oldest first), the
# overdue 事前诊断 (by the 已备案 time) and the per-town / per-细分行业 counts, read from the indexes alone.
Index("ix_zs_filing_overdue", Filing.status, Filing.step_entered_at, Filing.current_step, Filing.town_id)
Index("ix_zs_filing_completed", Filing.completed_at, Filing.project_id)
Index("ix_zs_filing_breakdown", Filing.town_id, Filing.industry_id, Filing.status)
# the review queue of one town (a 镇街 reviewer's scope, the 镇街 filter, with 逾期): its page's ids in order,
# counted and chosen from the index alone (zsdx/views/review.py, zsdx/paging.py)
Index(
    "ix_zs_filing_town_queue",
    Filing.status,
    Filing.current_step,
    Filing.town_id,
    Filing.submitted_at,
    Filing.id,
    Filing.step_entered_at,
)
# 一企一档's name / 备案号 search (LIKE / ILIKE '%…%', zsdx/dossier.py): trigram GIN indexes on PostgreSQL (the
# migration creates the pg_trgm extension); elsewhere they are plain indexes
for _column in (Filing.ent_name, Filing.project_name, Filing.filing_no):
    Index(
        f"ix_zs_filing_{_column.key}_trgm",
        _column,
        postgresql_using="gin",
        postgresql_ops={_column.key: "gin_trgm_ops"},
    )
del _column


class FilingRevision(Model):
    """信息变更 of a filed (已备案) filing: what changed, by whom, when."""

    __tablename__ = "zs_filing_revision"
    id = Column(Integer, primary_key=True)
    filing_id = Column(Integer, ForeignKey("zs_filing.id"), nullable=False, index=True)
    filing = relationship(Filing, back_populates="revisions")
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    actor = relationship(ZsdxUser)
    created_at = Column(DateTime, nullable=False, default=now)
    changes = Column(Text, nullable=False)  # JSON list of [field, old, new]


class FilingCounter(Model):
    """The daily 3-digit sequence of 备案号 per town (row-locked when a number is issued)."""

    __tablename__ = "zs_filing_counter"
    day = Column(String(6), primary_key=True)  # YYMMDD
    town_code = Column(String(4), primary_key=True)
    last = Column(Integer, nullable=False, default=0)


class StageStatus:
    PRE_DIAGNOSIS_PENDING = "pending"  # 待诊断
