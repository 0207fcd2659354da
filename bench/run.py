#!/usr/bin/env python3
"""zsdx performance benchmark (issue 12): every page of every role, then concurrent users, against a bare
Flask page served by the same gunicorn in the same run.

    .venv/bin/python bench/run.py --from-db loadwh          # copy an existing gen-load database, ~15 min
    .venv/bin/python bench/run.py                           # generate: gen-load at default size first

What it does (every process it starts is stopped at the end, also on errors and Ctrl-C):
(a) the database: by default drops and re-creates --db (zsdx_bench) and loads it with `flask db upgrade`,
    `flask zsdx init`, `flask zsdx seed-demo` and `flask zsdx gen-load` (10,000 enterprises, 100,000
    projects; ~3-4 min); `--from-db NAME` copies an already loaded database instead (CREATE DATABASE …
    TEMPLATE, seconds); `--reuse` uses --db as it is (the approve POSTs change a few of its filings);
(b) the production shape: an `rq worker` (zsdx.worker.ZsdxWorker) on its own queue and gunicorn
    (gunicorn.conf.py, --workers sync workers, a free port on 127.0.0.1) with DATABASE_URL, REDIS_URL,
    CAPTCHA_ENABLED=0 and ZSDX_BENCH=1 (zsdx/benchhooks.py: the statement-count header and the bare page
    /_bench/bare, the newest 20 filings joined to their organisation with plain Jinja);
(c) logs in the accounts of every role through the password form (CSRF token, cookies), picks real ids from
    the database (an enterprise whose project reached 已入库 and its records of every stage, records waiting
    at each reviewer's step, deep pages), warms every page up and times --requests sequential requests of
    each: p50 / p95 ms, SQL statements (X-Bench-Statements) and p50 / bare p50; the bare page is measured
    before and after the pages and its median over both is the reference; the .xlsx exports and the dossier
    with --export-requests, with their size, rows and the serving worker's RSS;
(d) --users simulated users (enterprises, providers, 镇街 and 市工信 reviewers; think time --think s ±50 %)
    for --duration s on the app's pages, then the same users on the bare page for the same time: throughput,
    errors, p50 / p95 and their ratios;
(e) the RSS of each gunicorn worker and of the rq worker after the run, the load average (start, end and the
    highest 1-minute value sampled during the run), the targets of issue 12 (reported, not enforced).
The Markdown report goes to --out. Exit status 1 when any response was a 5xx or a connection failed.
"""

import argparse
import datetime as dt
import http.client
import io
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from html import unescape as html_unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
if not os.path.exists(os.path.join(VENV_BIN, "gunicorn")):
    VENV_BIN = os.path.join(ROOT, ".venv", "bin")
PASSWORD = "Zsdx@2026"
ADMIN, PROV, INST, TOWN, THIRD, EXPERT, CITY = (
    "13800000000",
    "13800000002",
    "13800000003",
    "13800000004",
    "13800000006",
    "13800000007",
    "13800000008",
)
BARE = "/_bench/bare"
LAYOUT = "/_bench/layout"  # the same table in the app's layout, for the signed-in user: the floor of a page
TARGET_PAGE, TARGET_DASHBOARD = 2.0, 3.0

_procs = []
_errors = []  # (what, detail) of 5xx answers and failed connections: the exit status
_collections = {}  # gunicorn worker pid -> its X-Bench-GC header last seen (full collections, ms, frozen)


def log(msg):
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


# --- processes -----------------------------------------------------------------------------------------------
def run(cmd, env, timeout=3600):
    log("$ " + " ".join(cmd))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _procs.append(proc)
    try:
        for line in proc.stdout:
            if " INFO " not in line:
                print("    " + line.rstrip(), flush=True)
            if time.perf_counter() - start > timeout:
                proc.kill()
                raise SystemExit(f"timed out after {timeout} s: {' '.join(cmd)}")
        proc.wait(timeout=60)
    finally:
        _procs.remove(proc)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return time.perf_counter() - start


def spawn(cmd, env, logfile):
    log("$ " + " ".join(cmd))
    with open(logfile, "w") as fh:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    _procs.append(proc)
    return proc


def stop_all():
    for proc in _procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # its own session: the master and its workers
            except ProcessLookupError:
                continue
    for proc in _procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    _procs.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    """The pids whose parent is `pid` (from /proc/*/stat)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(name))
    return sorted(out)


class LoadSampler(threading.Thread):
    """The 1-minute load average every 5 s while the benchmark runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(5):
            self.samples.append(os.getloadavg()[0])


# --- HTTP ----------------------------------------------------------------------------------------------------
class Answer:
    def __init__(self, status, headers, body, ms):
        self.status, self.headers, self.body, self.ms = status, headers, body, ms

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def statements(self):
        value = self.headers.get("x-bench-statements")
        return int(value) if value and value.isdigit() else None

    @property
    def worker(self):
        """(pid, peak RSS KiB, RSS KiB) of the worker that answered."""
        parts = (self.headers.get("x-bench-worker") or "").split()
        return tuple(int(x) for x in parts) if len(parts) == 3 else None


def login_form(token, phone, password=PASSWORD):
    """The fields of the password login form (the captcha is off: CAPTCHA_ENABLED=0)."""
    return {
        "pw-csrf_token": token,
        "pw-mode": "password",
        "mode": "password",
        "pw-phone": phone,
        "pw-password": password,
        "pw-captcha": "",
    }


class Client:
    """One browser: its cookies, plain http.client (gunicorn's sync workers close each connection)."""

    def __init__(self, port, phone=None):
        self.port, self.phone, self.cookies = port, phone, {}

    def request(self, method, path, form=None, timeout=120):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        ms = (time.perf_counter() - start) * 1000
        worker, collections = resp.getheader("X-Bench-Worker"), resp.getheader("X-Bench-GC")
        if worker and collections:
            _collections[worker.split()[0]] = collections
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, v = value.split(";", 1)[0].split("=", 1)
                self.cookies[k.strip()] = v.strip()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, ms)

    def get(self, path):
        return self.request("GET", path)

    def login(self):
        page = self.get("/login/")
        m = re.search(r'name="pw-csrf_token"[^>]*value="([^"]+)"', page.text)
        if page.status != 200 or not m:
            raise SystemExit(f"no login form on /login/ ({page.status})")
        answer = self.request("POST", "/login/", login_form(m.group(1), self.phone))
        if answer.status != 302 or "/login" in answer.headers.get("location", ""):
            raise SystemExit(f"login of {self.phone} failed ({answer.status})")
        return self


