"""项目实施 (manual 05, 06, 08; SPEC §3.5–3.7): 改造中 with its eight 维度指标, the 事后评估 by an institution, and
改造完成 with its results, provider ratings, evidence and structured invoices (项目入库: models/warehousing.py).

Invoice money is in 元 with 2 decimals, stored exactly as Numeric(14, 2) (never float).
"""

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
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .accounts import Organisation
from .assist import assist_relationship
from .base import now
from .content import StoredFile
from .filing import Project
from .reference import Town
from .review import ReviewableMixin

YUAN = Numeric(14, 2)

# The eight 维度指标 (manual 05), in the manual's order.
DIMENSIONS = ("innovation", "market", "quality", "cost", "efficiency", "green", "safety", "other")


class ImplementationStatus:
    PENDING = "pending"  # 待提交
    SUBMITTED = "submitted"  # 已提交


class Implementation(Model):
    """项目实施-改造中, created at 已签约; 【提交】 creates the 事后评估 and 改造完成 records. The page may be filled by
    the enterprise's 行业型服务商 (AssistRequest host type "implementation")."""

    __tablename__ = "zs_implementation"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="implementation")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    project_name = Column(String(200))
    status = Column(String(16), nullable=False, default=ImplementationStatus.PENDING, index=True)
    assisted = Column(Boolean, nullable=True)  # 行业型服务商协助填写 是/否
    submitted_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=True, default=now, onupdate=now)
    indicators = relationship(
        "ImplementationIndicator", back_populates="implementation", order_by="ImplementationIndicator.id"
    )
    assist = assist_relationship("implementation", "Implementation")

    @property
    def display_name(self):
        return self.project_name or ""


# the owner's list (我的工作台 tab): WHERE organisation_id = ? ORDER BY created_at DESC, id DESC from the index
Index("ix_zs_implementation_owner_list", Implementation.organisation_id, Implementation.created_at, Implementation.id)


class ImplementationIndicator(Model):
    """One 维度指标 of 改造中: ticked or not (不涉及), with its 指标数据（改造前）."""

    __tablename__ = "zs_implementation_indicator"
    id = Column(Integer, primary_key=True)
    implementation_id = Column(Integer, ForeignKey("zs_implementation.id"), nullable=False, index=True)
    implementation = relationship(Implementation, back_populates="indicators")
    dimension = Column(String(16), nullable=False)  # one of DIMENSIONS
    ticked = Column(Boolean, nullable=False, default=True)
    before = Column(Text)  # 指标数据（改造前）
    __table_args__ = (UniqueConstraint("implementation_id", "dimension", name="uq_zs_implementation_indicator"),)


class PostAssessment(ReviewableMixin, Model):
    """事后评估, created when 改造中 is submitted: 评估机构评估 (one of the five 综合型服务机构) or 市工信局分配; the
    institution uploads the 改造后评估报告, level and score, which the enterprise 确认 or 退回修改 (chain
    "post_assessment_report")."""

    __tablename__ = "zs_post_assessment"
    chain_name = "post_assessment_report"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="post_assessment")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation, foreign_keys=[organisation_id])
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    method = Column(String(16), nullable=True)  # institution | city (评估方式)
    started_at = Column(DateTime, nullable=True)  # 【发起评估】
    institution_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True, index=True)
    institution = relationship(Organisation, foreign_keys=[institution_id])
    assigned_at = Column(DateTime, nullable=True)
    report_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)
    report_file = relationship(StoredFile)
    reported_level = Column(Integer, nullable=True)  # 改造后数字化水平等级 (1-4) as reported
    reported_score = Column(Numeric(6, 2), nullable=True)
    level = Column(Integer, nullable=True)  # the confirmed 改造后 level
    score = Column(Numeric(8, 4), nullable=True)
    assessed_at = Column(DateTime, nullable=True)  # the enterprise confirmed
    created_at = Column(DateTime, nullable=False, default=now)


# 分配评估机构 (zsdx/views/institution_reports.py): the waiting and the assigned ones, each newest first
Index(
    "ix_zs_post_assessment_city_assign",
    PostAssessment.method,
    PostAssessment.started_at,
    PostAssessment.id,
    PostAssessment.institution_id,
)
# 评估机构 任务列表: an institution's tasks, newest assignment first (read backwards, up to the page)
Index(
    "ix_zs_post_assessment_institution_tasks",
    PostAssessment.institution_id,
    PostAssessment.assigned_at,
    PostAssessment.id,
)


class CompletionStatus:
    PENDING = "pending"  # 待提交
    SUBMITTED = "submitted"  # 已提交


class Completion(Model):
    """项目实施-改造完成, created when 改造中 is submitted: 数字化改造成效 (may be filled by the 行业型服务商, host
    type "completion"), 服务商评价 and 佐证材料 with structured invoices; 【提交】 creates the 项目入库 record."""

    __tablename__ = "zs_completion"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="completion")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    project_name = Column(String(200))
    status = Column(String(16), nullable=False, default=CompletionStatus.PENDING, index=True)
    assisted = Column(Boolean, nullable=True)
    level_before = Column(Integer, nullable=True)  # 改造前数字化等级 (from the 事前诊断)
    level_after = Column(Integer, nullable=True)  # 改造后数字化等级 (from the 事后评估)
    quotation_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 项目合同报价单
    quotation_file = relationship(StoredFile, foreign_keys=[quotation_file_id])
    invoice_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 项目合同发票
    invoice_file = relationship(StoredFile, foreign_keys=[invoice_file_id])
    payment_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 项目合同付款凭证
    payment_file = relationship(StoredFile, foreign_keys=[payment_file_id])
    other_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 其他
    other_file = relationship(StoredFile, foreign_keys=[other_file_id])
    submitted_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=True, default=now, onupdate=now)
    results = relationship("CompletionIndicator", back_populates="completion", order_by="CompletionIndicator.id")
    ratings = relationship("ProviderRating", back_populates="completion", order_by="ProviderRating.id")
    invoices = relationship("Invoice", back_populates="completion", order_by="Invoice.position, Invoice.id")
    assist = assist_relationship("completion", "Completion")

    @property
    def display_name(self):
        return self.project_name or ""


