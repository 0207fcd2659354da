"""待办事项 / 审核通知: rows written in the caller's transaction; SMS delivery queued once it commits (and, in a
request, once the response has been sent)."""

import logging

from flask import g, has_request_context
from sqlalchemy import event, func, inspect, literal_column, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import Notification, NotificationKind, ZsdxUser

_PENDING_KEY = "zsdx_pending_notifications"
log = logging.getLogger(__name__)


def notify(user, kind, text, link=None, send_sms=True, subject_type=None, subject_id=None, step=None):
    """Add a notification to the current transaction (the caller commits).

    A 待办事项 about a record waiting at a step carries (subject_type, subject_id, step): the engine closes
    it when the record leaves the step. The text is cut to the column's length (a long opinion in it).
    """
    assert kind in NotificationKind.ALL
    limit = Notification.text.type.length
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    note = Notification(
        user=user,
        kind=kind,
        text=text,
        link=link,
        send_sms=send_sms,
        subject_type=subject_type,
        subject_id=subject_id,
        step=step,
    )
    db.session.add(note)
    db.session.info.setdefault(_PENDING_KEY, []).append(note)
    return note


# Savepoints (begin_nested) fire before_commit / after_commit too, and a savepoint that fails rolls back
# without ending the transaction: the delivery list belongs to the outermost transaction only, or a
# skipped duplicate (send_reminders, the 备案号 counter) would drop the SMS of notes it still commits.
@event.listens_for(Session, "before_commit")
def _collect_ids(session):
    if session.in_nested_transaction():
        return
    notes = session.info.pop(_PENDING_KEY, None)
    if notes:
        session.flush()  # ids exist before the commit; after it no SQL may be emitted
        ids = [n.id for n in notes if n.send_sms and inspect(n).persistent]  # not those a savepoint undid
        session.info.setdefault("zsdx_committing_ids", []).extend(ids)


