"""Login (SPEC §2): 手机号 + 密码 + 图形验证码, or 手机号 + 短信验证码; 5 wrong passwords lock the account
for 15 minutes and the page says so; the form and the JSON API login are rate-limited per login name,
under a generous per-IP ceiling."""

import datetime as dt
import random
import re
import time

import pytest
from conftest import PASSWORD, fresh_phone
from helpers import (
    error_of,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    is_logged_in,
    logout,
    meta_csrf,
    page,
    password_login,
    send_code,
    sms_login,
    value_of,
)

WRONG = "Wrong@2026x"


def _failure_row(app, login):
    from zsdx.extensions import db
    from zsdx.models import LoginFailure

    with app.app_context():
        return db.session.query(LoginFailure).filter_by(login=login).one_or_none()


def _lock_out(client, user, times=5):
    resp = None
    for _ in range(times):
        resp = password_login(client, user["phone"], WRONG)
        assert resp.status_code == 200
    return resp


def test_password_login_lands_on_the_workbench(client, factory):
    user = factory.enterprise_user()
    resp = password_login(client, user["phone"], PASSWORD)
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/workbench/")
    assert is_logged_in(client)


def test_login_page_offers_both_ways(client):
    html = client.get("/login/").get_data(as_text=True)
    for element_id in (
        "tab-password",
        "tab-sms",
        "pw-phone",
        "pw-password",
        "sms-phone",
        "sms-sms_code",
        "forgot-link",
    ):
        assert f'id="{element_id}"' in html, element_id


def test_wrong_password_is_shown_under_the_password_field_and_counts_down(app, client, factory):
    user = factory.enterprise_user()
    lefts = []
    for _ in range(4):
        resp = password_login(client, user["phone"], WRONG)
        assert resp.status_code == 200
        error = error_of(resp, "pw-password")
        assert error
        lefts.append(int(re.search(r"\d+", error).group()))
    assert lefts == [4, 3, 2, 1]
    assert not is_logged_in(client)
    # the phone the user typed is kept
    assert f'value="{user["phone"]}"' in resp.get_data(as_text=True)


def test_unknown_phone_gets_the_same_answer(client):
    resp = password_login(client, fresh_phone(), WRONG)
    assert resp.status_code == 200
    assert error_of(resp, "pw-password")


def test_five_wrong_passwords_lock_the_account(app, client, factory):
    user = factory.enterprise_user()
    resp = _lock_out(client, user)
    message = error_of(resp, "pw-password")
    assert "15" in message  # "…locked, please try again in 15 minutes"
    row = _failure_row(app, user["phone"])
    assert row.locked_until is not None
    assert dt.timedelta(minutes=14) < row.locked_until - dt.datetime.now() <= dt.timedelta(minutes=15)
    # even the right password is refused now, with the same message
    resp = password_login(client, user["phone"], PASSWORD)
    assert resp.status_code == 200
    assert error_of(resp, "pw-password") == message
    assert not is_logged_in(client)
    # the page tells the minutes actually left
    from zsdx.extensions import db
    from zsdx.models import LoginFailure

    with app.app_context():
        row = db.session.query(LoginFailure).filter_by(login=user["phone"]).one()
        row.locked_until = dt.datetime.now() + dt.timedelta(minutes=6, seconds=30)
        db.session.commit()
    resp = password_login(client, user["phone"], PASSWORD)
    assert re.search(r"(?<!\d)7(?!\d)", error_of(resp, "pw-password"))
    assert not is_logged_in(client)


def test_lock_cannot_be_sidestepped_with_the_accounts_other_login_name(app, client, factory):
    """FAB also accepts the account's e-mail as login name; the lock is on the account, not on the string."""
    from zsdx.security import placeholder_email

    user = factory.enterprise_user()
    _lock_out(client, user)
    resp = password_login(client, placeholder_email(user["phone"]), PASSWORD)
    assert resp.status_code == 200
    assert not is_logged_in(client)


def test_login_works_again_after_the_lock_expires(app, client, factory):
    from zsdx.extensions import db
    from zsdx.models import LoginFailure

    user = factory.enterprise_user()
    _lock_out(client, user)
    with app.app_context():
        row = db.session.query(LoginFailure).filter_by(login=user["phone"]).one()
        row.locked_until = dt.datetime.now() - dt.timedelta(seconds=1)
        db.session.commit()
    # a wrong try after the lock ran out counts afresh …
    resp = password_login(client, user["phone"], WRONG)
    assert re.search(r"\d+", error_of(resp, "pw-password")).group() == "4"
    # … and the right password works and clears the count
    assert password_login(client, user["phone"], PASSWORD).status_code == 302
    assert is_logged_in(client)
    assert _failure_row(app, user["phone"]) is None


