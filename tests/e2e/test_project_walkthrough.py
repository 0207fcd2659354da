"""The browser walkthrough of a project, stage by stage (manual ch. 02 and 03).

项目备案 from 【发起备案】 through 镇街 → 第三方 (驳回) → 编辑 and resubmission → 第三方 → 市工信 to 已备案;
事前诊断 by 自诊断 (the questionnaire with the manual's example answers, the result page, the .docx, the
binding), and by 市工信局分配 (assignment, the institution's report, 退回修改, 确认).

Every demo user works in a browser context of their own, logged in once for the module (a login costs
about a second and a half); each test files the project it needs through the pages.
"""

import datetime as dt
import io
import re
import uuid

import docx
import pytest
from playwright.sync_api import expect
from test_assessment_scoring import (
    MANUAL_FOUNDATION_TYPICAL,
    MANUAL_MANAGEMENT,
    MANUAL_OUTCOME,
    MANUAL_SCENARIOS,
)

from .helpers import follow, has_cjk

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("watch_actors")]

ENTERPRISE = "13800000001"  # 中山市示例智能制造有限公司, 小榄镇 (2010)
TOWN = "13800000004"  # 小榄镇审核员
THIRD_PARTY = "13800000006"
CITY = "13800000008"
INSTITUTION = "13800000003"  # 中国信息通信研究院
INSTITUTION_NAME = "中国信息通信研究院"
TOWN_CODE = "2010"

MANUAL_FIELDS = {"Q2.total": 120, "Q2.digital": 18, "Q3.networked": 36}
MANUAL_ANSWERS = {**MANUAL_FOUNDATION_TYPICAL, **MANUAL_MANAGEMENT, **MANUAL_OUTCOME}
RATES = {"Q2": "15.00", "Q3": "30.00"}  # 18/120 digital (B. (10,20]), 36/120 networked (C. (20,40])
DIMENSIONS = {
    "foundation": ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"),
    "management": ("Q8", "Q9", "Q10", "Q11"),
    "outcome": ("Q12", "Q13", "Q14", "Q15"),
}


def tiny_pdf(text):
    """A small but well-formed one-page PDF (cross-reference table and all), so that viewers open it."""
    content = f"BT /F1 14 Tf 24 72 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_upload(name, text="zsdx e2e"):
    return {"name": name, "mimeType": "application/pdf", "buffer": tiny_pdf(text)}


def assert_no_leaks(actors):
    found = {}
    for actor in actors.by_phone.values():
        for url, words in actor.leaks.found.items():
            found.setdefault(url, set()).update(words)
    assert not found, f"English UI text on the pages: { {u: sorted(w) for u, w in found.items()} }"


def unique_name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:4].upper()}"


# --- 项目备案 -------------------------------------------------------------------------------------------
def open_workbench_tab(actor, group, tab):
    """我的工作台 → 项目管理 / 数字化诊断评估 → a tab."""
    page = actor.page
    actor.nav("我的工作台")
    follow(page.locator(f"#group-{group}"))
    if "active" not in (page.locator(f"#tab-{tab}").locator("xpath=..").get_attribute("class") or ""):
        follow(page.locator(f"#tab-{tab}"))
    expect(page.locator(f"#tab-{tab}").locator("xpath=..")).to_have_class(re.compile(r"\bactive\b"))
    actor.check()


def filing_row(page, project_name):
    # (the name cell's title becomes a tooltip once FAB's script runs: match the text, short names are not cut)
    return page.locator("#filing-list tbody tr", has=page.locator("td:nth-child(2)", has_text=project_name))


def start_filing(actor):
    """项目备案 → 【发起备案】 → 【已知晓，立即进入填写】: the two-page form of a new draft."""
    page = actor.page
    open_workbench_tab(actor, "projects", "filing")
    page.click("#btn-new-filing")
    expect(page.locator("#filing-confirm")).to_be_visible()
    actor.check()
    follow(page.locator("#btn-confirm-filing"))
    expect(page).to_have_url(re.compile(r"/filing/\d+/edit"))
    actor.check()


