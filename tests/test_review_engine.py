"""The review engine (SPEC §3.1, §3.9): opinions, the audit timeline, notifications, 企业信息变更,
deadlines and reminders, and two reviewers at the same moment (PostgreSQL)."""

import copy
import datetime as dt
import re
import threading

import lxml.html
import pytest
from conftest import TEST_DATABASE_URL, csrf_from
from helpers_review import (
    act_http,
    actions_of,
    client_for,
    filing_state,
    flashes,
    make_filing,
    make_town,
    notes_of,
    queue_ids,
    review_form_fields,
)
from test_filing import filing_form, fill_and_submit, post_form

from zsdx.extensions import db
from zsdx.models import (
    Filing,
    InfoChangeRequest,
    Organisation,
    ReviewAction,
    ZsdxUser,
)

pg_only = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="row locks: SQLite serialises writers, the race needs PostgreSQL",
)


def resubmit(app, client, pk, **over):
    with app.app_context():
        f = db.session.get(Filing, pk)
        over.setdefault("ent_credit_code", f.ent_credit_code)
        over.setdefault("town_id", str(f.town_id))
        over.setdefault("project_name", f.project_name)
    resp = post_form(client, pk, "submit", filing_form(app, **over))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]


def move_step_entry(app, pk, days_ago, model=Filing):
    with app.app_context():
        record = db.session.get(model, pk)
        record.step_entered_at = dt.datetime.now() - dt.timedelta(days=days_ago)
        db.session.commit()


# --- opinions ----------------------------------------------------------------------------------------
def test_return_needs_an_opinion(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="town")
    c = client_for(app, factory.user("镇街", town_code="2010"))
    before = filing_state(app, pk)
    for blank in ("", "   \n  "):
        resp = act_http(c, pk, "return", blank)
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/review/filing/{pk}")
        assert any("请填写审核意见" in m for m in flashes(c, f"/review/filing/{pk}"))
        assert filing_state(app, pk) == before and actions_of(app, pk) == []
    assert act_http(c, pk, "return", "请补充授权委托书").status_code == 302
    state = filing_state(app, pk)
    assert state["status"] == "returned" and state["return_step"] == "town" and state["current_step"] is None
    assert [(a[0], a[1], a[3]) for a in actions_of(app, pk)] == [("town", "return", "请补充授权委托书")]


def test_reject_is_refused_where_the_step_does_not_offer_it(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="town")
    c = client_for(app, factory.user("镇街", town_code="2010"))
    before = filing_state(app, pk)
    assert act_http(c, pk, "reject", "不通过").status_code == 302
    assert act_http(c, pk, "bogus", "x").status_code == 302
    assert filing_state(app, pk) == before and actions_of(app, pk) == []


# --- the timeline ------------------------------------------------------------------------------------
def _timeline(html):
    doc = lxml.html.fromstring(html)
    out = []
    for li in doc.xpath('//*[@id="audit-timeline"]//li[not(contains(@class, "zs-empty"))]'):
        divs = li.xpath("./div")
        out.append(
            {
                "step": divs[0].text_content().strip(),
                "actor": divs[1].text_content().split(":", 1)[1].strip(),
                "time": divs[2].text_content().split(":", 1)[1].strip(),
                "opinion": "".join(li.xpath('.//span[@class="zs-tl-opinion"]/text()')).strip(),
                "status": "".join(li.xpath('.//span[@class="zs-tl-status"]/text()')).strip(),
                "text": li.text_content(),
            }
        )
    return out


