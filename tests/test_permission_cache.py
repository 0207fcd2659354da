"""FAB permission checks from one query per request (zsdx.permission_cache, issue 7): few ab_permission_view
statements per page, the same decisions as FAB's own per-check queries, and refusals still refused."""

import pytest
from conftest import login
from count_queries import StatementCounter
from helpers import assert_denied, grants_of, set_grants
from helpers_review import new_client


@pytest.fixture(scope="module")
def counter(app):
    from zsdx.extensions import db

    with app.app_context():
        c = StatementCounter(db.engine)
    yield c
    c.close()


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (None, "/login/"),
        (None, "/"),
        ("企业", "/workbench/"),
        ("企业", "/"),
        ("镇街", "/review/"),
        ("Admin", "/users/list/"),
        ("Admin", "/townview/list/"),
    ],
)
def test_a_page_reads_permissions_once(app, factory, counter, role, url):
    client = new_client(app)
    if role:
        user = factory.enterprise_user() if role == "企业" else factory.user(role, town_code="2010")
        login(client, user)
    client.get(url)  # first visit: whatever is loaded once per session is not the page's
    with counter.counting():
        resp = client.get(url)
    assert resp.status_code == 200
    assert counter.permission_checks == [], "FAB's per-item SELECT EXISTS is back"
    assert len(counter.permission_statements) <= 2, counter.permission_statements


def test_an_enterprise_is_still_refused_the_review_queue(app, factory):
    client = new_client(app)
    login(client, factory.enterprise_user())
    assert_denied(client.get("/review/"), "/review/")
    assert_denied(client.get("/users/list/"), "/users/list/")
    assert client.get("/workbench/").status_code == 200


def test_an_anonymous_visitor_is_still_sent_to_the_login(app):
    client = new_client(app)
    resp = client.get("/workbench/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login/")
    assert client.get("/login/").status_code == 200


def test_a_reviewer_sees_only_its_menu(app, factory):
    client = new_client(app)
    login(client, factory.user("镇街", town_code="2010"))
    html = client.get("/workbench/").get_data(as_text=True)
    assert "/review/" in html
    assert "/users/list/" not in html and "/assessment/" not in html


def _all_pairs(app):
    from zsdx.extensions import appbuilder, db

    sm = appbuilder.sm
    return [(pv.permission.name, pv.view_menu.name) for pv in db.session.query(sm.permissionview_model)] + [
        ("can_nothing", "NoSuchView")
    ]


@pytest.mark.parametrize("role", ["Admin", "企业", "镇街", "市工信", "评估机构", None])
def test_the_cached_answers_are_fabs(app, factory, role):
    """Every (permission, view) pair: the cached check inside a request equals FAB's uncached one."""
    from flask_appbuilder.security.sqla.manager import SecurityManager

    from zsdx.extensions import appbuilder, db
    from zsdx.models import ZsdxUser

    sm = appbuilder.sm
    uid = (
        (factory.enterprise_user() if role == "企业" else factory.user(role, town_code="2010"))["id"] if role else None
    )
    with app.test_request_context("/"):
        user = db.session.get(ZsdxUser, uid) if uid else None
        pairs = _all_pairs(app)
        menus = sorted({v for p, v in pairs if p == "menu_access"})
        for permission, view in pairs:
            if user is None:
                assert sm.is_item_public(permission, view) == SecurityManager.is_item_public(sm, permission, view)
            else:
                cached = sm._has_view_access(user, permission, view)
                assert cached == SecurityManager._has_view_access(sm, user, permission, view), (permission, view)
        assert sm._get_user_permission_view_menus(user, "menu_access", menus) == (
            SecurityManager._get_user_permission_view_menus(sm, user, "menu_access", menus)
        )


