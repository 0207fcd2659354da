"""评估评测 and 事前诊断 through the HTTP layer: questionnaire, result, .docx, binding, institution report."""

import io

import docx
from conftest import csrf_from
from helpers_review import client_for
from test_assessment_scoring import MANUAL_FOUNDATION_TYPICAL, MANUAL_MANAGEMENT, MANUAL_OUTCOME, MANUAL_SCENARIOS
from test_filing import fill_and_submit, review

from zsdx.extensions import db
from zsdx.models import AssessmentResult, Filing, Organisation, PreDiagnosis

MANUAL_FIELDS = {"Q2.total": 120, "Q2.digital": 18, "Q3.networked": 36}


def form_post(answers, fields, action):
    data = {"action": action}
    for qid, value in answers.items():
        data[f"q_{qid}"] = value
    for ref, value in fields.items():
        data[f"f_{ref}"] = str(value)
    for sid, level in MANUAL_SCENARIOS.items():
        data[f"s_{sid}"] = str(level)
    return data


def start_assessment(client):
    resp = client.get("/assessment/new")
    assert resp.status_code == 302
    return int(resp.headers["Location"].split("/assessment/")[1].split("/")[0])


def submit_manual_example(client, pk):
    page = client.get(f"/assessment/{pk}/edit").get_data(as_text=True)
    answers = {**MANUAL_FOUNDATION_TYPICAL, **MANUAL_MANAGEMENT, **MANUAL_OUTCOME}
    data = form_post(answers, MANUAL_FIELDS, "submit")
    data["csrf_token"] = csrf_from(page)
    return client.post(f"/assessment/{pk}/edit", data=data)


def test_questionnaire_result_and_docx(app, client, login_as):
    login_as("企业")
    pk = start_assessment(client)
    page = client.get(f"/assessment/{pk}/edit").get_data(as_text=True)
    assert "企业网络建设连接情况" in page and "【协同办公】为非约束性场景" in page
    # 保存 keeps a partial draft; 保存并提交 with everything gives the manual's result
    resp = client.post(f"/assessment/{pk}/edit", data={"csrf_token": csrf_from(page), "action": "save", "q_Q1": ["B"]})
    assert resp.status_code in (200, 302)
    with app.app_context():
        assert not db.session.get(AssessmentResult, pk).submitted
    resp = submit_manual_example(client, pk)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    html = client.get(f"/assessment/{pk}/result").get_data(as_text=True)
    assert "二级（规范级）" in html and "49.34" in html and "25.46" in html and "13.88" in html
    resp = client.get(f"/assessment/{pk}/report.docx")
    assert resp.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(resp.data)).paragraphs)
    assert "二级（规范级）" in text and "49.34" in text
    # a submitted result cannot be altered
    resp = client.post(
        f"/assessment/{pk}/edit", data={"csrf_token": csrf_from(page), "action": "submit", "q_Q1": ["A"]}
    )
    assert resp.status_code == 302
    with app.app_context():
        assert float(db.session.get(AssessmentResult, pk).total) > 49.33


