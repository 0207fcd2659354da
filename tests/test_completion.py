"""项目实施-改造完成 through HTTP (manual 08): 数字化改造成效 (by the enterprise or its 行业型服务商), 服务商评价, 佐证材料
with structured invoices (lines, shared payment vouchers, exact totals on the page and in the database),
【预览】 → 【提交】 (→ 项目入库), every refusal beside its field, 信息变更 with revisions, the provider averages on the
catalog, and the attacker's side."""

import datetime as dt
import io
from decimal import Decimal

import lxml.html
import pytest
from conftest import TEST_DATABASE_URL, csrf_from
from helpers_completion import TODAY, fill_completion, open_completion
from helpers_forms import form_values, get_page, post_as_shown, problem_list
from helpers_implementation import make_implementation
from helpers_review import EXE_BYTES, PDF_BYTES, PNG_BYTES, client_for, make_town

from zsdx.extensions import db
from zsdx.models import (
    AssistRequest,
    Completion,
    CompletionIndicator,
    Contract,
    Invoice,
    InvoiceLine,
    Organisation,
    PaymentVoucher,
    ProviderRating,
    Revision,
    StoredFile,
    Warehousing,
)


def _post(client, url, action, drop=(), **fields):
    return post_as_shown(client, url, action, "completion-form", drop=drop, **fields)


def _submit(client, pk):
    html, doc = get_page(client, f"/completion/{pk}/preview")
    return client.post(f"/completion/{pk}/submit", data={"csrf_token": csrf_from(html)})


def _error(doc, anchor):
    el = doc.xpath(f"//*[@id='{anchor}-error']")
    return el[0].text_content().strip() if el else ""


def _state(app, pk):
    with app.app_context():
        c = db.session.get(Completion, pk)
        return {
            "status": c.status,
            "assisted": c.assisted,
            "files": {k: getattr(c, f"{k}_file_id") for k in ("quotation", "invoice", "payment", "other")},
            "results": [(r.id, r.dimension, r.ticked, r.before, r.after, r.evidence_file_id) for r in c.results],
            "ratings": [
                (r.id, r.provider_id, r.product_stars, r.overall_stars, r.attitude_stars, r.after_sales_stars)
                for r in c.ratings
            ],
            "invoices": [
                {
                    "id": i.id,
                    "code": i.code,
                    "number": i.number,
                    "issued_on": i.issued_on,
                    "seller": i.seller,
                    "lines": [(x.id, x.name, x.amount, x.tax, x.total) for x in i.lines],
                    "vouchers": [(v.id, v.paid_on, v.amount, v.file_id) for v in i.vouchers],
                }
                for i in c.invoices
            ],
        }


@pytest.fixture()
def ent(factory):
    return factory.enterprise_user()


