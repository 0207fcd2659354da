"""The 审核工作台 .xlsx export is streamed (issue 12): its records are read EXPORT_CHUNK at a time while the
workbook is written, and what it holds is exactly the queue's rows, in the queue's order."""

import datetime as dt
import io

import lxml.html
from helpers_review import client_for, make_filing, make_town
from openpyxl import load_workbook

import zsdx.views.review as review_view
from zsdx.extensions import db
from zsdx.models import Filing, ReviewAssignment, ReviewStatus, Warehousing


def _warehousing(app, ent, town, name, step, submitted, entered):
    """A 项目入库 record of `ent` waiting at `step` (its own project, from a draft filing)."""
    filing_id = make_filing(app, ent, step=None, project_name=name)
    with app.app_context():
        project_id = db.session.get(Filing, filing_id).project_id
        record = Warehousing(
            project_id=project_id,
            organisation_id=ent["org_id"],
            town_id=town["id"],
            project_name=name,
            status=ReviewStatus.REVIEWING,
            current_step=step,
            submitted_at=submitted,
            step_entered_at=entered,
        )
        db.session.add(record)
        db.session.commit()
        return record.id


def _queue_rows(client, url):
    """The queue's rows as the reviewer sees them, page after page: the cells the export also has."""
    out, page = [], 1
    while True:
        doc = lxml.html.fromstring(client.get(f"{url}&page={page}").get_data(as_text=True))
        rows = doc.xpath("//tr[@data-id]")
        for tr in rows:
            cells = [td.text_content().strip() for td in tr.xpath("./td")]
            out.append([int(cells[1]), *cells[2:8]])  # after the checkbox: 序号 … 是否逾期
        if not rows or not doc.xpath('//a[@id="page-next"]'):
            return out
        page += 1


def _export_rows(client, url):
    resp = client.get(url)
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    return rows[0], [[r[0], *("" if v is None else str(v) for v in r[1:])] for r in rows[1:]]


def test_the_export_is_the_queue_in_its_order_across_chunks(app, factory, monkeypatch):
    monkeypatch.setattr(review_view, "EXPORT_CHUNK", 3)
    now = dt.datetime.now().replace(microsecond=0)
    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    expert, city = factory.user("专家"), factory.user("市工信")

    # 市工信 reviews at the last step and assigns the 验收专家 (待分配): 8 rows, two with the same 提交时间
    for i in range(5):
        entered = now - dt.timedelta(days=9 if i % 2 else 1)  # the city step allows 5 days: odd ones are overdue
        _warehousing(app, ent, t, f"导出复审{i}", "city", now - dt.timedelta(hours=i), entered)
    _warehousing(app, ent, t, "导出同时", "city", now - dt.timedelta(hours=2), now)
    for i in range(2):
        _warehousing(app, ent, t, f"导出待分配{i}", "expert", now - dt.timedelta(minutes=30 + i), now)
    # not in the city's queue: an expert step already assigned, and a record still at the town
    assigned = _warehousing(app, ent, t, "导出已分配", "expert", now, now)
    _warehousing(app, ent, t, "导出镇街", "town", now, now)
    with app.app_context():
        db.session.add(
            ReviewAssignment(subject_type="warehousing", subject_id=assigned, step="expert", user_id=expert["id"])
        )
        db.session.commit()

    c = client_for(app, city)
    query = f"subject=warehousing&town={t['id']}"
    header, exported = _export_rows(c, f"/review/export.xlsx?{query}")
    shown = _queue_rows(c, f"/review/?{query}")
    assert header == ("序号", "企业名称", "项目名称", "所属镇街", "状态", "提交时间", "是否逾期")
    assert len(exported) == 8 > review_view.EXPORT_CHUNK * 2  # three chunks
    assert exported == shown
    by_name = {row[2]: row for row in exported}
    assert {by_name[f"导出待分配{i}"][4] for i in range(2)} == {"待分配"}
    assert by_name["导出复审1"][6] == "是" and by_name["导出复审0"][6] == "否"
    assert {row[6] for row in exported} == {"是", "否"}
    assert "导出已分配" not in by_name and "导出镇街" not in by_name
    assert [row[0] for row in exported] == list(range(1, 9))
    # newest first; the same 提交时间: the later record first (the queue's id order)
    names = [row[2] for row in exported]
    assert names.index("导出同时") < names.index("导出复审2")
