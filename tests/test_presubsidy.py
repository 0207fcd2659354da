"""预奖补申请 (manual 04) through the HTTP layer: the page after 已签约, 保存 / 提交 with the contracts and the
three files, the chain 镇街 → 市工信 (退回重填, resubmission, 已审核, 审核不通过), the money, the .docx
templates, and the attacker's side (another enterprise's ids, forged uploads, no CSRF token, bad ids)."""

import io
from decimal import Decimal

import lxml.html
import pytest
from conftest import csrf_from
from helpers import error_of
from helpers_review import EXE_BYTES, PDF_BYTES, act_http, client_for, make_town
from helpers_signing import listed_product, make_signing

from zsdx.extensions import db
from zsdx.models import PreSubsidy, ReviewStatus, StoredFile


class World:
    """An enterprise of a town of its own with a signed signing (two contracts), its 镇街 and a 市工信."""

    def __init__(self, app, factory, signed=True, contracts=2):
        self.app = app
        self.town = make_town(app)
        org = factory.org("enterprise", self.town["code"], name="中山市预奖补测试有限公司")
        self.ent = factory.user("企业", org=org)
        self.product = listed_product(app, factory)
        self.ids = make_signing(app, self.ent, contracts=contracts, filled=True, signed=signed, product=self.product)
        self.pk = self.ids["signing"]
        self.contracts = self.ids["contracts"]
        self.client = client_for(app, self.ent)
        self.factory = factory

    @property
    def url(self):
        return f"/presubsidy/{self.pk}"

    def record(self):
        """(status, current_step, chosen contract ids, {file: id}) of the application, or None."""
        with self.app.app_context():
            r = db.session.query(PreSubsidy).filter_by(signing_id=self.pk).one_or_none()
            if r is None:
                return None
            files = {k: getattr(r, f"{k}_file_id") for k in ("application", "commitment", "credit")}
            return r.status, r.current_step, [c.id for c in r.contracts], files

    def record_id(self):
        with self.app.app_context():
            return db.session.query(PreSubsidy.id).filter_by(signing_id=self.pk).scalar()

    def post(self, action="save", contracts=(), files=None, token=True, client=None, url=None):
        client = client or self.client
        url = url or self.url
        data = {"action": action, "contract_ids": [str(c) for c in contracts]}
        if token:
            data["csrf_token"] = csrf_from(client.get("/workbench/").get_data(as_text=True))
        for key, (content, name) in (files or {}).items():
            data[f"{key}_file"] = (io.BytesIO(content), name)
        return client.post(url, data=data, content_type="multipart/form-data")

    def submit_complete(self, contracts=None):
        resp = self.post(
            "submit",
            contracts=self.contracts if contracts is None else contracts,
            files={
                "application": (PDF_BYTES, "入库申报表.pdf"),
                "commitment": (PDF_BYTES, "承诺书.pdf"),
                "credit": (PDF_BYTES, "信用报告.pdf"),
            },
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
        return resp


@pytest.fixture()
def world(app, factory):
    return World(app, factory)


def doc(resp):
    return lxml.html.fromstring(resp.get_data(as_text=True))


def text_of(resp, element_id):
    nodes = doc(resp).xpath(f'//*[@id="{element_id}"]')
    return nodes[0].text_content().strip() if nodes else None


def error_keys(resp):
    return [el.get("data-field") for el in doc(resp).xpath('//*[@id="error-list"]/span[@data-field]')]


def checked(resp):
    return sorted(int(x) for x in doc(resp).xpath('//input[@name="contract_ids"][@checked]/@value'))


def signing_tab(client):
    """The workbench's 项目签约 tab, or None while that tab is not served yet (another chapter's work)."""
    resp = client.get("/workbench/?group=projects&tab=signing")
    html = resp.get_data(as_text=True)
    return html if resp.status_code == 200 and 'id="signing-list"' in html else None


def tab_status(client, pk):
    html = signing_tab(client)
    if html is None:
        return None
    cells = lxml.html.fromstring(html).xpath(
        f'//tr[@data-signing="{pk}"]/td[contains(@class, "zs-pre-subsidy-status")]'
    )
    return cells[0].text_content().strip() if cells else None


# --- the page ------------------------------------------------------------------------------------------
def test_a_pending_signing_has_no_application(app, factory):
    w = World(app, factory, signed=False, contracts=1)
    resp = w.client.get(w.url)
    assert resp.status_code == 302 and "tab=signing" in resp.headers["Location"]
    resp = w.post("save", contracts=w.contracts)
    assert resp.status_code == 302 and "tab=signing" in resp.headers["Location"]
    assert w.record() is None
    html = signing_tab(w.client)
    if html is not None:
        assert f"/presubsidy/{w.pk}" not in html  # 【预奖补申请】 only after 已签约


def test_the_page_of_a_signed_signing(world):
    w = world
    html = signing_tab(w.client)
    if html is not None:
        assert f"/presubsidy/{w.pk}" in html
    resp = w.client.get(w.url)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "预奖补申请" in page and "项目基本信息" in page and "项目合同信息" in page
    assert text_of(resp, "project-name")
    tabs = doc(resp).xpath('//ul[@id="contract-tabs"]/li/a')
    assert [t.text_content().strip() for t in tabs] == ["合同/协议编号1", "合同/协议编号2"]
    first = doc(resp).xpath(f'//div[@id="contract-{w.contracts[0]}"]')[0].text_content()
    assert f"HT-{w.pk}-1" in first and "100.1234" in first and "50.5000" in first and "无牵引单位" in first
    assert "测试产品" in first and w.product["code"] in first and "10.5000" in first  # the contract's product
    assert f"/signing/contract/{w.contracts[0]}/file" in page and "预览" in first
    assert checked(resp) == []
    assert "注意：可选择一份或多份合同申请奖补。" in page
    rows = doc(resp).xpath('//table[@id="file-table"]/tbody/tr')
    assert [r.get("data-field") for r in rows] == ["application", "commitment", "credit"]
    names = [r.xpath("./td")[0].text_content().strip() for r in rows]
    assert names == ["* 入库申报表", "* 承诺书", "* 信用报告（信用中国或信用广东）"]
    assert all("需上传盖章版pdf" in r.text_content() for r in rows)
    templates = [len(r.xpath('.//a[contains(@class, "zs-template-link")]')) for r in rows]
    assert templates == [1, 1, 0]
    assert f"/presubsidy/template/application.docx?signing={w.pk}" in page
    assert 'id="btn-save"' in page and 'id="btn-submit"' in page
    # opening the page writes nothing (the list's 项目预奖补状态 stays empty until the first 保存/提交)
    assert w.record() is None
    assert text_of(resp, "presubsidy-status") == "待提交"


def test_save_keeps_the_chosen_contracts_and_files(world):
    w = world
    resp = w.post("save", contracts=[w.contracts[0]], files={"application": (PDF_BYTES, "入库申报表.pdf")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(w.url)
    status, _step, chosen, files = w.record()
    assert status == ReviewStatus.DRAFT and chosen == [w.contracts[0]]
    assert files["application"] and not files["commitment"] and not files["credit"]
    page = w.client.get(w.url)
    assert checked(page) == [w.contracts[0]]
    assert "入库申报表.pdf" in page.get_data(as_text=True)
    download = w.client.get(f"/presubsidy/{w.record_id()}/file/application")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert w.client.get(f"/presubsidy/{w.record_id()}/file/credit").status_code == 404  # not uploaded
    assert w.client.get(f"/presubsidy/{w.record_id()}/file/other").status_code == 404
    # a later save with another choice replaces it and keeps the file
    assert w.post("save", contracts=[w.contracts[1]]).status_code == 302
    assert w.record()[2] == [w.contracts[1]] and w.record()[3]["application"] == files["application"]


def test_submit_with_items_missing_names_each_and_keeps_what_was_saved(world):
    w = world
    resp = w.post("submit", contracts=[w.contracts[1]], files={"commitment": (PDF_BYTES, "承诺书.pdf")})
    assert resp.status_code == 200
    assert error_keys(resp) == ["application", "credit"]
    assert "入库申报表" in error_of(resp, "application") and "信用报告" in error_of(resp, "credit")
    assert error_of(resp, "commitment") == "" and error_of(resp, "contracts") == ""
    assert "提交失败" in resp.get_data(as_text=True)
    status, _step, chosen, files = w.record()
    assert status == ReviewStatus.DRAFT and chosen == [w.contracts[1]] and files["commitment"]
    assert checked(resp) == [w.contracts[1]]
    # nothing chosen: the contracts are named too
    resp = w.post("submit", contracts=[])
    assert error_keys(resp) == ["contracts", "application", "credit"]
    assert "合同" in error_of(resp, "contracts")
    assert w.record()[2] == [] and w.record()[3]["commitment"] == files["commitment"]


def test_a_refused_first_submit_keeps_the_valid_parts_and_names_the_rest(world):
    w = world
    resp = w.post(
        "submit",
        contracts=[w.contracts[0]],
        files={"application": (PDF_BYTES, "入库申报表.pdf"), "credit": (EXE_BYTES, "信用报告.pdf")},
    )
    assert resp.status_code == 200
    assert set(error_keys(resp)) == {"commitment", "credit"}
    assert "文件格式不符合要求" in error_of(resp, "credit") and "承诺书" in error_of(resp, "commitment")
    status, _step, chosen, files = w.record()
    assert status == ReviewStatus.DRAFT and chosen == [w.contracts[0]]
    assert files["application"] and files["commitment"] is None and files["credit"] is None


def test_the_totals_of_the_chosen_contracts_are_exact(app, world):
    from zsdx import presubsidy

    w = world
    resp = w.client.get(w.url)
    assert text_of(resp, "chosen-total") == "0.0000" and text_of(resp, "chosen-subsidy") == "0.0000"
    assert w.post("save", contracts=w.contracts).status_code == 302
    resp = w.client.get(w.url)
    assert text_of(resp, "chosen-total") == "201.2468"
    assert text_of(resp, "chosen-subsidy") == "102.0000"
    boxes = doc(resp).xpath('//input[@name="contract_ids"]')
    assert [(b.get("data-total"), b.get("data-subsidy")) for b in boxes] == [
        ("100.1234", "50.5000"),
        ("101.1234", "51.5000"),
    ]
    with app.app_context():
        record = db.session.query(PreSubsidy).filter_by(signing_id=w.pk).one()
        assert presubsidy.amount(record) == Decimal("102.0000")
        assert presubsidy.contracts_total(record) == Decimal("201.2468")
        assert isinstance(presubsidy.amount(record), Decimal)
    assert w.post("save", contracts=[w.contracts[1]]).status_code == 302
    resp = w.client.get(w.url)
    assert text_of(resp, "chosen-total") == "101.1234" and text_of(resp, "chosen-subsidy") == "51.5000"


# --- the chain -------------------------------------------------------------------------------------------
def test_return_resubmit_and_approve(app, world):
    w = world
    town = client_for(app, w.factory.user("镇街", town_code=w.town["code"]))
    other_town = client_for(app, w.factory.user("镇街", town_code=make_town(app)["code"]))
    city = client_for(app, w.factory.user("市工信"))
    w.submit_complete(contracts=[w.contracts[0]])
    status, step, chosen, files = w.record()
    assert (status, step, chosen) == (ReviewStatus.REVIEWING, "town", [w.contracts[0]])
    rid = w.record_id()
    assert tab_status(w.client, w.pk) in (None, "审核中（镇街审核）")
    assert text_of(w.client.get(w.url), "presubsidy-status") == "审核中（镇街审核）"

    # the enterprise sees it read-only with its timeline; a stale POST changes nothing
    resp = w.client.get(w.url)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="btn-submit"' not in page and 'name="contract_ids"' not in page
    assert 'id="audit-timeline"' in page
    assert w.post("save", contracts=w.contracts).status_code == 302
    assert w.record()[2] == [w.contracts[0]]

    # the reviewers: the town's 镇街 (not another town's) sees the application, its contracts and files
    assert other_town.get(f"/review/pre_subsidy/{rid}").status_code == 404
    resp = town.get(f"/review/pre_subsidy/{rid}")
    assert resp.status_code == 200
    assert text_of(resp, "pre-subsidy-enterprise") == "中山市预奖补测试有限公司"
    assert text_of(resp, "pre-subsidy-total") == "100.1234" and text_of(resp, "pre-subsidy-amount") == "50.5000"
    assert f"/signing/contract/{w.contracts[0]}/file" in resp.get_data(as_text=True)
    for name in ("application", "commitment", "credit"):
        got = town.get(f"/review/pre_subsidy/{rid}/file/{name}/0")
        assert got.status_code == 200 and got.data == PDF_BYTES
    assert other_town.get(f"/review/pre_subsidy/{rid}/file/application/0").status_code == 404

    assert act_http(town, rid, "return", "请补充合同", subject="pre_subsidy").status_code == 302
    assert w.record()[:2] == (ReviewStatus.RETURNED, None)
    assert tab_status(w.client, w.pk) in (None, "退回重填")
    resp = w.client.get(w.url)
    assert text_of(resp, "presubsidy-status") == "退回重填" and 'id="returned-note"' in resp.get_data(as_text=True)
    assert "请补充合同" in text_of(resp, "audit-timeline")  # why it came back

    # edit and resubmit: both contracts now
    assert w.post("submit", contracts=w.contracts).status_code == 302
    assert w.record()[:3] == (ReviewStatus.REVIEWING, "town", w.contracts)
    assert act_http(town, rid, "approve", "同意", subject="pre_subsidy").status_code == 302
    assert w.record()[:2] == (ReviewStatus.REVIEWING, "city")
    assert act_http(city, rid, "approve", "同意", subject="pre_subsidy").status_code == 302
    assert w.record()[:2] == (ReviewStatus.DONE, None)
    assert tab_status(w.client, w.pk) in (None, "已审核")
    resp = w.client.get(w.url)
    assert text_of(resp, "presubsidy-status") == "已审核" and 'id="btn-submit"' not in resp.get_data(as_text=True)
    assert text_of(resp, "chosen-subsidy") == "102.0000"


def test_rejected_by_the_city_is_final(app, factory):
    w = World(app, factory)
    town = client_for(app, factory.user("镇街", town_code=w.town["code"]))
    city = client_for(app, factory.user("市工信"))
    w.submit_complete()
    rid = w.record_id()
    assert act_http(town, rid, "approve", "同意", subject="pre_subsidy").status_code == 302
    assert act_http(city, rid, "reject", "不符合条件", subject="pre_subsidy").status_code == 302
    assert w.record()[:2] == (ReviewStatus.REJECTED, None)
    assert tab_status(w.client, w.pk) in (None, "审核不通过")
    resp = w.client.get(w.url)
    assert text_of(resp, "presubsidy-status") == "审核不通过"
    assert 'id="btn-save"' not in resp.get_data(as_text=True)
    before = w.record()
    for action in ("save", "submit"):
        resp = w.post(action, contracts=[w.contracts[0]], files={"credit": (PDF_BYTES, "新.pdf")})
        assert resp.status_code == 302
    assert w.record() == before


# --- the attacker's side ---------------------------------------------------------------------------------
def test_another_enterprise_gets_404_on_every_route(app, world, factory):
    w = world
    w.submit_complete()
    rid = w.record_id()
    before = w.record()
    other = World(app, factory)
    for url in (w.url, f"/presubsidy/{rid}/file/application", f"/presubsidy/{rid}/file/credit"):
        assert other.client.get(url).status_code == 404, url
    for action in ("save", "submit"):
        assert other.post(action, contracts=other.contracts, url=w.url).status_code == 404
    assert w.record() == before
    # its own templates only: another enterprise's signing id gives a blank template
    resp = other.client.get(f"/presubsidy/template/application.docx?signing={w.pk}")
    assert resp.status_code == 200 and "中山市预奖补测试有限公司" not in docx_text(resp)
    # a 镇街 or 市工信 has no use of the enterprise's page
    city = client_for(app, factory.user("市工信"))
    assert city.get(w.url).status_code in (302, 403, 404)


def test_another_enterprises_contract_is_refused(app, world, factory):
    w = world
    other = World(app, factory)
    assert w.post("save", contracts=[w.contracts[0]]).status_code == 302
    for ids in ([other.contracts[0]], [w.contracts[1], other.contracts[0]]):
        resp = w.post("save", contracts=ids)
        assert resp.status_code == 200
        assert error_of(resp, "contracts") == "请在本项目的合同中选择"
        assert w.record()[2] == [w.contracts[0]]  # nothing attached, the saved choice stays
    resp = w.post("submit", contracts=[other.contracts[0]])
    assert resp.status_code == 200 and "contracts" in error_keys(resp)
    assert w.record()[0] == ReviewStatus.DRAFT and w.record()[2] == [w.contracts[0]]
    assert other.record() is None


def test_a_post_without_csrf_token_is_refused(world):
    w = world
    resp = w.post("save", contracts=w.contracts, files={"application": (PDF_BYTES, "a.pdf")}, token=False)
    assert resp.status_code == 400
    assert w.record() is None  # not even the draft
    assert w.post("save", contracts=[w.contracts[0]]).status_code == 302
    before = w.record()
    assert w.post("submit", contracts=w.contracts, token=False).status_code == 400
    assert w.record() == before


def test_a_forged_upload_is_refused_beside_its_file(app, world):
    w = world
    with app.app_context():
        stored_before = db.session.query(StoredFile).filter_by(uploaded_by_id=w.ent["id"]).count()
    resp = w.post(
        "save",
        contracts=[w.contracts[0]],
        files={"application": (EXE_BYTES, "入库申报表.pdf"), "commitment": (PDF_BYTES, "承诺书.pdf")},
    )
    assert resp.status_code == 200
    assert "文件格式不符合要求" in error_of(resp, "application")
    assert error_of(resp, "commitment") == ""
    _status, _step, chosen, files = w.record()
    assert files["application"] is None and files["commitment"] and chosen == [w.contracts[0]]
    with app.app_context():
        assert db.session.query(StoredFile).filter_by(uploaded_by_id=w.ent["id"]).count() == stored_before + 1


@pytest.mark.parametrize("bad", ["abc", "99999999999999999999", "1\x00", "-1", "", " 1", "1.0", "١"])
def test_malformed_contract_ids_are_refused_without_error(world, bad):
    w = world
    resp = w.post("save", contracts=[bad])
    assert resp.status_code == 200
    assert error_of(resp, "contracts") == "请在本项目的合同中选择"
    assert w.record()[2] == []
    resp = w.post("submit", contracts=[w.contracts[0], bad])
    assert resp.status_code == 200 and w.record()[0] == ReviewStatus.DRAFT


# --- the .docx templates ---------------------------------------------------------------------------------
def docx_text(resp):
    from docx import Document

    document = Document(io.BytesIO(resp.data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_the_templates_open_and_are_prefilled_for_the_own_signing(app, world):
    w = world
    assert w.post("save", contracts=[w.contracts[1]]).status_code == 302
    resp = w.client.get(f"/presubsidy/template/application.docx?signing={w.pk}")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    text = docx_text(resp)
    for heading in ("入库申报表", "企业名称", "统一社会信用代码", "项目名称", "合同/协议编号", "合同总金额（万元）"):
        assert heading in text, heading
    for heading in ("纳入资金奖补项目金额（万元）", "联系人", "联系电话", "企业盖章", "日期"):
        assert heading in text, heading
    assert "中山市预奖补测试有限公司" in text and f"HT-{w.pk}-2" in text and "51.5000" in text
    assert f"HT-{w.pk}-1" not in text  # the chosen contract only
    blank = docx_text(w.client.get("/presubsidy/template/application.docx"))
    assert "入库申报表" in blank and "中山市预奖补测试有限公司" not in blank
    for query in ("?signing=abc", "?signing=99999999999999999999", "?signing=0"):
        assert w.client.get("/presubsidy/template/application.docx" + query).status_code == 200

    resp = w.client.get(f"/presubsidy/template/commitment.docx?signing={w.pk}")
    assert resp.status_code == 200
    text = docx_text(resp)
    for heading in ("承诺书", "真实", "企业（盖章）", "法定代表人（签字）", "日期"):
        assert heading in text, heading
    assert "中山市预奖补测试有限公司" in text
    assert "中山市预奖补测试有限公司" not in docx_text(w.client.get("/presubsidy/template/commitment.docx"))
