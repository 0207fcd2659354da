"""A Redis outage never loses or blocks a review action (SPEC §3.9): the action commits with its
notifications undelivered; once Redis is back, `retry_undelivered` re-queues them and a real `rq worker`
delivers them.

Runs only where Redis is part of the set-up (REDIS_URL in the environment, as in CI); it starts its own
redis-server on a free port so that stopping it disturbs nobody.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
from conftest import TEST_DATABASE_URL
from helpers_review import (
    act_http,
    client_for,
    filing_state,
    make_filing,
    make_town,
    notes_of,
)

from zsdx.extensions import db
from zsdx.models import Notification

pytestmark = pytest.mark.skipif("REDIS_URL" not in os.environ, reason="needs Redis (REDIS_URL set, as in CI)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RQ = os.path.join(os.path.dirname(sys.executable), "rq")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, port, workdir):
        self.port, self.workdir, self.proc = port, workdir, None

    def start(self):
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _ping(self.port):
            assert self.proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not come up"
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        assert not _ping(self.port)


@pytest.fixture()
def own_redis(tmp_path):
    server = RedisServer(_free_port(), str(tmp_path))
    server.start()
    yield server
    server.stop()


def _delivered(app, ids):
    with app.app_context():
        rows = db.session.query(Notification.id, Notification.delivered_at).filter(Notification.id.in_(ids)).all()
        db.session.rollback()  # end the read: SQLite must not keep the worker's writes waiting
        return {nid: at for nid, at in rows}


def test_review_action_survives_a_redis_outage_and_notifications_are_delivered_later(
    app, factory, own_redis, monkeypatch, tmp_path
):
    # The last step (市工信复审): its outcome is told to the enterprise's users only (two of them here), so
    # the worker has few jobs; a 镇街 approval would also notify every 第三方 user of the shared database.
    t = make_town(app)
    org = factory.org("enterprise", t["code"])
    ent, colleague = factory.user("企业", org=org), factory.user("企业", org=org)
    reviewer = factory.user("市工信")
    pk = make_filing(app, ent, step="city", project_name="断网测试项目")
    rc = client_for(app, reviewer)
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    queue = f"zsdx-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "RQ_QUEUE", queue)

    own_redis.stop()  # the outage
    token_page = rc.get(f"/review/filing/{pk}")
    assert token_page.status_code == 200
    started = time.monotonic()
    resp = act_http(rc, pk, "approve", "同意", token_from=f"/review/filing/{pk}")
    elapsed = time.monotonic() - started
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/review/?subject=filing")
    assert elapsed < 10, f"the review action waited {elapsed:.1f}s on the missing Redis"
    state = filing_state(app, pk)
    assert state["status"] == "done" and state["filing_no"] and state["filing_no"][6:10] == t["code"]
    notes = notes_of(app, ent, "review", f"/filing/{pk}") + notes_of(app, colleague, "review", f"/filing/{pk}")
    assert len(notes) == 2, notes
    assert all(n["delivered_at"] is None for n in notes)
    ids = [n["id"] for n in notes]

    own_redis.start()  # Redis is back, on the same port
    from zsdx.jobs import retry_undelivered

    with app.app_context():
        handed = retry_undelivered()
    assert handed >= len(ids)
    assert all(at is None for at in _delivered(app, ids).values())  # queued, not yet run

    env = dict(
        os.environ,
        DATABASE_URL=TEST_DATABASE_URL,
        CAPTCHA_ENABLED="0",
        REDIS_URL=url,
        RQ_QUEUE=queue,
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    log_path = tmp_path / "worker.log"  # a file, not a pipe: a chatty worker must never block on a full pipe
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [RQ, "worker", "-w", "zsdx.worker.ZsdxWorker", "--burst", "--url", url, queue],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            delivered = _delivered(app, ids)
            if all(at is not None for at in delivered.values()):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"not delivered within 30 s: {delivered}\n--- worker output ---\n"
                    f"{log_path.read_text(errors='replace')[-4000:]}"
                )
            time.sleep(0.2)
        assert worker.wait(30) == 0, log_path.read_text(errors="replace")[-4000:]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(5)
    with app.app_context():
        attempts = [n.delivery_attempts for n in db.session.query(Notification).filter(Notification.id.in_(ids))]
    assert attempts == [1, 1]  # delivered once each, not twice
