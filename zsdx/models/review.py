"""The review engine's tables (zsdx/workflow.py owns the logic)."""

from flask_appbuilder.models.sqla import Model
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declared_attr, relationship

from .base import now


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

    @declared_attr.directive
    def __table_args__(cls):
        # the pending queue: WHERE status = 'reviewing' AND current_step = ? ORDER BY submitted_at DESC, id DESC
        args = [Index(f"ix_{cls.__tablename__}_queue", "status", "current_step", "submitted_at", "id")]
        if "organisation_id" in cls.__dict__ and "created_at" in cls.__dict__:
            # the owner's list (我的工作台 tab, visibility.owned): WHERE organisation_id = ? ORDER BY created_at
            # DESC, id DESC — the page's 20 ids from the index instead of sorting all the enterprise's rows
            args.append(Index(f"ix_{cls.__tablename__}_owner_list", "organisation_id", "created_at", "id"))
        return tuple(args)


class ReviewAction(Model):
    """The audit trail: one row per submission and per reviewer action."""

    __tablename__ = "zs_review_action"
    id = Column(Integer, primary_key=True)
    subject_type = Column(String(32), nullable=False)
    subject_id = Column(Integer, nullable=False)
    step = Column(String(32), nullable=True)  # None for the submitter's own rows
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    actor = relationship("ZsdxUser")
    action = Column(String(16), nullable=False)  # submit | approve | return | reject
    opinion = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=now)
    step_seconds = Column(Integer, nullable=True)  # time the record spent at the step before this action
    __table_args__ = (
        Index("ix_review_action_subject", "subject_type", "subject_id", "created_at"),
        # 已审核: a reviewer's own actions of one kind, newest first (keyset paging)
        Index("ix_review_action_actor", "actor_id", "subject_type", "created_at", "id"),
    )


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


class SubmissionWindow(Model):
    """申报窗口: a period in which a chain accepts submissions (guard `window_open`), set by 市工信."""

    __tablename__ = "zs_submission_window"
    id = Column(Integer, primary_key=True)
    chain_name = Column(String(32), nullable=False)
    name = Column(String(200), nullable=False)
    opens_at = Column(DateTime, nullable=False)
    closes_at = Column(DateTime, nullable=False)
    created_at = Column(DateTime, nullable=False, default=now)
    # 首页 公告 of the window (manual 09: "请密切关注系统公告通知，开放时间将另行告知"), kept in step with it
    notice = Column(Text, nullable=True)
    announcement_id = Column(
        Integer, ForeignKey("zs_announcement.id", name="fk_submission_window_announcement"), nullable=True
    )
    __table_args__ = (Index("ix_submission_window_chain", "chain_name", "opens_at"),)

    def __repr__(self):
        return self.name


class Revision(Model):
    """信息变更 of a completed record of any stage (a 已签约 signing, …): what changed, by whom, when."""

    __tablename__ = "zs_revision"
    id = Column(Integer, primary_key=True)
    subject_type = Column(String(32), nullable=False)
    subject_id = Column(Integer, nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    actor = relationship("ZsdxUser")
    created_at = Column(DateTime, nullable=False, default=now)
    changes = Column(Text, nullable=False)  # JSON list of [field label, old, new]
    __table_args__ = (Index("ix_revision_subject", "subject_type", "subject_id", "id"),)
