"""Background jobs. With REDIS_URL set they go to RQ (an `rq worker` runs them); without it they run
in-process. A failure to reach Redis never fails the request that enqueued the job: the notification
row is already committed, and `retry_undelivered` (CLI `flask zsdx deliver-pending`) sends it later.
"""

import datetime as dt
import logging

from flask import current_app, g, has_request_context
from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)


_REDIS = {}  # REDIS_URL -> a client (its connection pool) kept for the process


def _queue():
    from redis import Redis
    from rq import Queue

    url = current_app.config["REDIS_URL"]
    conn = _REDIS.get(url)
    if conn is None:
        # one pool per process (redis-py starts a new one in a forked child by itself), not a new TCP
        # connection per hand-over; a Redis that hangs holds the hand-over (after the response) 2 s at most
        conn = _REDIS[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return Queue(current_app.config["RQ_QUEUE"], connection=conn)


def enqueue(func, *args, job_timeout=120):
    """Run func(*args) as a job; return True when it was handed over (or run), False when it was not."""
    if not current_app.config.get("REDIS_URL"):
        try:
            func(*args)
        except Exception:  # an in-process job must not break the request either
            log.exception("in-process job %s failed", func.__name__)
            return False
        return True
    try:
        _queue().enqueue(func, *args, job_timeout=job_timeout)
        return True
    except Exception as exc:  # redis down: keep going, the row stays undelivered and is retried
        log.warning("could not enqueue %s: %s", func.__name__, exc)
        return False


def enqueue_after_response(func, *args):
    """`enqueue(func, *args)` once this request's response has been sent (at once outside a request)."""
    if not has_request_context():
        return enqueue(func, *args)
    g.setdefault("zsdx_after_response", []).append((func, args))
    return True


def hand_over_after_response(response):
    """after_request (registered first, so it runs after the others): the jobs of `enqueue_after_response`,
    handed over in an app context of their own once the response has been sent (the WSGI server's close()), so
    that nothing they wait on (Redis, an in-process job) holds the response up. A failure is logged; a
    notification whose hand-over failed stays undelivered for `flask zsdx deliver-pending`."""
    queued = g.pop("zsdx_after_response", None)
    if not queued:
        return response
    app = current_app._get_current_object()

    def hand_over():
        try:
            with app.app_context():
                for func, args in queued:
                    enqueue(func, *args)
        except Exception:  # after the response: nothing to tell the user
            log.exception("hand-over of %s after the response failed", [func.__name__ for func, _a in queued])

    if response.direct_passthrough:
        # send_file: the server closes the file it streams, not the response; close our wrapper of it instead
        response.response = ClosingIterator(response.response, hand_over)
    else:
        response.call_on_close(hand_over)
    return response


def _in_app(fn):
    """Jobs run in an RQ worker without a Flask app: build one (once per worker process)."""

    def wrapper(*args):
        from flask import has_app_context

        if has_app_context():
            return fn(*args)
        import os

        from . import create_app

        app = _worker_app.get("app") or _worker_app.setdefault("app", create_app())
        if _worker_app.get("pid") != os.getpid():
            # a forked work-horse: never reuse the parent's pooled database connections
            from .extensions import db

            with app.app_context():
                db.engine.dispose(close=False)
            _worker_app["pid"] = os.getpid()
        with app.app_context():
            return fn(*args)

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__module__ = fn.__module__
    return wrapper


_worker_app = {}


@_in_app
def deliver_notification(notification_id):
    """Send the SMS of one notification, once, even when two workers run it at the same time
    (zsdx.notifications.deliver)."""
    from .notifications import deliver

    return deliver(notification_id)


# How many notifications one delivery job sends: a job costs a fork of the worker with fresh connections
# (~0.2–0.5 s measured), a notification ~2 ms (claim, send, commit), so one job a notification would cap a
# worker far below the 10,000 in 30 s it must reach (bench/notifications.py: 22.7 s with 500).
DELIVERY_BATCH = 500


def batches(ids, size=DELIVERY_BATCH):
    ids = list(ids)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@_in_app
def deliver_notifications(notification_ids):
    """Send a batch, each notification exactly once in its own transaction (zsdx.notifications.deliver); a
    failure is logged and the rest of the batch goes on (the failed row stays undelivered for deliver-pending).
    Returns how many this job sent."""
    from .extensions import db
    from .notifications import contacts, deliver

    known = contacts(notification_ids)
    db.session.rollback()  # end the read: each delivery is a transaction of its own
    sent = 0
    for nid in notification_ids:
        if nid not in known:
            continue
        try:
            sent += bool(deliver(nid, known[nid]))
        except Exception:
            log.exception("delivery of notification %s failed; deliver-pending will retry it", nid)
    return sent


@_in_app
def retry_undelivered(max_age_days=7):
    """Re-enqueue notifications whose delivery never happened (e.g. Redis was down)."""
    from .extensions import db
    from .models import Notification

    since = dt.datetime.now() - dt.timedelta(days=max_age_days)
    ids = [
        nid
        for (nid,) in db.session.query(Notification.id).filter(
            Notification.delivered_at.is_(None), Notification.send_sms.is_(True), Notification.created_at >= since
        )
    ]
    return sum(len(batch) for batch in batches(ids) if enqueue(deliver_notifications, batch))


@_in_app
def export_dossiers(token, project_ids):
    """一企一档: write the .zip of an export started in the UI (progress and output on disk, zsdx.dossier)."""
    from .dossier import run_export

    return run_export(token, project_ids)


@_in_app
def recount_dashboard(locale, town, citywide):
    """数据看板: count the figures of a scope whose snapshot has expired (zsdx.dashboard.recount)."""
    from .dashboard import recount

    recount(locale, town, citywide)


@_in_app
def send_reminders():
    """Scheduled (rq cron, or the in-process ticker): remind reviewers of overdue records."""
    from .notifications import deliver_pending
    from .workflow import send_reminders as remind

    sent = remind()
    deliver_pending()
    return sent


# --- embedded default: no Redis, so no rq cron; a daemon thread ticks instead -----------------------
_ticker = {"started": False}


def start_inprocess_ticker(app):
    """Run the scheduled jobs in a daemon thread (embedded default only; started on the first request)."""
    import threading
    import time

    if _ticker["started"]:
        return
    _ticker["started"] = True
    interval = app.config["REMINDER_INTERVAL_SECONDS"]

    def loop():
        while True:
            time.sleep(interval)
            try:
                with app.app_context():
                    send_reminders()
                    retry_undelivered()
            except Exception:  # keep ticking; the next run retries
                log.exception("scheduled jobs failed")

    threading.Thread(target=loop, name="zsdx-ticker", daemon=True).start()
