"""SPEC §2 password rule: 8–20 characters with at least three of upper case, lower case, digits and
special characters — and the rule holds on every path that sets a password."""

import pytest
from conftest import PASSWORD, fresh_phone, get_csrf, login
from helpers import (
    error_of,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    is_logged_in,
    logout,
    password_login,
    register,
    registration_form,
    user_row,
)
from werkzeug.security import check_password_hash

from zsdx.passwords import password_problem

ACCEPTED = {
    "8 characters, all four classes": "Ab1@xyzw",
    "20 characters": "Ab1@" + "x" * 16,
    "upper+lower+digit": "Abcd1234",
    "upper+lower+special": "Abcd!@#$",
    "upper+digit+special": "ABCD12!@",
    "lower+digit+special": "abcd12!@",
    "all four": "Zs#2026dx",
    "every ASCII special counts": "ab12~`^|",
}

REFUSED = {
    "7 characters": "Ab1@xyz",
    "21 characters": "Ab1@" + "x" * 17,
    "empty": "",
    "only upper+lower": "AbcdEfgh",
    "only upper+digit": "ABCD1234",
    "only upper+special": "ABCD!@#$",
    "only lower+digit": "abcd1234",
    "only lower+special": "abcd!@#$",
    "only digit+special": "1234!@#$",
    "one class only": "abcdefghij",
    "a space inside": "Ab1@ xyzw",
    "a tab inside": "Ab1@\txyzw",
    "trailing newline": "Ab1@xyzw\n",
    "Chinese characters": "Ab1@密码xyz",
    "full-width special": "Abc1２３＠ab",
    "non-ASCII letter": "Äbc1234@",
}

# A password each path is tried with: only two classes (lower + digit).
WEAK = "abcd1234"
STRONG = "Strong#2026"


