"""项目实施-改造中 through HTTP (manual 05): the list (待提交 → 已提交), the page 企业现状（改造前） with its eight 维度指标,
保存 / 提交 naming what is missing beside it, 提交 opening 事后评估 and 改造完成, 行业型服务商协助填写 (the provider fills,
the enterprise 确认提交), 信息变更 with revisions, 【表单下载】 (.docx / .xlsx); the attacker's side."""

import io

import lxml.html
import pytest
from conftest import csrf_from
from helpers_forms import get_page, post_as_shown, post_crafted, textarea_value
from helpers_implementation import make_implementation
from helpers_review import client_for, notes_of

from zsdx.extensions import db
from zsdx.models import (
    AssistRequest,
    Completion,
    Contract,
    Implementation,
    ImplementationStatus,
    PostAssessment,
    Revision,
    Signing,
)

LIST = "/workbench/?group=projects&tab=implementing"


@pytest.fixture()
def ent(factory):
    return factory.enterprise_user()


def _post(client, url, action, untick=(), **fields):
    """Post the page as shown, with `fields` changed and the dimensions of `untick` unticked."""
    untick = [f"dim-{dimension}-ticked" for dimension in untick]
    return post_as_shown(client, url, action, "implementation-form", drop=untick, **fields)


def _state(app, pk):
    with app.app_context():
        r = db.session.get(Implementation, pk)
        return {
            "status": r.status,
            "assisted": r.assisted,
            "submitted_at": r.submitted_at,
            "indicators": [(i.dimension, i.ticked, i.before) for i in r.indicators],
        }


def _row(client, pk):
    _html, doc = get_page(client, LIST)
    rows = doc.xpath(f"//tr[@data-implementation='{pk}']")
    assert rows, "the record is not listed"
    return rows[0].text_content()


def _problems(resp):
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    return [li.text_content() for li in doc.xpath("//*[@id='problem-list']//li")], doc


def _with_lead_unit(app, ids, provider_org):
    """The project's contracts signed with `provider_org` as their 已签约行业服务商 (the lead unit)."""
    with app.app_context():
        for contract in db.session.query(Contract).filter(Contract.id.in_(ids["contracts"])):
            contract.industry_provider_id, contract.no_industry_provider = provider_org, False
        db.session.commit()


def test_the_enterprise_fills_and_submits_and_the_next_stages_open(app, factory, ent):
    ids = make_implementation(app, factory, ent)
    pk = ids["implementation"]
    c = client_for(app, ent)
    # the list: 待提交, 未选择协助, 详情 编辑 表单下载
    text = _row(c, pk)
    assert "待提交" in text and "未选择协助" in text and "编辑" in text and "表单下载" in text
    assert "信息变更" not in text
    # the page as the manual draws it
    html, doc = get_page(c, f"/implementation/{pk}/edit")
    for words in (
        "企业现状（改造前）",
        "行业型服务商协助填写",
        "维度指标",
        "示例",
        "指标数据（改造前）",
        "保存",
        "提交",
    ):
        assert words in html, words
    assert "以下维度指标至少选择一项填写" in html and "若选择无牵引单位，必须选否" in html
    assert len(doc.xpath("//table[@id='dimension-rows']//input[@type='checkbox']")) == 8
    assert "病毒拦截成功率" in html  # the manual's examples
    # tick 市场维度 with its data, untick 提质维度, and submit
    resp = _post(
        c,
        f"/implementation/{pk}/edit",
        "submit",
        untick=("quality",),
        **{"dim-market-ticked": "y", "dim-market-before": "客户满意度 85%", "assisted": "0"},
    )
    assert resp.status_code == 302, _problems(resp)[0]
    state = _state(app, pk)
    assert state["status"] == ImplementationStatus.SUBMITTED and state["submitted_at"] is not None
    ticked = [(d, b) for d, t, b in state["indicators"] if t]
    assert ticked == [("innovation", "innovation改造前数据"), ("market", "客户满意度 85%")]
    # 事后评估 and 改造完成 are open; 改造完成 carries the ticked dimensions with their 改造前 data
    with app.app_context():
        assert db.session.query(PostAssessment).filter_by(project_id=ids["project"]).count() == 1
        completion = db.session.query(Completion).filter_by(project_id=ids["project"]).one()
        assert [(r.dimension, r.before) for r in completion.results] == ticked
    # the list: 已提交 with its time, 详情 信息变更; 编辑 is gone and so is the page
    text = _row(c, pk)
    assert "已提交" in text and "信息变更" in text and "编辑" not in text
    resp = c.get(f"/implementation/{pk}/edit")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/implementation/{pk}")
    assert post_crafted(c, f"/implementation/{pk}/edit", "submit").status_code == 302
    assert _state(app, pk)["submitted_at"] == state["submitted_at"]
    # the detail
    html, doc = get_page(c, f"/implementation/{pk}")
    assert "客户满意度 85%" in doc.get_element_by_id("dimension-view").text_content()
    assert doc.get_element_by_id("implementation-status").text_content() == "已提交"


