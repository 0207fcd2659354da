"""上架产品: the products and services that 服务商 list and 市工信 approves (manual 04, SPEC §3.4)."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from .accounts import Organisation
from .base import now
from .review import ReviewableMixin


class PurchaseMode:
    ONE_TIME = "one_time"  # 一次性购买
    ON_DEMAND = "on_demand"  # 按需购买
    YEARLY = "yearly"  # 按年订阅
    OTHER = "other"  # 其他
    ALL = (ONE_TIME, ON_DEMAND, YEARLY, OTHER)


class Product(ReviewableMixin, Model):
    """A product or service of one provider. Approval (chain "product") gives it its 产品/服务代码 and lists it
    at the approved 最高入库价格; a later price change is reviewed again while the listed price stays."""

    __tablename__ = "zs_product"
    chain_name = "product"
    id = Column(Integer, primary_key=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation)
    code = Column(String(16), unique=True, nullable=True)  # 产品/服务代码, issued on the first approval
    name = Column(String(200), nullable=False)
    category = Column(String(16), nullable=False)  # software | hardware | service
    scenarios = Column(String(200), nullable=False, default="")  # 适用场景: comma-separated S1..S16
    max_price = Column(Numeric(14, 4), nullable=False)  # 最高入库价格 (万元), as submitted
    listed_price = Column(Numeric(14, 4), nullable=True)  # the approved price the catalog shows
    price_note = Column(Text, nullable=True)  # 报价说明
    purchase_mode = Column(String(16), nullable=False)
    description = Column(Text, nullable=True)
    withdrawn_at = Column(DateTime, nullable=True)  # 下架
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=False, default=now, onupdate=now)

    @property
    def status_label(self):
        from ..catalog import status_text

        return status_text(self)

    @property
    def change_id(self):
        """The id again, under a name FAB's list shows (it hides primary keys): the 修改 link's column."""
        return self.id

    def __repr__(self):
        return self.name


Index("ix_zs_product_catalog", Product.listed_price, Product.withdrawn_at)
