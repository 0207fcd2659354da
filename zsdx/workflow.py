"""The review engine: chains as data (config REVIEW_CHAINS), guards, transitions, audit, assignments,
deadlines and reminders.

Every status change of a reviewable record happens here, with its audit row and its notifications, in the
caller's transaction: the engine flushes, the use case commits (`unit_of_work`). Concurrency: a transition
is an UPDATE guarded by the record's version, step and status, so of two reviewers acting at once exactly
one UPDATE matches; the other gets `AlreadyHandled`. Resubmission after a return re-enters at the step that
returned it; entering an `assigned` step resets its assignments, so every assigned reviewer approves again.

A chain in REVIEW_CHAINS is a list of steps, or {"steps": [...], "submit_guards": [...]}. A step is
{"key", "role", "scope", "deadline_days", "allow_reject", "label", "guards", "assigner"}; scopes live in
zsdx/scopes.py, guards in GUARDS below. `validate_chains` refuses an unknown scope, role, label or guard
at start-up (fail closed).
"""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import roles as R
from .extensions import db
from .inputs import has_control_chars
from .models import (
    Notification,
    NotificationKind,
    ReviewAction,
    ReviewAssignment,
    ReviewReminder,
    ReviewStatus,
    SubmissionWindow,
    ZsdxUser,
)
from .notifications import notify
from .request_cache import per_request
from .scopes import SCOPES, AssignedScope, scope
from .stages import STAGES, link_of, stage_of

# --- labels ------------------------------------------------------------------------------------------
STEP_LABELS = {
    "town": _l("Town review"),
    "third_party": _l("Third-party preliminary review"),
    "expert": _l("Acceptance expert review"),
    "city": _l("City bureau review"),
    "city_recheck": _l("City bureau re-review"),
    "enterprise_confirm": _l("Enterprise confirmation"),
    "provider_fill": _l("Filling by the industry service provider"),
}
ACTION_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "return": _l("Returned"),
    "reject": _l("Not approved"),
    "assign": _l("Reviewers assigned"),
    "complete": _l("Completed"),
    "reopen": _l("Changed after approval"),
    "withdraw": _l("Withdrawn by the submitter"),
}


def register_step_label(key, label):
    STEP_LABELS[key] = label


class WorkflowError(Exception):
    """A refusal shown to the user as it is (translated)."""


class AlreadyHandled(WorkflowError):
    pass


class NotAllowed(WorkflowError):
    pass


class ChainConfigError(RuntimeError):
    """REVIEW_CHAINS names something that does not exist: the app refuses to start."""


@dataclass(frozen=True)
class Step:
    chain: str
    key: str
    role: str
    scope: str
    deadline_days: int
    allow_reject: bool = False
    label_key: str = ""
    guards: tuple = ()
    assigner: str | None = None  # assigned steps: the role that assigns the reviewers (待分配)

    @property
    def label(self):
        return str(STEP_LABELS.get(self.label_key or self.key, self.key))


def _spec(name):
    spec = current_app.config["REVIEW_CHAINS"][name]
    return spec if isinstance(spec, dict) else {"steps": spec}


def chain(name):
    """The steps of chain `name` (a new list each call; the Steps themselves are read once per request)."""
    return list(_chain_steps(name))


@per_request
def _chain_steps(name):
    # built from the config at most once per request: the queues ask for it several times a row (~25 µs each)
    return tuple(
        Step(
            chain=name,
            key=s["key"],
            role=s["role"],
            scope=s["scope"],
            deadline_days=int(s.get("deadline_days", 5)),
            allow_reject=bool(s.get("allow_reject", False)),
            label_key=s.get("label", s["key"]),
            guards=tuple(s.get("guards", ())),
            assigner=s.get("assigner", R.CITY) if s["scope"] == "assigned" else None,
        )
        for s in _spec(name)["steps"]
    )


def submit_guards(name):
    return tuple(_spec(name).get("submit_guards", ()))


def step_of(name, key):
    for s in chain(name):
        if s.key == key:
            return s
    return None


