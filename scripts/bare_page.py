"""The bare page of scripts/bench_pages.py: plain Flask + SQLAlchemy Core + a minimal Jinja template rendering
the review queue's 20-row table (filings waiting at the 市工信 step, newest submission first) from the same
tables. No FAB, no login, no ORM: the floor that the app's pages are compared against.

Served by bench_pages.py as `gunicorn -w 3 bare_page:app` with DATABASE_URL set.
"""

import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text

url = os.environ["DATABASE_URL"]
if url.startswith(("postgresql://", "postgres://")):
    url = "postgresql+psycopg2://" + url.split("://", 1)[1]
engine = create_engine(url, pool_size=2, max_overflow=2)
app = Flask(__name__)

ROWS = text(
    """
    SELECT f.id, f.ent_name, f.project_name, t.name AS town, f.status, f.current_step, f.submitted_at
    FROM zs_filing f LEFT JOIN zs_town t ON t.id = f.town_id
    WHERE f.status = 'reviewing' AND f.current_step = 'city'
    ORDER BY f.submitted_at DESC, f.id DESC
    LIMIT 20
    """
)
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>审核工作台</title></head>
<body><table class="table">
<thead><tr><th>序号</th><th>企业名称</th><th>项目名称</th><th>镇街</th><th>状态</th><th>提交时间</th></tr></thead>
<tbody>
{% for r in rows %}<tr data-id="{{ r.id }}"><td>{{ loop.index }}</td><td>{{ r.ent_name }}</td><td>{{ r.project_name }}</td>
<td>{{ r.town or "" }}</td><td>审核中（{{ r.current_step }}）</td><td>{{ r.submitted_at.strftime("%Y-%m-%d %H:%M") if r.submitted_at else "" }}</td></tr>
{% endfor %}</tbody></table></body></html>"""


@app.route("/bare/")
def bare():
    with engine.connect() as conn:
        rows = conn.execute(ROWS).all()
    return render_template_string(PAGE, rows=rows)