def test_nothing_ticked_is_refused_and_named(app, factory, ent):
    ids = make_implementation(app, factory, ent)
    pk = ids["implementation"]
    c = client_for(app, ent)
    resp = _post(c, f"/implementation/{pk}/edit", "submit", untick=("innovation", "quality"))
    assert resp.status_code == 200
    problems, doc = _problems(resp)
    assert any("至少勾选并填写一项" in p for p in problems)
    assert "至少勾选并填写一项" in doc.get_element_by_id("dimensions-error").text_content()
    assert _state(app, pk)["status"] == ImplementationStatus.PENDING


def test_a_ticked_dimension_without_data_is_refused_beside_it_and_typed_values_stay(app, factory, ent):
    ids = make_implementation(app, factory, ent)
    pk = ids["implementation"]
    c = client_for(app, ent)
    url = f"/implementation/{pk}/edit"
    resp = _post(
        c,
        url,
        "submit",
        **{"dim-green-ticked": "y", "dim-green-before": "  ", "dim-innovation-before": "设备联网率 40%"},
    )
    assert resp.status_code == 200
    problems, doc = _problems(resp)
    assert doc.get_element_by_id("dim-green-before-error").text_content().strip()
    assert "绿色维度" in doc.get_element_by_id("dim-green-before-error").text_content()
    # what was typed is on the page and kept
    assert textarea_value(doc.get_element_by_id("dim-innovation-before")) == "设备联网率 40%"
    assert doc.get_element_by_id("dim-green-ticked").get("checked") is not None
    state = _state(app, pk)
    assert state["status"] == ImplementationStatus.PENDING
    assert ("innovation", True, "设备联网率 40%") in state["indicators"] and ("green", True, None) in state[
        "indicators"
    ]
    # more than 500 characters: refused beside the field, the saved value stays
    resp = _post(c, url, "save", **{"dim-innovation-before": "长" * 501})
    assert resp.status_code == 200
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert "500" in doc.get_element_by_id("dim-innovation-before-error").text_content()
    assert ("innovation", True, "设备联网率 40%") in _state(app, pk)["indicators"]
    # 行业型服务商协助填写 not chosen: named
    with app.app_context():
        db.session.get(Implementation, pk).assisted = None
        db.session.commit()
    c.get(url)
    resp = _post(c, url, "submit", **{"dim-green-before": "节水 10%"})
    problems, doc = _problems(resp)
    assert any("协助" in p for p in problems) and doc.get_element_by_id("assisted-error").text_content().strip()
    assert _state(app, pk)["status"] == ImplementationStatus.PENDING


def test_without_a_lead_unit_assistance_must_be_no(app, factory, ent):
    ids = make_implementation(app, factory, ent)  # the contracts have 无牵引单位
    pk = ids["implementation"]
    c = client_for(app, ent)
    url = f"/implementation/{pk}/edit"
    resp = _post(c, url, "ask", assisted="1", assist_provider=str(ids["provider_org"]))
    assert resp.status_code == 302
    html, doc = get_page(c, url)
    assert "无牵引单位" in html
    with app.app_context():
        assert db.session.query(AssistRequest).filter_by(host_type="implementation", host_id=pk).count() == 0
    resp = _post(c, url, "submit", assisted="1")
    problems, _doc = _problems(resp)
    assert any("无牵引单位" in p for p in problems)
    assert _state(app, pk)["status"] == ImplementationStatus.PENDING


