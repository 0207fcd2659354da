"""Issue 8, sessions: a session has a server-side identity (the user's session epoch), so 退出登录, a password
change or reset and an admin's deactivation or reset end every session and token of that user, on every
device, a copied cookie included. GET /logout/ signs no one out. Driven through HTTP as an attacker would."""

import pytest
from conftest import PASSWORD, get_csrf, login
from helpers import (
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    is_logged_in,
    logout,
    meta_csrf,
    page,
    password_login,
    send_code,
)

NEW_PASSWORD = "New#Pass2026"
EXPIRED = "您的登录已失效，请重新登录"


def _copy_session(app, source):
    """A second browser holding a copy of `source`'s session cookie (what a thief or a shared PC keeps)."""
    cookie = source.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = source.environ_base["REMOTE_ADDR"]
    other.set_cookie(cookie.key, cookie.value)
    return other


def _second_device(app, user, password=PASSWORD):
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.250.0.1"
    assert password_login(other, user["phone"], password).status_code == 302
    return other


def _api_token(client, user, password=PASSWORD, refresh=False):
    resp = client.post(
        "/api/v1/security/login",
        json={"username": user["phone"], "password": password, "provider": "db", "refresh": refresh},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _api_get(client, token):
    return client.get("/api/v1/filing/", headers={"Authorization": f"Bearer {token}"})


def _ended(client):
    """The session no longer works, and the user is sent to the login page with the reason, in Chinese."""
    resp = client.get("/workbench/")
    assert resp.status_code == 302
    assert "/login/" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert EXPIRED in html
    assert not is_logged_in(client)


# --- logout -----------------------------------------------------------------------------------------
def test_a_cookie_copied_before_logout_stops_working_after_it(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    thief = _copy_session(app, client)
    assert is_logged_in(thief)
    logout(client)
    assert not is_logged_in(client)
    _ended(thief)


def test_logout_ends_the_users_other_sessions_and_tokens_too(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    other = _second_device(app, user)
    token = _api_token(app.test_client(), user)["access_token"]
    assert _api_get(app.test_client(), token).status_code == 200
    logout(client)
    _ended(other)
    assert _api_get(app.test_client(), token).status_code == 401
    # and signing in again works as ever
    assert password_login(client, user["phone"], PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_get_logout_does_not_sign_out(client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = client.get("/logout/")  # a link, an <img src>, a prefetch: never a logout
    assert resp.status_code == 200
    doc = page(resp)
    form = doc.xpath('//form[@id="logout-form"]')[0]
    assert form.get("method") == "post" and form.get("action") == "/logout/"
    assert form.xpath('.//input[@name="csrf_token"]')
    assert is_logged_in(client)


def test_post_logout_without_the_csrf_token_does_not_sign_out(client, factory):
    user = factory.enterprise_user()
    login(client, user)
    assert client.post("/logout/").status_code == 400
    assert client.post("/logout/", data={"csrf_token": "forged"}).status_code == 400
    assert is_logged_in(client)


def test_the_navbar_and_the_panel_log_out_with_a_post_form(client, factory):
    user = factory.enterprise_user()
    login(client, user)
    doc = page(client.get("/workbench/"))
    button = doc.xpath('//*[@id="zs-logout"]')[0]
    form = button.xpath("ancestor::form")[0]
    assert form.get("method") == "post" and form.get("action") == "/logout/"
    assert form.xpath('.//input[@name="csrf_token"]/@value')
    assert not doc.xpath('//a[@href="/logout/"]'), "a plain link to /logout/ is left"
    token = form.xpath('.//input[@name="csrf_token"]/@value')[0]
    assert client.post("/logout/", data={"csrf_token": token}).status_code == 302
    assert not is_logged_in(client)


def test_get_logout_when_signed_out_goes_to_the_login_page(client):
    resp = client.get("/logout/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


# --- password change and reset ----------------------------------------------------------------------
def _change_password(client, old, new):
    token = get_csrf(client, "/account/password")
    return client.post(
        "/account/password", data={"csrf_token": token, "old_password": old, "password": new, "confirm": new}
    )


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    other = _second_device(app, user)
    thief = _copy_session(app, client)
    assert _change_password(client, PASSWORD, NEW_PASSWORD).status_code == 302
    assert is_logged_in(client), "the user was signed out of the device they changed the password on"
    _ended(other)
    _ended(thief)


def test_a_jwt_issued_before_a_password_change_is_refused_after_it(app, client, factory):
    user = factory.enterprise_user()
    api = app.test_client()
    tokens = _api_token(api, user, refresh=True)
    assert _api_get(api, tokens["access_token"]).status_code == 200
    login(client, user)
    assert _change_password(client, PASSWORD, NEW_PASSWORD).status_code == 302
    assert _api_get(api, tokens["access_token"]).status_code == 401
    refresh = api.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refresh.status_code == 401
    # a token issued after the change works
    assert _api_get(api, _api_token(api, user, NEW_PASSWORD)["access_token"]).status_code == 200


def test_a_refreshed_jwt_carries_the_epoch(app, factory):
    user = factory.enterprise_user()
    api = app.test_client()
    tokens = _api_token(api, user, refresh=True)
    resp = api.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert resp.status_code == 200
    assert _api_get(api, resp.get_json()["access_token"]).status_code == 200


def test_forgot_password_ends_every_session(app, client, factory, sms):
    user = factory.enterprise_user()
    login(client, user)
    anonymous = app.test_client()
    assert send_code(anonymous, user["phone"], "reset", "/forgot-password/").status_code == 200
    token = get_csrf(anonymous, "/forgot-password/")
    resp = anonymous.post(
        "/forgot-password/",
        data={
            "csrf_token": token,
            "phone": user["phone"],
            "sms_code": sms.last_code(user["phone"]),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert 'id="go-login"' in resp.get_data(as_text=True)
    _ended(client)


# --- the admin's actions ----------------------------------------------------------------------------
@pytest.fixture()
def admin_client(app, factory):
    admin = factory.user("Admin")
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.251.0.1"
    login(c, admin)
    return c


def _set_active(app, client, user_id, active):
    from zsdx.extensions import db
    from zsdx.models import ZsdxUser

    with app.app_context():
        u = db.session.get(ZsdxUser, user_id)
        data = {
            "first_name": u.first_name,
            "phone": u.phone,
            "roles": [r.id for r in u.roles],
        }
        if u.organisation_id:
            data["organisation"] = u.organisation_id
    if active:
        data["active"] = "y"
    data["csrf_token"] = get_csrf(client, f"/users/edit/{user_id}")
    resp = client.post(f"/users/edit/{user_id}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]


def test_deactivation_by_the_admin_ends_the_users_sessions_for_good(app, client, factory, admin_client):
    user = factory.enterprise_user()
    login(client, user)
    token = _api_token(app.test_client(), user)["access_token"]
    _set_active(app, admin_client, user["id"], False)
    assert not is_logged_in(client)
    assert _api_get(app.test_client(), token).status_code == 401
    # switching the account back on does not bring the old session or token back
    _set_active(app, admin_client, user["id"], True)
    assert not is_logged_in(client)
    assert _api_get(app.test_client(), token).status_code == 401
    assert is_logged_in(admin_client), "the admin's own session survives"
    assert password_login(app.test_client(), user["phone"], PASSWORD).status_code == 302


def test_a_password_reset_by_the_admin_ends_the_users_sessions(app, client, factory, admin_client):
    user = factory.enterprise_user()
    login(client, user)
    token = get_csrf(admin_client, f"/resetpassword/form?pk={user['id']}")
    resp = admin_client.post(
        f"/resetpassword/form?pk={user['id']}",
        data={"csrf_token": token, "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD},
    )
    assert resp.status_code == 302
    _ended(client)
    assert is_logged_in(admin_client)


# --- how an ended session behaves -------------------------------------------------------------------
def test_an_ended_session_on_an_ajax_call_gets_json_not_the_login_page(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    thief = _copy_session(app, client)
    token = meta_csrf(thief, "/account/phone")  # the page was open when the session ended elsewhere
    logout(client)
    resp = thief.post(
        "/sms/send", json={"phone": user["phone"], "purpose": "change_phone"}, headers={"X-CSRFToken": token}
    )
    assert resp.status_code in (400, 401) and resp.is_json


def test_a_session_without_an_epoch_is_signed_out(app, client, factory):
    """Sessions issued before the epoch existed (or forged without it) do not count."""
    user = factory.enterprise_user()
    login(client, user)
    with client.session_transaction() as s:
        s.pop("_zsdx_epoch")
    _ended(client)
