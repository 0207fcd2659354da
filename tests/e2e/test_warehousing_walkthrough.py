"""The browser walkthrough of manual ch. 09, 项目入库: the end of the project's life, after ch. 02–08.

The project is filed, diagnosed, signed, implemented, post-assessed (三级) and completed exactly as in
test_implementation_walkthrough. Then:

- 项目入库 is 待提交 in the list; outside a 申报窗口 its page says 尚未到达项目入库开放时段 and offers no button;
- 市工信 opens a 项目入库 申报窗口 with a 公告, which the enterprise reads on 首页;
- the enterprise edits the pre-filled copy, uploads the 佐证材料, 【预览】 and 【提交】 → 待审核;
- 镇街 agrees; 市工信 assigns two 验收专家; one agrees, the other 驳回 with an opinion → 退回修改; the enterprise
  edits and submits again and it re-enters at 验收专家审核 (not 镇街); both experts agree; 市工信复审 agrees →
  已入库, with the proposed subsidy (三级: at most 60 万元; the contracts include 100.3003 万元 → 60.0000) shown
  to the enterprise on 详情 (with the review process) and to 市工信 on the review page.

Every demo user works in a browser context of their own; every 5xx answer fails the test.
"""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from .test_implementation_walkthrough import (
    implementation_completed,
    implementation_in_progress,
    post_assessment,
    pre_diagnose_by_institution,
    sign_without_assistance,
)
from .test_project_walkthrough import (
    CITY,
    ENTERPRISE,
    TOWN,
    file_project,
    follow,
    open_workbench_tab,
    pdf_upload,
    unique_name,
)
from .test_signing_walkthrough import assert_clean

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("watch_actors")]

EXPERTS = ("13800000007", "13800000009")  # 验收专家, 验收专家二 (zsdx/seed.py)
EXPERT_NAMES = ("验收专家", "验收专家二")
REQUIRED_EVIDENCE = ("contract", "assessment_report", "invoice", "payment", "screenshot")
SUMMARY = "车间设备联网与MES上线，实现生产过程数字化管理（入库修订）"
RETURN_OPINION = "系统截图不清晰，请补充上线后的生产看板截图"


def warehousing_row(ent, project):
    open_workbench_tab(ent, "projects", "warehousing")
    page = ent.page
    row = page.locator("#warehousing-list tbody tr", has=page.locator("td:nth-child(2)", has_text=project))
    expect(row).to_have_count(1)
    return row


def open_window(actors):
    """市工信: 申报窗口 → add a 项目入库 window open now, with its 首页 公告."""
    city = actors(CITY)
    page = city.page
    city.nav("申报窗口")
    follow(page.locator('a[href*="/submissionwindowview/add"]').first)
    city.check()
    now = dt.datetime.now()
    page.fill("#name", "项目入库第一批")
    page.select_option("#chain_name", "warehousing")
    page.fill("#notice", "项目入库申报已开放，请已完成改造的企业按要求提交。")
    # FAB's date-time picker rewrites a typed value on blur: set the inputs as the picker would
    for field, moment in (("#opens_at", now - dt.timedelta(hours=1)), ("#closes_at", now + dt.timedelta(days=30))):
        page.locator(field).evaluate("(el, v) => { el.value = v; }", moment.strftime("%Y-%m-%d %H:%M:%S"))
    follow(page.locator("#model_form").locator('button[type="submit"]'))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("body")).to_contain_text("项目入库第一批")
    city.check()


def review_warehousing(reviewer, wid, project, action, opinion):
    """审核工作台 → 项目入库 → the row → 审核 → 同意 / 驳回."""
    page = reviewer.page
    open_review_page(reviewer, wid, project)
    page.fill("#opinion", opinion)
    follow(page.locator("#btn-approve" if action == "approve" else "#btn-return"))
    expect(page.locator(".alert-success")).to_be_visible()
    reviewer.check()


def open_review_page(reviewer, wid, project):
    page = reviewer.page
    reviewer.nav("审核工作台")
    follow(page.locator("#subject-warehousing"))
    row = page.locator(f'#review-queue tbody tr[data-id="{wid}"]')
    expect(row).to_contain_text(project)
    follow(row.locator("a.zs-op-review"))
    expect(page).to_have_url(re.compile(rf"/review/warehousing/{wid}$"))
    reviewer.check()


