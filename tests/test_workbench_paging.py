"""我的工作台's lists are paged in SQL, 20 a page, with the manual's pager (共 N 条 20条/页 < 1 2 3 >): a tab of
45 rows shows 20 and the pager, page 3 shows the last 5 numbered 41–45, and a garbage page number never
gives a 500 (zsdx/paging.py, the pager of zsdx/templates/zsdx/_macros.html)."""

import lxml.html
import pytest
from helpers_review import client_for

from zsdx.extensions import db
from zsdx.models import Organisation
from zsdx.seed import sample_filing

ROWS = 45
FILING_TAB = "/workbench/?group=projects&tab=filing"
OVERVIEW_TAB = "/workbench/?group=projects&tab=overview"


@pytest.fixture(scope="module")
def enterprise(app):
    from conftest import Factory

    ent = Factory(app).enterprise_user()
    with app.app_context():
        org = db.session.get(Organisation, ent["org_id"])
        for i in range(1, ROWS + 1):
            sample_filing(org, ent["id"], project_name=f"分页项目{i:02d}")
        db.session.commit()
    return ent


@pytest.fixture(scope="module")
def client(app, enterprise):
    return client_for(app, enterprise)  # one login: the login limit counts per login name


def _doc(resp):
    assert resp.status_code == 200, resp.status_code
    return lxml.html.fromstring(resp.get_data(as_text=True))


def _rows(doc, table_id):
    return doc.xpath(f'//table[@id="{table_id}"]/tbody/tr[not(td[@class="zs-empty"])]')


def _pager(doc):
    (pager,) = doc.xpath('//div[contains(@class, "zs-pager")]')
    return pager


@pytest.mark.parametrize(("url", "table_id"), [(FILING_TAB, "filing-list"), (OVERVIEW_TAB, "project-overview")])
def test_first_page_shows_20_and_the_pager(client, url, table_id):
    doc = _doc(client.get(url))
    rows = _rows(doc, table_id)
    assert len(rows) == 20
    assert [r.xpath("./td[1]")[0].text_content().strip() for r in rows] == [str(n) for n in range(1, 21)]
    pager = _pager(doc)
    text = " ".join(pager.text_content().split())
    assert "共 45 条" in text and "20条/页" in text
    assert [a.text_content() for a in pager.xpath('.//a[@class="zs-page-n"]')] == ["2", "3"]
    assert pager.xpath('.//li[@class="active"]')[0].text_content().strip() == "1"
    (next_link,) = pager.xpath('.//a[@id="page-next"]')
    assert "page=2" in next_link.get("href") and "tab=" in next_link.get("href")  # the tab stays in the URL
    assert not pager.xpath('.//a[@id="page-prev"]')


def test_page_3_shows_the_last_5(client):
    doc = _doc(client.get(FILING_TAB + "&page=3"))
    rows = _rows(doc, "filing-list")
    assert [r.xpath("./td[1]")[0].text_content().strip() for r in rows] == ["41", "42", "43", "44", "45"]
    # newest first: the first five filings made are the last page
    names = sorted(r.xpath("./td[2]")[0].text_content().strip() for r in rows)
    assert names == [f"分页项目{i:02d}" for i in range(1, 6)]
    pager = _pager(doc)
    assert pager.xpath('.//li[@class="active"]')[0].text_content().strip() == "3"
    assert pager.xpath('.//a[@id="page-prev"]') and not pager.xpath('.//a[@id="page-next"]')


def test_pages_do_not_overlap(client):
    seen = []
    for page in (1, 2, 3):
        doc = _doc(client.get(f"{FILING_TAB}&page={page}"))
        seen += [r.get("data-filing") for r in _rows(doc, "filing-list")]
    assert len(seen) == ROWS and len(set(seen)) == ROWS


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("99999999999999999999999", 5),  # past the end: the last page
        ("10001", 5),
        ("-5", 20),
        ("0", 20),
        ("NaN", 20),
        ("nan", 20),
        ("1e9", 20),
        ("inf", 20),
        ("", 20),
        ("２", 20),  # a full-width digit
        ("3&page=1", 5),  # the first of two
    ],
)
def test_garbage_page_numbers(client, page, shown):
    doc = _doc(client.get(f"{FILING_TAB}&page={page}"))
    assert len(_rows(doc, "filing-list")) == shown


