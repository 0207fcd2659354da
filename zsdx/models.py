"""SQLAlchemy models of zsdx: reference data, organisations and accounts, messages, files.

Stage models (filing, diagnosis, signing, ...) are added by the issues that build those stages.
"""

import datetime as dt

from flask_appbuilder.models.sqla import Model
from flask_appbuilder.security.sqla.models import User
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
    UniqueConstraint,
)
from sqlalchemy.orm import relationship


def now():
    return dt.datetime.now()


# --- reference data ---------------------------------------------------------------------------------
class Town(Model):
    """A town or street (镇街) of the city, with the 4-digit code used in the 备案号."""

    __tablename__ = "zs_town"
    id = Column(Integer, primary_key=True)
    code = Column(String(4), unique=True, nullable=False)
    name = Column(String(64), unique=True, nullable=False)
    sort = Column(Integer, nullable=False, default=0)

    def __repr__(self):
        return self.name


class Industry(Model):
    """细分行业."""

    __tablename__ = "zs_industry"
    id = Column(Integer, primary_key=True)
    name = Column(String(128), unique=True, nullable=False)
    sort = Column(Integer, nullable=False, default=0)

    def __repr__(self):
        return self.name


class ProductCategory(Model):
    """主营产品分类, a tree of (at least) three levels."""

    __tablename__ = "zs_product_category"
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    level = Column(Integer, nullable=False)
    parent_id = Column(Integer, ForeignKey("zs_product_category.id"), index=True)
    parent = relationship("ProductCategory", remote_side=[id], backref="children")
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_product_category_name"),)

    def path(self):
        parts, node = [], self
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return " / ".join(reversed(parts))

    def __repr__(self):
        return self.path()


class RegistryEntry(Model):
    """The business registry used by the registration form's fuzzy search (loaded from CSV)."""

    __tablename__ = "zs_registry"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, index=True)
    credit_code = Column(String(18), unique=True, nullable=False)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True)
    town = relationship(Town)
    legal_representative = Column(String(64))
    address = Column(String(255))

    def __repr__(self):
        return self.name


# --- organisations and users ------------------------------------------------------------------------
class OrgKind:
    ENTERPRISE = "enterprise"
    PROVIDER = "provider"
    INSTITUTION = "institution"
    GOVERNMENT = "government"
    ALL = (ENTERPRISE, PROVIDER, INSTITUTION, GOVERNMENT)


class InstitutionType:
    DIAGNOSTIC = "diagnostic"  # 诊断型服务机构
    COMPREHENSIVE = "comprehensive"  # 综合型服务机构
    ALL = (DIAGNOSTIC, COMPREHENSIVE)


class Organisation(Model):
    """An enterprise, a service provider, an institution or a government body."""

    __tablename__ = "zs_organisation"
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False, index=True)
    name = Column(String(200), nullable=False, index=True)
    credit_code = Column(String(18), unique=True, nullable=True)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    industry_id = Column(Integer, ForeignKey("zs_industry.id"), nullable=True)
    industry = relationship(Industry)
    contact_name = Column(String(64))
    contact_phone = Column(String(20))
    # 服务商 types (a provider may be several)
    is_industry_provider = Column(Boolean, nullable=False, default=False)
    is_scenario_provider = Column(Boolean, nullable=False, default=False)
    is_ecosystem_provider = Column(Boolean, nullable=False, default=False)
    # 评估机构 type
    institution_type = Column(String(16), nullable=True)
    created_on = Column(DateTime, nullable=False, default=now)

    def __repr__(self):
        return self.name


class ZsdxUser(User):
    """FAB's user on ab_user, extended: phone is the login name (kept equal to username)."""

    __tablename__ = "ab_user"
    phone = Column(String(20), unique=True, nullable=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True, index=True)
    organisation = relationship(Organisation, backref="users")
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)  # 镇街 reviewers
    town = relationship(Town)

    @property
    def display_name(self):
        return (self.first_name or "") + (self.last_name or "") or self.username

    def role_names(self):
        return {r.name for r in self.roles}


# --- authentication support -------------------------------------------------------------------------
class SmsCode(Model):
    """One verification code sent by SMS; also the log that send limits are counted from."""

    __tablename__ = "zs_sms_code"
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    purpose = Column(String(16), nullable=False)
    code_hash = Column(String(256), nullable=False)
    created_at = Column(DateTime, nullable=False, default=now)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    __table_args__ = (Index("ix_sms_code_phone_created", "phone", "created_at"),)


class LoginFailure(Model):
    """Consecutive wrong passwords per login name, and the lock they cause."""

    __tablename__ = "zs_login_failure"
    id = Column(Integer, primary_key=True)
    login = Column(String(128), unique=True, nullable=False)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    last_failed_at = Column(DateTime, nullable=True)


# --- content ----------------------------------------------------------------------------------------
class Announcement(Model):
    """公告 on 首页, published by 市工信."""

    __tablename__ = "zs_announcement"
    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    body = Column(Text, nullable=False, default="")
    published = Column(Boolean, nullable=False, default=True)
    published_at = Column(DateTime, nullable=False, default=now, index=True)
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    author = relationship(ZsdxUser)

    def __repr__(self):
        return self.title


class NotificationKind:
    TODO = "todo"  # 待办事项
    REVIEW = "review"  # 审核通知
    ALL = (TODO, REVIEW)


class Notification(Model):
    """A 待办事项 or 审核通知 for one user; written in the transaction of the action that causes it.

    delivered_at / delivery_attempts track the SMS delivery job, so that undelivered rows are retried.
    """

    __tablename__ = "zs_notification"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    user = relationship(ZsdxUser)
    kind = Column(String(16), nullable=False)
    text = Column(String(500), nullable=False)
    link = Column(String(255), nullable=True)
    is_read = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=now)
    send_sms = Column(Boolean, nullable=False, default=True)
    delivered_at = Column(DateTime, nullable=True)
    delivery_attempts = Column(Integer, nullable=False, default=0)
    __table_args__ = (
        Index("ix_notification_user_kind_read", "user_id", "kind", "is_read"),
        Index("ix_notification_undelivered", "delivered_at", "send_sms"),
    )


