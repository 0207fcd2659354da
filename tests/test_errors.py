"""Error pages (zsdx/errors.py): Chinese, in the site's layout, with a way back; JSON for API and AJAX calls;
the page-expired (CSRF) story; the 500 page with the database down; <html lang="zh-CN"> everywhere."""

import os
import re

import flask_appbuilder
import pytest
from conftest import PASSWORD, fresh_phone, login
from helpers import meta_csrf, page

CJK = re.compile(r"[\u4e00-\u9fff]")


def _error_page(resp, code):
    assert resp.status_code == code
    assert resp.mimetype == "text/html"
    doc = page(resp)
    assert doc.xpath("//html/@lang") == ["zh-CN"]
    assert doc.xpath('//header[contains(@class, "zs-header")]'), "not in the site's layout"
    box = doc.xpath('//*[@id="zs-error"]')
    assert box and box[0].get("data-code") == str(code)
    text = box[0].text_content()
    assert "Werkzeug" not in resp.get_data(as_text=True)
    assert CJK.search(doc.xpath('//*[@id="zs-error-title"]')[0].text_content())
    assert doc.xpath('//*[@id="zs-error-back"]') and doc.xpath('//*[@id="zs-error-home"]')
    return doc, text


def test_404_is_a_chinese_page_for_an_anonymous_user(client):
    doc, text = _error_page(client.get("/no-such-page"), 404)
    assert "页面不存在" in text
    assert doc.xpath('//*[@id="zs-login"]'), "the normal header (log in / register) is shown"


def test_404_for_a_signed_in_user_keeps_the_menu(client, login_as):
    login_as("企业")
    doc, _ = _error_page(client.get("/workbench/no-such-page"), 404)
    assert doc.xpath('//*[@id="zs-logout"]')
    assert not doc.xpath('//*[@id="zs-error-login"]')


def test_403_offers_the_way_back(client, factory):
    user = factory.user("企业")  # an enterprise account without an enterprise may not start an assessment
    login(client, user)
    doc, text = _error_page(client.get("/assessment/new"), 403)
    assert "无权" in text


def test_405_is_chinese(client):
    _error_page(client.post("/"), 405)


