"""项目入库 (manual 09; SPEC §3.8): created when 改造完成 is submitted, pre-filled with the whole project,
reviewed 镇街 → 验收专家 (assigned, all must agree) → 市工信; on 已入库 the proposed subsidy is fixed.

`content` holds the editable copy of the project (sections and fields declared in zsdx/warehousing.py);
the amounts the subsidy depends on (contracts, invoices, levels) are read from their own stages, never from it.
"""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import relationship

from .accounts import Organisation
from .base import now
from .content import StoredFile
from .filing import Project
from .reference import Town
from .review import ReviewableMixin

WAN = Numeric(14, 4)


class Warehousing(ReviewableMixin, Model):
    """项目入库 of one project: status 待提交 (draft) / 待审核 (reviewing) / 退回修改 (returned) / 已入库 (done)."""

    __tablename__ = "zs_warehousing"
    chain_name = "warehousing"
    id = Column(Integer, primary_key=True)
    project_id = Column(
        Integer, ForeignKey("zs_project.id", name="fk_warehousing_project"), nullable=False, unique=True
    )
    project = relationship(Project, back_populates="warehousing")
    organisation_id = Column(
        Integer, ForeignKey("zs_organisation.id", name="fk_warehousing_org"), nullable=False, index=True
    )
    organisation = relationship(Organisation)
    town_id = Column(Integer, ForeignKey("zs_town.id", name="fk_warehousing_town"), nullable=True, index=True)
    town = relationship(Town)
    project_name = Column(String(200))
    content = Column(JSON, nullable=True)  # the editable copy of the project, {section: {field: value} | [rows]}
    created_at = Column(DateTime, nullable=False, default=now)
    updated_at = Column(DateTime, nullable=True, default=now, onupdate=now)
    # fixed at 已入库 (SPEC §3.8): the 改造后 level of the confirmed 事后评估, the cap (the contracts'
    # 纳入资金奖补项目金额) and the proposed subsidy in 万元; None while not warehoused
    level_after = Column(Integer, nullable=True)
    subsidy_cap = Column(WAN, nullable=True)
    proposed_subsidy = Column(WAN, nullable=True)
    files = relationship("WarehousingFile", back_populates="warehousing", order_by="WarehousingFile.id")

    @property
    def display_name(self):
        return self.project_name or ""


class WarehousingFile(Model):
    """One item of the 佐证材料 checklist (kinds declared in zsdx/warehousing.py EVIDENCE)."""

    __tablename__ = "zs_warehousing_file"
    id = Column(Integer, primary_key=True)
    warehousing_id = Column(
        Integer, ForeignKey("zs_warehousing.id", name="fk_warehousing_file_warehousing"), nullable=False
    )
    warehousing = relationship(Warehousing, back_populates="files")
    kind = Column(String(32), nullable=False)
    file_id = Column(Integer, ForeignKey("zs_file.id", name="fk_warehousing_file_file"), nullable=False)
    file = relationship(StoredFile)
    __table_args__ = (UniqueConstraint("warehousing_id", "kind", name="uq_warehousing_file_kind"),)
