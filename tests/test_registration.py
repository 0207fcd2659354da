"""【注册】 (manual ch. 01, SPEC §2): tabs 企业 / 服务商, SMS code, password rule, registry fuzzy search,
and an account that only ever gets the role of its tab."""

import os

import pytest
from conftest import PASSWORD, fresh_phone
from helpers import (
    error_of,
    fast_password_hashes,  # noqa: F401  (autouse: cheap hashes in this module)
    page,
    password_login,
    register,
    registration_form,
    send_code,
    town_id,
    user_row,
    value_of,
)

REGISTRY_CSV = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zsdx", "data", "registry_demo.csv"
)
DEMO_NAME = "中山市示例智能制造有限公司"
DEMO_CODE = "91442000057830865C"


@pytest.fixture()
def registry(app):
    from zsdx.seed import load_registry

    with app.app_context():
        loaded, rejected = load_registry(REGISTRY_CSV)
    assert loaded > 0 and not rejected
    return loaded


def _org_of(app, phone):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    row = user_row(app, phone)
    with app.app_context():
        org = db.session.get(Organisation, row["org_id"]) if row and row["org_id"] else None
        if org is None:
            return None
        return {
            "kind": org.kind,
            "name": org.name,
            "credit_code": org.credit_code,
            "town_code": org.town.code,
            "industry_id": org.industry_id,
            "contact_name": org.contact_name,
            "contact_phone": org.contact_phone,
            "types": (org.is_industry_provider, org.is_scenario_provider, org.is_ecosystem_provider),
        }


def _count_orgs(app, credit_code):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    with app.app_context():
        return db.session.query(Organisation).filter_by(credit_code=credit_code).count()


def test_register_page_has_enterprise_and_provider_tabs(client):
    resp = client.get("/register/")
    assert resp.status_code == 200
    doc = page(resp)
    assert doc.xpath('//*[@id="kind-enterprise"]') and doc.xpath('//*[@id="kind-provider"]')
    for field in (
        "phone",
        "sms_code",
        "password",
        "confirm",
        "org_name",
        "credit_code",
        "town_id",
        "contact_name",
        "industry_id",
    ):
        assert doc.xpath(f'//*[@name="{field}"]'), field
    assert doc.xpath('//meta[@name="csrf-token"]/@content')
    # the provider tab is preselected when asked for
    assert value_of(client.get("/register/?kind=provider"), "kind") == "provider"


def test_enterprise_registers_through_the_form(app, client, factory, sms):
    phone = fresh_phone()
    code = factory.credit_code()
    resp = send_code(client, phone, "register")
    assert resp.status_code == 200, resp.get_json()
    resp = register(client, registration_form(app, phone, sms.last_code(phone), credit_code=code))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    assert "/login/" in resp.headers["Location"]
    user = user_row(app, phone)
    assert user["username"] == phone and user["phone"] == phone
    assert user["roles"] == ["企业"]
    org = _org_of(app, phone)
    assert org["kind"] == "enterprise"
    assert org["credit_code"] == code
    assert org["town_code"] == "2015"
    assert org["name"] == "中山市注册测试智能科技有限公司"
    assert org["contact_name"] == "王五" and org["contact_phone"] == phone
    assert org["types"] == (False, False, False)
    # and the new account can log in
    assert password_login(client, phone, PASSWORD).status_code == 302


def test_provider_registers_with_its_types(app, client, factory, sms):
    phone = fresh_phone()
    code = factory.credit_code()
    send_code(client, phone, "register", "/register/?kind=provider")
    resp = register(
        client,
        registration_form(
            app,
            phone,
            sms.last_code(phone),
            credit_code=code,
            kind="provider",
            is_scenario_provider="y",
            is_ecosystem_provider="y",
        ),
    )
    assert resp.status_code == 302
    assert user_row(app, phone)["roles"] == ["服务商"]
    org = _org_of(app, phone)
    assert org["kind"] == "provider"
    assert org["types"] == (False, True, True)


def test_provider_needs_at_least_one_type(app, client, factory, sms):
    phone = fresh_phone()
    code = factory.credit_code()
    send_code(client, phone, "register")
    resp = register(client, registration_form(app, phone, sms.last_code(phone), credit_code=code, kind="provider"))
    assert resp.status_code == 200
    assert "has-error" in resp.get_data(as_text=True)
    errors = page(resp).xpath(
        '//*[@name="is_industry_provider"]/ancestor::div[contains(@class,"form-group")]//*[contains(@class,"zs-error")]'
    )
    assert errors and errors[0].text_content().strip()
    assert user_row(app, phone) is None and _count_orgs(app, code) == 0


def test_enterprise_types_ticked_by_an_enterprise_are_ignored(app, client, factory, sms):
    phone = fresh_phone()
    send_code(client, phone, "register")
    resp = register(
        client,
        registration_form(
            app, phone, sms.last_code(phone), credit_code=factory.credit_code(), is_industry_provider="y"
        ),
    )
    assert resp.status_code == 302
    assert _org_of(app, phone)["types"] == (False, False, False)


def test_registry_fuzzy_search(app, client, registry):
    resp = client.get("/register/registry?q=示例")
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    hit = [r for r in results if r["name"] == DEMO_NAME]
    assert hit, results
    assert hit[0]["credit_code"] == DEMO_CODE
    assert hit[0]["town_id"] == town_id(app, "2010")
    assert hit[0]["town"] == "小榄镇"
    # by part of the name, and by the full credit code
    assert any(r["credit_code"] == DEMO_CODE for r in client.get("/register/registry?q=智能制造").get_json()["results"])
    assert [r["name"] for r in client.get(f"/register/registry?q={DEMO_CODE.lower()}").get_json()["results"]] == [
        DEMO_NAME
    ]