def wait_ready(port, proc, seconds=120):
    client = Client(port)
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see its log")
        try:
            if client.get(BARE).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn not ready after {seconds} s")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


# --- the database --------------------------------------------------------------------------------------------
def pg_connect(url, dbname=None):
    import psycopg2

    u = urllib.parse.urlparse(url)
    conn = psycopg2.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname=dbname or u.path.lstrip("/"),
    )
    conn.autocommit = True
    return conn


def recreate_database(server, name, template=None):
    if name in ("postgres", "template0", "template1") or name == template:
        raise SystemExit(f"refusing to recreate database {name}")
    conn = pg_connect(server, "postgres")
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.close()


def one(cur, sql, *params):
    cur.execute(sql, params)
    row = cur.fetchone()
    return row[0] if row and len(row) == 1 else row


def column(cur, sql, *params):
    cur.execute(sql, params)
    return [r[0] for r in cur.fetchall()]


def pick_ids(url, approvals):
    """Real ids from the loaded database (see the pages below)."""
    conn = pg_connect(url)
    ids = {}
    with conn.cursor() as cur:
        # the enterprises: a project that reached 已入库 and has a 预奖补申请, of the enterprise with most projects
        # (企业, the longest lists) and of one with the average number of projects (企业B, typical)
        avg = one(cur, "SELECT count(*)::float / greatest(count(DISTINCT organisation_id), 1) FROM zs_project")
        query = """
            SELECT w.id, w.project_id, w.organisation_id, f.id, s.id, p.id, i.id, c.id, d.id, a.id
            FROM zs_warehousing w
            JOIN zs_filing f ON f.project_id = w.project_id
            JOIN zs_signing s ON s.project_id = w.project_id
            JOIN zs_pre_subsidy p ON p.signing_id = s.id
            JOIN zs_implementation i ON i.project_id = w.project_id
            JOIN zs_completion c ON c.project_id = w.project_id
            JOIN zs_pre_diagnosis d ON d.project_id = w.project_id
            JOIN zs_post_assessment a ON a.project_id = w.project_id
            WHERE w.status = 'done'
            ORDER BY {order}, w.id
            LIMIT 1
            """
        projects = "(SELECT count(*) FROM zs_project x WHERE x.organisation_id = w.organisation_id)"
        keys = "warehousing project org filing signing pre_subsidy implementation completion diagnosis post"
        for name, order in (("main", f"{projects} DESC"), ("typical", f"abs({projects} - {float(avg or 0)})")):
            row = one(cur, query.format(order=order))
            if not row:
                raise SystemExit("no 已入库 project with every stage in the database: is it a gen-load database?")
            ent = dict(zip(keys.split(), row))
            ent["phone"] = one(
                cur, "SELECT phone FROM ab_user WHERE organisation_id = %s ORDER BY id LIMIT 1", ent["org"]
            )
            ent["projects"] = one(cur, "SELECT count(*) FROM zs_project WHERE organisation_id = %s", ent["org"])
            if name == "main":
                ids.update(ent)
                ids["ent_phone"], ids["ent_projects"] = ent["phone"], ent["projects"]
            else:
                ids["typical"] = ent
        town = one(cur, "SELECT town_id FROM ab_user WHERE phone = %s", TOWN)
        ids["town"] = town
        pending_town = column(
            cur,
            "SELECT id FROM zs_filing WHERE status = 'reviewing' AND current_step = 'town' AND town_id = %s "
            "ORDER BY id",
            town,
        )
        if len(pending_town) < approvals + 1:
            raise SystemExit(f"only {len(pending_town)} filings wait at 镇街 {TOWN}; {approvals + 1} needed")
        ids["approve"] = pending_town[-approvals:]  # the newest ids: the queue's first page is left as it is
        ids["town_filing"] = pending_town[0]
        ids["town_pages"] = max(1, -(-(len(pending_town) - approvals) // 20))
        ids["city_filing"] = one(
            cur, "SELECT min(id) FROM zs_filing WHERE status = 'reviewing' AND current_step = 'city'"
        )
        ids["third_filing"] = one(
            cur, "SELECT min(id) FROM zs_filing WHERE status = 'reviewing' AND current_step = 'third_party'"
        )
        ids["city_pre_subsidy"] = one(
            cur, "SELECT min(id) FROM zs_pre_subsidy WHERE status = 'reviewing' AND current_step = 'city'"
        )
        ids["city_warehousing"] = one(
            cur, "SELECT min(id) FROM zs_warehousing WHERE status = 'reviewing' AND current_step = 'city'"
        )
        row = one(
            cur,
            """
            SELECT u.phone, min(a.subject_id) FROM zs_review_assignment a
            JOIN ab_user u ON u.id = a.user_id
            JOIN zs_warehousing w ON w.id = a.subject_id AND w.status = 'reviewing' AND w.current_step = 'expert'
            WHERE a.subject_type = 'warehousing' AND a.approved_at IS NULL
            GROUP BY u.phone ORDER BY (u.phone = %s) DESC, count(*) DESC LIMIT 1
            """,
            EXPERT,
        )
        ids["expert_phone"], ids["expert_warehousing"] = row if row else (EXPERT, None)
        ids["inst_phone"] = (
            one(
                cur,
                """
            SELECT u.phone FROM ab_user u JOIN zs_pre_diagnosis d ON d.institution_id = u.organisation_id
            GROUP BY u.phone ORDER BY count(*) DESC LIMIT 1
            """,
            )
            or INST
        )
        ids["product"] = one(cur, "SELECT min(id) FROM zs_product WHERE status = 'done' AND withdrawn_at IS NULL")
        ids["user"] = one(cur, "SELECT max(id) FROM ab_user")
        ids["message_org"] = one(cur, "SELECT organisation_id FROM zs_message ORDER BY id DESC LIMIT 1")
        # the simulated users: phones per role, and each enterprise's own records
        ids["sim"] = {}
        for role in ("企业", "服务商", "镇街", "市工信"):
            ids["sim"][role] = column(
                cur,
                """
                SELECT u.phone FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id
                JOIN ab_role r ON r.id = ur.role_id
                WHERE r.name = %s AND u.active AND u.phone IS NOT NULL
                  AND (%s <> '企业' OR EXISTS (SELECT 1 FROM zs_signing s WHERE s.organisation_id = u.organisation_id))
                ORDER BY u.id LIMIT 40
                """,
                role,
                role,
            )
        ids["sim_records"] = {}
        for phone in ids["sim"]["企业"]:
            cur.execute(
                """
                SELECT (SELECT max(f.id) FROM zs_filing f WHERE f.organisation_id = u.organisation_id),
                       (SELECT max(s.id) FROM zs_signing s WHERE s.organisation_id = u.organisation_id)
                FROM ab_user u WHERE u.phone = %s
                """,
                (phone,),
            )
            ids["sim_records"][phone] = cur.fetchone()
        ids["sim_town_filings"] = column(
            cur, "SELECT id FROM zs_filing WHERE status = 'reviewing' AND current_step = 'town' ORDER BY id LIMIT 500"
        )
        ids["sizes"] = {
            t: one(cur, f"SELECT count(*) FROM {t}")
            for t in ("zs_organisation", "ab_user", "zs_project", "zs_filing", "zs_warehousing", "zs_notification")
        }
    conn.close()
    return ids


# --- the pages -----------------------------------------------------------------------------------------------
def page_list(ids, subjects):
    """(role, label, phone, path, kind); kind: page, dashboard, export, dossier. Queue subjects are those the
    reviewer's own queue page offers."""
    e, pages = ids, []

    def add(role, label, phone, path, kind="page"):
        if path is not None:
            pages.append((role, label, phone, path, kind))

    add("anonymous", "首页", None, "/")
    add("anonymous", "登录", None, "/login/")
    for role, d in (("企业", e), ("企业B", e["typical"])):
        ent = d["phone"]
        add(role, "首页", ent, "/")
        add(role, "我的工作台", ent, "/workbench/")
        for label, q in (
            ("工作台 项目备案", "?tab=filing"),
            ("工作台 概览", "?tab=overview"),
            ("工作台 事前诊断", "?group=diagnosis&tab=pre_diagnosis"),
            ("工作台 事后评估", "?group=diagnosis&tab=post_assessment"),
            ("工作台 改造中", "?group=projects&tab=implementing"),
            ("工作台 改造完成", "?tab=completed"),
            ("工作台 项目入库", "?tab=warehousing"),
            ("工作台 审核通知", "?panel=review"),
        ):
            add(role, label, ent, "/workbench/" + q)
        add(role, "消息 (查看更多)", ent, "/notifications/")
        add(role, "项目备案 详情", ent, f"/filing/{d['filing']}")
        add(role, "事前诊断 报告", ent, f"/diagnosis/{d['diagnosis']}/report")
        add(role, "项目签约 详情", ent, f"/signing/{d['signing']}")
        add(role, "预奖补申请", ent, f"/presubsidy/{d['signing']}")
        add(role, "改造中 详情", ent, f"/implementation/{d['implementation']}")
        add(role, "事后评估 报告", ent, f"/post-assessment/{d['post']}/report")
        add(role, "改造完成 详情", ent, f"/completion/{d['completion']}")
        add(role, "项目入库 详情", ent, f"/warehousing/{d['warehousing']}")
    ent = e["ent_phone"]
    add("企业", "自评估", ent, "/assessment/")
    add("企业", "留言板", ent, "/messages/")
    add("企业", "信息变更", ent, "/info-change/")
    add("企业", "产品目录 搜索", ent, "/products/?q=%E6%99%BA%E8%83%BD")  # 智能
    add("企业", "改造中 表格 .xlsx", ent, f"/implementation/{e['implementation']}/form.xlsx", "export")

    add("服务商", "我的工作台", PROV, "/workbench/")
    add("服务商", "产品目录", PROV, "/products/")
    add("服务商", "产品目录 搜索", PROV, "/products/?q=%E7%B3%BB%E7%BB%9F")  # 系统
    add("服务商", "产品目录 page 5", PROV, "/products/?page=5")
    add("服务商", "产品 详情", PROV, f"/products/{e['product']}" if e["product"] else None)
    add("服务商", "我的产品", PROV, "/myproducts/list/")
    add("评估机构", "任务列表", e["inst_phone"], "/institution/")

    for role, phone, filing in (
        (TOWN, TOWN, "town_filing"),
        (THIRD, THIRD, "third_filing"),
        (CITY, CITY, "city_filing"),
    ):
        name = {TOWN: "镇街", THIRD: "第三方", CITY: "市工信"}[role]
        add(name, "工作台 待办", phone, "/workbench/?panel=review")
        add(name, "待办 (查看更多)", phone, "/notifications/?kind=todo")
        for subject in subjects.get(phone, ["filing"]):
            add(name, f"审核 {subject}", phone, f"/review/?subject={subject}")
        deep = e["town_pages"] if role == TOWN else 100
        add(name, f"审核 filing page {deep}", phone, f"/review/?subject=filing&page={deep}")
        add(name, "审核 filing 筛选 镇街+逾期", phone, f"/review/?subject=filing&town={e['town']}&overdue=1")
        add(name, "审核 filing 筛选 日期", phone, "/review/?subject=filing&from=2026-01-01&to=2026-06-30")
        add(name, "审核 filing 已审核", phone, "/review/?subject=filing&tab=done")
        add(name, "审核 filing 已审核 page 50", phone, ("/review/?subject=filing&tab=done", 50))
        add(name, "审核页 filing", phone, f"/review/filing/{e[filing]}" if e[filing] else None)
        add(name, "项目备案 详情", phone, f"/filing/{e[filing]}" if e[filing] else None)
        add(name, "审核 .xlsx (filing)", phone, "/review/export.xlsx?subject=filing", "export")
    for name, phone in (("镇街", TOWN), ("市工信", CITY)):
        add(name, "数据看板", phone, "/dashboard/", "dashboard")
    add("市工信", "数据看板 镇街筛选", CITY, f"/dashboard/?town={e['town']}", "dashboard")
    add(
        "市工信",
        "审核页 pre_subsidy",
        CITY,
        f"/review/pre_subsidy/{e['city_pre_subsidy']}" if e["city_pre_subsidy"] else None,
    )
    add(
        "市工信",
        "审核页 warehousing",
        CITY,
        f"/review/warehousing/{e['city_warehousing']}" if e["city_warehousing"] else None,
    )
    add("市工信", "一企一档", CITY, "/dossier/")
    add("市工信", "一企一档 已入库", CITY, "/dossier/?reached=warehoused")
    add("市工信", "一企一档 搜索 page 2", CITY, "/dossier/?q=%E9%A1%B9%E7%9B%AE&page=2")
    add("市工信", "分配评估机构", CITY, "/diagnosis-assign/")
    add("市工信", "留言回复", CITY, "/message-replies/")
    add("市工信", "留言回复 一家", CITY, f"/message-replies/{e['message_org'] or e['org']}")
    add("市工信", "服务商评价", CITY, "/completion/ratings")
    add("市工信", "产品管理", CITY, "/productadmin/list/")
    add("市工信", "申报窗口", CITY, "/submissionwindowview/list/")
    add("市工信", "公告管理", CITY, "/announcementadminview/list/")
    add("专家", "审核 warehousing", e["expert_phone"], "/review/?subject=warehousing")
    add(
        "专家",
        "审核页 warehousing",
        e["expert_phone"],
        f"/review/warehousing/{e['expert_warehousing']}" if e["expert_warehousing"] else None,
    )
    add("Admin", "用户列表", ADMIN, "/users/list/")
    add("Admin", "用户列表 page 200", ADMIN, "/users/list/?page_ZsdxUserDBModelView=200")
    add("Admin", "用户 详情", ADMIN, f"/users/show/{e['user']}")
    add("Admin", "单位列表", ADMIN, "/organisationview/list/")
    add("Admin", "单位列表 page 200", ADMIN, "/organisationview/list/?page_OrganisationView=200")
    add("Admin", "镇街", ADMIN, "/townview/list/")
    add("Admin", "工商登记", ADMIN, "/registryview/list/")
    add("Admin", "角色", ADMIN, "/roles/list/")
    for section in ("stages", "towns", "industries", "levels", "money", "overdue"):
        add("市工信", f"数据看板 .xlsx {section}", CITY, f"/dashboard/export/{section}.xlsx", "export")
    add("镇街", "数据看板 .xlsx overdue", TOWN, "/dashboard/export/overdue.xlsx", "export")
    add("市工信", "产品管理 .xlsx", CITY, "/productadmin/export.xlsx", "export")
    add("市工信", "一企一档 JSON (已入库 project)", CITY, f"/dossier/{e['project']}/download", "dossier")
    return pages


def resolve(client, path):
    """A (url, n) path: page n of a keyset-paged list, reached by following its id="page-next" links."""
    if isinstance(path, str):
        return path
    url, n = path
    for i in range(n - 1):  # bounded: n - 1 requests
        answer = client.get(url)
        m = re.search(r'<a href="([^"]+)"[^>]*id="page-next"', answer.text)
        if answer.status != 200 or not m:
            log(f"{path[0]}: only {i + 1} pages; using the last")
            return url
        url = html_unescape(m.group(1))
    return url


def xlsx_rows(body):
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(body), read_only=True)  # rows counted: write-only files have no dimension
        return sum(max(0, sum(1 for _r in ws.iter_rows(values_only=True)) - 1) for ws in wb.worksheets)
    except Exception:
        return None


def note_error(what, answer=None, exc=None):
    if exc is not None or (answer is not None and answer.status >= 500):
        _errors.append((what, repr(exc) if exc else answer.status))


def measure_page(client, path, warmup, runs, bare_client=None):
    """Timings (ms), statements, the last answer; None timings on a failure. With `bare_client`, each
    measured request of the page is followed by one of the bare page, whose timings are returned too (as
    `.bare` of the timings list): the page's ratio is then taken against the bare page measured in the
    same seconds, so that the machine's speed drifting during the run (a shared VM) does not move it. Then
    the page's own client requests the layout page (`.layout`), the second reference."""
    timings, statements, last = _Timings(), [], None
    for i in range(warmup + runs):
        try:
            answer = client.get(path)
        except OSError as exc:
            note_error(path, exc=exc)
            return None, None, None
        note_error(path, answer)
        if answer.status >= 500:
            return None, None, answer
        last = answer
        if i >= warmup:
            timings.append(answer.ms)
            if answer.statements is not None:
                statements.append(answer.statements)
            if bare_client is not None:
                timings.bare.append(bare_client.get(BARE).ms)
                timings.layout.append(client.get(LAYOUT).ms)
    return timings, statements, last


def measure_floor(bare_client, signed_in, warmup, runs):
    """The floor of a signed-in page, taken apart: for each (role, client) of `signed_in`, the bare endpoint
    requested anonymously, the same endpoint with the user's session (its cookie: the session, the user's load,
    every request hook, and no layout) and the layout page, one after the other, `runs` times. A list of
    (role, p50 anonymous, p50 signed in, p50 layout)."""
    out = []
    for role, client in signed_in:
        anonymous, signed, layout = [], [], []
        for i in range(warmup + runs):
            times = (bare_client.get(BARE).ms, client.get(BARE).ms, client.get(LAYOUT).ms)
            if i >= warmup:
                anonymous.append(times[0])
                signed.append(times[1])
                layout.append(times[2])
        out.append((role, *(statistics.median(t) for t in (anonymous, signed, layout))))
    return out


class _Timings(list):
    """A page's timings, and those of the bare and layout pages interleaved with them (empty if none were)."""

    def __init__(self):
        super().__init__()
        self.bare = []
        self.layout = []


def measure_approve(client, ids, warmup, runs):
    """The 同意 POST of the 镇街 reviewer on filings waiting at its step (one filing per request)."""
    timings, statements, ok = [], [], 0
    for i, pk in enumerate(ids["approve"][: warmup + runs]):
        page = client.get(f"/review/filing/{pk}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        version = re.search(r'name="version" value="(\d+)"', page.text)
        if page.status != 200 or not token:
            log(f"approve: review page of filing {pk}: {page.status}")
            continue
        form = {"csrf_token": token.group(1), "action": "approve", "opinion": "bench"}
        if version:
            form["version"] = version.group(1)
        answer = client.request("POST", f"/review/filing/{pk}/act", form)
        note_error(f"POST /review/filing/{pk}/act", answer)
        success = answer.status == 302 and "/review/?" in answer.headers.get("location", "")
        ok += success
        if i >= warmup:
            timings.append(answer.ms)
            if answer.statements is not None:
                statements.append(answer.statements)
    return timings, statements, ok


# --- concurrent users ----------------------------------------------------------------------------------------
def sim_users(ids, n):
    """(phone, role, [paths]) of n simulated users: 40 % enterprises, 15 % providers, 25 % 镇街, 20 % 市工信."""
    rng = random.Random(12)
    shares = (("企业", 0.40), ("服务商", 0.15), ("镇街", 0.25), ("市工信", 0.20))
    counts = {role: max(1, round(n * share)) for role, share in shares}
    counts["企业"] += n - sum(counts.values())
    users = []
    filings = ids["sim_town_filings"]
    for role, count in counts.items():
        phones = ids["sim"][role] or []
        if not phones:
            raise SystemExit(f"no {role} users in the database")
        for k in range(count):
            phone = phones[k % len(phones)] if role != "企业" else phones[rng.randrange(len(phones))]
            if role == "企业":
                filing, signing = ids["sim_records"].get(phone, (None, None))
                paths = ["/", "/workbench/", "/workbench/?tab=filing", "/workbench/?panel=review", "/notifications/"]
                paths += [f"/filing/{filing}"] if filing else []
                paths += [f"/signing/{signing}"] if signing else []
                paths += ["/products/?q=%E6%99%BA%E8%83%BD"]
            elif role == "服务商":
                paths = ["/", "/workbench/", "/products/", "/products/?q=%E7%B3%BB%E7%BB%9F", "/myproducts/list/"]
            elif role == "镇街":
                paths = [
                    "/workbench/?panel=review",
                    "/review/?subject=filing",
                    "/review/?subject=filing&page=2",
                    "/review/?subject=filing&tab=done",
                    "/review/?subject=pre_subsidy",
                    "/dashboard/",
                    "/notifications/?kind=todo",
                ]
            else:
                paths = [
                    "/workbench/?panel=review",
                    "/review/?subject=filing",
                    "/review/?subject=filing&page=20",
                    "/review/?subject=warehousing",
                    "/review/?subject=pre_subsidy",
                    f"/review/filing/{ids['city_filing']}",
                    "/dashboard/",
                    "/dossier/",
                ]
            if role in ("镇街", "市工信") and filings:
                paths.append(("town-filing", filings))  # a 镇街 reviewer opens a filing of its queue: below
            users.append((phone, role, paths))
    return users


def load_phase(port, users, clients, duration, think, bare, seed):
    """Each user: a page (or the bare page), think time, repeat, for `duration` s. Returns the answers."""
    results = []
    lock = threading.Lock()
    start_at = time.perf_counter() + 1.0
    stop_at = start_at + duration

    def worker(idx, phone, role, paths):
        rng = random.Random(seed * 1000 + idx)
        client = clients[idx]
        time.sleep(max(0, start_at - time.perf_counter()) + rng.uniform(0, think))  # staggered start
        while time.perf_counter() < stop_at:
            if bare:
                path = BARE
            else:
                path = rng.choice(paths)
                if isinstance(path, tuple):  # a filing waiting at a 镇街 step (市工信 reads every town's)
                    path = f"/review/filing/{rng.choice(path[1])}" if role == "市工信" else "/review/?subject=filing"
            try:
                answer = client.get(path)
                item = (path, answer.status, answer.ms, time.perf_counter())
                note_error(path, answer)
            except OSError as exc:
                item = (path, 0, 0.0, time.perf_counter())
                note_error(path, exc=exc)
            with lock:
                results.append(item)
            time.sleep(think * rng.uniform(0.5, 1.5) if think else 0)

    threads = [threading.Thread(target=worker, args=(i, *u), daemon=True) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 180)
    window = [r for r in results if r[3] <= stop_at + 0.001]
    errors = [r for r in results if r[1] == 0 or r[1] >= 500]
    unexpected = [r for r in results if r[1] not in (200, 302) and r[1] != 0 and r[1] < 500]
    times = [r[2] for r in results if r[1]]
    p95 = percentile(times, 0.95)
    return {
        "requests": len(results),
        "throughput": len(window) / duration,
        "errors": len(errors),
        "unexpected": len(unexpected),
        "p50": statistics.median(times) if times else float("nan"),
        "p95": p95,
        "max": max(times) if times else float("nan"),
        "tail": tail_by_path(results, p95),
        # the answers over 300 ms: when (s into the phase), which path, how long — spread out or all at once
        "slow": sorted(
            (round(at - start_at - ms / 1000, 2), _generic_path(path), round(ms))
            for path, _s, ms, at in results
            if ms > 300
        ),
    }


def tail_by_path(results, p95, most=8):
    """The paths with the most answers slower than the phase's p95: (path, those answers, all its answers,
    its p50 ms, its p95 ms, its slowest ms), most first — what the tail under load is made of."""
    by_path = {}
    for path, status, ms, _at in results:
        if status:
            by_path.setdefault(_generic_path(path), []).append(ms)
    rows = [
        (path, sum(ms > p95 for ms in times), len(times), statistics.median(times), percentile(times, 0.95), max(times))
        for path, times in by_path.items()
    ]
    return sorted((r for r in rows if r[1]), key=lambda r: (-r[1], -r[4]))[:most]


def _generic_path(path):
    """A path with its record id replaced (each 市工信 user opens a different filing's review page)."""
    return re.sub(r"/\d+(?=/|$|\?)", "/<id>", path)


# --- main ----------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    ap.add_argument("--db", default="zsdx_bench", help="the database to load and serve")
    ap.add_argument("--from-db", help="create --db as a copy of this already loaded database (e.g. loadwh)")
    ap.add_argument("--reuse", action="store_true", help="serve --db as it is (it already holds the load)")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page")
    ap.add_argument("--requests", type=int, default=20, help="measured requests per page")
    ap.add_argument("--export-requests", type=int, default=3, help="measured requests per .xlsx / dossier")
    ap.add_argument("--users", type=int, default=20, help="concurrent simulated users")
    ap.add_argument("--duration", type=float, default=60, help="seconds of each concurrent phase")
    ap.add_argument("--think", type=float, default=1.0, help="mean think time between a user's requests (s)")
    ap.add_argument("--enterprises", type=int, default=10_000)
    ap.add_argument("--filings", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join("/tmp", "zsdx-bench.md"), help="the Markdown report")
    args = ap.parse_args()
    if not (1 <= args.requests <= 1000 and 0 <= args.warmup <= 100 and 1 <= args.users <= 200):
        raise SystemExit("--requests 1..1000, --warmup 0..100, --users 1..200")
    if not (1 <= args.duration <= 3600 and 1 <= args.workers <= 32 and 1 <= args.export_requests <= 100):
        raise SystemExit("--duration 1..3600, --workers 1..32, --export-requests 1..100")
    url = args.pg.rstrip("/") + "/" + args.db
    tag = f"zsdx-bench-{os.getpid()}"
    tmp = os.path.join("/tmp", tag)
    os.makedirs(tmp, exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        REDIS_URL=args.redis,
        RQ_QUEUE=tag,  # our worker takes our jobs only
        RATELIMIT_KEY_PREFIX=tag,
        CAPTCHA_ENABLED="0",
        SECRET_KEY="bench-" + "k" * 40,
        LOG_LEVEL="WARNING",
        FLASK_APP="app.py",
        UPLOAD_FOLDER=os.path.join(tmp, "files"),
        ZSDX_SECURE_COOKIES="0",
        ZSDX_BENCH="1",
        PYTHONPATH=ROOT,
    )
    loads = {"start": os.getloadavg()}
    sampler = LoadSampler()
    sampler.start()
    flask = os.path.join(VENV_BIN, "flask")
    if not os.path.exists(os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.mo")):
        run([os.path.join(VENV_BIN, "pybabel"), "compile", "-f", "-d", "translations", "-D", "messages"], env)

    # (a) the database
    setup = {}
    if args.reuse:
        setup["upgrade"] = run([flask, "db", "upgrade"], env)
    elif args.from_db:
        log(f"copying database {args.from_db} -> {args.db}")
        t0 = time.perf_counter()
        recreate_database(args.pg, args.db, template=args.from_db)
        setup["copy"] = time.perf_counter() - t0
        setup["upgrade"] = run([flask, "db", "upgrade"], env)
    else:
        log(f"creating database {args.db}")
        recreate_database(args.pg, args.db)
        setup["upgrade"] = run([flask, "db", "upgrade"], env)
        setup["init"] = run([flask, "zsdx", "init"], env)
        setup["seed-demo"] = run([flask, "zsdx", "seed-demo"], env)
        setup["gen-load"] = run(
            [
                flask,
                "zsdx",
                "gen-load",
                "--enterprises",
                str(args.enterprises),
                "--filings",
                str(args.filings),
                "--seed",
                str(args.seed),
            ],
            env,
        )
    approvals = args.warmup + args.requests
    ids = pick_ids(url, approvals)
    log(
        f"data: {ids['sizes']}; enterprise {ids['ent_phone']} ({ids['ent_projects']} projects), project {ids['project']}"
    )

    # (b) the servers
    port = free_port()
    rq = spawn(
        [os.path.join(VENV_BIN, "rq"), "worker", "-w", "zsdx.worker.ZsdxWorker", "--url", args.redis, tag],
        env,
        os.path.join(tmp, "rq.log"),
    )
    gunicorn = spawn(
        [
            os.path.join(VENV_BIN, "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "app:app",
        ],
        env,
        os.path.join(tmp, "gunicorn.log"),
    )
    rows, exports, load, rss, floor = [], [], {}, {}, []
    try:
        wait_ready(port, gunicorn)
        log(f"gunicorn on 127.0.0.1:{port} ({args.workers} workers), rq worker on queue {tag}; logs in {tmp}")
        phones = {
            ids["ent_phone"],
            ids["typical"]["phone"],
            PROV,
            ids["inst_phone"],
            TOWN,
            THIRD,
            CITY,
            ids["expert_phone"],
            ADMIN,
        }
        clients = {p: Client(port, p).login() for p in sorted(phones)}
        clients[None] = Client(port)
        subjects = {}
        for phone in (TOWN, THIRD, CITY):
            html = clients[phone].get("/review/").text
            subjects[phone] = list(dict.fromkeys(re.findall(r"[?&]subject=([a-z_]+)", html_unescape(html))))
        pages = page_list(ids, subjects)

        # (c) single user
        bare_client = clients[None]
        bare_t, bare_s, _a = measure_page(bare_client, BARE, args.warmup + 5, args.requests)
        log(f"bare page: p50 {statistics.median(bare_t):.1f} ms")
        role_of = {phone: role for role, _label, phone, _path, _kind in pages if phone}
        floor = measure_floor(
            bare_client, [(role_of[p], clients[p]) for p in sorted(role_of)], args.warmup, args.requests * 2
        )
        for role, anonymous, signed, layout in floor:
            log(f"floor {role}: bare {anonymous:.1f} ms, signed in {signed:.1f} ms, layout {layout:.1f} ms")
        measured = []
        own_bare = {}  # index in measured -> p50 of the bare page interleaved with that page
        own_layout = {}  # index in measured -> p50 of the layout page interleaved with that page (same user)
        for role, label, phone, path, kind in pages:
            client = clients[phone]
            path = resolve(client, path)
            heavy = kind in ("export", "dossier")
            timings, statements, answer = measure_page(
                client,
                path,
                1 if heavy else args.warmup,
                args.export_requests if heavy else args.requests,
                bare_client=None if heavy else bare_client,
            )
            if timings is None:
                log(f"{role} {label} {path}: FAILED ({answer.status if answer else 'no answer'})")
                measured.append((role, label, path, kind, None, None, None, answer.status if answer else 0, None))
                own_bare[len(measured) - 1] = own_layout[len(measured) - 1] = None
                continue
            p50, p95 = statistics.median(timings), percentile(timings, 0.95)
            stmts = statistics.median(statements) if statements else None
            measured.append((role, label, path, kind, p50, p95, stmts, answer.status, answer))
            own_bare[len(measured) - 1] = statistics.median(timings.bare) if timings.bare else None
            own_layout[len(measured) - 1] = statistics.median(timings.layout) if timings.layout else None
            log(
                f"{role:<8} {label:<28} {answer.status} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  statements {stmts}"
                + (
                    f"  bare beside it {own_bare[len(measured) - 1]:.1f} ms, layout {own_layout[len(measured) - 1]:.1f} ms"
                    if timings.bare
                    else ""
                )
            )
        appr_t, appr_s, appr_ok = measure_approve(clients[TOWN], ids, args.warmup, args.requests)
        if appr_t:
            log(f"approve POST: p50 {statistics.median(appr_t):.1f} ms ({appr_ok} approved)")
        bare_t2, bare_s2, _a = measure_page(bare_client, BARE, 0, args.requests)
        bare_all = bare_t + bare_t2
        bare_p50, bare_p95 = statistics.median(bare_all), percentile(bare_all, 0.95)
        bare_stmts = statistics.median(bare_s + bare_s2) if bare_s + bare_s2 else None
        rows.append(
            (
                "—",
                "bare page (20-row table, plain Flask + Jinja)",
                BARE,
                "bare",
                bare_p50,
                bare_p95,
                bare_stmts,
                200,
                None,
                None,
                None,
            )
        )
        rows += [m + (own_bare.get(i), own_layout.get(i)) for i, m in enumerate(measured)]
        if appr_t:
            rows.append(
                (
                    "镇街",
                    f"同意 POST (filing; {appr_ok} of {len(ids['approve'][:approvals])} approved)",
                    "/review/filing/<id>/act",
                    "post",
                    statistics.median(appr_t),
                    percentile(appr_t, 0.95),
                    statistics.median(appr_s) if appr_s else None,
                    302,
                    None,
                    None,
                    None,
                )
            )
        for role, label, path, kind, p50, p95, _s, status, answer in measured:
            if kind in ("export", "dossier") and answer is not None:
                worker = answer.worker or (0, 0, 0)
                n = xlsx_rows(answer.body) if kind == "export" and answer.status == 200 else None
                exports.append((role, label, p50, p95, len(answer.body), n, worker))
        log(f"bare page again: p50 {statistics.median(bare_t2):.1f} ms (first {statistics.median(bare_t):.1f} ms)")

        # (d) concurrent users
        users = sim_users(ids, args.users)
        sim_clients = [Client(port, phone).login() for phone, _r, _p in users]
        loads["before load"] = os.getloadavg()
        log(f"{len(users)} users on the app's pages for {args.duration:.0f} s (think {args.think} s ±50 %)")
        load["app"] = load_phase(port, users, sim_clients, args.duration, args.think, False, args.seed)
        loads["after app load"] = os.getloadavg()
        log(f"app: {json.dumps(load['app'])}")
        log(f"{len(users)} users on the bare page for {args.duration:.0f} s")
        load["bare"] = load_phase(port, users, sim_clients, args.duration, args.think, True, args.seed)
        loads["after bare load"] = os.getloadavg()
        log(f"bare: {json.dumps(load['bare'])}")
        load["mix"] = {}
        for _phone, role, _p in users:
            load["mix"][role] = load["mix"].get(role, 0) + 1

        # (e) memory
        for pid in children(gunicorn.pid):
            rss[f"gunicorn worker {pid}"] = rss_kib(pid)
        rss[f"gunicorn master {gunicorn.pid}"] = rss_kib(gunicorn.pid)
        for pid in [rq.pid] + children(rq.pid):
            rss[f"rq worker {pid}"] = rss_kib(pid)
    finally:
        stop_all()
        sampler.stop.set()
    loads["end"] = os.getloadavg()
    peak_load = max(sampler.samples) if sampler.samples else os.getloadavg()[0]
    report = render(args, ids, setup, rows, exports, load, rss, loads, peak_load, floor)
    print("\n" + report)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(report)
    log(f"report written to {args.out}")
    if _errors:
        log(f"{len(_errors)} errors (5xx / connection failures), e.g. {_errors[:5]}")
        return 1
    return 0


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return rev.stdout.strip() or "?"
    except OSError:
        return "?"


def describe_collections():
    """One phrase per worker from the X-Bench-GC headers: its full collections, their pauses, what was frozen."""
    phrases = []
    for pid, value in sorted(_collections.items()):
        count, total, longest, frozen = value.split()
        phrases.append(
            f"worker {pid}: {count} ({float(total):.0f} ms in all, longest {float(longest):.0f} ms; "
            f"{int(frozen):,} objects frozen at start)"
        )
    return "; ".join(phrases) + "."


def render(args, ids, setup, rows, exports, load, rss, loads, peak_load, floor=()):
    bare = rows[0][4] if rows else None

    def ratio_of(row):
        """p50 over the bare page measured beside it (interleaved), else over the run's bare p50."""
        reference = row[9] or bare
        return row[4] / reference if (row[4] is not None and reference) else None

    def layout_ratio(row):
        """p50 over the layout page measured beside it (the same user's signed-in floor)."""
        return row[4] / row[10] if (row[4] is not None and row[10]) else None

    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) // 1024
    except OSError:
        pass
    sizes = ids["sizes"]
    out = [
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} at {git_rev()} on {socket.gethostname()}: {os.cpu_count()} CPUs, "
        f"{mem:,} MiB RAM. Database `{args.db}`: {sizes['zs_organisation']:,} organisations, {sizes['ab_user']:,} "
        f"users, {sizes['zs_project']:,} projects, {sizes['zs_filing']:,} filings, {sizes['zs_warehousing']:,} "
        f"项目入库, {sizes['zs_notification']:,} notifications. gunicorn {args.workers} sync workers + 1 rq worker, "
        f"PostgreSQL, Redis; {args.warmup} warm-up + {args.requests} measured sequential requests per page "
        f"({args.export_requests} per export). 企业: {ids['ent_phone']}, the enterprise with most projects "
        f"({ids['ent_projects']:,}), its project {ids['project']} (已入库, every stage); 企业B: "
        f"{ids['typical']['phone']}, one with the average number ({ids['typical']['projects']}), its project "
        f"{ids['typical']['project']} (已入库).",
        "",
        "Load average (1, 5, 15 min): "
        + "; ".join(f"{k} {' '.join(f'{x:.2f}' for x in v)}" for k, v in loads.items())
        + f"; highest 1-min value sampled during the run {peak_load:.2f}.",
        "",
        "Each page's ratio is its p50 over the p50 of the bare page requested alternately with it (the column "
        "bare beside ms); exports, the dossier and the POST are compared with the run's bare p50. The column "
        "× layout is a second reference, not the issue's: the p50 over that of the layout page (`/_bench/layout`: "
        "the bare page's table inside the app's layout, for the same signed-in user) requested alternately with it.",
        "",
        "| role | page | URL | p50 ms | p95 ms | statements | bare beside ms | × bare p50 | layout beside ms "
        "| × layout | |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        role, label, path, kind, p50, p95, stmts, status, _a, beside, layout = row
        ratio = ratio_of(row)
        limit = TARGET_DASHBOARD if kind == "dashboard" else TARGET_PAGE
        flag = ""
        if (status and status >= 500) or p50 is None:
            flag = f"ERROR {status}"
        elif kind in ("page", "dashboard") and ratio is not None and ratio > limit:
            flag = f"> {limit:g}×"
        if stmts is not None and stmts > 10 and kind != "bare":
            flag = (flag + "; " if flag else "") + "> 10 statements"
        if status not in (200, 302, None) and not flag.startswith("ERROR"):
            flag = (flag + "; " if flag else "") + f"status {status}"
        shown = re.sub(r"before=[^&]+", "before=<cursor>", path)
        out.append(
            f"| {role} | {label} | `{shown}` | {fmt(p50)} | {fmt(p95)} | {fmt(stmts, 0)} | {fmt(beside)} | "
            f"{fmt(ratio, 2)} | {fmt(layout)} | {fmt(layout_ratio(row), 2)} | {flag} |"
        )
    if exports:
        out += [
            "",
            "| export | p50 ms | p95 ms | bytes | rows | serving worker: peak RSS MiB / RSS MiB after |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for role, label, p50, p95, size, n, worker in exports:
            out.append(
                f"| {role} {label} | {fmt(p50)} | {fmt(p95)} | {size:,} | {'—' if n is None else f'{n:,}'} | "
                f"{worker[1] / 1024:.0f} / {worker[2] / 1024:.0f} |"
            )
    if floor:
        out += [
            "",
            "The floor of a signed-in page, taken apart (not a target): each signed-in user's own client requests the "
            "bare endpoint itself (`/_bench/bare` with its session: the session, the user's load and every request "
            "hook, no layout) and the layout page, one after an anonymous request of the bare page, "
            f"{args.requests * 2} times.",
            "",
            "| role | bare page ms (anonymous) | the bare endpoint signed in ms | × bare | layout page ms | × bare |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for role, anonymous, signed, layout in floor:
            out.append(
                f"| {role} | {anonymous:.1f} | {signed:.1f} | {signed / anonymous:.2f} | {layout:.1f} | "
                f"{layout / anonymous:.2f} |"
            )
    if load:
        a, b = load["app"], load["bare"]
        mix = ", ".join(f"{n} {role}" for role, n in load["mix"].items())
        out += [
            "",
            f"Concurrent: {args.users} users ({mix}), think time {args.think} s ±50 %, {args.duration:.0f} s each "
            "phase, the same users and sessions on the app's pages, then on the bare page.",
            "",
            "| phase | requests | req/s | errors | other 4xx | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in (("app pages", a), ("bare page", b)):
            out.append(
                f"| {name} | {r['requests']} | {r['throughput']:.2f} | {r['errors']} | {r['unexpected']} | "
                f"{r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} |"
            )
        out.append(
            f"| ratio app / bare | | {a['throughput'] / b['throughput']:.2f} | | | {a['p50'] / b['p50']:.2f} | "
            f"{a['p95'] / b['p95']:.2f} | |"
        )
        if a.get("tail"):
            out += [
                "",
                f"The app phase's tail: the paths with the most answers slower than its p95 ({a['p95']:.1f} ms).",
                "",
                "| path | answers > p95 | answers | p50 ms | p95 ms | max ms |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            out += [
                f"| `{p}` | {n} | {total} | {p50:.1f} | {p95:.1f} | {mx:.1f} |"
                for p, n, total, p50, p95, mx in a["tail"]
            ]
    if rss:
        out += ["", "RSS after the run: " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in rss.items()) + "."]
    if _collections:
        out += [
            "",
            "Full garbage collections (generation 2) of each gunicorn worker during the run: " + describe_collections(),
        ]
    # the targets of issue 12 (reported, not enforced)
    out += ["", "Targets (issue 12):", ""]
    pages = [r for r in rows if r[3] == "page" and r[4] is not None]
    worst = max(pages, key=ratio_of, default=None)
    if worst and bare:
        over = [r for r in pages if ratio_of(r) > TARGET_PAGE]
        out.append(
            f"- every page p50 ≤ {TARGET_PAGE:g}× bare: {'met' if not over else f'missed by {len(over)} pages'} "
            f"of {len(pages)} (worst {worst[0]} {worst[1]} {ratio_of(worst):.2f}×; median page "
            f"{statistics.median(ratio_of(r) for r in pages):.2f}×)"
        )
    with_layout = [r for r in pages if layout_ratio(r) is not None]
    if with_layout:
        ratios = sorted(layout_ratio(r) for r in with_layout)
        worst_l = max(with_layout, key=layout_ratio)
        out.append(
            f"- (second reference, not a target) every page p50 over the same user's layout page: median "
            f"{statistics.median(ratios):.2f}×, {sum(x <= TARGET_PAGE for x in ratios)} of {len(ratios)} ≤ "
            f"{TARGET_PAGE:g}×, worst {worst_l[0]} {worst_l[1]} {layout_ratio(worst_l):.2f}×"
        )
    if floor:
        signed = statistics.median(signed / anonymous for _r, anonymous, signed, _l in floor)
        layout = statistics.median(layout / anonymous for _r, anonymous, _s, layout in floor)
        out.append(
            f"- (the floor, not a target) a signed-in request of the bare endpoint itself: median {signed:.2f}× the "
            f"bare page; the layout page: {layout:.2f}×"
        )
    dash = [r for r in rows if r[3] == "dashboard" and r[4] is not None]
    if dash and bare:
        worst_d = max(ratio_of(r) for r in dash)
        out.append(
            f"- dashboard p50 ≤ {TARGET_DASHBOARD:g}× bare: {'met' if worst_d <= 3 else 'missed'} ({worst_d:.2f}×)"
        )
    if load:
        a, b = load["app"], load["bare"]
        out.append(
            f"- 20 users: throughput ≥ 60 % of bare: {'met' if a['throughput'] >= 0.6 * b['throughput'] else 'missed'} "
            f"({a['throughput'] / b['throughput']:.0%}); 0 errors: {'met' if a['errors'] == 0 else 'missed'} "
            f"({a['errors']}); p95 ≤ 3× bare p95: {'met' if a['p95'] <= 3 * b['p95'] else 'missed'} "
            f"({a['p95'] / b['p95']:.2f}×)"
        )
    big = [e for e in exports if e[5] is not None]
    if big:
        e = max(big, key=lambda x: x[5])
        per_10k = e[2] / max(e[5], 1) * 10_000 / 1000  # seconds per 10,000 rows of the largest export
        out.append(
            f"- .xlsx export of 10,000 rows < 5 s: {'met' if per_10k < 5 else 'missed'} ({per_10k:.1f} s per "
            f"10,000 rows: the largest export here, {e[0]} {e[1]}, {e[5]:,} rows in {e[2] / 1000:.1f} s p50); "
            f"serving worker peak RSS {e[6][1] / 1024:.0f} MiB"
        )
    dossier = [e for e in exports if "JSON" in e[1]]
    if dossier:
        out.append(
            f"- dossier of one complete project < 1 s: {'met' if dossier[0][2] < 1000 else 'missed'} "
            f"({dossier[0][2]:.0f} ms p50)"
        )
    workers = [v for k, v in rss.items() if k.startswith("gunicorn worker")]
    if workers:
        out.append(
            f"- each gunicorn worker < 250 MB RSS after the run: {'met' if max(workers) < 250 * 1e6 / 1024 else 'missed'} "
            f"(largest {max(workers) / 1024:.0f} MiB)"
        )
    if setup:
        out += ["", "Setup: " + ", ".join(f"{k} {v:.0f} s" for k, v in setup.items())]
    return "\n".join(out) + "\n"


if __name__ == "__main__":

    def _stop(signum, _frame):
        stop_all()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.exit(main())
