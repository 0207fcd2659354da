#!/usr/bin/env python3
"""Benchmark of the shared layer's slow pages (issue 7, "Shared-layer speed") against a bare Flask page.

(a) builds a PostgreSQL database (default zsdx_bench): `flask db upgrade`, `flask zsdx init`,
    `flask zsdx seed-demo`, `flask zsdx gen-load` (10,000 enterprises, 100,000 filings, 955,700
    notifications by default; about 2 minutes); with --reuse the database is kept as it is (only
    `flask db upgrade` of the served tree runs, so new indexes/migrations apply);
(b) serves the app with gunicorn (3 workers, 127.0.0.1, CAPTCHA_ENABLED=0, REDIS_URL unset unless --redis)
    and, in the same run, scripts/bare_page.py (gunicorn, 3 workers): the review queue's 20-row table from
    the same tables with plain SQLAlchemy Core and a minimal Jinja template;
(c) logs in through the phone/password form (/login/, CSRF token, cookies) as the demo accounts;
(d) times each page with sequential requests (--warmup excluded, --runs measured), prints median / p95 in
    ms and the ratio to the bare page, counts the SQL statements of one request of each page in-process
    (Flask test client of the served tree, after a warm-up request), and writes a Markdown table to --out.
Everything runs on 127.0.0.1; every loop is bounded; the gunicorn processes are stopped at the end, also
on errors and Ctrl-C.

The one command (after a first full run has built zsdx_bench; under 10 minutes):

    .venv/bin/python scripts/bench_pages.py --reuse --out /tmp/bench_after.md

First run (builds the database, ~2 min more):

    .venv/bin/python scripts/bench_pages.py --out /tmp/bench_before.md

Another tree against its own schema, e.g. the commit before the stage-framework migration (baseline):
copy the loaded database and downgrade the copy to that tree's migration head, then serve that tree:

    git worktree add --detach /work/baseline 2763527
    .venv/bin/python scripts/bench_pages.py --app-dir /work/baseline --db zsdx_bench_base \\
        --from-db zsdx_bench --downgrade fd31d1df5eb5 --out /tmp/bench_baseline.md

Options: --pg (server URL, default postgresql://postgres@127.0.0.1:5432), --db, --reuse, --from-db,
--downgrade, --app-dir (tree to serve; default this repository), --workers 3, --warmup 30, --runs 100,
--redis URL, --no-statements, --explain FILE (slowest statements per page with EXPLAIN ANALYZE plans),
gen-load sizes (--enterprises, --filings, --notifications, --seed).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from html import unescape as html_unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the venv this script runs in (a worktree may have none of its own), else the repository's .venv
VENV_BIN = os.path.dirname(sys.executable)
if not os.path.exists(os.path.join(VENV_BIN, "gunicorn")):
    VENV_BIN = os.path.join(ROOT, ".venv", "bin")
PASSWORD = "Zsdx@2026"
SECRET = "bench-" + "k" * 40
CITY, TOWN, THIRD, ADMIN = "13800000008", "13800000004", "13800000006", "13800000000"

# (label, account, path, a string the page must contain); "bare" is the bare page. A path (url, n) is the
# n-th page of url: reached by following its "next page" links when the page pages by keyset
# (`before=` cursor, id="page-next"), else url&page=n.
PAGES = [
    ("bare page (20-row table, plain Flask)", None, "/bare/", "<tr data-id="),
    ("市工信 我的工作台", CITY, "/workbench/", "</html>"),
    ("市工信 待办 list", CITY, "/notifications/?kind=todo", "</html>"),
    ("市工信 review queue, pending", CITY, "/review/?subject=filing", "<tr data-id="),
    ("市工信 已审核, page 1", CITY, "/review/?subject=filing&tab=done", "<tr data-id="),
    ("市工信 已审核, page 200", CITY, ("/review/?subject=filing&tab=done", 200), "<tr data-id="),
    ("第三方 review queue, pending", THIRD, "/review/?subject=filing", "<tr data-id="),
    ("镇街 (小榄镇) review queue, pending", TOWN, "/review/?subject=filing", "<tr data-id="),
    ("Admin user list", ADMIN, "/users/list/", "</table>"),
]

_procs = []


# --- processes -------------------------------------------------------------------------------------------
def log(msg):
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def run(cmd, cwd, env, timeout=1800):
    log("$ " + " ".join(cmd) + f"   (in {cwd})")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _procs.append(proc)
    try:
        for line in proc.stdout:  # streamed (gen-load prints its timings as it goes)
            if " INFO " not in line and not line.startswith("INFO "):
                print("    " + line.rstrip(), flush=True)
            if time.perf_counter() - start > timeout:
                proc.kill()
                raise SystemExit(f"command timed out after {timeout} s: {' '.join(cmd)}")
        proc.wait(timeout=60)
    finally:
        _procs.remove(proc)
    if proc.returncode:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return time.perf_counter() - start


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(module, cwd, env, port, workers, logfile):
    cmd = [
        os.path.join(VENV_BIN, "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        cwd,
        "--timeout",
        "120",
        "--log-level",
        "warning",
        module,
    ]
    log("$ " + " ".join(cmd))
    with open(logfile, "w") as fh:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    _procs.append(proc)
    return proc


def stop_all():
    for proc in _procs:
        if proc.poll() is None:
            try:
                if proc.args[0].endswith("gunicorn"):
                    os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's master and its workers: our own session
                else:
                    proc.terminate()
            except ProcessLookupError:
                continue
    for proc in _procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            if proc.args[0].endswith("gunicorn"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(timeout=10)
    _procs.clear()


def wait_ready(port, path, proc, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited ({proc.returncode}); see its log")
        try:
            status, _h, _b = request(port, "GET", path)
            if status in (200, 302):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn on port {port} not ready after {seconds} s")


# --- HTTP ---------------------------------------------------------------------------------------------------
def request(port, method, path, cookies=None, form=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if cookies is not None:
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, v = value.split(";", 1)[0].split("=", 1)
                cookies[k.strip()] = v.strip()
    conn.close()
    return resp.status, dict(resp.getheaders()), data.decode("utf-8", "replace")


def login(port, phone):
    cookies = {}
    status, _h, html = request(port, "GET", "/login/", cookies)
    m = re.search(r'name="pw-csrf_token"[^>]*value="([^"]+)"', html)
    if status != 200 or not m:
        raise SystemExit(f"no login form on /login/ ({status})")
    form = {
        "pw-csrf_token": m.group(1),
        "pw-mode": "password",
        "mode": "password",
        "pw-phone": phone,
        "pw-password": PASSWORD,
        "pw-captcha": "",
    }
    status, headers, _b = request(port, "POST", "/login/", cookies, form)
    if status != 302 or "/login" in headers.get("Location", ""):
        raise SystemExit(f"login of {phone} failed ({status})")
    return cookies


def measure(port, path, cookies, marker, warmup, runs):
    timings = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        status, _h, html = request(port, "GET", path, cookies)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200 or marker not in html:
            raise SystemExit(
                f"GET {path}: status {status}, marker {marker!r} {'found' if marker in html else 'missing'}"
            )
        if i >= warmup:
            timings.append(elapsed)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95


def resolve_page(port, cookies, path):
    """The URL of page n of a list: `page=n`, or n-1 "next page" (keyset cursor) links followed."""
    if isinstance(path, str):
        return path
    url, n = path
    status, _h, html = request(port, "GET", url, cookies)
    if status != 200:
        raise SystemExit(f"GET {url}: status {status}")
    if 'id="page-next"' not in html:
        return f"{url}&page={n}"
    for i in range(n - 1):  # bounded: n - 1 requests
        m = re.search(r'<a href="([^"]+)"[^>]*id="page-next"', html)
        if not m:
            raise SystemExit(f"{url}: only {i + 1} pages (wanted {n})")
        url = html_unescape(m.group(1))
        status, _h, html = request(port, "GET", url, cookies)
        if status != 200:
            raise SystemExit(f"GET {url}: status {status}")
    return url


# --- statement counts (in-process, run inside the served tree) ---------------------------------------------
def count_statements_main(pages_json, explain_out=None, explain_top=3):
    """`bench_pages.py --_count PAGES_JSON`, run with cwd = the served tree: statements per page, as JSON.

    With an explain file: the slowest statements of each page (timed in the request) with their
    EXPLAIN (ANALYZE, BUFFERS) plans."""
    sys.path.insert(0, os.getcwd())
    from sqlalchemy import event

    from zsdx import create_app
    from zsdx.extensions import db

    app = create_app({"RATELIMIT_ENABLED": False, "REDIS_URL": "", "CAPTCHA_ENABLED": False})
    with app.app_context():
        engine = db.engine
    out, slow = {}, {}
    clients = {}
    for label, phone, path in json.loads(pages_json):
        if phone not in clients:
            c = app.test_client()
            html = c.get("/login/").get_data(as_text=True)
            token = re.search(r'name="pw-csrf_token"[^>]*value="([^"]+)"', html).group(1)
            resp = c.post(
                "/login/",
                data={
                    "pw-csrf_token": token,
                    "pw-mode": "password",
                    "mode": "password",
                    "pw-phone": phone,
                    "pw-password": PASSWORD,
                    "pw-captcha": "",
                },
            )
            assert resp.status_code == 302, resp.status_code
            clients[phone] = c
        c = clients[phone]
        assert c.get(path).status_code == 200  # warm-up
        statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_t0"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany, statements=statements):
            statements.append(((time.perf_counter() - conn.info.pop("bench_t0")) * 1000, statement, parameters))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            assert c.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        out[label] = len(statements)
        slow[label] = (path, sorted(statements, key=lambda x: -x[0])[:explain_top], sum(x[0] for x in statements))
    print("STATEMENTS " + json.dumps(out, ensure_ascii=False))
    if not explain_out:
        return
    raw = engine.raw_connection()
    lines = []
    try:
        for label, (path, rows, total) in slow.items():
            lines.append(f"## {label} — `{path}`: {out[label]} statements, {total:.1f} ms in SQL (in-process)\n")
            for ms, statement, parameters in rows:
                cur = raw.cursor()
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(r[0] for r in cur.fetchall())
                cur.close()
                raw.rollback()
                lines.append(f"### {ms:.1f} ms in the request\n\n```sql\n{statement.strip()}\n-- {parameters!r}\n```\n")
                lines.append(f"```\n{plan}\n```\n")
    finally:
        raw.close()
    with open(explain_out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def short(path):
    """A URL for the table: a keyset cursor is shown as <cursor>."""
    return re.sub(r"before=[^&]+", "before=<cursor>", path)


def count_statements(app_dir, env, pages, explain):
    """Run count_statements_main in the served tree (a subprocess); {label: statements} or {} on failure."""
    spec = json.dumps([(label, phone, path) for label, phone, path, _m in pages if phone])
    extra = ["--explain", os.path.abspath(explain)] if explain else []
    proc = subprocess.run(
        [os.path.join(VENV_BIN, "python"), os.path.abspath(__file__), "--_count", spec] + extra,
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("STATEMENTS ")]
    if proc.returncode or not line:
        print(proc.stdout[-2000:], proc.stderr[-3000:])
        log("statement counting failed; going on without it")
        return {}
    return json.loads(line[0].split(" ", 1)[1])


# --- the database ------------------------------------------------------------------------------------------
def admin_connect(pg):
    import psycopg2

    url = urllib.parse.urlparse(pg)
    conn = psycopg2.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    return conn


def db_url(pg, name):
    return pg.rstrip("/") + "/" + name


def database_exists(pg, name):
    with admin_connect(pg) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None


def recreate_database(pg, name, template=None):
    if name in ("postgres", "template0", "template1") or name == template:
        raise SystemExit(f"refusing to recreate database {name}")
    conn = admin_connect(pg)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.close()


def data_sizes(url):
    import psycopg2

    conn = psycopg2.connect(url)
    out = {}
    with conn.cursor() as cur:
        for table in ("zs_organisation", "ab_user", "zs_filing", "zs_review_action", "zs_notification"):
            cur.execute(f"SELECT count(*) FROM {table}")
            out[table] = cur.fetchone()[0]
        cur.execute("SELECT version_num FROM alembic_version")
        out["alembic"] = ",".join(r[0] for r in cur.fetchall())
    conn.close()
    return out


def git_rev(path):
    try:
        rev = subprocess.run(
            ["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", path, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        return rev + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


# --- main --------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--_count", dest="count_pages", help=argparse.SUPPRESS)
    ap.add_argument(
        "--explain",
        metavar="FILE",
        help="write the slowest statements of each page with their EXPLAIN (ANALYZE, BUFFERS) plans to FILE (Markdown)",
    )
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--db", default="zsdx_bench")
    ap.add_argument("--reuse", action="store_true", help="keep the database (it already holds the load)")
    ap.add_argument("--from-db", help="create --db as a copy of this (loaded) database")
    ap.add_argument("--downgrade", help="after copying, `flask db downgrade` the copy to this revision")
    ap.add_argument("--app-dir", default=ROOT, help="the tree to serve (default: this repository)")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--redis", default="", help="REDIS_URL for the app (default: unset, embedded mode)")
    ap.add_argument("--no-statements", action="store_true")
    ap.add_argument("--enterprises", type=int, default=10_000)
    ap.add_argument("--filings", type=int, default=100_000)
    ap.add_argument("--notifications", type=int, default=955_700)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="bench_pages.md")
    args = ap.parse_args()
    if args.count_pages:
        return count_statements_main(args.count_pages, args.explain)
    if not (1 <= args.runs <= 10_000 and 0 <= args.warmup <= 10_000):
        raise SystemExit("--runs 1..10000, --warmup 0..10000")
    app_dir = os.path.abspath(args.app_dir)
    url = db_url(args.pg, args.db)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        CAPTCHA_ENABLED="0",
        SECRET_KEY=SECRET,
        LOG_LEVEL="WARNING",
        REDIS_URL=args.redis,
        FLASK_APP="app.py",
        REMINDER_INTERVAL_SECONDS="86400",
        ZSDX_SECURE_COOKIES="0",
        PYTHONPATH=app_dir,
    )
    env.pop("RATELIMIT_STORAGE_URI", None)
    flask = os.path.join(VENV_BIN, "flask")
    setup = {}
    for tree in {ROOT, app_dir}:  # the zh catalog is a build product (make setup): without it pages are English
        if not os.path.exists(os.path.join(tree, "translations", "zh", "LC_MESSAGES", "messages.mo")):
            run([os.path.join(VENV_BIN, "pybabel"), "compile", "-f", "-d", "translations", "-D", "messages"], tree, env)

    # (a) the database
    if args.from_db:
        log(f"copying database {args.from_db} -> {args.db}")
        start = time.perf_counter()
        recreate_database(args.pg, args.db, template=args.from_db)
        setup["copy"] = time.perf_counter() - start
        if args.downgrade:
            setup["downgrade"] = run([flask, "db", "downgrade", args.downgrade], ROOT, dict(env, PYTHONPATH=ROOT))
    elif args.reuse:
        if not database_exists(args.pg, args.db):
            raise SystemExit(f"--reuse: database {args.db} does not exist; run once without --reuse")
        setup["upgrade"] = run([flask, "db", "upgrade"], app_dir, env)
    else:
        log(f"creating database {args.db}")
        recreate_database(args.pg, args.db)
        root_env = dict(env, PYTHONPATH=ROOT)
        setup["upgrade"] = run([flask, "db", "upgrade"], ROOT, root_env)
        setup["init"] = run([flask, "zsdx", "init"], ROOT, root_env)
        setup["seed-demo"] = run([flask, "zsdx", "seed-demo"], ROOT, root_env)
        setup["gen-load"] = run(
            [
                flask,
                "zsdx",
                "gen-load",
                "--enterprises",
                str(args.enterprises),
                "--filings",
                str(args.filings),
                "--notifications",
                str(args.notifications),
                "--seed",
                str(args.seed),
            ],
            ROOT,
            root_env,
            timeout=3600,
        )
        if app_dir != ROOT:
            run([flask, "db", "upgrade"], app_dir, env)
    sizes = data_sizes(url)
    log(f"data: {sizes}")

    # (b) the servers
    logdir = os.path.join("/tmp", f"bench_pages_{os.getpid()}")
    os.makedirs(logdir, exist_ok=True)
    app_port, bare_port = free_port(), free_port()
    results = []
    statements = {}
    try:
        app_proc = start_gunicorn("app:app", app_dir, env, app_port, args.workers, os.path.join(logdir, "app.log"))
        bare_env = dict(env, PYTHONPATH=os.path.join(ROOT, "scripts"))
        bare_proc = start_gunicorn(
            "bare_page:app",
            os.path.join(ROOT, "scripts"),
            bare_env,
            bare_port,
            args.workers,
            os.path.join(logdir, "bare.log"),
        )
        wait_ready(app_port, "/login/", app_proc)
        wait_ready(bare_port, "/bare/", bare_proc)
        log(
            f"app on 127.0.0.1:{app_port} ({app_dir}, {git_rev(app_dir)}), bare page on 127.0.0.1:{bare_port}; "
            f"logs in {logdir}"
        )
        # (c) log in; deep pages resolved to their URLs
        sessions = {phone: login(app_port, phone) for phone in sorted({p for _l, p, _u, _m in PAGES if p})}
        pages = [
            (label, phone, resolve_page(app_port, sessions.get(phone), path), marker)
            for label, phone, path, marker in PAGES
        ]
        if not args.no_statements:
            statements = count_statements(app_dir, env, pages, args.explain)
        # (d) measure
        for label, phone, path, marker in pages:
            port = bare_port if phone is None else app_port
            median, p95 = measure(port, path, sessions.get(phone), marker, args.warmup, args.runs)
            results.append((label, phone, path, median, p95))
            log(f"{label:<40} median {median:7.1f} ms  p95 {p95:7.1f} ms")
    finally:
        stop_all()

    bare = results[0][3]
    lines = [
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} on {socket.gethostname()} ({os.cpu_count()} cores): "
        f"tree `{app_dir}` at {git_rev(app_dir)}; database `{args.db}` (alembic {sizes['alembic']}): "
        f"{sizes['zs_organisation']:,} organisations, {sizes['ab_user']:,} users, {sizes['zs_filing']:,} filings, "
        f"{sizes['zs_review_action']:,} review actions, {sizes['zs_notification']:,} notifications. "
        f"gunicorn {args.workers} sync workers each (app and bare page), REDIS_URL "
        f"{'set' if args.redis else 'unset'}; {args.warmup} warm-up + {args.runs} measured sequential requests "
        f"per page over HTTP on 127.0.0.1.",
        "",
        "| page | account | URL | median ms | p95 ms | × bare (median) | SQL statements |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for label, phone, path, median, p95 in results:
        count = statements.get(label, "") if phone else ""
        lines.append(
            f"| {label} | {phone or '—'} | `{short(path)}` | {median:.1f} | {p95:.1f} | {median / bare:.1f} | {count} |"
        )
    if setup:
        lines += ["", "Setup: " + ", ".join(f"{k} {v:.0f} s" for k, v in setup.items())]
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(table)
    log(f"written to {args.out}")
    return 0


if __name__ == "__main__":

    def _stop(signum, _frame):
        stop_all()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.exit(main())