def fill_filing(actor, project_name, method):
    """Both pages of the form, as typed by the enterprise; ends on page 2 before 【提交】."""
    page = actor.page
    # page 1: the enterprise (name, credit code and town come from the account)
    expect(page.locator("#page-1")).to_be_visible()
    expect(page.locator("#ent_name")).to_have_value("中山市示例智能制造有限公司")
    expect(page.locator("#ent_credit_code")).not_to_have_value("")
    assert page.locator("#town_id").evaluate("s => s.options[s.selectedIndex].text") == "小榄镇"
    page.check('input[name="ent_nature"][value="private"]')
    page.check('input[name="ent_category"][value="above"]')
    # 企业规模 by the calculator: 120 people and 5000 万元 → 小型企业
    page.fill("#calc-employees", "120")
    page.fill("#calc-revenue", "5000")
    page.click("#calc-scale")
    expect(page.locator('input[name="ent_scale"][value="small"]')).to_be_checked()
    page.locator("#product_category_id").select_option(index=1)  # the first third-level category
    if page.locator("#industry_id").input_value() in ("", "0"):
        page.locator("#industry_id").select_option(index=1)
    page.check('input[name="quality_levels"][value="innovative"]')
    page.fill("#ent_address", "中山市小榄镇工业大道1号")
    page.fill("#employees_total", "120")
    page.fill("#employees_digital", "12")
    page.fill("#ent_description", "主要生产五金制品，已上线ERP系统。")
    page.click("#btn-next-page")
    # page 2: the project
    expect(page.locator("#page-2")).to_be_visible()
    expect(page.locator("#page-1")).to_be_hidden()
    today = dt.date.today()
    page.fill("#project_name", project_name)
    page.fill("#project_summary", "建设MES系统")
    page.fill("#build_address", "中山市小榄镇工业大道1号")
    page.fill("#planned_investment", "80.5")
    page.fill("#start_date", today.isoformat())
    page.fill("#end_date", (today + dt.timedelta(days=270)).isoformat())
    page.locator("#target_level").select_option("3")
    page.locator("#diagnosis_method").select_option(method)
    page.fill("#intended_industry_provider", "中山市数智云服务有限公司")
    page.fill("#intended_scenario_provider", "中山市数智云服务有限公司")
    page.locator("#chain_leader").select_option("0")
    page.set_input_files("#authorization_file", files=[pdf_upload("授权委托书.pdf")])
    actor.check()


