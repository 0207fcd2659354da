"""A Redis that hangs never holds a response up (issue 12): the notifications a request commits are handed to
RQ only after the response has been sent (response.call_on_close), so the user gets the answer at once while
the hand-over waits on Redis; when it gives up, the rows stay undelivered for `flask zsdx deliver-pending`.

Measured from the user's side: the app runs in a real HTTP server (Werkzeug's, threaded) and the action is
posted over a socket; "Redis" is a socket server that accepts connections and never answers."""

import http.client
import logging
import socket
import threading
import time
import urllib.parse

import pytest
from conftest import csrf_from
from helpers_review import client_for, filing_state, make_filing, make_town, notes_of
from werkzeug.serving import make_server


class HungRedis:
    """Accepts TCP connections (so the connect timeout never fires), reads nothing, answers nothing."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, name="hung-redis", daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # held open and silent

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture()
def hung_redis():
    server = HungRedis()
    yield server
    server.close()


@pytest.fixture()
def live_app(app):
    """The app behind a real HTTP server on a free port (responses are sent, then closed, as in production)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_a_hung_redis_does_not_hold_up_the_response(app, factory, hung_redis, live_app, monkeypatch, caplog):
    from zsdx.extensions import db
    from zsdx.jobs import deliver_notifications
    from zsdx.models import Notification

    caplog.set_level(logging.WARNING, logger="zsdx.jobs")
    t = make_town(app)
    org = factory.org("enterprise", t["code"])
    ent, colleague = factory.user("企业", org=org), factory.user("企业", org=org)
    pk = make_filing(app, ent, step="city", project_name="Redis挂起测试项目")
    browser = client_for(app, factory.user("市工信"))  # signs in; its session cookie is used over the socket
    token = csrf_from(browser.get(f"/review/filing/{pk}").get_data(as_text=True))
    cookie = browser.get_cookie("session").value
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{hung_redis.port}/0")

    body = urllib.parse.urlencode({"csrf_token": token, "action": "approve", "opinion": "同意"})
    conn = http.client.HTTPConnection("127.0.0.1", live_app, timeout=60)
    started = time.monotonic()
    conn.request(
        "POST",
        f"/review/filing/{pk}/act",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"session={cookie}"},
    )
    resp = conn.getresponse()
    resp.read()
    elapsed = time.monotonic() - started
    print(f"the response came in {elapsed:.3f} s")
    conn.close()
    assert resp.status == 302 and resp.getheader("Location").endswith("/review/?subject=filing")
    assert elapsed < 1.0, f"the response waited {elapsed:.2f} s on the hung Redis"
    assert filing_state(app, pk)["status"] == "done"

    # after the response, the server's close() hands the notifications over: it reaches the hung Redis and
    # gives up (socket timeout); nothing is lost, the rows wait for deliver-pending
    deadline = time.monotonic() + 60
    while not any("could not enqueue" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the hand-over never happened"
        time.sleep(0.1)
    assert hung_redis.accepted, "the hand-over did not try Redis"
    notes = notes_of(app, ent, "review", f"/filing/{pk}") + notes_of(app, colleague, "review", f"/filing/{pk}")
    assert len(notes) == 2 and all(n["delivered_at"] is None for n in notes), notes

    # what deliver-pending's job does with them later: each sent once
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    with app.app_context():
        assert deliver_notifications([n["id"] for n in notes]) == 2
        attempts = [
            n.delivery_attempts
            for n in db.session.query(Notification).filter(Notification.id.in_([n["id"] for n in notes]))
        ]
    assert attempts == [1, 1]


def test_a_file_response_hands_over_when_the_server_closes_it(app, factory, sms, monkeypatch):
    """send_file streams a file the server closes itself (direct passthrough, no response.close()): the
    hand-over rides on that close, after the last byte, and the file is still closed."""
    import io

    from flask import send_file

    from zsdx.extensions import db
    from zsdx.models import ZsdxUser
    from zsdx.notifications import notify

    monkeypatch.setitem(app.config, "REDIS_URL", "")  # in-process: the hand-over sends the SMS itself
    user = factory.enterprise_user()
    data = io.BytesIO(b"x" * 100)
    with app.test_request_context("/review/export.xlsx"):
        notify(db.session.get(ZsdxUser, user["id"]), "review", "文件响应之后发送")
        db.session.commit()
        response = app.process_response(send_file(data, mimetype="application/octet-stream"))
        body = response.get_wsgi_response(dict(app.test_request_context().request.environ))[0]
    assert b"".join(body) == b"x" * 100
    assert sms.texts(user["phone"]) == []  # sent, not yet closed
    body.close()  # the server, after the last byte
    assert sms.texts(user["phone"]) == ["文件响应之后发送"] and data.closed