def test_413_is_chinese(app, client):
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        resp = client.post("/forgot-password/", data={"phone": "1" * 5000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    _, text = _error_page(resp, 413)
    assert "100 MB" in text


def test_api_errors_are_json_in_chinese(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404 and resp.is_json
    body = resp.get_json()
    assert body["ok"] is False and body["code"] == 404 and CJK.search(body["message"])


# --- 429 outside the login ----------------------------------------------------------------------------
def test_429_page_and_json_are_chinese(client):
    """The registry search allows 60 GETs a minute per address; the 61st is refused in Chinese."""
    for i in range(60):
        assert client.get("/register/registry?q=x").status_code == 200, i
    doc, text = _error_page(client.get("/register/registry?q=x"), 429)
    assert "秒后再试" in text
    resp = client.get("/register/registry?q=x", headers={"Accept": "application/json, text/javascript, */*; q=0.01"})
    assert resp.status_code == 429 and resp.is_json
    assert "秒后再试" in resp.get_json()["message"]
    assert int(resp.headers["Retry-After"]) >= 1


# --- an expired page (CSRF) -----------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "not-a-valid-token"])
def test_form_post_with_a_missing_or_bad_csrf_token_explains_the_expired_page(client, token):
    data = {"phone": fresh_phone(), "sms_code": "123456", "password": PASSWORD, "confirm": PASSWORD}
    if token:
        data["csrf_token"] = token
    doc, text = _error_page(client.post("/forgot-password/", data=data), 400)
    assert "页面已过期" in doc.xpath('//*[@id="zs-error-title"]')[0].text_content()
    assert "上一页" in text  # what was typed waits there
    back = doc.xpath('//*[@id="zs-error-back"]')[0]
    assert "zs-history-back" in back.get("class")  # zsdx.js: history.back() keeps the browser's form data
    login_link = doc.xpath('//*[@id="zs-error-login"]')
    assert login_link and login_link[0].get("target") == "_blank"  # log in again without leaving the form


def test_a_signed_in_user_with_an_expired_page_is_not_offered_to_log_in(client, login_as):
    login_as("企业")
    doc, _ = _error_page(client.post("/account/password", data={"csrf_token": "stale"}), 400)
    assert not doc.xpath('//*[@id="zs-error-login"]')


def test_ajax_with_a_bad_csrf_token_gets_chinese_json_and_a_fresh_token_works(client):
    phone = fresh_phone()
    resp = client.post("/sms/send", json={"phone": phone, "purpose": "register"}, headers={"X-CSRFToken": "stale"})
    assert resp.status_code == 400 and resp.is_json
    body = resp.get_json()
    assert body["csrf_expired"] is True and CJK.search(body["message"])
    meta_csrf(client, "/register/")  # the session the page belongs to
    fresh = client.get("/csrf-token")
    assert fresh.headers["Cache-Control"] == "no-store"
    token = fresh.get_json()["csrf_token"]
    resp = client.post("/sms/send", json={"phone": phone, "purpose": "register"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_json()


# --- 500 with the database down ----------------------------------------------------------------------------
@pytest.fixture()
def database_down(app):
    """Point the app's engine at a database that cannot be opened (the edge, not the code under test)."""
    from sqlalchemy import create_engine

    from zsdx.extensions import db

    engines = db._app_engines[app]
    real = engines[None]
    engines[None] = create_engine("sqlite:////nonexistent-dir/zsdx-down.db")
    old = app.config["PROPAGATE_EXCEPTIONS"]
    app.config["PROPAGATE_EXCEPTIONS"] = False  # serve the 500 page as production does
    with app.app_context():
        db.session.remove()
    try:
        yield
    finally:
        engines[None].dispose()
        engines[None] = real
        app.config["PROPAGATE_EXCEPTIONS"] = old
        with app.app_context():
            db.session.remove()


def test_500_page_renders_with_the_database_down(client, login_as, database_down):
    doc, text = _error_page(client.get("/workbench/"), 500)
    assert "服务器" in text
    assert not doc.xpath('//*[@id="zs-nav"]'), "the menu needs the database: the 500 page has none"


def test_500_with_the_database_down_for_an_anonymous_user(client, database_down):
    _error_page(client.get("/"), 500)


# --- <html lang> -------------------------------------------------------------------------------------------
def _lang(resp):
    assert resp.status_code == 200, resp.status_code
    return page(resp).xpath("//html/@lang")


def test_every_page_says_it_is_chinese(client, factory):
    for url in ("/", "/login/", "/register/", "/forgot-password/"):
        assert _lang(client.get(url)) == ["zh-CN"], url
    login(client, factory.enterprise_user())
    assert _lang(client.get("/workbench/")) == ["zh-CN"]


def test_fab_generated_pages_say_it_is_chinese(client, login_as):
    login_as("Admin")
    for url in ("/users/list/", "/roles/list/", "/townview/list/"):
        assert _lang(client.get(url)) == ["zh-CN"], url


def test_init_template_is_fab_s_plus_lang():
    """zsdx/templates/appbuilder/init.html overrides FAB's only to add lang: fail when FAB's changes."""
    fab = os.path.join(os.path.dirname(flask_appbuilder.__file__), "templates", "appbuilder", "init.html")
    ours = os.path.join(os.path.dirname(__file__), "..", "zsdx", "templates", "appbuilder", "init.html")
    with open(fab, encoding="utf-8") as fh:
        expected = fh.read().replace("<html>", '<html lang="zh-CN">', 1)
    with open(ours, encoding="utf-8") as fh:
        text = re.sub(r"\A\{#.*?#\}\n", "", fh.read(), flags=re.S)
    assert text == expected