def test_timeline_shows_each_step_with_actor_time_opinion_and_status(app, factory):
    org = factory.org("enterprise", "2010")
    ent = factory.user("企业", org=org, name="企业赵六")
    town = factory.user("镇街", town_code="2010", name="镇街张三")
    third = factory.user("第三方", name="第三方李四")
    city = factory.user("市工信", name="市工信王五")
    ec = client_for(app, ent)
    pk = fill_and_submit(app, ec, ent, project_name="时间线项目")
    assert act_http(client_for(app, town), pk, "approve", "材料齐全").status_code == 302
    tc = client_for(app, third)
    assert act_http(tc, pk, "return", "请补充项目简介").status_code == 302
    resubmit(app, ec, pk, project_summary="建设MES并打通ERP")
    assert act_http(tc, pk, "approve", "同意备案").status_code == 302
    assert act_http(client_for(app, city), pk, "approve", "准予备案").status_code == 302

    expected = [
        (None, "企业赵六", "", ""),
        ("镇街审核", "镇街张三", "材料齐全", "同意"),
        ("第三方初审", "第三方李四", "请补充项目简介", "驳回"),
        (None, "企业赵六", "", ""),
        ("第三方初审", "第三方李四", "同意备案", "同意"),
        ("市工信复审", "市工信王五", "准予备案", "同意"),
    ]
    for url, c in ((f"/filing/{pk}", ec), (f"/review/filing/{pk}", tc)):
        rows = _timeline(c.get(url).get_data(as_text=True))
        assert len(rows) == len(expected), rows
        for row, (step, actor, opinion, status) in zip(rows, expected):
            if step:
                assert step in row["step"]
                assert re.search(r"环节耗时[:：]\s*\d+\s*分钟", row["text"]), row["text"]  # time spent at the step
            else:
                assert "发起人" in row["step"]
            assert row["actor"] == actor
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", row["time"]), row["time"]
            assert row["opinion"] == opinion and row["status"] == status
    with app.app_context():
        seconds = [
            a.step_seconds
            for a in db.session.query(ReviewAction).filter_by(subject_type="filing", subject_id=pk)
            if a.action != "submit"
        ]
        assert all(s is not None and s >= 0 for s in seconds)


# --- notifications -----------------------------------------------------------------------------------
def test_notifications_follow_each_outcome_and_reach_only_the_right_reviewers(app, factory):
    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    own_town = factory.user("镇街", town_code=t["code"])
    other_town = factory.user("镇街", town_code="2001")
    third = factory.user("第三方")
    city = factory.user("市工信")
    ec = client_for(app, ent)
    pk = fill_and_submit(app, ec, ent, project_name="通知测试项目")
    review_link, owner_link = f"/review/filing/{pk}", f"/filing/{pk}"

    def todos(user):
        return notes_of(app, user, "todo", review_link)

    def reviews():
        return notes_of(app, ent, "review", owner_link)

    # submission: a 待办 for the 镇街 of the enterprise's town only
    assert len(todos(own_town)) == 1 and "通知测试项目" in todos(own_town)[0]["text"]
    assert todos(own_town)[0]["link"].endswith(review_link)
    assert todos(other_town) == [] and todos(third) == [] and todos(city) == []
    assert reviews() == []

    steps = [
        (own_town, "approve", "同意", "镇街审核", third),
        (third, "return", "请补充附件", "第三方初审", None),
    ]
    for reviewer, action, opinion, label, nxt in steps:
        n_before = {u["id"]: len(todos(u)) for u in (own_town, other_town, third, city)}
        assert act_http(client_for(app, reviewer), pk, action, opinion).status_code == 302
        last = reviews()[-1]
        assert "通知测试项目" in last["text"] and label in last["text"]
        if action == "return":
            assert opinion in last["text"] and "驳回" in last["text"]
        else:
            assert "已通过" in last["text"]
        for u in (own_town, other_town, third, city):
            grew = len(todos(u)) - n_before[u["id"]]
            assert grew == (1 if nxt is not None and u is nxt else 0), (label, u)
        if nxt is not None:
            assert label not in todos(nxt)[-1]["text"] and "第三方初审" in todos(nxt)[-1]["text"]
    assert len(reviews()) == 2
    assert todos(other_town) == []

    # resubmission re-enters at 第三方: the 第三方 gets the 待办, the 镇街 nothing new
    resubmit(app, ec, pk)
    assert len(todos(third)) == 2 and len(todos(own_town)) == 1
    assert act_http(client_for(app, third), pk, "approve", "同意").status_code == 302
    assert len(todos(city)) == 1 and "市工信复审" in todos(city)[0]["text"]
    assert act_http(client_for(app, city), pk, "approve", "同意").status_code == 302
    texts = [n["text"] for n in reviews()]
    assert len(texts) == 4 and "市工信复审" in texts[-1] and all("通知测试项目" in x for x in texts)
    assert todos(other_town) == []

    # 未读 counts in the workbench panel; opening a notice marks it read and leads to the record
    unread = [n for n in notes_of(app, ent) if not n["is_read"]]
    page = lxml.html.fromstring(ec.get("/workbench/").get_data(as_text=True))
    assert page.xpath('string(//*[@id="unread-review"])').strip() == str(sum(n["kind"] == "review" for n in unread))
    first = reviews()[0]
    resp = ec.get(f"/notifications/{first['id']}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(owner_link)
    assert next(n for n in reviews() if n["id"] == first["id"])["is_read"] is True
    page = lxml.html.fromstring(ec.get("/workbench/").get_data(as_text=True))
    assert page.xpath('string(//*[@id="unread-review"])').strip() == str(sum(n["kind"] == "review" for n in unread) - 1)
    # a reviewer's panel counts open 待办 only: the record left the 第三方 step, so its to-dos are closed
    tc = client_for(app, third)
    assert notes_of(app, third, "todo") and all(n["is_read"] for n in notes_of(app, third, "todo"))
    page = lxml.html.fromstring(tc.get("/workbench/").get_data(as_text=True))
    assert page.xpath('string(//*[@id="unread-todo"])').strip() == ""
    # nobody opens another user's notification
    assert tc.get(f"/notifications/{first['id']}").status_code == 404
    assert next(n for n in reviews() if n["id"] == first["id"])["is_read"] is True


# --- 企业信息变更 -----------------------------------------------------------------------------------
def _org(app, org_id):
    with app.app_context():
        o = db.session.get(Organisation, org_id)
        return {"name": o.name, "credit_code": o.credit_code, "town_id": o.town_id}


def _submit_change(app, client, **values):
    page = client.get("/info-change/")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "contact_name": "新联系人",
        "contact_phone": "13912345678",
        "industry_id": "1",
        **values,
    }
    return client.post("/info-change/", data=data)


