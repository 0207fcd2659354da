"""The browser walkthrough of manual ch. 05, 06 and 08: 改造中, 事后评估 and 改造完成 of a signed project.

The project is filed for 诊断机构诊断 (the demo institution, a 综合型服务机构, reports 二级; the enterprise 确认) and
signed through the pages without assistance (test_signing_walkthrough's page 1, then page 2 filled by the
enterprise with the demo provider's listed product). Then:

- 改造中: the enterprise sends 企业现状（改造前） to its 行业型服务商; the provider opens it from its 待办, unticks
  four dimensions, fills the others and submits; the enterprise 确认提交 → 已提交 / 已确认; 表单下载 (.docx).
- 事后评估: 【发起评估】 by 评估机构评估 (the 事前诊断's institution chosen by default); the institution uploads the
  改造后评估报告 (三级); 【确认评估报告】 → 确认 → 已评估.
- 改造完成: 数字化改造成效 (both levels, 改造后 data and a PDF per dimension), 服务商评价 (every provider's four
  star ratings and texts), 佐证材料 (the four PDFs, two invoices with three goods lines and one payment
  voucher entered under both); the totals live in the page, in 【预览】, on 详情 and in the database, exact to
  the fen; 【提交】 → 已提交.

Every demo user works in a browser context of their own (test_project_walkthrough's Actor), logged in once for
the module; every 5xx answer fails the test.
"""

import datetime as dt
import io
import re
from decimal import Decimal

import docx
import pytest
from playwright.sync_api import expect

from .test_project_walkthrough import (
    ENTERPRISE,
    INSTITUTION,
    INSTITUTION_NAME,
    decide,
    diagnosis_row,
    file_project,
    follow,
    open_report,
    open_start_dialog,
    open_workbench_tab,
    pdf_upload,
    unique_name,
    upload_report,
)
from .test_signing_walkthrough import (
    CONTRACTS,
    PROVIDER,
    PROVIDER_NAME,
    assert_clean,
    fill_page_1,
    signing_list_row,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("watch_actors")]

# the demo provider's listed product (zsdx/seed.py _demo_products), 最高入库价格 10.8 万元
DEMO_PRODUCT = "数智MES云平台"
DEMO_PRODUCT_CODE = "P240901000001"

# 改造中: the provider unticks four dimensions (不涉及) and fills the other four
BEFORE = {
    "innovation": "数字化设备联网率35%",
    "quality": "产品合格率92.5%",
    "cost": "关键工序数控化率40%",
    "efficiency": "按期交货率85%",
}
UNTICKED = ("market", "green", "safety", "other")
AFTER = {
    "innovation": "数字化设备联网率80%",
    "quality": "产品合格率98.2%",
    "cost": "关键工序数控化率75%",
    "efficiency": "按期交货率96%",
}

# 改造完成: two invoices, three goods lines (2 + 1); amounts whose float sums drift (1234.56 + 0.01 + 8765.33 is
# 9999.900000000001 in binary floating point)
INVOICES = [
    {
        "code": "044001900111",
        "number": "08812345",
        "seller": PROVIDER_NAME,
        "lines": [("MES软件许可", "1234.56", "160.49"), ("实施服务费", "0.01", "0.07")],
    },
    {
        "code": "044001900112",
        "number": "08812346",
        "seller": PROVIDER_NAME,
        "lines": [("设备联网改造", "8765.33", "1139.49")],
    },
]
AMOUNTS = [Decimal(a) for inv in INVOICES for _n, a, _t in inv["lines"]]
TAXES = [Decimal(t) for inv in INVOICES for _n, _a, t in inv["lines"]]
TOTAL_AMOUNT = sum(AMOUNTS, Decimal(0))  # 9999.90
TOTAL_TAX = sum(TAXES, Decimal(0))  # 1300.05
TOTAL_SUM = TOTAL_AMOUNT + TOTAL_TAX  # 11299.95
VOUCHER_NAME = "银行付款凭证.pdf"  # one payment of both invoices: the same voucher under each
RATING_TEXTS = {
    "product": "系统稳定，功能贴合产线",
    "overall": "项目交付按计划完成",
    "attitude": "响应及时，沟通顺畅",
    "after_sales": "售后问题当天处理",
}
RATING_STARS = {"product": 5, "overall": 4, "attitude": 5, "after_sales": 3}