# --- guards ------------------------------------------------------------------------------------------
def _window_open(record, actor, step, stage):
    """Submissions only inside a 申报窗口 of the chain (SubmissionWindow rows, set by 市工信)."""
    now = dt.datetime.now()
    windows = db.session.query(SubmissionWindow).filter(SubmissionWindow.chain_name == stage.chain)
    if windows.filter(SubmissionWindow.opens_at <= now, SubmissionWindow.closes_at > now).first():
        return
    upcoming = windows.filter(SubmissionWindow.opens_at > now).order_by(SubmissionWindow.opens_at).first()
    if upcoming is not None:
        raise WorkflowError(
            _(
                "The %(kind)s period has not opened yet (it opens at %(time)s)",
                kind=stage.label,
                time=upcoming.opens_at.strftime("%Y-%m-%d %H:%M"),
            )
        )
    raise WorkflowError(_("The %(kind)s period is not open now", kind=stage.label))


def _experts_assigned(record, actor, step, stage):
    """An assigned step cannot be acted on before its reviewers are assigned."""
    if not AssignedScope.has_assignees(record, step, stage):
        raise WorkflowError(_("The reviewers of this step have not been assigned yet"))


GUARDS = {"window_open": _window_open, "experts_assigned": _experts_assigned}


def register_guard(name, fn):
    GUARDS[name] = fn


def _check_guards(names, record, actor, step, stage):
    for name in names:
        GUARDS[name](record, actor, step, stage)


# --- configuration check -----------------------------------------------------------------------------
def chain_problems(app):
    """Everything wrong with REVIEW_CHAINS and the registered stages (an empty list when sound)."""
    problems = []
    known_roles = set(R.ZSDX_ROLES)
    with app.app_context():
        chains = app.config["REVIEW_CHAINS"]
        for name in chains:
            try:
                steps = chain(name)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"chain {name!r}: malformed step ({exc})")
                continue
            if not steps:
                problems.append(f"chain {name!r}: no steps")
            keys = [s.key for s in steps]
            if len(set(keys)) != len(keys):
                problems.append(f"chain {name!r}: duplicate step keys {keys}")
            for g_name in submit_guards(name):
                if g_name not in GUARDS:
                    problems.append(f"chain {name!r}: unknown submit guard {g_name!r}")
            stage = next((s for s in STAGES.values() if s.chain == name), None)
            for s in steps:
                where = f"chain {name!r} step {s.key!r}"
                if s.scope not in SCOPES:
                    problems.append(f"{where}: unknown scope {s.scope!r}")
                elif stage is not None:
                    for attr in SCOPES[s.scope].requires:
                        if not hasattr(stage.model, attr):
                            problems.append(f"{where}: scope {s.scope!r} needs {stage.model.__name__}.{attr}")
                if s.role not in known_roles:
                    problems.append(f"{where}: unknown role {s.role!r}")
                if s.assigner is not None and s.assigner not in known_roles:
                    problems.append(f"{where}: unknown assigner role {s.assigner!r}")
                if s.label_key not in STEP_LABELS:
                    problems.append(f"{where}: unknown step label {s.label_key!r}")
                for g_name in s.guards:
                    if g_name not in GUARDS:
                        problems.append(f"{where}: unknown guard {g_name!r}")
                if s.deadline_days < 1:
                    problems.append(f"{where}: deadline_days must be at least 1")
        for stage in STAGES.values():
            if stage.chain not in chains:
                problems.append(f"stage {stage.type!r}: chain {stage.chain!r} is not in REVIEW_CHAINS")
            for role, scope_name, _drafts in stage.viewers:
                if scope_name not in SCOPES:
                    problems.append(f"stage {stage.type!r}: viewer scope {scope_name!r} is unknown")
                if role not in known_roles:
                    problems.append(f"stage {stage.type!r}: viewer role {role!r} is unknown")
    return problems


def validate_chains(app):
    problems = chain_problems(app)
    if problems:
        raise ChainConfigError("REVIEW_CHAINS is not valid:\n  " + "\n  ".join(problems))