def submit_filing(actor, project_name, expected_status):
    """【提交】 → back on the list with the row's status; returns the filing's id."""
    page = actor.page
    follow(page.locator("#btn-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=filing"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = filing_row(page, project_name)
    expect(row).to_have_count(1)
    expect(row.locator(".zs-status")).to_have_text(expected_status)
    actor.check()
    return int(row.get_attribute("data-filing"))


def open_review(reviewer, filing_id, project_name):
    """审核工作台 → the 待审核 row of the filing → 审核."""
    page = reviewer.page
    reviewer.nav("审核工作台")
    expect(page.locator("#tab-pending").locator("xpath=..")).to_have_class(re.compile(r"\bactive\b"))
    row = page.locator(f'#review-queue tbody tr[data-id="{filing_id}"]')
    expect(row).to_contain_text(project_name)
    follow(row.locator("a.zs-op-review"))
    expect(page).to_have_url(re.compile(rf"/review/filing/{filing_id}$"))
    expect(page.locator("#detail-project-name")).to_have_text(project_name)
    reviewer.check()


def review_filing(reviewer, filing_id, project_name, button, opinion):
    open_review(reviewer, filing_id, project_name)
    page = reviewer.page
    page.fill("#opinion", opinion)
    follow(page.locator(button))
    expect(page).to_have_url(re.compile(r"/review/"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator(f'#review-queue tbody tr[data-id="{filing_id}"]')).to_have_count(0)
    reviewer.check()


def bulk_approve(reviewer, filing_id, project_name):
    """审核工作台: tick the row and 【批量同意】."""
    page = reviewer.page
    reviewer.nav("审核工作台")
    row = page.locator(f'#review-queue tbody tr[data-id="{filing_id}"]')
    expect(row).to_contain_text(project_name)
    row.locator("input.zs-row-check").check()
    asked = []

    def confirm(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    follow(page.locator("#btn-bulk-approve"))
    assert len(asked) == 1 and has_cjk(asked[0]), asked  # 确定同意所选的全部记录吗？
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator(f'#review-queue tbody tr[data-id="{filing_id}"]')).to_have_count(0)
    reviewer.check()


def file_project(actors, project_name, method):
    """A 已备案 project, compactly: fill, submit, and the three reviewers' 批量同意."""
    ent = actors(ENTERPRISE)
    start_filing(ent)
    fill_filing(ent, project_name, method)
    filing_id = submit_filing(ent, project_name, "审核中（镇街审核）")
    for phone in (TOWN, THIRD_PARTY, CITY):
        bulk_approve(actors(phone), filing_id, project_name)
    open_workbench_tab(ent, "projects", "filing")
    expect(filing_row(ent.page, project_name).locator(".zs-status")).to_have_text("已备案")
    return filing_id


def diagnosis_row(actor, project_name):
    """我的工作台 → 数字化诊断评估 → 事前诊断: the project's row."""
    open_workbench_tab(actor, "diagnosis", "pre_diagnosis")
    row = actor.page.locator("#pre-diagnosis-list tbody tr", has_text=project_name)
    expect(row).to_have_count(1)
    return row


def open_start_dialog(actor, row):
    diag_id = row.get_attribute("data-diagnosis")
    row.locator("a.zs-op-start").click()
    dialog = actor.page.locator(f"#start-{diag_id}")
    expect(dialog).to_be_visible()
    actor.check()
    return diag_id, dialog


# --- the tests ----------------------------------------------------------------------------------------
def test_filing_review_chain(actors):
    project = unique_name("智能车间改造")
    ent, town, third, city = actors(ENTERPRISE), actors(TOWN), actors(THIRD_PARTY), actors(CITY)
    page = ent.page

    # 【发起备案】 → the two pages → 【提交】: 镇街审核
    start_filing(ent)
    fill_filing(ent, project, "self")
    filing_id = submit_filing(ent, project, "审核中（镇街审核）")

    # 镇街 同意; 第三方 驳回
    review_filing(town, filing_id, project, "#btn-approve", "同意，材料齐全")
    review_filing(third, filing_id, project, "#btn-return", "请补充项目简介")

    # the enterprise: 驳回 in the list, the opinion on the timeline and in 审核通知 (unread)
    open_workbench_tab(ent, "projects", "filing")
    row = filing_row(page, project)
    expect(row.locator(".zs-status")).to_have_text(re.compile("驳回"))
    badge = page.locator("#unread-review")
    expect(badge).to_be_visible()
    unread = int(badge.inner_text())
    page.click('a[href="#panel-review"]')
    # the newest notice, shortened in the list; its full text shows on hover
    notice = page.locator("#panel-review li").first
    expect(notice).to_have_class(re.compile(r"\bzs-unread\b"))
    expect(notice).to_contain_text(project[:8])
    expect(notice.locator(".zs-read-flag")).to_have_text("未读")
    notice.locator("a").hover()
    expect(page.locator(".tooltip")).to_contain_text(re.compile(f"{project}.*第三方初审.*请补充项目简介"))
    follow(notice.locator("a"))  # opens the filing and marks the notice read
    expect(page).to_have_url(re.compile(rf"/filing/{filing_id}$"))
    expect(page.locator("#filing-status")).to_have_text(re.compile("驳回"))
    returned = page.locator("#audit-timeline li.zs-returned")
    expect(returned).to_have_count(1)
    expect(returned.locator(".zs-tl-opinion")).to_have_text("请补充项目简介")
    expect(returned).to_contain_text("第三方初审")
    expect(page.locator("#audit-timeline")).to_contain_text("同意，材料齐全")
    ent.check()
    ent.nav("我的工作台")
    if unread > 1:
        expect(page.locator("#unread-review")).to_have_text(str(unread - 1))
    else:
        expect(page.locator("#unread-review")).to_have_count(0)

    # 编辑: a new 项目简介, 提交 → it re-enters at 第三方
    open_workbench_tab(ent, "projects", "filing")
    row = filing_row(page, project)
    follow(row.locator("a.zs-op-detail"))
    follow(page.locator("#btn-edit"))
    expect(page).to_have_url(re.compile(rf"/filing/{filing_id}/edit"))
    expect(page.locator("#returned-note")).to_be_visible()
    ent.check()
    page.click("#tab-page-2")
    expect(page.locator("#project_summary")).to_have_value("建设MES系统")
    expect(page.locator("#page-2 .zs-file-link")).to_have_text("授权委托书.pdf")  # kept from the first submission
    page.fill("#project_summary", "建设MES系统，并打通ERP与仓储数据")
    submit_filing(ent, project, "审核中（第三方初审）")

    # 第三方 and 市工信 同意 → 已备案 with its 备案号
    review_filing(third, filing_id, project, "#btn-approve", "同意")
    review_filing(city, filing_id, project, "#btn-approve", "同意备案")
    open_workbench_tab(ent, "projects", "filing")
    row = filing_row(page, project)
    expect(row.locator(".zs-status")).to_have_text("已备案")
    filing_no = row.locator("td").nth(3).inner_text().strip()
    assert re.fullmatch(r"\d{13}", filing_no), filing_no
    assert filing_no.startswith(dt.date.today().strftime("%y%m%d") + TOWN_CODE), filing_no
    follow(row.locator("a.zs-op-detail"))
    expect(page.locator("#filing-no")).to_have_text(filing_no)
    expect(page.locator("#detail-project-name")).to_have_text(project)
    expect(page.locator("#file-authorization")).to_have_text("授权委托书.pdf")
    expect(page.locator("#audit-timeline li")).to_have_count(6)  # 提交 同意 驳回 提交 同意 同意
    expect(page.locator("#btn-edit")).to_have_count(0)
    ent.check()

    # 项目总览: 已备案 and 待签约 (the signing record); 事前诊断: 待诊断 (the diagnosis record)
    open_workbench_tab(ent, "projects", "overview")
    overview = page.locator("#project-overview tbody tr", has_text=project)
    expect(overview).to_have_count(1)
    expect(overview).to_contain_text("已备案")
    expect(overview).to_contain_text("待签约")
    row = diagnosis_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待诊断")
    expect(row.locator("a.zs-op-start")).to_be_visible()

    assert_no_leaks(actors)


def answer_questionnaire(actor):
    """Part one with the manual's example answers (the device counts typed), part two's 16 scenarios."""
    page = actor.page
    form = page.locator("#assessment-form")
    expect(form).to_be_visible()
    actor.check()
    for dim, qids in DIMENSIONS.items():
        page.click(f'#part-1 a[href="#dim-{dim}"]')
        expect(page.locator(f"#dim-{dim}")).to_be_visible()
        for qid in qids:
            question = page.locator(f"#question-{qid}")
            if qid in ("Q2", "Q3"):
                # the device counts typed; the rate and its band follow, the other bands are disabled
                for ref, value in MANUAL_FIELDS.items():
                    if ref.startswith(qid + "."):
                        field = question.locator(f'input[name="f_{ref}"]')
                        field.fill("")
                        field.press_sequentially(str(value))
                expect(page.locator(f"#rate-{qid}")).to_have_text(RATES[qid])
                assert_band(question, MANUAL_ANSWERS[qid])
                continue
            answer = MANUAL_ANSWERS[qid]
            for key in answer if isinstance(answer, list) else [answer]:
                question.locator(f'input[name="q_{qid}"][value="{key}"]').check()
            if isinstance(answer, list):
                checked = question.locator(f'input[name="q_{qid}"]:checked')
                expect(checked).to_have_count(len(answer))
    # 下一页: part two, every scenario rated
    page.click("#btn-next-part")
    expect(page.locator("#part-2")).to_be_visible()
    for sid, level in MANUAL_SCENARIOS.items():
        page.locator(f'#scenario-{sid} input[name="s_{sid}"][value="{level}"]').check()
    expect(page.locator(".zs-scenario-chip.chosen")).to_have_count(len(MANUAL_SCENARIOS))
    actor.check()


def assert_band(question, option):
    """The rate band picked from the typed counts; the contradicting bands cannot be chosen."""
    for key in "ABCDE":
        radio = question.locator(f'input[type=radio][value="{key}"]')
        if key == option:
            expect(radio).to_be_checked()
            expect(radio).to_be_enabled()
        else:
            expect(radio).not_to_be_checked()
            expect(radio).to_be_disabled()


def test_self_assessment_and_binding(actors):
    project = unique_name("自诊断改造项目")
    file_project(actors, project, "self")
    ent = actors(ENTERPRISE)
    page = ent.page

    # 事前诊断 → 【发起诊断】 → 【立即自诊断】
    row = diagnosis_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待诊断")
    diag_id, dialog = open_start_dialog(ent, row)
    expect(dialog).to_contain_text("自诊断")
    follow(dialog.locator(f"#btn-self-now-{diag_id}"))
    expect(page).to_have_url(re.compile(r"/assessment/\d+/edit"))
    answer_questionnaire(ent)

    # 【保存并提交】 → the result page
    follow(page.locator("#btn-save-submit"))
    expect(page).to_have_url(re.compile(r"/assessment/\d+/result"))
    result_id = re.search(r"/assessment/(\d+)/result", page.url).group(1)
    expect(page.locator("#result-level")).to_have_text("二级（规范级）")
    expect(page.locator("#result-total")).to_have_text("49.34")
    expect(page.locator("#result-built")).to_have_text("16/16")
    ent.check()

    # 【下载】: the .docx has the level and the score
    with page.expect_download() as info:
        page.click("#btn-download")
    download = info.value
    assert download.suggested_filename.endswith(".docx"), download.suggested_filename
    with open(download.path(), "rb") as fh:
        document = docx.Document(io.BytesIO(fh.read()))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for table in document.tables for r in table.rows for cell in r.cells)
    assert "二级（规范级）" in text and "49.34" in text, text[:2000]

    # 【返回】 → 事前诊断; 【发起诊断】, tick the result, 【确认】
    follow(page.locator("#btn-back"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=pre_diagnosis"))
    row = page.locator("#pre-diagnosis-list tbody tr", has_text=project)
    expect(row.locator(".zs-status")).to_have_text("待诊断")
    diag_id, dialog = open_start_dialog(ent, row)
    choice = f'input.zs-result-choice[value="{result_id}"]'
    result_row = dialog.locator("tbody tr", has=page.locator(choice))
    expect(result_row).to_contain_text("二级（规范级）")
    expect(result_row).to_contain_text("49.34")
    dialog.locator(choice).check()
    follow(dialog.locator(f"#btn-start-confirm-{diag_id}"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#pre-diagnosis-list tbody tr[data-diagnosis="{diag_id}"]')
    expect(row.locator(".zs-status")).to_have_text("已诊断")
    expect(row.locator(".zs-level")).to_contain_text("二级")
    expect(row.locator("a.zs-op-start")).to_have_count(0)
    ent.check()

    assert_no_leaks(actors)


def upload_report(institution, diag_id, project, level, score, name):
    """诊断评估任务 → the task's row: the PDF, 改造前数字化水平, 分数, 【上传并提交】."""
    page = institution.page
    institution.nav("诊断评估任务")
    row = page.locator(f'#institution-tasks tbody tr[data-task="{diag_id}"]')
    expect(row).to_contain_text(project)
    form = row.locator(f"#upload-{diag_id}")
    form.locator('input[name="report"]').set_input_files(files=[pdf_upload(name, f"report v{score}")])
    form.locator('select[name="level"]').select_option(label=level)
    form.locator('input[name="score"]').fill(score)
    follow(form.locator('button[type="submit"]'))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#institution-tasks tbody tr[data-task="{diag_id}"]')
    expect(row.locator(".zs-status")).to_contain_text("待确认")
    expect(row.locator(f"#upload-{diag_id}")).to_have_count(0)
    institution.check()
    return row


def open_report(ent, project):
    """事前诊断 → 【查看诊断报告】: the page, with the PDF inline."""
    page = ent.page
    row = diagnosis_row(ent, project)
    with page.expect_response(re.compile(r"/diagnosis/\d+/report/file\?inline=1")) as pdf_response:
        follow(row.locator("a.zs-op-report"))
    response = pdf_response.value
    assert response.status == 200
    assert response.header_value("content-type").startswith("application/pdf")
    assert response.header_value("content-disposition").startswith("inline")
    expect(page.locator("iframe.zs-pdf")).to_be_visible()
    ent.check()


def decide(ent, decision, reason=None):
    """确认诊断报告: 确认 / 退回修改 (with the reason), 【提交】.

    The form is below the PDF; it is scrolled into view and painted first: a click that has to scroll
    the page itself can land, in Chromium, on the PDF viewer's frame where it was before the scroll."""
    page = ent.page
    form = page.locator("#confirm-form")
    form.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    form.locator("#decision").select_option(decision)
    if reason is not None:
        form.locator("#reason").fill(reason)
    follow(form.locator("#btn-confirm-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=pre_diagnosis"))


def test_city_assignment_and_institution_report(actors):
    project = unique_name("市分配诊断项目")
    file_project(actors, project, "city")
    ent, city, inst = actors(ENTERPRISE), actors(CITY), actors(INSTITUTION)
    page = ent.page

    # 【发起诊断】 → 【确认】: waiting for the city's assignment
    row = diagnosis_row(ent, project)
    diag_id, dialog = open_start_dialog(ent, row)
    expect(dialog).to_contain_text("市工信局分配")
    follow(dialog.locator(f"#btn-start-confirm-{diag_id}"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#pre-diagnosis-list tbody tr[data-diagnosis="{diag_id}"]')
    expect(row.locator(".zs-status")).to_have_text("诊断中")
    expect(row.locator("a.zs-op-start")).to_have_count(0)

    # 市工信: 机构分配 → 中国信息通信研究院
    city.nav("机构分配")
    task = city.page.locator(f'#assign-queue tbody tr[data-task="{diag_id}"]')
    expect(task).to_contain_text(project)
    task.locator('select[name="institution_id"]').select_option(label=INSTITUTION_NAME)
    follow(task.locator('button[type="submit"]'))
    expect(city.page.locator(".alert-success")).to_be_visible()
    task = city.page.locator(f'#assign-queue tbody tr[data-task="{diag_id}"]')
    expect(task).to_contain_text(INSTITUTION_NAME)
    expect(task.locator("form")).to_have_count(0)
    city.check()

    # the institution: the report (二级); the enterprise 退回修改 with a reason
    upload_report(inst, diag_id, project, "二级", "45.5", "改造前诊断报告.pdf")
    open_report(ent, project)
    expect(page.locator("#diagnosis-status")).to_have_text("待确认")
    expect(page.locator("#reported-level")).to_contain_text("二级")
    expect(page.locator("#reported-score")).to_contain_text("45.5")
    expect(page.locator("#report-download")).to_have_text("改造前诊断报告.pdf")
    decide(ent, "return", "报告缺少盖章")
    expect(page.locator(".alert-success")).to_be_visible()
    ent.check()

    # the institution sees the reason and uploads again (三级); the enterprise 确认
    inst.nav("诊断评估任务")
    row = inst.page.locator(f'#institution-tasks tbody tr[data-task="{diag_id}"]')
    expect(row).to_contain_text("报告缺少盖章")
    upload_report(inst, diag_id, project, "三级", "62", "改造前诊断报告（盖章版）.pdf")
    open_report(ent, project)
    expect(page.locator("#reported-level")).to_contain_text("三级")
    expect(page.locator("#report-download")).to_have_text("改造前诊断报告（盖章版）.pdf")
    expect(page.locator("#audit-timeline")).to_contain_text("报告缺少盖章")
    decide(ent, "confirm")
    expect(page.locator(".alert-success")).to_be_visible()

    row = page.locator(f'#pre-diagnosis-list tbody tr[data-diagnosis="{diag_id}"]')
    expect(row.locator(".zs-status")).to_have_text("已诊断")
    expect(row.locator(".zs-level")).to_contain_text("三级")
    expect(row).to_contain_text(INSTITUTION_NAME)
    expect(row.locator("a.zs-op-report")).to_be_visible()
    ent.check()

    assert_no_leaks(actors)
