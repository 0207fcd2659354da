"""Notification delivery (SPEC §3.9): rows written in the action's transaction; SMS delivery runs as an RQ
job, or in-process when no Redis is configured; a Redis outage loses nothing and `flask zsdx
deliver-pending` delivers later. The Redis tests use a real Redis and a real `rq worker` subprocess."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from conftest import TEST_DATABASE_URL
from flask import Response
from helpers import fast_password_hashes  # noqa: F401  (autouse: cheap hashes in this module)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RQ = os.path.join(os.path.dirname(sys.executable), "rq")
DEAD_REDIS = "redis://127.0.0.1:6390/0"


@pytest.fixture()
def config(app):
    """Set app.config keys for one test and put them back afterwards."""
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_
    app.config.update(saved)


def _notify_in_a_request(app, user_id, text):
    """What an action does: notify() in its transaction, commit, the after_request hook takes the ids, and the
    server's close() of the sent response hands them over."""
    from zsdx.extensions import db
    from zsdx.models import ZsdxUser
    from zsdx.notifications import notify

    with app.test_request_context("/review/", method="POST"):
        note = notify(db.session.get(ZsdxUser, user_id), "review", text)
        db.session.commit()
        note_id = note.id
        response = app.process_response(Response("ok"))  # runs the after_request hooks
        assert response.status_code == 200
    response.close()  # what the WSGI server does once the response is sent (outside the request's context)
    return note_id


def _note(app, note_id):
    from zsdx.extensions import db
    from zsdx.models import Notification

    with app.app_context():
        n = db.session.get(Notification, note_id)
        return {"delivered_at": n.delivered_at, "attempts": n.delivery_attempts, "text": n.text, "is_read": n.is_read}


def test_without_redis_the_sms_is_sent_in_process(app, factory, sms, config):
    config(REDIS_URL="")
    user = factory.enterprise_user()
    text = f"您好，您提交的测试项目备案审核，镇街审核已通过 {uuid.uuid4().hex[:6]}"
    note_id = _notify_in_a_request(app, user["id"], text)
    assert sms.texts(user["phone"]) == [text]
    note = _note(app, note_id)
    assert note["delivered_at"] is not None and note["attempts"] == 1


def test_a_rolled_back_action_sends_nothing(app, factory, sms, config):
    from zsdx.extensions import db
    from zsdx.models import Notification, ZsdxUser
    from zsdx.notifications import notify

    config(REDIS_URL="")
    user = factory.enterprise_user()
    with app.test_request_context("/review/", method="POST"):
        notify(db.session.get(ZsdxUser, user["id"]), "review", "不应发送")
        db.session.rollback()
        app.process_response(Response("ok"))
        assert db.session.query(Notification).filter_by(user_id=user["id"]).count() == 0
    assert sms.texts(user["phone"]) == []


def test_delivery_happens_once(app, factory, sms, config):
    from zsdx.jobs import deliver_notification

    config(REDIS_URL="")
    user = factory.enterprise_user()
    note_id = _notify_in_a_request(app, user["id"], "只发一次")
    with app.app_context():
        deliver_notification(note_id)
    assert sms.texts(user["phone"]) == ["只发一次"]


class _FlakyGateway:
    """An SMS gateway that refuses one number (the others get through)."""

    refused = None

    def send(self, phone, text):
        if phone == _FlakyGateway.refused:
            raise ConnectionError("gateway down for this number")
        import logging

        logging.getLogger("zsdx.sms").info("SMS to %s: %s", phone, text)


def test_a_delivery_batch_sends_each_once_and_goes_on_past_a_failure(app, factory, sms, config, monkeypatch):
    """One job delivers a batch (one job per notification capped a worker far below 10,000 in 30 s): each is
    sent once, a failure leaves only that row undelivered for deliver-pending, a repeat sends nothing."""
    from zsdx.extensions import db
    from zsdx.jobs import deliver_notifications
    from zsdx.models import Notification

    config(REDIS_URL="")
    users = [factory.enterprise_user() for _ in range(3)]
    with app.app_context():
        ids = []
        for i, user in enumerate(users):
            note = Notification(user_id=user["id"], kind="review", text=f"批量{i}", send_sms=True)
            db.session.add(note)
            db.session.flush()
            ids.append(note.id)
        db.session.commit()
    _FlakyGateway.refused = users[1]["phone"]
    monkeypatch.setattr("zsdx.sms.get_backend", lambda: _FlakyGateway())
    with app.app_context():
        assert deliver_notifications(ids) == 2
        assert deliver_notifications(ids) == 0  # the delivered ones are not sent again
        undelivered = [
            n.id for n in db.session.query(Notification).filter(Notification.id.in_(ids)) if not n.delivered_at
        ]
    assert undelivered == [ids[1]]
    assert sms.texts(users[0]["phone"]) == ["批量0"] and sms.texts(users[2]["phone"]) == ["批量2"]
    assert sms.texts(users[1]["phone"]) == []


