"""项目入库 through HTTP (manual 09): the record 改造完成's 【提交】 creates, pre-filled with the whole project; the
page only inside a 申报窗口; 保存 / 预览 / 提交 with every missing item named; the chain 镇街 → 验收专家 (assigned by
市工信, all must agree, a 驳回 returns it and the resubmission re-enters there) → 市工信复审 → 已入库 with the
proposed subsidy fixed; malformed input; the other tenants."""

import datetime as dt
import io
from decimal import Decimal

import lxml.html
import pytest
from conftest import csrf_from
from helpers_completion import submitted_completion
from helpers_forms import get_page, post_as_shown, problem_list
from helpers_review import EXE_BYTES, PDF_BYTES, act_http, client_for
from helpers_signing import store_pdf
from werkzeug.datastructures import MultiDict

from zsdx.extensions import db
from zsdx.models import (
    ReviewAssignment,
    ReviewStatus,
    SubmissionWindow,
    Warehousing,
)

REQUIRED_KINDS = ("contract", "assessment_report", "invoice", "payment", "screenshot")


def _post(client, pk, action, files=None, **fields):
    """The page's form as shown, with `fields` changed, posted with `action` (and uploads)."""
    fields.update({f"evidence-{kind}": (io.BytesIO(payload), f"{kind}.pdf") for kind, payload in (files or {}).items()})
    return post_as_shown(client, f"/warehousing/{pk}/edit", action, "warehousing-form", **fields)


def _record(app, pk):
    with app.app_context():
        w = db.session.get(Warehousing, pk)
        return {
            "status": w.status,
            "step": w.current_step,
            "content": w.content,
            "files": {f.kind: f.file_id for f in w.files},
            "level_after": w.level_after,
            "subsidy_cap": w.subsidy_cap,
            "proposed": w.proposed_subsidy,
        }


@pytest.fixture()
def ent(factory):
    return factory.enterprise_user()


@pytest.fixture()
def window(app):
    """An open 项目入库 申报窗口 for the test, closed afterwards."""
    with app.app_context():
        now = dt.datetime.now()
        w = SubmissionWindow(
            chain_name="warehousing",
            name="项目入库测试窗口",
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(days=1),
        )
        db.session.add(w)
        db.session.commit()
        pk = w.id
    yield pk
    with app.app_context():
        db.session.get(SubmissionWindow, pk).closes_at = dt.datetime.now() - dt.timedelta(seconds=1)
        db.session.commit()


@pytest.fixture()
def no_window(app):
    """No open 项目入库 window during the test (others' are put back afterwards)."""
    with app.app_context():
        now = dt.datetime.now()
        open_ = (
            db.session.query(SubmissionWindow)
            .filter(SubmissionWindow.chain_name == "warehousing", SubmissionWindow.closes_at > now)
            .all()
        )
        saved = [(w.id, w.opens_at) for w in open_]
        for w in open_:
            w.opens_at = now + dt.timedelta(days=3650)
        db.session.commit()
    yield
    with app.app_context():
        for pk, opens_at in saved:
            db.session.get(SubmissionWindow, pk).opens_at = opens_at
        db.session.commit()


def _fill_files(client, pk):
    resp = _post(client, pk, "save", files={k: PDF_BYTES for k in REQUIRED_KINDS})
    assert resp.status_code == 302, problem_list(resp)


# --- creation and the pre-filled copy --------------------------------------------------------------------------
def test_completion_submission_creates_the_record_pre_filled_with_the_project(app, factory, ent, window):
    ids = submitted_completion(app, factory, ent)
    state = _record(app, ids["warehousing"])
    assert state["status"] == ReviewStatus.DRAFT
    content = state["content"]
    assert content["enterprise"]["ent_name"] and content["project"]["project_name"]
    assert content["project"]["acceptance_date"] == "2026-12-31"
    assert [n["scenario"] for n in content["needs"]] == ["S1"]
    assert content["needs"][0]["analysis"] == "问题分析"
    assert len(content["products"]) == 1 and content["products"][0]["price"] == "10.5000"
    assert {r["dimension"] for r in content["indicators"]} == {"innovation", "quality"}
    assert all(r["after"].endswith("改造后数据") for r in content["indicators"])

    client = client_for(app, ent)
    html, doc = get_page(client, "/workbench/?group=projects&tab=warehousing")
    row = doc.xpath(f"//tr[@data-warehousing='{ids['warehousing']}']")[0]
    assert row.xpath(".//td[@class='zs-status']")[0].text_content().strip() == "待提交"
    assert row.xpath(".//a[@class='zs-op-edit']") and row.xpath(".//a[@class='zs-op-detail']")
    assert "项目入库提交" in html and "验收专家审核" in html and "入库完成" in html

    html, doc = get_page(client, f"/warehousing/{ids['warehousing']}/edit")
    assert doc.get_element_by_id("project-summary-input").text == content["project"]["summary"] != ""
    assert doc.get_element_by_id("fact-level-after").text_content().strip() == "三级"
    # 纳入资金奖补项目金额 of the two contracts: 50.5 + 51.5, exact
    assert doc.get_element_by_id("fact-subsidy-base").text_content().strip() == "102.0000"
    assert doc.get_element_by_id("fact-invoice-total").text_content().strip() == "113.00"
    for kind in REQUIRED_KINDS:
        assert doc.get_element_by_id(f"evidence-{kind}-input") is not None


