"""行业型服务商协助填写: a page of an enterprise's record (the signing's 牵引单位信息, later 改造中) handed to
the provider it chose; the provider fills and submits it, the enterprise then edits and 确认提交 its record.

One request per host record (host_type, host_id); it goes through the one-step chain "assist", whose step
scope "helper" is the provider the request names (zsdx.scopes.HelperScope).
"""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship

from .accounts import Organisation
from .base import now
from .review import ReviewableMixin


class AssistRequest(ReviewableMixin, Model):
    __tablename__ = "zs_assist_request"
    chain_name = "assist"
    id = Column(Integer, primary_key=True)
    host_type = Column(String(32), nullable=False)  # a key of zsdx.assist.HOSTS
    host_id = Column(Integer, nullable=False)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    organisation = relationship(Organisation, foreign_keys=[organisation_id])
    provider_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=False, index=True)
    provider = relationship(Organisation, foreign_keys=[provider_id])
    item_name = Column(String(200))  # the host's name when sent (the provider's 待办 and queue)
    confirmed_at = Column(DateTime, nullable=True)  # the enterprise 确认提交 its record after the provider
    created_at = Column(DateTime, nullable=False, default=now)
    __table_args__ = (
        Index("ix_zs_assist_request_queue", "status", "current_step", "submitted_at", "id"),  # the mixin's
        UniqueConstraint("host_type", "host_id", name="uq_zs_assist_request_host"),
    )


def assist_relationship(host_type, host_class):
    """The `assist` relationship of a host model: its one AssistRequest of `host_type` (read-only)."""
    return relationship(
        AssistRequest,
        primaryjoin=f"and_(AssistRequest.host_type == '{host_type}', "
        f"foreign(AssistRequest.host_id) == {host_class}.id)",
        uselist=False,
        viewonly=True,
    )
