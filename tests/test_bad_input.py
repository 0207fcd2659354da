"""Bad input from the attacker's side ends in a clean 4xx or a Chinese form error, never a 500 (issue 8).

Walks every FAB ModelView registered with the AppBuilder (zsdx's reference data, announcements, windows,
FAB's users/roles/groups/permissions/view menus/permission views/user statistics) as Admin with broken
list arguments (page, page size, order, filters), unknown actions, chart group-bys and downloads; then the
paged zsdx lists (review queue, notifications) and the REST API's rison `q`.
"""

import pytest
from conftest import csrf_from, login
from flask_appbuilder.baseviews import BaseModelView
from helpers_review import new_client

CONTROL = "a\x00b\x01\x1b"
BAD_NUMBERS = ["-1", "0", "1e20", "abc", str(10**30), "", "\x00"]


def _model_views(app):
    from zsdx.extensions import appbuilder

    return [v for v in appbuilder.baseviews if isinstance(v, BaseModelView)]


@pytest.fixture(scope="module")
def admin(app, factory_module):
    return factory_module.user("Admin")


@pytest.fixture(scope="module")
def factory_module(app):
    from conftest import Factory

    return Factory(app)


def _admin_client(app, admin):
    c = new_client(app)
    login(c, admin)
    return c


def _no_5xx(resp, what):
    assert resp.status_code < 500, f"{what} → {resp.status_code}"
    return resp


def _get(c, url, **kw):
    try:
        return c.get(url, **kw)
    except Exception as exc:  # TESTING propagates: an unhandled exception is the 500 we look for
        raise AssertionError(f"GET {url!r} raised {exc!r}") from exc


def _post(c, url, **kw):
    try:
        return c.post(url, **kw)
    except Exception as exc:
        raise AssertionError(f"POST {url!r} raised {exc!r}") from exc


def _list_url(view):
    for name in ("list", "chart"):
        if hasattr(view, name):
            return f"{view.route_base}/{name}/"
    return f"{view.route_base}/"


def test_every_model_view_walked(app):
    names = {type(v).__name__ for v in _model_views(app)}
    for expected in (
        "ZsdxUserDBModelView",
        "ZsdxRoleModelView",
        "UserGroupModelView",
        "UserStatsChartView",
        "PermissionModelView",
        "ViewMenuModelView",
        "PermissionViewModelView",
        "AnnouncementAdminView",
        "SubmissionWindowView",
        "TownView",
        "OrganisationView",
        "RegistryView",
    ):
        assert expected in names


def test_list_arguments_of_every_model_view(app, admin):
    c = _admin_client(app, admin)
    for view in _model_views(app):
        name = type(view).__name__
        url = _list_url(view)
        assert _get(c, url).status_code == 200, url
        for value in BAD_NUMBERS:
            for arg in (f"psize_{name}", f"page_{name}"):
                _no_5xx(_get(c, url, query_string={arg: value}), f"{url}?{arg}={value!r}")
        for value in (CONTROL, "no_such_column", "x" * 5000):
            q = {f"_oc_{name}": value, f"_od_{name}": "asc"}
            _no_5xx(_get(c, url, query_string=q), f"{url} order {value!r}")
        _no_5xx(_get(c, url, query_string={f"_od_{name}": CONTROL}), f"{url} order direction")
        for i, column in enumerate(getattr(view, "search_columns", []) or []):
            for value in (CONTROL, "x" * 5000, "-1", str(10**30), "1e20", "abc", "nan"):
                q = {f"_flt_{i % 10}_{column}": value}
                _no_5xx(_get(c, url, query_string=q), f"{url} filter {column}={value!r}")


def test_control_characters_in_query_arguments_are_refused_in_chinese(app, admin):
    c = _admin_client(app, admin)
    resp = _get(c, "/users/list/", query_string={"_flt_0_first_name": "a\x00b"})
    assert resp.status_code == 400
    assert "控制字符" in resp.get_data(as_text=True)


def test_page_size_is_clamped(app, admin):
    c = _admin_client(app, admin)
    resp = _get(c, "/townview/list/", query_string={"psize_TownView": "100000"})
    assert resp.status_code == 200
    resp = _get(c, "/townview/list/", query_string={"psize_TownView": "abc"})
    assert resp.status_code == 400


def test_actions_charts_and_downloads_of_every_model_view(app, admin):
    c = _admin_client(app, admin)
    for view in _model_views(app):
        base = view.route_base
        url = _list_url(view)
        token = csrf_from(_get(c, url).get_data(as_text=True))
        if hasattr(view, "action"):
            for name, pk in (("x", "1"), ("x", "abc"), ("muldelete", "999999999"), ("muldelete", "abc")):
                _no_5xx(_post(c, f"{base}/action/{name}/{pk}", data={"csrf_token": token}), f"{base} action {name}")
            for form in (
                {"action": "x", "rowid": "1"},
                {"rowid": "1"},
                {"action": "muldelete"},
                {"action": "muldelete", "rowid": ["abc", "999999999"]},
                {"action": "muldelete", "rowid": str(10**30)},
            ):
                _no_5xx(_post(c, f"{base}/action_post", data=dict(form, csrf_token=token)), f"{base} {form}")
        if hasattr(view, "download"):
            for filename in ("missing.pdf", "..", "%2e%2e", "a%00b"):
                _no_5xx(_get(c, f"{base}/download/{filename}"), f"{base}/download/{filename}")
        if hasattr(view, "chart"):
            for group_by in ("roles", "groups", "-1", "5", "99", str(10**30), "0", "1"):
                _no_5xx(_get(c, f"{base}/chart/{group_by}"), f"{base}/chart/{group_by}")
        for path in ("show", "edit"):
            if hasattr(view, path):
                for pk in ("abc", str(10**30), "-1"):
                    _no_5xx(_get(c, f"{base}/{path}/{pk}"), f"{base}/{path}/{pk}")


