"""Issue 8, accounts: what an attacker types into the login, SMS and registration screens. No input ends in a
500; a refused login name never counts against an account's lockout; a phone number is the same account
however its digits are written (full-width, spaces, hyphens); an SMS login does not open a password lock."""

import datetime as dt
import re

import pytest
from conftest import PASSWORD, fresh_phone, get_csrf, login
from helpers import (
    error_of,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    is_logged_in,
    meta_csrf,
    password_login,
    register,
    registration_form,
    send_code,
    sms_login,
    user_row,
)

WRONG = "Wrong@2026x"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _full_width(phone, digits=4):
    """The phone with its last `digits` digits typed full-width (an IME in 全角 mode)."""
    return phone[:-digits] + phone[-digits:].translate(FULL_WIDTH)


def _chinese(message):
    return bool(message and re.search(r"[\u4e00-\u9fff]", message) and not re.search(r"[A-Za-z]{3}", message))


def _failures(app):
    from zsdx.extensions import db
    from zsdx.models import LoginFailure

    with app.app_context():
        return {row.login: row.failures for row in db.session.query(LoginFailure)}


def _api_login(client, username, password=PASSWORD):
    return client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})


def _send_interval_passed(app, phone):
    from zsdx.extensions import db
    from zsdx.models import SmsCode

    with app.app_context():
        for row in db.session.query(SmsCode).filter_by(phone=phone):
            row.created_at -= dt.timedelta(minutes=2)
        db.session.commit()


def _lock(app, login_name, minutes=15):
    from zsdx.extensions import db
    from zsdx.models import LoginFailure

    with app.app_context():
        db.session.add(
            LoginFailure(
                login=login_name, failures=5, locked_until=dt.datetime.now() + dt.timedelta(minutes=minutes, seconds=30)
            )
        )
        db.session.commit()


# --- login names an attacker makes up ---------------------------------------------------------------
def _bad_names(phone):
    return {
        "overlong": "1" * 129,
        "overlong-padded-phone": phone + "x" * 200,
        "nul": phone + "\x00",
        "nul-inside": phone[:5] + "\x00" + phone[5:],
        "control": phone + "\x07",
        "newline": phone + "\n" + "admin",
        "delete": phone + "\x7f",
    }


@pytest.mark.parametrize("kind", list(_bad_names("13900000000")))
def test_form_login_with_a_made_up_login_name_is_refused_in_chinese(app, client, factory, kind):
    user = factory.enterprise_user()
    before = _failures(app)
    for _ in range(6):  # more than LOGIN_MAX_FAILURES
        resp = password_login(client, _bad_names(user["phone"])[kind], WRONG)
        assert resp.status_code == 200, resp.status_code
        assert _chinese(error_of(resp, "pw-phone"))
    assert not is_logged_in(client)
    assert _failures(app) == before, "a refused login name was counted against some account"
    # the account itself is untouched: its owner logs in
    assert password_login(client, user["phone"], PASSWORD).status_code == 302


@pytest.mark.parametrize("kind", list(_bad_names("13900000000")))
def test_sms_login_with_a_made_up_phone_is_refused_in_chinese(app, client, factory, kind):
    user = factory.enterprise_user()
    resp = sms_login(client, _bad_names(user["phone"])[kind], "123456")
    assert resp.status_code == 200
    assert _chinese(error_of(resp, "sms-phone"))
    assert not is_logged_in(client)


@pytest.mark.parametrize("kind", list(_bad_names("13900000000")))
def test_api_login_with_a_made_up_login_name_is_refused(app, client, factory, kind):
    user = factory.enterprise_user()
    before = _failures(app)
    for _ in range(6):
        resp = _api_login(client, _bad_names(user["phone"])[kind], WRONG)
        assert resp.status_code in (400, 401), resp.status_code
        assert resp.is_json
    assert _failures(app) == before
    assert _api_login(client, user["phone"]).status_code == 200


@pytest.mark.parametrize("username", [12345678901, ["13900000000"], {"a": 1}, None, True])
def test_api_login_with_a_login_name_of_the_wrong_type_is_a_400(client, username):
    resp = client.post("/api/v1/security/login", json={"username": username, "password": "x", "provider": "db"})
    assert resp.status_code == 400 and resp.is_json