def test_assisted_filling_round_trip(app, factory, ent):
    provider_org = factory.org("provider", is_industry_provider=True)
    provider = factory.user("服务商", org=provider_org)
    other_provider = factory.user("服务商", org=factory.org("provider", is_industry_provider=True))
    ids = make_implementation(app, factory, ent)
    _with_lead_unit(app, ids, provider_org)
    pk = ids["implementation"]
    c, p, o = client_for(app, ent), client_for(app, provider), client_for(app, other_provider)
    edit, fill = f"/implementation/{pk}/edit", f"/implementation/{pk}/assist"
    # before sending, the provider reaches nothing
    assert p.get(f"/implementation/{pk}").status_code == 404 and p.get(fill).status_code == 404
    # the lead units offered are the contracts' 已签约行业服务商; another one is refused
    _html, doc = get_page(c, edit)
    offered = [o.get("value") for o in doc.xpath("//select[@id='assist-provider']/option") if o.get("value")]
    assert offered == [str(provider_org)]
    assert _post(c, edit, "ask", assisted="1", assist_provider=str(other_provider["org_id"])).status_code == 302
    with app.app_context():
        assert db.session.query(AssistRequest).filter_by(host_type="implementation", host_id=pk).count() == 0
    resp = _post(c, edit, "ask", assisted="1", assist_provider=str(provider_org))
    assert resp.status_code == 302
    with app.app_context():
        request = db.session.query(AssistRequest).filter_by(host_type="implementation", host_id=pk).one()
        assert request.status == "reviewing" and request.provider_id == provider_org
    assert "协助填写中" in _row(c, pk) or "服务商填写中" in _row(c, pk)
    # the provider finds it in its 待办; the enterprise's page is locked meanwhile
    assert [n for n in notes_of(app, provider, kind="todo") if n["link"].startswith(fill)]
    _html, doc = get_page(c, edit)
    assert doc.get_element_by_id("assist-locked") is not None and not doc.xpath("//textarea")
    before = _state(app, pk)
    assert post_crafted(c, edit, "submit", **{"dim-market-ticked": "y", "dim-market-before": "x"}).status_code == 302
    assert _state(app, pk) == before
    # another provider, and the enterprise's own page, stay closed to the provider
    assert o.get(fill).status_code == 404 and o.get(f"/implementation/{pk}").status_code == 404
    assert p.get(edit).status_code in (403, 404)
    assert post_crafted(p, edit, "save", **{"dim-market-before": "x"}).status_code in (403, 404)
    assert post_crafted(p, fill, "ask", assisted="0").status_code == 403
    # the provider fills: nothing ticked is refused, then the data
    resp = _post(p, fill, "submit", untick=("innovation", "quality"))
    assert resp.status_code == 200 and any("至少勾选" in x for x in _problems(resp)[0])
    resp = _post(
        p,
        fill,
        "submit",
        untick=("quality",),
        **{
            "dim-innovation-ticked": "y",
            "dim-innovation-before": "协助填写：联网率 30%",
            "dim-safety-ticked": "y",
            "dim-safety-before": "拦截率 99%",
        },
    )
    assert resp.status_code == 302, _problems(resp)[0]
    # back with the enterprise: 待企业确认; the provider can no longer change it
    assert post_crafted(p, fill, "save").status_code == 403
    resp = p.get(fill)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/implementation/{pk}")
    assert "待企业确认" in _row(c, pk)
    html, doc = get_page(c, edit)
    assert doc.get_element_by_id("btn-submit").text_content().strip() == "确认提交"
    assert textarea_value(doc.get_element_by_id("dim-safety-before")) == "拦截率 99%"
    resp = _post(c, edit, "submit")
    assert resp.status_code == 302, _problems(resp)[0]
    text = _row(c, pk)
    assert "已提交" in text and "已确认" in text
    with app.app_context():
        completion = db.session.query(Completion).filter_by(project_id=ids["project"]).one()
        assert [(r.dimension, r.before) for r in completion.results] == [
            ("innovation", "协助填写：联网率 30%"),
            ("safety", "拦截率 99%"),
        ]
    # the provider may still read what it helped with, not change it
    assert p.get(f"/implementation/{pk}").status_code == 200
    assert p.get(f"/implementation/{pk}/change").status_code in (403, 404)


