"""申报窗口 (SubmissionWindowView): FAB's generated CRUD under the shared visibility, with FAB's actions and
downloads guarded (FAB-NOTES P1) — tried from the attacker's side."""

import datetime as dt

from conftest import csrf_from
from helpers_review import client_for

from zsdx import visibility
from zsdx.extensions import db
from zsdx.models import SubmissionWindow

URL = "/submissionwindowview"


def _window(app, chain, name, days=(0, 5)):
    now = dt.datetime.now()
    with app.app_context():
        w = SubmissionWindow(
            chain_name=chain,
            name=name,
            opens_at=now + dt.timedelta(days=days[0]),
            closes_at=now + dt.timedelta(days=days[1]),
        )
        db.session.add(w)
        db.session.commit()
        return w.id


def _closes_at(app, pk):
    with app.app_context():
        return db.session.get(SubmissionWindow, pk).closes_at


def test_city_lists_adds_and_is_told_about_a_bad_period(app, factory):
    cc = client_for(app, factory.user("市工信"))
    page = cc.get(f"{URL}/list/")
    assert page.status_code == 200 and "申报窗口" in page.get_data(as_text=True)
    form = cc.get(f"{URL}/add")
    assert form.status_code == 200
    resp = cc.post(
        f"{URL}/add",
        data={
            "csrf_token": csrf_from(form.get_data(as_text=True)),
            "name": "倒置窗口",
            "chain_name": "filing",
            "opens_at": "2026-12-10 00:00:00",
            "closes_at": "2026-12-01 00:00:00",
        },
        follow_redirects=True,
    )
    assert "结束时间必须晚于开放时间" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(SubmissionWindow).filter_by(name="倒置窗口").count() == 0
    resp = cc.post(
        f"{URL}/add",
        data={
            "csrf_token": csrf_from(form.get_data(as_text=True)),
            "name": "备案窗口",
            "chain_name": "filing",
            "opens_at": "2026-12-01 00:00:00",
            "closes_at": "2026-12-10 00:00:00",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.query(SubmissionWindow).filter_by(name="备案窗口").count() == 1


def test_a_window_publishes_its_announcement_on_the_home_page(app, factory):
    """Manual 09: the 项目入库 period is announced on 首页; the 公告 follows the window and goes with it."""
    cc = client_for(app, factory.user("市工信"))
    token = csrf_from(cc.get(f"{URL}/add").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "name": "2026年第一批入库",
        "chain_name": "warehousing",
        "opens_at": "2026-12-01 09:00:00",
        "closes_at": "2026-12-20 17:30:00",
        "notice": "请各企业在开放时段内提交项目入库申请。",
    }
    assert cc.post(f"{URL}/add", data=data).status_code == 302
    home = client_for(app, factory.enterprise_user()).get("/").get_data(as_text=True)
    assert "项目入库开放时段：2026-12-01 09:00 至 2026-12-20 17:30" in home
    with app.app_context():
        window = db.session.query(SubmissionWindow).filter_by(name="2026年第一批入库").one()
        pk, announcement = window.id, window.announcement_id
    # a longer period rewrites the same announcement
    resp = cc.post(f"{URL}/edit/{pk}", data={**data, "closes_at": "2026-12-31 17:30:00"})
    assert resp.status_code == 302
    home = client_for(app, factory.enterprise_user()).get("/").get_data(as_text=True)
    assert "至 2026-12-31 17:30" in home and "至 2026-12-20 17:30" not in home
    with app.app_context():
        assert db.session.get(SubmissionWindow, pk).announcement_id == announcement
    # an overlong text is refused next to the field and nothing changes
    resp = cc.post(f"{URL}/edit/{pk}", data={**data, "notice": "长" * 5001}, follow_redirects=True)
    assert "字数不超过5000字" in resp.get_data(as_text=True)
    # emptying the text withdraws it
    assert cc.post(f"{URL}/edit/{pk}", data={**data, "notice": ""}).status_code == 302
    assert "项目入库开放时段" not in client_for(app, factory.enterprise_user()).get("/").get_data(as_text=True)


def test_actions_and_downloads_respect_the_row_filter(app, factory):
    mine = _window(app, "filing", "可见窗口")
    hidden = _window(app, "info_change", "不可见窗口")
    cc = client_for(app, factory.user("市工信"))
    token = csrf_from(cc.get(f"{URL}/list/").get_data(as_text=True))
    rule = visibility.RULES[SubmissionWindow]
    # narrow the rule as a tenant-scoped kind would have it: the city sees only filing windows here
    visibility.register(SubmissionWindow, lambda model, user, names: model.chain_name == "filing")
    try:
        before = _closes_at(app, hidden)
        resp = cc.post(f"{URL}/action_post", data={"csrf_token": token, "action": "close_now", "rowid": [str(hidden)]})
        assert resp.status_code == 404 and _closes_at(app, hidden) == before
        resp = cc.post(f"{URL}/action/close_now/{hidden}", data={"csrf_token": token})
        assert resp.status_code == 404 and _closes_at(app, hidden) == before
        # an unknown action name, a GET mutation and a pk that is no number are refused without a 500
        assert (
            cc.post(f"{URL}/action_post", data={"csrf_token": token, "action": "x", "rowid": [str(mine)]}).status_code
            == 404
        )
        assert cc.get(f"{URL}/action/close_now/{mine}").status_code == 405
        assert cc.post(f"{URL}/action/close_now/abc", data={"csrf_token": token}).status_code == 404
        # without a CSRF token nothing runs
        assert cc.post(f"{URL}/action_post", data={"action": "close_now", "rowid": [str(mine)]}).status_code == 400
        # the visible row is closed
        resp = cc.post(f"{URL}/action_post", data={"csrf_token": token, "action": "close_now", "rowid": [str(mine)]})
        assert resp.status_code == 302 and _closes_at(app, mine) <= dt.datetime.now()
        assert cc.get(f"{URL}/show/{hidden}").status_code in (302, 404)
    finally:
        visibility.register(SubmissionWindow, rule)
    assert cc.get(f"{URL}/download/anything.pdf").status_code == 404
    assert cc.get(f"{URL}/download/..%2F..%2Fconfig.py").status_code == 404


def test_other_roles_cannot_open_the_windows(app, factory):
    for role in ("企业", "镇街", "专家"):
        user = factory.enterprise_user() if role == "企业" else factory.user(role, town_code="2010")
        resp = client_for(app, user).get(f"{URL}/list/")
        assert resp.status_code in (302, 403), role


def test_a_category_keeps_the_three_level_tree(app, factory):
    """A third-level category without a parent (or under the wrong level) is refused with a Chinese message;
    such a row would break the filing form's cascading choice."""
    from zsdx.models import ProductCategory

    ac = client_for(app, factory.user("Admin"))
    form = ac.get("/productcategoryview/add")
    token = csrf_from(form.get_data(as_text=True))
    with app.app_context():
        level1 = db.session.query(ProductCategory.id).filter_by(level=1).first()[0]
    for data, message in (
        ({"name": "孤立三级类", "level": "3", "parent": ""}, "请选择2级的上级分类"),
        ({"name": "错层三级类", "level": "3", "parent": str(level1)}, "请选择2级的上级分类"),
        ({"name": "带上级的一级类", "level": "1", "parent": str(level1)}, "一级分类没有上级分类"),
    ):
        resp = ac.post("/productcategoryview/add", data={"csrf_token": token, **data}, follow_redirects=True)
        assert resp.status_code == 200 and message in resp.get_data(as_text=True), data
        with app.app_context():
            assert db.session.query(ProductCategory).filter_by(name=data["name"]).count() == 0