def test_builtin_roles_are_matched_from_the_config(app, factory, monkeypatch):
    """FAB_ROLES roles: FAB's regex match against the config, their DB rows ignored, as in FAB."""
    from flask_appbuilder.security.sqla.manager import SecurityManager

    from zsdx.extensions import appbuilder, db
    from zsdx.models import ZsdxUser

    sm = appbuilder.sm
    uid = factory.user("专家")["id"]
    monkeypatch.setattr(sm, "_builtin_roles", {"专家": [["^NotificationView$", "can_list"], ["^Home$", "menu_access"]]})
    with app.test_request_context("/"):
        user = db.session.get(ZsdxUser, uid)
        assert sm._has_view_access(user, "can_list", "NotificationView")
        assert not sm._has_view_access(user, "can_queue", "ReviewQueueView")  # a DB row of 专家, ignored
        for permission, view in _all_pairs(app):
            assert sm._has_view_access(user, permission, view) == SecurityManager._has_view_access(
                sm, user, permission, view
            ), (permission, view)
        assert sm._get_user_permission_view_menus(user, "menu_access", ["Home", "Review"]) == {"Home"}


def test_the_cache_lives_for_one_request(app):
    """`g` is shared by requests made under one app context (tests do that): the cache is not."""
    from zsdx.request_cache import request_cache

    with app.app_context():
        assert request_cache() is None
        with app.test_request_context("/a"):
            first = request_cache()
            first["x"] = 1
            assert request_cache() is first
        with app.test_request_context("/b"):
            assert request_cache() == {}


def test_a_grant_changed_by_anyone_counts_from_the_next_request(app, factory):
    """Permissions are kept across requests in each process (issue 12), stamped with the grants' version
    read with the user: a revocation made outside this process (plain SQL here, as another node or `flask
    fab` would) refuses the very next request and takes the menu item away; the grant back restores both."""
    client = new_client(app)
    login(client, factory.user("镇街", town_code="2010"))
    html = client.get("/workbench/").get_data(as_text=True)
    assert 'href="/review/"' in html
    assert client.get("/review/").status_code == 200
    rows = grants_of(app, "镇街", ["ReviewQueueView", "Review"])
    assert rows
    set_grants(app, rows, present=False)
    try:
        assert_denied(client.get("/review/"), "/review/")
        assert 'href="/review/"' not in client.get("/workbench/").get_data(as_text=True)
    finally:
        set_grants(app, rows, present=True)
    assert client.get("/review/").status_code == 200
    assert 'href="/review/"' in client.get("/workbench/").get_data(as_text=True)


def test_the_menu_is_kept_per_role_not_per_user(app, factory):
    """The rendered menu is shared by users whose permissions are the same, never across different ones."""
    town = new_client(app)
    login(town, factory.user("镇街", town_code="2010"))
    enterprise = new_client(app)
    login(enterprise, factory.enterprise_user())
    for _ in range(2):
        assert 'href="/review/"' in town.get("/").get_data(as_text=True)
        html = enterprise.get("/").get_data(as_text=True)
        assert 'href="/review/"' not in html and 'href="/workbench/"' in html


def test_a_revocation_and_a_grant_in_one_edit_count_even_if_the_row_id_is_reused(app, factory):
    """A role edit that removes one grant and adds another deletes a row and inserts one; SQLite gives the new
    row the id of the deleted one when it was the highest, so the table's count, highest id and id sum stay
    the same — the grants' version must still change, or every process keeps the old permissions."""
    from sqlalchemy import text

    from zsdx.extensions import db

    client = new_client(app)
    login(client, factory.user("镇街", town_code="2010"))
    pv_of = (
        "SELECT pv.id FROM ab_permission_view pv JOIN ab_view_menu vm ON vm.id = pv.view_menu_id"
        " JOIN ab_permission p ON p.id = pv.permission_id WHERE vm.name = :view AND p.name = :permission"
    )
    with app.app_context():
        queue_pv = db.session.execute(text(pv_of), {"view": "ReviewQueueView", "permission": "can_queue"}).scalar()
        other_pv = db.session.execute(text(pv_of), {"view": "TownView", "permission": "can_list"}).scalar()
        role_id = db.session.execute(text("SELECT id FROM ab_role WHERE name = '镇街'")).scalar()
    assert (
        queue_pv is not None
        and other_pv is not None
        and (queue_pv, role_id) in grants_of(app, "镇街", ["ReviewQueueView"])
    )
    set_grants(app, [(queue_pv, role_id)], present=False)  # re-inserted: now the highest id of the table
    set_grants(app, [(queue_pv, role_id)], present=True)
    try:
        assert client.get("/review/").status_code == 200
        assert client.get("/townview/list/").status_code != 200
        with app.app_context():  # one edit: the queue revoked, the town list granted
            db.session.execute(
                text("DELETE FROM ab_permission_view_role WHERE permission_view_id = :pv AND role_id = :role"),
                {"pv": queue_pv, "role": role_id},
            )
            db.session.execute(
                text("INSERT INTO ab_permission_view_role (permission_view_id, role_id) VALUES (:pv, :role)"),
                {"pv": other_pv, "role": role_id},
            )
            db.session.commit()
        assert_denied(client.get("/review/"), "/review/")
        assert client.get("/townview/list/").status_code == 200
    finally:
        set_grants(app, [(other_pv, role_id)], present=False)
        with app.app_context():
            present = db.session.execute(
                text("SELECT 1 FROM ab_permission_view_role WHERE permission_view_id = :pv AND role_id = :role"),
                {"pv": queue_pv, "role": role_id},
            ).first()
        if not present:
            set_grants(app, [(queue_pv, role_id)], present=True)