def test_registry_search_needs_two_characters_and_escapes_wildcards(client, registry):
    assert client.get("/register/registry?q=中").get_json()["results"] == []
    assert client.get("/register/registry?q=%25%25").get_json()["results"] == []
    assert client.get("/register/registry?q=__").get_json()["results"] == []


def test_registry_load_is_idempotent(app, registry):
    from zsdx.extensions import db
    from zsdx.models import RegistryEntry
    from zsdx.seed import load_registry

    with app.app_context():
        before = db.session.query(RegistryEntry).count()
        load_registry(REGISTRY_CSV)
        assert db.session.query(RegistryEntry).count() == before


# --- the attacker's side -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["市工信", "Admin", "government", "institution", ""])
def test_kind_other_than_enterprise_or_provider_creates_nothing(app, client, factory, sms, kind):
    phone = fresh_phone()
    code = factory.credit_code()
    send_code(client, phone, "register")
    resp = register(client, registration_form(app, phone, sms.last_code(phone), credit_code=code, kind=kind))
    assert resp.status_code == 200
    assert user_row(app, phone) is None
    assert _count_orgs(app, code) == 0


@pytest.mark.parametrize("extra", [{"roles": "Admin"}, {"role": "市工信"}, {"roles": "1"}, {"role_id": "1"}])
def test_extra_role_fields_are_ignored(app, client, factory, sms, extra):
    phone = fresh_phone()
    send_code(client, phone, "register")
    resp = register(
        client, registration_form(app, phone, sms.last_code(phone), credit_code=factory.credit_code(), **extra)
    )
    assert resp.status_code == 302
    assert user_row(app, phone)["roles"] == ["企业"]


def test_registration_without_the_right_sms_code_creates_nothing(app, client, factory, sms):
    phone = fresh_phone()
    code = factory.credit_code()
    send_code(client, phone, "register")
    right = sms.last_code(phone)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    resp = register(client, registration_form(app, phone, wrong, credit_code=code))
    assert resp.status_code == 200
    assert error_of(resp, "sms_code")
    assert user_row(app, phone) is None and _count_orgs(app, code) == 0
    # a code sent to another phone does not register this one
    other = fresh_phone()
    resp = register(client, registration_form(app, other, right, credit_code=code))
    assert error_of(resp, "sms_code") and user_row(app, other) is None


def test_registration_without_csrf_is_refused(app, client, factory):
    phone = fresh_phone()
    client.get("/register/")
    resp = client.post("/register/", data=registration_form(app, phone, "123456", credit_code=factory.credit_code()))
    assert resp.status_code == 400
    assert user_row(app, phone) is None


# --- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field,bad",
    [
        ("phone", "1234567"),
        ("phone", "23900000000"),
        ("sms_code", "12345"),
        ("sms_code", ""),
        ("password", "short1A"),
        ("confirm", "Different@2026"),
        ("org_name", ""),
        ("credit_code", "91442000MA4UDEMX19"),
        ("credit_code", ""),
        ("town_id", "0"),
        ("contact_name", ""),
        ("industry_id", "0"),
    ],
)
def test_each_field_error_is_shown_beside_its_field_and_the_rest_is_kept(app, client, factory, field, bad):
    phone = fresh_phone()
    code = factory.credit_code()
    data = registration_form(app, phone, "123456", credit_code=code, contact_name="赵六经理")
    data[field] = bad
    resp = register(client, data)
    assert resp.status_code == 200
    assert error_of(resp, field), f"no error beside {field}"
    for other in ("phone", "org_name", "credit_code", "contact_name", "town_id", "industry_id"):
        if other != field:
            assert not error_of(resp, other), f"unexpected error beside {other}"
            assert value_of(resp, other) == data[other], f"{other} was not kept"
    assert user_row(app, phone) is None and _count_orgs(app, code) == 0


def test_several_errors_at_once(app, client, factory):
    phone = fresh_phone()
    data = registration_form(app, "12", "1", credit_code="X", org_name="中山市多错误测试有限公司", contact_name="")
    resp = register(client, data)
    for field in ("phone", "sms_code", "credit_code", "contact_name"):
        assert error_of(resp, field), field
    assert value_of(resp, "org_name") == "中山市多错误测试有限公司"
    assert user_row(app, phone) is None


def test_unknown_town_is_refused(app, client, factory, sms):
    phone = fresh_phone()
    send_code(client, phone, "register")
    resp = register(
        client, registration_form(app, phone, sms.last_code(phone), credit_code=factory.credit_code(), town_id="999999")
    )
    assert resp.status_code == 200
    assert error_of(resp, "town_id")
    assert user_row(app, phone) is None


def test_already_registered_phone_is_refused(app, client, factory):
    user = factory.enterprise_user()
    code = factory.credit_code()
    resp = register(client, registration_form(app, user["phone"], "123456", credit_code=code))
    assert resp.status_code == 200
    assert error_of(resp, "phone")
    assert _count_orgs(app, code) == 0
    assert user_row(app, user["phone"])["id"] == user["id"]


def test_credit_code_of_an_existing_organisation_is_refused(app, client, factory, sms):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    org_id = factory.org("enterprise")
    with app.app_context():
        taken = db.session.get(Organisation, org_id).credit_code
    phone = fresh_phone()
    send_code(client, phone, "register")
    resp = register(client, registration_form(app, phone, sms.last_code(phone), credit_code=taken.lower()))
    assert resp.status_code == 200
    assert error_of(resp, "credit_code")
    assert user_row(app, phone) is None and _count_orgs(app, taken) == 1
