"""Announcements, notifications (待办事项 / 审核通知), the message board and stored files."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from .accounts import Organisation, ZsdxUser
from .base import now


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
    # A 待办事项 about a record belongs to (record, step): the engine closes it when the record leaves the step.
    subject_type = Column(String(32), nullable=True)
    subject_id = Column(Integer, nullable=True)
    step = Column(String(32), nullable=True)
    closed_at = Column(DateTime, nullable=True)
    __table_args__ = (
        Index("ix_notification_user_kind_read", "user_id", "kind", "is_read"),
        # the panel and 查看更多: newest first per user and kind
        Index("ix_notification_user_kind_created", "user_id", "kind", "created_at", "id"),
        Index("ix_notification_subject", "subject_type", "subject_id", "step"),
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


class DossierExport(Model):
    """一企一档 .zip export (zsdx.dossier): its progress, written by the rq worker and polled by whichever app
    node the user reaches, and the .zip's sha256 in the file store (zsdx.filestore: the shared folder or the
    S3 bucket), so that no node needs a folder of its own shared with the workers."""

    __tablename__ = "zs_dossier_export"
    token = Column(String(43), primary_key=True)  # secrets.token_urlsafe(32): unguessable, in the URL
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    state = Column(String(16), nullable=False, default="queued")  # queued / running / done / failed
    done = Column(Integer, nullable=False, default=0)
    total = Column(Integer, nullable=False, default=0)
    count = Column(Integer)  # dossiers written (a project deleted meanwhile is skipped)
    sha256 = Column(String(64))  # of the .zip in the file store, once done
    created_at = Column(DateTime, nullable=False, default=now, index=True)
    finished_at = Column(DateTime)


class DashboardSnapshot(Model):
    """数据看板 figures of one scope as last counted (zsdx.dashboard.figures), shared by every worker and node:
    a scope is counted once per DASHBOARD_CACHE_SECONDS for them all, not once in each. `scope` is the language,
    the town id (or "city") and whether the list is city-wide; `payload` is the figures as JSON. `recount_since`
    is when a worker took on recounting the expired figures in the background (the others show them meanwhile)."""

    __tablename__ = "zs_dashboard_snapshot"
    scope = Column(String(64), primary_key=True)
    counted_at = Column(DateTime, nullable=False)
    payload = Column(Text, nullable=False)
    recount_since = Column(DateTime)