def fen(value):
    return f"{Decimal(value).quantize(Decimal('0.01')):f}"


def docx_text(download):
    with open(download.path(), "rb") as fh:
        document = docx.Document(io.BytesIO(fh.read()))
    text = "\n".join(p.text for p in document.paragraphs)
    return text + "\n".join(cell.text for table in document.tables for r in table.rows for cell in r.cells)


# --- a signed project with its 事前诊断 --------------------------------------------------------------------
def pre_diagnose_by_institution(actors, project):
    """事前诊断 by 诊断机构诊断: 【发起诊断】 with the demo institution; its report (二级); 确认."""
    ent, inst = actors(ENTERPRISE), actors(INSTITUTION)
    row = diagnosis_row(ent, project)
    diag_id, dialog = open_start_dialog(ent, row)
    choice = dialog.locator(f"#institution-{diag_id}")
    choice.select_option(choice.locator("option", has_text=INSTITUTION_NAME).get_attribute("value"))
    follow(dialog.locator(f"#btn-start-confirm-{diag_id}"))
    expect(ent.page.locator(".alert-success")).to_be_visible()
    expect(ent.page.locator(f'#pre-diagnosis-list tbody tr[data-diagnosis="{diag_id}"] .zs-status')).to_have_text(
        "诊断中"
    )
    ent.check()
    upload_report(inst, diag_id, project, "二级", "48.5", "改造前诊断报告.pdf")
    open_report(ent, project)
    decide(ent, "confirm")
    row = ent.page.locator(f'#pre-diagnosis-list tbody tr[data-diagnosis="{diag_id}"]')
    expect(row.locator(".zs-status")).to_have_text("已诊断")
    expect(row.locator(".zs-level")).to_contain_text("二级")
    ent.check()