class Message(Model):
    """留言板: a thread per enterprise (organisation) with the platform; 市工信 answers."""

    __tablename__ = "zs_message"
    id = Column(Integer, primary_key=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    author = relationship(ZsdxUser)
    from_platform = Column(Boolean, nullable=False, default=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=now)
    read_by_enterprise = Column(Boolean, nullable=False, default=False)
    read_by_platform = Column(Boolean, nullable=False, default=False)


# --- files ------------------------------------------------------------------------------------------
class StoredFile(Model):
    """An uploaded file, stored outside the web root under its sha256; the original name is kept."""

    __tablename__ = "zs_file"
    id = Column(Integer, primary_key=True)
    sha256 = Column(String(64), nullable=False, index=True)
    original_name = Column(String(255), nullable=False)
    mime = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    uploaded_at = Column(DateTime, nullable=False, default=now)


# --- the review engine's tables (zsdx/workflow.py owns the logic) -----------------------------------
class ReviewStatus:
    DRAFT = "draft"  # 待提交
    REVIEWING = "reviewing"  # 审核中 (at current_step)
    RETURNED = "returned"  # 已驳回 / 退回: editable by the submitter, re-enters at return_step
    DONE = "done"  # the chain completed (已备案, 已通过 …)
    REJECTED = "rejected"  # 审核不通过: terminal
    ALL = (DRAFT, REVIEWING, RETURNED, DONE, REJECTED)
    EDITABLE = (DRAFT, RETURNED)


class ReviewableMixin:
    """The columns every record that goes through a review chain carries."""

    chain_name = None  # key of config.REVIEW_CHAINS

    status = Column(String(16), nullable=False, default=ReviewStatus.DRAFT, index=True)
    current_step = Column(String(32), nullable=True, index=True)
    return_step = Column(String(32), nullable=True)
    submitted_at = Column(DateTime, nullable=True, index=True)
    step_entered_at = Column(DateTime, nullable=True, index=True)
    completed_at = Column(DateTime, nullable=True)
    version = Column(Integer, nullable=False, default=0)


class ReviewAction(Model):
    """The audit trail: one row per submission and per reviewer action."""

    __tablename__ = "zs_review_action"
    id = Column(Integer, primary_key=True)
    subject_type = Column(String(32), nullable=False)
    subject_id = Column(Integer, nullable=False)
    step = Column(String(32), nullable=True)  # None for the submitter's own rows
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    actor = relationship("ZsdxUser")
    action = Column(String(16), nullable=False)  # submit | approve | return | reject
    opinion = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    step_seconds = Column(Integer, nullable=True)  # time the record spent at the step before this action
    __table_args__ = (Index("ix_review_action_subject", "subject_type", "subject_id", "created_at"),)


class ReviewReminder(Model):
    """One row per reminded lapse (subject, step, entry time): a lapse is never reminded twice."""

    __tablename__ = "zs_review_reminder"
    id = Column(Integer, primary_key=True)
    subject_type = Column(String(32), nullable=False)
    subject_id = Column(Integer, nullable=False)
    step = Column(String(32), nullable=False)
    step_entered_at = Column(DateTime, nullable=False)
    created_at = Column(DateTime, nullable=False, default=now)
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "step", "step_entered_at", name="uq_review_reminder_lapse"),
    )


class ReviewAssignment(Model):
    """Reviewers assigned to a record's step (scope "assigned", e.g. 验收专家): all must approve."""

    __tablename__ = "zs_review_assignment"
    id = Column(Integer, primary_key=True)
    subject_type = Column(String(32), nullable=False)
    subject_id = Column(Integer, nullable=False)
    step = Column(String(32), nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    user = relationship("ZsdxUser")
    approved_at = Column(DateTime, nullable=True)
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "step", "user_id", name="uq_review_assignment"),
        Index("ix_review_assignment_subject", "subject_type", "subject_id"),
    )


# --- enterprise info change (reviewed by 市工信 through the workflow engine) ------------------------
class InfoChangeRequest(ReviewableMixin, Model):
    """企业信息变更: reviewed by 市工信 through the workflow engine; applied on approval."""

    __tablename__ = "zs_info_change"
    chain_name = "info_change"
    id = Column(Integer, primary_key=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    requester_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    requester = relationship(ZsdxUser)
    name = Column(String(200), nullable=False)
    credit_code = Column(String(18), nullable=False)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=False)
    town = relationship(Town)
    industry_id = Column(Integer, ForeignKey("zs_industry.id"), nullable=True)
    industry = relationship(Industry)
    contact_name = Column(String(64), nullable=False)
    contact_phone = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False, default=now)
    attachments = relationship(
        "InfoChangeAttachment", cascade="all, delete-orphan", back_populates="request"
    )


class InfoChangeAttachment(Model):
    __tablename__ = "zs_info_change_attachment"
    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("zs_info_change.id"), nullable=False, index=True)
    request = relationship(InfoChangeRequest, back_populates="attachments")
    file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=False)
    file = relationship(StoredFile)


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
    SIGNING_PENDING = "pending"  # 待签约


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


class Signing(Model):
    """项目签约, created at 已备案 (filled by the signing issue)."""

    __tablename__ = "zs_signing"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="signing")
    status = Column(String(16), nullable=False, default=StageStatus.SIGNING_PENDING, index=True)
    created_at = Column(DateTime, nullable=False, default=now)