# --- the whole record, as the manual walks it ---------------------------------------------------------------
def test_two_invoices_three_lines_one_shared_voucher_exact_totals_and_submission(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    c = client_for(app, ent)
    html, doc = get_page(c, "/workbench/?group=projects&tab=completed")
    row = doc.xpath(f"//tr[@data-completion='{pk}']")[0].text_content()
    assert "待提交" in row and "未选择协助" in row and "详情" in row and "编辑" in row
    # page 1: 否, the levels from 事前诊断 / 事后评估, innovation filled, quality unticked
    edit = f"/completion/{pk}/edit"
    html, doc = get_page(c, edit)
    assert doc.get_element_by_id("level_before").text_content().strip() == "二级"
    assert doc.get_element_by_id("level_after").text_content().strip() == "三级"
    assert "注意：以下维度指标至少选择一项填写和上传佐证材料。不涉及的维度指标可点击取消勾选。" in html
    results = {r[1]: r for r in _state(app, pk)["results"]}
    assert set(results) == {"innovation", "quality"} and results["innovation"][3] == "innovation改造前数据"
    inn, qua = results["innovation"][0], results["quality"][0]
    resp = _post(
        c,
        edit + "?page=1",
        "next",
        drop=[f"result-{qua}-ticked"],
        assisted="0",
        **{
            f"result-{inn}-after": "数控化率 85%",
            f"result-{inn}-evidence": (io.BytesIO(PDF_BYTES), "创新维度佐证.pdf"),
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("page=2")
    state = _state(app, pk)
    assert state["assisted"] is False
    assert [(r[1], r[2], r[4], bool(r[5])) for r in state["results"]] == [
        ("innovation", True, "数控化率 85%", True),
        ("quality", False, None, False),
    ]
    # page 2: a rating row per provider of the contracts, created when the page opens; stars and texts
    html, doc = get_page(c, edit + "?page=2")
    ratings = _state(app, pk)["ratings"]
    assert [r[1] for r in ratings] == [ids["provider_org"]]
    rid = ratings[0][0]
    stars = {"product": "5", "overall": "4", "attitude": "4", "after_sales": "3"}
    fields = {f"rating-{rid}-{k}_stars": v for k, v in stars.items()}
    fields.update({f"rating-{rid}-{k}_text": f"{k}评价内容" for k in stars})
    resp = _post(c, edit + "?page=2", "next", **fields)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("page=3")
    assert _state(app, pk)["ratings"][0][2:] == (5, 4, 4, 3)
    # page 3: the three required files, 【添加发票】 twice, a second line on the first invoice
    page3 = edit + "?page=3"
    files = {
        "quotation_file": (io.BytesIO(PDF_BYTES), "报价单.pdf"),
        "invoice_file": (io.BytesIO(PDF_BYTES), "发票.pdf"),
        "payment_file": (io.BytesIO(PDF_BYTES), "付款凭证.pdf"),
    }
    assert _post(c, page3, "save", **files).status_code == 302
    assert _post(c, page3, "add_invoice").status_code == 302
    assert _post(c, page3, "add_invoice").status_code == 302
    first, second = _state(app, pk)["invoices"]
    assert len(first["lines"]) == 1 and len(first["vouchers"]) == 1  # an invoice comes with a line and a voucher
    assert _post(c, page3, f"add_line:{first['id']}").status_code == 302
    first, second = _state(app, pk)["invoices"]
    (l1, *_), (l2, *_) = first["lines"]
    (l3, *_), v1, v2 = second["lines"][0], first["vouchers"][0][0], second["vouchers"][0][0]
    issued = (TODAY - dt.timedelta(days=3)).isoformat()
    typed = {
        f"invoice-{first['id']}-code": "044001900111",
        f"invoice-{first['id']}-number": "00312001",
        f"invoice-{first['id']}-issued_on": issued,
        f"invoice-{first['id']}-seller": "中山市数字科技有限公司",
        f"line-{l1}-name": "服务器",
        f"line-{l1}-amount": "500.10",
        f"line-{l1}-tax": "65.01",
        f"line-{l2}-name": "工业软件",
        f"line-{l2}-amount": "1000.05",
        f"line-{l2}-tax": "60",
        f"invoice-{second['id']}-number": "00312002",
        f"invoice-{second['id']}-issued_on": issued,
        f"invoice-{second['id']}-seller": "中山市数字科技有限公司",
        f"line-{l3}-name": "实施服务",
        f"line-{l3}-amount": "0.1",
        f"line-{l3}-tax": "0.2",
    }
    # the same bank payment voucher (one transfer) under both invoices, as the manual asks
    for v in (v1, v2):
        typed[f"voucher-{v}-paid_on"] = TODAY.isoformat()
        typed[f"voucher-{v}-amount"] = "1625.46"
        typed[f"voucher-{v}-file"] = (io.BytesIO(PDF_BYTES), "银行付款凭证.pdf")
    assert _post(c, page3, "save", **typed).status_code == 302
    # the totals: exact in the database and on the page (0.1 + 0.2 is 0.30, not 0.30000000000000004)
    first, second = _state(app, pk)["invoices"]
    assert [x[2:] for x in first["lines"] + second["lines"]] == [
        (Decimal("500.10"), Decimal("65.01"), Decimal("565.11")),
        (Decimal("1000.05"), Decimal("60.00"), Decimal("1060.05")),
        (Decimal("0.10"), Decimal("0.20"), Decimal("0.30")),
    ]
    html, doc = get_page(c, page3)
    assert doc.get_element_by_id("total-amount").text == "1500.25"
    assert doc.get_element_by_id("total-tax").text == "125.21"
    assert doc.get_element_by_id("total-sum").text == "1625.46"
    labels = [x.text_content() for x in doc.xpath("//div[@id='invoice-totals']//label")]
    assert labels == ["发票总金额（元）", "发票总税额（元）", "总价税（元）"]
    assert doc.get_element_by_id(f"line-{l3}-total").get("value") == "0.30"
    tabs = [a.text_content() for a in doc.xpath("//ul[@id='invoice-tabs']//a")]
    assert tabs == ["发票00312001", "发票00312002"]
    with app.app_context():
        vouchers = db.session.query(PaymentVoucher).filter(PaymentVoucher.id.in_([v1, v2])).all()
        assert len({v.file.sha256 for v in vouchers}) == 1 and all(
            v.file.original_name == "银行付款凭证.pdf" for v in vouchers
        )
        sums = (
            db.session.query(
                db.func.sum(InvoiceLine.amount), db.func.sum(InvoiceLine.tax), db.func.sum(InvoiceLine.total)
            )
            .join(Invoice)
            .filter(Invoice.completion_id == pk)
            .one()
        )
        assert tuple(Decimal(str(s)).quantize(Decimal("0.01")) for s in sums) == (
            Decimal("1500.25"),
            Decimal("125.21"),
            Decimal("1625.46"),
        )
    # 【预览】 saves and shows the whole record read-only; 【提交】 there
    resp = _post(c, page3, "preview")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/completion/{pk}/preview")
    html, doc = get_page(c, f"/completion/{pk}/preview")
    assert doc.get_element_by_id("total-sum").text == "1625.46"
    assert "数控化率 85%" in html and "00312002" in html and "★★★★★" in html and "报价单.pdf" in html
    assert not doc.xpath("//form[@id='completion-form']")  # read-only
    resp = _submit(c, pk)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    assert _state(app, pk)["status"] == "submitted"
    with app.app_context():
        assert db.session.query(Warehousing).filter_by(project_id=ids["project"]).count() == 1
        assert db.session.get(Completion, pk).submitted_at is not None
    # once: a second 提交 changes nothing and opens no second 项目入库
    resp = _submit_raw(c, pk)
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.query(Warehousing).filter_by(project_id=ids["project"]).count() == 1
    html, doc = get_page(c, "/workbench/?group=projects&tab=completed")
    row = doc.xpath(f"//tr[@data-completion='{pk}']")[0].text_content()
    assert "已提交" in row and "信息变更" in row and "编辑" not in row
    html, doc = get_page(c, f"/completion/{pk}")
    assert doc.get_element_by_id("completion-status").text == "已提交"
    assert doc.get_element_by_id("total-amount").text == "1500.25"
    assert c.get(f"/completion/{pk}/edit").status_code == 302  # submitted: 信息变更 only


def _submit_raw(client, pk):
    html, _doc = get_page(client, "/workbench/")
    return client.post(f"/completion/{pk}/submit", data={"csrf_token": csrf_from(html)})


# --- the refusals ---------------------------------------------------------------------------------------------
def test_an_empty_record_is_refused_naming_every_part(app, factory, ent):
    ids = open_completion(app, factory, ent, level_after=None)
    pk = ids["completion"]
    c = client_for(app, ent)
    resp = _submit(c, pk)
    assert resp.status_code == 200
    problems = problem_list(resp)
    assert "改造后数字化等级" in problems["level_after"] or "事后评估" in problems["level_after"]
    assert "行业型服务商协助填写" in problems["assisted"]
    assert "请评价服务商" in problems["ratings"]
    for key, label in (
        ("quotation_file", "项目合同报价单"),
        ("invoice_file", "项目合同发票"),
        ("payment_file", "项目合同付款凭证"),
    ):
        assert label in problems[key]
    assert "other_file" not in problems  # 其他 is optional
    assert "至少添加一张发票" in problems["invoices"]
    assert _state(app, pk)["status"] == "pending"
    # shown on page 1 (the first problem's page), beside the fields
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "事后评估" in _error(doc, "level_after") and _error(doc, "assisted")
    with app.app_context():
        assert db.session.query(Warehousing).filter_by(project_id=ids["project"]).count() == 0


def test_each_rule_of_submission_is_named_beside_its_field(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent, invoices=2)
    c = client_for(app, ent)
    state = _state(app, pk)
    inn, qua = state["results"][0][0], state["results"][1][0]
    a, b = state["invoices"]
    (line_a, *_), (voucher_a, *_) = a["lines"][0], a["vouchers"][0]
    rid = state["ratings"][0][0]
    # nothing ticked
    with app.app_context():
        for r in db.session.query(CompletionIndicator).filter_by(completion_id=pk):
            r.ticked = False
        db.session.commit()
    resp = _submit(c, pk)
    assert "至少选择一项" in problem_list(resp)["results"]
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "至少选择一项" in doc.get_element_by_id("results-error").text_content()
    # ticked but 改造后 empty and no 佐证材料
    with app.app_context():
        r = db.session.get(CompletionIndicator, inn)
        r.ticked, r.after, r.evidence_file_id = True, None, None
        db.session.commit()
    resp = _submit(c, pk)
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "创新维度" in _error(doc, f"result-{inn}-after") and "改造后" in _error(doc, f"result-{inn}-after")
    assert "佐证材料" in _error(doc, f"result-{inn}-evidence")
    assert f"result-{qua}-after" not in problem_list(resp)  # unticked: 不涉及
    _complete_results(app, pk)
    # a star rating outside 1–5 (stored by a crafted POST? refused at save) and an empty text
    resp = _post(c, f"/completion/{pk}/edit?page=2", "save", **{f"rating-{rid}-overall_stars": "7"})
    assert resp.status_code == 200
    assert "1到5" in _error(lxml.html.fromstring(resp.get_data(as_text=True)), f"rating-{rid}-overall_stars")
    assert _state(app, pk)["ratings"][0][3] == 4
    assert _post(c, f"/completion/{pk}/edit?page=2", "save", **{f"rating-{rid}-attitude_text": ""}).status_code == 302
    resp = _submit(c, pk)
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "服务商态度评价内容" in _error(doc, f"rating-{rid}-attitude_text")
    assert (
        _post(c, f"/completion/{pk}/edit?page=2", "save", **{f"rating-{rid}-attitude_text": "态度好"}).status_code
        == 302
    )
    page3 = f"/completion/{pk}/edit?page=3"
    # duplicate 发票号码; 开票日期 in the future; 付款日期 in the future; 开票日期 before the signing
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    resp = _post(
        c,
        page3,
        "save",
        **{
            f"invoice-{b['id']}-number": a["number"],
            f"invoice-{a['id']}-issued_on": tomorrow,
            f"voucher-{voucher_a}-paid_on": tomorrow,
            f"invoice-{b['id']}-issued_on": "2025-02-28",
        },
    )
    assert resp.status_code == 302
    resp = _submit(c, pk)
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "重复" in _error(doc, f"invoice-{b['id']}-number")
    assert "不能晚于今天" in _error(doc, f"invoice-{a['id']}-issued_on")
    assert "不能晚于今天" in _error(doc, f"voucher-{voucher_a}-paid_on")
    assert "不能早于项目签约" in _error(doc, f"invoice-{b['id']}-issued_on") and "2025-03-01" in _error(
        doc, f"invoice-{b['id']}-issued_on"
    )
    # an invoice without goods or payment voucher; an empty 发票销售方 (the manual's 发票销售方不能为空)
    assert _post(c, page3, f"remove_line:{line_a}").status_code == 302
    assert _post(c, page3, f"remove_voucher:{voucher_a}").status_code == 302
    resp = _post(
        c,
        page3,
        "save",
        **{
            f"invoice-{a['id']}-seller": "",
            f"invoice-{a['id']}-issued_on": TODAY.isoformat(),
            f"invoice-{b['id']}-issued_on": TODAY.isoformat(),
            f"invoice-{b['id']}-number": "OTHER-1",
        },
    )
    assert resp.status_code == 302
    resp = _submit(c, pk)
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "货物" in _error(doc, f"invoice-{a['id']}-lines")
    assert "付款凭证" in _error(doc, f"invoice-{a['id']}-vouchers")
    assert "发票销售方不能为空" in _error(doc, f"invoice-{a['id']}-seller")
    # a line without amounts, a voucher without its file
    assert _post(c, page3, f"add_line:{a['id']}").status_code == 302
    assert _post(c, page3, f"add_voucher:{a['id']}").status_code == 302
    inv = _state(app, pk)["invoices"][0]
    (new_line, *_), (new_voucher, *_) = inv["lines"][0], inv["vouchers"][0]
    resp = _post(
        c,
        page3,
        "save",
        **{
            f"invoice-{a['id']}-seller": "销售方",
            f"line-{new_line}-name": "交换机",
            f"voucher-{new_voucher}-amount": "1",
        },
    )
    resp = _submit(c, pk)
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "发票金额" in _error(doc, f"line-{new_line}-amount") and "发票税额" in _error(doc, f"line-{new_line}-tax")
    assert "付款日期" in _error(doc, f"voucher-{new_voucher}-paid_on")
    assert "银行付款凭证" in _error(doc, f"voucher-{new_voucher}-file")
    assert _state(app, pk)["status"] == "pending"
    # what was typed and uploaded is all still there after every refusal
    state = _state(app, pk)
    assert state["invoices"][0]["lines"][0][1] == "交换机" and state["files"]["quotation"]
    # completed: submitted
    resp = _post(
        c,
        page3,
        "save",
        **{
            f"line-{new_line}-amount": "10",
            f"line-{new_line}-tax": "0",
            f"voucher-{new_voucher}-paid_on": TODAY.isoformat(),
            f"voucher-{new_voucher}-file": (io.BytesIO(PNG_BYTES), "回单.png"),  # a scan is a voucher too
        },
    )
    assert resp.status_code == 302
    assert _submit(c, pk).status_code == 302
    assert _state(app, pk)["status"] == "submitted"


def _complete_results(app, pk):
    pdf = None
    with app.app_context():
        c = db.session.get(Completion, pk)
        pdf = c.quotation_file_id
        for r in c.results:
            r.ticked, r.after, r.evidence_file_id = True, "改造后", pdf
        db.session.commit()


def test_bad_amounts_are_refused_beside_the_field_and_the_saved_value_stays(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    c = client_for(app, ent)
    inv = _state(app, pk)["invoices"][0]
    line, voucher = inv["lines"][0][0], inv["vouchers"][0][0]
    url = f"/completion/{pk}/edit?page=3"
    for bad in ("-1", "1.234", "NaN", "1e400", "Infinity", "999999999999999", "一百", "12\x00", "1,000"):
        for name in (f"line-{line}-amount", f"line-{line}-tax", f"voucher-{voucher}-amount"):
            resp = _post(c, url, "save", **{name: bad})
            assert resp.status_code == 200, (bad, name)
            assert _error(lxml.html.fromstring(resp.get_data(as_text=True)), name), (bad, name)
    state = _state(app, pk)["invoices"][0]
    assert state["lines"][0][2:] == (Decimal("100.00"), Decimal("13.00"), Decimal("113.00"))
    assert state["vouchers"][0][2] == Decimal("113.00")
    for bad in ("2025-13-45", "明天", "0000-00-00", "99999-01-01"):
        resp = _post(c, url, "save", **{f"invoice-{inv['id']}-issued_on": bad})
        assert resp.status_code == 200
        assert _error(lxml.html.fromstring(resp.get_data(as_text=True)), f"invoice-{inv['id']}-issued_on")
    assert _state(app, pk)["invoices"][0]["issued_on"] == TODAY


def test_posted_totals_are_never_trusted(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    c = client_for(app, ent)
    inv = _state(app, pk)["invoices"][0]
    line = inv["lines"][0][0]
    html, doc = get_page(c, f"/completion/{pk}/edit?page=3")
    data = form_values(doc, "completion-form")
    data.update(
        {
            f"line-{line}-amount": "200.55",
            f"line-{line}-tax": "26.07",
            f"line-{line}-total": "999999.99",  # crafted: the page posts no total at all
            "total_amount": "1",
            "total_tax": "1",
            "total_sum": "1",
            "action": "save",
        }
    )
    assert c.post(f"/completion/{pk}/edit?page=3", data=data).status_code == 302
    assert _state(app, pk)["invoices"][0]["lines"][0][2:] == (Decimal("200.55"), Decimal("26.07"), Decimal("226.62"))
    html, doc = get_page(c, f"/completion/{pk}/edit?page=3")
    assert doc.get_element_by_id("total-sum").text == "226.62"
    assert _submit(c, pk).status_code == 302
    html, doc = get_page(c, f"/completion/{pk}")
    assert doc.get_element_by_id("total-sum").text == "226.62"


def test_a_forged_upload_is_refused_and_nothing_is_stored(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    c = client_for(app, ent)
    state = _state(app, pk)
    voucher = state["invoices"][0]["vouchers"][0][0]
    inn = state["results"][0][0]
    with app.app_context():
        files_before = db.session.query(StoredFile).count()
    for url, name in (
        (f"/completion/{pk}/edit?page=3", "quotation_file"),
        (f"/completion/{pk}/edit?page=3", f"voucher-{voucher}-file"),
        (f"/completion/{pk}/edit?page=1", f"result-{inn}-evidence"),
    ):
        resp = _post(c, url, "save", **{name: (io.BytesIO(EXE_BYTES), "发票.pdf")})
        assert resp.status_code == 200
        assert "PDF" in _error(lxml.html.fromstring(resp.get_data(as_text=True)), name)
    assert _state(app, pk)["files"] == state["files"]
    assert _state(app, pk)["invoices"][0]["vouchers"] == state["invoices"][0]["vouchers"]
    with app.app_context():
        assert db.session.query(StoredFile).count() == files_before


# --- 行业型服务商协助填写 of 数字化改造成效 ---------------------------------------------------------------------------
def test_the_provider_fills_the_results_page_and_the_enterprise_confirms(app, factory, ent):
    provider_org = factory.org("provider", is_industry_provider=True)
    provider = factory.user("服务商", org=provider_org)
    other = factory.user("服务商", org=factory.org("provider", is_industry_provider=True))
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    with app.app_context():
        for contract in db.session.query(Contract).filter(Contract.signing_id == ids["signing"]):
            contract.industry_provider_id, contract.no_industry_provider = provider_org, False
        c = db.session.get(Completion, pk)
        c.assisted = None
        for r in c.results:
            r.after, r.evidence_file_id = None, None
        db.session.commit()
    e = client_for(app, ent)
    p = client_for(app, provider)
    assert p.get(f"/completion/{pk}").status_code == 404  # not asked yet
    assert p.get(f"/completion/{pk}/assist").status_code == 404
    # the enterprise sends the page to its contract's 行业型服务商
    html, doc = get_page(e, f"/completion/{pk}/edit")
    assert [o.get("value") for o in doc.xpath("//select[@id='assist-provider']/option")][1:] == [str(provider_org)]
    resp = _post(e, f"/completion/{pk}/edit?page=1", "ask", assisted="1", assist_provider=str(provider_org))
    assert resp.status_code == 302
    with app.app_context():
        request = db.session.query(AssistRequest).filter_by(host_type="completion", host_id=pk).one()
        assert request.status == "reviewing" and request.provider_id == provider_org
    html, doc = get_page(e, "/workbench/?group=projects&tab=completed")
    assert "协助填写中" in doc.xpath(f"//tr[@data-completion='{pk}']")[0].text_content()
    # meanwhile the enterprise's page 1 is read-only; a crafted POST changes nothing
    html, doc = get_page(e, f"/completion/{pk}/edit?page=1")
    assert doc.get_element_by_id("assist-locked") is not None and not doc.xpath("//textarea")
    inn = _state(app, pk)["results"][0][0]
    e.post(
        f"/completion/{pk}/edit?page=1",
        data={
            "csrf_token": csrf_from(html),
            "action": "save",
            f"result-{inn}-after": "企业改的",
            f"result-{inn}-ticked": "y",
        },
    )
    assert _state(app, pk)["results"][0][4] is None
    # the provider (only it) fills and submits page 1; it cannot reach the other pages
    assert client_for(app, other).get(f"/completion/{pk}/assist").status_code == 404
    assert p.get(f"/completion/{pk}/edit").status_code in (403, 404)
    assert p.get(f"/completion/{pk}").status_code == 200
    url = f"/completion/{pk}/assist"
    assert _post(p, url, "add_invoice").status_code == 403
    html, doc = get_page(p, url)
    assert not doc.xpath("//*[@id='completion-pages']")
    resp = _post(p, url, "submit")
    assert resp.status_code == 200 and "改造后" in problem_list(resp)[f"result-{inn}-after"]
    fields = {}
    for r in _state(app, pk)["results"]:
        fields[f"result-{r[0]}-after"] = f"{r[1]}服务商填写"
        fields[f"result-{r[0]}-evidence"] = (io.BytesIO(PDF_BYTES), f"{r[1]}佐证.pdf")
    resp = _post(p, url, "submit", **fields)
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(AssistRequest, request.id).status == "done"
    assert p.get(url).status_code == 302  # no longer with the provider
    # the enterprise sees it filled (待企业确认), may change it, and 确认提交 (the whole record)
    html, doc = get_page(e, f"/completion/{pk}/edit?page=1")
    assert doc.get_element_by_id("assist-filled") is not None
    assert doc.xpath(f"//textarea[@name='result-{inn}-after']")[0].text.strip() == "innovation服务商填写"
    # the contracts' 行业型服务商 is a provider to rate too (its row comes with page 2)
    resp = _submit(e, pk)
    assert resp.status_code == 200 and "请评价服务商" in problem_list(resp)["ratings"]
    html, doc = get_page(e, f"/completion/{pk}/edit?page=2")
    rid = next(r[0] for r in _state(app, pk)["ratings"] if r[1] == provider_org)
    fields = {f"rating-{rid}-{k}_stars": "5" for k in ("product", "overall", "attitude", "after_sales")}
    fields.update({f"rating-{rid}-{k}_text": "协助及时" for k in ("product", "overall", "attitude", "after_sales")})
    assert _post(e, f"/completion/{pk}/edit?page=2", "save", **fields).status_code == 302
    html, doc = get_page(e, f"/completion/{pk}/preview")
    assert doc.get_element_by_id("btn-submit").text_content().strip() == "确认提交"
    assert _submit(e, pk).status_code == 302
    with app.app_context():
        assert db.session.get(AssistRequest, request.id).confirmed_at is not None
    html, doc = get_page(e, "/workbench/?group=projects&tab=completed")
    assert "已确认" in doc.xpath(f"//tr[@data-completion='{pk}']")[0].text_content()
    # the provider helped still reads the record and its files
    assert p.get(f"/completion/{pk}").status_code == 200
    assert p.get(f"/completion/result/{inn}/file").status_code == 200


# --- 信息变更 ------------------------------------------------------------------------------------------------
def test_information_change_keeps_revisions_and_refuses_an_incomplete_change(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    c = client_for(app, ent)
    assert _submit(c, pk).status_code == 302
    assert c.get(f"/completion/{pk}/preview").status_code == 302
    line = _state(app, pk)["invoices"][0]["lines"][0][0]
    url = f"/completion/{pk}/change?page=3"
    html, doc = get_page(c, url)
    assert not doc.xpath("//*[@id='btn-preview']")
    # an incomplete change is refused, nothing saved
    resp = _post(c, url, "save", **{f"line-{line}-name": ""})
    assert resp.status_code == 200 and "不能为空" in _error(
        lxml.html.fromstring(resp.get_data(as_text=True)), f"line-{line}-name"
    )
    assert _state(app, pk)["invoices"][0]["lines"][0][1] == "服务器"
    for action in ("ask", "cancel", "preview", "no-such-action"):  # anything but a row action is a checked 保存
        resp = _post(c, url, action, **{f"line-{line}-name": ""})
        assert resp.status_code == 200, action
        assert _state(app, pk)["invoices"][0]["lines"][0][1] == "服务器", action
    resp = _post(c, url, "save", **{f"line-{line}-amount": "150.5"})
    assert resp.status_code == 302
    assert _state(app, pk)["invoices"][0]["lines"][0][2:] == (Decimal("150.50"), Decimal("13.00"), Decimal("163.50"))
    with app.app_context():
        rev = db.session.query(Revision).filter_by(subject_type="completion", subject_id=pk).one()
        assert rev.actor_id == ent["id"]
        assert ["发票1 货物1 发票金额（元）", "100.00", "150.50"] in __import__("json").loads(rev.changes)
    html, doc = get_page(c, f"/completion/{pk}")
    text = doc.get_element_by_id("completion-revisions").text_content()
    assert "150.50" in text and "100.00" in text
    assert _state(app, pk)["status"] == "submitted"
    # nothing changed: no revision
    assert _post(c, url, "save").status_code == 302
    with app.app_context():
        assert db.session.query(Revision).filter_by(subject_type="completion", subject_id=pk).count() == 1


# --- 服务商评价 → the provider's average ------------------------------------------------------------------------
def test_the_provider_average_is_shown_on_the_catalog_and_to_the_city(app, factory, ent):
    provider_org = factory.org("provider", is_industry_provider=True)
    city = factory.user("市工信")
    averages = []
    for stars in ((5, 5, 4, 4), (3, 4, 4, 4)):
        ids = open_completion(app, factory, factory.enterprise_user(), provider_org=provider_org)
        fill_completion(app, ids, ent)
        with app.app_context():
            rating = db.session.query(ProviderRating).filter_by(completion_id=ids["completion"]).one()
            for key, value in zip(("product", "overall", "attitude", "after_sales"), stars, strict=True):
                setattr(rating, f"{key}_stars", value)
            db.session.get(Completion, ids["completion"]).status = "submitted"
            db.session.commit()
        averages.append(sum(stars))
    # a pending record does not count
    pending = open_completion(app, factory, factory.enterprise_user(), provider_org=provider_org)
    fill_completion(app, pending, ent)
    with app.app_context():
        from zsdx.models import Product

        code = db.session.query(Product.code).filter_by(organisation_id=provider_org).first()[0]
    c = client_for(app, ent)
    html, doc = get_page(c, f"/products/?q={code}")
    cell = doc.xpath("//table[@id='catalog']//td[@class='zs-provider-rating']")[0]
    assert cell.xpath(".//*[@class='zs-rating-average']")[0].text == "4.1"  # (18 + 15) / 8 = 4.125
    assert "2条评价" in cell.text_content() and "★★★★☆" in cell.text_content()
    pid = doc.xpath("//table[@id='catalog']//tr/@data-id")[0]
    html, doc = get_page(c, f"/products/{pid}")
    assert "4.1" in doc.get_element_by_id("provider-rating").text_content()
    with app.app_context():
        name = db.session.get(Organisation, provider_org).name
    html, doc = get_page(client_for(app, city), f"/completion/ratings?q={name}")
    row = doc.xpath(f"//table[@id='provider-ratings']//tr[@data-provider='{provider_org}']")[0]
    assert row.xpath(".//td[@class='zs-count']")[0].text == "2"
    assert row.xpath(".//td[@class='zs-average']")[0].text_content().strip() == "4.1"
    assert [td.text for td in row.xpath(".//td[@class='zs-money']")] == ["4.0", "4.5", "4.0", "4.0"]
    assert client_for(app, factory.user("镇街", town_code="2010")).get("/completion/ratings").status_code in (302, 403)


def _totals_are_the_ratings(app):
    """zs_provider_rating_total equals the aggregate of the ratings it is kept from, for every provider."""
    from sqlalchemy import select

    from zsdx import completion as rules
    from zsdx.models import ProviderRatingTotal

    with app.app_context():
        kept = {
            t.provider_id: (t.ratings, t.product_stars, t.overall_stars, t.attitude_stars, t.after_sales_stars, t.rank)
            for t in db.session.query(ProviderRatingTotal).filter(ProviderRatingTotal.ratings > 0)
        }
        stats = rules._rating_stats().subquery()
        fresh = {r[0]: tuple(r[1:]) for r in db.session.execute(select(stats.c[0], *rules._total_columns(stats)))}
    assert kept == fresh
    return kept


def test_the_ratings_page_follows_submission_and_information_change(app, factory, ent):
    """服务商评价 is kept per provider: a rating counts from the 【提交】 on, an edit of a submitted record
    (信息变更) moves the average at once, a pending record never counts; the page is paged and searched."""
    provider_org = factory.org("provider", is_industry_provider=True)
    with app.app_context():
        name = db.session.get(Organisation, provider_org).name
    city = client_for(app, factory.user("市工信"))
    ids = open_completion(app, factory, ent, provider_org=provider_org)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    url = f"/completion/ratings?q={name}"
    assert not get_page(city, url)[1].xpath(f"//tr[@data-provider='{provider_org}']")  # pending: not counted
    c = client_for(app, ent)
    assert _submit(c, pk).status_code == 302
    row = get_page(city, url)[1].xpath(f"//tr[@data-provider='{provider_org}']")[0]
    assert row.xpath(".//td[@class='zs-count']")[0].text == "1"
    assert _totals_are_the_ratings(app)[provider_org][0] == 1
    before = row.xpath(".//td[@class='zs-average']")[0].text_content().strip()
    rid = _state(app, pk)["ratings"][0][0]
    resp = _post(c, f"/completion/{pk}/change?page=2", "save", **{f"rating-{rid}-product_stars": "1"})
    assert resp.status_code == 302
    row = get_page(city, url)[1].xpath(f"//tr[@data-provider='{provider_org}']")[0]
    assert row.xpath(".//td[@class='zs-money']")[0].text == "1.0"
    assert row.xpath(".//td[@class='zs-average']")[0].text_content().strip() != before
    _totals_are_the_ratings(app)
    # the search narrows to the name; the pager is the list's
    html, doc = get_page(city, "/completion/ratings?q=" + "无此服务商" * 3)
    assert not doc.xpath("//tr[@data-provider]") and "共 0 条" in html
    html, doc = get_page(city, "/completion/ratings?page=999&q=" + "x" * 500)  # past the end: the last page
    assert doc.xpath("//*[@id='provider-ratings']")
    assert city.get("/completion/ratings?q=%00").status_code == 400  # the app's guard of control characters


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="row locks: SQLite serialises writers, the race needs PostgreSQL",
)
def test_two_submissions_rating_one_provider_at_once_both_count(app, factory):
    """Two enterprises submit 改造完成 at the same moment, each rating the same provider: the provider's total
    counts both (the second refresh waits for the first's row lock and reads after its commit)."""
    import threading

    from zsdx.completion import submit_completion
    from zsdx.models import ProviderRatingTotal, ZsdxUser

    provider_org = factory.org("provider", is_industry_provider=True)
    owners = [factory.enterprise_user(), factory.enterprise_user()]
    ids = [open_completion(app, factory, owner, provider_org=provider_org) for owner in owners]
    for owner, record in zip(owners, ids, strict=True):
        fill_completion(app, record, owner)
    barrier = threading.Barrier(2, timeout=60)
    results = [None, None]

    def run(i):
        try:
            with app.app_context():
                completion = db.session.get(Completion, ids[i]["completion"])
                actor = db.session.get(ZsdxUser, owners[i]["id"])
                _ = ([r.provider_id for r in completion.ratings], [r.name for r in actor.roles])
                barrier.wait()
                submit_completion(completion, actor)
                results[i] = "ok"
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    assert results == ["ok", "ok"], results
    with app.app_context():
        assert db.session.get(ProviderRatingTotal, provider_org).ratings == 2
    _totals_are_the_ratings(app)


def test_a_provider_without_ratings_shows_none_on_the_catalog(app, factory, ent):
    from helpers_signing import listed_product

    product = listed_product(app, factory)
    html, doc = get_page(client_for(app, ent), f"/products/?q={product['code']}")
    assert "暂无评价" in doc.xpath("//table[@id='catalog']//td[@class='zs-provider-rating']")[0].text_content()


# --- the attacker's side ----------------------------------------------------------------------------------
def test_another_enterprise_and_other_towns_reach_nothing(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    state = _state(app, pk)
    inn, voucher = state["results"][0][0], state["invoices"][0]["vouchers"][0][0]
    urls = [
        f"/completion/{pk}",
        f"/completion/{pk}/edit",
        f"/completion/{pk}/edit?page=3",
        f"/completion/{pk}/preview",
        f"/completion/{pk}/change",
        f"/completion/{pk}/assist",
        f"/completion/{pk}/file/quotation",
        f"/completion/result/{inn}/file",
        f"/completion/voucher/{voucher}/file",
    ]
    other = client_for(app, factory.enterprise_user())
    for url in urls:
        assert other.get(url).status_code == 404, url
    token = csrf_from(other.get("/workbench/").get_data(as_text=True))
    for url in (f"/completion/{pk}/edit?page=3", f"/completion/{pk}/submit", f"/completion/{pk}/change"):
        resp = other.post(url, data={"csrf_token": token, "action": "add_invoice"})
        assert resp.status_code == 404, url
    # the town's 镇街 and 市工信 read it and its files; another town's 镇街 does not
    with app.app_context():
        town_code = db.session.get(Completion, pk).town.code
    own_town = client_for(app, factory.user("镇街", town_code=town_code))
    far_town = client_for(app, factory.user("镇街", town_code=make_town(app)["code"]))
    city = client_for(app, factory.user("市工信"))
    for url in urls[-3:] + urls[:1]:
        assert own_town.get(url).status_code == 200, url
        assert city.get(url).status_code == 200, url
        assert far_town.get(url).status_code == 404, url
    assert own_town.get(f"/completion/{pk}/edit").status_code in (302, 403)
    assert city.post(f"/completion/{pk}/submit", data={"csrf_token": token}).status_code in (302, 400, 403)
    resp = client_for(app, ent).get(f"/completion/voucher/{voucher}/file?inline=1")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("inline")
    assert _state(app, pk) == state


def test_a_post_without_csrf_changes_nothing(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    c = client_for(app, ent)
    state = _state(app, pk)
    for url, data in (
        (f"/completion/{pk}/edit?page=3", {"action": "add_invoice"}),
        (f"/completion/{pk}/submit", {}),
        (f"/completion/{pk}/edit?page=1", {"action": "save", "assisted": "1"}),
    ):
        assert c.post(url, data=data).status_code == 400
    assert _state(app, pk) == state


def test_malformed_input_never_ends_in_a_500(app, factory, ent):
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    c = client_for(app, ent)
    state = _state(app, pk)
    inv = state["invoices"][0]
    rid = state["ratings"][0][0]
    token = csrf_from(c.get("/workbench/").get_data(as_text=True))
    cases = [
        ("/completion/{pk}/edit?page=99", {"action": "save"}),
        ("/completion/{pk}/edit?page=abc", {"action": "next"}),
        ("/completion/{pk}/edit?page=3", {"action": "remove_line:abc"}),
        ("/completion/{pk}/edit?page=3", {"action": "add_line:99999999999999999999"}),
        ("/completion/{pk}/edit?page=3", {"action": "add_voucher:"}),
        ("/completion/{pk}/edit?page=3", {"action": "remove_invoice:-1"}),
        ("/completion/{pk}/edit?page=1", {"action": "add_invoice"}),
        ("/completion/{pk}/edit?page=1", {"action": "ask", "assist_provider": "x\x00"}),
        ("/completion/{pk}/edit?page=2", {"action": "save", f"rating-{rid}-product_stars": "５"}),
        ("/completion/{pk}/edit?page=2", {"action": "save", f"rating-{rid}-product_text": "x" * 10_000}),
        ("/completion/{pk}/edit?page=3", {"action": "save", f"invoice-{inv['id']}-number": "\x00\x01"}),
        ("/completion/{pk}/edit?page=3", {"action": "save", f"invoice-{inv['id']}-seller": "销" * 300}),
        ("/completion/{pk}/edit?page=3", {"action": ["save", "preview"]}),
    ]
    for url, data in cases:
        resp = c.post(url.format(pk=pk), data={"csrf_token": token, **data})
        assert resp.status_code < 500, (url, data)
    for url in (
        f"/completion/{pk}/file/nosuch",
        f"/completion/{pk}/file/other",  # not uploaded
        "/completion/result/99999999999/file",
        "/completion/voucher/99999999999999999999999/file",
    ):
        assert c.get(url).status_code == 404, url
    assert [i["id"] for i in _state(app, pk)["invoices"]] == [inv["id"]]  # no row of a junk id touched


def test_an_unknown_provider_on_the_contracts_is_a_rating_to_fill(app, factory, ent):
    """A provider added to the contracts after the page was opened gets its rating row on the next visit, and
    submission asks for it by name."""
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    fill_completion(app, ids, ent)
    late = factory.org("provider", is_industry_provider=True, name="后加的行业服务商有限公司")
    with app.app_context():
        contract = db.session.query(Contract).filter(Contract.signing_id == ids["signing"]).first()
        contract.industry_provider_id, contract.no_industry_provider = late, False
        db.session.commit()
    c = client_for(app, ent)
    resp = _submit(c, pk)
    assert "后加的行业服务商有限公司" in problem_list(resp)["ratings"]
    html, doc = get_page(c, f"/completion/{pk}/edit?page=2")
    assert [r[1] for r in _state(app, pk)["ratings"]] == sorted([ids["provider_org"], late])
    assert "后加的行业服务商有限公司" in html


def test_without_a_lead_unit_the_page_cannot_be_sent(app, factory, ent):
    """The contracts have no 已签约行业服务商 (无牵引单位): 【发送】 is refused, the enterprise chooses 否."""
    ids = open_completion(app, factory, ent)
    pk = ids["completion"]
    c = client_for(app, ent)
    html, doc = get_page(c, f"/completion/{pk}/edit")
    assert [o.get("value") for o in doc.xpath("//select[@id='assist-provider']/option")] == [""]
    resp = _post(c, f"/completion/{pk}/edit?page=1", "ask", assisted="1", assist_provider=str(ids["provider_org"]))
    assert resp.status_code == 302
    html, doc = get_page(c, resp.headers["Location"])
    assert "请选择否" in html or "无牵引单位" in html
    with app.app_context():
        assert db.session.query(AssistRequest).filter_by(host_type="completion", host_id=pk).count() == 0


def test_a_level_settled_after_the_record_was_opened_is_taken_from_its_stage(app, factory, ent):
    """The 事前诊断 confirmed after 改造中 was submitted (nothing requires it earlier): the 改造前 level is taken
    from it when the 改造完成 page is opened, so the record can still be submitted."""
    from zsdx.models import PostAssessment, PreDiagnosis

    ids = make_implementation(app, factory, ent, submitted=True, pre_level=None)
    with app.app_context():
        completion = db.session.get(Completion, ids["completion"])
        assert completion.level_before is None
        pre = db.session.query(PreDiagnosis).filter_by(project_id=ids["project"]).one()
        pre.level, pre.diagnosed_at = 3, dt.datetime.now()
        post = db.session.query(PostAssessment).filter_by(project_id=ids["project"]).one()
        post.level, post.assessed_at = 4, dt.datetime.now()
        db.session.commit()
    c = client_for(app, ent)
    assert c.get(f"/completion/{ids['completion']}/edit").status_code == 200
    with app.app_context():
        completion = db.session.get(Completion, ids["completion"])
        assert (completion.level_before, completion.level_after) == (3, 4)