def test_incomplete_submission_names_the_missing_items(app, client, login_as):
    login_as("企业")
    pk = start_assessment(client)
    page = client.get(f"/assessment/{pk}/edit").get_data(as_text=True)
    resp = client.post(
        f"/assessment/{pk}/edit", data={"csrf_token": csrf_from(page), "action": "submit", "q_Q1": ["B"]}
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="assessment-errors"' in html
    assert (
        'value="B"\n                    \n                    checked' in html or "checked" in html
    )  # typed answer kept
    with app.app_context():
        assert not db.session.get(AssessmentResult, pk).submitted


def _filed_project(app, factory, method):
    ent = factory.enterprise_user("2010")
    c = client_for(app, ent)
    pk = fill_and_submit(app, c, ent, diagnosis_method=method)
    for role, kw in (("镇街", {"town_code": "2010"}), ("第三方", {}), ("市工信", {})):
        r = factory.user(role, **kw)
        rc = client_for(app, r)
        assert review(rc, pk, "approve", "同意").status_code == 302
    with app.app_context():
        f = db.session.get(Filing, pk)
        assert f.status == "done"
        diag = db.session.query(PreDiagnosis).filter_by(project_id=f.project_id).one()
        return ent, c, diag.id


def test_self_diagnosis_binds_own_result_only(app, factory):
    ent, c, diag_id = _filed_project(app, factory, "self")
    pk = start_assessment(c)
    assert submit_manual_example(c, pk).status_code == 302
    # another enterprise's result cannot be bound
    other = factory.enterprise_user("2010")
    oc = client_for(app, other)
    other_pk = start_assessment(oc)
    assert submit_manual_example(oc, other_pk).status_code == 302
    page = c.get("/workbench/?group=diagnosis&tab=pre_diagnosis").get_data(as_text=True)
    assert "待诊断" in page and f'id="start-{diag_id}"' in page  # the 开始诊断 dialog, with its results
    assert f'name="result_id" value="{pk}"' in page and f'value="{other_pk}"' not in page
    c.post(f"/diagnosis/{diag_id}/start", data={"csrf_token": csrf_from(page), "result_id": other_pk})
    with app.app_context():
        assert db.session.get(PreDiagnosis, diag_id).diagnosed_at is None
    c.post(f"/diagnosis/{diag_id}/start", data={"csrf_token": csrf_from(page), "result_id": pk})
    with app.app_context():
        d = db.session.get(PreDiagnosis, diag_id)
        assert d.level == 2 and d.level_source == "self" and d.status == "done"
    assert "已诊断" in c.get("/workbench/?group=diagnosis&tab=pre_diagnosis").get_data(as_text=True)


def _reads_results(statement):
    return statement.split("FROM", 1)[-1].split()[0] == "zs_assessment"


def test_a_diagnosed_row_has_no_start_dialog_and_its_results_are_not_read(app, factory):
    from count_queries import StatementCounter

    ent, c, diag_id = _filed_project(app, factory, "self")
    pk = start_assessment(c)
    assert submit_manual_example(c, pk).status_code == 302
    url = "/workbench/?group=diagnosis&tab=pre_diagnosis"
    with app.app_context():
        counter = StatementCounter(db.engine)
    try:
        with counter.counting():
            page = c.get(url).get_data(as_text=True)
        startable = len(counter.statements)
        assert any(_reads_results(s) for s in counter.statements)
        assert f'id="start-{diag_id}"' in page and "zs-op-start" in page
        c.post(f"/diagnosis/{diag_id}/start", data={"csrf_token": csrf_from(page), "result_id": pk})
        c.get(url)
        with counter.counting():
            page = c.get(url).get_data(as_text=True)
        assert "已诊断" in page and f'id="start-{diag_id}"' not in page and "zs-op-start" not in page
        # the dialog's self-assessment results are read only for a row that shows it
        assert len(counter.statements) == startable - 1, counter.statements
        assert not any(_reads_results(s) for s in counter.statements)
    finally:
        counter.close()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_city_assignment_institution_report_returned_then_confirmed(app, factory):
    ent, c, diag_id = _filed_project(app, factory, "city")
    page = c.get("/workbench/?group=diagnosis&tab=pre_diagnosis").get_data(as_text=True)
    assert c.post(f"/diagnosis/{diag_id}/start", data={"csrf_token": csrf_from(page)}).status_code == 302
    with app.app_context():
        inst_id = db.session.query(Organisation.id).filter_by(name="中国信息通信研究院").scalar()
    city = factory.user("市工信")
    cc = client_for(app, city)
    page = cc.get("/diagnosis-assign/").get_data(as_text=True)
    assert (
        cc.post(
            f"/diagnosis-assign/{diag_id}", data={"csrf_token": csrf_from(page), "institution_id": inst_id}
        ).status_code
        == 302
    )
    inst_user = factory.user("评估机构", org=inst_id)
    other_inst = factory.user("评估机构", org=factory.org("institution", "2001", institution_type="diagnostic"))
    ic = client_for(app, inst_user)
    page = ic.get("/institution/").get_data(as_text=True)
    assert f'data-task="{diag_id}"' in page
    # another institution does not see the task
    oc = client_for(app, other_inst)
    assert f'data-task="{diag_id}"' not in oc.get("/institution/").get_data(as_text=True)
    assert oc.get(f"/diagnosis/{diag_id}/report").status_code == 404

    def upload(level):
        page = ic.get("/institution/").get_data(as_text=True)
        return ic.post(
            f"/institution/{diag_id}/report",
            data={
                "csrf_token": csrf_from(page),
                "level": str(level),
                "score": "45.5",
                "report": (io.BytesIO(PDF), "改造前诊断报告.pdf"),
            },
            content_type="multipart/form-data",
        )

    assert upload(2).status_code == 302
    with app.app_context():
        assert db.session.get(PreDiagnosis, diag_id).status == "reviewing"
    report = c.get(f"/diagnosis/{diag_id}/report").get_data(as_text=True)
    assert "待确认" in report and 'id="confirm-form"' in report
    assert (
        c.post(
            f"/diagnosis/{diag_id}/confirm",
            data={"csrf_token": csrf_from(report), "decision": "return", "reason": "报告缺少盖章"},
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(PreDiagnosis, diag_id).status == "returned"
    assert "报告缺少盖章" in ic.get("/institution/").get_data(as_text=True)
    assert upload(3).status_code == 302
    report = c.get(f"/diagnosis/{diag_id}/report").get_data(as_text=True)
    assert (
        c.post(
            f"/diagnosis/{diag_id}/confirm", data={"csrf_token": csrf_from(report), "decision": "confirm"}
        ).status_code
        == 302
    )
    with app.app_context():
        d = db.session.get(PreDiagnosis, diag_id)
        assert d.status == "done" and d.level == 3 and d.level_source == "institution"
    assert c.get(f"/diagnosis/{diag_id}/report/file?inline=1").headers["Content-Disposition"].startswith("inline")
