"""The browser walkthrough of manual ch. 04: 上架产品, 项目签约 and 预奖补申请.

The provider lists a product (我的产品 → 新增 → 提交审核; 市工信 approves it in 审核工作台); the enterprise files a
project to 已备案, fills the signing's page 1 with two contracts and hands page 2 (牵引单位信息) to its 行业型服务商,
who opens it from its 待办, adds a need and the product from the catalog dialog (a price above the 最高入库价格
shows the warning as it is typed) and submits; the enterprise 确认提交 → 已签约; then 预奖补申请: both
contracts, the 入库申报表 template, the three PDFs, 提交; 镇街 驳回 (退回重填), the enterprise submits again,
镇街 and 市工信 同意 → 已审核.

Every demo user works in a browser context of their own (test_project_walkthrough's Actor), logged in once for
the module.
"""

import datetime as dt
import io
import re

import docx
import pytest
from playwright.sync_api import expect

from .helpers import has_cjk
from .test_project_walkthrough import (
    CITY,
    ENTERPRISE,
    TOWN,
    assert_no_leaks,
    file_project,
    follow,
    open_workbench_tab,
    pdf_upload,
    unique_name,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("watch_actors")]

PROVIDER = "13800000002"
PROVIDER_NAME = "中山市数智云服务有限公司"
ENTERPRISE_NAME = "中山市示例智能制造有限公司"
MAX_PRICE = "10.5"  # 最高入库价格, 万元
# two contracts, amounts in 万元 with 4 places; the totals are exact sums
CONTRACTS = [
    {"number": "HT-2026-001", "total": "100.1234", "subsidy": "80.1001", "provider": PROVIDER_NAME},
    {"number": "HT-2026-002", "total": "20.5", "subsidy": "20.2002", "provider": "无牵引单位"},
]
TOTAL_AMOUNT = "120.6234"
TOTAL_SUBSIDY = "100.3003"


def assert_clean(actors):
    """No English on any page visited, no 5xx answer."""
    assert_no_leaks(actors)
    assert not actors.server_errors, f"server errors: {actors.server_errors}"


# --- 上架产品 ----------------------------------------------------------------------------------------------
def my_product_row(page, name):
    return page.locator("table tbody tr", has=page.locator("td", has_text=name))


