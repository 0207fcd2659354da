"""Security headers on every response (zsdx/headers.py, issue 8): no framing, a nonce-based CSP that the
pages satisfy, nosniff, Referrer-Policy, no-store on pages; and through a real gunicorn (gunicorn.conf.py):
no `Server: gunicorn`, and an over-large upload answered with the Chinese 413 page instead of a reset."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from conftest import login
from helpers_review import make_filing, new_client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _assert_security_headers(resp, page=True):
    h = resp.headers
    assert h.get("X-Frame-Options") == "DENY"
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin")
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    if page:
        assert "no-store" in h.get("Cache-Control", "")
    assert "gunicorn" not in h.get("Server", "")
    return csp


def _nonce(csp):
    return re.search(r"'nonce-([^']+)'", csp).group(1)


def _scripts_carry_the_nonce(resp, csp):
    """Every <script> of the page carries this response's nonce (else the browser refuses to run it)."""
    nonce = _nonce(csp)
    html = resp.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html.split("<body", 1)[-1]), "an inline event handler would be refused"


def test_login_page_headers(client):
    resp = client.get("/login/")
    assert resp.status_code == 200
    csp = _assert_security_headers(resp)
    _scripts_carry_the_nonce(resp, csp)
    other = _nonce(client.get("/login/").headers["Content-Security-Policy"])
    assert other != _nonce(csp), "a fresh nonce per response"


def test_signed_in_pages_and_the_review_page_cannot_be_framed(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="town")
    reviewer = new_client(app)
    login(reviewer, factory.user("镇街", town_code="2010"))
    for url in ("/workbench/", "/review/", f"/review/filing/{pk}", "/notifications/"):
        resp = reviewer.get(url)
        assert resp.status_code == 200, url
        csp = _assert_security_headers(resp)
        _scripts_carry_the_nonce(resp, csp)


def test_admin_list_headers(app, factory):
    admin = new_client(app)
    login(admin, factory.user("Admin"))
    for url in ("/users/list/", "/townview/list/", "/roles/list/", "/users/add"):
        resp = admin.get(url)
        assert resp.status_code == 200, url
        csp = _assert_security_headers(resp)
        _scripts_carry_the_nonce(resp, csp)


def test_error_pages_and_json_carry_the_headers(client):
    _assert_security_headers(client.get("/no-such-page"))
    _assert_security_headers(client.get("/users/list/", query_string={"x": "\x00"}))
    resp = client.get("/api/v1/no-such-thing")
    assert resp.is_json
    _assert_security_headers(resp)


def test_static_files_stay_cacheable(client):
    resp = client.get("/static/zsdx/zsdx.js")
    assert resp.status_code == 200
    _assert_security_headers(resp, page=False)
    assert "no-store" not in resp.headers.get("Cache-Control", "")


def test_pages_link_versioned_static_files_cached_for_a_year(client):
    """Every script and style sheet of a page (ours and FAB's) carries its version, and a versioned request is
    cached for a year: a page costs no round trip per file; a changed file gets a new URL."""
    import re

    html = client.get("/login/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("zsdx/zsdx.js" in u for u in urls) and any("appbuilder" in u for u in urls), urls
    assert all(re.search(r"[?&]v=[0-9a-f]+-[0-9a-f]+", u) for u in urls), urls
    for url in urls[:4]:
        resp = client.get(url.replace("&amp;", "&"))
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    # an unversioned or unknown file is not cached that way
    assert "immutable" not in client.get("/static/zsdx/zsdx.js").headers.get("Cache-Control", "")
    assert client.get("/static/zsdx/nothing.js?v=1-1").status_code == 404


# --- through gunicorn ---------------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(app):
    port = _free_port()
    env = dict(os.environ, CAPTCHA_ENABLED="0", REDIS_URL="", PYTHONPATH=ROOT)
    env.pop("SERVER_NAME", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "1", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_gunicorn_sends_no_server_header(gunicorn):
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=30)
    conn.request("GET", "/login/")
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200
    assert resp.getheader("Server") is None, resp.getheader("Server")
    assert resp.getheader("X-Frame-Options") == "DENY"


def test_over_large_upload_gets_the_chinese_413_page_not_a_reset(app, gunicorn):
    """The browser sends the whole body before it reads the answer: the server must read it, then refuse."""
    size = app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024
    boundary = "zsdxboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="大文件.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_len = len(head) + size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=120)
    conn.putrequest("POST", "/info-change/")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(body_len))
    conn.putheader("Accept", "text/html")
    conn.endheaders()
    conn.send(head)
    chunk = b"%PDF-" + b"0" * (1024 * 1024 - 5)
    sent = 0
    while sent < size:
        part = chunk[: min(len(chunk), size - sent)]
        conn.send(part)
        sent += len(part)
    conn.send(tail)
    resp = conn.getresponse()
    html = resp.read().decode()
    assert resp.status == 413
    assert "上传" in html and "100 MB" in html
    assert resp.getheader("Server") is None