# --- /sms/send with the wrong JSON ------------------------------------------------------------------
@pytest.mark.parametrize(
    "phone", [13900000000, 1.5, ["13900000000"], {"phone": "13900000000"}, None, True, "1" * 100_000, "139\x000000000"]
)
def test_sms_send_with_a_phone_of_the_wrong_type_or_size_is_a_chinese_400(client, sms, phone):
    token = meta_csrf(client, "/register/")
    resp = client.post("/sms/send", json={"phone": phone, "purpose": "register"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 400, resp.status_code
    body = resp.get_json()
    assert body["ok"] is False and "手机号" in body["message"]
    assert sms.messages == []


@pytest.mark.parametrize(
    "payload", [["13900000000"], "13900000000", 5, {"phone": "13900000000", "purpose": ["register"]}, {}]
)
def test_sms_send_with_a_body_of_the_wrong_shape_is_a_400(client, sms, payload):
    token = meta_csrf(client, "/register/")
    resp = client.post("/sms/send", json=payload, headers={"X-CSRFToken": token})
    assert resp.status_code == 400 and resp.is_json
    assert sms.messages == []


# --- full-width and decorated phone numbers ---------------------------------------------------------
def test_a_full_width_phone_shares_the_sms_limits_of_the_ascii_one(app, client, sms):
    phone = fresh_phone()
    assert send_code(client, phone, "register").status_code == 200
    for variant in (_full_width(phone), _full_width(phone, 11), f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"):
        resp = send_code(client, variant, "register")
        assert resp.status_code == 429, (variant, resp.get_json())
    assert len(sms.messages) == 1 and sms.messages[0][0] == phone


@pytest.mark.parametrize("phone", ["１３９０００００００", "1390000000٣", "139 0000 00000", "+8613900000000"])
def test_phones_that_are_not_eleven_digits_are_refused(client, sms, phone):
    resp = send_code(client, phone, "register")
    assert resp.status_code == 400
    assert sms.messages == []


def test_a_full_width_phone_registers_as_the_ascii_phone(app, client, factory, sms):
    phone = fresh_phone()
    assert send_code(client, _full_width(phone), "register").status_code == 200
    resp = register(
        client, registration_form(app, _full_width(phone), sms.last_code(phone), credit_code=factory.credit_code())
    )
    assert resp.status_code == 302, error_of(resp, "phone")
    row = user_row(app, phone)
    assert row["phone"] == phone and row["username"] == phone
    # the ASCII and the full-width spelling are one account: it cannot be registered twice …
    assert send_code(client, phone, "register").status_code == 400
    # … and both spellings log in to it, with a password and with a code
    assert password_login(client, _full_width(phone, 11), PASSWORD).status_code == 302
    resp = _api_login(app.test_client(), _full_width(phone))
    assert resp.status_code == 200


def test_full_width_phone_on_sms_login_forgot_password_and_change_phone(app, client, factory, sms):
    user = factory.enterprise_user()
    phone = user["phone"]
    assert send_code(client, _full_width(phone), "login", "/login/").status_code == 200
    assert sms_login(client, _full_width(phone), sms.last_code(phone)).status_code == 302
    assert is_logged_in(client)
    new_phone = fresh_phone()
    assert send_code(client, _full_width(new_phone), "change_phone", "/account/phone").status_code == 200
    token = get_csrf(client, "/account/phone")
    resp = client.post(
        "/account/phone",
        data={
            "csrf_token": token,
            "old_phone": _full_width(phone),
            "phone": f"{new_phone[:3]} {new_phone[3:7]}-{new_phone[7:]}",
            "sms_code": sms.last_code(new_phone),
        },
    )
    assert resp.status_code == 302, (error_of(resp, "old_phone"), error_of(resp, "phone"))
    assert user_row(app, new_phone)["username"] == new_phone
    # 忘记密码 with the new number typed full-width (a minute later: one code per phone per minute)
    _send_interval_passed(app, new_phone)
    assert send_code(client, _full_width(new_phone), "reset", "/forgot-password/").status_code == 200
    token = get_csrf(client, "/forgot-password/")
    resp = client.post(
        "/forgot-password/",
        data={
            "csrf_token": token,
            "phone": _full_width(new_phone, 11),
            "sms_code": sms.last_code(new_phone),
            "password": "New#Pass2026",
            "confirm": "New#Pass2026",
        },
    )
    assert 'id="go-login"' in resp.get_data(as_text=True), error_of(resp, "phone")


def test_cli_create_user_normalises_the_phone(app):
    phone = fresh_phone()
    result = app.test_cli_runner().invoke(
        args=["zsdx", "create-user", "--phone", _full_width(phone), "--name", "审核员", "--role", "专家"]
        + ["--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert user_row(app, phone)["username"] == phone
    result = app.test_cli_runner().invoke(
        args=["zsdx", "create-user", "--phone", "1390000１２３", "--name", "审核员", "--role", "专家"]
        + ["--password", PASSWORD]
    )
    assert result.exit_code != 0


def test_admin_user_form_normalises_the_phone(app, client, factory):
    from zsdx.extensions import appbuilder

    admin = factory.user("Admin")
    login(client, admin)
    with app.app_context():
        role_id = appbuilder.sm.find_role("专家").id
    phone = fresh_phone()
    token = get_csrf(client, "/users/add")
    resp = client.post(
        "/users/add",
        data={
            "csrf_token": token,
            "first_name": "专家甲",
            "phone": _full_width(phone),
            "active": "y",
            "roles": role_id,
            "password": PASSWORD,
            "conf_password": PASSWORD,
        },
    )
    assert resp.status_code == 302
    assert user_row(app, phone)["username"] == phone


# --- a lock is a lock -------------------------------------------------------------------------------
def test_sms_login_of_a_locked_account_is_refused_and_keeps_the_lock(app, client, factory, sms):
    user = factory.enterprise_user()
    _lock(app, user["phone"], minutes=6)
    assert send_code(client, user["phone"], "login", "/login/").status_code == 200
    resp = sms_login(client, user["phone"], sms.last_code(user["phone"]))
    assert resp.status_code == 200
    message = error_of(resp, "sms-sms_code") or error_of(resp, "sms-phone")
    assert message and "锁定" in message and "7" in message, message
    assert not is_logged_in(client)
    assert _failures(app).get(user["phone"]) == 5, "the SMS login cleared the lock"
    # and the password is still refused with the same message
    resp = password_login(client, user["phone"], PASSWORD)
    assert resp.status_code == 200 and "锁定" in error_of(resp, "pw-password")


def test_wrong_sms_codes_do_not_count_towards_the_password_lock(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    wrong = f"{(int(sms.last_code(user['phone'])) + 1) % 10**6:06d}"
    for _ in range(5):
        assert sms_login(client, user["phone"], wrong).status_code == 200
    assert user["phone"] not in _failures(app)
    assert password_login(client, user["phone"], PASSWORD).status_code == 302