def _latest_change(app, org_id):
    with app.app_context():
        r = (
            db.session.query(InfoChangeRequest)
            .filter_by(organisation_id=org_id)
            .order_by(InfoChangeRequest.id.desc())
            .first()
        )
        return {"id": r.id, "status": r.status, "name": r.name, "current_step": r.current_step}


def test_info_change_is_applied_only_when_the_city_approves(app, factory):
    ent = factory.enterprise_user("2010")
    before = _org(app, ent["org_id"])
    ec = client_for(app, ent)
    code = factory.credit_code()
    resp = _submit_change(app, ec, name="中山市改名后科技有限公司", credit_code=code, town_id=str(before["town_id"]))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    req = _latest_change(app, ent["org_id"])
    assert req["status"] == "reviewing" and req["current_step"] == "city"
    assert _org(app, ent["org_id"]) == before  # not applied before the review
    assert 'id="pending-change"' in ec.get("/info-change/").get_data(as_text=True)

    town_reviewer = client_for(app, factory.user("镇街", town_code="2010"))
    assert act_http(town_reviewer, req["id"], "approve", subject="info_change").status_code in (302, 404)
    assert _latest_change(app, ent["org_id"])["status"] == "reviewing"

    cc = client_for(app, factory.user("市工信"))
    assert req["id"] in queue_ids(cc, "/review/?subject=info_change")
    detail = cc.get(f"/review/info_change/{req['id']}").get_data(as_text=True)
    assert "中山市改名后科技有限公司" in detail and 'id="review-form"' in detail
    assert act_http(cc, req["id"], "approve", "同意变更", subject="info_change").status_code == 302
    after = _org(app, ent["org_id"])
    assert after["name"] == "中山市改名后科技有限公司" and after["credit_code"] == code
    assert _latest_change(app, ent["org_id"])["status"] == "done"
    assert req["id"] not in queue_ids(cc, "/review/?subject=info_change")
    assert any("信息变更" in n["text"] for n in notes_of(app, ent, "review"))


