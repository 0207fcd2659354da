"""企业信息变更 requests, reviewed by 市工信 through the engine."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import relationship

from .accounts import Organisation, ZsdxUser
from .base import now
from .content import StoredFile
from .reference import Industry, Town
from .review import ReviewableMixin


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
    attachments = relationship("InfoChangeAttachment", cascade="all, delete-orphan", back_populates="request")


class InfoChangeAttachment(Model):
    __tablename__ = "zs_info_change_attachment"
    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("zs_info_change.id"), nullable=False, index=True)
    request = relationship(InfoChangeRequest, back_populates="attachments")
    file_id = Column(Integer, ForeignKey("zs_file.id"), nullable=False)
    file = relationship(StoredFile)
