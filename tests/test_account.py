"""我的工作台 account screens (manual ch. 10, SPEC §2): 修改密码, 修改绑定手机号, 忘记密码 and 信息变更."""

import io

from conftest import PASSWORD, fresh_phone, get_csrf, login
from helpers import (
    error_of,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    is_logged_in,
    logout,
    org_row,
    password_login,
    send_code,
    user_row,
    value_of,
)
from werkzeug.security import check_password_hash

NEW_PASSWORD = "New#Pass2026"

# A real (tiny, one blank page) PDF.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)


# --- 修改密码 ----------------------------------------------------------------------------------------
def _change_password(client, old, new, confirm=None):
    token = get_csrf(client, "/account/password")
    return client.post(
        "/account/password", data={"csrf_token": token, "old_password": old, "password": new, "confirm": confirm or new}
    )


def test_change_password_with_wrong_old_password(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = _change_password(client, "Not@theOld1", NEW_PASSWORD)
    assert resp.status_code == 200
    assert error_of(resp, "old_password")
    assert not error_of(resp, "password")
    assert check_password_hash(user_row(app, user["phone"])["password"], PASSWORD)


def test_change_password_needs_matching_confirmation(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = _change_password(client, PASSWORD, NEW_PASSWORD, "New#Pass2027")
    assert error_of(resp, "confirm")
    assert check_password_hash(user_row(app, user["phone"])["password"], PASSWORD)


def test_change_password_then_log_in_with_the_new_one(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workbench/")
    logout(client)
    assert password_login(client, user["phone"], PASSWORD).status_code == 200  # the old one is gone
    assert password_login(client, user["phone"], NEW_PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_workbench_links_to_the_account_screens(client, login_as):
    login_as("企业")
    html = client.get("/workbench/").get_data(as_text=True)
    for element_id, href in (
        ("btn-info-change", "/info-change/"),
        ("btn-change-password", "/account/password"),
        ("btn-change-phone", "/account/phone"),
    ):
        assert f'href="{href}"' in html and f'id="{element_id}"' in html


# --- 修改绑定手机号 ------------------------------------------------------------------------------------
def _change_phone(client, old_phone, new_phone, code):
    token = get_csrf(client, "/account/phone")
    return client.post(
        "/account/phone", data={"csrf_token": token, "old_phone": old_phone, "phone": new_phone, "sms_code": code}
    )


def test_change_phone_with_a_code_sent_to_the_new_phone(app, client, factory, sms):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    user = factory.enterprise_user()
    with app.app_context():
        org = db.session.get(Organisation, user["org_id"])
        org.contact_phone = user["phone"]
        db.session.commit()
    login(client, user)
    new_phone = fresh_phone()
    resp = send_code(client, new_phone, "change_phone", "/account/phone")
    assert resp.status_code == 200, resp.get_json()
    assert sms.texts(user["phone"]) == []  # the code goes to the new phone only
    resp = _change_phone(client, user["phone"], new_phone, sms.last_code(new_phone))
    assert resp.status_code == 302
    row = user_row(app, new_phone)
    assert row["id"] == user["id"] and row["phone"] == new_phone and row["username"] == new_phone
    with app.app_context():
        assert db.session.get(Organisation, user["org_id"]).contact_phone == new_phone
    logout(client)
    assert password_login(client, user["phone"], PASSWORD).status_code == 200
    assert not is_logged_in(client)
    assert password_login(client, new_phone, PASSWORD).status_code == 302


def test_change_phone_refuses_a_wrong_old_phone(app, client, factory, sms):
    user = factory.enterprise_user()
    login(client, user)
    new_phone = fresh_phone()
    send_code(client, new_phone, "change_phone", "/account/phone")
    resp = _change_phone(client, fresh_phone(), new_phone, sms.last_code(new_phone))
    assert resp.status_code == 200
    assert error_of(resp, "old_phone")
    assert value_of(resp, "phone") == new_phone
    assert user_row(app, user["phone"])["id"] == user["id"]
    assert user_row(app, new_phone) is None


def test_change_phone_refuses_a_code_sent_elsewhere(app, client, factory, sms):
    user = factory.enterprise_user()
    login(client, user)
    new_phone, other = fresh_phone(), fresh_phone()
    send_code(client, other, "change_phone", "/account/phone")
    resp = _change_phone(client, user["phone"], new_phone, sms.last_code(other))
    assert error_of(resp, "sms_code")
    assert user_row(app, new_phone) is None


def test_change_phone_to_a_registered_phone_is_refused(app, client, factory, sms):
    user = factory.enterprise_user()
    taken = factory.enterprise_user()
    login(client, user)
    assert send_code(client, taken["phone"], "change_phone", "/account/phone").status_code == 400
    resp = _change_phone(client, user["phone"], taken["phone"], "123456")
    assert error_of(resp, "phone")
    assert user_row(app, taken["phone"])["id"] == taken["id"]


# --- 忘记密码 -----------------------------------------------------------------------------------------
def _reset(client, phone, code, password, confirm=None):
    token = get_csrf(client, "/forgot-password/")
    return client.post(
        "/forgot-password/",
        data={
            "csrf_token": token,
            "phone": phone,
            "sms_code": code,
            "password": password,
            "confirm": confirm or password,
        },
    )


def test_forgot_password_full_flow(app, client, factory, sms):
    user = factory.enterprise_user()
    assert 'id="forgot-link"' in client.get("/login/").get_data(as_text=True)
    assert send_code(client, user["phone"], "reset", "/forgot-password/").status_code == 200
    resp = _reset(client, user["phone"], sms.last_code(user["phone"]), NEW_PASSWORD)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="go-login"' in html and 'href="/login/"' in html
    assert password_login(client, user["phone"], PASSWORD).status_code == 200
    assert password_login(client, user["phone"], NEW_PASSWORD).status_code == 302


def test_forgot_password_unlocks_a_locked_account(app, client, factory, sms):
    import datetime as dt

    from zsdx.extensions import db
    from zsdx.models import LoginFailure

    user = factory.enterprise_user()
    with app.app_context():  # five wrong passwords were typed a moment ago
        db.session.add(
            LoginFailure(login=user["phone"], failures=5, locked_until=dt.datetime.now() + dt.timedelta(minutes=15))
        )
        db.session.commit()
    assert password_login(client, user["phone"], PASSWORD).status_code == 200
    send_code(client, user["phone"], "reset", "/forgot-password/")
    _reset(client, user["phone"], sms.last_code(user["phone"]), NEW_PASSWORD)
    assert password_login(client, user["phone"], NEW_PASSWORD).status_code == 302


def test_forgot_password_with_a_wrong_code(app, client, factory, sms):
    user = factory.enterprise_user()
    send_code(client, user["phone"], "reset", "/forgot-password/")
    wrong = f"{(int(sms.last_code(user['phone'])) + 1) % 10**6:06d}"
    resp = _reset(client, user["phone"], wrong, NEW_PASSWORD)
    assert error_of(resp, "sms_code")
    assert 'id="go-login"' not in resp.get_data(as_text=True)
    assert check_password_hash(user_row(app, user["phone"])["password"], PASSWORD)


def test_forgot_password_for_an_unregistered_phone(client):
    resp = _reset(client, fresh_phone(), "123456", NEW_PASSWORD)
    assert error_of(resp, "phone")


# --- 信息变更 -----------------------------------------------------------------------------------------
def _requests(app, org_id):
    from zsdx.extensions import db
    from zsdx.models import InfoChangeRequest

    with app.app_context():
        rows = db.session.query(InfoChangeRequest).filter_by(organisation_id=org_id).order_by(InfoChangeRequest.id)
        return [
            {
                "name": r.name,
                "credit_code": r.credit_code,
                "town_id": r.town_id,
                "industry_id": r.industry_id,
                "contact_name": r.contact_name,
                "contact_phone": r.contact_phone,
                "status": r.status,
                "requester_id": r.requester_id,
                "files": [(a.file.original_name, a.file.mime, a.file.size, a.file.sha256) for a in r.attachments],
            }
            for r in rows
        ]


def _typed(app, factory, user):
    from helpers import industry_id, town_id

    return {
        "name": "中山市变更后智能装备有限公司",
        "credit_code": factory.credit_code(),
        "town_id": str(town_id(app, "2021")),
        "industry_id": str(industry_id(app)),
        "contact_name": "新联系人",
        "contact_phone": "0760-88886666",
    }


def _submit_change(client, data, files=()):
    payload = dict(data, csrf_token=get_csrf(client, "/info-change/"))
    if files:
        payload["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/info-change/", data=payload, content_type="multipart/form-data")


def test_info_change_form_is_prefilled(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = client.get("/info-change/")
    assert resp.status_code == 200
    org = org_row(app, user["org_id"])
    assert value_of(resp, "name") == org["name"]
    assert value_of(resp, "credit_code") == org["credit_code"]
    assert value_of(resp, "town_id") == str(org["town_id"])


def test_info_change_creates_a_pending_request_and_leaves_the_organisation(app, client, factory):
    user = factory.enterprise_user()
    before = org_row(app, user["org_id"])
    login(client, user)
    typed = _typed(app, factory, user)
    resp = _submit_change(client, typed)
    assert resp.status_code == 302
    (req,) = _requests(app, user["org_id"])
    for key in ("name", "credit_code", "contact_name", "contact_phone"):
        assert req[key] == typed[key], key
    assert req["town_id"] == int(typed["town_id"]) and req["industry_id"] == int(typed["industry_id"])
    assert req["status"] in ("pending", "reviewing")  # waiting for 市工信
    assert req["requester_id"] == user["id"]
    assert org_row(app, user["org_id"]) == before  # applied only after approval
    assert 'id="pending-change"' in client.get("/info-change/").get_data(as_text=True)


def test_info_change_keeps_a_real_pdf_with_its_chinese_name(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = _submit_change(client, _typed(app, factory, user), files=[("营业执照变更证明.pdf", PDF_BYTES)])
    assert resp.status_code == 302
    (req,) = _requests(app, user["org_id"])
    assert len(req["files"]) == 1
    name, mime, size, sha = req["files"][0]
    assert name == "营业执照变更证明.pdf"
    assert mime == "application/pdf" and size == len(PDF_BYTES)
    import hashlib
    import os

    assert sha == hashlib.sha256(PDF_BYTES).hexdigest()
    stored = os.path.join(app.config["UPLOAD_FOLDER"], sha[:2], sha)
    with open(stored, "rb") as fh:
        assert fh.read() == PDF_BYTES
    assert not os.path.abspath(stored).startswith(os.path.abspath(app.static_folder))


def test_info_change_refuses_a_fake_pdf(app, client, factory):
    user = factory.enterprise_user()
    before = org_row(app, user["org_id"])
    login(client, user)
    typed = _typed(app, factory, user)
    resp = _submit_change(client, typed, files=[("证明.pdf", b"MZ\x90\x00 this is not a PDF at all" * 10)])
    assert resp.status_code == 200
    assert error_of(resp, "attachments")
    assert value_of(resp, "name") == typed["name"]  # what was typed is still there
    assert _requests(app, user["org_id"]) == []
    assert org_row(app, user["org_id"]) == before


def test_info_change_refuses_a_bad_file_among_good_ones(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    resp = _submit_change(
        client, _typed(app, factory, user), files=[("好的.pdf", PDF_BYTES), ("坏的.pdf", b"<html>not a pdf</html>")]
    )
    assert resp.status_code == 200 and error_of(resp, "attachments")
    assert _requests(app, user["org_id"]) == []


def test_info_change_refuses_an_invalid_credit_code(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    typed = dict(_typed(app, factory, user), credit_code="91442000MA4UDEMX19")
    resp = _submit_change(client, typed)
    assert resp.status_code == 200 and error_of(resp, "credit_code")
    assert _requests(app, user["org_id"]) == []


def test_info_change_refuses_another_enterprises_credit_code(app, client, factory):
    user = factory.enterprise_user()
    other = factory.org("enterprise")
    login(client, user)
    typed = dict(_typed(app, factory, user), credit_code=org_row(app, other)["credit_code"])
    resp = _submit_change(client, typed)
    assert resp.status_code == 200 and error_of(resp, "credit_code")
    assert _requests(app, user["org_id"]) == []


def test_second_info_change_while_one_is_pending_is_refused(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    assert _submit_change(client, _typed(app, factory, user)).status_code == 302
    second = dict(_typed(app, factory, user), name="中山市第二次变更有限公司")
    resp = _submit_change(client, second)
    assert resp.status_code in (200, 302, 400, 409)
    reqs = _requests(app, user["org_id"])
    assert len(reqs) == 1 and reqs[0]["name"] == "中山市变更后智能装备有限公司"