def test_info_change_returned_with_opinion_then_corrected_and_resubmitted(app, factory):
    ent = factory.enterprise_user("2010")
    before = _org(app, ent["org_id"])
    ec = client_for(app, ent)
    resp = _submit_change(
        app, ec, name="中山市错误名称有限公司", credit_code=factory.credit_code(), town_id=str(before["town_id"])
    )
    assert resp.status_code == 302
    req = _latest_change(app, ent["org_id"])
    cc = client_for(app, factory.user("市工信"))
    assert act_http(cc, req["id"], "return", "", subject="info_change").status_code == 302
    assert _latest_change(app, ent["org_id"])["status"] == "reviewing"  # 驳回 without an opinion is refused
    assert act_http(cc, req["id"], "return", "名称与营业执照不符", subject="info_change").status_code == 302
    assert _latest_change(app, ent["org_id"])["status"] == "returned"
    assert _org(app, ent["org_id"]) == before
    page = lxml.html.fromstring(ec.get("/info-change/").get_data(as_text=True))
    assert "名称与营业执照不符" in page.xpath('string(//*[@id="returned-change"])')
    assert (
        page.xpath('string(//input[@name="name"]/@value)') == "中山市错误名称有限公司"
    )  # the returned values to correct

    code = factory.credit_code()
    assert (
        _submit_change(
            app, ec, name="中山市正确名称有限公司", credit_code=code, town_id=str(before["town_id"])
        ).status_code
        == 302
    )
    again = _latest_change(app, ent["org_id"])
    assert again["id"] == req["id"] and again["status"] == "reviewing" and again["name"] == "中山市正确名称有限公司"
    assert act_http(cc, req["id"], "approve", "同意", subject="info_change").status_code == 302
    after = _org(app, ent["org_id"])
    assert after["name"] == "中山市正确名称有限公司" and after["credit_code"] == code
    assert [a[1] for a in actions_of(app, req["id"], "info_change")] == ["submit", "return", "submit", "approve"]


# --- deadlines and reminders -------------------------------------------------------------------------
def _reminders(app, user, pk):
    return [n for n in notes_of(app, user, "todo", f"/review/filing/{pk}") if "逾期提醒" in n["text"]]


def _send_reminders(app):
    from zsdx.notifications import deliver_pending
    from zsdx.workflow import send_reminders

    with app.app_context():
        sent = send_reminders()
        deliver_pending()
        return sent


def test_deadline_overdue_filter_and_one_reminder_per_lapse(app, factory, monkeypatch):
    from zsdx.workflow import is_overdue

    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    reviewer = factory.user("镇街", town_code=t["code"])
    ec = client_for(app, ent)
    pk = fill_and_submit(app, ec, ent, project_name="时限测试项目")
    fresh = make_filing(app, ent, step="town", project_name="未逾期项目")
    rc = client_for(app, reviewer)

    def overdue(record_pk):
        with app.app_context():
            return is_overdue(db.session.get(Filing, record_pk))

    assert not overdue(pk) and _send_reminders(app) >= 0 and _reminders(app, reviewer, pk) == []
    move_step_entry(app, pk, days_ago=6)

    # the deadline is configuration: at 10 days the record is not overdue yet, and nobody is reminded
    chains = copy.deepcopy(app.config["REVIEW_CHAINS"])
    chains["filing"][0]["deadline_days"] = 10
    monkeypatch.setitem(app.config, "REVIEW_CHAINS", chains)
    assert not overdue(pk)
    assert pk not in queue_ids(rc, "/review/?subject=filing&overdue=1")
    _send_reminders(app)
    assert _reminders(app, reviewer, pk) == []
    monkeypatch.undo()

    # at the shipped 5 days it is
    assert overdue(pk) and not overdue(fresh)
    assert set(queue_ids(rc, "/review/?subject=filing")) >= {pk, fresh}
    overdue_ids = queue_ids(rc, "/review/?subject=filing&overdue=1")
    assert pk in overdue_ids and fresh not in overdue_ids
    row = lxml.html.fromstring(rc.get("/review/?subject=filing").get_data(as_text=True)).xpath(
        f'//tr[@data-id="{pk}"]'
    )[0]
    assert "是" in row.text_content()

    _send_reminders(app)
    got = _reminders(app, reviewer, pk)
    assert len(got) == 1 and "时限测试项目" in got[0]["text"] and "镇街审核" in got[0]["text"]
    _send_reminders(app)
    assert len(_reminders(app, reviewer, pk)) == 1  # same lapse: not again
    assert _reminders(app, reviewer, fresh) == []
    assert [n for n in notes_of(app, ent) if "逾期提醒" in n["text"]] == []

    # returned and resubmitted: a new lapse at the same step, reminded exactly once more
    assert act_http(rc, pk, "return", "请补充").status_code == 302
    resubmit(app, ec, pk)
    assert filing_state(app, pk)["current_step"] == "town" and not overdue(pk)
    _send_reminders(app)
    assert len(_reminders(app, reviewer, pk)) == 1
    move_step_entry(app, pk, days_ago=7)
    assert overdue(pk) and pk in queue_ids(rc, "/review/?subject=filing&overdue=1")
    _send_reminders(app)
    assert len(_reminders(app, reviewer, pk)) == 2
    _send_reminders(app)
    assert len(_reminders(app, reviewer, pk)) == 2


