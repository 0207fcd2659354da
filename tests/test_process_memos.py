"""What a page's fixed cost keeps across requests (issue 12) answers exactly as the uncached path would:
`url_for` (zsdx/headers.py) and the templates' `_()` (zsdx/templating.py); and the bench pages
(zsdx/benchhooks.py) exist only when ZSDX_BENCH=1."""

import os
import shutil
import subprocess
import sys

from conftest import TEST_DATABASE_URL, login
from helpers_review import new_client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _werkzeug_url(app, endpoint, **values):
    """The URL as Flask builds it, without the memo."""
    from flask import request

    return request.url_root.rstrip("/")[len(request.host_url.rstrip("/")) :] + app.url_map.bind("localhost").build(
        endpoint, values
    )


def test_memoised_urls_are_the_urls_flask_builds(app):
    from flask import url_for

    cases = [
        ("WorkbenchView.index", {}),
        ("WorkbenchView.index", {"group": "diagnosis", "tab": "pre_diagnosis"}),
        ("FilingView.detail", {"pk": 7}),
        ("FilingView.detail", {"pk": 8}),
        ("ReviewQueueView.detail", {"subject": "filing", "pk": 3}),
        ("NotificationView.list", {"kind": "todo"}),
    ]
    with app.test_request_context("/"):
        for endpoint, values in cases:
            first = url_for(endpoint, **values)
            assert first == url_for(endpoint, **values)  # the second answer comes from the memo
            assert first == _werkzeug_url(app, endpoint, **values), (endpoint, values)
        assert url_for("FilingView.detail", pk=7) != url_for("FilingView.detail", pk=8)
        # external URLs and anchors are Flask's own
        assert url_for("FilingView.detail", pk=7, _external=True).startswith("http://localhost/")
        assert url_for("FilingView.detail", pk=7, _anchor="x").endswith("/7#x")


def test_the_application_root_is_part_of_the_memo(app):
    """Behind a proxy that mounts the app under a prefix, the same link carries that prefix, and a request
    without it still gets the bare one."""
    from flask import url_for

    with app.test_request_context("/", base_url="http://localhost/zsdx/"):
        mounted = url_for("FilingView.detail", pk=5)
    with app.test_request_context("/"):
        plain = url_for("FilingView.detail", pk=5)
    assert mounted == "/zsdx" + plain


def test_long_values_and_relative_endpoints_are_not_memoised(app):
    from flask import url_for

    from zsdx import headers

    with app.test_request_context("/"):
        assert headers._memo_key("ProductView.index", {"q": "智" * 65}) is None
        assert headers._memo_key(".list", {}) is None
        assert headers._memo_key("ProductView.index", {"page": True}) is None
        url = url_for("ProductView.index", q="智" * 200)
        assert url.count("%E6%99%BA") == 200


def test_template_texts_are_translated_escaped_and_formatted_as_before(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        assert render_template_string('{{ _("Log out") }}|{{ _("Log out") }}') == "退出登录|退出登录"
        # variables are escaped and filled in every time, the text itself is kept
        page = render_template_string('{{ _("Under review (%(step)s)", step=s) }}', s="<b>镇街</b>")
        assert "&lt;b&gt;镇街&lt;/b&gt;" in page and "<b>" not in page
        other = render_template_string('{{ _("Under review (%(step)s)", step=s) }}', s="市工信")
        assert "市工信" in other and "镇街" not in other
        # a text without variables is still `%`-ed once, as Jinja's own gettext does ("%%" -> "%")
        assert render_template_string('{{ _("100%% done") }}') == "100% done"
        assert render_template_string('{{ _("100%% done") }}') == "100% done"


def test_the_bench_pages_exist_only_in_a_bench_run(app, factory, tmp_path):
    """Without ZSDX_BENCH=1 (production, and this test app) there is no /_bench route at all; with it, the bare
    page and the layout page (the same table in the app's layout) answer."""
    from helpers_review import make_filing

    make_filing(app, factory.enterprise_user("2010"))  # a submitted filing among the rows (its time is shown)
    client = new_client(app)
    login(client, factory.enterprise_user())
    assert client.get("/_bench/bare").status_code == 404
    assert client.get("/_bench/layout").status_code == 404

    script = (
        "from zsdx import create_app\n"
        "app = create_app({'TESTING': True, 'SERVER_NAME': None, 'REDIS_URL': ''})\n"
        "c = app.test_client()\n"
        "for path in ('/_bench/bare', '/_bench/layout'):\n"
        "    r = c.get(path)\n"
        "    html = r.get_data(as_text=True)\n"
        "    print(path, r.status_code, r.headers.get('X-Bench-Statements'), '<table' in html, 'zs-header' in html)\n"
    )
    database_url = TEST_DATABASE_URL
    if database_url.startswith("sqlite:///"):  # a copy: the app's own start-up writes, and SQLite locks the file
        copy = os.path.join(str(tmp_path), "bench.db")
        shutil.copyfile(database_url[len("sqlite:///") :], copy)
        database_url = "sqlite:///" + copy
    env = dict(os.environ, ZSDX_BENCH="1", DATABASE_URL=database_url, REDIS_URL="", CAPTCHA_ENABLED="0")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout.split("\n")
    assert "/_bench/bare 200 1 True False" in out, (out, run.stderr[-3000:])
    assert any(line.startswith("/_bench/layout 200 ") and line.endswith("True True") for line in out), out
