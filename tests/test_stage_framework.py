"""A throwaway stage defined entirely here — a model, a chain 镇街 → two assigned 专家 (countersign) →
市工信 with a submission window, its registration and its workbench tab — driven through submission, the
generic queue, the generic review page, return and resubmission at the returning step, the countersign
(both experts approve again after a return), the window refusal, 待分配 and its reminder, notifications
and the workbench tab. It touches no file under zsdx/views/: that is what "a stage is a plug-in" means.
"""

import datetime as dt

import lxml.html
import pytest
from conftest import csrf_from
from helpers_review import act_http, client_for, make_town, notes_of, queue_ids
from markupsafe import Markup, escape
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase

from zsdx.extensions import db
from zsdx.models import Organisation, ReviewAssignment, ReviewStatus, SubmissionWindow
from zsdx.models.review import ReviewableMixin
from zsdx.stages import Stage, WorkbenchTab, register_stage, register_tab, unregister_stage, unregister_tab
from zsdx.visibility import owned
from zsdx.workflow import WorkflowError, chain_problems, send_reminders, submit_record


class TrialBase(DeclarativeBase):
    # its own metadata: the throwaway table never reaches the migrations' drift check
    metadata = MetaData()


class TrialRecord(ReviewableMixin, TrialBase):
    __tablename__ = "zs_test_trial"
    chain_name = "trial"
    id = Column(Integer, primary_key=True)
    organisation_id = Column(Integer, ForeignKey(Organisation.id), nullable=False)
    town_id = Column(Integer, nullable=False)
    name = Column(String(100), nullable=False)
    completed_note = Column(String(100), nullable=True)


TRIAL_CHAIN = {
    "steps": [
        {"key": "town", "role": "镇街", "scope": "town", "deadline_days": 3},
        {
            "key": "expert",
            "role": "专家",
            "scope": "assigned",
            "deadline_days": 3,
            "label": "expert",
            "guards": ["experts_assigned"],
        },
        {"key": "city", "role": "市工信", "scope": "city", "deadline_days": 3},
    ],
    "submit_guards": ["window_open"],
}


def _complete(record, actor):
    record.completed_note = f"completed by {actor.id}"


@pytest.fixture()
def trial(app):
    with app.app_context():
        TrialBase.metadata.create_all(db.engine)
    app.config["REVIEW_CHAINS"]["trial"] = TRIAL_CHAIN
    stage = register_stage(
        Stage(
            type="trial",
            model=TrialRecord,
            label="试验申报",
            title=lambda r: f"{r.name}试验申报审核",
            owner_link=lambda r: "/workbench/?group=projects&tab=trial",
            item_name=lambda r: r.name,
            enterprise_name=lambda r: db.session.get(Organisation, r.organisation_id).name,
            detail_fields=[("name", "试验名称")],
            on_complete=_complete,
        )
    )
    register_tab(
        WorkbenchTab(
            group="projects",
            key="trial",
            label="试验申报",
            columns=["序号", "名称", "状态"],
            order=99,
            rows=lambda user: owned(TrialRecord, user).order_by(TrialRecord.id).all(),
            cells=lambda r: [r.name, Markup('<span class="zs-status">%s</span>') % escape(stage.status_text(r))],
        )
    )
    yield stage
    unregister_tab("projects", "trial")
    unregister_stage("trial")
    del app.config["REVIEW_CHAINS"]["trial"]
    with app.app_context():
        db.session.query(SubmissionWindow).filter_by(chain_name="trial").delete()
        db.session.commit()


def _new(app, ent, town_id, name):
    with app.app_context():
        r = TrialRecord(organisation_id=ent["org_id"], town_id=town_id, name=name)
        db.session.add(r)
        db.session.commit()
        return r.id


def _window(app, opens, closes):
    with app.app_context():
        db.session.add(SubmissionWindow(chain_name="trial", name="试验申报窗口", opens_at=opens, closes_at=closes))
        db.session.commit()


def _submit(app, pk, user_id):
    from zsdx.models import ZsdxUser

    with app.app_context():
        submit_record(db.session.get(TrialRecord, pk), db.session.get(ZsdxUser, user_id))


def _state(app, pk):
    with app.app_context():
        r = db.session.get(TrialRecord, pk)
        return r.status, r.current_step, r.return_step, r.completed_note


def _assign(client, pk, users):
    page = client.get("/review/")
    return client.post(
        f"/review/trial/{pk}/assign",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "user_ids": [str(u["id"]) for u in users]},
    )


def _open_todos(app, user, pk):
    return [n for n in notes_of(app, user, "todo", f"/review/trial/{pk}") if not n["is_read"]]


def test_the_chain_is_valid_configuration(app, trial):
    assert chain_problems(app) == []