def stranded_records():
    """Live records waiting at (or returned to) a step their chain no longer has: [(stage, id, step)]."""
    out = []
    for stage in STAGES.values():
        model = stage.model
        keys = [s.key for s in chain(stage.chain)]
        rows = db.session.query(model.id, model.current_step, model.return_step).filter(
            or_(
                and_(model.status == ReviewStatus.REVIEWING, model.current_step.notin_(keys)),
                and_(
                    model.status == ReviewStatus.RETURNED, model.return_step.isnot(None), model.return_step.notin_(keys)
                ),
            )
        )
        out.extend((stage.type, pk, current or ret) for pk, current, ret in rows)
    return out


# --- who may act -------------------------------------------------------------------------------------
def can_act(user, record, step=None):
    """May `user` approve / return `record` at its current step?"""
    if user is None or record.status != ReviewStatus.REVIEWING:
        return False
    step = step or step_of(record.chain_name, record.current_step)
    if step is None or step.role not in R.role_names(user):
        return False
    return bool(scope(step.scope).may_act(user, record, step, stage_of(record)))


def can_assign(user, record):
    """May `user` assign the reviewers of `record`'s current (assigned) step?"""
    if user is None or record.status != ReviewStatus.REVIEWING:
        return False
    step = step_of(record.chain_name, record.current_step)
    return bool(step and step.assigner and step.assigner in R.role_names(user))


def actionable_clause(model, user):
    """SQL condition: records of `model` waiting for `user` (to review, or to assign reviewers: 待分配)."""
    stage = stage_of(model)
    names = R.role_names(user)
    parts = []
    for step in chain(stage.chain):
        at_step = and_(model.status == ReviewStatus.REVIEWING, model.current_step == step.key)
        if step.role in names:
            clause = scope(step.scope).act_clause(model, user, step, stage)
            if clause is not None:
                parts.append(and_(at_step, clause))
        if step.assigner and step.assigner in names:
            parts.append(AssignedScope.unassigned_clause(model, step, stage))
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
    """The users to tell that `record` waits for them at `step` (the assigners while nobody is assigned)."""
    stage = stage_of(record)
    if step.scope == "assigned" and not AssignedScope.has_assignees(record, step, stage):
        return users_with_role(step.assigner).all()
    return scope(step.scope).users(users_with_role(step.role), record, step, stage).all()


def submitters_of(record):
    stage = stage_of(record)
    if stage.submitters:
        return stage.submitters(record)
    return db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == record.organisation_id).all()


# --- transactions ------------------------------------------------------------------------------------
@contextmanager
def unit_of_work():
    """One use case, one transaction: commit on success, roll back on any error (which propagates)."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


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
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    db.session.expire(record)


def _audit(record, step_key, actor, action, opinion=None, step_seconds=None):
    db.session.add(
        ReviewAction(
            subject_type=stage_of(record).type,
            subject_id=record.id,
            step=step_key,
            actor_id=actor.id,
            action=action,
            opinion=opinion,
            step_seconds=step_seconds,
        )
    )


def _todo(record, step, user, text):
    stage = stage_of(record)
    notify(
        user,
        NotificationKind.TODO,
        text,
        link=link_of(stage.link_for_review, record),
        subject_type=stage.type,
        subject_id=record.id,
        step=step.key,
    )


def _close_todos(record, step_key, user_id=None):
    """The 待办事项 of (record, step) are done: the record left the step (or this user has approved)."""
    stmt = update(Notification).where(
        Notification.kind == NotificationKind.TODO,
        Notification.subject_type == stage_of(record).type,
        Notification.subject_id == record.id,
        Notification.step == step_key,
        Notification.closed_at.is_(None),
    )
    if user_id is not None:
        stmt = stmt.where(Notification.user_id == user_id)
    db.session.execute(
        stmt.values(closed_at=dt.datetime.now(), is_read=True).execution_options(synchronize_session=False)
    )


def _enter_step(record, step):
    """The record waits at `step`: reset an assigned step's approvals, tell its reviewers (待办事项)."""
    stage = stage_of(record)
    if step.scope == "assigned":
        db.session.execute(
            update(ReviewAssignment)
            .where(
                ReviewAssignment.subject_type == stage.type,
                ReviewAssignment.subject_id == record.id,
                ReviewAssignment.step == step.key,
            )
            .values(approved_at=None)
            .execution_options(synchronize_session=False)
        )
        _assignments_changed()
    title = stage.title(record)
    for reviewer in reviewers_of(record, step):
        _todo(record, step, reviewer, _("You have a %(title)s to handle (%(step)s)", title=title, step=step.label))