def sign_without_assistance(ent, project):
    """项目签约: page 1 as in test_signing_walkthrough; page 2 by the enterprise itself (协助 否): a need and the
    demo product from the catalog dialog; 【提交】 → 已签约."""
    page = ent.page
    row = signing_list_row(ent, project)
    follow(row.locator("a.zs-op-edit"))
    fill_page_1(ent, project)
    page.check("#assisted-no")
    expect(page.locator("#assist-send")).to_be_hidden()
    follow(page.locator("#btn-add-need"))
    expect(page.locator("#assisted-no")).to_be_checked()
    need = page.locator("#need-rows tbody tr[data-need]")
    expect(need).to_have_count(1)
    need_id = need.get_attribute("data-need")
    need.locator(f'select[name="need-{need_id}-scenario"]').select_option(index=1)
    need.locator(f'textarea[name="need-{need_id}-description"]').fill("设备数据靠人工抄录")
    need.locator(f'textarea[name="need-{need_id}-analysis"]').fill("需要设备联网与生产执行管理")
    page.click("#btn-add-product")
    dialog = page.locator("#catalog-dialog")
    expect(dialog).to_be_visible()
    page.fill("#catalog-q", DEMO_PRODUCT)
    with page.expect_response(re.compile(r"/signing/catalog\.json\?")) as found:
        page.click("#catalog-search")
    assert found.value.status == 200
    result = dialog.locator("#catalog-results tbody tr", has_text=DEMO_PRODUCT_CODE)
    expect(result).to_have_count(1)
    expect(result).to_contain_text(PROVIDER_NAME)
    ent.check()
    result.locator('input[type="radio"]').check()
    follow(dialog.locator("#btn-pick-product"))
    panel = page.locator(".zs-product-row")
    expect(panel).to_have_count(1)
    prefix = "#" + panel.get_attribute("id") + "-"
    page.locator(prefix + "contract_id").select_option(label=CONTRACTS[0]["number"])
    page.check(f'input[name="{prefix[1:]}cloud"][value="public"]')
    page.fill(prefix + "content", "部署MES系统并完成设备联网")
    start = dt.date.today() + dt.timedelta(days=10)
    page.fill(prefix + "start_date", start.isoformat())
    page.fill(prefix + "end_date", (start + dt.timedelta(days=180)).isoformat())
    page.fill(prefix + "price", "10.8")
    expect(page.locator(prefix + "warning")).to_be_hidden()  # the maximum itself is no warning
    page.locator(prefix + "scenario").select_option(index=1)
    page.fill(prefix + "scenario_desc", "生产执行与设备联网")
    ent.check()
    follow(page.locator("#btn-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=signing"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = signing_list_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("已签约")
    expect(row.locator(".zs-assist-status")).to_have_text("未选择协助")
    ent.check()


# --- 改造中 -----------------------------------------------------------------------------------------------
def implementation_row(ent, project):
    open_workbench_tab(ent, "projects", "implementing")
    row = ent.page.locator("#implementation-list tbody tr", has=ent.page.locator("td:nth-child(2)", has_text=project))
    expect(row).to_have_count(1)
    return row


def implementation_in_progress(actors, project):
    ent, prov = actors(ENTERPRISE), actors(PROVIDER)
    page = ent.page

    # 编辑: 行业型服务商协助填写 是, the demo provider (the contracts' only lead unit), 【发送至牵引单位】
    row = implementation_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待提交")
    expect(row.locator(".zs-assist-status")).to_have_text("未选择协助")
    record_id = int(row.get_attribute("data-implementation"))
    follow(row.locator("a.zs-op-edit"))
    expect(page).to_have_url(re.compile(rf"/implementation/{record_id}/edit$"))
    expect(page.locator("#dimension-rows tbody tr[data-dimension]")).to_have_count(8)
    expect(page.locator("#assist-send")).to_be_hidden()
    ent.check()
    page.check("#assisted-yes")
    expect(page.locator("#assist-send")).to_be_visible()
    options = page.locator("#assist-provider option").all_inner_texts()
    assert options[1:] == [PROVIDER_NAME], options
    page.locator("#assist-provider").select_option(label=PROVIDER_NAME)
    follow(page.locator("#btn-ask-assist"))
    expect(page).to_have_url(re.compile(rf"/implementation/{record_id}$"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#assist-status")).to_have_text("协助填写中")
    ent.check()
    # the enterprise's page is locked meanwhile
    row = implementation_row(ent, project)
    expect(row.locator(".zs-assist-status")).to_have_text("协助填写中")
    follow(row.locator("a.zs-op-edit"))
    expect(page.locator("#assist-locked")).to_contain_text(PROVIDER_NAME)
    expect(page.locator("#btn-submit")).to_have_count(0)
    ent.check()

    # the provider: 待办 → the page; untick four dimensions, fill the others, 【提交】
    ppage = prov.page
    prov.nav("我的工作台")
    ppage.click('a[href="#panel-todo"]')
    # (the link's title, the full text, becomes a tooltip once the page's scripts run: match the shown text)
    todo = ppage.locator("#panel-todo li a", has_text=project)
    expect(todo).to_have_count(1)
    expect(todo.locator("xpath=..")).to_have_class(re.compile(r"\bzs-unread\b"))
    follow(todo)
    expect(ppage).to_have_url(re.compile(rf"/implementation/{record_id}/assist$"))
    prov.check()
    for dimension in UNTICKED:
        ppage.uncheck(f"#dim-{dimension}-ticked")
        expect(ppage.locator(f"#dim-{dimension}-before")).not_to_be_editable()  # 不涉及: read-only
    for dimension, text in BEFORE.items():
        expect(ppage.locator(f"#dim-{dimension}-ticked")).to_be_checked()
        ppage.fill(f"#dim-{dimension}-before", text)
    prov.check()
    follow(ppage.locator("#btn-submit"))
    expect(ppage).to_have_url(re.compile(rf"/implementation/{record_id}$"))
    expect(ppage.locator(".alert-success")).to_be_visible()
    expect(ppage.locator("#assist-status")).to_have_text("待企业确认")
    expect(ppage.locator("#btn-assist")).to_have_count(0)
    for dimension, text in BEFORE.items():
        expect(ppage.locator(f'#dimension-view tr[data-dimension="{dimension}"] .zs-before')).to_have_text(text)
    prov.check()

    # the enterprise: 待企业确认 → 编辑 → what the provider filled → 【确认提交】 → 已提交 / 已确认
    row = implementation_row(ent, project)
    expect(row.locator(".zs-assist-status")).to_have_text("待企业确认")
    follow(row.locator("a.zs-op-edit"))
    expect(page.locator("#assist-filled")).to_contain_text(PROVIDER_NAME)
    for dimension in UNTICKED:
        expect(page.locator(f"#dim-{dimension}-ticked")).not_to_be_checked()
    for dimension, text in BEFORE.items():
        expect(page.locator(f"#dim-{dimension}-before")).to_have_value(text)
    expect(page.locator("#btn-submit")).to_have_text("确认提交")
    ent.check()
    follow(page.locator("#btn-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=implementing"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#implementation-list tbody tr[data-implementation="{record_id}"]')
    expect(row.locator(".zs-status")).to_have_text("已提交")
    expect(row.locator(".zs-assist-status")).to_have_text("已确认")
    expect(row.locator("a.zs-op-edit")).to_have_count(0)
    expect(row.locator("a.zs-op-change")).to_have_text("信息变更")
    ent.check()

    # 表单下载: the .docx has the typed values and 不涉及
    with page.expect_download() as info:
        row.locator("a.zs-op-download").click()
    download = info.value
    assert download.suggested_filename.endswith(".docx"), download.suggested_filename
    text = docx_text(download)
    assert project in text and PROVIDER_NAME in text, text[:2000]
    assert all(value in text for value in BEFORE.values()), text[:2000]
    assert "不涉及" in text and "已提交" in text, text[:2000]


# --- 事后评估 ----------------------------------------------------------------------------------------------
def post_assessment_row(ent, project):
    open_workbench_tab(ent, "diagnosis", "post_assessment")
    row = ent.page.locator("#post-assessment-list tbody tr", has_text=project)
    expect(row).to_have_count(1)
    return row


def post_assessment(actors, project):
    ent, inst = actors(ENTERPRISE), actors(INSTITUTION)
    page = ent.page

    # 【发起评估】: 评估机构评估, the 事前诊断's 综合型 institution chosen by default; 【确认】
    row = post_assessment_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待评估")
    expect(row.locator(".zs-pre-institution")).to_have_text(INSTITUTION_NAME)
    expect(row.locator(".zs-op-report-disabled")).to_have_text("查看评估报告")
    record_id = row.get_attribute("data-post-assessment")
    row.locator("a.zs-op-start").click()
    dialog = page.locator(f"#start-post-{record_id}")
    expect(dialog).to_be_visible()
    dialog.locator(f"#method-{record_id}").select_option("city")
    expect(dialog.locator(f"#institution-post-{record_id}")).to_be_hidden()
    dialog.locator(f"#method-{record_id}").select_option("institution")
    institution = dialog.locator(f"#institution-post-{record_id}")
    expect(institution).to_be_visible()
    assert institution.evaluate("s => s.options[s.selectedIndex].text") == INSTITUTION_NAME
    ent.check()
    follow(dialog.locator(f"#btn-start-post-confirm-{record_id}"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#post-assessment-list tbody tr[data-post-assessment="{record_id}"]')
    expect(row.locator(".zs-status")).to_have_text("评估中")
    expect(row.locator(".zs-institution")).to_have_text(INSTITUTION_NAME)
    expect(row.locator("a.zs-op-start")).to_have_count(0)
    ent.check()

    # the institution: its task list → the 改造后评估报告 (PDF), 三级 and the score → 【上传并提交】
    ipage = inst.page
    inst.nav("诊断评估任务")
    task = ipage.locator(f'#institution-tasks tbody tr[data-task="post-{record_id}"]')
    expect(task).to_contain_text(project)
    expect(task.locator(".zs-kind")).to_have_text("事后评估")
    form = task.locator(f"#upload-post-{record_id}")
    form.locator('input[name="report"]').set_input_files(files=[pdf_upload("改造后评估报告.pdf", "post report")])
    form.locator('select[name="level"]').select_option(label="三级")
    form.locator('input[name="score"]').fill("72.5")
    inst.check()
    follow(form.locator('button[type="submit"]'))
    expect(ipage.locator(".alert-success")).to_be_visible()
    task = ipage.locator(f'#institution-tasks tbody tr[data-task="post-{record_id}"]')
    expect(task.locator(".zs-status")).to_contain_text("待确认")
    expect(task.locator(f"#upload-post-{record_id}")).to_have_count(0)
    inst.check()

    # the enterprise: 【确认评估报告】 lights up → the report → 确认 → 已评估 with the level
    row = post_assessment_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待确认")
    confirm = row.locator("a.zs-op-confirm")
    expect(confirm).to_have_text("确认评估报告")
    expect(confirm).to_have_class(re.compile(r"\bbtn-primary\b"))
    with page.expect_response(re.compile(r"/post-assessment/\d+/report/file\?inline=1")) as pdf:
        follow(confirm)
    assert pdf.value.status == 200
    assert pdf.value.header_value("content-type").startswith("application/pdf")
    expect(page.locator("#diagnosis-status")).to_have_text("待确认")
    expect(page.locator("#report-institution")).to_have_text(INSTITUTION_NAME)
    expect(page.locator("#reported-level")).to_contain_text("三级")
    expect(page.locator("#reported-score")).to_contain_text("72.5")
    expect(page.locator("#report-download")).to_have_text("改造后评估报告.pdf")
    ent.check()
    form = page.locator("#confirm-form")
    form.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    form.locator("#decision").select_option("confirm")
    follow(form.locator("#btn-confirm-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=post_assessment"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#post-assessment-list tbody tr[data-post-assessment="{record_id}"]')
    expect(row.locator(".zs-status")).to_have_text("已评估")
    expect(row.locator(".zs-level")).to_contain_text("三级")
    expect(row.locator("a.zs-op-report")).to_have_text("查看评估报告")
    expect(row.locator("a.zs-op-confirm")).to_have_count(0)
    ent.check()


# --- 改造完成 ----------------------------------------------------------------------------------------------
def completion_row(ent, project):
    open_workbench_tab(ent, "projects", "completed")
    row = ent.page.locator("#completion-list tbody tr", has=ent.page.locator("td:nth-child(2)", has_text=project))
    expect(row).to_have_count(1)
    return row


def fill_results_page(ent):
    """Page 1 数字化改造成效: the levels from 事前诊断 / 事后评估, the carried dimensions, 改造后 and a PDF each."""
    page = ent.page
    expect(page.locator("#tab-page-1").locator("xpath=..")).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("#level_before")).to_have_text("二级")
    expect(page.locator("#level_after")).to_have_text("三级")
    rows = page.locator("#result-rows tbody tr[data-result]")
    expect(rows).to_have_count(len(BEFORE))  # only the dimensions ticked in 改造中
    page.check("#assisted-no")
    expect(page.locator("#assist-send")).to_be_hidden()
    for dimension, before in BEFORE.items():
        row = page.locator(f'#result-rows tbody tr[data-dimension="{dimension}"]')
        expect(row.locator(".zs-before")).to_have_text(before)
        expect(row.locator(".zs-result-tick")).to_be_checked()
        result_id = row.get_attribute("data-result")
        page.fill(f"#result-{result_id}-after", AFTER[dimension])
        page.set_input_files(f"#result-{result_id}-evidence", files=[pdf_upload(f"佐证-{dimension}.pdf")])
    ent.check()
    follow(page.locator("#btn-next-page"))
    expect(page).to_have_url(re.compile(r"/completion/\d+/edit\?page=2"))


def fill_ratings_page(ent):
    """Page 2 服务商评价: every provider's four star ratings (the stars clicked) and texts."""
    page = ent.page
    expect(page.locator("#tab-page-2").locator("xpath=..")).to_have_class(re.compile(r"\bactive\b"))
    ratings = page.locator(".zs-rating")
    expect(ratings.first).to_be_visible()
    providers = ratings.evaluate_all("rows => rows.map(r => r.querySelector('.panel-heading strong').textContent)")
    assert providers == [PROVIDER_NAME], providers  # the lead unit of contract 1, also the product's supplier
    for rating_id in ratings.evaluate_all("rows => rows.map(r => r.id)"):
        for key, stars in RATING_STARS.items():
            page.click(f'label[for="{rating_id}-{key}_stars-{stars}"]')
            expect(page.locator(f"#{rating_id}-{key}_stars-{stars}")).to_be_checked()
            page.fill(f"#{rating_id}-{key}_text", RATING_TEXTS[key])
    ent.check()
    follow(page.locator("#btn-next-page"))
    expect(page).to_have_url(re.compile(r"/completion/\d+/edit\?page=3"))
    return providers


def invoice_ids(page):
    return page.locator(".zs-invoice-panes .tab-pane").evaluate_all("panes => panes.map(p => p.dataset.invoice)")


def fill_evidence_page(ent):
    """Page 3 佐证材料: the PDFs; 【添加发票】 twice, a second goods line on invoice 1; every field typed; the
    totals follow the typing, exact. Returns the invoice ids."""
    page = ent.page
    expect(page.locator("#tab-page-3").locator("xpath=..")).to_have_class(re.compile(r"\bactive\b"))
    for key, name in (
        ("quotation", "项目合同报价单.pdf"),
        ("invoice", "项目合同发票.pdf"),
        ("payment", "项目合同付款凭证.pdf"),
        ("other", "系统截图.pdf"),
    ):
        page.set_input_files(f"#{key}_file", files=[pdf_upload(name)])
    ent.check()
    # 【添加发票】 twice (the files go up with the first press); 【添加货物或应税劳务、服务】 on invoice 1
    follow(page.locator("#btn-add-invoice"))
    expect(page.locator("#invoice-tabs a.zs-invoice-tab")).to_have_count(1)
    follow(page.locator("#btn-add-invoice"))
    tabs = page.locator("#invoice-tabs a.zs-invoice-tab")
    expect(tabs).to_have_count(2)
    for key, name in (
        ("quotation", "项目合同报价单"),
        ("invoice", "项目合同发票"),
        ("payment", "项目合同付款凭证"),
        ("other", "系统截图"),
    ):
        expect(page.locator(f'[data-field="{key}_file"] .zs-file-link')).to_have_text(f"{name}.pdf")
    ids = invoice_ids(page)
    expect(page.locator(f"#invoice-{ids[1]}")).to_be_visible()  # the new invoice's tab is open
    tabs.nth(0).click()
    follow(page.locator(f"#btn-add-line-{ids[0]}"))
    expect(page.locator(f"#invoice-{ids[0]}")).to_be_visible()  # the invoice's tab opens again
    ent.check()

    today = dt.date.today().isoformat()
    for index, (invoice_id, spec) in enumerate(zip(ids, INVOICES)):
        tabs.nth(index).click()
        pane = page.locator(f"#invoice-{invoice_id}")
        expect(pane).to_be_visible()
        pane.locator(f"#invoice-{invoice_id}-code").fill(spec["code"])
        pane.locator(f"#invoice-{invoice_id}-number").fill(spec["number"])
        expect(tabs.nth(index)).to_have_text(f"发票{spec['number']}")  # the tab follows the typed number
        pane.locator(f"#invoice-{invoice_id}-issued_on").fill(today)
        pane.locator(f"#invoice-{invoice_id}-seller").fill(spec["seller"])
        lines = pane.locator("tr.zs-line")
        expect(lines).to_have_count(len(spec["lines"]))
        for line_id, (name, amount, tax) in zip(
            lines.evaluate_all("rows => rows.map(r => r.dataset.line)"), spec["lines"]
        ):
            pane.locator(f"#line-{line_id}-name").fill(name)
            pane.locator(f"#line-{line_id}-amount").fill(amount)
            pane.locator(f"#line-{line_id}-tax").fill(tax)
            expect(pane.locator(f"#line-{line_id}-total")).to_have_value(fen(Decimal(amount) + Decimal(tax)))
        voucher = pane.locator("tr[data-voucher]")
        expect(voucher).to_have_count(1)
        voucher_id = voucher.get_attribute("data-voucher")
        pane.locator(f"#voucher-{voucher_id}-paid_on").fill(today)
        pane.locator(f"#voucher-{voucher_id}-amount").fill(fen(TOTAL_SUM))
        pane.locator(f"#voucher-{voucher_id}-file").set_input_files(files=[pdf_upload(VOUCHER_NAME, "one payment")])
    # the totals, live in the page: the exact sums of the typed lines
    expect(page.locator("#total-amount")).to_have_text(fen(TOTAL_AMOUNT))
    expect(page.locator("#total-tax")).to_have_text(fen(TOTAL_TAX))
    expect(page.locator("#total-sum")).to_have_text(fen(TOTAL_SUM))
    ent.check()
    return ids


def check_totals(page):
    expect(page.locator("#total-amount")).to_have_text(fen(TOTAL_AMOUNT))
    expect(page.locator("#total-tax")).to_have_text(fen(TOTAL_TAX))
    expect(page.locator("#total-sum")).to_have_text(fen(TOTAL_SUM))


def check_completion_view(page, ids):
    """The read-only record (【预览】 and 详情)."""
    expect(page.locator("#level_before")).to_have_text("二级")
    expect(page.locator("#level_after")).to_have_text("三级")
    expect(page.locator("#assisted-value")).to_have_text("否")
    results = page.locator("#completion-results tbody tr")
    expect(results).to_have_count(len(AFTER))
    for dimension, after in AFTER.items():
        expect(page.locator("#completion-results")).to_contain_text(after)
        expect(page.locator("#completion-results")).to_contain_text(f"佐证-{dimension}.pdf")
    rating = page.locator("#completion-ratings tbody tr")
    expect(rating).to_have_count(1)
    expect(rating).to_contain_text(PROVIDER_NAME)
    for key, text in RATING_TEXTS.items():
        expect(rating).to_contain_text(text)
    stars = rating.locator(".zs-stars-static").evaluate_all("s => s.map(x => x.dataset.stars)")
    assert stars == [str(RATING_STARS[key]) for key in RATING_TEXTS], stars
    expect(page.locator('#completion-files dd[data-file="other"] .zs-file-link')).to_have_text("系统截图.pdf")
    for invoice_id, spec in zip(ids, INVOICES):
        view = page.locator(f"#invoice-{invoice_id}-view")
        expect(view.locator('dd[data-field="number"]')).to_have_text(spec["number"])
        expect(view.locator("tbody tr[data-line]")).to_have_count(len(spec["lines"]))
        voucher = view.locator("tbody tr[data-voucher]")
        expect(voucher).to_have_count(1)
        expect(voucher.locator(".zs-file-link")).to_have_text(VOUCHER_NAME)
        expect(voucher).to_contain_text(fen(TOTAL_SUM))
        amount = sum((Decimal(a) for _n, a, _t in spec["lines"]), Decimal(0))
        tax = sum((Decimal(t) for _n, _a, t in spec["lines"]), Decimal(0))
        expect(view.locator("tfoot")).to_contain_text(fen(amount + tax))
    check_totals(page)


def stored_invoices(live_server, completion_id):
    """The completion's invoices as the server stored them, read from its database (live_server.env)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session, selectinload

    from zsdx.models import Invoice, PaymentVoucher

    engine = create_engine(live_server.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            invoices = session.scalars(
                select(Invoice)
                .where(Invoice.completion_id == completion_id)
                .options(selectinload(Invoice.lines), selectinload(Invoice.vouchers).joinedload(PaymentVoucher.file))
                .order_by(Invoice.position, Invoice.id)
            ).all()
            return [
                {
                    "number": inv.number,
                    "lines": [(x.name, Decimal(x.amount), Decimal(x.tax), Decimal(x.total)) for x in inv.lines],
                    "vouchers": [
                        (v.paid_on, Decimal(v.amount), v.file.original_name, v.file.sha256) for v in inv.vouchers
                    ],
                }
                for inv in invoices
            ]
    finally:
        engine.dispose()


def check_stored_invoices(live_server, completion_id):
    stored = stored_invoices(live_server, completion_id)
    assert [inv["number"] for inv in stored] == [spec["number"] for spec in INVOICES], stored
    for inv, spec in zip(stored, INVOICES):
        assert [(n, a, t) for n, a, t, _total in inv["lines"]] == [
            (n, Decimal(a), Decimal(t)) for n, a, t in spec["lines"]
        ], inv
        assert all(total == a + t for _n, a, t, total in inv["lines"]), inv
    lines = [line for inv in stored for line in inv["lines"]]
    assert sum((a for _n, a, _t, _s in lines), Decimal(0)) == TOTAL_AMOUNT
    assert sum((t for _n, _a, t, _s in lines), Decimal(0)) == TOTAL_TAX
    assert sum((s for _n, _a, _t, s in lines), Decimal(0)) == TOTAL_SUM
    # the one payment entered under both invoices: the same date, amount and file
    vouchers = [v for inv in stored for v in inv["vouchers"]]
    assert len(vouchers) == 2 and vouchers[0] == vouchers[1], vouchers
    assert vouchers[0][:3] == (dt.date.today(), TOTAL_SUM, VOUCHER_NAME), vouchers


def implementation_completed(actors, live_server, project):
    ent = actors(ENTERPRISE)
    page = ent.page
    row = completion_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待提交")
    completion_id = int(row.get_attribute("data-completion"))
    follow(row.locator("a.zs-op-edit"))
    expect(page).to_have_url(re.compile(rf"/completion/{completion_id}/edit"))
    ent.check()
    fill_results_page(ent)
    fill_ratings_page(ent)
    ids = fill_evidence_page(ent)

    # 【预览】 saves the page: the whole record read-only, the same totals; 【提交】 → 已提交
    follow(page.locator("#btn-preview"))
    expect(page).to_have_url(re.compile(rf"/completion/{completion_id}/preview$"))
    check_completion_view(page, ids)
    ent.check()
    follow(page.locator("#btn-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=completed"))
    expect(page.locator(".alert-success")).to_have_text(re.compile("项目实施-改造完成已提交"))
    row = page.locator(f'#completion-list tbody tr[data-completion="{completion_id}"]')
    expect(row.locator(".zs-status")).to_have_text("已提交")
    expect(row.locator("a.zs-op-edit")).to_have_count(0)
    expect(row.locator("a.zs-op-change")).to_have_text("信息变更")
    ent.check()

    # 详情 shows the same; the database holds the exact amounts
    follow(row.locator("a.zs-op-detail"))
    expect(page.locator("#completion-status")).to_have_text("已提交")
    check_completion_view(page, ids)
    ent.check()
    check_stored_invoices(live_server, completion_id)


# --- the test ---------------------------------------------------------------------------------------------
def test_implementation_post_assessment_and_completion(actors, live_server):
    project = unique_name("实施改造项目")
    file_project(actors, project, "institution")
    pre_diagnose_by_institution(actors, project)
    sign_without_assistance(actors(ENTERPRISE), project)

    implementation_in_progress(actors, project)
    post_assessment(actors, project)
    implementation_completed(actors, live_server, project)

    assert_clean(actors)