def test_the_enterprise_may_take_the_page_back(app, factory, ent):
    provider_org = factory.org("provider", is_industry_provider=True)
    provider = factory.user("服务商", org=provider_org)
    ids = make_implementation(app, factory, ent)
    _with_lead_unit(app, ids, provider_org)
    pk = ids["implementation"]
    c, p = client_for(app, ent), client_for(app, provider)
    edit = f"/implementation/{pk}/edit"
    assert _post(c, edit, "ask", assisted="1", assist_provider=str(provider_org)).status_code == 302
    assert _post(c, edit, "cancel").status_code == 302
    assert p.get(f"/implementation/{pk}/assist").status_code == 404
    _html, doc = get_page(c, edit)
    assert doc.xpath("//table[@id='dimension-rows']")  # editable again


def test_information_change_keeps_revisions(app, factory, ent):
    ids = make_implementation(app, factory, ent, submitted=True)
    pk = ids["implementation"]
    c = client_for(app, ent)
    url = f"/implementation/{pk}/change"
    html, doc = get_page(c, url)
    assert "信息变更" in html
    resp = _post(c, url, "save", **{"dim-innovation-before": "变更后：联网率 60%"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/implementation/{pk}")
    with app.app_context():
        revision = db.session.query(Revision).filter_by(subject_type="implementation", subject_id=pk).one()
        assert "变更后：联网率 60%" in revision.changes and "innovation改造前数据" in revision.changes
    _html, doc = get_page(c, f"/implementation/{pk}")
    assert "变更后：联网率 60%" in doc.get_element_by_id("implementation-revisions").text_content()
    # 【提交】 on the change page saves the change too
    resp = _post(c, url, "submit", **{"dim-cost-ticked": "y", "dim-cost-before": "成本 100 万"})
    assert resp.status_code == 302
    assert ("cost", True, "成本 100 万") in _state(app, pk)["indicators"]
    # a change that breaks a rule is refused and nothing changes
    before = _state(app, pk)
    resp = _post(c, url, "save", untick=("innovation", "quality", "cost"))
    assert resp.status_code == 200 and "至少勾选" in resp.get_data(as_text=True)
    resp = _post(c, url, "save", **{"dim-quality-before": ""})
    assert resp.status_code == 200
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    assert doc.get_element_by_id("dim-quality-before-error").text_content().strip()
    assert _state(app, pk) == before
    with app.app_context():
        assert db.session.query(Revision).filter_by(subject_type="implementation", subject_id=pk).count() == 2
    # a pending record has no change page
    pending = make_implementation(app, factory, ent)
    assert c.get(f"/implementation/{pending['implementation']}/change").status_code == 404


def test_the_form_downloads_open_with_the_typed_data(app, factory, ent):
    from docx import Document
    from openpyxl import load_workbook

    ids = make_implementation(app, factory, ent)
    pk = ids["implementation"]
    c = client_for(app, ent)
    _post(c, f"/implementation/{pk}/edit", "save", **{"dim-market-ticked": "y", "dim-market-before": "=SUM(1,2) 营收"})
    with app.app_context():
        name = db.session.get(Implementation, pk).project_name
    resp = c.get(f"/implementation/{pk}/form.docx")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    doc = Document(io.BytesIO(resp.data))
    text = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    assert name in text and "innovation改造前数据" in text and "=SUM(1,2) 营收" in text
    assert "企业现状（改造前）" in "\n".join(p.text for p in doc.paragraphs)
    assert "不涉及" in text  # an unticked dimension
    resp = c.get(f"/implementation/{pk}/form.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert name in cells and "innovation改造前数据" in cells and "指标数据（改造前）" in cells
    assert cells["=SUM(1,2) 营收"].data_type == "s"  # typed text, never a formula


def test_readers_and_strangers(app, factory, ent):
    ids = make_implementation(app, factory, ent, submitted=True)
    pk = ids["implementation"]
    other = client_for(app, factory.enterprise_user())
    for url in ("", "/edit", "/change", "/assist", "/form.docx", "/form.xlsx"):
        assert other.get(f"/implementation/{pk}{url}").status_code == 404, url
    before = _state(app, pk)
    for url in ("/edit", "/change"):
        resp = post_crafted(other, f"/implementation/{pk}{url}", "save", **{"dim-innovation-before": "别人的"})
        assert resp.status_code == 404, url
    assert _state(app, pk) == before
    # a provider nobody asked: 404
    stranger = client_for(app, factory.user("服务商", org=factory.org("provider", is_industry_provider=True)))
    assert stranger.get(f"/implementation/{pk}").status_code == 404
    assert stranger.get(f"/implementation/{pk}/assist").status_code == 404
    # the town's 镇街 and 市工信 read it; another town's 镇街 does not
    assert client_for(app, factory.user("镇街", town_code="2010")).get(f"/implementation/{pk}").status_code == 200
    assert client_for(app, factory.user("市工信")).get(f"/implementation/{pk}").status_code == 200
    assert client_for(app, factory.user("镇街", town_code="2001")).get(f"/implementation/{pk}").status_code == 404


def test_a_post_without_csrf_changes_nothing(app, factory, ent):
    ids = make_implementation(app, factory, ent)
    pk = ids["implementation"]
    c = client_for(app, ent)
    before = _state(app, pk)
    resp = c.post(f"/implementation/{pk}/edit", data={"action": "submit", "dim-innovation-before": "x"})
    assert resp.status_code == 400
    assert _state(app, pk) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"dim-innovation-before": "数据\x00"},
        {"dim-innovation-before": "长" * 10_000},
        {"dim-innovation-ticked": ["y", "y", "n"], "dim-innovation-before": ["a", "b"]},
        {"assisted": "2", "assist_provider": "abc"},
        {"assisted": ["1", "0"], "assist_provider": "99999999999999999999"},
        {"action": "remove_contract:1"},
        {"dim-nosuch-ticked": "y", "dim-nosuch-before": "x"},
    ],
)
def test_malformed_input_is_refused_without_an_error(app, factory, ent, fields):
    ids = make_implementation(app, factory, ent)
    pk = ids["implementation"]
    with app.app_context():
        db.session.get(Implementation, pk).assisted = None  # 提交 stays refused, whatever else parses
        db.session.commit()
    c = client_for(app, ent)
    token = csrf_from(c.get(f"/implementation/{pk}/edit").get_data(as_text=True))
    for action in ("save", "submit", "ask"):
        data = {"csrf_token": token, "action": action, "dim-innovation-ticked": "y", **fields}
        resp = c.post(f"/implementation/{pk}/edit", data=data)
        assert resp.status_code in (200, 302), (action, resp.status_code)
    state = _state(app, pk)
    assert state["status"] == ImplementationStatus.PENDING
    assert all(b is None or ("\x00" not in b and len(b) <= 500) for _d, _t, b in state["indicators"])


def test_signing_submission_creates_the_record(app, factory, ent):
    """项目签约 【提交】 → 已签约 creates the 改造中 record with its eight dimensions ticked (the list shows it)."""
    from helpers_signing import listed_product, make_signing

    from zsdx.signing import submit_signing

    product = listed_product(app, factory)
    ids = make_signing(app, ent, contracts=1, filled=True, product=product)
    with app.app_context():
        from zsdx.models import ZsdxUser

        submit_signing(db.session.get(Signing, ids["signing"]), db.session.get(ZsdxUser, ent["id"]))
        record = db.session.query(Implementation).filter_by(project_id=ids["project"]).one()
        assert [i.ticked for i in record.indicators] == [True] * 8
        pk = record.id
    assert "待提交" in _row(client_for(app, ent), pk)
