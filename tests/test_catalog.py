"""上架产品 (manual 04, SPEC §3.4): a provider lists a product, 市工信 approves it through the generic
审核工作台, it gets its 产品/服务代码 and appears in the catalog; a price change is reviewed again while the
catalog keeps the approved price; 下架 takes it out. From the attacker's side: another provider can neither
see, change, submit nor withdraw it; enterprises never see drafts."""

from decimal import Decimal

from conftest import csrf_from
from helpers_review import act_http, client_for, queue_ids

from zsdx.extensions import db
from zsdx.models import Product, ReviewStatus

FORM = {
    "name": "数智MES云平台",
    "category": "software",
    "scenarios": ["S6", "S7"],
    "max_price": "12.6000",
    "price_note": "含一年运维",
    "purchase_mode": "yearly",
    "description": "生产管控与质量管理",
}


def _provider(factory):
    return factory.user("服务商", org=factory.org("provider", "2010", is_scenario_provider=True))


def _product(app, pk):
    with app.app_context():
        return db.session.get(Product, pk)


def _new(app, client, **over):
    page = client.get("/myproducts/new")
    assert page.status_code == 200
    resp = client.post("/myproducts/new", data={"csrf_token": csrf_from(page.get_data(as_text=True)), **FORM, **over})
    with app.app_context():
        return resp, db.session.query(Product).order_by(Product.id.desc()).first()


def _action(client, name, pk):
    token = csrf_from(client.get("/myproducts/list/").get_data(as_text=True))
    return client.post("/myproducts/action_post", data={"csrf_token": token, "action": name, "rowid": [str(pk)]})


def _catalog_ids(client, **params):
    import re

    html = client.get("/products/", query_string=params).get_data(as_text=True)
    return [int(x) for x in re.findall(r'<tr data-id="(\d+)"', html)]


def test_a_product_is_listed_after_approval_and_its_price_change_is_reviewed_again(app, factory):
    prov = _provider(factory)
    pc = client_for(app, prov)
    resp, product = _new(app, pc)
    assert resp.status_code == 302 and product.status == ReviewStatus.DRAFT and product.code is None
    assert product.max_price == Decimal("12.6000") and product.scenarios == "S6,S7"
    pk = product.id
    ent = factory.enterprise_user()
    ec = client_for(app, ent)
    assert pk not in _catalog_ids(ec)
    assert ec.get(f"/products/{pk}").status_code == 404  # a draft is nobody's business but its provider's

    assert _action(pc, "submit", pk).status_code == 302
    assert _product(app, pk).status == ReviewStatus.REVIEWING
    city = factory.user("市工信")
    cc = client_for(app, city)
    assert pk in queue_ids(cc, "/review/?subject=product")
    assert "数智MES云平台" in cc.get(f"/review/product/{pk}").get_data(as_text=True)
    assert act_http(cc, pk, "approve", "同意", subject="product").status_code == 302
    product = _product(app, pk)
    assert product.status == ReviewStatus.DONE and product.code and product.listed_price == Decimal("12.6")
    code = product.code
    assert pk in _catalog_ids(ec) and pk in _catalog_ids(ec, q=code) and pk in _catalog_ids(ec, scenario="S7")
    assert pk not in _catalog_ids(ec, scenario="S1") and pk not in _catalog_ids(ec, q="不存在的产品")

    # a new price: back to review; the catalog keeps the approved price until 市工信 approves again
    page = pc.get(f"/myproducts/{pk}/change")
    resp = pc.post(
        f"/myproducts/{pk}/change",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), **FORM, "max_price": "15.5"},
    )
    assert resp.status_code == 302
    product = _product(app, pk)
    assert product.status == ReviewStatus.DRAFT and product.listed_price == Decimal("12.6")
    assert _action(pc, "submit", pk).status_code == 302
    assert pk in _catalog_ids(ec)
    assert act_http(cc, pk, "approve", "同意", subject="product").status_code == 302
    product = _product(app, pk)
    assert product.listed_price == Decimal("15.5") and product.code == code  # the code stays

    # 下架: out of the catalog at once
    assert _action(pc, "withdraw", pk).status_code == 302
    assert pk not in _catalog_ids(ec) and ec.get(f"/products/{pk}").status_code == 404


def test_bad_input_is_refused_beside_the_field_and_nothing_is_saved(app, factory):
    pc = client_for(app, _provider(factory))
    with app.app_context():
        before = db.session.query(Product).count()
    for over in (
        {"max_price": "NaN"},
        {"max_price": "1e20"},
        {"max_price": "0"},
        {"max_price": "1.00001"},
        {"name": ""},
        {"name": "a\x00b"},
        {"scenarios": []},
        {"category": "x"},
    ):
        page = pc.get("/myproducts/new")
        resp = pc.post("/myproducts/new", data={"csrf_token": csrf_from(page.get_data(as_text=True)), **FORM, **over})
        assert resp.status_code == 200, over
        assert "has-error" in resp.get_data(as_text=True), over
    with app.app_context():
        assert db.session.query(Product).count() == before


def test_another_provider_reaches_nothing_of_it(app, factory):
    prov, other = _provider(factory), _provider(factory)
    pc, oc = client_for(app, prov), client_for(app, other)
    _resp, product = _new(app, pc, name="甲服务商的产品")
    pk = product.id
    assert "甲服务商的产品" not in oc.get("/myproducts/list/").get_data(as_text=True)
    assert oc.get(f"/myproducts/show/{pk}").status_code in (302, 404)
    assert oc.get(f"/myproducts/{pk}/change").status_code == 404
    assert _action(oc, "submit", pk).status_code == 404
    assert _action(oc, "withdraw", pk).status_code == 404
    assert _product(app, pk).status == ReviewStatus.DRAFT and _product(app, pk).withdrawn_at is None
    # an enterprise cannot use the provider's screens at all
    ec = client_for(app, factory.enterprise_user())
    assert ec.get("/myproducts/list/").status_code in (302, 403)
    # a withdrawn product cannot be submitted again
    assert _action(pc, "withdraw", pk).status_code == 302
    _action(pc, "submit", pk)
    assert _product(app, pk).status == ReviewStatus.DRAFT


def test_city_exports_the_searched_products_as_xlsx_with_exact_prices(app, factory):
    import io

    from helpers_signing import listed_product
    from openpyxl import load_workbook

    name = f"导出测试产品{factory.credit_code()[-6:]}"
    listed_product(app, factory, price="1234.5678", name=name)
    city = client_for(app, factory.user("市工信"))
    resp = city.get("/productadmin/export.xlsx", query_string={"_flt_2_name": name})
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("产品/服务代码", "产品/服务名称")
    assert [r[1] for r in rows[1:]] == [name]  # the list's search applies to the export
    assert Decimal(str(rows[1][5])) == Decimal("1234.5678")
    # not for providers or enterprises
    assert client_for(app, _provider(factory)).get("/productadmin/export.xlsx").status_code in (302, 403)