def submit(record, actor):
    """Submit (or resubmit after a return) into the chain; the caller commits."""
    if record.status not in ReviewStatus.EDITABLE:
        raise NotAllowed(_("This record has been submitted and cannot be submitted again"))
    stage = stage_of(record)
    steps = chain(stage.chain)
    start = step_of(stage.chain, record.return_step) if record.return_step else None
    start = start or steps[0]
    _check_guards(submit_guards(stage.chain), record, actor, None, stage)
    if stage.on_submit:
        stage.on_submit(record, actor)
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
    db.session.flush()


OPINION_MAX = 500  # characters; the notification carrying an opinion is cut to its column (zsdx.notifications)


def check_opinion(opinion):
    """The review opinion as stored (stripped; None when empty), or WorkflowError: at most OPINION_MAX
    characters, no control characters but line breaks and tabs."""
    if opinion is not None and not isinstance(opinion, str):
        raise WorkflowError(_("Please enter the review opinion as text"))
    opinion = (opinion or "").strip() or None
    if opinion is not None and len(opinion) > OPINION_MAX:
        raise WorkflowError(_("The review opinion can be at most %(n)s characters", n=OPINION_MAX))
    if opinion is not None and has_control_chars(opinion, multiline=True):
        raise WorkflowError(_("The review opinion contains control characters that are not allowed"))
    return opinion


def act(record, actor, action, opinion=None, seen_version=None):
    """同意 / 驳回 / 审核不通过 by `actor` at the record's current step; the caller commits.

    `seen_version` is the version the reviewer's page showed: if the record moved on since, the reviewer
    is told it was handled by someone else. Raises NotAllowed (not this user's step), AlreadyHandled
    (someone else was first) or WorkflowError.
    """
    if action not in ("approve", "return", "reject"):
        raise WorkflowError(_("Unknown action"))
    if record.status != ReviewStatus.REVIEWING or (seen_version is not None and seen_version != record.version):
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    stage = stage_of(record)
    step = step_of(stage.chain, record.current_step)
    if step is None or not can_act(actor, record, step):
        raise NotAllowed(_("You may not review this record at its current step"))
    opinion = check_opinion(opinion)
    if action in ("return", "reject") and not opinion:
        raise WorkflowError(_("Please enter the review opinion"))
    if action == "reject" and not step.allow_reject:
        raise WorkflowError(_("This step cannot end the application"))
    _check_guards(step.guards, record, actor, step, stage)
    now = dt.datetime.now()
    seconds = int((now - record.step_entered_at).total_seconds()) if record.step_entered_at else None
    title = stage.title(record)
    steps = chain(stage.chain)
    index = [s.key for s in steps].index(step.key)

    if action == "approve" and step.scope == "assigned" and _approve_assignment(record, step, actor, now):
        # other assigned reviewers still have to approve: the record stays at this step
        _guarded_update(record, ReviewStatus.REVIEWING, step.key)
        _audit(record, step.key, actor, "approve", opinion, seconds)
        _close_todos(record, step.key, actor.id)
        db.session.flush()
        return record

    nxt = None
    if action == "approve" and index + 1 < len(steps):
        nxt = steps[index + 1]
        _guarded_update(record, ReviewStatus.REVIEWING, step.key, current_step=nxt.key, step_entered_at=now)
        outcome = _("%(step)s approved", step=step.label)
    elif action == "approve":
        _guarded_update(
            record, ReviewStatus.REVIEWING, step.key, status=ReviewStatus.DONE, current_step=None, completed_at=now
        )
        outcome = _("%(step)s approved", step=step.label)
    elif action == "return":
        _guarded_update(
            record,
            ReviewStatus.REVIEWING,
            step.key,
            status=ReviewStatus.RETURNED,
            current_step=None,
            return_step=step.key,
        )
        outcome = _("%(step)s returned: %(opinion)s", step=step.label, opinion=opinion)
    else:
        _guarded_update(
            record,
            ReviewStatus.REVIEWING,
            step.key,
            status=ReviewStatus.REJECTED,
            current_step=None,
            completed_at=now,
        )
        outcome = _("%(step)s not approved: %(opinion)s", step=step.label, opinion=opinion)

    _audit(record, step.key, actor, action, opinion, seconds)
    _close_todos(record, step.key)
    text = _("Hello, your %(title)s: %(outcome)s", title=title, outcome=outcome)
    for user in submitters_of(record):
        notify(user, NotificationKind.REVIEW, text, link=link_of(stage.owner_link, record))
    if nxt is not None:
        _enter_step(record, nxt)
    if action == "approve" and nxt is None and stage.on_complete:
        stage.on_complete(record, actor)
    db.session.flush()
    return record


