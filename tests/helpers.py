"""Small readers of rendered pages shared by the account/security tests (no mocks: they only parse HTML
and drive the real endpoints)."""

import lxml.html
import pytest
from conftest import PASSWORD, csrf_from, get_csrf


def page(resp):
    return lxml.html.fromstring(resp.get_data(as_text=True))


def error_of(resp_or_html, field_id):
    """Text of the error element next to a field (`id="<field id>-error"`); None when there is none."""
    html = resp_or_html if isinstance(resp_or_html, str) else resp_or_html.get_data(as_text=True)
    nodes = lxml.html.fromstring(html).xpath(f'//*[@id="{field_id}-error"]')
    if not nodes:
        return None
    return nodes[0].text_content().strip()


def value_of(resp, name):
    """The value an input (or the selected option of a select) carries in a re-rendered form."""
    doc = page(resp)
    nodes = doc.xpath(f'//input[@name="{name}"]')
    if nodes:
        return nodes[0].get("value")
    sel = doc.xpath(f'//select[@name="{name}"]/option[@selected]')
    return sel[0].get("value") if sel else None


def meta_csrf(client, url):
    """The CSRF token a page carries (its <meta name="csrf-token">), as the page's JavaScript reads it."""
    return csrf_from(client.get(url).get_data(as_text=True))


def send_code(client, phone, purpose, from_url="/register/"):
    """Press 【获取验证码】: POST /sms/send with the page's CSRF token in X-CSRFToken."""
    token = meta_csrf(client, from_url)
    return client.post("/sms/send", json={"phone": phone, "purpose": purpose}, headers={"X-CSRFToken": token})


def sms_login(client, phone, code):
    token = meta_csrf(client, "/login/?mode=sms")
    return client.post(
        "/login/",
        data={"sms-csrf_token": token, "sms-mode": "sms", "sms-phone": phone, "sms-sms_code": code},
    )


def password_login(client, phone, password, captcha=""):
    token = meta_csrf(client, "/login/")
    return client.post(
        "/login/",
        data={
            "pw-csrf_token": token,
            "pw-mode": "password",
            "pw-phone": phone,
            "pw-password": password,
            "pw-captcha": captcha,
        },
    )


def logout(client):
    """Press 退出登录: the navbar's small POST form, with the page's CSRF token (GET only asks)."""
    token = meta_csrf(client, "/")
    resp = client.post("/logout/", data={"csrf_token": token})
    assert resp.status_code == 302
    return resp


def is_logged_in(client):
    """The workbench is served only to a signed-in user."""
    return client.get("/workbench/").status_code == 200


def assert_denied(resp, url=None):
    """The page was not served: a refusal status, or FAB's redirect away ("Access is Denied")."""
    assert resp.status_code != 200, f"{url or ''} was served"
    if resp.status_code in (301, 302, 303, 307, 308):
        location = resp.headers["Location"]
        assert url is None or not location.endswith(url), location
    else:
        assert resp.status_code in (400, 401, 403, 404, 405), resp.status_code


def town_id(app, code="2010"):
    from zsdx.extensions import db
    from zsdx.models import Town

    with app.app_context():
        return db.session.query(Town.id).filter_by(code=code).scalar()


def industry_id(app):
    from zsdx.extensions import db
    from zsdx.models import Industry

    with app.app_context():
        return db.session.query(Industry.id).order_by(Industry.sort, Industry.id).first()[0]


def registration_form(app, phone, code, **over):
    """The 【注册】 form of an enterprise as a user fills it, with `over` changed (None leaves a field out)."""
    data = {
        "kind": "enterprise",
        "phone": phone,
        "sms_code": code,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "org_name": "中山市注册测试智能科技有限公司",
        "town_id": str(town_id(app, "2015")),
        "contact_name": "王五",
        "industry_id": str(industry_id(app)),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def register(client, data):
    """Post the 【注册】 form `data` with the page's CSRF token."""
    data = dict(data, csrf_token=get_csrf(client, "/register/"))
    return client.post("/register/", data=data)


def user_row(app, phone):
    """(id, username, phone, password hash, role names, organisation id) of the account with that phone."""
    from zsdx.extensions import db
    from zsdx.models import ZsdxUser

    with app.app_context():
        u = db.session.query(ZsdxUser).filter((ZsdxUser.phone == phone) | (ZsdxUser.username == phone)).one_or_none()
        if u is None:
            return None
        return {
            "id": u.id,
            "username": u.username,
            "phone": u.phone,
            "password": u.password,
            "roles": sorted(r.name for r in u.roles),
            "org_id": u.organisation_id,
        }


def org_row(app, org_id):
    """The fields of an organisation that 信息变更 may change."""
    from zsdx.extensions import db
    from zsdx.models import Organisation

    with app.app_context():
        o = db.session.get(Organisation, org_id)
        return {
            "name": o.name,
            "credit_code": o.credit_code,
            "town_id": o.town_id,
            "industry_id": o.industry_id,
            "contact_name": o.contact_name,
            "contact_phone": o.contact_phone,
        }


@pytest.fixture(scope="module", autouse=True)
def fast_password_hashes(app):
    """Hash the passwords these tests set with a cheap method (scrypt costs ~0.1 s per hash and per check,
    and these tests create and log in hundreds of accounts). What is tested — the rule, the lockout, who
    may log in — does not depend on the hash method; the setting is put back after each module."""
    before = app.config.get("FAB_PASSWORD_HASH_METHOD")
    app.config["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    yield
    if before is None:
        app.config.pop("FAB_PASSWORD_HASH_METHOD", None)
    else:
        app.config["FAB_PASSWORD_HASH_METHOD"] = before


def grants_of(app, role_name, view_names):
    """The ab_permission_view_role rows of `role_name` on `view_names` (views and menu items)."""
    from sqlalchemy import bindparam, text

    from zsdx.extensions import db

    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                text(
                    "SELECT pvr.permission_view_id, pvr.role_id FROM ab_permission_view_role pvr"
                    " JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id"
                    " JOIN ab_view_menu vm ON vm.id = pv.view_menu_id JOIN ab_role r ON r.id = pvr.role_id"
                    " WHERE r.name = :role AND vm.name IN :views"
                ).bindparams(bindparam("views", expanding=True)),
                {"role": role_name, "views": list(view_names)},
            )
        ]


def set_grants(app, rows, present):
    """Insert (`present`) or delete those rows in plain SQL, as another node or `flask fab` would."""
    from sqlalchemy import text

    from zsdx.extensions import db

    with app.app_context():
        for pv_id, role_id in rows:
            params = {"pv": pv_id, "role": role_id}
            if present:
                db.session.execute(
                    text("INSERT INTO ab_permission_view_role (permission_view_id, role_id) VALUES (:pv, :role)"),
                    params,
                )
            else:
                db.session.execute(
                    text("DELETE FROM ab_permission_view_role WHERE permission_view_id = :pv AND role_id = :role"),
                    params,
                )
        db.session.commit()
