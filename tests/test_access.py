"""The attacker's side of accounts and navigation: CSRF, pages of other roles, other users' rows, and each
role seeing exactly its own menu."""

import pytest
from conftest import PASSWORD, get_csrf, login
from helpers import (
    assert_denied,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    logout,
    org_row,
    page,
    user_row,
)
from werkzeug.security import check_password_hash

from zsdx.roles import ROLES

ADMIN_PAGES = [
    "/users/list/",
    "/users/add",
    "/roles/list/",
    "/permissions/list/",
    "/viewmenus/list/",
    "/townview/list/",
    "/industryview/list/",
    "/productcategoryview/list/",
    "/organisationview/list/",
    "/registryview/list/",
]
REVIEWER_PAGES = [
    "/review/",
    "/institution/",
    "/announcementadminview/list/",
    "/announcementadminview/add",
    "/message-replies/",
]


def test_the_checked_routes_exist(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    for url in (
        ADMIN_PAGES
        + REVIEWER_PAGES
        + [
            "/assessment/",
            "/info-change/",
            "/workbench/",
            "/account/password",
            "/account/phone",
            "/notifications/<int:pk>",
            "/login/",
        ]
    ):
        assert url in rules, url


# --- CSRF --------------------------------------------------------------------------------------------
def test_login_post_without_csrf_is_refused(client, factory):
    user = factory.enterprise_user()
    client.get("/login/")
    resp = client.post("/login/", data={"pw-mode": "password", "pw-phone": user["phone"], "pw-password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/workbench/").status_code != 200


def test_change_password_without_csrf_is_refused(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = client.post(
        "/account/password", data={"old_password": PASSWORD, "password": "Hijack@2026", "confirm": "Hijack@2026"}
    )
    assert resp.status_code == 400
    assert check_password_hash(user_row(app, user["phone"])["password"], PASSWORD)
    # a token from another session does not help either
    other = app.test_client()
    forged = get_csrf(other, "/login/")
    resp = client.post(
        "/account/password",
        data={"csrf_token": forged, "old_password": PASSWORD, "password": "Hijack@2026", "confirm": "Hijack@2026"},
    )
    assert resp.status_code == 400
    assert check_password_hash(user_row(app, user["phone"])["password"], PASSWORD)


def _info_changes(app, org_id):
    from zsdx.extensions import db
    from zsdx.models import InfoChangeRequest

    with app.app_context():
        return db.session.query(InfoChangeRequest).filter_by(organisation_id=org_id).count()


def _info_change_data(app, factory, org_id, **over):
    data = dict(org_row(app, org_id), name="中山市变更测试有限公司", credit_code=factory.credit_code())
    data["industry_id"] = data["industry_id"] or 0
    data.update(over)
    return {k: str(v) for k, v in data.items()}


def test_info_change_without_csrf_is_refused(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = client.post("/info-change/", data=_info_change_data(app, factory, user["org_id"]))
    assert resp.status_code == 400
    assert _info_changes(app, user["org_id"]) == 0


def test_change_phone_without_csrf_is_refused(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = client.post(
        "/account/phone", data={"old_phone": user["phone"], "phone": "13700000000", "sms_code": "123456"}
    )
    assert resp.status_code == 400
    assert user_row(app, user["phone"])["id"] == user["id"]


# --- pages of other roles ----------------------------------------------------------------------------
def test_enterprise_cannot_open_admin_or_reviewer_pages(client, login_as):
    login_as("企业")
    for url in ADMIN_PAGES + REVIEWER_PAGES:
        assert_denied(client.get(url), url)


def test_city_bureau_cannot_open_admin_pages(client, login_as):
    login_as("市工信")
    for url in ADMIN_PAGES:
        assert_denied(client.get(url), url)
    for url in ("/review/", "/announcementadminview/list/", "/message-replies/"):
        assert client.get(url).status_code == 200, url


def test_enterprise_cannot_post_to_admin_forms(app, client, login_as):
    from zsdx.extensions import db
    from zsdx.models import Town

    login_as("企业")
    token = get_csrf(client, "/workbench/")
    resp = client.post("/townview/add", data={"csrf_token": token, "code": "9999", "name": "攻击镇", "sort": "1"})
    assert_denied(resp, "/townview/add")
    resp = client.post(
        "/announcementadminview/add", data={"csrf_token": token, "title": "假公告", "body": "x", "published": "y"}
    )
    assert_denied(resp, "/announcementadminview/add")
    with app.app_context():
        assert db.session.query(Town).filter_by(code="9999").count() == 0


def test_town_reviewer_cannot_open_enterprise_pages(client, factory):
    reviewer = factory.user("镇街", town_code="2010")
    login(client, reviewer)
    for url in (
        "/assessment/",
        "/info-change/",
        "/messages/",
        "/products/",
        "/message-replies/",
        "/announcementadminview/list/",
        "/users/list/",
    ):
        assert_denied(client.get(url), url)
    assert client.get("/review/").status_code == 200


def test_anonymous_is_sent_to_login(client):
    for url in (
        "/workbench/",
        "/account/password",
        "/account/phone",
        "/info-change/",
        "/notifications/",
        "/notifications/1",
        "/messages/",
        "/review/",
        "/assessment/",
        "/users/list/",
    ):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert "/login/" in resp.headers["Location"], url


# --- menus -------------------------------------------------------------------------------------------
def _menu_hrefs(client):
    doc = page(client.get("/workbench/" if client.get("/workbench/").status_code == 200 else "/"))
    return {a.get("href") for a in doc.xpath('//ul[@id="zs-nav"]//a') if a.get("href") not in (None, "#", "")}


def _expected_hrefs(app, role):
    from zsdx.extensions import appbuilder

    with app.test_request_context():
        return {appbuilder.menu.find(name).get_url() for name in ROLES[role]["menus"]}


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_sees_exactly_its_menu(app, client, factory, role):
    kw = {"town_code": "2010"} if role == "镇街" else {}
    if role in ("企业", "服务商"):
        kw["org"] = factory.org("enterprise" if role == "企业" else "provider")
    login(client, factory.user(role, **kw))
    assert _menu_hrefs(client) == _expected_hrefs(app, role)
    # and every entry it sees opens
    for href in _expected_hrefs(app, role):
        assert client.get(href).status_code == 200, href


def test_enterprise_menu_is_the_manuals(client, login_as):
    """首页 我的工作台 评估评测 上架产品, and nothing of the reviewers'."""
    login_as("企业")
    assert _menu_hrefs(client) == {"/", "/workbench/", "/assessment/", "/products/"}


def test_anonymous_menu_is_home_only(client):
    doc = page(client.get("/"))
    assert {a.get("href") for a in doc.xpath('//ul[@id="zs-nav"]//a')} == {"/"}


# --- other users' rows -------------------------------------------------------------------------------
def _notification(app, user_id, text, link=None):
    from zsdx.extensions import db
    from zsdx.models import Notification

    with app.app_context():
        note = Notification(user_id=user_id, kind="review", text=text, link=link, send_sms=False)
        db.session.add(note)
        db.session.commit()
        return note.id


def _is_read(app, note_id):
    from zsdx.extensions import db
    from zsdx.models import Notification

    with app.app_context():
        return db.session.get(Notification, note_id).is_read


def test_cannot_open_someone_elses_notification(app, client, factory):
    owner = factory.enterprise_user()
    intruder = factory.enterprise_user()
    note = _notification(app, owner["id"], "您好，您提交的测试项目备案审核，镇街审核已通过")
    login(client, intruder)
    assert client.get(f"/notifications/{note}").status_code == 404
    assert "镇街审核已通过" not in client.get("/notifications/?kind=review").get_data(as_text=True)
    assert "镇街审核已通过" not in client.get("/workbench/").get_data(as_text=True)
    assert _is_read(app, note) is False


def test_opening_own_notification_marks_it_read(app, client, factory):
    owner = factory.enterprise_user()
    note = _notification(app, owner["id"], "您好，您提交的测试项目备案审核，第三方审核已通过", link="/workbench/")
    login(client, owner)
    html = client.get("/workbench/?panel=review").get_data(as_text=True)
    assert f"/notifications/{note}" in html
    assert page(client.get("/workbench/")).xpath('//*[@id="unread-review"]')[0].text_content().strip() == "1"
    resp = client.get(f"/notifications/{note}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workbench/")
    assert _is_read(app, note) is True
    assert not page(client.get("/workbench/")).xpath('//*[@id="unread-review"]')


def test_read_all_only_touches_own_notifications(app, client, factory):
    owner = factory.enterprise_user()
    other = factory.enterprise_user()
    mine = _notification(app, owner["id"], "我的通知")
    theirs = _notification(app, other["id"], "别人的通知")
    login(client, owner)
    token = get_csrf(client, "/notifications/")
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 302
    assert _is_read(app, mine) is True
    assert _is_read(app, theirs) is False


def test_info_change_of_one_enterprise_is_not_shown_to_another(app, client, factory):
    a = factory.enterprise_user()
    b = factory.enterprise_user()
    login(client, a)
    data = _info_change_data(app, factory, a["org_id"], name="中山市甲企业变更后名称有限公司")
    data["csrf_token"] = get_csrf(client, "/info-change/")
    resp = client.post("/info-change/", data=data)
    assert resp.status_code == 302
    assert _info_changes(app, a["org_id"]) == 1
    assert "中山市甲企业变更后名称有限公司" in client.get("/info-change/").get_data(as_text=True)
    logout(client)
    login(client, b)
    html = client.get("/info-change/").get_data(as_text=True)
    assert "中山市甲企业变更后名称有限公司" not in html
    assert data["credit_code"] not in html
    assert 'id="pending-change"' not in html
    assert _info_changes(app, b["org_id"]) == 0


def test_message_board_is_per_organisation(app, client, factory):
    a = factory.enterprise_user()
    b = factory.enterprise_user()
    login(client, a)
    token = get_csrf(client, "/messages/")
    assert client.post("/messages/", data={"csrf_token": token, "body": "甲企业的私密留言"}).status_code == 302
    logout(client)
    login(client, b)
    assert "甲企业的私密留言" not in client.get("/messages/").get_data(as_text=True)