def _approve_assignment(record, step, actor, now):
    """Mark the actor's assignment approved; True while other assignees have not approved yet."""
    subject_type = stage_of(record).type
    db.session.query(ReviewAssignment).filter_by(
        subject_type=subject_type, subject_id=record.id, step=step.key, user_id=actor.id
    ).update({ReviewAssignment.approved_at: now}, synchronize_session=False)
    _assignments_changed()
    left = (
        db.session.query(ReviewAssignment.id)
        .filter_by(subject_type=subject_type, subject_id=record.id, step=step.key, approved_at=None)
        .count()
    )
    return left > 0


def assign(record, actor, users):
    """The assigner (市工信) sets the reviewers of the record's current assigned step; the caller commits.

    Replaces any earlier assignment of the step; every assignee then has to approve.
    """
    if not can_assign(actor, record):
        raise NotAllowed(_("You may not assign the reviewers of this record"))
    stage = stage_of(record)
    step = step_of(stage.chain, record.current_step)
    users = list({u.id: u for u in users}.values())
    if not users or any(step.role not in R.role_names(u) or not u.active for u in users):
        raise WorkflowError(_("Please choose at least one reviewer holding the role %(role)s", role=step.role))
    _guarded_update(record, ReviewStatus.REVIEWING, step.key)
    db.session.query(ReviewAssignment).filter_by(subject_type=stage.type, subject_id=record.id, step=step.key).delete(
        synchronize_session=False
    )
    for user in users:
        db.session.add(ReviewAssignment(subject_type=stage.type, subject_id=record.id, step=step.key, user_id=user.id))
    _assignments_changed()
    _audit(record, step.key, actor, "assign", "、".join(u.display_name for u in users))
    _close_todos(record, step.key)  # the assigners' 待分配 to-dos
    db.session.flush()
    title = stage.title(record)
    for user in users:
        _todo(record, step, user, _("You have a %(title)s to handle (%(step)s)", title=title, step=step.label))
    db.session.flush()


def _assignments_changed():
    """The assignments just changed by a bulk statement: the request's cached copy is stale."""
    from .scopes import step_assignments

    step_assignments.forget()


def assignees(record):
    """The users assigned to the record's current step, with whether each has approved."""
    from .scopes import step_assignments

    return list(step_assignments(stage_of(record).type, record.id, record.current_step))


def reopen(record, actor):
    """A completed record is changed in a way that needs review again (e.g. a listed product's price): it
    goes back to draft, to be submitted; what it completed with (a code, a listing) stays. Caller commits."""
    if record.status != ReviewStatus.DONE:
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    _guarded_update(record, ReviewStatus.DONE, None, status=ReviewStatus.DRAFT, return_step=None)
    _audit(record, None, actor, "reopen")
    db.session.flush()


def withdraw(record, actor):
    """The submitter takes a record back from the step it waits at (e.g. an enterprise cancelling the
    assistance it asked for): it is a draft again and the step's 待办 close. The caller commits."""
    if record.status != ReviewStatus.REVIEWING:
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    step_key = record.current_step
    _guarded_update(record, ReviewStatus.REVIEWING, step_key, status=ReviewStatus.DRAFT, current_step=None)
    _audit(record, None, actor, "withdraw")
    _close_todos(record, step_key)
    db.session.flush()