def test_an_anonymous_page_reads_the_public_role_and_the_version_in_one_statement(app, counter):
    """Anonymous pages (the login page, the 首页) read the Public role with the grants' version in one
    statement; the Public role's pairs then come from the process (issue 12)."""
    client = new_client(app)
    client.get("/login/")
    with counter.counting():
        assert client.get("/login/").status_code == 200
    assert counter.permission_checks == []
    # the page's only statement; PostgreSQL gets it as EXECUTE of the statement prepared on the connection
    (statement,) = counter.statements
    assert "ab_permission_view_role" in statement, statement
    (sent,) = counter.sent
    assert sent == statement or sent.startswith("EXECUTE zsdx_public_role"), sent


def test_a_grant_to_the_public_role_counts_for_anonymous_visitors_from_the_next_request(app):
    """The Public role's pairs are kept in the process too: a grant made outside it (plain SQL, as another
    node or `flask fab` would) opens the page to an anonymous visitor at the next request, and its
    revocation sends the visitor to the login page again at the next one."""
    from sqlalchemy import text

    from zsdx.extensions import db

    client = new_client(app)
    assert client.get("/townview/list/").status_code == 302
    with app.app_context():
        pv = db.session.execute(
            text(
                "SELECT pv.id FROM ab_permission_view pv JOIN ab_view_menu vm ON vm.id = pv.view_menu_id"
                " JOIN ab_permission p ON p.id = pv.permission_id WHERE vm.name = 'TownView' AND p.name = 'can_list'"
            )
        ).scalar()
        public = db.session.execute(text("SELECT id FROM ab_role WHERE name = 'Public'")).scalar()
    assert pv is not None and public is not None
    set_grants(app, [(pv, public)], present=True)
    try:
        assert client.get("/townview/list/").status_code == 200
    finally:
        set_grants(app, [(pv, public)], present=False)
    assert client.get("/townview/list/").status_code == 302


def test_a_user_s_groups_still_give_their_roles(app, factory, counter):
    """zsdx gives no one a FAB group, and the user's load no longer joins them: a user without groups has none
    loaded and no statement reads them, while a user put in a group (as `flask fab` or FAB's API could) still gets
    the group's roles, as FAB's get_user_roles gives them (issue 12)."""
    from flask_appbuilder.security.sqla.models import Group, Role, assoc_user_group

    from zsdx.extensions import db

    outsider = factory.enterprise_user()
    member = factory.enterprise_user()
    client = new_client(app)
    login(client, outsider)
    client.get("/workbench/")
    with counter.counting():
        assert client.get("/workbench/").status_code == 200
    assert not [s for s in counter.statements if "ab_user_group" in s and "EXISTS" not in s.upper()], counter.statements
    assert_denied(client.get("/review/"), "/review/")

    with app.app_context():
        group = Group(name=f"测试组{member['id']}", label="测试组")
        group.roles = [db.session.query(Role).filter_by(name="镇街").one()]
        db.session.add(group)
        db.session.flush()
        db.session.execute(assoc_user_group.insert().values(user_id=member["id"], group_id=group.id))
        db.session.commit()
        group_id = group.id
    try:
        client = new_client(app)
        login(client, member)
        assert client.get("/review/").status_code == 200
        assert 'href="/review/"' in client.get("/workbench/").get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Group, group_id))
            db.session.commit()
    assert_denied(client.get("/review/"), "/review/")
