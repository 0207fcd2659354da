"""Browser walkthrough fixtures: the real app served by gunicorn (the production shape) in a subprocess
on its own fresh database, driven by Playwright with Debian's chromium.

`live_server` (session): base_url, server_log(), log_mark(), last_sms_code(phone).
`browser` (session) and `page` (per test: a new context, 1300x900, zh-CN; a screenshot goes to
test-artifacts/<test>.png when the test fails).

Database: DATABASE_URL=postgresql://… → a database zsdx_e2e_<xdist worker> (dropped and created);
otherwise a SQLite file in a temp dir. REDIS_URL set → jobs go to RQ and an `rq worker` runs them on a
queue of its own.
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import servers

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
ARTIFACTS = REPO / "test-artifacts"
SECRET_KEY = "zsdx-e2e-secret-key-not-for-production-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT = 30
SMS_LINE = re.compile(r"SMS to (\d+): (.*)")
SMS_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e is an e2e test (`-m "not e2e"` skips the browser)."""
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# --- the served app ---------------------------------------------------------------------------------
def _database_url(tmp):
    from dbutil import fresh_database_url

    return fresh_database_url(f"zsdx_e2e_{WORKER}", os.path.join(tmp, "e2e.db"))


def _compile_catalog(env):
    """The catalog is maintained alongside: compile what is there now (a failure leaves the old .mo).
    Under a lock and only when the .po is newer, so that parallel workers never serve a half-written .mo."""
    po = REPO / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return
    mo = po.with_suffix(".mo")
    with open(os.path.join(tempfile.gettempdir(), "zsdx-e2e-pybabel.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            return
        subprocess.run(
            [BIN / "pybabel", "compile", "-f", "-d", "translations", "-D", "messages"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


class LiveServer:
    def __init__(self, base_url, log_path, env):
        self.base_url = base_url
        self.log_path = Path(log_path)
        self.env = env

    def url(self, path="/"):
        return self.base_url + path

    def server_log(self):
        """Everything the app (gunicorn master and workers, the rq worker, the setup commands) logged."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_mark(self):
        """A position in the log; pass it as `since` to look only at what was logged after it."""
        return self.log_path.stat().st_size

    def sms_texts(self, phone, since=0):
        with open(self.log_path, "rb") as fh:
            fh.seek(since)
            text = fh.read().decode("utf-8", errors="replace")
        texts = []
        for line in text.splitlines():
            m = SMS_LINE.search(line)
            if m and m.group(1) == phone:
                texts.append(m.group(2))
        return texts

    def last_sms_code(self, phone, since=0, timeout=10):
        """The 6-digit code of the last SMS to `phone` (gunicorn workers log asynchronously: poll)."""
        deadline = time.monotonic() + timeout
        while True:
            for text in reversed(self.sms_texts(phone, since)):
                m = SMS_CODE.search(text)
                if m:
                    return m.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS code to {phone} in the server log {self.log_path}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def live_server(request):
    tmp = tempfile.mkdtemp(prefix=f"zsdx-e2e-{WORKER}-")
    log_path = os.path.join(tmp, "server.log")
    Path(log_path).touch()
    env = dict(os.environ)
    for key in ("REDIS_URL", "RQ_QUEUE", "FLASK_RUN_PORT", "FLASK_DEBUG"):
        env.pop(key, None)
    env.update(
        FLASK_APP="app.py",
        DATABASE_URL=_database_url(tmp),
        CAPTCHA_ENABLED="0",
        UPLOAD_FOLDER=os.path.join(tmp, "files"),
        LOG_LEVEL="INFO",
        SECRET_KEY=SECRET_KEY,
        PYTHONUNBUFFERED="1",
        # every browser request comes from 127.0.0.1: a per-run limiter namespace and room for the
        # walkthrough's SMS codes (the limits themselves are tested in tests/test_login.py, test_sms.py)
        RATELIMIT_KEY_PREFIX=f"zsdx-e2e-{uuid.uuid4().hex[:8]}",
        SMS_RATE_LIMIT="100 per minute",
        AUTH_RATE_LIMIT="200 per minute",
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
        env["RQ_QUEUE"] = f"zsdx-e2e-{WORKER}-{uuid.uuid4().hex[:8]}"

    _compile_catalog(env)
    for args in (["db", "upgrade"], ["zsdx", "init"], ["zsdx", "seed-demo"]):
        servers.run([BIN / "flask", *args], env, log_path)

    port = servers.free_port()
    base_url = f"http://127.0.0.1:{port}"
    procs = []
    with open(log_path, "ab") as log:
        try:
            if env.get("REDIS_URL"):
                procs.append(
                    subprocess.Popen(
                        [
                            BIN / "rq",
                            "worker",
                            "-w",
                            "zsdx.worker.ZsdxWorker",
                            "--url",
                            env["REDIS_URL"],
                            env["RQ_QUEUE"],
                        ],
                        cwd=REPO,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            server = subprocess.Popen(
                [BIN / "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket", "app:app"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            procs.append(server)
            servers.wait_until_up(server, base_url + "/", log_path, START_TIMEOUT)
            yield LiveServer(base_url, log_path, env)
        finally:
            for proc in reversed(procs):
                servers.stop(proc)
    if request.session.testsfailed:
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / f"server-{WORKER}.log")
    if not os.environ.get("ZSDX_E2E_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)


# --- the browser ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, live_server, request):
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(
        viewport={"width": 1300, "height": 900}, locale="zh-CN", base_url=live_server.base_url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except PlaywrightError as exc:  # a dead page must not hide the test's own failure
            print(f"screenshot failed: {exc}")
    context.close()


# --- the walkthroughs' demo users (tests/e2e/helpers.py Actors) -----------------------------------------
@pytest.fixture(scope="module")
def actors(browser, live_server):
    """The module's demo users, each in a browser context of their own, logged in once for the module."""
    from .helpers import Actors

    registry = Actors(browser, live_server)
    yield registry
    registry.close()


@pytest.fixture()
def watch_actors(request, actors):
    """Each test reports the English and the 5xx it saw itself; a failed test leaves a screenshot of every
    user's page (used by the walkthrough modules through `pytestmark`)."""
    from playwright.sync_api import Error as PlaywrightError

    for user in actors.by_phone.values():
        user.leaks.found.clear()
    actors.server_errors.clear()
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    for phone, user in actors.by_phone.items():
        try:
            user.page.screenshot(path=str(ARTIFACTS / f"{name}-{phone}.png"), full_page=True)
        except PlaywrightError as exc:
            print(f"screenshot of {phone} failed: {exc}")