def test_success_resets_the_count(app, client, factory):
    user = factory.enterprise_user()
    for _ in range(4):
        password_login(client, user["phone"], WRONG)
    assert password_login(client, user["phone"], PASSWORD).status_code == 302
    logout(client)
    resp = password_login(client, user["phone"], WRONG)
    assert re.search(r"\d+", error_of(resp, "pw-password")).group() == "4"


def test_sms_login(client, factory, sms):
    user = factory.enterprise_user()
    assert send_code(client, user["phone"], "login", "/login/").status_code == 200
    resp = sms_login(client, user["phone"], sms.last_code(user["phone"]))
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/workbench/")
    assert is_logged_in(client)


def test_sms_login_for_unregistered_phone_is_refused(client):
    resp = sms_login(client, fresh_phone(), "123456")
    assert resp.status_code == 200
    assert error_of(resp, "sms-phone")
    assert not is_logged_in(client)


def test_inactive_user_cannot_log_in(app, client, factory, sms):
    from zsdx.extensions import db
    from zsdx.models import ZsdxUser

    user = factory.enterprise_user()
    with app.app_context():
        db.session.get(ZsdxUser, user["id"]).active = False
        db.session.commit()
    assert password_login(client, user["phone"], PASSWORD).status_code == 200
    assert not is_logged_in(client)