def exported_rows(actor, section):
    """【导出（.xlsx）】 of one dashboard section: its rows as the workbook holds them."""
    with actor.page.expect_download() as info:
        actor.page.click(f"#export-{section}")
    with open(info.value.path(), "rb") as fh:
        workbook = openpyxl.load_workbook(io.BytesIO(fh.read()), read_only=True)
    return [tuple(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]


def check_dashboard(city):
    """数据看板: the project is counted 已入库 and its subsidy is in the totals, in the charts' tables and in the
    exports (the only project warehoused on this server)."""
    page = city.page
    city.nav("数据看板")
    expect(page.locator("#table-stages tbody tr[data-stage=warehousing][data-status=done] td").last).to_have_text("1")
    money = page.locator("#table-money tbody tr", has_text="入库")
    expect(money.locator("td.zs-money")).to_have_text("60.0000")
    expect(page.locator("canvas").first).to_be_visible()  # ECharts drew the charts from the app's own file
    city.check()
    stages = exported_rows(city, "stages")
    assert any(r[:2] == ("项目入库", "已入库") and r[-1] == 1 for r in stages), stages
    money_rows = exported_rows(city, "money")
    assert any(any("入库" in str(c) for c in r) and Decimal(str(r[-1])) == Decimal("60.0000") for r in money_rows), (
        money_rows
    )


def test_project_warehousing_to_the_subsidy(actors, live_server):
    project = unique_name("入库项目")
    file_project(actors, project, "institution")
    pre_diagnose_by_institution(actors, project)
    sign_without_assistance(actors(ENTERPRISE), project)
    implementation_in_progress(actors, project)
    post_assessment(actors, project)
    implementation_completed(actors, live_server, project)

    ent = actors(ENTERPRISE)
    page = ent.page
    # 项目入库 was created by 改造完成: 待提交; outside a window the page is not enabled
    row = warehousing_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待提交")
    wid = int(row.get_attribute("data-warehousing"))
    follow(row.locator("a.zs-op-edit"))
    expect(page.locator("#window-closed")).to_contain_text("尚未到达项目入库开放时段")
    expect(page.locator("#btn-submit")).to_have_count(0)
    expect(page.locator("#btn-save")).to_have_count(0)
    ent.check()

    # 市工信 opens the period; the enterprise reads the 公告 on 首页
    open_window(actors)
    ent.nav("首页")
    expect(page.locator("body")).to_contain_text("项目入库开放时段")
    ent.check()

    # the pre-filled page: the whole project, editable; the 佐证材料; 【预览】 then 【提交】
    row = warehousing_row(ent, project)
    follow(row.locator("a.zs-op-edit"))
    expect(page.locator("#project-project_name-input")).to_have_value(project)
    expect(page.locator("#fact-level-after")).to_have_text("三级")
    expect(page.locator("#fact-subsidy-base")).to_have_text("100.3003")
    page.fill("#project-summary-input", SUMMARY)
    for kind in REQUIRED_EVIDENCE:
        page.set_input_files(f"#evidence-{kind}-input", pdf_upload(f"{kind}.pdf"))
    follow(page.locator("#btn-preview"))
    expect(page).to_have_url(re.compile(rf"/warehousing/{wid}/preview$"))
    expect(page.locator("#warehousing-preview")).to_contain_text(SUMMARY)
    for kind in REQUIRED_EVIDENCE:
        expect(page.locator("#view-evidence-list")).to_contain_text(f"{kind}.pdf")
    ent.check()
    follow(page.locator("#btn-submit"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#warehousing-list tbody tr[data-warehousing="{wid}"]')
    expect(row.locator(".zs-status")).to_have_text("待审核")
    expect(row.locator("a.zs-op-edit")).to_have_count(0)
    ent.check()

    # 镇街审核
    review_warehousing(actors(TOWN), wid, project, "approve", "材料齐全，同意")

    # 市工信 assigns the two 验收专家 on the review page
    city = actors(CITY)
    open_review_page(city, wid, project)
    assignees = city.page.locator("#review-assignees")
    expect(assignees).to_contain_text("待分配")
    for name in EXPERT_NAMES:
        assignees.locator("label", has_text=re.compile(rf"^\s*{name}\s*$")).locator("input").check()
    follow(city.page.locator("#btn-assign"))
    expect(city.page.locator(".alert-success")).to_be_visible()
    city.check()

    # one expert agrees, the other returns it
    first, second = actors(EXPERTS[0]), actors(EXPERTS[1])
    review_warehousing(first, wid, project, "approve", "同意入库")
    review_warehousing(second, wid, project, "return", RETURN_OPINION)

    row = warehousing_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("退回修改")
    follow(row.locator("a.zs-op-detail"))
    expect(page.locator("body")).to_contain_text(RETURN_OPINION)
    ent.check()
    row = warehousing_row(ent, project)
    follow(row.locator("a.zs-op-edit"))
    expect(page.locator("#returned-note")).to_be_visible()
    page.set_input_files("#evidence-screenshot-input", pdf_upload("生产看板截图.pdf"))
    follow(page.locator("#btn-submit"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator(f'#warehousing-list tbody tr[data-warehousing="{wid}"]')
    expect(row.locator(".zs-status")).to_have_text("待审核")
    ent.check()

    # it re-entered at 验收专家审核: 镇街 has nothing to do; both experts agree again; 市工信复审
    town = actors(TOWN)
    town.nav("审核工作台")
    follow(town.page.locator("#subject-warehousing"))
    expect(town.page.locator(f'#review-queue tbody tr[data-id="{wid}"]')).to_have_count(0)
    review_warehousing(second, wid, project, "approve", "已补充，同意")
    review_warehousing(first, wid, project, "approve", "同意入库")
    review_warehousing(city, wid, project, "approve", "同意入库")

    # 已入库 with the proposed subsidy; the review process on 详情
    row = warehousing_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("已入库")
    follow(row.locator("a.zs-op-detail"))
    expect(page.locator("#warehousing-status")).to_have_text("已入库")
    expect(page.locator("#fact-proposed")).to_contain_text("60.0000")
    for text in ("镇街审核", "验收专家审核", "市工信复审", RETURN_OPINION):
        expect(page.locator("body")).to_contain_text(text)
    ent.check()
    city.page.goto(f"/review/warehousing/{wid}")
    expect(city.page.locator("body")).to_contain_text("60.0000")
    city.check()

    check_dashboard(city)

    assert_clean(actors)
