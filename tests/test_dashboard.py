"""数据看板 through the real stack: the figures of a known data set (in a town of this test alone), exact money
sums, the 镇街's town (never another's, whatever the address says, in the page and in every .xlsx), who may
open it, malformed query parameters, the statement bound and the vendored ECharts."""

import datetime as dt
import io
import os
import random
import re
from decimal import Decimal

import count_queries as cq
import lxml.html
import pytest
from conftest import login
from helpers import assert_denied, town_id
from helpers_implementation import make_implementation
from helpers_review import make_filing, make_town, new_client
from helpers_signing import make_signing

from zsdx.extensions import db
from zsdx.models import (
    Contract,
    Filing,
    Implementation,
    PostAssessment,
    PreDiagnosis,
    PreSubsidy,
    ReviewStatus,
    Signing,
    Warehousing,
)

SECTIONS = ("stages", "towns", "industries", "levels", "money", "overdue")


@pytest.fixture(autouse=True)
def counted_every_time(app):
    """Every test counts afresh (the cache has tests of its own, which turn it on)."""
    from zsdx import dashboard

    saved = app.config.get("DASHBOARD_CACHE_SECONDS")
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    dashboard.clear_cache(app)
    yield
    app.config["DASHBOARD_CACHE_SECONDS"] = saved
    dashboard.clear_cache(app)


def _client(app, user):
    c = new_client(app)
    login(c, user)
    return c


def _build_town(app, factory, town, tag):
    """In `town`: A (filed, signed with contracts 12.3456 + 0.0001, 预奖补 已审核, 改造中 submitted, 改造前 二级,
    改造后 三级 confirmed, 已入库 with 10.0001 proposed), B (waiting at 镇街 for 10 days: overdue), C (a draft),
    E (filed 40 days ago, never diagnosed: 事前诊断 overdue). Returns the ids and names."""
    ent = factory.user("企业", org=factory.org("enterprise", town["code"]))
    inst = factory.org("institution", town["code"], institution_type="comprehensive")
    a = make_implementation(app, factory, ent, submitted=True, pre_level=2)
    b = make_filing(
        app, ent, step="town", project_name=f"{tag}逾期备案", entered=dt.datetime.now() - dt.timedelta(days=10)
    )
    c = make_filing(app, ent, step=None, project_name=f"{tag}草稿")
    e = make_signing(app, ent)
    now = dt.datetime.now()
    with app.app_context():
        db.session.get(Filing, a["filing"]).project_name = f"{tag}已入库项目"
        contracts = [db.session.get(Contract, cid) for cid in a["contracts"]]
        contracts[0].total_amount, contracts[0].subsidy_amount = Decimal("12.3456"), Decimal("10.0000")
        contracts[1].total_amount, contracts[1].subsidy_amount = Decimal("0.0001"), Decimal("0.0001")
        signing = db.session.get(Signing, a["signing"])
        db.session.add(
            PreSubsidy(
                signing_id=signing.id,
                organisation_id=ent["org_id"],
                town_id=town["id"],
                contracts=contracts,
                status=ReviewStatus.DONE,
                completed_at=now,
            )
        )
        post = db.session.get(PostAssessment, a["post_assessment"])
        post.institution_id, post.level, post.status, post.assessed_at = inst, 3, ReviewStatus.DONE, now
        db.session.add(
            Warehousing(
                project_id=a["project"],
                organisation_id=ent["org_id"],
                town_id=town["id"],
                project_name=f"{tag}已入库项目",
                status=ReviewStatus.DONE,
                level_after=3,
                subsidy_cap=Decimal("10.0001"),
                proposed_subsidy=Decimal("10.0001"),
            )
        )
        filing_e = db.session.get(Filing, e["filing"])
        filing_e.project_name = f"{tag}未诊断项目"
        filing_e.completed_at = now - dt.timedelta(days=40)
        db.session.commit()
    return {"ent": ent, "a": a, "b": b, "c": c, "e": e}


@pytest.fixture(scope="module")
def world(app):
    from conftest import Factory

    factory = Factory(app)
    town = make_town(app)
    data = _build_town(app, factory, town, f"看板{random.randint(0, 10**6)}")
    city = factory.user("市工信")
    reviewer = factory.user("镇街", town_code=town["code"])
    return {"town": town, "data": data, "city": city, "reviewer": reviewer, "factory": factory}


def _doc(resp):
    assert resp.status_code == 200, resp.status_code
    return lxml.html.fromstring(resp.get_data(as_text=True))


def _table(doc, table_id):
    return [
        [c.text_content().strip() for c in tr.xpath("./td")] for tr in doc.xpath(f'//table[@id="{table_id}"]/tbody/tr')
    ]