def test_logout(client, factory):
    user = factory.enterprise_user()
    password_login(client, user["phone"], PASSWORD)
    assert is_logged_in(client)
    logout(client)
    resp = client.get("/workbench/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


# --- the image captcha -------------------------------------------------------------------------------
@pytest.fixture()
def captcha_on(app):
    before = app.config["CAPTCHA_ENABLED"]
    app.config["CAPTCHA_ENABLED"] = True
    yield
    app.config["CAPTCHA_ENABLED"] = before


def _plant_captcha(app, client, text, age=0):
    from zsdx.security import _captcha_hash

    with app.test_request_context():
        digest = _captcha_hash(text)
    with client.session_transaction() as s:
        s["captcha"] = {"h": digest, "t": time.time() - age}


def test_captcha_image_is_a_png_generated_locally(app, client, captcha_on):
    resp = client.get("/login/captcha.png")
    assert resp.status_code == 200
    assert resp.mimetype == "image/png"
    assert resp.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no-store" in resp.headers.get("Cache-Control", "")
    with client.session_transaction() as s:
        assert s["captcha"]["h"]  # the answer is kept (hashed) in the session
    assert 'id="captcha-img"' in client.get("/login/").get_data(as_text=True)


def test_missing_captcha_refuses_the_right_password(app, client, factory, captcha_on):
    user = factory.enterprise_user()
    client.get("/login/captcha.png")
    resp = password_login(client, user["phone"], PASSWORD, captcha="")
    assert resp.status_code == 200
    assert error_of(resp, "pw-captcha")
    assert not is_logged_in(client)


def test_wrong_captcha_refuses_the_right_password(app, client, factory, captcha_on):
    user = factory.enterprise_user()
    meta_csrf(client, "/login/")
    _plant_captcha(app, client, "ABCD")
    resp = password_login(client, user["phone"], PASSWORD, captcha="WXYZ")
    assert resp.status_code == 200
    assert error_of(resp, "pw-captcha")
    assert not error_of(resp, "pw-password")
    assert not is_logged_in(client)
    assert _failure_row(app, user["phone"]) is None  # the password was not even tried


def test_right_captcha_and_password_log_in(app, client, factory, captcha_on):
    user = factory.enterprise_user()
    meta_csrf(client, "/login/")
    _plant_captcha(app, client, "ABCD")
    resp = password_login(client, user["phone"], PASSWORD, captcha="abcd")  # case does not matter
    assert resp.status_code == 302
    assert is_logged_in(client)


def test_captcha_is_used_up_by_one_try(app, client, factory, captcha_on):
    user = factory.enterprise_user()
    meta_csrf(client, "/login/")
    _plant_captcha(app, client, "ABCD")
    password_login(client, user["phone"], WRONG, captcha="ABCD")
    resp = password_login(client, user["phone"], PASSWORD, captcha="ABCD")  # replaying the old answer
    assert resp.status_code == 200
    assert error_of(resp, "pw-captcha")
    assert not is_logged_in(client)


def test_expired_captcha_is_refused(app, client, factory, captcha_on):
    user = factory.enterprise_user()
    meta_csrf(client, "/login/")
    _plant_captcha(app, client, "ABCD", age=301)
    resp = password_login(client, user["phone"], PASSWORD, captcha="ABCD")
    assert resp.status_code == 200 and error_of(resp, "pw-captcha")


# --- rate limits -------------------------------------------------------------------------------------
# Per login name first (AUTH_LOGIN_NAME_RATE_LIMIT), a generous per-IP ceiling (AUTH_RATE_LIMIT): a town
# office behind one address must not lock itself out, one account must not be hammered from many.
def _count(app, key):
    return int(re.match(r"\s*(\d+)", app.config[key]).group(1))


def _pw_data(token, phone, password=""):
    return {"pw-csrf_token": token, "pw-mode": "password", "pw-phone": phone, "pw-password": password, "pw-captcha": ""}


def test_61_logins_from_one_address_for_different_accounts_all_reach_the_password_check(app, client, factory):
    """One town office behind one NAT address: 61 colleagues logging in within a minute are not turned away."""
    token = meta_csrf(client, "/login/")
    phones = [fresh_phone() for _ in range(61)]
    for i, phone in enumerate(phones):
        resp = client.post("/login/", data=_pw_data(token, phone, WRONG))
        assert resp.status_code == 200, (i, resp.status_code)
        assert "Wrong account or password" not in error_of(resp, "pw-password")  # the Chinese message
        assert "账号或密码错误" in error_of(resp, "pw-password"), i
    assert all(_failure_row(app, phone).failures == 1 for phone in phones)  # each one reached the check
    user = factory.enterprise_user()
    assert password_login(client, user["phone"], PASSWORD).status_code == 302


def test_the_same_login_name_is_limited_in_chinese_on_the_login_page(app, client, factory):
    user = factory.enterprise_user()
    limit = _count(app, "AUTH_LOGIN_NAME_RATE_LIMIT")
    token = meta_csrf(client, "/login/")
    for i in range(limit):
        assert client.post("/login/", data=_pw_data(token, user["phone"], WRONG if i < 2 else "")).status_code == 200, i
    resp = client.post("/login/", data=_pw_data(token, user["phone"], PASSWORD))
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    doc = page(resp)
    assert doc.xpath("//html/@lang") == ["zh-CN"]
    message = doc.xpath('//*[@id="login-error"]')[0].text_content()
    assert "该账号登录尝试过于频繁" in message and "秒后再试" in message
    assert value_of(resp, "pw-phone") == user["phone"]  # what was typed stays, the password does not
    assert not value_of(resp, "pw-password")
    assert not is_logged_in(client)
    # another spelling of the same account (the placeholder e-mail, any case) shares the count …
    email = f"{user['phone']}@PHONE.zsdx.invalid"
    assert client.post("/login/", data=_pw_data(token, email, PASSWORD)).status_code == 429
    # … the API login shares it too, in Chinese JSON …
    resp = _api_login(client, user["phone"], PASSWORD)
    assert resp.status_code == 429 and "该账号登录尝试过于频繁" in resp.get_json()["message"]
    # … while another account from the same address logs in
    other = factory.enterprise_user()
    assert password_login(client, other["phone"], PASSWORD).status_code == 302


def test_the_per_address_ceiling_holds_and_is_chinese(app, client, factory):
    limit = _count(app, "AUTH_RATE_LIMIT")
    token = meta_csrf(client, "/login/")
    for i in range(limit):
        # an empty password fails validation before any hashing: the ceiling is what is measured
        assert client.post("/login/", data=_pw_data(token, fresh_phone())).status_code == 200, i
    user = factory.enterprise_user()
    resp = client.post("/login/", data=_pw_data(token, user["phone"], PASSWORD))
    assert resp.status_code == 429
    message = page(resp).xpath('//*[@id="login-error"]')[0].text_content()
    assert "操作过于频繁" in message and "TOO MANY" not in resp.get_data(as_text=True).upper()
    # another address is not affected
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = f"10.251.{random.randint(0, 255)}.{random.randint(1, 254)}"
    assert password_login(other, user["phone"], PASSWORD).status_code == 302


def _api_login(client, username, password):
    return client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})


def test_api_login_works(client, factory):
    user = factory.enterprise_user()
    resp = _api_login(client, user["phone"], PASSWORD)
    assert resp.status_code == 200
    assert resp.get_json()["access_token"]
    assert _api_login(client, user["phone"], WRONG).status_code == 401


def test_api_login_is_rate_limited_per_address_in_chinese(app, client):
    limit = _count(app, "AUTH_RATE_LIMIT")
    for i in range(limit):
        assert (
            client.post("/api/v1/security/login", json={"username": "", "password": "", "provider": "db"}).status_code
            != 429
        ), i
    resp = _api_login(client, fresh_phone(), WRONG)
    assert resp.status_code == 429
    assert "操作过于频繁" in resp.get_json()["message"]


def test_api_login_honours_the_lockout(app, client, factory):
    user = factory.enterprise_user()
    for _ in range(5):
        assert _api_login(client, user["phone"], WRONG).status_code == 401
    assert _failure_row(app, user["phone"]).locked_until is not None
    assert _api_login(client, user["phone"], PASSWORD).status_code == 401
    # and a lock earned on the API holds on the form too
    resp = password_login(client, user["phone"], PASSWORD)
    assert resp.status_code == 200 and "15" in error_of(resp, "pw-password")
