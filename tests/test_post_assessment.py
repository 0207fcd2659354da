"""事后评估 (manual 06) through the HTTP layer: 【发起评估】 with the pre-diagnosis's 综合型服务机构 pre-selected,
the institution's upload, 退回修改, upload again, 确认 (the 改造后 level on the list and on 改造完成); 市工信局分配;
and the attacker's side (another institution, a 诊断型 institution, another enterprise, no CSRF token, a forged
PDF, malformed levels and scores)."""

import datetime as dt
import io
import re

import pytest
from conftest import csrf_from
from helpers_implementation import make_implementation
from helpers_review import EXE_BYTES, PDF_BYTES, client_for, flashes, notes_of

from zsdx.extensions import db
from zsdx.models import Completion, PostAssessment, Signing, StoredFile

TAB = "/workbench/?group=diagnosis&tab=post_assessment"


def _state(app, pk):
    """What an attempt could change."""
    with app.app_context():
        r = db.session.get(PostAssessment, pk)
        return {
            "status": r.status,
            "version": r.version,
            "method": r.method,
            "started_at": r.started_at,
            "institution_id": r.institution_id,
            "report_file_id": r.report_file_id,
            "reported_level": r.reported_level,
            "reported_score": r.reported_score,
            "level": r.level,
            "assessed_at": r.assessed_at,
        }


def _project(app, factory, pre_type="comprehensive"):
    """A project whose 改造中 is submitted (its 事后评估 opened), diagnosed before by a new institution of
    `pre_type`; the enterprise's client. Returns (ids, ent, client, pre institution org id)."""
    pre_inst = factory.org("institution", "2001", institution_type=pre_type)
    ent = factory.enterprise_user("2010")
    ids = make_implementation(app, factory, ent, submitted=True, pre_institution=pre_inst)
    return ids, ent, client_for(app, ent), pre_inst


def _row(html, pk):
    m = re.search(rf'<tr data-post-assessment="{pk}">(.*?)</tr>', html, re.S)
    assert m, f"row {pk} not on the page"
    return m.group(1)


def _start(client, pk, **data):
    page = client.get(TAB).get_data(as_text=True)
    return client.post(f"/post-assessment/{pk}/start", data={"csrf_token": csrf_from(page), **data})


