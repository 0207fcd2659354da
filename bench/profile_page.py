"""Profile one page in-process (issue 12): where a request's time goes, function by function.

Builds the app on DATABASE_URL (a gen-load database, e.g. the one bench/run.py serves), signs in as PHONE
through the login form (with its CSRF token), requests URL a few times to warm up, then N times under
cProfile and prints the functions with the most cumulative and own time. The Werkzeug test client is used,
so there is no socket and no gunicorn: what is printed is the app's own cost.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/zsdx_bench \
        .venv/bin/python bench/profile_page.py 13800000001 /workbench/ -n 200
    ... bench/profile_page.py - /_bench/bare           # '-' = anonymous
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from run import login_form  # noqa: E402  (bench/run.py: the same form the benchmark's clients post)

CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')


def show_statements(app, client, url):
    """One more request, printing each SQL statement it sends and the time the database took (median of 5)."""
    from sqlalchemy import event

    from zsdx.extensions import db

    with app.app_context():
        engine = db.engine
    runs = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["zsdx_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        runs[-1].append(((time.perf_counter() - conn.info.pop("zsdx_t0")) * 1000, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(5):
            runs.append([])
            client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    for i, (_, statement) in enumerate(runs[0]):
        times = sorted(run[i][0] for run in runs if len(run) > i)
        print(f"  {times[len(times) // 2]:7.2f} ms  {' '.join(statement.split())[:220]}")
    total = sorted(sum(t for t, _ in run) for run in runs)[len(runs) // 2]
    print(f"  {total:7.2f} ms  in all ({len(runs[0])} statements)")


PACKAGES = (  # (label, what a profiled function's file name contains), the first that matches
    ("templates (compiled Jinja)", ".html"),
    ("jinja2", "/jinja2/"),
    ("markupsafe", "/markupsafe/"),
    ("sqlalchemy", "/sqlalchemy/"),
    ("psycopg2 / sqlite3 (driver, incl. waiting for the database)", "psycopg2"),
    ("flask_appbuilder", "/flask_appbuilder/"),
    ("flask_login / flask_wtf / flask_babel / flask_limiter / babel", "/flask_"),
    ("flask", "/flask/"),
    ("werkzeug", "/werkzeug/"),
    ("itsdangerous", "/itsdangerous/"),
    ("zsdx", "/zsdx/"),
)


def show_packages(prof, n):
    """The profiled requests' own time (tottime) summed by package, in ms per request: which layer the time
    is spent in, as opposed to which function."""
    stats = pstats.Stats(prof).stats
    sums = {}
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        where = filename if filename != "~" else name  # C functions: "~" and "<method 'execute' of …>"
        label = next((label for label, part in PACKAGES if part in where), None)
        if label is None:
            parts = filename.rsplit("/", 2)
            label = "python / C built-ins" if filename == "~" else "other (" + parts[max(0, len(parts) - 2)] + ")"
        sums[label] = sums.get(label, 0.0) + tottime
    total = sum(sums.values())
    print(f"own time by package (profiled, {total / n * 1000:.2f} ms a request):")
    for label, seconds in sorted(sums.items(), key=lambda kv: -kv[1])[:18]:
        print(f"  {seconds / n * 1000:7.2f} ms  {seconds / total * 100:5.1f} %  {label}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phone", help="the account to sign in as ('-' for anonymous)")
    ap.add_argument("url")
    ap.add_argument("-n", type=int, default=100, help="profiled requests")
    ap.add_argument("--password", default="Zsdx@2026")
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--sort", default="cumulative,tottime")
    ap.add_argument("--sql", action="store_true", help="also print each statement of one request with its time")
    ap.add_argument("--by-package", action="store_true", help="also print the own time summed by package")
    ap.add_argument("--callers", metavar="REGEX", help="also print who calls the functions matching REGEX")
    args = ap.parse_args(argv)

    os.environ.setdefault("ZSDX_BENCH", "1")
    os.environ.setdefault("CAPTCHA_ENABLED", "0")
    from zsdx import create_app

    app = create_app()
    client = app.test_client()
    if args.phone != "-":
        page = client.get("/login/").get_data(as_text=True)
        token = CSRF.search(page).group(1)
        resp = client.post("/login/", data=login_form(token, args.phone, args.password))
        if resp.status_code != 302:
            raise SystemExit(f"login as {args.phone} failed: {resp.status_code}")
    for _ in range(5):
        resp = client.get(args.url)
    print(f"{args.url}: HTTP {resp.status_code}, {resp.headers.get('X-Bench-Statements')} statements")

    if args.sql:
        show_statements(app, client, args.url)
    t0 = time.perf_counter()
    for _ in range(args.n):
        client.get(args.url)
    plain = (time.perf_counter() - t0) / args.n * 1000

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.n):
        client.get(args.url)
    prof.disable()
    print(f"mean {plain:.2f} ms per request without the profiler ({args.n} requests)")
    if args.by_package:
        show_packages(prof, args.n)
    for key in args.sort.split(","):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key)
        stats.print_stats(args.top)
        print(out.getvalue())
    if args.callers:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_callers(args.callers)
        print(out.getvalue())


if __name__ == "__main__":
    main()