@pytest.mark.parametrize("page", ["%00", "1%00", "%0d%0a", "%ff%fe", "%25", "<script>"])
def test_control_and_odd_bytes_in_the_page_number_are_never_a_500(client, page):
    resp = client.get(f"{FILING_TAB}&page={page}")
    assert resp.status_code < 500
    assert resp.status_code in (200, 400)


def test_statements_do_not_grow_with_the_page(app, client):
    from sqlalchemy import event

    counts = []
    n = [0]

    def count(*_args, **_kw):
        n[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for page in (1, 3, 99999):
            n[0] = 0
            client.get(f"{FILING_TAB}&page={page}")
            counts.append(n[0])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(set(counts)) == 1 and counts[0] <= 10, counts


@pytest.mark.parametrize(("role", "url"), [("评估机构", "/institution/"), ("市工信", "/diagnosis-assign/")])
def test_institution_lists_are_paged(app, role, url):
    """The institution's task list and 市工信's assignment queue (every kind in one list) carry the pager, and
    no page number breaks them."""
    from conftest import Factory

    factory = Factory(app)
    user = factory.user(role, org=factory.org("institution", "2001")) if role == "评估机构" else factory.user(role)
    c = client_for(app, user)
    for page in ("1", "2", "99999999999999999999", "-1", "NaN"):
        resp = c.get(f"{url}?page={page}")
        assert resp.status_code == 200, (url, page)
        doc = lxml.html.fromstring(resp.get_data(as_text=True))
        assert "20条/页" in _pager(doc).text_content()
    assert c.get(f"{url}?page=%00").status_code == 400


def test_institution_tasks_of_both_kinds_newest_assignment_first_across_pages(app):
    """评估机构 任务列表: 事前诊断 and 事后评估 tasks in one list, newest assignment first (ties: the higher id
    first), each task exactly once over the pages, however the kinds interleave (each kind gives its newest
    rows up to the page from its own index, zsdx/views/institution_reports.py)."""
    import datetime as dt

    from conftest import Factory

    from zsdx.models import PostAssessment, PreDiagnosis, Project

    factory = Factory(app)
    inst = factory.org("institution", institution_type="comprehensive")
    user = factory.user("评估机构", org=inst)
    ent = factory.enterprise_user()
    start = dt.datetime(2026, 3, 1, 9, 0)
    # 23 事前诊断 on even minutes and 22 事后评估 on odd ones, three of them sharing a minute with the other kind
    # (and four 事前诊断 sharing one minute), created in an order that is not the list's
    plan = [("pre", start + dt.timedelta(minutes=2 * i)) for i in range(23)]
    plan += [("post", start + dt.timedelta(minutes=2 * i + 1)) for i in range(22)]
    plan += [("post", start + dt.timedelta(minutes=m)) for m in (4, 10, 30)]
    plan += [("pre", start + dt.timedelta(minutes=40))] * 3
    expected = []
    with app.app_context():
        for kind, at in sorted(plan, key=lambda p: (p[1].minute * 7919) % 97):
            project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
            model = PreDiagnosis if kind == "pre" else PostAssessment
            record = model(
                project=project,
                organisation_id=ent["org_id"],
                method="institution",
                started_at=at,
                institution_id=inst,
                assigned_at=at,
            )
            db.session.add_all([project, record])
            db.session.flush()
            expected.append((at, record.id, kind))
        db.session.commit()
    expected.sort(key=lambda e: (-e[0].timestamp(), -e[1], e[2]))  # at DESC, id DESC, then the kind's key
    c = client_for(app, user)
    shown = []
    for page in (1, 2, 3):
        doc = _doc(c.get(f"/institution/?page={page}"))
        shown += [(row.get("data-kind"), row.get("data-task")) for row in doc.xpath("//tr[@data-task]")]
    assert shown == [(kind, ("post-" if kind == "post" else "") + str(pk)) for _at, pk, kind in expected]
    assert len(shown) == len(plan) == len(set(shown))