def list_product(actors, name):
    """我的产品 → 新增产品/服务 → 保存 → 提交审核; 市工信 同意 in 审核工作台. Returns (product id, its code)."""
    prov = actors(PROVIDER)
    page = prov.page
    prov.nav("我的产品")
    follow(page.locator("#btn-new-product"))
    expect(page.locator("#product-form")).to_be_visible()
    prov.check()
    page.fill("#name", name)
    page.check('input[name="category"][value="software"]')
    scenarios = page.locator('#scenarios input[name="scenarios"]')
    scenarios.nth(0).check()
    scenarios.nth(1).check()
    page.fill("#max_price", MAX_PRICE)
    page.fill("#price_note", "按年订阅，含部署")
    page.locator('input[name="purchase_mode"]').first.check()
    page.fill("#description", "面向离散制造的生产执行系统")
    follow(page.locator("#btn-save-product"))
    expect(page).to_have_url(re.compile(r"/myproducts/list/"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = my_product_row(page, name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("待提交")
    product_id = int(re.search(r"/myproducts/(\d+)/change", row.locator("a.zs-op-change").get_attribute("href"))[1])
    prov.check()

    # tick the row, 操作 → 提交审核, confirm in the dialog
    row.locator("input.action_check").check()
    page.get_by_role("button", name="操作").click()
    page.locator(".submit_menu_item").click()
    confirm = page.locator("#modal-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.locator(".modal-body")).to_contain_text("提交所选产品")
    # the dialog's own buttons are Chinese too (FAB writes them in English)
    for button in (confirm.locator("#modal-confirm-ok"), confirm.locator('[data-dismiss="modal"]')):
        assert has_cjk(button.inner_text()), button.inner_text()
    prov.check()
    follow(confirm.locator("#modal-confirm-ok"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(my_product_row(page, name)).to_contain_text("待审核")
    prov.check()

    # 市工信: 审核工作台 → 产品上架 → 审核 → 同意
    city = actors(CITY)
    cpage = city.page
    city.nav("审核工作台")
    follow(cpage.locator("#subject-product"))
    queued = cpage.locator(f'#review-queue tbody tr[data-id="{product_id}"]')
    expect(queued).to_contain_text(name)
    expect(queued).to_contain_text(PROVIDER_NAME)
    city.check()
    follow(queued.locator("a.zs-op-review"))
    expect(cpage).to_have_url(re.compile(rf"/review/product/{product_id}$"))
    expect(cpage.locator("#product-fields")).to_contain_text(name)
    expect(cpage.locator("#product-price")).to_contain_text(MAX_PRICE)
    city.check()
    cpage.fill("#opinion", "同意上架")
    follow(cpage.locator("#btn-approve"))
    expect(cpage.locator(".alert-success")).to_be_visible()
    expect(cpage.locator(f'#review-queue tbody tr[data-id="{product_id}"]')).to_have_count(0)
    city.check()

    # 我的产品: 已上架 with its 产品/服务代码
    prov.nav("我的产品")
    row = my_product_row(page, name)
    expect(row).to_contain_text("已上架")
    code = row.locator("td", has_text=re.compile(r"^P\d{11}$")).inner_text().strip()
    assert code == f"P{dt.date.today():%y%m%d}{product_id:05d}", code
    return product_id, code


def test_product_listing(actors):
    name = unique_name("智造MES云平台")
    product_id, code = list_product(actors, name)

    # 上架产品: found by its code, with the listed price; its page
    prov = actors(PROVIDER)
    page = prov.page
    prov.nav("上架产品")
    page.fill('#catalog-search input[name="q"]', code)
    follow(page.locator('#catalog-search button[type="submit"]'))
    row = page.locator(f'#catalog tbody tr[data-id="{product_id}"]')
    expect(page.locator("#catalog tbody tr")).to_have_count(1)
    expect(row).to_contain_text(code)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(PROVIDER_NAME)
    expect(row).to_contain_text("10.5000")
    prov.check()
    follow(row.locator("a", has_text=name))
    expect(page.locator("#product-fields")).to_contain_text(code)
    prov.check()

    # the enterprise sees it in the catalog too
    ent = actors(ENTERPRISE)
    ent.nav("上架产品")
    ent.page.fill('#catalog-search input[name="q"]', name)
    follow(ent.page.locator('#catalog-search button[type="submit"]'))
    expect(ent.page.locator(f'#catalog tbody tr[data-id="{product_id}"]')).to_contain_text(code)
    ent.check()

    assert_clean(actors)


# --- 项目签约 ----------------------------------------------------------------------------------------------
def signing_row(page, project_name):
    return page.locator("#signing-list tbody tr", has=page.locator("td:nth-child(2)", has_text=project_name))


def signing_list_row(ent, project_name):
    open_workbench_tab(ent, "projects", "signing")
    row = signing_row(ent.page, project_name)
    expect(row).to_have_count(1)
    return row


def fill_page_1(ent, project_name):
    """Page 1: the project's dates and level, two contracts (【添加合同】 twice), 保存, the totals, 下一页."""
    page = ent.page
    expect(page.locator("#project_name")).to_have_value(project_name)  # carried from the filing
    expect(page.locator("#summary")).to_have_value("建设MES系统")
    expect(page.locator("#target_level")).to_have_value("3")
    accept = dt.date.today() + dt.timedelta(days=300)
    page.fill("#acceptance_date", accept.isoformat())
    page.locator("#target_level").select_option(label="二级")
    page.locator("#chain_leader").select_option(label="是")
    ent.check()

    # 【添加合同】 twice: each press saves the page and reloads it with one more contract tab
    follow(page.locator("#btn-add-contract"))
    expect(page.locator("#contract-tabs a.zs-contract-tab")).to_have_count(1)
    follow(page.locator("#btn-add-contract"))
    tabs = page.locator("#contract-tabs a.zs-contract-tab")
    expect(tabs).to_have_count(2)
    # what was typed before the presses was kept
    expect(page.locator("#acceptance_date")).to_have_value(accept.isoformat())
    expect(page.locator("#chain_leader")).to_have_value("1")
    ent.check()
    contract_ids = [
        int(x)
        for x in page.locator(".zs-contract-panes .tab-pane").evaluate_all(
            "panes => panes.map(p => p.dataset.contract)"
        )
    ]
    for index, (cid, spec) in enumerate(zip(contract_ids, CONTRACTS)):
        tabs.nth(index).click()
        pane = page.locator(f"#contract-{cid}")
        expect(pane).to_be_visible()
        pane.locator(f"#contract-{cid}-number").fill(spec["number"])
        pane.locator(f"#contract-{cid}-total_amount").fill(spec["total"])
        pane.locator(f"#contract-{cid}-industry_provider").select_option(label=spec["provider"])
        pane.locator(f"#contract-{cid}-file").set_input_files(files=[pdf_upload(f"合同{index + 1}.pdf")])
        pane.locator(f"#contract-{cid}-subsidy_amount").fill(spec["subsidy"])
        expect(pane.locator(".zs-ecosystem")).to_contain_text("下一页")  # filled from page 2's products

    # 保存: the totals are the exact sums of the contracts
    follow(page.locator("#btn-save"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#total-amount")).to_have_text(TOTAL_AMOUNT)
    expect(page.locator("#total-subsidy")).to_have_text(TOTAL_SUBSIDY)
    expect(tabs.nth(0)).to_have_text(CONTRACTS[0]["number"])
    expect(tabs.nth(1)).to_have_text(CONTRACTS[1]["number"])
    for index, cid in enumerate(contract_ids):
        tabs.nth(index).click()
        expect(page.locator(f"#contract-{cid} .zs-file-link")).to_have_text(f"合同{index + 1}.pdf")
    expect(page.locator("#contract-tabs a.text-danger")).to_have_count(0)
    ent.check()

    # 【下一页（自动保存）】
    follow(page.locator("#btn-next-page"))
    expect(page).to_have_url(re.compile(r"/signing/\d+/edit\?page=2"))
    expect(page.locator("#tab-page-2").locator("xpath=..")).to_have_class(re.compile(r"\bactive\b"))
    ent.check()
    return contract_ids


def send_to_provider(ent, signing_id):
    """Page 2: 是, the provider, 【发送至牵引单位】."""
    page = ent.page
    expect(page.locator("#assist-send")).to_be_hidden()
    page.check("#assisted-yes")
    expect(page.locator("#assist-send")).to_be_visible()
    # only the contracts' signed industry service providers may be asked
    options = page.locator("#assist-provider option").all_inner_texts()
    assert options[1:] == [PROVIDER_NAME], options
    page.locator("#assist-provider").select_option(label=PROVIDER_NAME)
    ent.check()
    follow(page.locator("#btn-ask-assist"))
    expect(page).to_have_url(re.compile(rf"/signing/{signing_id}$"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#assist-status")).to_have_text("协助填写中")
    ent.check()


def open_assist_todo(prov, project_name, signing_id):
    """我的工作台 → 待办事项: the request, opened from there."""
    page = prov.page
    prov.nav("我的工作台")
    page.click('a[href="#panel-todo"]')
    # (the link's title, the full text, becomes a tooltip once the page's scripts run: match the shown text)
    todo = page.locator("#panel-todo li a", has_text=project_name)
    expect(todo).to_have_count(1)
    expect(todo.locator("xpath=..")).to_have_class(re.compile(r"\bzs-unread\b"))
    follow(todo)
    expect(page).to_have_url(re.compile(rf"/signing/{signing_id}/assist$"))
    expect(page.locator("#signing-form")).to_be_visible()
    prov.check()


def fill_lead_page(prov, product_id, product_name, code, contract_number):
    """The provider's page: 【新增】 a need, 【添加产品/服务】 from the catalog, the product's fields with a price
    above the 最高入库价格 (the warning follows the typing), 【提交】."""
    page = prov.page
    follow(page.locator("#btn-add-need"))
    need = page.locator("#need-rows tbody tr[data-need]")
    expect(need).to_have_count(1)
    need_id = need.get_attribute("data-need")
    need.locator(f'select[name="need-{need_id}-scenario"]').select_option(index=1)
    need.locator(f'textarea[name="need-{need_id}-description"]').fill("生产过程数据靠人工记录")
    need.locator(f'textarea[name="need-{need_id}-analysis"]').fill("需要实时采集设备数据，打通计划与执行")
    prov.check()

    # 【添加产品/服务】: the dialog, searched by name; the row's radio; 【确定】
    page.click("#btn-add-product")
    dialog = page.locator("#catalog-dialog")
    expect(dialog).to_be_visible()
    prov.check()
    page.fill("#catalog-q", product_name)
    with page.expect_response(re.compile(r"/signing/catalog\.json\?")) as found:
        page.click("#catalog-search")
    assert found.value.status == 200
    results = dialog.locator("#catalog-results tbody tr")
    expect(results).to_have_count(1)
    result = dialog.locator(f'#catalog-results tbody tr[data-product="{product_id}"]')
    expect(result).to_contain_text(code)
    expect(result).to_contain_text(PROVIDER_NAME)
    expect(result).to_contain_text("10.5000")
    prov.check()
    result.locator(f"#pick-{product_id}").check()
    follow(dialog.locator("#btn-pick-product"))
    # the need typed before 确定 was saved with it
    need = page.locator(f'#need-rows tbody tr[data-need="{need_id}"]')
    expect(need.locator(f'textarea[name="need-{need_id}-description"]')).to_have_value("生产过程数据靠人工记录")

    panel = page.locator(f'.zs-product-row[data-product="{product_id}"]')
    expect(panel).to_have_count(1)
    row_id = panel.get_attribute("id").removeprefix("product-")
    expect(panel).to_contain_text(code)
    expect(panel).to_contain_text(product_name)
    expect(panel).to_contain_text(PROVIDER_NAME)
    expect(panel.locator(".zs-max-price")).to_have_text("10.5000")
    prov.check()
    prefix = f"#product-{row_id}-"
    page.locator(prefix + "contract_id").select_option(label=contract_number)
    page.check(f'input[name="product-{row_id}-cloud"][value="public"]')
    page.fill(prefix + "content", "部署MES系统，覆盖三条产线")
    start = dt.date.today() + dt.timedelta(days=10)
    page.fill(prefix + "start_date", start.isoformat())
    page.fill(prefix + "end_date", (start + dt.timedelta(days=180)).isoformat())
    # the warning follows the typed price: the maximum itself is no warning, one ten-thousandth above is
    warning = page.locator(prefix + "warning")
    price = page.locator(prefix + "price")
    expect(warning).to_be_hidden()
    price.press_sequentially("10.5")
    expect(warning).to_be_hidden()
    price.press_sequentially("001")
    expect(price).to_have_value("10.5001")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("10.5000")
    prov.check()
    page.fill(prefix + "over_price_reason", "含定制开发的接口模块")
    page.locator(prefix + "scenario").select_option(index=1)
    page.fill(prefix + "scenario_desc", "生产计划排程与执行跟踪")
    follow(page.locator("#btn-submit"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#assist-status")).to_have_text("待企业确认")
    expect(page.locator("#btn-assist")).to_have_count(0)
    prov.check()


def confirm_signing(ent, project_name, product_id):
    """编辑 → page 2 as the provider filled it → 【确认提交】."""
    page = ent.page
    row = signing_list_row(ent, project_name)
    expect(row.locator(".zs-status")).to_have_text("待签约")
    expect(row.locator(".zs-assist-status")).to_have_text("待企业确认")
    follow(row.locator("a.zs-op-edit"))
    follow(page.locator("#tab-page-2"))
    expect(page.locator("#assist-filled")).to_contain_text(PROVIDER_NAME)
    expect(page.locator("#assisted-yes")).to_be_checked()
    need = page.locator("#need-rows tbody tr[data-need]")
    expect(need).to_have_count(1)
    expect(need.locator("textarea").first).to_have_value("生产过程数据靠人工记录")
    panel = page.locator(f'.zs-product-row[data-product="{product_id}"]')
    row_id = panel.get_attribute("id").removeprefix("product-")
    expect(page.locator(f"#product-{row_id}-price")).to_have_value("10.5001")
    expect(page.locator(f"#product-{row_id}-warning")).to_be_visible()
    expect(page.locator(f"#product-{row_id}-over_price_reason")).to_have_value("含定制开发的接口模块")
    expect(page.locator("#btn-submit")).to_have_text("确认提交")
    ent.check()
    follow(page.locator("#btn-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=signing"))
    expect(page.locator(".alert-success")).to_be_visible()
    row = signing_row(page, project_name)
    expect(row.locator(".zs-status")).to_have_text("已签约")
    expect(row.locator(".zs-assist-status")).to_have_text("已确认")
    expect(row.locator("a.zs-op-edit")).to_have_count(0)
    for link, text in (("detail", "详情"), ("change", "信息变更"), ("pre-subsidy", "预奖补申请")):
        expect(row.locator(f"a.zs-op-{link}")).to_have_text(text)
    ent.check()
    return row


def check_signing_detail(ent, row, product_name):
    page = ent.page
    follow(row.locator("a.zs-op-detail"))
    expect(page.locator("#signing-status")).to_have_text("已签约")
    basic = page.locator("#signing-basic")
    expect(basic.locator('dd[data-field="target_level"]')).to_have_text("二级")
    expect(basic.locator('dd[data-field="chain_leader"]')).to_have_text("是")
    contracts = page.locator("#signing-contracts tbody tr")
    expect(contracts).to_have_count(2)
    first, second = contracts.nth(0), contracts.nth(1)
    expect(first.locator("td").nth(1)).to_have_text(CONTRACTS[0]["number"])
    expect(first.locator("td").nth(2)).to_have_text(CONTRACTS[0]["total"])
    expect(first.locator("td").nth(3)).to_have_text(PROVIDER_NAME)
    expect(first.locator("td").nth(4)).to_have_text(PROVIDER_NAME)  # 产业生态服务商: the product's supplier
    expect(first.locator(".zs-file-link")).to_have_text("合同1.pdf")
    expect(second.locator("td").nth(2)).to_have_text("20.5000")
    expect(second.locator("td").nth(3)).to_have_text("无牵引单位")
    expect(second.locator("td").nth(4)).to_have_text("")
    expect(page.locator("#total-amount")).to_have_text(TOTAL_AMOUNT)
    expect(page.locator("#total-subsidy")).to_have_text(TOTAL_SUBSIDY)
    expect(page.locator("#assisted-value")).to_have_text("是")
    expect(page.locator("#assist-status")).to_have_text("已确认")
    product = page.locator("#signing-products tbody tr")
    expect(product).to_have_count(1)
    expect(product).to_contain_text(product_name)
    expect(product).to_contain_text(CONTRACTS[0]["number"])
    expect(product).to_contain_text("10.5001")
    expect(product.locator(".label-warning")).to_have_text("高于最高入库价格")
    ent.check()


# --- 预奖补申请 --------------------------------------------------------------------------------------------
def open_pre_subsidy(ent, project_name):
    row = signing_list_row(ent, project_name)
    follow(row.locator("a.zs-op-pre-subsidy"))
    expect(ent.page).to_have_url(re.compile(r"/presubsidy/\d+$"))
    expect(ent.page.locator("#project-name")).to_have_text(project_name)
    ent.check()


def download_application_template(ent, project_name):
    page = ent.page
    with page.expect_download() as info:
        page.click("#application-template")
    download = info.value
    assert download.suggested_filename.endswith(".docx"), download.suggested_filename
    with open(download.path(), "rb") as fh:
        document = docx.Document(io.BytesIO(fh.read()))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for table in document.tables for r in table.rows for cell in r.cells)
    assert project_name in text and ENTERPRISE_NAME in text, text[:2000]
    assert CONTRACTS[0]["number"] in text, text[:2000]


def presubsidy_review(reviewer, project_name, button, opinion):
    """审核工作台 → 预奖补申请 → the project's row → 审核 → the opinion and the button."""
    page = reviewer.page
    reviewer.nav("审核工作台")
    follow(page.locator("#subject-pre_subsidy"))
    row = page.locator("#review-queue tbody tr", has_text=project_name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ENTERPRISE_NAME)
    reviewer.check()
    follow(row.locator("a.zs-op-review"))
    expect(page).to_have_url(re.compile(r"/review/pre_subsidy/\d+$"))
    expect(page.locator("#pre-subsidy-project")).to_have_text(project_name)
    expect(page.locator("#pre-subsidy-contracts tbody tr")).to_have_count(2)
    expect(page.locator("#pre-subsidy-total")).to_have_text(TOTAL_AMOUNT)
    expect(page.locator("#pre-subsidy-amount")).to_have_text(TOTAL_SUBSIDY)
    expect(page.locator("#pre-subsidy-files .zs-file-link")).to_have_count(3)
    reviewer.check()
    page.fill("#opinion", opinion)
    follow(page.locator(button))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#review-queue tbody tr", has_text=project_name)).to_have_count(0)
    reviewer.check()


def pre_subsidy_status(ent, project_name):
    return signing_list_row(ent, project_name).locator(".zs-pre-subsidy-status")


def apply_pre_subsidy(actors, project_name, contract_ids):
    ent, town, city = actors(ENTERPRISE), actors(TOWN), actors(CITY)
    page = ent.page
    open_pre_subsidy(ent, project_name)
    expect(page.locator("#chosen-total")).to_have_text("0.0000")
    # tick both contracts (each in its tab): the chosen totals follow, exact
    for cid in contract_ids:
        page.click(f"#tab-contract-{cid}")
        expect(page.locator(f"#contract-{cid}")).to_be_visible()
        page.check(f"#contract-check-{cid}")
    expect(page.locator("#chosen-total")).to_have_text(TOTAL_AMOUNT)
    expect(page.locator("#chosen-subsidy")).to_have_text(TOTAL_SUBSIDY)
    expect(page.locator(f"#contract-{contract_ids[-1]} .zs-contract-number")).to_have_text(CONTRACTS[-1]["number"])
    ent.check()
    download_application_template(ent, project_name)
    expect(page.locator("#commitment-template")).to_be_visible()
    expect(page.locator("#credit-template")).to_have_count(0)
    for key, name in (("application", "入库申报表.pdf"), ("commitment", "承诺书.pdf"), ("credit", "信用报告.pdf")):
        page.set_input_files(f"#{key}_file", files=[pdf_upload(name)])
    follow(page.locator("#btn-submit"))
    expect(page).to_have_url(re.compile(r"/workbench/\?.*tab=signing"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(pre_subsidy_status(ent, project_name)).to_have_text("审核中（镇街审核）")

    # 镇街 驳回 → 退回重填; the enterprise sees the opinion, replaces the credit report, submits again
    presubsidy_review(town, project_name, "#btn-return", "信用报告已过期，请重新上传")
    expect(pre_subsidy_status(ent, project_name)).to_have_text("退回重填")
    open_pre_subsidy(ent, project_name)
    expect(page.locator("#presubsidy-status")).to_have_text("退回重填")
    expect(page.locator("#returned-note")).to_be_visible()
    expect(page.locator("#audit-timeline")).to_contain_text("信用报告已过期，请重新上传")
    for cid in contract_ids:
        page.click(f"#tab-contract-{cid}")
        expect(page.locator(f"#contract-check-{cid}")).to_be_checked()
    expect(page.locator("#file-row-credit .zs-file-link")).to_have_text("信用报告.pdf")
    page.set_input_files("#credit_file", files=[pdf_upload("信用报告（新）.pdf")])
    ent.check()
    follow(page.locator("#btn-submit"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(pre_subsidy_status(ent, project_name)).to_have_text("审核中（镇街审核）")

    # 镇街 and 市工信 同意 → 已审核; the application is read-only
    presubsidy_review(town, project_name, "#btn-approve", "同意")
    expect(pre_subsidy_status(ent, project_name)).to_have_text(re.compile(r"审核中（市工信"))
    presubsidy_review(city, project_name, "#btn-approve", "同意预奖补")
    expect(pre_subsidy_status(ent, project_name)).to_have_text("已审核")
    open_pre_subsidy(ent, project_name)
    expect(page.locator("#presubsidy-status")).to_have_text("已审核")
    expect(page.locator("#btn-submit")).to_have_count(0)
    expect(page.locator("#file-row-credit .zs-file-link")).to_have_text("信用报告（新）.pdf")
    ent.check()


# --- the test ---------------------------------------------------------------------------------------------
def test_signing_with_assisted_filling_and_pre_subsidy(actors):
    product_name = unique_name("车间数采云")
    product_id, code = list_product(actors, product_name)
    project = unique_name("签约改造项目")
    file_project(actors, project, "self")
    ent, prov = actors(ENTERPRISE), actors(PROVIDER)
    page = ent.page

    # 项目签约: 待签约 → 编辑 → page 1
    row = signing_list_row(ent, project)
    expect(row.locator(".zs-status")).to_have_text("待签约")
    expect(row.locator(".zs-assist-status")).to_have_text("未选择协助")
    expect(row.locator("a.zs-op-pre-subsidy")).to_have_count(0)
    signing_id = int(row.get_attribute("data-signing"))
    follow(row.locator("a.zs-op-edit"))
    expect(page).to_have_url(re.compile(rf"/signing/{signing_id}/edit"))
    ent.check()
    contract_ids = fill_page_1(ent, project)

    # page 2: sent to the provider → 协助填写中, the page locked for the enterprise
    send_to_provider(ent, signing_id)
    row = signing_list_row(ent, project)
    expect(row.locator(".zs-assist-status")).to_have_text("协助填写中")
    follow(row.locator("a.zs-op-edit"))
    follow(page.locator("#tab-page-2"))
    expect(page.locator("#assist-locked")).to_contain_text(PROVIDER_NAME)
    expect(page.locator("#btn-add-need")).to_have_count(0)
    ent.check()

    # the provider: its 待办 → the page; a need and the product; 【提交】
    open_assist_todo(prov, project, signing_id)
    fill_lead_page(prov, product_id, product_name, code, CONTRACTS[0]["number"])

    # the enterprise: 待企业确认 → 确认提交 → 已签约; the details
    row = confirm_signing(ent, project, product_id)
    check_signing_detail(ent, row, product_name)

    # 预奖补申请 through 镇街 (驳回, then 同意) and 市工信
    apply_pre_subsidy(actors, project, contract_ids)

    assert_clean(actors)
