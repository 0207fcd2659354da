"""Reference data: towns (镇街), industries, product categories and the business registry."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship


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
