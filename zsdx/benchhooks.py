"""Benchmark hooks (issue 12, bench/run.py): off unless the environment sets ZSDX_BENCH=1.

When on:
- every response carries `X-Bench-Statements` (the SQL statements the request sent: a
  `before_cursor_execute` listener on the engine, as scripts/count_queries.py counts them) and
  `X-Bench-Worker` ("<pid> <peak RSS KiB> <current RSS KiB>" of the worker that served it) and `X-Bench-GC`
  (the worker's full garbage collections so far: "<count> <total ms> <longest ms> <frozen objects>");
- `/_bench/bare` is the bare page the app's pages are compared with: the newest 20 filings joined to their
  organisation and town, one SQL statement (SQLAlchemy Core), a plain Jinja template, no FAB view, no login;
- `/_bench/layout` is the same table inside the app's layout (zsdx/base.html: header, menu, unread badge,
  footer) for whoever is signed in (the same user load as every page): the floor of a page of the app, a
  second reference printed beside the first.

When off (the default, and always in production), `register` returns at once: no listener, no header, no
route.
"""

import gc
import os
import resource
import time

from flask import Blueprint, current_app, g, has_app_context
from sqlalchemy import DateTime, event, text

ENV_FLAG = "ZSDX_BENCH"

BARE_ROWS = text(
    """
    SELECT f.id, f.filing_no, f.project_name, o.name AS org_name, t.name AS town, f.status, f.submitted_at
    FROM zs_filing f
    JOIN zs_organisation o ON o.id = f.organisation_id
    LEFT JOIN zs_town t ON t.id = f.town_id
    ORDER BY f.id DESC
    LIMIT 20
    """
).columns(submitted_at=DateTime)  # typed: SQLite returns a text column as it is stored (a string)
BARE_TABLE = """<table class="table">
<thead><tr><th>#</th><th>filing_no</th><th>organisation</th><th>project</th><th>town</th><th>status</th>
<th>submitted_at</th></tr></thead>
<tbody>
{% for r in rows %}<tr data-id="{{ r.id }}"><td>{{ loop.index }}</td><td>{{ r.filing_no or "" }}</td>
<td>{{ r.org_name }}</td><td>{{ r.project_name or "" }}</td><td>{{ r.town or "" }}</td><td>{{ r.status }}</td>
<td>{{ r.submitted_at.strftime("%Y-%m-%d %H:%M") if r.submitted_at else "" }}</td></tr>
{% endfor %}</tbody></table>"""
BARE_PAGE = (
    '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>bench</title></head>\n<body>'
    + BARE_TABLE
    + "</body></html>"
)
# the same table inside the app's layout (zsdx/base.html), for whoever is signed in
LAYOUT_PAGE = '{% extends "zsdx/base.html" %}{% block content %}' + BARE_TABLE + "{% endblock %}"


def enabled():
    return os.environ.get(ENV_FLAG) == "1"


def _rss_kib():
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return 0


class _FullCollections:
    """The worker's generation-2 collections: how many, their total and longest pause (gc.callbacks)."""

    def __init__(self):
        self.count, self.total_ms, self.longest_ms, self._t0 = 0, 0.0, 0.0, None
        self._frozen = None

    def __call__(self, phase, info):
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        elif self._t0 is not None:
            ms = (time.perf_counter() - self._t0) * 1000
            self.count, self.total_ms, self.longest_ms = self.count + 1, self.total_ms + ms, max(self.longest_ms, ms)

    def header(self):
        if self._frozen is None:  # read once: gc.get_freeze_count() walks every frozen object (~20 ms at 220,000)
            self._frozen = gc.get_freeze_count()
        return f"{self.count} {self.total_ms:.1f} {self.longest_ms:.1f} {self._frozen}"


def register(app):
    """Install the hooks on `app` when ZSDX_BENCH=1; otherwise do nothing."""
    if not enabled():
        return
    from .extensions import db

    def count(conn, cursor, statement, parameters, context, executemany):
        if has_app_context():
            g._bench_statements = g.get("_bench_statements", 0) + 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    collections = _FullCollections()
    gc.callbacks.append(collections)

    def report(response):
        response.headers["X-Bench-Statements"] = str(g.get("_bench_statements", 0))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        response.headers["X-Bench-Worker"] = f"{os.getpid()} {peak} {_rss_kib()}"
        response.headers["X-Bench-GC"] = collections.header()
        return response

    # index 0: Flask runs the app's after_request functions last-registered first, so this one runs last and
    # also counts what the others (e.g. deliver_pending) send
    app.after_request_funcs.setdefault(None, []).insert(0, report)

    bp = Blueprint("zsdx_bench", __name__, url_prefix="/_bench")

    compiled = {}

    def template(source):
        # compiled once per process, as Flask's loader caches a file template (compiling the source on every
        # request, as render_template_string does, made the reference page ~2x slower than a real bare page)
        if source not in compiled:
            compiled[source] = current_app.jinja_env.from_string(source)
        return compiled[source]

    @bp.route("/bare")
    def bare():
        rows = db.session.execute(BARE_ROWS).all()
        return template(BARE_PAGE).render(rows=rows)

    @bp.route("/layout")
    def layout():
        from flask import render_template  # with the app's context processors, as every page of the app

        appbuilder = current_app.appbuilder
        rows = db.session.execute(BARE_ROWS).all()
        return render_template(
            template(LAYOUT_PAGE), rows=rows, base_template=appbuilder.base_template, appbuilder=appbuilder
        )

    app.register_blueprint(bp)
