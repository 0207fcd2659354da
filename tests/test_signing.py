"""项目签约 through HTTP (manual 04): the two pages, contracts with PDFs, page 3 by the enterprise or by its
行业型服务商, 提交 → 已签约 (and the 改造中 record), 信息变更 with revisions; money exact; the attacker's side."""

import io
from decimal import Decimal

import lxml.html
import pytest
from helpers_forms import get_page, post_as_shown, post_crafted
from helpers_review import EXE_BYTES, PDF_BYTES, client_for, notes_of
from helpers_signing import listed_product, make_signing

from zsdx.extensions import db
from zsdx.models import (
    AssistRequest,
    Contract,
    Implementation,
    Revision,
    Signing,
    SigningProduct,
    SigningStatus,
)


def _post(client, url, action, **fields):
    return post_as_shown(client, url, action, "signing-form", **fields)


def _signing(app, pk):
    with app.app_context():
        s = db.session.get(Signing, pk)
        return {
            "status": s.status,
            "project_name": s.project_name,
            "target_level": s.target_level,
            "assisted": s.assisted,
            "contracts": [(c.id, c.number, c.total_amount, c.subsidy_amount, c.file_id) for c in s.contracts],
            "needs": [(n.id, n.scenario, n.description, n.analysis) for n in s.needs],
            "products": [(p.id, p.product_id, p.price, p.contract_id) for p in s.products],
        }


@pytest.fixture()
def ent(factory):
    return factory.enterprise_user()