def test_a_throwaway_stage_runs_end_to_end_through_the_shared_screens(app, factory, trial):
    now = dt.datetime.now()
    t, other = make_town(app), make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    town = factory.user("镇街", town_code=t["code"])
    other_town = factory.user("镇街", town_code=other["code"])
    e1, e2, e3 = (
        factory.user("专家", name="专家甲"),
        factory.user("专家", name="专家乙"),
        factory.user("专家", name="专家丙"),
    )
    city = factory.user("市工信")
    pk = _new(app, ent, t["id"], "试验项目一")

    # the window guard refuses whatever the request, before and between windows
    with pytest.raises(WorkflowError, match="当前不在试验申报开放时段"):
        _submit(app, pk, ent["id"])
    _window(app, now + dt.timedelta(days=2), now + dt.timedelta(days=9))
    with pytest.raises(WorkflowError, match="尚未到达试验申报开放时段"):
        _submit(app, pk, ent["id"])
    assert _state(app, pk)[0] == ReviewStatus.DRAFT
    _window(app, now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    _submit(app, pk, ent["id"])
    assert _state(app, pk)[:2] == (ReviewStatus.REVIEWING, "town")

    # the generic queue: the own town's reviewer sees it, another town's does not and cannot act
    tc, oc = client_for(app, town), client_for(app, other_town)
    assert pk in queue_ids(tc, "/review/?subject=trial")
    assert pk not in queue_ids(oc, "/review/?subject=trial")
    assert oc.get(f"/review/trial/{pk}").status_code == 404
    assert act_http(oc, pk, "approve", subject="trial").status_code == 404
    assert len(_open_todos(app, town, pk)) == 1
    detail = tc.get(f"/review/trial/{pk}").get_data(as_text=True)
    assert "试验项目一" in detail and 'id="review-form"' in detail
    assert act_http(tc, pk, "approve", "同意", subject="trial").status_code == 302
    assert _open_todos(app, town, pk) == []  # the to-do closed when the record left the step
    assert _state(app, pk)[1] == "expert"

    # nobody assigned yet: 待分配 in the city's queue, nothing for the experts; overdue → the city is reminded
    cc, c1, c2, c3 = (client_for(app, u) for u in (city, e1, e2, e3))
    html = cc.get("/review/?subject=trial").get_data(as_text=True)
    row = lxml.html.fromstring(html).xpath(f'//tr[@data-id="{pk}"]')
    assert row and "待分配" in row[0].text_content()
    assert pk not in queue_ids(c1, "/review/?subject=trial")
    assert act_http(c1, pk, "approve", subject="trial").status_code == 404  # not assigned: not even visible
    assert _state(app, pk)[1] == "expert"
    with app.app_context():
        db.session.query(TrialRecord).filter_by(id=pk).update({TrialRecord.step_entered_at: now - dt.timedelta(days=5)})
        db.session.commit()
        send_reminders()
    assert any("超期" in n["text"] or "逾期" in n["text"] for n in _open_todos(app, city, pk))

    # the city assigns two experts; the third expert sees nothing and cannot act
    assert _assign(c1, pk, [e1]).status_code == 404  # an expert cannot assign
    with app.app_context():
        assert db.session.query(ReviewAssignment).filter_by(subject_type="trial", subject_id=pk).count() == 0
    assert _assign(cc, pk, [e1, e2]).status_code == 302
    assert _open_todos(app, city, pk) == []
    assert pk in queue_ids(c1, "/review/?subject=trial") and pk in queue_ids(c2, "/review/?subject=trial")
    assert c3.get(f"/review/trial/{pk}").status_code == 404
    assert act_http(c3, pk, "approve", subject="trial").status_code == 404

    # countersign: e1 approves (stays at the step), e2 returns
    assert act_http(c1, pk, "approve", "同意", subject="trial").status_code == 302
    assert _state(app, pk)[1] == "expert" and _open_todos(app, e1, pk) == []
    assert act_http(c2, pk, "return", "请补充试验数据", subject="trial").status_code == 302
    assert _state(app, pk)[:3] == (ReviewStatus.RETURNED, None, "expert")
    assert any("请补充试验数据" in n["text"] for n in notes_of(app, ent, "review"))

    # resubmission re-enters at the expert step and both experts must approve again
    _submit(app, pk, ent["id"])
    assert _state(app, pk)[:2] == (ReviewStatus.REVIEWING, "expert")
    assert len(_open_todos(app, e1, pk)) == 1 and len(_open_todos(app, e2, pk)) == 1
    assert act_http(c2, pk, "approve", "同意", subject="trial").status_code == 302
    assert _state(app, pk)[1] == "expert"  # e1's earlier approval no longer counts
    assert act_http(c1, pk, "approve", "同意", subject="trial").status_code == 302
    assert _state(app, pk)[1] == "city"
    assert act_http(cc, pk, "approve", "同意", subject="trial").status_code == 302
    status, step, _ret, note = _state(app, pk)
    assert status == ReviewStatus.DONE and step is None and note == f"completed by {city['id']}"

    # the 已审核 tab lists the reviewer's own actions; the timeline shows every step
    assert pk in queue_ids(c1, "/review/?subject=trial&tab=done")
    timeline = cc.get(f"/review/trial/{pk}").get_data(as_text=True)
    for text in ("镇街审核", "验收专家审核", "市工信审核", "请补充试验数据", "专家甲", "专家乙"):
        assert text in timeline

    # the enterprise's workbench tab comes from the registry
    ec = client_for(app, ent)
    page = lxml.html.fromstring(ec.get("/workbench/?group=projects&tab=trial").get_data(as_text=True))
    assert page.xpath('//a[@id="tab-trial"]')
    row = page.xpath(f'//table[@id="tab-trial"]//tr[@data-id="{pk}"]')
    assert row and "试验项目一" in row[0].text_content() and "已通过" in row[0].text_content()
    # another enterprise's tab does not list it
    other_ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    page = client_for(app, other_ent).get("/workbench/?group=projects&tab=trial").get_data(as_text=True)
    assert f'data-id="{pk}"' not in page


def test_the_stage_module_and_tests_touch_no_view_file():
    """The throwaway stage above imports nothing from zsdx.views: the shared screens serve it as they are."""
    import inspect
    import re
    import sys

    source = inspect.getsource(sys.modules[__name__])
    assert not re.search(r"^\s*(from|import)\s+zsdx\.views", source, re.M)