def _upload(client, pk, level="2", score="66.5", body=PDF_BYTES, name="改造后评估报告.pdf", kind="post"):
    page = client.get("/institution/").get_data(as_text=True)
    return client.post(
        f"/institution/{kind}/{pk}/report",
        data={"csrf_token": csrf_from(page), "level": level, "score": score, "report": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def _decide(client, pk, decision, reason=None):
    page = client.get(f"/post-assessment/{pk}/report").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "decision": decision}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/post-assessment/{pk}/confirm", data=data)


def test_institution_chosen_upload_returned_then_confirmed(app, factory):
    ids, ent, c, pre_inst = _project(app, factory, "comprehensive")
    pk = ids["post_assessment"]
    diagnostic = factory.org("institution", "2001", institution_type="diagnostic")
    inst_user = factory.user("评估机构", org=pre_inst)

    # the list: 待评估, the 事前诊断机构名称, 【发起评估】; the dialog pre-selects the 综合型 pre-diagnosis institution
    html = c.get(TAB).get_data(as_text=True)
    row = _row(html, pk)
    with app.app_context():
        pre_name = db.session.get(PostAssessment, pk).project.pre_diagnosis.institution.name
    assert "待评估" in row and pre_name in row and "发起评估" in row and "查看评估报告" in row
    dialog = html[html.index(f'id="start-post-{pk}"') :]
    assert "评估机构评估" in dialog and "市工信局分配" in dialog and "评估机构名称" in dialog
    assert f'<option value="{pre_inst}" selected>' in dialog
    assert f'<option value="{diagnostic}"' not in dialog  # only 综合型服务机构 are offered
    assert "中国信息通信研究院" in dialog

    resp = _start(c, pk, method="institution", institution_id=pre_inst)
    assert resp.status_code == 302
    assert _state(app, pk)["institution_id"] == pre_inst and _state(app, pk)["method"] == "institution"
    assert any("新的事后评估任务" in n["text"] for n in notes_of(app, inst_user, "todo"))
    row = _row(c.get(TAB).get_data(as_text=True), pk)
    assert "评估中" in row and "发起评估" not in row
    # 【发起评估】 only once
    resp = _start(c, pk, method="city")
    assert any("已发起" in f for f in flashes(c, resp.headers["Location"]))
    assert _state(app, pk)["method"] == "institution"

    # the institution's task list shows the kind; it uploads the report, 二级, 66.5
    ic = client_for(app, inst_user)
    tasks = ic.get("/institution/").get_data(as_text=True)
    assert f'data-task="post-{pk}" data-kind="post"' in tasks and "事后评估" in tasks
    assert f'id="upload-post-{pk}"' in tasks and "改造后数字化水平等级" in tasks
    assert _upload(ic, pk, level="2", score="66.5").status_code == 302
    assert _state(app, pk)["status"] == "reviewing"
    row = _row(c.get(TAB).get_data(as_text=True), pk)
    assert "待确认" in row and "确认评估报告" in row and "改造后评估报告.pdf" in row
    assert any("事后评估报告" in n["text"] for n in notes_of(app, ent, "todo"))

    # the report page: 预览 inline, download, 确认 / 退回修改
    page = c.get(f"/post-assessment/{pk}/report").get_data(as_text=True)
    assert "改造后评估报告" in page and "待确认" in page and 'id="confirm-form"' in page and "确认评估报告" in page
    assert "二级" in page and "66.50" in page and "预览" in page
    inline = c.get(f"/post-assessment/{pk}/report/file?inline=1")
    assert inline.status_code == 200 and inline.headers["Content-Disposition"].startswith("inline")
    assert inline.data == PDF_BYTES
    assert c.get(f"/post-assessment/{pk}/report/file").headers["Content-Disposition"].startswith("attachment")

    # 退回修改 needs a reason
    resp = _decide(c, pk, "return", "")
    assert any("审核意见" in f for f in flashes(c, resp.headers["Location"]))
    assert _state(app, pk)["status"] == "reviewing"
    assert _decide(c, pk, "return", "请补充现场评估照片").status_code == 302
    assert _state(app, pk)["status"] == "returned"
    assert "评估中" in _row(c.get(TAB).get_data(as_text=True), pk)
    assert "请补充现场评估照片" in ic.get("/institution/").get_data(as_text=True)
    assert any("请补充现场评估照片" in n["text"] for n in notes_of(app, inst_user, "review"))

    # uploaded again (三级, 78), 确认: the level is the project's 改造后 level
    assert _upload(ic, pk, level="3", score="78", name="改造后评估报告（修改版）.pdf").status_code == 302
    page = c.get(f"/post-assessment/{pk}/report").get_data(as_text=True)
    assert "改造后评估报告（修改版）.pdf" in page and "请补充现场评估照片" in page  # the timeline keeps the return
    resp = _decide(c, pk, "confirm")
    assert resp.status_code == 302 and "tab=post_assessment" in resp.headers["Location"]
    state = _state(app, pk)
    assert state["status"] == "done" and state["level"] == 3 and state["assessed_at"] is not None
    assert str(state["reported_score"]) == "78.00"
    with app.app_context():
        assert db.session.get(Completion, ids["completion"]).level_after == 3
    row = _row(c.get(TAB).get_data(as_text=True), pk)
    assert "已评估" in row and "三级" in row and "查看评估报告" in row and "确认评估报告" not in row
    # nothing more to upload, nor to confirm
    assert f'id="upload-post-{pk}"' not in ic.get("/institution/").get_data(as_text=True)
    resp = _upload(ic, pk, level="4")
    assert any("已确认" in f for f in flashes(ic, resp.headers["Location"]))
    assert _state(app, pk)["reported_level"] == 3
    assert 'id="confirm-form"' not in c.get(f"/post-assessment/{pk}/report").get_data(as_text=True)


def test_city_assignment_of_a_comprehensive_institution(app, factory):
    ids, ent, c, pre_inst = _project(app, factory, "diagnostic")
    pk = ids["post_assessment"]
    # a 诊断型 pre-diagnosis institution is not pre-selected (nor offered)
    html = c.get(TAB).get_data(as_text=True)
    dialog = html[html.index(f'id="start-post-{pk}"') :]
    assert " selected>" not in dialog.split("</select>", 2)[1] and f'value="{pre_inst}"' not in dialog
    assert _start(c, pk, method="city").status_code == 302
    state = _state(app, pk)
    assert state["method"] == "city" and state["started_at"] and state["institution_id"] is None
    assert "评估中" in _row(c.get(TAB).get_data(as_text=True), pk)

    city = client_for(app, factory.user("市工信"))
    queue = city.get("/diagnosis-assign/").get_data(as_text=True)
    m = re.search(rf'<tr data-task="post-{pk}" data-kind="post">(.*?)</tr>', queue, re.S)
    assert m and "事后评估" in m.group(1)
    assert f'value="{pre_inst}"' not in m.group(1)  # only 综合型服务机构 are offered
    # a crafted 诊断型 institution is refused
    resp = city.post(f"/diagnosis-assign/post/{pk}", data={"csrf_token": csrf_from(queue), "institution_id": pre_inst})
    assert any("综合型服务机构" in f for f in flashes(city, resp.headers["Location"]))
    assert _state(app, pk) == state
    comprehensive = factory.org("institution", "2001", institution_type="comprehensive")
    inst_user = factory.user("评估机构", org=comprehensive)
    resp = city.post(
        f"/diagnosis-assign/post/{pk}", data={"csrf_token": csrf_from(queue), "institution_id": comprehensive}
    )
    assert resp.status_code == 302 and _state(app, pk)["institution_id"] == comprehensive
    queue = city.get("/diagnosis-assign/").get_data(as_text=True)
    row = re.search(rf'<tr data-task="post-{pk}" data-kind="post">(.*?)</tr>', queue, re.S).group(1)
    assert "<form" not in row
    # 市工信 reads the report page, cannot confirm
    assert city.get(f"/post-assessment/{pk}/report").status_code == 200

    ic = client_for(app, inst_user)
    assert any("新的事后评估任务" in n["text"] for n in notes_of(app, inst_user, "todo"))
    assert _upload(ic, pk, level="4", score="90.25").status_code == 302
    assert _decide(city, pk, "confirm").status_code in (302, 403, 404)
    assert _state(app, pk)["status"] == "reviewing"
    assert _decide(c, pk, "confirm").status_code == 302
    state = _state(app, pk)
    assert state["status"] == "done" and state["level"] == 4
    assert "四级" in _row(c.get(TAB).get_data(as_text=True), pk)


def test_another_institution_neither_sees_nor_uploads(app, factory):
    ids, ent, c, pre_inst = _project(app, factory)
    pk = ids["post_assessment"]
    assert _start(c, pk, method="institution", institution_id=pre_inst).status_code == 302
    before = _state(app, pk)
    other = client_for(
        app, factory.user("评估机构", org=factory.org("institution", "2001", institution_type="comprehensive"))
    )
    assert f'data-task="post-{pk}"' not in other.get("/institution/").get_data(as_text=True)
    assert other.get(f"/post-assessment/{pk}/report").status_code == 404
    assert other.get(f"/post-assessment/{pk}/report/file").status_code == 404
    assert _upload(other, pk).status_code == 404
    assert _state(app, pk) == before
    # nor through the kind-less address, nor by naming another kind
    page = other.get("/institution/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "level": "2", "score": "50"}
    assert other.post(f"/institution/nosuch/{pk}/report", data=data).status_code == 404
    assert _state(app, pk) == before


def test_a_diagnostic_institution_cannot_be_chosen(app, factory):
    ids, ent, c, pre_inst = _project(app, factory, "diagnostic")
    pk = ids["post_assessment"]
    before = _state(app, pk)
    for data in (
        {"method": "institution", "institution_id": pre_inst},  # 诊断型
        {"method": "institution", "institution_id": ent["org_id"]},  # not an institution
        {"method": "institution", "institution_id": "abc"},
        {"method": "institution"},
        {"method": "self", "institution_id": pre_inst},
        {"method": "\x00"},
        {},
    ):
        resp = _start(c, pk, **data)
        assert resp.status_code == 302, data
        messages = flashes(c, resp.headers["Location"])
        assert any(re.search("[\u4e00-\u9fff]", f) for f in messages), (data, messages)
        assert _state(app, pk) == before, data


def test_an_enterprise_cannot_touch_another_enterprises_assessment(app, factory):
    ids, ent, c, pre_inst = _project(app, factory)
    pk = ids["post_assessment"]
    assert _start(c, pk, method="institution", institution_id=pre_inst).status_code == 302
    assert _upload(client_for(app, factory.user("评估机构", org=pre_inst)), pk).status_code == 302
    before = _state(app, pk)
    other = client_for(app, factory.enterprise_user("2010"))
    token = csrf_from(other.get("/workbench/").get_data(as_text=True))
    assert f'data-post-assessment="{pk}"' not in other.get(TAB).get_data(as_text=True)
    assert other.get(f"/post-assessment/{pk}/report").status_code == 404
    assert other.get(f"/post-assessment/{pk}/report/file").status_code == 404
    assert (
        other.post(f"/post-assessment/{pk}/confirm", data={"csrf_token": token, "decision": "confirm"}).status_code
        == 404
    )
    assert other.post(f"/post-assessment/{pk}/start", data={"csrf_token": token, "method": "city"}).status_code == 404
    assert _state(app, pk) == before


def test_no_csrf_token_is_refused(app, factory):
    ids, ent, c, pre_inst = _project(app, factory)
    pk = ids["post_assessment"]
    before = _state(app, pk)
    resp = c.post(f"/post-assessment/{pk}/start", data={"method": "institution", "institution_id": pre_inst})
    assert resp.status_code == 400 and _state(app, pk) == before
    assert _start(c, pk, method="institution", institution_id=pre_inst).status_code == 302
    ic = client_for(app, factory.user("评估机构", org=pre_inst))
    before = _state(app, pk)
    resp = ic.post(
        f"/institution/post/{pk}/report",
        data={"level": "2", "score": "50", "report": (io.BytesIO(PDF_BYTES), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and _state(app, pk) == before
    assert _upload(ic, pk).status_code == 302
    before = _state(app, pk)
    assert c.post(f"/post-assessment/{pk}/confirm", data={"decision": "confirm"}).status_code == 400
    city = client_for(app, factory.user("市工信"))
    assert city.post(f"/diagnosis-assign/post/{pk}", data={"institution_id": pre_inst}).status_code == 400
    assert _state(app, pk) == before


def test_a_forged_pdf_is_refused_in_chinese(app, factory):
    ids, ent, c, pre_inst = _project(app, factory)
    pk = ids["post_assessment"]
    assert _start(c, pk, method="institution", institution_id=pre_inst).status_code == 302
    ic = client_for(app, factory.user("评估机构", org=pre_inst))
    before = _state(app, pk)
    with app.app_context():
        files = db.session.query(StoredFile).count()
    resp = _upload(ic, pk, body=EXE_BYTES, name="改造后评估报告.pdf")
    assert resp.status_code == 302
    assert any("文件格式不符合要求" in f for f in flashes(ic, resp.headers["Location"]))
    assert _state(app, pk) == before
    with app.app_context():
        assert db.session.query(StoredFile).count() == files


@pytest.mark.parametrize(
    "level, score, message",
    [
        ("NaN", "50", "请选择改造后数字化水平等级"),
        ("1e400", "50", "请选择改造后数字化水平等级"),
        ("-1", "50", "请选择改造后数字化水平等级"),
        ("9", "50", "请选择改造后数字化水平等级"),
        ("\x00", "50", "请选择改造后数字化水平等级"),
        ("２", "50", "请选择改造后数字化水平等级"),
        ("2", "NaN", "0到100"),
        ("2", "1e400", "0到100"),
        ("2", "-1", "0到100"),
        ("2", "100.001", "0到100"),
        ("2", "\x00", "0到100"),
        ("2", "", "0到100"),
    ],
)
def test_malformed_level_or_score_gets_a_chinese_message(app, factory, level, score, message):
    ids, ent, c, pre_inst = _project(app, factory)
    pk = ids["post_assessment"]
    assert _start(c, pk, method="institution", institution_id=pre_inst).status_code == 302
    ic = client_for(app, factory.user("评估机构", org=pre_inst))
    before = _state(app, pk)
    resp = _upload(ic, pk, level=level, score=score)
    assert resp.status_code == 302
    assert any(message in f for f in flashes(ic, resp.headers["Location"]))
    assert _state(app, pk) == before


def test_overdue_after_the_later_of_submission_and_the_planned_end(app, factory):
    ids, ent, c, pre_inst = _project(app, factory)
    pk = ids["post_assessment"]
    days = app.config["POST_ASSESSMENT_DEADLINE_DAYS"]
    with app.app_context():
        record = db.session.get(PostAssessment, pk)
        record.created_at = dt.datetime.now() - dt.timedelta(days=days + 5)
        db.session.get(Signing, ids["signing"]).end_date = dt.date.today() + dt.timedelta(days=10)
        db.session.commit()
    overdue = re.compile(r'class="zs-overdue"><span class="label label-danger">是</span>')
    assert not overdue.search(_row(c.get(TAB).get_data(as_text=True), pk))  # the transformation is still under way
    with app.app_context():
        db.session.get(Signing, ids["signing"]).end_date = dt.date.today() - dt.timedelta(days=days + 1)
        db.session.commit()
    assert overdue.search(_row(c.get(TAB).get_data(as_text=True), pk))