def test_reminder_sms_is_queued_even_when_another_lapse_in_the_same_run_was_reminded_before(app, factory):
    """send_reminders skips a lapse already reminded by rolling back a savepoint; that must not drop the
    SMS of the reminders written earlier in the same run (they would wait for retry_undelivered)."""
    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    reviewer = factory.user("镇街", town_code=t["code"])
    first = make_filing(app, ent, step="town", project_name="先建的项目")
    second = make_filing(app, ent, step="town", project_name="后建的项目")
    move_step_entry(app, second, days_ago=6)
    _send_reminders(app)  # reminds `second`
    assert len(_reminders(app, reviewer, second)) == 1
    move_step_entry(app, first, days_ago=6)
    _send_reminders(app)  # reminds `first`, skips `second` (same lapse)
    got = _reminders(app, reviewer, first) + _reminders(app, reviewer, second)
    assert len(got) == 2
    assert all(n["delivered_at"] is not None for n in got), got


# --- two reviewers at the same moment (PostgreSQL) ---------------------------------------------------
def _race(app, jobs, parties=None, load_first=True):
    """Run jobs [(fn(record, actor), pk, user_id)] in threads, each in its own app context and session.

    With load_first the threads load record and actor, wait at a barrier, then act: both have read the
    record before either updates it. Returns the per-job result: "ok" or the exception.
    """
    from zsdx.notifications import deliver_pending

    barrier = threading.Barrier(parties or len(jobs), timeout=60)
    results = [None] * len(jobs)

    def run(i, fn, pk, uid):
        try:
            if not load_first:
                barrier.wait()
            with app.app_context():
                record = db.session.get(Filing, pk)
                actor = db.session.get(ZsdxUser, uid)
                _ = (record.status, record.current_step, record.version, [r.name for r in actor.roles])
                if load_first:
                    barrier.wait()
                fn(record, actor)
                deliver_pending()
                results[i] = "ok"
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    return results


@pg_only
@pytest.mark.parametrize("second", ["approve", "return"])
def test_two_reviewers_acting_at_once_exactly_one_wins(app, factory, second):
    from zsdx.workflow import AlreadyHandled
    from zsdx.workflow import review as act  # the use case: engine + one commit

    ent = factory.enterprise_user("2010")
    a, b = factory.user("第三方"), factory.user("第三方")
    city = factory.user("市工信")
    for _round in range(3):
        pk = make_filing(app, ent, step="third_party")
        before = filing_state(app, pk)
        results = _race(
            app,
            [
                (lambda r, u: act(r, u, "approve", "同意"), pk, a["id"]),
                (lambda r, u: act(r, u, second, "不同意"), pk, b["id"]),
            ],
        )
        winners = [r for r in results if r == "ok"]
        losers = [r for r in results if r != "ok"]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], AlreadyHandled), repr(losers[0])
        assert "已被他人处理" in str(losers[0])
        state = filing_state(app, pk)
        assert state["version"] == before["version"] + 1
        acted = [x for x in actions_of(app, pk) if x[0] == "third_party"]
        assert len(acted) == 1, acted
        if acted[0][1] == "approve":
            assert state["status"] == "reviewing" and state["current_step"] == "city"
            assert len(notes_of(app, city, "todo", f"/review/filing/{pk}")) == 1
        else:
            assert state["status"] == "returned" and state["return_step"] == "third_party"
            assert notes_of(app, city, "todo", f"/review/filing/{pk}") == []
        assert len(notes_of(app, ent, "review", f"/filing/{pk}")) == 1


