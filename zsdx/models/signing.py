"""项目签约 (manual 04, SPEC §3.4): the signing with its contracts, 数字化改造需求 and 合同主要试点产品/服务,
and the 预奖补申请.

Money is in 万元 with up to 4 decimals, stored exactly as Numeric(14, 4) (never float).
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
    Table,
    Text,
)
from sqlalchemy.orm import relationship

from .accounts import Organisation
from .assist import assist_relationship
from .base import now
from .catalog import Product
from .content import StoredFile
from .filing import Project
from .reference import Town
from .review import ReviewableMixin

MONEY = Numeric(14, 4)  # 万元


class SigningStatus:
    PENDING = "pending"  # 待签约
    SIGNED = "signed"  # 已签约


class Signing(Model):
    """项目签约, created at 已备案; 【提交】 makes it 已签约 (no review chain of its own). Page 3 may be filled by
    the enterprise's 行业型服务商 through an AssistRequest (host type "signing")."""

    __tablename__ = "zs_signing"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("zs_project.id"), nullable=False, unique=True)
    project = relationship(Project, back_populates="signing")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True, index=True)
    organisation = relationship(Organisation)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    status = Column(String(16), nullable=False, default=SigningStatus.PENDING, index=True)
    # 项目基本信息 (carried from 备案, editable)
    project_name = Column(String(200))
    summary = Column(Text)  # 项目简介, ≤ 2000 characters
    start_date = Column(Date)  # 改造实施开始时间
    end_date = Column(Date)  # 改造实施结束时间
    acceptance_date = Column(Date)  # 项目拟验收时间
    target_level = Column(String(8))  # 目标数字化等级: 2/3/4
    chain_leader = Column(Boolean, nullable=True)  # 是否“链主”带动
    # 牵引单位信息: 行业型服务商协助填写 是/否 (None: not chosen yet)
    assisted = Column(Boolean, nullable=True)
    submitted_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)
    contracts = relationship("Contract", back_populates="signing", order_by="Contract.position, Contract.id")
    needs = relationship("SigningNeed", back_populates="signing", order_by="SigningNeed.position, SigningNeed.id")
    products = relationship(
        "SigningProduct", back_populates="signing", order_by="SigningProduct.position, SigningProduct.id"
    )
    assist = assist_relationship("signing", "Signing")
    pre_subsidy = relationship("PreSubsidy", back_populates="signing", uselist=False)

    @property
    def display_name(self):
        return self.project_name or ""


# the owner's list (我的工作台 tab): WHERE organisation_id = ? ORDER BY created_at DESC, id DESC from the index
Index("ix_zs_signing_owner_list", Signing.organisation_id, Signing.created_at, Signing.id)


class Contract(Model):
    """One 项目合同 of a signing (【添加合同】: any number, each a tab)."""

    __tablename__ = "zs_contract"
    # 数据看板's contract sums per signing, from the index alone
    __table_args__ = (Index("ix_zs_contract_signing_amounts", "signing_id", "total_amount", "subsidy_amount"),)
    id = Column(Integer, primary_key=True)
    signing_id = Column(Integer, ForeignKey("zs_signing.id"), nullable=False, index=True)
    signing = relationship(Signing, back_populates="contracts")
    position = Column(Integer, nullable=False, default=0)
    number = Column(String(64))  # 合同协议编号
    total_amount = Column(MONEY)  # 合同总金额 (万元)
    subsidy_amount = Column(MONEY)  # 其中纳入资金奖补项目金额 (万元), ≤ total_amount
    industry_provider_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True)  # 已签约行业服务商
    industry_provider = relationship(Organisation)
    no_industry_provider = Column(Boolean, nullable=False, default=False)  # 无牵引单位
    file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 项目合同 (PDF)
    file = relationship(StoredFile)
    created_at = Column(DateTime, nullable=False, default=now)
    products = relationship("SigningProduct", back_populates="contract", order_by="SigningProduct.id")

    @property
    def ecosystem_providers(self):
        """产业生态服务商: the suppliers of the products picked for this contract (never typed)."""
        names = []
        for row in self.products:
            if row.supplier_name and row.supplier_name not in names:
                names.append(row.supplier_name)
        return names


class SigningNeed(Model):
    """A 数字化改造需求 row of page 3."""

    __tablename__ = "zs_signing_need"
    id = Column(Integer, primary_key=True)
    signing_id = Column(Integer, ForeignKey("zs_signing.id"), nullable=False, index=True)
    signing = relationship(Signing, back_populates="needs")
    position = Column(Integer, nullable=False, default=0)
    scenario = Column(String(8))  # 应用场景 (S1..S16)
    description = Column(Text)  # 场景描述
    analysis = Column(Text)  # 问题及需求分析, ≤ 300


class SigningProduct(Model):
    """A 合同主要试点产品/服务 row: a listed product picked from the catalog (its code, name and supplier
    copied at the pick) with the signing's own terms."""

    __tablename__ = "zs_signing_product"
    id = Column(Integer, primary_key=True)
    signing_id = Column(Integer, ForeignKey("zs_signing.id"), nullable=False, index=True)
    signing = relationship(Signing, back_populates="products")
    contract_id = Column(Integer, ForeignKey("zs_contract.id"), nullable=True, index=True)
    contract = relationship(Contract, back_populates="products")
    product_id = Column(Integer, ForeignKey("zs_product.id"), nullable=False, index=True)
    product = relationship(Product)
    position = Column(Integer, nullable=False, default=0)
    code = Column(String(16), nullable=False)  # 产品/服务代码
    name = Column(String(200), nullable=False)  # 产品/服务名称
    provider_credit_code = Column(String(18))  # 关联服务商信用代码
    supplier_name = Column(String(200))  # 产品/服务供应商
    max_price = Column(MONEY)  # 最高入库价格 when picked
    cloud = Column(String(16))  # 云应用情况: public / private / hybrid / none
    content = Column(Text)  # 数字化转型内容介绍
    start_date = Column(Date)
    end_date = Column(Date)
    price = Column(MONEY)  # 产品/服务签约价格 (万元, 含税)
    over_price_reason = Column(Text)  # required when price > max_price
    scenario = Column(String(8))  # 对应的数字化改造场景
    scenario_desc = Column(Text)  # 场景描述, ≤ 500


pre_subsidy_contract = Table(
    "zs_pre_subsidy_contract",
    Model.metadata,
    Column("pre_subsidy_id", Integer, ForeignKey("zs_pre_subsidy.id"), primary_key=True),
    Column("contract_id", Integer, ForeignKey("zs_contract.id"), primary_key=True),
)


class PreSubsidy(ReviewableMixin, Model):
    """预奖补申请 of a 已签约 signing: one or more of its contracts and three files; chain 镇街 → 市工信."""

    __tablename__ = "zs_pre_subsidy"
    chain_name = "pre_subsidy"
    id = Column(Integer, primary_key=True)
    signing_id = Column(Integer, ForeignKey("zs_signing.id"), nullable=False, unique=True)
    signing = relationship(Signing, back_populates="pre_subsidy")
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    application_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 入库申报表
    application_file = relationship(StoredFile, foreign_keys=[application_file_id])
    commitment_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 承诺书
    commitment_file = relationship(StoredFile, foreign_keys=[commitment_file_id])
    credit_file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=True)  # 信用报告
    credit_file = relationship(StoredFile, foreign_keys=[credit_file_id])
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)
    contracts = relationship(Contract, secondary=pre_subsidy_contract, order_by=Contract.position)

    @property
    def display_name(self):
        return self.signing.project_name if self.signing else ""
