"""The reviewers' queue (SPEC §3.1): constant query count, indexes, bulk 同意, .xlsx export."""

import io

from conftest import csrf_from
from helpers_review import (
    actions_of,
    client_for,
    filing_state,
    make_filing,
    make_town,
    queue_ids,
)
from openpyxl import load_workbook
from sqlalchemy import event, inspect

from zsdx.extensions import db
from zsdx.views.review import PAGE_SIZE


def count_statements(app, client, url):
    """(number of SQL statements the request ran, response)."""
    with app.app_context():
        engine = db.engine
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        resp = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert resp.status_code == 200, resp.status_code
    return len(statements), resp


def test_queue_query_count_does_not_grow_with_rows_or_table_size(app, factory):
    assert PAGE_SIZE == 20
    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    other_ent = factory.enterprise_user("2010")
    c = client_for(app, factory.user("第三方"))
    for i in range(3):
        make_filing(app, ent, step="third_party", project_name=f"队列项目{i}")
    urls = ["/review/?subject=filing", f"/review/?subject=filing&town={t['id']}"]
    c.get(urls[0])  # warm-up: one-time loads (permissions, translations) are not what is measured
    few = {url: count_statements(app, c, url) for url in urls}
    assert len(queue_ids(c, urls[1])) == 3

    for i in range(3, 25):
        make_filing(app, ent, step="third_party", project_name=f"队列项目{i}")
    for _ in range(30):  # the table grows elsewhere too (other towns, other steps, drafts)
        make_filing(app, other_ent, step="town")
    many = {url: count_statements(app, c, url) for url in urls}
    ids = queue_ids(c, urls[1])
    assert len(ids) == 20 and "25" in many[urls[1]][1].get_data(as_text=True)
    for url in urls:
        assert many[url][0] == few[url][0], (url, few[url][0], many[url][0])
    # the second page holds the rest, with the same number of statements
    n, _resp = count_statements(app, c, urls[1] + "&page=2")
    assert n == few[urls[1]][0] and len(queue_ids(c, urls[1] + "&page=2")) == 5


def test_filing_table_has_indexes_for_the_queue_filters(app):
    with app.app_context():
        indexes = inspect(db.engine).get_indexes("zs_filing")
    leading = {ix["column_names"][0] for ix in indexes}
    for column in ("status", "town_id", "submitted_at", "current_step", "step_entered_at", "organisation_id"):
        assert column in leading, (column, indexes)


def test_bulk_approve_advances_each_selected_row(app, factory):
    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    reviewer = factory.user("第三方")
    a, b, untouched = (make_filing(app, ent, step="third_party") for _ in range(3))
    not_mine = make_filing(app, ent, step="town")  # 第三方 may not act at 镇街
    c = client_for(app, reviewer)
    page = c.get(f"/review/?subject=filing&town={t['id']}").get_data(as_text=True)
    assert 'id="btn-bulk-approve"' in page
    before = filing_state(app, not_mine)
    resp = c.post(
        "/review/bulk",
        data={"csrf_token": csrf_from(page), "subject": "filing", "ids": [str(a), str(b), str(not_mine)]},
    )
    assert resp.status_code == 302
    for pk in (a, b):
        state = filing_state(app, pk)
        assert state["status"] == "reviewing" and state["current_step"] == "city"
        assert [(x[0], x[1], x[2]) for x in actions_of(app, pk)] == [("third_party", "approve", reviewer["id"])]
    assert filing_state(app, untouched)["current_step"] == "third_party" and actions_of(app, untouched) == []
    assert filing_state(app, not_mine) == before and actions_of(app, not_mine) == []
    assert set(queue_ids(c, f"/review/?subject=filing&town={t['id']}")) == {untouched}
    assert {a, b} <= set(queue_ids(c, f"/review/?subject=filing&tab=done&town={t['id']}"))
    # the same selection posted again (a second tab, a double click) changes nothing
    page = c.get(f"/review/?subject=filing&town={t['id']}").get_data(as_text=True)
    c.post("/review/bulk", data={"csrf_token": csrf_from(page), "subject": "filing", "ids": [str(a), str(b)]})
    for pk in (a, b):
        assert filing_state(app, pk)["current_step"] == "city" and len(actions_of(app, pk)) == 1


def test_export_is_a_workbook_of_the_filtered_rows(app, factory):
    t, other = make_town(app), make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    ent2 = factory.user("企业", org=factory.org("enterprise", other["code"]))
    wanted = {make_filing(app, ent, step="third_party", project_name=f"导出项目{i}") for i in range(2)}
    make_filing(app, ent, step="town", project_name="导出-未到第三方")
    make_filing(app, ent2, step="third_party", project_name="导出-其他镇街")
    c = client_for(app, factory.user("第三方"))
    resp = c.get(f"/review/export.xlsx?subject=filing&town={t['id']}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert all(isinstance(h, str) and h for h in header) and "企业名称" in header
    col = {name: header.index(name) for name in header}
    assert len(data) == len(wanted)
    assert {r[2] for r in data} == {f"导出项目{i}" for i in range(2)}
    assert {r[col["所属镇街"]] if "所属镇街" in col else r[3] for r in data} == {t["name"]}
    assert [r[0] for r in data] == [1, 2]
    # the other town's row is there without the town filter
    resp = c.get("/review/export.xlsx?subject=filing")
    names = {r[2] for r in load_workbook(io.BytesIO(resp.data)).active.iter_rows(min_row=2, values_only=True)}
    assert {"导出项目0", "导出项目1", "导出-其他镇街"} <= names and "导出-未到第三方" not in names
