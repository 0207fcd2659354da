"""`flask zsdx gen-load` at tiny sizes in the test database: every status is there with the rows it implies,
the sizes hold, and the 市工信 demo reviewer's queue renders over the generated rows.

The load is confined to a town of this test (make_town) so that other tests' town queues stay theirs."""

import pytest
from conftest import login
from helpers_review import make_town, new_client
from sqlalchemy import func

from zsdx.extensions import db
from zsdx.models import (
    Filing,
    Notification,
    Organisation,
    PreDiagnosis,
    ReviewAction,
    ReviewReminder,
    Signing,
    ZsdxUser,
)
from zsdx.seed import DEMO_PASSWORD

SIZES = {"enterprises": 20, "filings": 100, "notifications": 500, "products": 30}


@pytest.fixture(scope="module")
def load(app):
    from zsdx.loadgen import generate
    from zsdx.seed import seed_demo

    town = make_town(app)
    with app.app_context():
        seed_demo()
        before = {
            "orgs": db.session.query(func.count(Organisation.id)).scalar(),
            "notes": db.session.query(func.count(Notification.id)).scalar(),
        }
        counts = generate(**SIZES, seed=7, town_codes=[town["code"]], echo=lambda *a: None)
        db.session.remove()
    return {"town": town, "counts": counts, "before": before}


def _filings(town_id):
    return db.session.query(Filing).filter(Filing.town_id == town_id)


def test_every_status_with_its_audit_rows(app, load):
    with app.app_context():
        filings = _filings(load["town"]["id"]).all()
        assert len(filings) == SIZES["filings"]
        by_status = {}
        for f in filings:
            by_status.setdefault((f.status, f.current_step), []).append(f)
        for key in [
            ("draft", None),
            ("reviewing", "town"),
            ("reviewing", "third_party"),
            ("reviewing", "city"),
            ("returned", None),
            ("done", None),
            ("rejected", None),
        ]:
            assert by_status.get(key), f"no filing {key}"
        ids = [f.id for f in filings]
        actions = {}
        for a in db.session.query(ReviewAction).filter(
            ReviewAction.subject_type == "filing", ReviewAction.subject_id.in_(ids)
        ):
            actions.setdefault(a.subject_id, []).append(a)
        demo = {u.username: u.id for u in db.session.query(ZsdxUser).filter(ZsdxUser.username.like("138000000%"))}
        for f in filings:
            rows = sorted(actions.get(f.id, []), key=lambda a: (a.created_at, a.id))
            kinds = [a.action for a in rows]
            if f.status == "draft":
                assert rows == [] and f.submitted_at is None and f.filing_no is None
                continue
            assert kinds[0] == "submit" and f.submitted_at == max(a.created_at for a in rows if a.action == "submit")
            assert f.version == len(rows)
            assert all(a.opinion for a in rows if a.action in ("return", "reject"))
            if f.status == "reviewing":
                assert kinds[-1] in ("submit", "approve") and f.step_entered_at >= rows[-1].created_at
                assert f.step_entered_at == rows[-1].created_at
            elif f.status == "returned":
                assert kinds[-1] == "return" and rows[-1].step == f.return_step
            elif f.status == "rejected":
                assert kinds[-1] == "reject" and f.completed_at == rows[-1].created_at
            else:
                assert [a.step for a in rows if a.action == "approve"][-3:] == ["town", "third_party", "city"]
                assert len(f.filing_no) == 13 and f.filing_no[6:10] == load["town"]["code"]
                assert f.filing_no[:6] == f.completed_at.strftime("%y%m%d")
                assert db.session.query(PreDiagnosis).filter_by(project_id=f.project_id).count() == 1
                assert db.session.query(Signing).filter_by(project_id=f.project_id).count() == 1
        # the 第三方 and 市工信 steps are acted on by the demo reviewers (they are the only ones at this size)
        third = {a.actor_id for r in actions.values() for a in r if a.step == "third_party"}
        city = {a.actor_id for r in actions.values() for a in r if a.step == "city"}
        assert third == {demo["13800000006"]} and city == {demo["13800000008"]}
        numbers = [f.filing_no for f in filings if f.filing_no]
        assert len(numbers) == len(set(numbers))


def test_sizes_and_notifications(app, load):
    with app.app_context():
        town_id = load["town"]["id"]
        orgs = db.session.query(Organisation).filter(Organisation.town_id == town_id, Organisation.kind == "enterprise")
        assert orgs.count() == SIZES["enterprises"]
        users = db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id.in_([o.id for o in orgs]))
        assert users.count() == SIZES["enterprises"] and all(u.role_names() == {"企业"} for u in users)
        total = db.session.query(func.count(Notification.id)).scalar()
        assert total - load["before"]["notes"] == SIZES["notifications"] == load["counts"]["zs_notification"]
        city = db.session.query(ZsdxUser).filter_by(username="13800000008").one()
        todos = db.session.query(Notification).filter_by(user_id=city.id, kind="todo")
        assert todos.count() > 10
        # an open to-do for every filing waiting at the city step
        waiting = {f.id for f in _filings(town_id).filter(Filing.status == "reviewing", Filing.current_step == "city")}
        open_ = {n.subject_id for n in todos.filter(Notification.step == "city", Notification.closed_at.is_(None))}
        assert waiting <= open_
        overdue = (
            db.session.query(ReviewReminder)
            .filter(ReviewReminder.subject_id.in_([f.id for f in _filings(town_id)]))
            .count()
        )
        assert overdue >= 0


def test_a_second_run_is_refused(app, load):
    from zsdx.loadgen import GenLoadError, generate

    with app.app_context():
        with pytest.raises(GenLoadError):
            generate(**SIZES, town_codes=[load["town"]["code"]], echo=lambda *a: None)
        db.session.rollback()


def test_city_demo_reviewer_queue_renders(app, load):
    c = new_client(app)
    login(c, {"phone": "13800000008", "password": DEMO_PASSWORD})
    with app.app_context():
        waiting = _filings(load["town"]["id"]).filter(Filing.status == "reviewing", Filing.current_step == "city").all()
        names = [f.project_name for f in waiting]
    for url in (
        "/review/?subject=filing",
        f"/review/?subject=filing&town={load['town']['id']}",
        f"/review/?subject=filing&tab=done&town={load['town']['id']}",
        "/workbench/",
        "/notifications/?kind=todo",
    ):
        resp = c.get(url)
        assert resp.status_code == 200, url
    html = c.get(f"/review/?subject=filing&town={load['town']['id']}").get_data(as_text=True)
    assert any(name in html for name in names)


def test_products_in_every_state(app, load):
    from zsdx.models import Product

    with app.app_context():
        rows = (
            db.session.query(Product)
            .filter(
                Product.name.like("%云平台%")
                | Product.name.like("%系统%")
                | Product.name.like("%解决方案%")
                | Product.name.like("%实施服务%")
            )
            .all()
        )
        states = {(p.status, p.listed_price is not None, p.withdrawn_at is not None) for p in rows}
        assert load["counts"]["zs_product"] == 30
        assert {
            ("done", True, False),
            ("reviewing", False, False),
            ("reviewing", True, False),
            ("draft", False, False),
            ("returned", False, False),
            ("done", True, True),
        } <= states
        assert all(p.code for p in rows if p.listed_price is not None)