@pytest.mark.parametrize("password", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_rule_accepts(ctx, password):
    assert password_problem(password) is None


@pytest.mark.parametrize("password", REFUSED.values(), ids=REFUSED.keys())
def test_rule_refuses(ctx, password):
    assert password_problem(password)


def test_length_boundaries_are_counted_in_characters(ctx):
    assert len(ACCEPTED["8 characters, all four classes"]) == 8
    assert len(ACCEPTED["20 characters"]) == 20
    assert len(REFUSED["7 characters"]) == 7
    assert len(REFUSED["21 characters"]) == 21


# --- every path --------------------------------------------------------------------------------------
def test_registration_form_refuses_weak_password(app, client):
    phone = fresh_phone()
    form = registration_form(app, phone, "123456", password=WEAK, confirm=WEAK, credit_code="91440300708461136T")
    resp = register(client, form)
    assert resp.status_code == 200
    assert error_of(resp, "password")
    assert not error_of(resp, "org_name")
    assert user_row(app, phone) is None


@pytest.mark.parametrize("password", [REFUSED["7 characters"], REFUSED["21 characters"], REFUSED["a space inside"]])
def test_registration_form_refuses_other_bad_passwords(app, client, password):
    phone = fresh_phone()
    form = registration_form(
        app, phone, "123456", password=password, confirm=password, credit_code="91440300708461136T"
    )
    resp = register(client, form)
    assert error_of(resp, "password")
    assert user_row(app, phone) is None


def test_forgot_password_form_refuses_weak_password(app, client, factory):
    user = factory.enterprise_user()
    before = user_row(app, user["phone"])["password"]
    token = get_csrf(client, "/forgot-password/")
    resp = client.post(
        "/forgot-password/",
        data={"csrf_token": token, "phone": user["phone"], "sms_code": "123456", "password": WEAK, "confirm": WEAK},
    )
    assert resp.status_code == 200
    assert error_of(resp, "password")
    assert 'id="go-login"' not in resp.get_data(as_text=True)
    assert user_row(app, user["phone"])["password"] == before


def test_change_password_form_refuses_weak_password(app, client, factory):
    user = factory.enterprise_user()
    login(client, user)
    token = get_csrf(client, "/account/password")
    resp = client.post(
        "/account/password",
        data={"csrf_token": token, "old_password": PASSWORD, "password": WEAK, "confirm": WEAK},
    )
    assert resp.status_code == 200
    assert error_of(resp, "password")
    assert not error_of(resp, "old_password")
    assert check_password_hash(user_row(app, user["phone"])["password"], PASSWORD)


def _admin_add_user(client, app, phone, password, role_id):
    token = get_csrf(client, "/users/add")
    return client.post(
        "/users/add",
        data={
            "csrf_token": token,
            "first_name": "镇街审核员",
            "phone": phone,
            "organisation": "__None",
            "town": "__None",
            "active": "y",
            "roles": str(role_id),
            "password": password,
            "conf_password": password,
        },
    )


def _role_id(app, name):
    from zsdx.extensions import appbuilder

    with app.app_context():
        return appbuilder.sm.find_role(name).id


def test_admin_user_add_form_refuses_weak_password(app, client, factory):
    admin = factory.user("Admin")
    login(client, admin)
    phone = fresh_phone()
    resp = _admin_add_user(client, app, phone, WEAK, _role_id(app, "镇街"))
    assert resp.status_code == 200  # the form comes back with the error
    assert user_row(app, phone) is None


def test_admin_user_add_form_creates_a_usable_account_with_a_good_password(app, client, factory):
    admin = factory.user("Admin")
    login(client, admin)
    phone = fresh_phone()
    resp = _admin_add_user(client, app, phone, STRONG, _role_id(app, "镇街"))
    assert resp.status_code == 302
    row = user_row(app, phone)
    assert row is not None and row["username"] == phone and row["roles"] == ["镇街"]
    assert row["password"] != STRONG, "the password was stored in clear text"
    logout(client)
    assert password_login(client, phone, STRONG).status_code == 302
    assert is_logged_in(client)


def test_admin_reset_password_forms_refuse_weak_password(app, client, factory):
    admin = factory.user("Admin")
    victim = factory.enterprise_user()
    login(client, admin)
    before = user_row(app, victim["phone"])["password"]
    token = get_csrf(client, f"/resetpassword/form?pk={victim['id']}")
    resp = client.post(
        f"/resetpassword/form?pk={victim['id']}",
        data={"csrf_token": token, "password": WEAK, "conf_password": WEAK},
    )
    assert resp.status_code == 200
    assert user_row(app, victim["phone"])["password"] == before
    own_before = user_row(app, admin["phone"])["password"]
    token = get_csrf(client, "/resetmypassword/form")
    resp = client.post("/resetmypassword/form", data={"csrf_token": token, "password": WEAK, "conf_password": WEAK})
    assert resp.status_code == 200
    assert user_row(app, admin["phone"])["password"] == own_before
    # a good one goes through FAB's reset view
    resp = client.post(
        f"/resetpassword/form?pk={victim['id']}",
        data={"csrf_token": token, "password": STRONG, "conf_password": STRONG},
    )
    assert resp.status_code == 302
    assert check_password_hash(user_row(app, victim["phone"])["password"], STRONG)


def test_cli_create_user_refuses_weak_password(app):
    phone = fresh_phone()
    runner = app.test_cli_runner()
    args = ["zsdx", "create-user", "--phone", phone, "--name", "审核员", "--role", "镇街", "--town-code", "2010"]
    result = runner.invoke(args=[*args, "--password", WEAK])
    assert result.exit_code != 0
    assert user_row(app, phone) is None
    result = runner.invoke(args=[*args, "--password", STRONG])
    assert result.exit_code == 0, result.output
    row = user_row(app, phone)
    assert row["roles"] == ["镇街"] and check_password_hash(row["password"], STRONG)


@pytest.mark.parametrize("password", [WEAK, REFUSED["7 characters"], REFUSED["Chinese characters"]])
def test_security_manager_add_user_raises(ctx, password):
    from zsdx.extensions import appbuilder, db
    from zsdx.security import PasswordRuleError, placeholder_email

    sm = appbuilder.sm
    phone = fresh_phone()
    with pytest.raises(PasswordRuleError):
        sm.add_user(phone, "x", "", placeholder_email(phone), role=sm.find_role("企业"), password=password)
    db.session.rollback()
    assert sm.find_user(username=phone) is None


def test_security_manager_reset_password_raises(ctx, factory):
    from zsdx.extensions import appbuilder, db
    from zsdx.models import ZsdxUser
    from zsdx.security import PasswordRuleError

    user = factory.enterprise_user()
    with pytest.raises(PasswordRuleError):
        appbuilder.sm.reset_password(user["id"], WEAK)
    db.session.rollback()
    assert check_password_hash(db.session.get(ZsdxUser, user["id"]).password, PASSWORD)
    appbuilder.sm.reset_password(user["id"], STRONG)
    db.session.expire_all()
    assert check_password_hash(db.session.get(ZsdxUser, user["id"]).password, STRONG)