def test_unknown_action_is_a_404(app, admin):
    c = _admin_client(app, admin)
    token = csrf_from(_get(c, "/users/list/").get_data(as_text=True))
    assert _post(c, "/users/action/x/1", data={"csrf_token": token}).status_code == 404
    assert _post(c, "/users/action_post", data={"csrf_token": token, "action": "x", "rowid": "1"}).status_code == 404


def test_add_user_without_a_role_is_a_chinese_form_error(app, admin):
    from conftest import PASSWORD, fresh_phone

    c = _admin_client(app, admin)
    form = _get(c, "/users/add").get_data(as_text=True)
    phone = fresh_phone()
    resp = _post(
        c,
        "/users/add",
        data={
            "csrf_token": csrf_from(form),
            "first_name": "无角色",
            "phone": phone,
            "active": "y",
            "password": PASSWORD,
            "conf_password": PASSWORD,
        },
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert phone in html  # what was typed is still there
    assert "请选择角色" in html


# --- paged zsdx lists and the REST API ----------------------------------------------------------------
PAGES = ["1e20", "-1", "abc", str(10**30), "0", "\u0661"]


def test_review_queue_and_notifications_take_any_page(app, factory):
    from helpers_review import client_for

    reviewer = client_for(app, factory.user("镇街", town_code="2010"))
    for page in PAGES:
        for url, kind in (("/review/", None), ("/notifications/", "review"), ("/notifications/", "todo")):
            resp = _get(reviewer, url, query_string={"page": page, **({"kind": kind} if kind else {})})
            assert resp.status_code == 200, (url, page)
    for town in ("1e20", str(10**30), "-1", "abc"):
        assert _get(reviewer, "/review/", query_string={"town": town}).status_code == 200, town
    for before in (f"2026-01-01T00:00:00_{10**30}", "x_1", "_", "2026-01-01T00:00:00_-5"):
        assert _get(reviewer, "/review/", query_string={"tab": "done", "before": before}).status_code == 200


def test_api_refuses_malformed_q_with_chinese_json(app, factory):
    from test_review_security import api_client

    c, headers = api_client(app, factory.enterprise_user())
    for q in (
        "(page:1e20)",
        f"(page:{10**30})",
        "(page:-1)",
        "(page_size:1.5)",
        "(((",
        "(page:!t)",
        "(filters:!((col:x,opr:nosuch,value:1)))",
        "(filters:!((col:project_name,opr:nosuch,value:1)))",
        "(filters:x)",
        "!(1,2)",
    ):
        resp = _get(c, "/api/v1/filing/", query_string={"q": q}, headers=headers)
        assert resp.status_code == 400, (q, resp.status_code, resp.get_data(as_text=True)[:300])
        body = resp.get_json()
        assert body["ok"] is False and "查询参数" in body["message"], q
    for q in ("(page_size:-1)", "(page:0,page_size:100)", "(page_size:1000)", "(page:2.0)"):
        resp = _get(c, "/api/v1/filing/", query_string={"q": q}, headers=headers)
        assert resp.status_code == 200, (q, resp.get_data(as_text=True)[:300])


def test_api_item_refuses_select_columns_of_the_wrong_type(app, factory):
    from helpers_review import make_filing
    from test_review_security import api_client

    ent = factory.enterprise_user()
    pk = make_filing(app, ent, step=None)
    c, headers = api_client(app, ent)
    for q in ("(select_columns:1)", "(select_columns:1.5)", "(select_columns:!(1))", "(order_column:!t)"):
        resp = _get(c, f"/api/v1/filing/{pk}", query_string={"q": q}, headers=headers)
        assert resp.status_code == 400, (q, resp.status_code)
    assert (
        _get(c, f"/api/v1/filing/{pk}", query_string={"q": "(select_columns:!(id))"}, headers=headers).status_code
        == 200
    )


def test_ids_beyond_64_bits_in_the_url_are_a_404(app, factory):
    from helpers_review import client_for

    c = client_for(app, factory.enterprise_user())
    huge = 10**20
    for url in (f"/filing/{huge}", f"/filing/{huge}/edit", f"/assessment/{huge}/edit", f"/notifications/{huge}"):
        assert _get(c, url).status_code == 404, url
    cc = client_for(app, factory.user("市工信"))
    token = csrf_from(cc.get("/message-replies/").get_data(as_text=True))
    assert cc.post(f"/message-replies/{huge}", data={"csrf_token": token, "body": "x"}).status_code == 404
