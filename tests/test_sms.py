"""SMS verification codes (SPEC §2): 6 digits, valid 5 minutes, single use, at most 5 wrong tries; one send
per phone per 60 s and 10 per day. The SMS gateway's log line is the only edge read."""

import datetime as dt
import re

import pytest
from conftest import fresh_phone
from helpers import (
    error_of,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    is_logged_in,
    logout,
    meta_csrf,
    send_code,
    sms_login,
)


def _codes(app, phone):
    from zsdx.extensions import db
    from zsdx.models import SmsCode

    with app.app_context():
        return db.session.query(SmsCode).filter_by(phone=phone).order_by(SmsCode.id).all()


def _shift(app, phone, **changes):
    """Move the phone's code rows in time (created_at / expires_at by a timedelta)."""
    from zsdx.extensions import db
    from zsdx.models import SmsCode

    with app.app_context():
        for row in db.session.query(SmsCode).filter_by(phone=phone):
            for column, delta in changes.items():
                setattr(row, column, getattr(row, column) + delta)
        db.session.commit()


def test_code_is_six_digits_and_valid_five_minutes(app, client, factory, sms):
    user = factory.enterprise_user()
    resp = send_code(client, user["phone"], "login", "/login/")
    assert resp.status_code == 200 and resp.get_json()["ok"] is True
    texts = sms.texts(user["phone"])
    assert len(texts) == 1
    code = sms.last_code(user["phone"])
    assert re.fullmatch(r"\d{6}", code)
    assert re.findall(r"\d{6,}", texts[0]) == [code]  # one 6-digit number in the text, no longer one
    (row,) = _codes(app, user["phone"])
    assert row.purpose == "login"
    assert row.expires_at - row.created_at == dt.timedelta(minutes=5)
    assert code not in row.code_hash  # only a hash is stored


def test_codes_differ_between_sends(app, factory, sms):
    """Codes come from a CSPRNG: ten sends to ten phones give (almost surely) more than one code."""
    from zsdx.security import send_sms_code

    codes = set()
    with app.test_request_context():
        for _ in range(10):
            codes.add(send_sms_code(fresh_phone(), "register"))
    assert len(codes) > 1
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)