@pg_only
def test_losing_reviewer_sees_already_handled_message_over_http(app, factory):
    """The same race through two browsers: one 302 to the queue, one back to the record with the message."""
    ent = factory.enterprise_user("2010")
    a, b = factory.user("第三方"), factory.user("第三方")
    pk = make_filing(app, ent, step="third_party")
    clients = [client_for(app, a), client_for(app, b)]
    forms = [review_form_fields(c.get(f"/review/filing/{pk}").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(2, timeout=30)
    responses = [None, None]

    def post(i):
        barrier.wait()
        responses[i] = clients[i].post(
            f"/review/filing/{pk}/act", data=dict(forms[i], action="approve", opinion="同意")
        )

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    locations = sorted(r.headers["Location"] for r in responses)
    assert all(r.status_code == 302 for r in responses)
    assert len([x for x in actions_of(app, pk) if x[0] == "third_party"]) == 1
    assert filing_state(app, pk)["current_step"] == "city"
    # the loser was either refused by the guarded UPDATE or arrived after the winner: never a second transition
    for c, r in zip(clients, responses):
        if r.headers["Location"].endswith(f"/review/filing/{pk}"):
            messages = flashes(c, f"/review/filing/{pk}")
            assert any("已被他人处理" in m or "无权" in m for m in messages), messages
    assert any(loc.endswith(f"/review/filing/{pk}") for loc in locations)


def test_reviewer_acting_on_a_page_overtaken_by_another_reviewer_is_told_already_handled(app, factory):
    ent = factory.enterprise_user("2010")
    a, b = factory.user("第三方"), factory.user("第三方")
    pk = make_filing(app, ent, step="third_party")
    ca, cb = client_for(app, a), client_for(app, b)
    form_b = review_form_fields(cb.get(f"/review/filing/{pk}").get_data(as_text=True))  # B opens the record
    assert act_http(ca, pk, "approve", "同意").status_code == 302  # A approves first
    resp = cb.post(f"/review/filing/{pk}/act", data=dict(form_b, action="approve", opinion="同意"))
    assert resp.status_code == 302
    assert len([x for x in actions_of(app, pk) if x[0] == "third_party"]) == 1
    assert filing_state(app, pk)["current_step"] == "city"
    messages = flashes(cb, f"/review/filing/{pk}")
    assert any("已被他人处理" in m for m in messages), messages


@pg_only
def test_filing_numbers_are_unique_and_consecutive_under_concurrent_completion(app, factory):
    from zsdx.workflow import review as act  # the use case: engine + one commit

    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    cities = [factory.user("市工信") for _ in range(4)]
    pks = [make_filing(app, ent, step="city") for _ in range(20)]
    jobs = [(lambda r, u: act(r, u, "approve", "同意"), pk, cities[i % 4]["id"]) for i, pk in enumerate(pks)]
    # 20 threads start together (the pool has fewer connections than that, so they load after the barrier)
    results = _race(app, jobs, load_first=False)
    assert results == ["ok"] * 20, results
    with app.app_context():
        numbers = [f.filing_no for f in db.session.query(Filing).filter(Filing.id.in_(pks))]
        assert all(f.status == "done" for f in db.session.query(Filing).filter(Filing.id.in_(pks)))
    assert len(numbers) == 20 and len(set(numbers)) == 20 and all(n and re.fullmatch(r"\d{13}", n) for n in numbers)
    today = dt.date.today().strftime("%y%m%d")
    assert {n[:6] for n in numbers} == {today} and {n[6:10] for n in numbers} == {t["code"]}
    assert sorted(int(n[10:]) for n in numbers) == list(range(1, 21))
    # every completion told the enterprise, and the SMS went out at once (the counter's savepoint, rolled
    # back when another completion created the day's counter first, must not drop it)
    notes = [n for pk in pks for n in notes_of(app, ent, "review", f"/filing/{pk}")]
    assert len(notes) == 20 and all(n["delivered_at"] is not None for n in notes), notes
