"""The fixed cost of a signed-in page (issue 12): what every page reads once — the user, its roles, the
grants' version and the header's unread counts — comes in one statement, and none of it goes stale."""

import re

from conftest import login
from helpers_review import new_client

from zsdx.models import NotificationKind

BADGE = re.compile(r'id="zs-unread">(\d+)<')


def _badge(client, url="/"):
    match = BADGE.search(client.get(url).get_data(as_text=True))
    return int(match.group(1)) if match else 0


def _notify(app, user_id, n, kind="review"):
    from zsdx.extensions import db
    from zsdx.models import Notification

    with app.app_context():
        for i in range(n):
            db.session.add(Notification(user_id=user_id, kind=kind, text=f"通知{i}", link="/", send_sms=False))
        db.session.commit()


def test_the_home_page_of_a_signed_in_user_is_two_statements(app, factory):
    from count_queries import StatementCounter

    from zsdx.extensions import db

    client = new_client(app)
    login(client, factory.enterprise_user())
    client.get("/")
    with app.app_context():
        counter = StatementCounter(db.engine)
    try:
        with counter.counting():
            assert client.get("/").status_code == 200
        # the user with roles, grants' version and unread counts; the 首页 announcements
        assert len(counter.statements) <= 2, counter.statements
    finally:
        counter.close()


def test_the_badge_counts_what_is_unread_now(app, factory):
    user = factory.enterprise_user()
    client = new_client(app)
    login(client, user)
    before = _badge(client)
    _notify(app, user["id"], 3)
    _notify(app, user["id"], 2, kind="todo")
    assert _badge(client) == before + 5
    assert _badge(client, "/workbench/") == before + 5
    html = client.get("/notifications/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code in (302, 303)
    assert _badge(client) == 0


def test_counts_read_with_the_user_are_dropped_when_the_request_changes_them(app, factory):
    """Read before the view runs, they must not outlive a change the same request makes (ORM or statement)."""
    from sqlalchemy import update

    from zsdx.extensions import db
    from zsdx.models import Notification
    from zsdx.notifications import remember_unread, unread_counts

    user = factory.enterprise_user()
    with app.test_request_context("/"):
        remember_unread(user["id"], 7, 0, 0)
        assert unread_counts(user["id"])[NotificationKind.TODO] == 7
        db.session.add(Notification(user_id=user["id"], kind="todo", text="新待办", link="/", send_sms=False))
        db.session.flush()
        fresh = unread_counts(user["id"])[NotificationKind.TODO]
        assert fresh != 7 and fresh >= 1
        remember_unread(user["id"], 7, 0, 0)
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == user["id"])
            .values(is_read=True)
            .execution_options(synchronize_session=False)
        )
        assert unread_counts(user["id"])[NotificationKind.TODO] == 0
        db.session.rollback()


def test_translations_follow_the_request_and_force_locale(app):
    """zsdx.templating speeds up Flask-Babel's context lookup and the templates' `_()`: the answers stay
    Flask-Babel's — the request's language, force_locale inside it, the msgid outside any context."""
    import flask_babel
    from flask import render_template_string

    with app.test_request_context("/"):
        assert flask_babel.gettext("Log out") == "退出登录"
        assert render_template_string("{{ _('Log out') }}") == "退出登录"
        with flask_babel.force_locale("en"):
            assert flask_babel.gettext("Log out") == "Log out"
            assert render_template_string("{{ _('Log out') }}") == "Log out"
        assert render_template_string("{{ _('Log out') }}") == "退出登录"
        assert str(flask_babel.lazy_gettext("Log out")) == "退出登录"
        # as Jinja's newstyle gettext: variables escaped, `{% trans %}` through the same function
        shown = render_template_string(
            "{{ _('Data updated at %(time)s', time='<b>') }}|{% trans %}Log out{% endtrans %}"
        )
        assert shown == "数据更新于 &lt;b&gt;|退出登录"
    assert flask_babel.gettext("Log out") == "Log out"  # no application context: the msgid, as Flask-Babel


def test_badges_stop_counting_at_99_plus(app, factory):
    """A reviewer with thousands of unread 待办事项 costs the page no more than one with a hundred: the
    counts stop at 100 and every badge (header, panel, 查看更多) shows 99+."""
    from zsdx.notifications import UNREAD_SHOWN

    user = factory.enterprise_user()
    client = new_client(app)
    login(client, user)
    _notify(app, user["id"], UNREAD_SHOWN + 50, kind="todo")
    _notify(app, user["id"], 2, kind="review")
    home = client.get("/").get_data(as_text=True)
    assert 'id="zs-unread">99+<' in home
    panel = client.get("/workbench/").get_data(as_text=True)
    assert 'id="unread-todo">99+<' in panel and 'id="unread-review">2<' in panel
    listing = client.get("/notifications/?kind=todo").get_data(as_text=True)
    assert '<span class="badge">99+</span>' in listing and '<span class="badge">2</span>' in listing
    assert "共 150 条" in listing  # the list's own total is counted, up to 10,000


def test_the_notification_list_pages_through_everything(app, factory):
    user = factory.enterprise_user()
    client = new_client(app)
    login(client, user)
    _notify(app, user["id"], 25, kind="todo")
    first = client.get("/notifications/?kind=todo").get_data(as_text=True)
    second = client.get("/notifications/?kind=todo&page=2").get_data(as_text=True)
    texts = set(re.findall(r">(通知\d+)<", first)) | set(re.findall(r">(通知\d+)<", second))
    assert len(re.findall(r">(通知\d+)<", first)) == 20 and texts == {f"通知{i}" for i in range(25)}
    assert "page=2" in first and "page=1" in second