def _stage_counts(doc):
    return {
        (tr.get("data-stage"), tr.xpath("./td")[1].text_content().strip()): int(tr.xpath("./td")[2].text_content())
        for tr in doc.xpath('//table[@id="table-stages"]/tbody/tr[@data-stage]')
    }


def test_the_figures_of_a_known_town(app, world):
    c = _client(app, world["city"])
    doc = _doc(c.get(f"/dashboard/?town={world['town']['id']}"))
    assert doc.xpath('//*[@id="dash-scope"]')[0].text_content().strip() == world["town"]["name"]
    assert _stage_counts(doc) == {
        ("filing", "待提交"): 1,
        ("filing", "审核中（镇街审核）"): 1,
        ("filing", "已备案"): 2,
        ("pre_diagnosis", "待诊断"): 1,
        ("pre_diagnosis", "已诊断"): 1,
        ("signing", "待签约"): 1,
        ("signing", "已签约"): 1,
        ("pre_subsidy", "已审核"): 1,
        ("implementation", "已提交"): 1,
        ("post_assessment", "已评估"): 1,
        ("completion", "待提交"): 1,
        ("warehousing", "已入库"): 1,
    }
    # per town: only the chosen town, with 项目数 / 已备案 / 已签约 / 已入库 / 合同总金额
    assert _table(doc, "table-towns") == [[world["town"]["name"], "4", "2", "1", "1", "12.3457"]]
    industries = _table(doc, "table-industries")
    assert sum(int(r[1]) for r in industries) == 4 and sum(int(r[3]) for r in industries) == 1
    levels = {r[0]: (int(r[1]), int(r[2])) for r in _table(doc, "table-levels")}
    assert levels == {"一级": (0, 0), "二级": (1, 0), "三级": (0, 1), "四级": (0, 0), "未评估": (1, 1)}
    money = {r[0]: (r[1], r[2]) for r in _table(doc, "table-money")}
    assert money["已签约合同数"] == ("2", "")
    assert money["合同总金额"] == ("", "12.3457")  # 12.3456 + 0.0001, exact
    assert money["纳入资金奖补项目金额"] == ("", "10.0001")
    assert money["已审核预奖补申请"] == ("1", "10.0001")
    assert money["已入库项目（拟奖补金额）"] == ("1", "10.0001")
    overdue = {
        tr.get("data-stage"): int(tr.xpath("./td")[1].text_content())
        for tr in doc.xpath('//table[@id="table-overdue"]/tbody/tr')
    }
    assert overdue == {"filing": 1, "pre_diagnosis": 1, "pre_subsidy": 0, "post_assessment": 0, "warehousing": 0}
    items = {
        (tr.get("data-stage"), int(tr.get("data-id")))
        for tr in doc.xpath('//table[@id="table-overdue-items"]/tbody/tr[@data-id]')
    }
    with app.app_context():
        pre_e = db.session.query(PreDiagnosis.id).filter_by(project_id=world["data"]["e"]["project"]).scalar()
    assert items == {("filing", world["data"]["b"]), ("pre_diagnosis", pre_e)}
    links = doc.xpath('//table[@id="table-overdue-items"]//a[@class="zs-dash-open"]/@href')
    assert f"/review/filing/{world['data']['b']}" in links
    for href in links:  # every link opens for 市工信
        assert c.get(href).status_code == 200, href
    # the chart data carries the same figures (drawn by ECharts)
    import json

    data = json.loads(doc.xpath('//script[@id="zs-dashboard-data"]')[0].text)
    assert data["money"]["series"][0]["data"][0] == "12.3457"
    assert set(data) == set(SECTIONS)