# the owner's list (我的工作台 tab): WHERE organisation_id = ? ORDER BY created_at DESC, id DESC from the index
Index("ix_zs_completion_owner_list", Completion.organisation_id, Completion.created_at, Completion.id)


class CompletionIndicator(Model):
    """数字化改造成效 of one dimension ticked in 改造中: 改造前 (carried), 改造后 and its 佐证材料."""

    __tablename__ = "zs_completion_indicator"
    id = Column(Integer, primary_key=True)
    completion_id = Column(Integer, ForeignKey("zs_completion.id"), nullable=False, index=True)
    completion = relationship(Completion, back_populates="results")
    dimension = Column(String(16), nullable=False)
    ticked = Column(Boolean, nullable=False, default=True)
    before = Column(Text)
    after = Column(Text)
    evidence_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)
    evidence_file = relationship(StoredFile)
    __table_args__ = (UniqueConstraint("completion_id", "dimension", name="uq_zs_completion_indicator"),)


class ProviderRating(Model):
    """服务商评价 of one provider of the project's contracts: four star ratings (1–5) with their texts."""

    __tablename__ = "zs_provider_rating"
    id = Column(Integer, primary_key=True)
    completion_id = Column(Integer, ForeignKey("zs_completion.id"), nullable=False, index=True)
    completion = relationship(Completion, back_populates="ratings")
    provider_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    provider = relationship(Organisation)
    product_stars = Column(Integer)  # 产品评价星级
    product_text = Column(Text)
    overall_stars = Column(Integer)  # 服务商评价总星级
    overall_text = Column(Text)
    attitude_stars = Column(Integer)  # 服务商态度评价星级
    attitude_text = Column(Text)
    after_sales_stars = Column(Integer)  # 售后评价星级
    after_sales_text = Column(Text)
    __table_args__ = (UniqueConstraint("completion_id", "provider_id", name="uq_zs_provider_rating"),)


class ProviderRatingTotal(Model):
    """服务商评价 per provider, kept with the ratings (zsdx.completion.refresh_rating_totals): the ratings of
    submitted completions counted and their stars summed, so that the 服务商评价 page and the catalog read a
    row per provider instead of aggregating every rating (43,000 in a gen-load city, ~15 ms a page)."""

    __tablename__ = "zs_provider_rating_total"
    provider_id = Column(Integer, ForeignKey("zs_organisation.id"), primary_key=True, autoincrement=False)
    ratings = Column(Integer, nullable=False, default=0)  # complete ratings of submitted completions
    product_stars = Column(Integer, nullable=False, default=0)  # sums
    overall_stars = Column(Integer, nullable=False, default=0)
    attitude_stars = Column(Integer, nullable=False, default=0)
    after_sales_stars = Column(Integer, nullable=False, default=0)
    rank = Column(Integer, nullable=False, default=0)  # the average of the four, to one place (half up), ×10
    __table_args__ = (Index("ix_zs_provider_rating_total_rank", "rank"),)


class Invoice(Model):
    """A 项目合同发票 (manual 08 发票填写注意事项): goods lines and one or more 银行付款凭证 belong to it."""

    __tablename__ = "zs_invoice"
    id = Column(Integer, primary_key=True)
    completion_id = Column(Integer, ForeignKey("zs_completion.id"), nullable=False, index=True)
    completion = relationship(Completion, back_populates="invoices")
    position = Column(Integer, nullable=False, default=0)
    code = Column(String(32))  # 发票代码（左上方编号）
    number = Column(String(32), index=True)  # 发票号码（右上方编号）: unique within the project (checked)
    issued_on = Column(Date)  # 开票日期
    seller = Column(String(200))  # 发票销售方
    created_at = Column(DateTime, nullable=False, default=now)
    lines = relationship("InvoiceLine", back_populates="invoice", order_by="InvoiceLine.position, InvoiceLine.id")
    vouchers = relationship(
        "PaymentVoucher", back_populates="invoice", order_by="PaymentVoucher.position, PaymentVoucher.id"
    )


class InvoiceLine(Model):
    """货物或应税劳务、服务 of an invoice: 金额 + 税额 = 价税合计 (元, computed on the server)."""

    __tablename__ = "zs_invoice_line"
    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("zs_invoice.id"), nullable=False, index=True)
    invoice = relationship(Invoice, back_populates="lines")
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(200))
    amount = Column(YUAN)  # 发票金额（元）
    tax = Column(YUAN)  # 发票税额（元）
    total = Column(YUAN)  # 价税合计（元） = amount + tax


class PaymentVoucher(Model):
    """A 银行付款凭证 of an invoice (the same voucher may be entered under several invoices)."""

    __tablename__ = "zs_payment_voucher"
    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("zs_invoice.id"), nullable=False, index=True)
    invoice = relationship(Invoice, back_populates="vouchers")
    position = Column(Integer, nullable=False, default=0)
    paid_on = Column(Date)  # 付款日期
    amount = Column(YUAN)  # 付款金额（元）
    file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)
    file = relationship(StoredFile)