def rescope(record):
    """The record's reach changed while it waits at a step (e.g. its town moved with the enterprise): the old
    reviewers' 待办 close and the step's reviewers as they are now are told. The caller commits."""
    if record.status != ReviewStatus.REVIEWING:
        return
    step = step_of(stage_of(record).chain, record.current_step)
    if step is None:
        return
    db.session.flush()
    _close_todos(record, step.key)
    title = stage_of(record).title(record)
    for reviewer in reviewers_of(record, step):
        _todo(record, step, reviewer, _("You have a %(title)s to handle (%(step)s)", title=title, step=step.label))


def complete_without_review(record, actor, **values):
    """Close a record that needs no review (e.g. a self-diagnosis binding its own result); caller commits."""
    if record.status not in ReviewStatus.EDITABLE:
        raise AlreadyHandled(_("This record has already been handled by someone else"))
    now = dt.datetime.now()
    _guarded_update(record, record.status, None, status=ReviewStatus.DONE, completed_at=now, **values)
    _audit(record, None, actor, "complete")
    db.session.flush()


# --- use cases: one transaction each (HTML views, the API, bulk actions and jobs call these) -----------
def submit_record(record, actor):
    with unit_of_work():
        submit(record, actor)


def review(record, actor, action, opinion=None, seen_version=None):
    with unit_of_work():
        return act(record, actor, action, opinion, seen_version)


def assign_reviewers(record, actor, users):
    with unit_of_work():
        assign(record, actor, users)


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
    stage = stage_of(record)
    rows = (
        db.session.query(ReviewAction)
        .options(joinedload(ReviewAction.actor))
        .filter_by(subject_type=stage.type, subject_id=record.id)
        .order_by(ReviewAction.created_at, ReviewAction.id)
        .all()
    )
    out = []
    for row in rows:
        step = step_of(stage.chain, row.step) if row.step else None
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


def my_reviews_page(model, user, before=None, size=20):
    """已审核: the user's own actions on records of `model`, newest first, keyset-paged by (time, id).

    Returns [(action row, record)] and the cursor of the next page (None at the end).
    """
    from .visibility import visible_clause

    stage = stage_of(model)
    query = (
        db.session.query(ReviewAction, model)
        .join(model, model.id == ReviewAction.subject_id)
        .filter(
            ReviewAction.actor_id == user.id,
            ReviewAction.subject_type == stage.type,
            ReviewAction.action.in_(("approve", "return", "reject", "assign")),
            visible_clause(model, user),
        )
    )
    if before is not None:
        at, pk = before
        query = query.filter(
            or_(ReviewAction.created_at < at, and_(ReviewAction.created_at == at, ReviewAction.id < pk))
        )
    if stage.queue_options:
        query = query.options(*stage.queue_options(model))
    rows = query.order_by(ReviewAction.created_at.desc(), ReviewAction.id.desc()).limit(size + 1).all()
    more = len(rows) > size
    rows = rows[:size]
    cursor = (rows[-1][0].created_at, rows[-1][0].id) if more else None
    return rows, cursor


def count_bounded(query, column, limit):
    """count(*) of `query`, stopping at `limit` (deep counts are costly and nobody reads past a few pages)."""
    sub = query.order_by(None).with_entities(column).limit(limit).subquery()
    return db.session.query(func.count()).select_from(sub).scalar()


# --- reminders ---------------------------------------------------------------------------------------
def send_reminders(now=None):
    """Remind the reviewers of every overdue record (the assigners of an unassigned one), once per lapse
    (subject, step, entry time); commits."""
    now = now or dt.datetime.now()
    sent = 0
    for stage in list(STAGES.values()):
        model = stage.model
        for record in db.session.query(model).filter(overdue_clause(model, now)).all():
            step = step_of(stage.chain, record.current_step)
            try:
                with db.session.begin_nested():
                    db.session.add(
                        ReviewReminder(
                            subject_type=stage.type,
                            subject_id=record.id,
                            step=step.key,
                            step_entered_at=record.step_entered_at,
                        )
                    )
            except IntegrityError:
                continue  # this lapse was reminded already
            for reviewer in reviewers_of(record, step):
                _todo(
                    record,
                    step,
                    reviewer,
                    _(
                        "Overdue: %(title)s has waited at %(step)s beyond the deadline, please handle it soon",
                        title=stage.title(record),
                        step=step.label,
                    ),
                )
            sent += 1
    db.session.commit()
    return sent