# --- with Redis --------------------------------------------------------------------------------------
def _redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: the RQ path is tested where Redis runs (CI's production shape)")
    return url


def _run_worker(redis_url, queue):
    env = dict(
        os.environ,
        DATABASE_URL=TEST_DATABASE_URL,
        CAPTCHA_ENABLED="0",
        RQ_QUEUE=queue,
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return subprocess.Popen(
        [RQ, "worker", "-w", "zsdx.worker.ZsdxWorker", "--burst", "--url", redis_url, queue],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_delivered(app, note_ids, worker, timeout=60):
    """Poll the database until the worker has delivered the notes; then let it stop (warm shutdown: a
    `deliver-pending` may have queued other tests' undelivered rows too) and return its log."""
    deadline = time.time() + timeout
    while time.time() < deadline and worker.poll() is None:
        if all(_note(app, n)["delivered_at"] is not None for n in note_ids):
            break
        time.sleep(0.2)
    if worker.poll() is None:
        worker.terminate()
    try:
        out, _ = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, _ = worker.communicate()
    return out


def _queue_length(redis_url, queue):
    from redis import Redis
    from rq import Queue

    return len(Queue(queue, connection=Redis.from_url(redis_url)))


def _drop_queue(redis_url, queue):
    from redis import Redis
    from rq import Queue

    Queue(queue, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


def test_with_redis_the_job_is_enqueued_and_a_real_worker_delivers_it(app, factory, sms, config):
    redis_url = _redis_url()
    queue = f"zsdx-test-{uuid.uuid4().hex[:8]}"
    config(REDIS_URL=redis_url, RQ_QUEUE=queue)
    user = factory.enterprise_user()
    text = f"您好，您提交的测试项目备案审核，第三方审核已通过 {uuid.uuid4().hex[:6]}"
    try:
        note_id = _notify_in_a_request(app, user["id"], text)
        assert sms.texts(user["phone"]) == []  # not sent in the request …
        assert _note(app, note_id)["delivered_at"] is None
        assert _queue_length(redis_url, queue) == 1  # … but handed to RQ
        out = _wait_delivered(app, [note_id], _run_worker(redis_url, queue))
        note = _note(app, note_id)
        assert note["delivered_at"] is not None, out[-3000:]
        assert note["attempts"] == 1
        assert f"SMS to {user['phone']}: {text}" in out
    finally:
        _drop_queue(redis_url, queue)


def test_redis_outage_loses_nothing_and_deliver_pending_sends_later(app, factory, sms, config):
    redis_url = _redis_url()
    queue = f"zsdx-test-{uuid.uuid4().hex[:8]}"
    config(REDIS_URL=DEAD_REDIS, RQ_QUEUE=queue)
    user = factory.enterprise_user()
    text = f"您好，您提交的测试项目备案审核，市工信复审已通过 {uuid.uuid4().hex[:6]}"
    try:
        started = time.time()
        note_id = _notify_in_a_request(app, user["id"], text)  # the action itself succeeds
        assert time.time() - started < 10
        note = _note(app, note_id)
        assert note["text"] == text and note["delivered_at"] is None
        assert sms.texts(user["phone"]) == []

        # Redis is back: the operator (or cron) runs `flask zsdx deliver-pending`
        config(REDIS_URL=redis_url)
        result = app.test_cli_runner().invoke(args=["zsdx", "deliver-pending"])
        assert result.exit_code == 0, result.output
        assert _queue_length(redis_url, queue) >= 1
        out = _wait_delivered(app, [note_id], _run_worker(redis_url, queue))
        assert _note(app, note_id)["delivered_at"] is not None, out[-3000:]
        assert f"SMS to {user['phone']}: {text}" in out
    finally:
        _drop_queue(redis_url, queue)


def test_retry_undelivered_runs_in_process_without_redis(app, factory, sms, config):
    """The same recovery on the embedded default: no Redis, `deliver-pending` sends in-process."""
    from zsdx.jobs import retry_undelivered

    config(REDIS_URL=DEAD_REDIS)
    user = factory.enterprise_user()
    note_id = _notify_in_a_request(app, user["id"], "稍后补发")
    assert _note(app, note_id)["delivered_at"] is None
    config(REDIS_URL="")
    with app.app_context():
        assert retry_undelivered() >= 1
    assert _note(app, note_id)["delivered_at"] is not None
    assert sms.texts(user["phone"]) == ["稍后补发"]


def test_an_expired_dashboard_is_recounted_by_a_real_worker(app, factory, config):
    """数据看板 in the production shape: the request that finds its figures expired shows them and hands one
    recount to RQ (after its response); a real `rq worker` counts them and stores them for every node."""
    import datetime as dt

    from conftest import login
    from helpers_review import new_client

    from zsdx import dashboard
    from zsdx.extensions import db
    from zsdx.models import DashboardSnapshot

    redis_url = _redis_url()
    queue = f"zsdx-test-{uuid.uuid4().hex[:8]}"
    config(DASHBOARD_CACHE_SECONDS=60, DASHBOARD_STALE_SECONDS=300)
    dashboard.clear_cache(app)
    city = new_client(app)
    login(city, factory.user("市工信"))
    try:
        assert city.get("/dashboard/").status_code == 200  # counted in the request (nothing stored yet)
        with app.app_context():
            snapshot = db.session.get(DashboardSnapshot, "zh:city:1")
            snapshot.counted_at -= dt.timedelta(seconds=61)
            db.session.commit()
            expired = snapshot.counted_at
        dashboard.forget_in_process()
        config(REDIS_URL=redis_url, RQ_QUEUE=queue)
        assert city.get("/dashboard/").status_code == 200  # the expired figures, and a recount asked for
        assert _queue_length(redis_url, queue) == 1
        worker = _run_worker(redis_url, queue)
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, out[-3000:]
        assert "recount_dashboard" in out, out[-3000:]
        with app.app_context():
            db.session.expire_all()
            snapshot = db.session.get(DashboardSnapshot, "zh:city:1")
            assert snapshot.counted_at > expired + dt.timedelta(seconds=60) and snapshot.recount_since is None
    finally:
        _drop_queue(redis_url, queue)
        dashboard.clear_cache(app)