# --- the 申报窗口 ---------------------------------------------------------------------------------------------
def test_outside_the_window_the_page_says_so_and_nothing_is_accepted(app, factory, ent, no_window):
    ids = submitted_completion(app, factory, ent)
    pk = ids["warehousing"]
    client = client_for(app, ent)
    before = _record(app, pk)
    html, doc = get_page(client, f"/warehousing/{pk}/edit")
    assert "尚未到达项目入库开放时段" in doc.get_element_by_id("window-closed").text_content()
    assert not doc.xpath("//*[@id='btn-submit']") and not doc.xpath("//textarea")
    token = csrf_from(html)
    resp = client.post(
        f"/warehousing/{pk}/edit", data={"csrf_token": token, "action": "save", "project-summary": "改了"}
    )
    assert resp.status_code == 302
    resp = client.post(f"/warehousing/{pk}/submit", data={"csrf_token": token})
    assert resp.status_code == 302
    assert _record(app, pk) == before


def test_the_engine_refuses_a_submission_outside_the_window(app, factory, ent, no_window):
    from zsdx.models import ZsdxUser
    from zsdx.warehousing import submit_warehousing
    from zsdx.workflow import WorkflowError

    ids = submitted_completion(app, factory, ent)
    with app.test_request_context("/"):
        record = db.session.get(Warehousing, ids["warehousing"])
        for kind in REQUIRED_KINDS:
            from zsdx.warehousing import attach

            attach(record, kind, store_pdf(app, ent["id"]))
        db.session.commit()
        with pytest.raises(WorkflowError) as exc:
            submit_warehousing(record, db.session.get(ZsdxUser, ent["id"]))
        assert "项目入库" in str(exc.value)
    assert _record(app, ids["warehousing"])["status"] == ReviewStatus.DRAFT


