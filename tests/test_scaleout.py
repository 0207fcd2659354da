"""Scale-out, shown rather than claimed (issue 12, docs/deploy.md): two app nodes (two gunicorn instances
on two ports of this machine, 2 workers each) behind one proxy, sharing one PostgreSQL database, Redis,
SECRET_KEY and the file store (a temp folder: the "shared mount"), and two `rq worker` processes on one
queue.

A user logs in on node A and saves a 项目备案 draft with its 授权委托书 upload there; node B then accepts
the session and the CSRF token obtained on A, submits the filing and serves the upload byte for byte; the
per-login-name rate limit counted on A refuses on B; round-robin through the proxy lands on both nodes.
Then two workers drain the deliveries of the submission's notifications plus 200 more, each queued twice
(as when `flask zsdx deliver-pending` runs while the first jobs wait): every SMS is sent exactly once and
none is lost.

Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); skipped otherwise, like tests/test_jobs.py.
This module imports neither conftest nor zsdx at import time: the workers import SlowLogSmsBackend from it.
"""

import http.client
import http.server
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import servers

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
SECRET_KEY = "zsdx-scaleout-shared-secret-key-not-for-production-0123456789"
DEMO_PASSWORD = "Zsdx@2026"
ENTERPRISE = "13800000001"  # the demo enterprise (zsdx/seed.py DEMO_USERS)
TOWN_REVIEWER = "13800000005"
START_TIMEOUT = 60
N_MESSAGES = 200
SMS_LINE = re.compile(r"SMS to (\d+): (.*)")
_CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class SlowLogSmsBackend:
    """zsdx.sms.LogSmsBackend as a slow gateway (20 ms a message): it widens the window in which two workers
    holding the same notification would both send it, were delivery not exactly-once. (zsdx.sms is not
    imported here: a logger made before the migrations' fileConfig would be disabled for the whole run.)"""

    def send(self, phone, text):
        time.sleep(0.02)
        logging.getLogger("zsdx.sms").info("SMS to %s: %s", phone, text)


def _needs_postgres_and_redis():
    if not os.environ.get("DATABASE_URL", "").startswith(("postgresql", "postgres://")):
        pytest.skip("DATABASE_URL is not PostgreSQL: several nodes share a PostgreSQL server")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: several nodes share Redis (CI's production shape)")


# --- the proxy -----------------------------------------------------------------------------------------
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def make_proxy(backends):
    """A minimal threaded reverse proxy: `X-Zsdx-Node: a|b` picks the backend, else round-robin; each
    response says which node served it (X-Zsdx-Backend). Bodies are buffered (small test requests)."""
    names = sorted(backends)
    turn = itertools.cycle(names)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _forward(self):
            name = self.headers.get("X-Zsdx-Node")
            if name not in backends:
                with lock:
                    name = next(turn)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"x-zsdx-node"}}
            headers["X-Forwarded-For"] = self.client_address[0]
            host, port = backends[name]
            conn = http.client.HTTPConnection(host, port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status, resp.reason)
                for key, value in resp.getheaders():  # every Set-Cookie kept
                    if key.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Zsdx-Backend", name)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="zsdx-test-proxy", daemon=True).start()
    return server


# --- the cluster ---------------------------------------------------------------------------------------
class Cluster:
    def __init__(self, tmp, env, database_url, proxy_url, nodes, logs):
        self.tmp, self.env, self.database_url = tmp, env, database_url
        self.proxy_url, self.nodes, self.logs = proxy_url, nodes, logs
        self.engine = None

    def db(self):
        if self.engine is None:
            from sqlalchemy import create_engine

            self.engine = create_engine(self.database_url)
        return self.engine

    def start_worker(self, name):
        log_path = os.path.join(self.tmp, f"worker-{name}.log")
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [
                    BIN / "rq",
                    "worker",
                    "-w",
                    "zsdx.worker.ZsdxWorker",
                    "--url",
                    self.env["REDIS_URL"],
                    self.env["RQ_QUEUE"],
                ],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return proc, log_path


