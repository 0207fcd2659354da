"""The review engine: chains as data (config REVIEW_CHAINS), transitions, audit, locking, deadlines.

Every status change of a reviewable record happens here, in one transaction with its audit row and its
notifications. Concurrency: a transition is an UPDATE guarded by the record's version, step and status,
so of two reviewers acting at once exactly one UPDATE matches; the other gets `AlreadyHandled`.
Resubmission after a return re-enters at the step that returned it.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import (
    ReviewAction,
    ReviewAssignment,
    ReviewReminder,
    ReviewStatus,
    ZsdxUser,
)
from .notifications import notify

# --- chains ------------------------------------------------------------------------------------------
STEP_LABELS = {
    "town": _l("Town review"),
    "third_party": _l("Third-party preliminary review"),
    "expert": _l("Acceptance expert review"),
    "city": _l("City bureau review"),
    "enterprise_confirm": _l("Enterprise confirmation"),
}
CHAIN_STEP_LABELS = {("filing", "city"): _l("City bureau re-review")}
ACTION_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "return": _l("Returned"),
    "reject": _l("Not approved"),
}


class WorkflowError(Exception):
    """A refusal shown to the user as it is (translated)."""


class AlreadyHandled(WorkflowError):
    pass


class NotAllowed(WorkflowError):
    pass


@dataclass(frozen=True)
class Step:
    chain: str
    key: str
    role: str
    scope: str  # town | city | owner (the record's own organisation) | assigned
    deadline_days: int
    allow_reject: bool = False

    @property
    def label(self):
        return str(CHAIN_STEP_LABELS.get((self.chain, self.key), STEP_LABELS.get(self.key, self.key)))


def chain(name):
    return [
        Step(
            chain=name,
            key=s["key"],
            role=s["role"],
            scope=s["scope"],
            deadline_days=int(s.get("deadline_days", 5)),
            allow_reject=bool(s.get("allow_reject", False)),
        )
        for s in current_app.config["REVIEW_CHAINS"][name]
    ]


def step_of(name, key):
    for s in chain(name):
        if s.key == key:
            return s
    return None


# --- subjects ----------------------------------------------------------------------------------------
@dataclass
class Subject:
    """How the engine sees one kind of reviewable record."""

    type: str
    model: type
    title: Callable  # record -> "XX项目备案审核"
    owner_link: Callable  # record -> url the submitter opens
    review_link: Callable  # record -> url the reviewer opens
    on_complete: Callable | None = None
    submitters: Callable | None = None  # record -> users told of outcomes; default: the owning organisation's


SUBJECTS: dict[str, Subject] = {}


def register_subject(subject):
    SUBJECTS[subject.type] = subject
    return subject


def subject_for(record):
    for s in SUBJECTS.values():
        if isinstance(record, s.model):
            return s
    raise KeyError(type(record))


def link_of(make, record):
    """A subject's link (a path) for a notification, also outside a request (rq job, ticker, CLI), where
    url_for has no request to build from and SERVER_NAME is not configured."""
    if has_request_context():
        return make(record)
    with current_app.test_request_context("/"):
        return make(record)


# --- who may act -------------------------------------------------------------------------------------
def user_roles(user):
    return {r.name for r in user.roles}


def can_act(user, record, step=None):
    """May `user` act on `record` at its current step?"""
    if record.status != ReviewStatus.REVIEWING:
        return False
    step = step or step_of(record.chain_name, record.current_step)
    if step is None or step.role not in user_roles(user):
        return False
    if step.scope == "town":
        return user.town_id is not None and user.town_id == getattr(record, "town_id", None)
    if step.scope == "owner":
        return user.organisation_id is not None and user.organisation_id == record.organisation_id
    if step.scope == "assigned":
        return (
            db.session.query(ReviewAssignment.id)
            .filter_by(
                subject_type=subject_for(record).type, subject_id=record.id, step=step.key, user_id=user.id,
                approved_at=None,
            )
            .first()
            is not None
        )
    return True


def actionable_clause(model, user):
    """SQL condition: records of `model` whose current step `user` may act on (for queues)."""
    roles = user_roles(user)
    parts = []
    for step in chain(model.chain_name):
        if step.role not in roles:
            continue
        cond = and_(model.status == ReviewStatus.REVIEWING, model.current_step == step.key)
        if step.scope == "town":
            if user.town_id is None:
                continue
            cond = and_(cond, model.town_id == user.town_id)
        elif step.scope == "owner":
            if user.organisation_id is None:
                continue
            cond = and_(cond, model.organisation_id == user.organisation_id)
        elif step.scope == "assigned":
            sub = select(ReviewAssignment.subject_id).where(
                ReviewAssignment.subject_type == model.chain_name,
                ReviewAssignment.step == step.key,
                ReviewAssignment.user_id == user.id,
                ReviewAssignment.approved_at.is_(None),
            )
            cond = and_(cond, model.id.in_(sub))
        parts.append(cond)
    return or_(*parts) if parts else false()


def users_with_role(role):
    """Active users holding `role` (a query)."""
    from flask_appbuilder.security.sqla.models import Role, assoc_user_role

    return (
        db.session.query(ZsdxUser)
        .join(assoc_user_role, assoc_user_role.c.user_id == ZsdxUser.id)
        .join(Role, Role.id == assoc_user_role.c.role_id)
        .filter(Role.name == role, ZsdxUser.active.is_(True))
    )


def reviewers_of(record, step):
    """The users to tell that `record` waits for them at `step`."""
    query = users_with_role(step.role)
    if step.scope == "town":
        query = query.filter(ZsdxUser.town_id == getattr(record, "town_id", None))
    elif step.scope == "owner":
        query = query.filter(ZsdxUser.organisation_id == record.organisation_id)
    elif step.scope == "assigned":
        query = query.join(ReviewAssignment, ReviewAssignment.user_id == ZsdxUser.id).filter(
            ReviewAssignment.subject_type == subject_for(record).type,
            ReviewAssignment.subject_id == record.id,
            ReviewAssignment.step == step.key,
            ReviewAssignment.approved_at.is_(None),
        )
    return query.all()


def submitters_of(record):
    subject = subject_for(record)
    if subject.submitters:
        return subject.submitters(record)
    return db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == record.organisation_id).all()


# --- transitions -------------------------------------------------------------------------------------
def _guarded_update(record, expected_status, expected_step, **values):
    """Apply `values` only if nobody changed the record since we read it; else AlreadyHandled."""
    model = type(record)
    now_version = record.version
    stmt = (
        update(model)
        .where(model.id == record.id, model.version == now_version, model.status == expected_status)
        .values(version=now_version + 1, **values)
    )
    if expected_step is not None:
        stmt = stmt.where(model.current_step == expected_step)
    result = db.session.execute(stmt.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    db.session.expire(record)


def _audit(record, step_key, actor, action, opinion=None, step_seconds=None):
    db.session.add(
        ReviewAction(
            subject_type=subject_for(record).type,
            subject_id=record.id,
            step=step_key,
            actor_id=actor.id,
            action=action,
            opinion=opinion,
            step_seconds=step_seconds,
        )
    )


def _enter_step(record, step):
    """Tell the reviewers of the step that the record waits for them (待办事项)."""
    subject = subject_for(record)
    for reviewer in reviewers_of(record, step):
        notify(
            reviewer,
            "todo",
            _("You have a %(title)s to handle (%(step)s)", title=subject.title(record), step=step.label),
            link=link_of(subject.review_link, record),
        )


def submit(record, actor):
    """Submit (or resubmit after a return) into the chain; commits."""
    if record.status not in ReviewStatus.EDITABLE:
        raise NotAllowed(_("This record has been submitted and cannot be submitted again"))
    steps = chain(record.chain_name)
    start = step_of(record.chain_name, record.return_step) if record.return_step else None
    start = start or steps[0]
    now = dt.datetime.now()
    _guarded_update(
        record,
        record.status,
        None,
        status=ReviewStatus.REVIEWING,
        current_step=start.key,
        return_step=None,
        submitted_at=now,
        step_entered_at=now,
    )
    _audit(record, None, actor, "submit")
    _enter_step(record, start)
    db.session.commit()


def act(record, actor, action, opinion=None, seen_version=None):
    """同意 / 驳回 / 审核不通过 by `actor` at the record's current step; commits.

    `seen_version` is the version the reviewer's page showed: if the record moved on since, the reviewer
    is told it was handled by someone else. Raises NotAllowed (not this user's step), AlreadyHandled
    (someone else was first) or WorkflowError.
    """
    opinion = (opinion or "").strip() or None
    if action not in ("approve", "return", "reject"):
        raise WorkflowError(_("Unknown action"))
    if record.status != ReviewStatus.REVIEWING or (seen_version is not None and seen_version != record.version):
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    step = step_of(record.chain_name, record.current_step)
    if not can_act(actor, record, step):
        raise NotAllowed(_("You may not review this record at its current step"))
    if action in ("return", "reject") and not opinion:
        raise WorkflowError(_("Please enter the review opinion"))
    if action == "reject" and not step.allow_reject:
        raise WorkflowError(_("This step cannot end the application"))
    subject = subject_for(record)
    now = dt.datetime.now()
    seconds = int((now - record.step_entered_at).total_seconds()) if record.step_entered_at else None
    title = subject.title(record)
    steps = chain(record.chain_name)
    index = [s.key for s in steps].index(step.key)

    if action == "approve" and step.scope == "assigned":
        if _approve_assignment(record, step, actor, now):
            # other assigned reviewers still have to approve: the record stays at this step
            _guarded_update(record, ReviewStatus.REVIEWING, step.key)
            _audit(record, step.key, actor, "approve", opinion, seconds)
            db.session.commit()
            return record

    if action == "approve" and index + 1 < len(steps):
        nxt = steps[index + 1]
        _guarded_update(record, ReviewStatus.REVIEWING, step.key, current_step=nxt.key, step_entered_at=now)
        outcome = _("%(step)s approved", step=step.label)
    elif action == "approve":
        _guarded_update(
            record, ReviewStatus.REVIEWING, step.key, status=ReviewStatus.DONE, current_step=None, completed_at=now
        )
        nxt = None
        outcome = _("%(step)s approved", step=step.label)
    elif action == "return":
        _guarded_update(
            record, ReviewStatus.REVIEWING, step.key, status=ReviewStatus.RETURNED, current_step=None,
            return_step=step.key,
        )
        nxt = None
        outcome = _("%(step)s returned: %(opinion)s", step=step.label, opinion=opinion)
    else:
        _guarded_update(
            record, ReviewStatus.REVIEWING, step.key, status=ReviewStatus.REJECTED, current_step=None,
            completed_at=now,
        )
        nxt = None
        outcome = _("%(step)s not approved: %(opinion)s", step=step.label, opinion=opinion)

    _audit(record, step.key, actor, action, opinion, seconds)
    text = _("Hello, your %(title)s: %(outcome)s", title=title, outcome=outcome)
    for user in submitters_of(record):
        notify(user, "review", text, link=link_of(subject.owner_link, record))
    if nxt is not None:
        _enter_step(record, nxt)
    if action == "approve" and nxt is None and subject.on_complete:
        subject.on_complete(record, actor)
    db.session.commit()
    return record


def _approve_assignment(record, step, actor, now):
    """Mark the actor's assignment approved; True while other assignees have not approved yet."""
    subject_type = subject_for(record).type
    db.session.query(ReviewAssignment).filter_by(
        subject_type=subject_type, subject_id=record.id, step=step.key, user_id=actor.id
    ).update({ReviewAssignment.approved_at: now}, synchronize_session=False)
    left = (
        db.session.query(ReviewAssignment.id)
        .filter_by(subject_type=subject_type, subject_id=record.id, step=step.key, approved_at=None)
        .count()
    )
    return left > 0


# --- reading -----------------------------------------------------------------------------------------
def deadline_of(record):
    if record.status != ReviewStatus.REVIEWING or not record.step_entered_at:
        return None
    step = step_of(record.chain_name, record.current_step)
    return record.step_entered_at + dt.timedelta(days=step.deadline_days) if step else None


def is_overdue(record, now=None):
    deadline = deadline_of(record)
    return deadline is not None and (now or dt.datetime.now()) > deadline


def overdue_clause(model, now=None):
    now = now or dt.datetime.now()
    parts = [
        and_(model.current_step == s.key, model.step_entered_at < now - dt.timedelta(days=s.deadline_days))
        for s in chain(model.chain_name)
    ]
    return and_(model.status == ReviewStatus.REVIEWING, or_(*parts))


def timeline(record):
    """The audit rows of a record, oldest first, with the step label and the time spent at the step."""
    subject = subject_for(record)
    rows = (
        db.session.query(ReviewAction)
        .filter_by(subject_type=subject.type, subject_id=record.id)
        .order_by(ReviewAction.created_at, ReviewAction.id)
        .all()
    )
    out = []
    for row in rows:
        step = step_of(record.chain_name, row.step) if row.step else None
        out.append(
            {
                "step": step.label if step else _("Submitter"),
                "actor": row.actor.display_name if row.actor else "",
                "time": row.created_at,
                "action": row.action,
                "action_label": str(ACTION_LABELS.get(row.action, row.action)),
                "opinion": row.opinion or "",
                "duration": format_duration(row.step_seconds),
            }
        )
    return out


def format_duration(seconds):
    if seconds is None:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s d %(h)s h", d=days, h=hours)
    if hours:
        return _("%(h)s h %(m)s min", h=hours, m=minutes)
    return _("%(m)s min", m=max(minutes, 0))


# --- reminders ---------------------------------------------------------------------------------------
def send_reminders(now=None):
    """Remind the reviewers of every overdue record, once per lapse (subject, step, entry time)."""
    now = now or dt.datetime.now()
    sent = 0
    for subject in SUBJECTS.values():
        model = subject.model
        for record in db.session.query(model).filter(overdue_clause(model, now)).all():
            step = step_of(model.chain_name, record.current_step)
            try:
                with db.session.begin_nested():
                    db.session.add(
                        ReviewReminder(
                            subject_type=subject.type,
                            subject_id=record.id,
                            step=step.key,
                            step_entered_at=record.step_entered_at,
                        )
                    )
            except IntegrityError:
                continue  # this lapse was reminded already
            for reviewer in reviewers_of(record, step):
                notify(
                    reviewer,
                    "todo",
                    _("Overdue: %(title)s has waited at %(step)s beyond the deadline, please handle it soon",
                      title=subject.title(record), step=step.label),
                    link=link_of(subject.review_link, record),
                )
            sent += 1
    db.session.commit()
    return sent