# --- the whole chain ----------------------------------------------------------------------------------------------
def test_the_chain_with_two_experts_a_return_and_the_subsidy_fixed(app, factory, ent, window):
    ids = submitted_completion(app, factory, ent, level_after=3)
    pk = ids["warehousing"]
    client = client_for(app, ent)
    resp = _post(
        client,
        pk,
        "save",
        files={k: PDF_BYTES for k in REQUIRED_KINDS},
        **{"project-summary": "入库时修改的简介", "needs-0-analysis": "入库时的分析"},
    )
    assert resp.status_code == 302
    state = _record(app, pk)
    assert state["content"]["project"]["summary"] == "入库时修改的简介"
    assert state["content"]["needs"][0]["analysis"] == "入库时的分析"
    assert set(state["files"]) == set(REQUIRED_KINDS)

    resp = _post(client, pk, "preview")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/warehousing/{pk}/preview")
    html, doc = get_page(client, f"/warehousing/{pk}/preview")
    assert "入库时修改的简介" in html and doc.get_element_by_id("fact-proposed").text_content().strip().startswith(
        "60.0000"
    )
    resp = client.post(f"/warehousing/{pk}/submit", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    assert _record(app, pk)["status"] == ReviewStatus.REVIEWING and _record(app, pk)["step"] == "town"
    # submitted: nobody edits it any more (the server refuses, not only the page)
    resp = client.post(f"/warehousing/{pk}/edit", data={"csrf_token": csrf_from(html), "project-summary": "x"})
    assert resp.status_code == 302 and _record(app, pk)["content"]["project"]["summary"] == "入库时修改的简介"

    town = client_for(app, factory.user("镇街", town_code="2010"))
    html, doc = get_page(town, f"/review/warehousing/{pk}")
    assert "入库时修改的简介" in html and doc.xpath("//*[@id='view-evidence-list']//a[@class='zs-file-link']")
    link = doc.xpath("//*[@id='view-evidence-list']//a[@class='zs-file-link']")[0].get("href")
    assert town.get(link).data == PDF_BYTES
    assert act_http(town, pk, "approve", subject="warehousing").status_code == 302
    assert _record(app, pk)["step"] == "expert"

    experts = [factory.user("专家", name=f"验收专家{n}") for n in (1, 2)]
    e1, e2 = (client_for(app, e) for e in experts)
    assert e1.get(f"/review/warehousing/{pk}").status_code == 404  # not assigned yet
    city = client_for(app, factory.user("市工信"))
    html, _doc = get_page(city, f"/review/warehousing/{pk}")
    resp = city.post(
        f"/review/warehousing/{pk}/assign",
        data={"csrf_token": csrf_from(html), "user_ids": [str(e["id"]) for e in experts]},
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.query(ReviewAssignment).filter_by(subject_type="warehousing", subject_id=pk).count() == 2
    assert e1.get(f"/warehousing/{pk}").status_code == 200
    assert act_http(e1, pk, "approve", subject="warehousing").status_code == 302
    assert _record(app, pk)["step"] == "expert"  # the other expert still has to agree
    assert act_http(e2, pk, "return", "佐证材料不清晰", subject="warehousing").status_code == 302
    assert _record(app, pk)["status"] == ReviewStatus.RETURNED

    html, doc = get_page(client, "/workbench/?group=projects&tab=warehousing")
    row = doc.xpath(f"//tr[@data-warehousing='{pk}']")[0]
    assert row.xpath(".//td[@class='zs-status']")[0].text_content().strip() == "退回修改"
    html, doc = get_page(client, f"/warehousing/{pk}")
    assert "佐证材料不清晰" in doc.get_element_by_id("audit-timeline").text_content()
    resp = _post(client, pk, "submit", files={"screenshot": PDF_BYTES})
    assert resp.status_code == 302
    state = _record(app, pk)
    assert (state["status"], state["step"]) == (ReviewStatus.REVIEWING, "expert")  # where it was returned

    for c in (e1, e2):
        assert act_http(c, pk, "approve", subject="warehousing").status_code == 302
    assert _record(app, pk)["step"] == "city"
    assert act_http(city, pk, "approve", subject="warehousing").status_code == 302
    state = _record(app, pk)
    assert state["status"] == ReviewStatus.DONE
    assert state["level_after"] == 3
    assert state["subsidy_cap"] == Decimal("102.0000")
    assert state["proposed"] == Decimal("60.0000")  # 三级: at most 60万
    html, doc = get_page(client, f"/warehousing/{pk}")
    assert doc.get_element_by_id("warehousing-status").text_content().strip() == "已入库"
    assert doc.get_element_by_id("fact-proposed").text_content().strip() == "60.0000"
    assert not doc.xpath("//*[@id='btn-edit']")


@pytest.mark.parametrize(("level", "base", "expected"), [(1, "102", "0"), (2, "20.5", "20.5"), (4, "150", "100")])
def test_the_proposed_subsidy_follows_the_level_and_the_contracts(app, level, base, expected):
    from zsdx.warehousing import proposed_subsidy

    with app.app_context():
        assert proposed_subsidy(level, Decimal(base)) == Decimal(expected).quantize(Decimal("0.0001"))
        assert proposed_subsidy(None, Decimal(base)) == Decimal(0)


# --- refusals ------------------------------------------------------------------------------------------------
def test_submission_names_every_missing_item_and_keeps_what_was_typed(app, factory, ent, window):
    ids = submitted_completion(app, factory, ent)
    pk = ids["warehousing"]
    client = client_for(app, ent)
    resp = _post(client, pk, "submit", **{"project-build_address": "", "needs-0-analysis": "  "})
    assert resp.status_code == 200
    found = problem_list(resp)
    assert "project-build_address" in found and "needs-0-analysis" in found
    assert {f"evidence-{k}" for k in REQUIRED_KINDS} <= set(found)
    assert "evidence-cloud" not in found and "evidence-other" not in found
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert doc.get_element_by_id("project-build_address-error").text_content().strip()
    assert _record(app, pk)["status"] == ReviewStatus.DRAFT

    _fill_files(client, pk)
    resp = _post(client, pk, "submit", **{"project-start_date": "2026-06-01", "project-end_date": "2026-01-01"})
    assert "project-end_date" in problem_list(resp)
    assert _record(app, pk)["status"] == ReviewStatus.DRAFT


def test_malformed_input_is_refused_beside_its_field_and_nothing_saved_is_lost(app, factory, ent, window):
    ids = submitted_completion(app, factory, ent)
    pk = ids["warehousing"]
    client = client_for(app, ent)
    before = _record(app, pk)["content"]
    bad = {
        "enterprise-employees_total": "9" * 40,
        "enterprise-employees_digital": "NaN",
        "enterprise-ent_nature": "<script>",
        "project-summary": "好" * 2001,
        "project-start_date": "2026-02-30",
        "project-acceptance_date": "99999-01-01",
        "needs-0-description": "含\x00空字符",
        "indicators-0-after": "x" * 501,
    }
    resp = _post(client, pk, "save", **bad)
    assert resp.status_code == 200
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    for name in bad:
        assert doc.get_element_by_id(f"{name}-error").text_content().strip(), name
    assert _record(app, pk)["content"] == before
    # an upload that is not a PDF is refused and nothing is attached
    resp = _post(client, pk, "save", files={"contract": EXE_BYTES})
    assert resp.status_code == 200 and "evidence-contract" in problem_list(resp)
    assert "contract" not in _record(app, pk)["files"]
    # repeated and unknown fields, a row that does not exist
    url = f"/warehousing/{pk}/edit"
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(
        url,
        data=MultiDict(
            [
                ("csrf_token", token),
                ("action", "save"),
                ("project-summary", "一"),
                ("project-summary", "二"),
                ("needs-99-analysis", "不存在的行"),
                ("action", "explode"),
            ]
        ),
    )
    assert resp.status_code in (200, 302)
    assert len(_record(app, pk)["content"]["needs"]) == 1


def test_a_post_without_csrf_changes_nothing(app, factory, ent, window):
    ids = submitted_completion(app, factory, ent)
    pk = ids["warehousing"]
    client = client_for(app, ent)
    before = _record(app, pk)
    resp = client.post(f"/warehousing/{pk}/edit", data={"action": "save", "project-summary": "没有令牌"})
    assert resp.status_code == 400
    assert client.post(f"/warehousing/{pk}/submit", data={}).status_code == 400
    assert _record(app, pk) == before


def test_other_enterprises_and_towns_reach_nothing(app, factory, ent, window):
    ids = submitted_completion(app, factory, ent)
    pk = ids["warehousing"]
    owner = client_for(app, ent)
    _fill_files(owner, pk)
    other = client_for(app, factory.enterprise_user())
    for url in (f"/warehousing/{pk}", f"/warehousing/{pk}/edit", f"/warehousing/{pk}/preview"):
        assert other.get(url).status_code == 404, url
    assert other.get(f"/warehousing/{pk}/file/contract").status_code == 404
    token = csrf_from(other.get("/workbench/").get_data(as_text=True))
    assert other.post(f"/warehousing/{pk}/submit", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/warehousing/{pk}/edit", data={"csrf_token": token, "action": "save"}).status_code == 404
    assert f'data-warehousing="{pk}"' not in other.get("/workbench/?tab=warehousing").get_data(as_text=True)
    # a draft is the owner's alone; once submitted the town's 镇街 sees it, another town's does not
    town_a = client_for(app, factory.user("镇街", town_code="2010"))
    assert town_a.get(f"/warehousing/{pk}").status_code == 404
    html = owner.get(f"/warehousing/{pk}/preview").get_data(as_text=True)
    assert owner.post(f"/warehousing/{pk}/submit", data={"csrf_token": csrf_from(html)}).status_code == 302
    assert town_a.get(f"/warehousing/{pk}").status_code == 200
    assert town_a.get(f"/warehousing/{pk}/file/contract").data == PDF_BYTES
    town_b = client_for(app, factory.user("镇街", town_code="2011"))
    assert town_b.get(f"/warehousing/{pk}").status_code == 404
    assert town_b.get(f"/review/warehousing/{pk}").status_code == 404
    expert = client_for(app, factory.user("专家"))
    assert expert.get(f"/warehousing/{pk}").status_code == 404
    assert _record(app, pk)["status"] == ReviewStatus.REVIEWING