def test_sql_overdue_matches_the_stage_rules(app, world):
    """The SQL of 事前诊断 / 事后评估 overdue (their dashboard parts: institution_reports.overdue_clause with
    diagnosis.past_deadline / post_assessment.past_deadline) agrees with institution_reports.is_overdue, and the
    chain stages' (workflow.overdue_clause) with workflow.is_overdue, record by record."""
    from zsdx import dashboard, workflow
    from zsdx import institution_reports as reports

    town = world["town"]["id"]
    with app.test_request_context("/"):
        listed = {(i.stage, i.id) for i in dashboard.overdue_items(town, limit=None)}
        expected = set()
        for model, stage in ((PreDiagnosis, "pre_diagnosis"), (PostAssessment, "post_assessment")):
            for record in db.session.query(model).filter_by(town_id=town):
                if reports.is_overdue(record):
                    expected.add((stage, record.id))
        for model, stage in ((Filing, "filing"), (PreSubsidy, "pre_subsidy"), (Warehousing, "warehousing")):
            for record in db.session.query(model).filter_by(town_id=town):
                if workflow.is_overdue(record):
                    expected.add((stage, record.id))
        assert listed == expected and len(listed) == 2
        # a post-assessment past its deadline appears, one before it does not
        post = db.session.get(PostAssessment, world["data"]["a"]["post_assessment"])
        post.status, post.assessed_at = ReviewStatus.DRAFT, None
        post.created_at = dt.datetime.now() - dt.timedelta(days=45)
        db.session.get(Signing, world["data"]["a"]["signing"]).end_date = dt.date.today() - dt.timedelta(days=40)
        db.session.flush()
        assert reports.is_overdue(post)
        assert ("post_assessment", post.id) in {(i.stage, i.id) for i in dashboard.overdue_items(town, limit=None)}
        db.session.get(Signing, world["data"]["a"]["signing"]).end_date = dt.date.today() - dt.timedelta(days=5)
        db.session.flush()
        assert not reports.is_overdue(post)
        assert ("post_assessment", post.id) not in {(i.stage, i.id) for i in dashboard.overdue_items(town, limit=None)}
        db.session.rollback()


def test_the_town_reviewer_sees_its_town_as_the_city_does(app, world):
    town = world["town"]["id"]
    city = _doc(_client(app, world["city"]).get(f"/dashboard/?town={town}"))
    own = _doc(_client(app, world["reviewer"]).get("/dashboard/"))
    for table in ("table-stages", "table-towns", "table-industries", "table-levels", "table-money", "table-overdue"):
        assert _table(own, table) == _table(city, table), table
    assert not own.xpath('//form[@id="dash-filters"]')  # no town filter for a 镇街


def test_the_rows_are_the_registered_parts(app, world):
    """The stages and the overdue figures are the registry's rows (each registered by its stage module), in the
    lifecycle's order."""
    from zsdx.dashboard_parts import overdue_parts, parts

    assert [p.key for p in parts()] == [
        "filing",
        "pre_diagnosis",
        "signing",
        "pre_subsidy",
        "implementation",
        "post_assessment",
        "completion",
        "warehousing",
    ]
    assert [p.key for p in overdue_parts()] == [
        "filing",
        "pre_diagnosis",
        "pre_subsidy",
        "post_assessment",
        "warehousing",
    ]
    doc = _doc(_client(app, world["city"]).get("/dashboard/"))
    assert [tr.get("data-stage") for tr in doc.xpath('//table[@id="table-overdue"]/tbody/tr')] == [
        p.key for p in overdue_parts()
    ]


def test_a_new_stage_is_its_registration_alone(app, world):
    """DoD 6: a stage's rows come from its own registration, with no change to the dashboard: a throwaway part (the
    filings once more, under a key of its own, between 项目备案 and 事前诊断, with the engine's overdue rule) shows in
    the stages table, the overdue table, the overdue list (opening its review page) and the chart, and the page
    costs the same statements."""
    import json

    from zsdx import filing
    from zsdx.dashboard_parts import (
        REVIEW_RANKS,
        DashboardPart,
        chain_overdue,
        register_dashboard_part,
        step_if_reviewing,
        unregister_dashboard_part,
    )

    town = world["town"]["id"]
    url = f"/dashboard/?town={town}"
    c = _client(app, world["city"])
    c.get("/")
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        _status, before, _e, _p = cq.measure(c, counter, url)
        register_dashboard_part(
            DashboardPart(
                key="throwaway",
                order=15,
                label="临时阶段",
                model=Filing,
                status=Filing.status,
                step=step_if_reviewing(Filing),
                status_text=filing.status_label,
                ranks=REVIEW_RANKS,
                overdue=chain_overdue(Filing),
            )
        )
        status, after, _e, _p = cq.measure(c, counter, url)
        assert status == 200 and after == before, (before, after)
        doc = _doc(c.get(url))
    finally:
        unregister_dashboard_part("throwaway")
        counter.close()
    stages = _table(doc, "table-stages")
    filings = [r for r in stages if r[0] == "项目备案"]
    copies = [r for r in stages if r[0] == "临时阶段"]
    assert copies and [r[1:] for r in copies] == [r[1:] for r in filings]
    keys = [tr.get("data-stage") for tr in doc.xpath('//table[@id="table-stages"]/tbody/tr')]
    assert keys.index("throwaway") == len(filings) and keys[len(filings) + len(copies)] == "pre_diagnosis"
    overdue = {
        tr.get("data-stage"): int(tr.xpath("./td")[1].text_content())
        for tr in doc.xpath('//table[@id="table-overdue"]/tbody/tr')
    }
    assert overdue["throwaway"] == overdue["filing"] == 1
    items = doc.xpath('//table[@id="table-overdue-items"]/tbody/tr[@data-stage="throwaway"]')
    assert [int(tr.get("data-id")) for tr in items] == [world["data"]["b"]]
    assert items[0].xpath(".//a/@href") == [f"/review/filing/{world['data']['b']}"]
    data = json.loads(doc.xpath('//script[@id="zs-dashboard-data"]')[0].text)
    assert data["stages"]["categories"][:3] == ["项目备案", "临时阶段", "事前诊断"]
    assert "临时阶段" in data["overdue"]["categories"]
    after_page = _doc(c.get(url))  # gone again
    assert not after_page.xpath('//table[@id="table-stages"]/tbody/tr[@data-stage="throwaway"]')