@pytest.fixture(scope="module")
def cluster():
    _needs_postgres_and_redis()
    from dbutil import fresh_database_url

    tmp = tempfile.mkdtemp(prefix=f"zsdx-scaleout-{WORKER}-")
    shared = os.path.join(tmp, "shared")  # the shared mount: the file store (uploads, 一企一档 exports)
    run_id = uuid.uuid4().hex[:8]
    database_url = fresh_database_url(f"zsdx_scaleout_{WORKER}", os.path.join(tmp, "unused.db"))
    env = dict(os.environ)
    for key in ("FLASK_RUN_PORT", "FLASK_DEBUG", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"):
        env.pop(key, None)
    env.update(
        FLASK_APP="app.py",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ["REDIS_URL"],
        RQ_QUEUE=f"zsdx-scaleout-{run_id}",
        SECRET_KEY=SECRET_KEY,
        CAPTCHA_ENABLED="0",
        FILE_STORE="local",
        UPLOAD_FOLDER=os.path.join(shared, "files"),
        RATELIMIT_KEY_PREFIX=f"zsdx-scaleout-{run_id}",
        AUTH_LOGIN_NAME_RATE_LIMIT="3 per minute",
        SMS_BACKEND="test_scaleout.SlowLogSmsBackend",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        # the repo first; tests/ last, for SMS_BACKEND above only
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", ""), str(TESTS)) if p),
    )
    setup_log = os.path.join(tmp, "setup.log")
    for args in (["db", "upgrade"], ["zsdx", "init"], ["zsdx", "seed-demo"]):
        servers.run([BIN / "flask", *args], env, setup_log)

    procs, nodes, logs = [], {}, {"setup": setup_log}
    proxy = None
    try:
        for name in ("a", "b"):
            port = servers.free_port()
            log_path = os.path.join(tmp, f"node-{name}.log")
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [BIN / "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket", "app:app"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            procs.append(proc)
            nodes[name] = ("127.0.0.1", port)
            logs[name] = log_path
        for name, proc in zip(("a", "b"), procs, strict=True):
            servers.wait_until_up(proc, "http://{}:{}/login/".format(*nodes[name]), logs[name], START_TIMEOUT)
        proxy = make_proxy(nodes)
        c = Cluster(tmp, env, database_url, f"http://127.0.0.1:{proxy.server_address[1]}", nodes, logs)
        yield c
        if c.engine is not None:
            c.engine.dispose()
    finally:
        if proxy is not None:
            proxy.shutdown()
            proxy.server_close()
        for proc in procs:
            servers.stop(proc)
        _drop_queue(env["REDIS_URL"], env["RQ_QUEUE"])
        shutil.rmtree(tmp, ignore_errors=True)


def _drop_queue(redis_url, queue):
    from redis import Redis
    from rq import Queue

    Queue(queue, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


# --- a browser-like client through the proxy -------------------------------------------------------------
class Browser:
    """One cookie jar; each request names the node it must reach through the proxy (None: round-robin)."""

    def __init__(self, base):
        import requests

        self.base = base
        self.session = requests.Session()

    def request(self, method, path, node=None, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if node:
            headers["X-Zsdx-Node"] = node
        resp = self.session.request(method, self.base + path, headers=headers, allow_redirects=False, timeout=60, **kw)
        if node:
            assert resp.headers.get("X-Zsdx-Backend") == node
        return resp

    def get(self, path, node=None, **kw):
        return self.request("GET", path, node, **kw)

    def post(self, path, node=None, **kw):
        return self.request("POST", path, node, **kw)


def csrf_of(html):
    m = _CSRF.search(html) or _META.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def _login(browser, phone, password, node):
    token = csrf_of(browser.get("/login/", node).text)
    data = {"pw-csrf_token": token, "pw-mode": "password", "mode": "password", "pw-phone": phone}
    data |= {"pw-password": password, "pw-captcha": ""}
    return browser.post("/login/", node, data=data)


def _filing_form(cluster, pk):
    from sqlalchemy import text

    with cluster.db().connect() as conn:
        credit_code, town_id = conn.execute(
            text("SELECT ent_credit_code, town_id FROM zs_filing WHERE id = :id"), {"id": pk}
        ).one()
        category = conn.execute(text("SELECT id FROM zs_product_category WHERE level = 3 ORDER BY id LIMIT 1")).scalar()
    return {
        "ent_name": "中山市示例智能制造有限公司",
        "ent_credit_code": credit_code,
        "town_id": str(town_id),
        "ent_nature": "private",
        "ent_category": "above",
        "ent_scale": "small",
        "product_category_id": str(category),
        "industry_id": "1",
        "quality_levels": ["innovative"],
        "ent_address": "中山市小榄镇工业大道1号",
        "employees_total": "120",
        "employees_digital": "12",
        "ent_description": "主要生产五金制品。",
        "project_name": "多节点部署测试项目",
        "project_summary": "建设MES系统",
        "build_address": "中山市小榄镇工业大道1号",
        "planned_investment": "80.5",
        "start_date": "2026-01-01",
        "end_date": "2026-09-30",
        "target_level": "3",
        "diagnosis_method": "self",
        "intended_industry_provider": "中山市数智云服务有限公司",
        "intended_scenario_provider": "中山市数智云服务有限公司",
        "chain_leader": "0",
    }


def test_log_in_and_upload_on_one_node_and_be_served_by_the_other(cluster):
    from sqlalchemy import text

    browser = Browser(cluster.proxy_url)
    assert _login(browser, ENTERPRISE, DEMO_PASSWORD, "a").status_code == 302

    # on A: a new 项目备案 draft, saved with its 授权委托书
    page = browser.get("/workbench/?group=projects&tab=filing", "a")
    assert page.status_code == 200, page.status_code
    resp = browser.post("/filing/new", "a", data={"csrf_token": csrf_of(page.text)})
    assert resp.status_code == 302, resp.text[:2000]
    pk = int(resp.headers["Location"].rstrip("/").split("/")[-2])
    edit = browser.get(f"/filing/{pk}/edit", "a")
    assert edit.status_code == 200
    token_from_a = csrf_of(edit.text)
    pdf = PDF + f"%{uuid.uuid4().hex}\n".encode()
    form = _filing_form(cluster, pk)
    resp = browser.post(
        f"/filing/{pk}/edit",
        "a",
        data=dict(form, csrf_token=token_from_a, action="save"),
        files={"authorization_file": ("授权委托书.pdf", pdf, "application/pdf")},
    )
    assert resp.status_code == 302, resp.text[:2000]

    # on B: the session made on A is valid, and the CSRF token issued by A is accepted: submit there
    assert browser.get(f"/filing/{pk}/edit", "b").status_code == 200
    resp = browser.post(f"/filing/{pk}/edit", "b", data=dict(form, csrf_token=token_from_a, action="submit"))
    assert resp.status_code == 302, resp.text[:3000]
    with cluster.db().connect() as conn:
        status, file_id = conn.execute(
            text("SELECT status, authorization_file_id FROM zs_filing WHERE id = :id"), {"id": pk}
        ).one()
    assert status != "draft" and file_id is not None

    # the upload made on A downloads from B, byte for byte, with its name
    download = browser.get(f"/filing/{pk}/file/authorization", "b")
    assert download.status_code == 200 and download.content == pdf
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    # round-robin through the proxy: both nodes serve the same session and the same file
    served = set()
    for _ in range(4):
        resp = browser.get(f"/filing/{pk}/file/authorization")
        assert resp.status_code == 200 and resp.content == pdf
        served.add(resp.headers["X-Zsdx-Backend"])
    assert served == {"a", "b"}


def test_rate_limits_are_counted_across_nodes(cluster):
    """AUTH_LOGIN_NAME_RATE_LIMIT is 3 per minute here: three wrong passwords on A, the fourth try on B is
    refused (with per-process counters B would have let it through)."""
    browser = Browser(cluster.proxy_url)
    for i in range(3):
        resp = _login(browser, TOWN_REVIEWER, "Wrong@2026x", "a")
        assert resp.status_code == 200, (i, resp.status_code)
    resp = _login(browser, TOWN_REVIEWER, DEMO_PASSWORD, "b")
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1


def test_two_workers_deliver_every_message_exactly_once(cluster):
    import datetime as dt

    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry
    from sqlalchemy import text

    from zsdx.jobs import deliver_notification

    run = uuid.uuid4().hex[:6]
    now = dt.datetime.now()
    with cluster.db().begin() as conn:
        users = conn.execute(text("SELECT id, phone FROM ab_user WHERE phone LIKE '1380000000%' ORDER BY id")).all()
        assert len(users) >= 5
        ids = []
        for i in range(N_MESSAGES):
            user_id, _ = users[i % len(users)]
            ids.append(
                conn.execute(
                    text(
                        "INSERT INTO zs_notification (user_id, kind, text, is_read, created_at, send_sms, "
                        "delivery_attempts) VALUES (:u, 'review', :t, false, :now, true, 0) RETURNING id"
                    ),
                    {"u": user_id, "t": f"多节点测试 {run} 第{i}条", "now": now},
                ).scalar()
            )
        # the notifications of the submission in the first test (queued by the node that handled it) count too
        pending = [
            nid
            for (nid,) in conn.execute(
                text("SELECT id FROM zs_notification WHERE send_sms AND delivered_at IS NULL AND NOT (id = ANY(:ids))"),
                {"ids": ids},
            )
        ]
    all_ids = ids + pending

    redis = Redis.from_url(cluster.env["REDIS_URL"])
    queue = Queue(cluster.env["RQ_QUEUE"], connection=redis)
    for nid in ids:  # each id queued twice, back to back: the two workers race for the same row
        queue.enqueue(deliver_notification, nid)
        queue.enqueue(deliver_notification, nid)
    for nid in pending:
        queue.enqueue(deliver_notification, nid)

    workers = [cluster.start_worker(name) for name in ("1", "2")]
    try:
        deadline = time.monotonic() + 180
        while True:
            with cluster.db().connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM zs_notification WHERE id = ANY(:ids) AND delivered_at IS NULL"),
                    {"ids": all_ids},
                ).scalar()
            if not left and len(queue) == 0 and StartedJobRegistry(queue=queue).count == 0:
                break
            for proc, log_path in workers:
                assert proc.poll() is None, servers.tail(log_path)
            if time.monotonic() > deadline:
                pytest.fail(f"{left} not delivered within 180 s:\n" + "\n".join(servers.tail(p) for _, p in workers))
            time.sleep(0.3)
    finally:
        for proc, _ in workers:
            servers.stop(proc, timeout=30)

    with cluster.db().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT n.id, u.phone, n.text, n.delivered_at, n.delivery_attempts FROM zs_notification n "
                "JOIN ab_user u ON u.id = n.user_id WHERE n.id = ANY(:ids)"
            ),
            {"ids": all_ids},
        ).all()
    assert len(rows) == len(all_ids)
    assert all(r.delivered_at is not None and r.delivery_attempts == 1 for r in rows)

    sent = Counter()  # (phone, text) → SMS lines in the two workers' logs
    per_worker = []
    for _, log_path in workers:
        lines = [m.groups() for m in map(SMS_LINE.search, Path(log_path).read_text(errors="replace").splitlines()) if m]
        per_worker.append(len(lines))
        sent.update(lines)
    expected = Counter((r.phone, r.text) for r in rows)
    lost = {k: n for k, n in expected.items() if sent[k] < n}
    twice = {k: sent[k] for k, n in expected.items() if sent[k] > n}
    assert not lost, f"never sent: {list(lost)[:5]}"
    assert not twice, f"sent more than once: {list(twice.items())[:5]}"
    assert all(n > 0 for n in per_worker), per_worker  # both workers drained the queue