@event.listens_for(Session, "after_commit")
def _remember_committed(session):
    if session.in_nested_transaction():
        return
    ids = session.info.pop("zsdx_committing_ids", None)
    if ids:
        if has_request_context():
            g.setdefault("zsdx_deliver", []).extend(ids)
        else:
            session.info.setdefault("zsdx_deliver_ids", []).extend(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    if previous_transaction.nested or previous_transaction.parent is not None:
        return  # a savepoint or a failed flush inside the transaction: the transaction goes on
    session.info.pop(_PENDING_KEY, None)
    session.info.pop("zsdx_committing_ids", None)


def deliver_pending(response=None):
    """Hand committed notifications to the job queue (RQ, or in-process on the embedded default), one job per
    DELIVERY_BATCH.

    As the after_request hook (with the response) it only takes their ids: `jobs.hand_over_after_response`
    hands them over once the response has been sent, so a Redis that hangs (or, without Redis, a slow SMS
    gateway) never holds a response up. A hand-over that fails, or never runs, leaves the rows undelivered for
    `flask zsdx deliver-pending`. Called outside a request (CLI, jobs, scripts) it hands them over at once."""
    from .jobs import batches, deliver_notifications, enqueue_after_response

    ids = list(g.pop("zsdx_deliver", [])) if has_request_context() else []
    ids += db.session.info.pop("zsdx_deliver_ids", [])
    for batch in batches(ids):
        enqueue_after_response(deliver_notifications, batch)
    return response


def contacts(notification_ids):
    """{notification id: (phone, text)} of a batch, in one statement (deliver_notifications)."""
    rows = db.session.execute(
        select(Notification.id, ZsdxUser.phone, Notification.text)
        .join(ZsdxUser, ZsdxUser.id == Notification.user_id)
        .where(Notification.id.in_(list(notification_ids)))
    )
    return {nid: (phone, text) for nid, phone, text in rows}


def deliver(notification_id, contact=None):
    """Send the SMS of one notification exactly once, however many workers run its job at the same time
    (an id can be queued twice: `flask zsdx deliver-pending` on two nodes, or while the first job waits).

    The conditional UPDATE claims the row (delivered_at IS NULL) and holds its lock through the send and
    the commit: a second worker's UPDATE of the same row waits for that commit, then matches nothing and
    sends nothing (PostgreSQL re-checks the WHERE on the committed row; SQLite has one writer at a time).
    A worker that dies or a gateway that fails before the commit leaves the row undelivered: the job
    fails and `deliver-pending` sends it later. `contact` is its (phone, text) when the caller read it
    already (a batch reads all of them in one statement). Returns True when this call sent it."""
    import datetime as dt

    from sqlalchemy import update

    from .sms import get_backend

    claimed = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.delivered_at.is_(None),
            Notification.send_sms.is_(True),
        )
        .values(delivered_at=dt.datetime.now(), delivery_attempts=Notification.delivery_attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return False
    try:
        phone, text = contact or contacts([notification_id])[notification_id]
        if phone:
            get_backend().send(phone, text)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return True


def unread_counts(user_id):
    """{kind: unread count, at most UNREAD_SHOWN} of the user's notifications, once per request (the bell and
    the panel share it)."""
    return _unread(user_id)[0]


def unread_messages(user_id):
    """Replies of the platform on the user's organisation's 留言板 not read yet (same statement as above)."""
    return _unread(user_id)[1]


def _unread(user_id):
    from .request_cache import request_cache

    cache = request_cache()
    if cache is None:
        return _count_unread(user_id)
    key = ("zsdx.unread", user_id)
    if key not in cache:
        cache[key] = _count_unread(user_id)
    return cache[key]


# A badge shows 1..99 or "99+" (templating's `badge` filter): nothing is counted past UNREAD_SHOWN, so the
# statement reads at most that many index entries per kind however many notifications a reviewer has
# (a city reviewer of a gen-load city has >10,000 unread 待办事项; counting them cost ~2 ms a page).
UNREAD_SHOWN = 100


def _capped_count(rows):
    """A scalar subquery: how many rows `rows` (a select) has, counting no further than UNREAD_SHOWN."""
    return select(func.count()).select_from(rows.limit(UNREAD_SHOWN).subquery()).scalar_subquery()


def _unread_messages_column(user_id):
    from .models import Message, ZsdxUser

    return _capped_count(
        select(Message.id)
        .join(ZsdxUser, ZsdxUser.organisation_id == Message.organisation_id)
        .where(ZsdxUser.id == user_id, Message.from_platform.is_(True), Message.read_by_enterprise.is_(False))
    )


def _count_unread(user_id):
    return _unread_result(user_id, *db.session.execute(select(*unread_columns(user_id))).one())


def _unread_result(user_id, todo, review, messages):
    counts = {NotificationKind.TODO: int(todo or 0), NotificationKind.REVIEW: int(review or 0)}
    return counts, int(messages or 0)


def unread_columns(user_id):
    """Scalar subqueries for the signed-in user's own load (zsdx.security): its unread 待办事项, 审核通知 and
    留言板 replies, so that the header badge costs no statement of its own (see `remember_unread`). `user_id` is
    an id or a bind parameter (the user load's statement is built once, zsdx.security)."""
    unread = (Notification.user_id == user_id, Notification.is_read.is_(False))
    return [
        # SELECT 1: the (user_id, kind, is_read) index alone answers it
        _capped_count(select(literal_column("1")).where(*unread, Notification.kind == kind))
        for kind in (NotificationKind.TODO, NotificationKind.REVIEW)
    ] + [_unread_messages_column(user_id)]


def remember_unread(user_id, todo, review, messages):
    """Keep what `unread_columns` read as this request's `unread_counts` / `unread_messages`. Read before the
    view runs: a change to the user's notifications or messages flushed later in the request drops it
    (`_forget_unread_on_change`), so a page never shows counts older than its own writes."""
    from .request_cache import request_cache

    cache = request_cache()
    if cache is not None:
        cache[("zsdx.unread", user_id)] = _unread_result(user_id, todo, review, messages)


def _forget_unread():
    from .request_cache import request_cache

    cache = request_cache()
    if cache:
        for key in [k for k in cache if isinstance(k, tuple) and k and k[0] == "zsdx.unread"]:
            del cache[key]


def _counted(cls):
    from .models import Message

    return cls is Notification or cls is Message


@event.listens_for(Session, "after_flush")
def _forget_unread_on_change(session, flush_context):
    if any(_counted(type(obj)) for obj in (*session.new, *session.dirty, *session.deleted)):
        _forget_unread()


@event.listens_for(Session, "do_orm_execute")
def _forget_unread_on_statement(state):
    # session.execute(update(Notification) …) (closing to-dos, marking messages read) is no flush
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        if _counted(state.bind_mapper.class_):
            _forget_unread()