def _xlsx_rows(resp):
    from openpyxl import load_workbook

    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(resp.data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_exports_are_exact_and_chinese(app, world):
    c = _client(app, world["city"])
    town = world["town"]["id"]
    sheets = _xlsx_rows(c.get(f"/dashboard/export/towns.xlsx?town={town}"))
    assert list(sheets) == ["按镇街"]
    header, *rows = sheets["按镇街"]
    assert header == ["所属镇街", "项目数", "已备案", "已签约", "已入库", "合同总金额（万元）"]
    assert rows == [[world["town"]["name"], 4, 2, 1, 1, 12.3457]]
    money = _xlsx_rows(c.get(f"/dashboard/export/money.xlsx?town={town}"))["合同与奖补"]
    amounts = {r[0]: (r + [None] * 3)[2] for r in money[1:]}  # an empty trailing cell is not read back
    assert amounts["合同总金额"] == 12.3457 and amounts["已入库项目（拟奖补金额）"] == 10.0001
    overdue = _xlsx_rows(c.get(f"/dashboard/export/overdue.xlsx?town={town}"))
    assert set(overdue) == {"各阶段逾期数", "逾期事项"}
    assert len(overdue["逾期事项"]) == 3  # the header and both overdue items
    for section in SECTIONS:
        assert _xlsx_rows(c.get(f"/dashboard/export/{section}.xlsx?town={town}"))
    assert c.get("/dashboard/export/nosuch.xlsx").status_code == 404


def test_a_town_never_sees_another_town(app, world):
    """镇街 of 小榄镇 (2010): no 石岐街道 (2001) row in the page or in any export, even when asking for it."""
    factory = world["factory"]
    tag = f"石岐泄漏{random.randint(0, 10**6)}"
    _build_town(app, factory, {"code": "2001", "id": town_id(app, "2001")}, tag)
    _build_town(app, factory, {"code": "2010", "id": town_id(app, "2010")}, f"小榄{random.randint(0, 10**6)}")
    xiaolan = factory.user("镇街", town_code="2010")
    shiqi = town_id(app, "2001")
    c = _client(app, xiaolan)
    plain = _doc(c.get("/dashboard/"))
    for url in (f"/dashboard/?town={shiqi}", "/dashboard/", f"/dashboard/?town={shiqi}&town={shiqi}"):
        html = c.get(url).get_data(as_text=True)
        assert tag not in html and "石岐" not in html, url
        doc = lxml.html.fromstring(html)
        assert [r[0] for r in _table(doc, "table-towns")] == ["小榄镇"]
        assert _table(doc, "table-stages") == _table(plain, "table-stages")
        assert _table(doc, "table-money") == _table(plain, "table-money")
    for section in SECTIONS:
        for url in (f"/dashboard/export/{section}.xlsx?town={shiqi}", f"/dashboard/export/{section}.xlsx"):
            for title, rows in _xlsx_rows(c.get(url)).items():
                for row in rows:
                    text = " ".join("" if v is None else str(v) for v in row)
                    assert tag not in text and "石岐" not in text, (url, title, row)
    # the city sees 石岐's project in its overdue list
    city = _client(app, world["city"]).get(f"/dashboard/?town={shiqi}").get_data(as_text=True)
    assert tag in city


@pytest.mark.parametrize("role", ["企业", "服务商", "专家", "第三方", "评估机构"])
def test_other_roles_are_refused(app, world, role):
    user = world["factory"].enterprise_user() if role == "企业" else world["factory"].user(role)
    c = _client(app, user)
    for url in ("/dashboard/", "/dashboard/export/towns.xlsx"):
        assert_denied(c.get(url), url)


def test_anonymous_is_sent_to_login(app):
    resp = new_client(app).get("/dashboard/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


GARBAGE = [
    "town=" + "9" * 40,
    "town=NaN",
    "town=inf",
    "town=-1",
    "town=0",
    "town=1.5",
    "town=abc",
    "town=%00",
    "town=2147483648",
    "town=99999999",
    "town=",
    "town=1&town=2",
    "nosuch=%F0%9F%98%80",
]


@pytest.mark.parametrize("who", ["city", "reviewer"])
def test_garbage_parameters_never_crash(app, world, who):
    c = _client(app, world[who])
    for query in GARBAGE:
        for path in ("/dashboard/", "/dashboard/export/stages.xlsx", "/dashboard/export/%00.xlsx"):
            resp = c.get(f"{path}?{query}")
            assert resp.status_code < 500, (path, query, resp.status_code)
    resp = c.get("/dashboard/?town=99999999")
    assert resp.status_code == (302 if who == "city" else 200)


def test_within_the_statement_bound(app, world):
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        for user, url in (
            (world["city"], "/dashboard/"),
            (world["city"], f"/dashboard/?town={world['town']['id']}"),
            (world["reviewer"], "/dashboard/"),
        ):
            c = _client(app, user)
            c.get("/")
            status, n, _exists, _perm = cq.measure(c, counter, url)
            assert status == 200 and n <= 10, (url, n)
    finally:
        counter.close()


def test_echarts_is_served_by_the_app(app, world):
    c = _client(app, world["city"])
    html = c.get("/dashboard/").get_data(as_text=True)
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "an external URL on the page"
    for path in ("/static/vendor/echarts/echarts.min.js", "/static/zsdx/dashboard.js"):
        resp = c.get(path)
        assert resp.status_code == 200, path
        resp.close()
    assert os.path.exists(os.path.join(app.static_folder, "vendor", "echarts", "LICENSE"))


# --- the SQL against a naive recount -------------------------------------------------------------------------
def _naive(town):
    """The figures recounted record by record in Python (what the SQL of zsdx/dashboard.py must equal)."""
    from zsdx import institution_reports as reports
    from zsdx import workflow
    from zsdx.dashboard import money
    from zsdx.models import Completion, SigningStatus

    def scoped(model):
        query = db.session.query(model)
        return query.filter(model.town_id == town) if town is not None else query

    filings = {f.project_id: f for f in db.session.query(Filing)}
    towns, industries = {}, {}

    def add(key_town, key_industry, field, n=1):
        for table, key in ((towns, key_town), (industries, key_industry)):
            row = table.setdefault(key, {"projects": 0, "filed": 0, "signed": 0, "warehoused": 0, "total": Decimal(0)})
            row[field] += n

    for f in scoped(Filing):
        add(f.town_id, f.industry_id, "projects")
        if f.status == ReviewStatus.DONE:
            add(f.town_id, f.industry_id, "filed")
    contracts = subsidy = Decimal(0)
    n_contracts = 0
    for s in scoped(Signing).filter(Signing.status == SigningStatus.SIGNED):
        industry = filings[s.project_id].industry_id if s.project_id in filings else None
        add(s.town_id, industry, "signed")
        for c in db.session.query(Contract).filter_by(signing_id=s.id):
            n_contracts += 1
            contracts += c.total_amount or 0
            subsidy += c.subsidy_amount or 0
            add(s.town_id, industry, "total", money(c.total_amount) if c.total_amount is not None else 0)
    warehoused, proposed = 0, Decimal(0)
    for w in scoped(Warehousing).filter(Warehousing.status == ReviewStatus.DONE):
        f = filings.get(w.project_id)
        add(w.town_id, f.industry_id if f else None, "warehoused")
        warehoused += 1
        proposed += w.proposed_subsidy or 0
    approved = scoped(PreSubsidy).filter(PreSubsidy.status == ReviewStatus.DONE).all()
    totals = {
        "contracts": n_contracts,
        "contract_total": money(contracts),
        "contract_subsidy": money(subsidy),
        "pre_subsidy_count": len(approved),
        "pre_subsidy_amount": money(sum((c.subsidy_amount or 0 for p in approved for c in p.contracts), Decimal(0))),
        "warehoused": warehoused,
        "proposed_subsidy": money(proposed),
    }
    before, after = {}, {}
    posts = {p.project_id: p for p in db.session.query(PostAssessment)}
    for pre in scoped(PreDiagnosis):
        done = pre.status == ReviewStatus.DONE or pre.diagnosed_at is not None
        level = pre.level if done else None
        before[level] = before.get(level, 0) + 1
        post = posts.get(pre.project_id)
        level = post.level if post and (post.status == ReviewStatus.DONE or post.assessed_at is not None) else None
        after[level] = after.get(level, 0) + 1
    overdue = {}
    for model, stage, rule in (
        (Filing, "filing", workflow.is_overdue),
        (PreDiagnosis, "pre_diagnosis", reports.is_overdue),
        (PreSubsidy, "pre_subsidy", workflow.is_overdue),
        (PostAssessment, "post_assessment", reports.is_overdue),
        (Warehousing, "warehousing", workflow.is_overdue),
    ):
        overdue[stage] = sum(1 for record in scoped(model) if rule(record))
    sizes = {
        stage: scoped(model).count()
        for stage, model in (
            ("filing", Filing),
            ("pre_diagnosis", PreDiagnosis),
            ("signing", Signing),
            ("pre_subsidy", PreSubsidy),
            ("implementation", Implementation),
            ("post_assessment", PostAssessment),
            ("completion", Completion),
            ("warehousing", Warehousing),
        )
    }
    return towns, industries, totals, before, after, overdue, sizes


@pytest.mark.parametrize("scope", ["town", "city"])
def test_the_sql_equals_a_naive_recount(app, world, scope):
    """Every figure of the page (per town, per industry, money, levels, overdue, stage sizes) equals a record by
    record recount, for a town and for the whole city; the page's short overdue list is the head of the full one."""
    from zsdx import dashboard

    town = world["town"]["id"] if scope == "town" else None
    with app.test_request_context("/"):
        towns, industries, totals, before, after, overdue, sizes = _naive(town)
        figures = dashboard.figures(town, citywide=True)

        def table(rows):
            return {
                r.key: {
                    "projects": r.projects,
                    "filed": r.filed,
                    "signed": r.signed,
                    "warehoused": r.warehoused,
                    "total": r.contract_total,
                }
                for r in rows
            }

        listed_towns = table(figures.parts["towns"])
        assert {k: v for k, v in listed_towns.items() if any(v.values())} == {
            k: v for k, v in towns.items() if any(v.values())
        }
        assert table(figures.parts["industries"]) == {k: v for k, v in industries.items() if any(v.values())}
        assert figures.totals == totals
        names = dashboard.level_names()
        levels = {label: (b, a) for label, b, a in figures.counts["levels"]}
        for level in set(before) | set(after):
            label = names.get(level, str(level)) if level is not None else "未评估"
            assert levels[label] == (before.get(level, 0), after.get(level, 0)), level
        assert {k: n for k, _l, n in figures.counts["overdue"]} == overdue
        stage_sizes = {}
        for row in figures.counts["stages"]:
            stage_sizes[row.stage] = stage_sizes.get(row.stage, 0) + row.count
        assert {k: v for k, v in sizes.items() if v} == stage_sizes
        full = [(i.stage, i.id, i.since) for i in dashboard.overdue_items(town, limit=None)]
        assert len(full) == sum(overdue.values())
        assert full == sorted(full, key=lambda i: (i[2], i[0], i[1]))
        for k in (1, 2, 3, dashboard.OVERDUE_LIST_LIMIT):
            assert [(i.stage, i.id, i.since) for i in dashboard.overdue_items(town, limit=k)] == full[:k], k
        assert [(i.stage, i.id) for i in figures.items] == [(s, i) for s, i, _ in full[: dashboard.OVERDUE_LIST_LIMIT]]


def test_the_city_filter_lists_every_town(app, world):
    """市工信 looking at one town can still choose any other in the filter."""
    doc = _doc(_client(app, world["factory"].user("市工信")).get(f"/dashboard/?town={world['town']['id']}"))
    options = doc.xpath('//select[@id="dash-town"]/option/@value')
    assert str(world["town"]["id"]) in options and str(town_id(app, "2010")) in options


# --- the cache of the figures ------------------------------------------------------------------------------
def test_the_cache_is_per_scope(app, world):
    """Filled as 市工信 for town A (and for the whole city), the 镇街 of town B gets B's own figures, never A's or the
    city's; A's cached figures stay as counted until DASHBOARD_CACHE_SECONDS pass; the page says when they were
    counted."""
    from zsdx import dashboard

    factory = world["factory"]
    town_a = world["town"]
    town_b = make_town(app)
    _build_town(app, factory, town_b, f"乙镇{random.randint(0, 10**6)}")
    reviewer_b = factory.user("镇街", town_code=town_b["code"])
    city = _client(app, factory.user("市工信"))
    fresh_b = _doc(_client(app, reviewer_b).get("/dashboard/"))  # counted afresh (the cache is off)
    tables = ("table-stages", "table-towns", "table-industries", "table-levels", "table-money", "table-overdue")

    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    dashboard.clear_cache(app)
    page_a = _doc(city.get(f"/dashboard/?town={town_a['id']}"))
    _doc(city.get("/dashboard/"))
    stamp = page_a.xpath('//*[@id="dash-counted-at"]')[0].text_content().strip()
    assert re.fullmatch(r"数据更新于 \d\d:\d\d:\d\d", stamp), stamp
    for client in (_client(app, reviewer_b), _client(app, reviewer_b)):  # a miss, then a hit
        own = _doc(client.get("/dashboard/"))
        assert [r[0] for r in _table(own, "table-towns")] == [town_b["name"]]
        assert town_a["name"] not in lxml.html.tostring(own, encoding="unicode")
        for table in tables:
            assert _table(own, table) == _table(fresh_b, table), table
    # A's figures are kept: a new overdue filing in A shows once they expire (or the cache is cleared)
    make_filing(
        app,
        world["data"]["ent"],
        step="town",
        project_name="缓存后逾期",
        entered=dt.datetime.now() - dt.timedelta(days=9),
    )
    cached = _doc(city.get(f"/dashboard/?town={town_a['id']}"))
    assert _table(cached, "table-overdue") == _table(page_a, "table-overdue")
    dashboard.clear_cache(app)
    counted = _doc(city.get(f"/dashboard/?town={town_a['id']}"))
    assert _table(counted, "table-overdue") != _table(page_a, "table-overdue")
    assert "缓存后逾期" in lxml.html.tostring(counted, encoding="unicode")


def test_a_cached_page_costs_no_aggregate(app, world):
    from zsdx import dashboard

    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    dashboard.clear_cache(app)
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        c = _client(app, world["reviewer"])
        c.get("/")
        _status, first, _e, _p = cq.measure(c, counter, "/dashboard/")
        status, again, _e, _p = cq.measure(c, counter, "/dashboard/")
        # the four aggregates, the shared snapshot's read and its write: none of them the second time
        assert status == 200 and again <= first - 6, (first, again)
        assert not any(_shared_or_counted(s) for s in counter.statements), counter.statements
    finally:
        counter.close()


def _shared_or_counted(statement):
    return "zs_dashboard_snapshot" in statement or "UNION ALL" in statement


def test_every_worker_reads_the_figures_one_of_them_counted(app, world):
    """The figures of a scope are counted once for every worker and node (the table zs_dashboard_snapshot): a
    worker that has not counted them reads them, with the time they were counted, and counts afresh only once
    they are older than DASHBOARD_CACHE_SECONDS."""
    from zsdx import dashboard

    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    dashboard.clear_cache(app)
    tables = ("table-stages", "table-towns", "table-industries", "table-levels", "table-money", "table-overdue")
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        c = _client(app, world["reviewer"])
        c.get("/")
        counted = _doc(c.get("/dashboard/"))
        dashboard.forget_in_process()  # as another worker, or another node: nothing in its memory
        with counter.counting():
            shared = _doc(c.get("/dashboard/"))
        assert any("zs_dashboard_snapshot" in s for s in counter.statements)
        assert not any("UNION ALL" in s for s in counter.statements), "counted again"
        stamp = '//*[@id="dash-counted-at"]'
        assert shared.xpath(stamp)[0].text_content() == counted.xpath(stamp)[0].text_content()
        for table in tables:
            assert _table(shared, table) == _table(counted, table), table
        _age_snapshots(app, 61)  # a minute later: expired
        dashboard.forget_in_process()
        with counter.counting():
            c.get("/dashboard/")
        assert any("UNION ALL" in s for s in counter.statements), "an expired snapshot was not recounted"
    finally:
        counter.close()


def _age_snapshots(app, seconds):
    from zsdx.models import DashboardSnapshot

    with app.app_context():
        for snapshot in db.session.query(DashboardSnapshot):
            snapshot.counted_at -= dt.timedelta(seconds=seconds)
        db.session.commit()


def _aged_dashboard(app, world, seconds, new_overdue):
    """The town reviewer's 数据看板 counted, its snapshot then made `seconds` old (the cache 60 s, shown 300 s more
    while recounted), then a new overdue filing `new_overdue` in the town; nothing kept in the process. Returns the
    reviewer's client and the page as first counted."""
    from zsdx import dashboard

    app.config.update(DASHBOARD_CACHE_SECONDS=60, DASHBOARD_STALE_SECONDS=300)
    dashboard.clear_cache(app)
    reviewer = _client(app, world["reviewer"])
    first = _doc(reviewer.get("/dashboard/"))
    _age_snapshots(app, seconds)
    entered = dt.datetime.now() - dt.timedelta(days=9)
    make_filing(app, world["data"]["ent"], step="town", project_name=new_overdue, entered=entered)
    dashboard.forget_in_process()
    return reviewer, first


def _stamp(doc):
    return doc.xpath('//*[@id="dash-counted-at"]')[0].text_content().strip()


def test_expired_figures_are_shown_while_one_worker_recounts_them(app, world, monkeypatch):
    """The first visitors after the figures expire do not all count them (three such counts at once held every
    page of the benchmark up for a second): the expired figures are shown, with the time they were counted, and
    exactly one request asks for a recount, which runs once its response has been sent; the next visitor sees the
    recounted figures."""
    from zsdx import dashboard, jobs

    asked = []
    real_enqueue = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, **kw: asked.append((func, args)) or True)
    reviewer, first = _aged_dashboard(app, world, 61, "过期后新逾期")
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        pages = []
        for _ in range(3):  # three workers, one after another, nothing in their memory
            dashboard.forget_in_process()
            with counter.counting():
                pages.append(_doc(reviewer.get("/dashboard/")))
            assert not any("UNION ALL" in s for s in counter.statements), "counted in the request"
    finally:
        counter.close()
    for page in pages:  # the expired figures, as counted, with the time they were counted
        assert _stamp(page) == _stamp(first)
        assert _table(page, "table-overdue") == _table(first, "table-overdue")
    assert [func for func, _args in asked] == [jobs.recount_dashboard], "one recount, asked for once"
    # the job (the rq worker's, or in-process): then the next visitor sees the new figures, counted afresh
    func, args = asked[0]
    with app.app_context():
        real_enqueue(func, *args)
    dashboard.forget_in_process()
    recounted = _doc(reviewer.get("/dashboard/"))
    assert "过期后新逾期" in lxml.html.tostring(recounted, encoding="unicode")
    assert _table(recounted, "table-overdue") != _table(first, "table-overdue")
    assert len(asked) == 1


def test_figures_too_old_to_show_are_counted_in_the_request(app, world):
    reviewer, first = _aged_dashboard(app, world, 361, "太旧后新逾期")
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        with counter.counting():
            page = _doc(reviewer.get("/dashboard/"))
        assert any("UNION ALL" in s for s in counter.statements)
    finally:
        counter.close()
    assert "太旧后新逾期" in lxml.html.tostring(page, encoding="unicode")
    assert "太旧后新逾期" not in lxml.html.tostring(first, encoding="unicode")


def test_one_worker_claims_a_recount(app, world):
    """Of the workers that find the same expired snapshot at once, one takes the recount on; a claim that a dead
    worker left behind is taken over after RECOUNT_CLAIM_SECONDS; the recounted snapshot can be claimed anew."""
    from zsdx import dashboard
    from zsdx.models import DashboardSnapshot

    app.config.update(DASHBOARD_CACHE_SECONDS=60)
    dashboard.clear_cache(app)
    _client(app, world["reviewer"]).get("/dashboard/")
    with app.app_context():
        snapshot = db.session.query(DashboardSnapshot).one()
        scope, counted_at = snapshot.scope, snapshot.counted_at
        now = dt.datetime.now()
        assert [dashboard._claim_recount(scope, counted_at, now) for _ in range(3)] == [True, False, False]
        later = now + dt.timedelta(seconds=dashboard.RECOUNT_CLAIM_SECONDS + 1)
        assert dashboard._claim_recount(scope, counted_at, later) is True
        assert dashboard._claim_recount(scope, counted_at - dt.timedelta(seconds=1), later) is False  # not that one
        locale, town, citywide = scope.split(":")
        dashboard.recount(locale, int(town), citywide == "1")
        db.session.expire_all()
        recounted = db.session.query(DashboardSnapshot).one()
        assert recounted.recount_since is None and recounted.counted_at > counted_at


def test_the_overdue_export_is_streamed(app, world, monkeypatch):
    """The overdue .xlsx takes its rows from a generator over the database cursor, not a list built first."""
    from zsdx import xlsx

    seen = {}
    real = xlsx.download

    def spy(name, sheets):
        sheets = list(sheets)
        seen["rows"] = sheets[-1][2]
        return real(name, sheets)

    monkeypatch.setattr(xlsx, "download", spy)
    city = world["factory"].user("市工信")  # (a new login: the city's own is near its login limit here)
    resp = _client(app, city).get(f"/dashboard/export/overdue.xlsx?town={world['town']['id']}")
    assert resp.status_code == 200
    assert not isinstance(seen["rows"], list | tuple) and iter(seen["rows"]) is seen["rows"]