def test_the_enterprise_signs_with_two_contracts_and_a_picked_product(app, factory, ent):
    product = listed_product(app, factory, price="12.6")
    ids = make_signing(app, ent)
    c = client_for(app, ent)
    edit = f"/signing/{ids['signing']}/edit"
    # the list shows 待签约 with 详情 / 编辑
    html, doc = get_page(c, "/workbench/?group=projects&tab=signing")
    row = doc.xpath(f"//tr[@data-signing='{ids['signing']}']")[0]
    assert "待签约" in row.text_content() and "编辑" in row.text_content() and "预奖补申请" not in row.text_content()
    # 【添加合同】 twice, then fill both contracts with their PDFs
    assert _post(c, edit + "?page=1", "add_contract").status_code == 302
    assert _post(c, edit + "?page=1", "add_contract").status_code == 302
    state = _signing(app, ids["signing"])
    (a, *_), (b, *_) = state["contracts"]
    resp = _post(
        c,
        edit + "?page=1",
        "next",
        **{
            "target_level": "3",
            "acceptance_date": "2026-12-31",
            "chain_leader": "0",
            f"contract-{a}-number": "HT-001",
            f"contract-{a}-total_amount": "100.1234",
            f"contract-{a}-subsidy_amount": "80.0001",
            f"contract-{a}-industry_provider": "none",
            f"contract-{a}-file": (io.BytesIO(PDF_BYTES), "合同一.pdf"),
            f"contract-{b}-number": "HT-002",
            f"contract-{b}-total_amount": "0.0001",
            f"contract-{b}-subsidy_amount": "0.0001",
            f"contract-{b}-industry_provider": "none",
            f"contract-{b}-file": (io.BytesIO(PDF_BYTES), "合同二.pdf"),
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("page=2")  # 下一页（自动保存）
    state = _signing(app, ids["signing"])
    assert [x[1:4] for x in state["contracts"]] == [
        ("HT-001", Decimal("100.1234"), Decimal("80.0001")),
        ("HT-002", Decimal("0.0001"), Decimal("0.0001")),
    ]
    assert all(x[4] for x in state["contracts"])
    # totals: the exact sum of the lines
    html, doc = get_page(c, edit + "?page=1")
    assert doc.get_element_by_id("total-amount").text == "100.1235"
    assert doc.get_element_by_id("total-subsidy").text == "80.0002"
    # page 3: 否, one need, the product picked from the dialog
    assert _post(c, edit + "?page=2", "save", assisted="0").status_code == 302
    assert _post(c, edit + "?page=2", "add_need").status_code == 302
    html, doc = get_page(c, edit + "?page=2")
    assert doc.xpath(f"//table[@id='catalog-results']//tr[@data-product='{product['id']}']")  # the dialog lists it
    assert _post(c, edit + "?page=2", "pick_product", pick_product=str(product["id"])).status_code == 302
    state = _signing(app, ids["signing"])
    need_id, row_id = state["needs"][0][0], state["products"][0][0]
    # a price above 最高入库价格 without an explanation is refused by 提交, naming it; what was typed stays
    fields = {
        f"need-{need_id}-scenario": "S1",
        f"need-{need_id}-description": "生产排程靠人工",
        f"need-{need_id}-analysis": "需要APS排程",
        f"product-{row_id}-contract_id": str(a),
        f"product-{row_id}-cloud": "public",
        f"product-{row_id}-content": "上云改造",
        f"product-{row_id}-start_date": "2026-01-01",
        f"product-{row_id}-end_date": "2026-06-30",
        f"product-{row_id}-price": "13.0000",
        f"product-{row_id}-scenario": "S1",
        f"product-{row_id}-scenario_desc": "排程场景",
    }
    resp = _post(c, edit + "?page=2", "submit", **fields)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "高于最高入库价格" in html and "请说明" in html
    assert _signing(app, ids["signing"])["status"] == SigningStatus.PENDING
    assert _signing(app, ids["signing"])["products"][0][2] == Decimal("13.0000")
    fields[f"product-{row_id}-over_price_reason"] = "含定制开发"
    resp = _post(c, edit + "?page=2", "submit", **fields)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    state = _signing(app, ids["signing"])
    assert state["status"] == SigningStatus.SIGNED
    with app.app_context():
        assert db.session.query(Implementation).filter_by(project_id=ids["project"]).count() == 1
    html, doc = get_page(c, "/workbench/?group=projects&tab=signing")
    row = doc.xpath(f"//tr[@data-signing='{ids['signing']}']")[0]
    text = row.text_content()
    assert "已签约" in text and "未选择协助" in text and "信息变更" in text and "预奖补申请" in text
    # the contract's 产业生态服务商 come from the product picked for it
    html, doc = get_page(c, f"/signing/{ids['signing']}")
    contract_row = doc.xpath(f"//table[@id='signing-contracts']//tr[@data-contract='{a}']")[0]
    with app.app_context():
        supplier = db.session.get(SigningProduct, row_id).supplier_name
    assert supplier in contract_row.text_content()


def test_submit_names_every_missing_part_and_keeps_what_was_typed(app, ent):
    ids = make_signing(app, ent)
    c = client_for(app, ent)
    edit = f"/signing/{ids['signing']}/edit"
    resp = _post(c, edit + "?page=2", "submit", target_level="")
    html = resp.get_data(as_text=True)
    doc = lxml.html.fromstring(html)
    problems = [li.text_content() for li in doc.xpath("//*[@id='problem-list']//li")]
    assert any("至少添加一份合同" in p for p in problems)
    assert any("协助" in p for p in problems)
    # 目标数字化等级 ≥ 二级 is enforced on the server
    _post(c, edit + "?page=1", "save", target_level="1")
    assert _signing(app, ids["signing"])["target_level"] != "1"  # not a choice: refused beside the field


def test_bad_amounts_are_refused_beside_the_field_and_saved_values_stay(app, ent):
    ids = make_signing(app, ent, contracts=1)
    cid = ids["contracts"][0]
    c = client_for(app, ent)
    url = f"/signing/{ids['signing']}/edit?page=1"
    before = _signing(app, ids["signing"])["contracts"]
    for bad in ("NaN", "1e400", "99999999999999999", "-1", "1.23456", "12\x00", "一百"):
        resp = _post(c, url, "save", **{f"contract-{cid}-total_amount": bad})
        assert resp.status_code == 200, bad
        doc = lxml.html.fromstring(resp.get_data(as_text=True))
        assert doc.get_element_by_id(f"contract-{cid}-total_amount-error").text_content().strip(), bad
        assert _signing(app, ids["signing"])["contracts"] == before
    # 纳入资金奖补项目金额 above 合同总金额: named beside it on 提交
    _post(c, url, "save", **{f"contract-{cid}-subsidy_amount": "200"})
    resp = _post(c, f"/signing/{ids['signing']}/edit?page=2", "submit")
    assert "不能大于合同总金额" in resp.get_data(as_text=True)


def test_a_forged_contract_upload_is_refused(app, ent):
    ids = make_signing(app, ent, contracts=1)
    cid = ids["contracts"][0]
    c = client_for(app, ent)
    url = f"/signing/{ids['signing']}/edit?page=1"
    resp = _post(c, url, "save", **{f"contract-{cid}-file": (io.BytesIO(EXE_BYTES), "合同.pdf")})
    assert resp.status_code == 200
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "PDF" in doc.get_element_by_id(f"contract-{cid}-file-error").text_content()
    assert _signing(app, ids["signing"])["contracts"][0][4] == ids["file"]


def test_assisted_filling_round_trip(app, factory, ent):
    provider_org = factory.org("provider", is_industry_provider=True)
    provider = factory.user("服务商", org=provider_org)
    other_provider = factory.user("服务商", org=factory.org("provider", is_industry_provider=True))
    product = listed_product(app, factory)
    ids = make_signing(app, ent, contracts=1, provider_org=provider_org)
    sid = ids["signing"]
    c = client_for(app, ent)
    edit = f"/signing/{sid}/edit?page=2"
    # before sending, the provider reaches nothing
    p = client_for(app, provider)
    assert p.get(f"/signing/{sid}").status_code == 404
    assert p.get(f"/signing/{sid}/assist").status_code == 404
    resp = _post(c, edit, "ask", assisted="1", assist_provider=str(provider_org))
    assert resp.status_code == 302
    with app.app_context():
        request = db.session.query(AssistRequest).filter_by(host_type="signing", host_id=sid).one()
        assert request.status == "reviewing" and request.provider_id == provider_org
    # the provider finds it in its 待办 and fills page 3; the enterprise cannot change page 3 meanwhile
    todo = [n for n in notes_of(app, provider, kind="todo") if n["link"].startswith(f"/signing/{sid}/assist")]
    assert todo
    html, doc = get_page(c, edit)
    assert doc.get_element_by_id("assist-locked") is not None and not doc.xpath("//*[@id='btn-add-need']")
    assert post_crafted(c, edit, "add_need").status_code == 302
    assert _signing(app, sid)["needs"] == []
    # another provider, and pages 1–2, stay closed to the provider
    o = client_for(app, other_provider)
    assert o.get(f"/signing/{sid}/assist").status_code == 404
    assert p.get(f"/signing/{sid}/edit").status_code in (403, 404)
    assert post_crafted(p, f"/signing/{sid}/edit?page=1", "save", project_name="改名").status_code in (403, 404)
    assert post_crafted(p, f"/signing/{sid}/assist", "add_contract").status_code == 403
    url = f"/signing/{sid}/assist"
    assert _post(p, url, "add_need").status_code == 302
    assert _post(p, url, "pick_product", pick_product=str(product["id"])).status_code == 302
    state = _signing(app, sid)
    need_id, row_id = state["needs"][0][0], state["products"][0][0]
    fields = {
        f"need-{need_id}-scenario": "S2",
        f"need-{need_id}-description": "质检靠人工",
        f"need-{need_id}-analysis": "视觉质检",
        f"product-{row_id}-contract_id": str(ids["contracts"][0]),
        f"product-{row_id}-cloud": "hybrid",
        f"product-{row_id}-content": "视觉质检系统",
        f"product-{row_id}-start_date": "2026-02-01",
        f"product-{row_id}-end_date": "2026-08-01",
        f"product-{row_id}-price": "5.5",
        f"product-{row_id}-scenario": "S2",
        f"product-{row_id}-scenario_desc": "质检",
    }
    resp = _post(p, url, "submit", **fields)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    # back with the enterprise: 待企业确认; the provider can no longer change it
    assert post_crafted(p, url, "save").status_code == 403
    html, doc = get_page(c, "/workbench/?group=projects&tab=signing")
    assert "待企业确认" in doc.xpath(f"//tr[@data-signing='{sid}']")[0].text_content()
    resp = _post(c, edit, "submit")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    html, doc = get_page(c, "/workbench/?group=projects&tab=signing")
    text = doc.xpath(f"//tr[@data-signing='{sid}']")[0].text_content()
    assert "已签约" in text and "已确认" in text
    # the provider may still read what it helped with
    assert p.get(f"/signing/{sid}").status_code == 200


def test_another_enterprise_reaches_nothing(app, factory, ent):
    ids = make_signing(app, ent, contracts=1, signed=True)
    other = client_for(app, factory.enterprise_user())
    sid, cid = ids["signing"], ids["contracts"][0]
    for url in (f"/signing/{sid}", f"/signing/{sid}/edit", f"/signing/{sid}/change", f"/signing/contract/{cid}/file"):
        assert other.get(url).status_code == 404, url
    before = _signing(app, sid)
    assert post_crafted(other, f"/signing/{sid}/change?page=1", "save", project_name="别人的").status_code == 404
    assert _signing(app, sid) == before


def test_a_post_without_csrf_changes_nothing(app, ent):
    ids = make_signing(app, ent, contracts=1)
    c = client_for(app, ent)
    before = _signing(app, ids["signing"])
    resp = c.post(f"/signing/{ids['signing']}/edit?page=1", data={"action": "add_contract", "project_name": "x"})
    assert resp.status_code == 400
    assert _signing(app, ids["signing"]) == before


def test_unlisted_products_cannot_be_picked(app, factory, ent):
    ids = make_signing(app, ent, contracts=1)
    c = client_for(app, ent)
    draft = listed_product(app, factory, listed=False)
    withdrawn = listed_product(app, factory, withdrawn=True)
    url = f"/signing/{ids['signing']}/edit?page=2"
    html, doc = get_page(c, url)
    for p in (draft, withdrawn):
        assert not doc.xpath(f"//table[@id='catalog-results']//tr[@data-product='{p['id']}']")
        resp = post_crafted(c, url, "pick_product", pick_product=str(p["id"]))
        assert resp.status_code == 302
    for bad in ("abc", "99999999999999999999", "1\x00", ""):
        assert post_crafted(c, url, "pick_product", pick_product=bad).status_code == 302
    assert _signing(app, ids["signing"])["products"] == []
    # the search of the dialog lists only listed products too
    found = c.get("/signing/catalog.json?q=" + "测试产品").get_json()
    assert all(r["id"] not in (draft["id"], withdrawn["id"]) for r in found)
    # a product withdrawn after it was picked blocks 提交, named
    product = listed_product(app, factory)
    signed = make_signing(app, ent, contracts=1, filled=True, product=product)
    with app.app_context():
        import datetime as dt

        from zsdx.models import Product

        db.session.get(Product, product["id"]).withdrawn_at = dt.datetime.now()
        db.session.commit()
    resp = _post(c, f"/signing/{signed['signing']}/edit?page=2", "submit")
    assert "已下架" in resp.get_data(as_text=True) or "不在" in resp.get_data(as_text=True)
    assert _signing(app, signed["signing"])["status"] == SigningStatus.PENDING


def test_information_change_keeps_revisions(app, factory, ent):
    product = listed_product(app, factory)
    ids = make_signing(app, ent, contracts=1, filled=True, signed=True, product=product)
    sid, cid = ids["signing"], ids["contracts"][0]
    c = client_for(app, ent)
    url = f"/signing/{sid}/change?page=1"
    resp = _post(c, url, "save", **{f"contract-{cid}-total_amount": "120.5"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Contract, cid).total_amount == Decimal("120.5000")
        revision = db.session.query(Revision).filter_by(subject_type="signing", subject_id=sid).one()
        assert "120.5000" in revision.changes and "100.1234" in revision.changes
    html, doc = get_page(c, f"/signing/{sid}")
    assert "120.5000" in doc.get_element_by_id("signing-revisions").text_content()
    # a change that breaks a rule is refused and nothing is changed
    resp = _post(c, url, "save", **{f"contract-{cid}-subsidy_amount": "500"})
    assert resp.status_code == 200 and "不能大于合同总金额" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, cid).subsidy_amount == Decimal("50.5000")
