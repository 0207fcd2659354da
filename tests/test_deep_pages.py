"""Issue 12, the pages whose own SQL was slow at 100,000 projects, keep their rows and order:

- the review queue reads a page's ids first (`JOIN (SELECT id … ORDER BY … OFFSET n LIMIT 20)`, zsdx/paging.py),
  so a deep page, the 镇街 filter and 逾期 show the rows OFFSET / LIMIT showed, in the same order;
- 分配评估机构 reads the waiting and the assigned ones of each kind separately (each newest first, from an
  index): the list is still the waiting ones first, then the newest, every kind in one list;
- 一企一档's search finds a name by a middle substring, without regard to case for Latin letters.
"""

import datetime as dt
import random
import re
import uuid

from conftest import Factory
from helpers_review import client_for, make_filing, make_town, queue_ids

from zsdx.extensions import db
from zsdx.models import Filing, PostAssessment, PreDiagnosis, Project
from zsdx.paging import PAGE_SIZE


def _expected_queue(app, town_id, overdue_before=None):
    with app.app_context():
        query = db.session.query(Filing.id).filter(
            Filing.town_id == town_id, Filing.status == "reviewing", Filing.current_step == "third_party"
        )
        if overdue_before is not None:
            query = query.filter(Filing.step_entered_at < overdue_before)
        return [pk for (pk,) in query.order_by(Filing.submitted_at.desc(), Filing.id.desc())]


def test_deep_queue_pages_show_the_rows_of_offset_limit_in_order(app, factory):
    t = make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    long_ago = dt.datetime.now() - dt.timedelta(days=60)
    ids = [
        make_filing(app, ent, step="third_party", project_name=f"深页项目{i}", entered=long_ago if i % 3 else None)
        for i in range(45)
    ]
    with app.app_context():  # ties on submitted_at: the order falls back to id DESC
        base = dt.datetime(2026, 3, 1, 9, 0)
        for i, pk in enumerate(ids):
            db.session.get(Filing, pk).submitted_at = base + dt.timedelta(minutes=i // 4)
        db.session.commit()
    c = client_for(app, factory.user("第三方"))
    url = f"/review/?subject=filing&town={t['id']}"
    expected = _expected_queue(app, t["id"])
    assert len(expected) == 45
    shown = [queue_ids(c, f"{url}&page={n}") for n in (1, 2, 3)]
    assert shown == [expected[:20], expected[20:40], expected[40:]]
    assert queue_ids(c, f"{url}&page=4") == []  # past the end: empty, as before
    # the 逾期 filter (step entered before the step's time limit) with the town, on its second page
    overdue = _expected_queue(app, t["id"], overdue_before=dt.datetime.now() - dt.timedelta(days=30))
    assert len(overdue) == 30
    assert queue_ids(c, f"{url}&overdue=1") == overdue[:20]
    assert queue_ids(c, f"{url}&overdue=1&page=2") == overdue[20:]


def _task_keys(html):
    return re.findall(r'<tr data-task="[a-z-]*?(\d+)" data-kind="(\w+)">', html)


def test_assignment_list_is_waiting_first_then_newest_across_kinds(app):
    factory = Factory(app)
    ent = factory.enterprise_user()
    inst = factory.org("institution", "2001", institution_type="comprehensive")
    start = dt.datetime(2026, 5, 1, 8, 0)
    with app.app_context():
        for i in range(60):  # more than a page in each part: each part's own LIMIT matters
            for model in (PreDiagnosis, PostAssessment):
                project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
                db.session.add(project)
                db.session.flush()
                assigned = i % 5 != 0
                db.session.add(
                    model(
                        project_id=project.id,
                        organisation_id=ent["org_id"],
                        method="city",
                        started_at=start + dt.timedelta(hours=i // 3),  # ties within and across kinds
                        institution_id=inst if assigned else None,
                        assigned_at=start if assigned else None,
                    )
                )
        db.session.commit()
        rows = []  # every kind's city-assigned records, in the list's order (waiting first, newest, id, kind)
        for model, key in ((PreDiagnosis, "pre"), (PostAssessment, "post")):
            found = db.session.query(model.id, model.institution_id, model.started_at).filter(
                model.method == "city", model.started_at.isnot(None)
            )
            rows += [(0 if inst_id is None else 1, -at.timestamp(), -pk, key, pk) for pk, inst_id, at in found]
        expected = [(str(pk), key) for *_sort, key, pk in sorted(rows)]
    c = client_for(app, factory.user("市工信"))
    pages = -(-len(expected) // PAGE_SIZE)
    for n in sorted({1, 2, 3, pages}):
        keys = _task_keys(c.get(f"/diagnosis-assign/?page={n}").get_data(as_text=True))
        assert keys == expected[(n - 1) * PAGE_SIZE : n * PAGE_SIZE], n


def _dossier_projects(client, q):
    html = client.get("/dossier/", query_string={"q": q}).get_data(as_text=True)
    return {int(x) for x in re.findall(r'<tr data-project="(\d+)"', html)}


def test_dossier_search_finds_a_middle_substring_in_any_case(app, factory):
    digits = f"{random.randint(10**7, 10**8 - 1)}"
    latin = "Qx" + uuid.uuid4().hex[:6].upper()
    ent = factory.user("企业", org=factory.org("enterprise", "2010", name=f"中山市{latin}测试{digits}科技有限公司"))
    pk = make_filing(app, ent, step="town", project_name=f"智能{digits}改造项目")
    with app.app_context():
        filing = db.session.get(Filing, pk)
        project_id, filing_no = filing.project_id, filing.filing_no
    c = client_for(app, factory.user("市工信"))
    # 汉字 and digits (LIKE), and Latin letters in another case (ILIKE), in the middle of the name
    for q in (f"测试{digits}科技", f"{digits}改造", latin.lower() + "测试", f"{latin[2:].lower()}测试{digits}"):
        assert project_id in _dossier_projects(c, q), q
    if filing_no:
        assert project_id in _dossier_projects(c, filing_no[2:-2])
    assert project_id not in _dossier_projects(c, f"{digits}不存在")
    # LIKE's wildcards in the text are literal characters
    assert project_id not in _dossier_projects(c, f"测试{digits[:3]}%科技")
    assert project_id not in _dossier_projects(c, f"测试{digits[:-1]}_科技")