def test_right_code_logs_in(client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    resp = sms_login(client, user["phone"], sms.last_code(user["phone"]))
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/workbench/")


def test_expired_code_is_refused(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    code = sms.last_code(user["phone"])
    _shift(app, user["phone"], expires_at=dt.timedelta(minutes=-5, seconds=-1))  # as if 5 minutes went by
    resp = sms_login(client, user["phone"], code)
    assert resp.status_code == 200
    assert error_of(resp, "sms-sms_code")
    assert not is_logged_in(client)


def test_code_still_valid_just_before_expiry(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    code = sms.last_code(user["phone"])
    _shift(app, user["phone"], expires_at=dt.timedelta(minutes=-4, seconds=-50))  # 10 s left
    assert sms_login(client, user["phone"], code).status_code == 302


def test_code_is_single_use(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    code = sms.last_code(user["phone"])
    assert sms_login(client, user["phone"], code).status_code == 302
    logout(client)
    resp = sms_login(client, user["phone"], code)
    assert resp.status_code == 200
    assert error_of(resp, "sms-sms_code")
    assert not is_logged_in(client)
    assert _codes(app, user["phone"])[0].used_at is not None


def test_code_for_one_purpose_does_not_work_for_another(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "reset", "/forgot-password/")
    resp = sms_login(client, user["phone"], sms.last_code(user["phone"]))
    assert resp.status_code == 200 and error_of(resp, "sms-sms_code")


def test_five_wrong_tries_burn_the_code(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    code = sms.last_code(user["phone"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        resp = sms_login(client, user["phone"], wrong)
        assert resp.status_code == 200 and error_of(resp, "sms-sms_code")
    resp = sms_login(client, user["phone"], code)
    assert resp.status_code == 200
    assert error_of(resp, "sms-sms_code")
    assert not is_logged_in(client)
    assert _codes(app, user["phone"])[0].used_at is None


def test_four_wrong_tries_still_leave_the_right_code_usable(client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "login", "/login/")
    code = sms.last_code(user["phone"])
    wrong = f"{(int(code) + 7) % 10**6:06d}"
    for _ in range(4):
        assert sms_login(client, user["phone"], wrong).status_code == 200
    assert sms_login(client, user["phone"], code).status_code == 302


def test_second_send_within_a_minute_is_refused(app, client, factory, sms):
    user = factory.enterprise_user()
    assert send_code(client, user["phone"], "login", "/login/").status_code == 200
    resp = send_code(client, user["phone"], "login", "/login/")
    assert resp.status_code == 429
    body = resp.get_json()
    assert body["ok"] is False and body["message"]
    assert len(_codes(app, user["phone"])) == 1
    assert len(sms.texts(user["phone"])) == 1
    # a minute later it may be sent again
    _shift(app, user["phone"], created_at=dt.timedelta(seconds=-61))
    assert send_code(client, user["phone"], "login", "/login/").status_code == 200
    assert len(sms.texts(user["phone"])) == 2


def _age_latest(app, phone, by):
    from zsdx.extensions import db
    from zsdx.models import SmsCode

    with app.app_context():
        row = db.session.query(SmsCode).filter_by(phone=phone).order_by(SmsCode.created_at.desc()).first()
        row.created_at -= by
        db.session.commit()


def _insert_sent(app, phone, times):
    from zsdx.extensions import db
    from zsdx.models import SmsCode

    with app.app_context():
        for t in times:
            db.session.add(
                SmsCode(
                    phone=phone,
                    purpose="register",
                    code_hash="x" * 64,
                    created_at=t,
                    expires_at=t + dt.timedelta(minutes=5),
                )
            )
        db.session.commit()


def _earlier_today(n):
    now = dt.datetime.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    room = (now - dt.timedelta(seconds=125) - day_start).total_seconds()
    if room < n:
        pytest.skip("too close to midnight to place sends earlier today")
    return [day_start + dt.timedelta(seconds=room * i / n) for i in range(n)]


def test_ten_sends_per_day(app, client, sms):
    phone = fresh_phone()
    _insert_sent(app, phone, _earlier_today(9))
    assert send_code(client, phone, "register").status_code == 200  # the 10th of the day
    _age_latest(app, phone, dt.timedelta(seconds=61))  # the per-minute limit is not what stops the 11th
    resp = send_code(client, phone, "register")
    assert resp.status_code == 429
    assert resp.get_json()["message"]
    assert len(sms.texts(phone)) == 1


def test_sends_of_yesterday_do_not_count(app, client, sms):
    phone = fresh_phone()
    yesterday = dt.datetime.now().replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    _insert_sent(app, phone, [yesterday + dt.timedelta(minutes=i) for i in range(10)])
    assert send_code(client, phone, "register").status_code == 200
    assert len(sms.texts(phone)) == 1


def test_per_phone_refusals_are_chinese_beside_the_code_field(app, client, factory, sms):
    user = factory.enterprise_user()
    assert send_code(client, user["phone"], "login", "/login/").status_code == 200
    body = send_code(client, user["phone"], "login", "/login/").get_json()
    assert body["field"] == "sms_code" and "秒后" in body["message"]


def test_the_per_address_ceiling_answers_in_chinese_json(app, client, sms):
    """A town office sends codes to many phones from one address: 60 a minute pass, the 61st is refused with a
    Chinese message (zsdx.js shows it beside the code field), never Werkzeug's "TOO MANY REQUESTS"."""
    limit = int(re.match(r"\s*(\d+)", app.config["SMS_RATE_LIMIT"]).group(1))
    token = meta_csrf(client, "/register/")
    for i in range(limit):
        resp = client.post(
            "/sms/send", json={"phone": fresh_phone(), "purpose": "register"}, headers={"X-CSRFToken": token}
        )
        assert resp.status_code == 200, (i, resp.get_json())
    phone = fresh_phone()
    resp = client.post("/sms/send", json={"phone": phone, "purpose": "register"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 429 and resp.is_json
    body = resp.get_json()
    assert body["ok"] is False and "操作过于频繁" in body["message"] and "秒后再试" in body["message"]
    assert body.get("field") in (None, "sms_code")
    assert sms.texts(phone) == []
    # sent as a plain form post, too, the refusal is JSON
    resp = client.post("/sms/send", data={"phone": phone, "purpose": "register"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 429 and "操作过于频繁" in resp.get_json()["message"]


def test_send_without_csrf_token_is_refused(app, client, sms):
    phone = fresh_phone()
    client.get("/register/")
    resp = client.post("/sms/send", json={"phone": phone, "purpose": "register"})
    assert resp.status_code == 400
    resp = client.post("/sms/send", json={"phone": phone, "purpose": "register"}, headers={"X-CSRFToken": "forged"})
    assert resp.status_code == 400
    assert _codes(app, phone) == []
    assert sms.texts(phone) == []


def test_register_code_for_a_registered_phone_is_refused(app, client, factory, sms):
    user = factory.enterprise_user()
    resp = send_code(client, user["phone"], "register")
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "phone"
    assert _codes(app, user["phone"]) == [] and sms.texts(user["phone"]) == []


@pytest.mark.parametrize("purpose,page", [("login", "/login/"), ("reset", "/forgot-password/")])
def test_login_and_reset_codes_for_an_unregistered_phone_are_refused(app, client, sms, purpose, page):
    phone = fresh_phone()
    resp = send_code(client, phone, purpose, page)
    assert resp.status_code == 400
    assert resp.get_json()["ok"] is False
    assert _codes(app, phone) == [] and sms.texts(phone) == []


def test_change_phone_code_needs_a_signed_in_user(app, client, sms):
    phone = fresh_phone()
    resp = send_code(client, phone, "change_phone", "/login/")
    assert resp.status_code in (401, 403)
    assert sms.texts(phone) == []


@pytest.mark.parametrize(
    "payload", [{"phone": "1234", "purpose": "register"}, {"phone": "13900000000", "purpose": "x"}]
)
def test_bad_send_requests_are_refused(client, sms, payload):
    resp = send_code(client, payload["phone"], payload["purpose"])
    assert resp.status_code == 400
    assert sms.texts(payload["phone"]) == []
