"""`flask zsdx gen-load` at tiny sizes in the test database: every status is there with the rows it implies,
the sizes hold, and the 市工信 demo reviewer's queue renders over the generated rows; the 项目签约 chapter
(signings in every state, the 行业型服务商 round trip, 预奖补申请 in every status) and the implementation chapter
(改造中, 事后评估 and 改造完成 in every state, invoices, ratings) and the 项目入库 chapter (every state, expert
assignments, returns, the subsidy of the 已入库 ones) are consistent.

The load is confined to a town of this test (make_town) so that other tests' town queues stay theirs; the
申报窗口 it opens is removed after the module (other tests expect the chain closed)."""

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

# 1,000 filings: enough submitted 改造完成 for every 项目入库 state; a notification size below what the histories
# imply keeps one 第三方 and one 市工信 reviewer (the demo ones) and trims read notes first, open to-dos last
SIZES = {"enterprises": 20, "filings": 2000, "notifications": 10000, "products": 30}


@pytest.fixture(scope="module")
def load(app):
    from zsdx.loadgen import generate
    from zsdx.models import SubmissionWindow
    from zsdx.seed import seed_demo

    town = make_town(app)
    with app.app_context():
        seed_demo()
        before = {
            "orgs": db.session.query(func.count(Organisation.id)).scalar(),
            "notes": db.session.query(func.count(Notification.id)).scalar(),
            "windows": {w.id for w in db.session.query(SubmissionWindow.id)},
        }
        counts = generate(**SIZES, seed=7, town_codes=[town["code"]], echo=lambda *a: None)
        db.session.remove()
    yield {"town": town, "counts": counts, "before": before}
    with app.app_context():
        db.session.query(SubmissionWindow).filter(SubmissionWindow.id.notin_(before["windows"])).delete(
            synchronize_session=False
        )
        db.session.commit()


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
        f"/review/?subject=pre_subsidy&town={load['town']['id']}",
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


def test_signings_in_every_state(app, load):
    """项目签约: carried from the filing, 已签约 ones complete (contracts within their amounts, needs, picked
    listed products, the 改造中 record), the assistance round trip in each of its states."""
    from decimal import Decimal

    from zsdx.models import AssistRequest, Contract, Implementation, Product, SigningNeed, SigningProduct

    places = Decimal("0.0001")
    with app.app_context():
        town_id = load["town"]["id"]
        filings = {f.project_id: f for f in _filings(town_id).filter(Filing.status == "done")}
        signings = db.session.query(Signing).filter(Signing.town_id == town_id).all()
        assert {s.project_id for s in signings} == set(filings)
        ids = [s.id for s in signings]
        contracts, needs, products, requests = {}, {}, {}, {}
        for c in db.session.query(Contract).filter(Contract.signing_id.in_(ids)):
            contracts.setdefault(c.signing_id, []).append(c)
        for n in db.session.query(SigningNeed).filter(SigningNeed.signing_id.in_(ids)):
            needs.setdefault(n.signing_id, []).append(n)
        for p in db.session.query(SigningProduct).filter(SigningProduct.signing_id.in_(ids)):
            products.setdefault(p.signing_id, []).append(p)
        for r in db.session.query(AssistRequest).filter(AssistRequest.host_type == "signing"):
            if r.host_id in ids:
                requests[r.host_id] = r
        implementations = {
            i.project_id: i
            for i in db.session.query(Implementation).filter(Implementation.project_id.in_(list(filings)))
        }
        states = set()
        for s in signings:
            f = filings[s.project_id]
            assert (s.organisation_id, s.project_name, s.summary) == (
                f.organisation_id,
                f.project_name,
                f.project_summary,
            )
            assert (s.start_date, s.end_date, s.target_level) == (f.start_date, f.end_date, f.target_level)
            assert s.chain_leader == f.chain_leader and s.created_at == f.completed_at
            own = contracts.get(s.id, [])
            for c in own:
                for amount in (c.total_amount, c.subsidy_amount):
                    assert amount is None or (isinstance(amount, Decimal) and amount == amount.quantize(places))
                if c.total_amount is not None and c.subsidy_amount is not None:
                    assert Decimal(0) < c.subsidy_amount <= c.total_amount
            request = requests.get(s.id)
            if s.status == "signed":
                assert own and s.submitted_at and s.acceptance_date and needs.get(s.id) and products.get(s.id)
                assert all(c.number and c.file_id and c.total_amount and c.subsidy_amount is not None for c in own)
                assert all(c.industry_provider_id or c.no_industry_provider for c in own)
                assert implementations[s.project_id].status in ("pending", "submitted")
                assert implementations[s.project_id].organisation_id == s.organisation_id
                if s.assisted:
                    assert request.status == "done" and request.confirmed_at == s.submitted_at
                    states.add("signed assisted")
                else:
                    assert s.assisted is False and request is None
                    states.add("signed")
                for row in products[s.id]:
                    assert row.contract_id in {c.id for c in own} and row.price > 0
                    assert (row.over_price_reason is not None) == (row.price > row.max_price)
                    product = db.session.get(Product, row.product_id)
                    assert (row.code, row.name, row.max_price) == (product.code, product.name, product.listed_price)
                    assert product.listed_price is not None and product.withdrawn_at is None
                    assert row.supplier_name == product.organisation.name
            else:
                assert s.status == "pending" and s.submitted_at is None and s.project_id not in implementations
                if not own:
                    states.add("untouched")
                elif s.assisted:
                    states.add(f"assist {request.status} {request.current_step} {request.confirmed_at}")
                else:
                    assert request is None
                    states.add("partly filled")
                    assert any(
                        c.number is None
                        or c.total_amount is None
                        or c.subsidy_amount is None
                        or c.file_id is None
                        or not (c.industry_provider_id or c.no_industry_provider)
                        for c in own
                    )
            if request is not None:
                provider = db.session.get(Organisation, request.provider_id)
                assert provider.kind == "provider" and provider.is_industry_provider
                assert request.provider_id in {c.industry_provider_id for c in own}
                assert request.organisation_id == s.organisation_id and request.submitted_at
                assert s.assisted is True
        assert {
            "untouched",
            "partly filled",
            "assist reviewing provider_fill None",  # 协助填写中
            "assist done None None",  # 待企业确认
            "assist draft None None",  # the enterprise took the page back
            "signed",
            "signed assisted",
        } <= states
        # the provider that fills a page has a user, who has the page in its to-dos
        filling = [r for r in requests.values() if r.status == "reviewing"]
        for r in filling:
            user = db.session.query(ZsdxUser).filter_by(organisation_id=r.provider_id).one()
            assert user.role_names() == {"服务商"}
            assert (
                db.session.query(Notification)
                .filter_by(user_id=user.id, subject_type="assist", subject_id=r.id, closed_at=None)
                .count()
                >= 1  # and an overdue reminder after 10 days
            )


def test_pre_subsidies_in_every_status(app, load):
    """预奖补申请 of 已签约 signings: every status, the signing's own contracts, the audit trail and to-dos."""
    from zsdx.models import Contract, PreSubsidy

    with app.app_context():
        town_id = load["town"]["id"]
        rows = db.session.query(PreSubsidy).filter(PreSubsidy.town_id == town_id).all()
        by_status = {(r.status, r.current_step) for r in rows}
        assert {
            ("draft", None),
            ("reviewing", "town"),
            ("reviewing", "city"),
            ("returned", None),
            ("done", None),
            ("rejected", None),
        } <= by_status
        actions = {}
        for a in db.session.query(ReviewAction).filter(
            ReviewAction.subject_type == "pre_subsidy", ReviewAction.subject_id.in_([r.id for r in rows])
        ):
            actions.setdefault(a.subject_id, []).append(a)
        for r in rows:
            signing = db.session.get(Signing, r.signing_id)
            assert signing.status == "signed" and r.organisation_id == signing.organisation_id
            assert r.created_at >= signing.submitted_at
            assert r.contracts and all(c.signing_id == r.signing_id for c in r.contracts)
            own = db.session.query(Contract.id).filter(Contract.signing_id == r.signing_id).count()
            assert len(r.contracts) <= own
            trail = sorted(actions.get(r.id, []), key=lambda a: (a.created_at, a.id))
            kinds = [a.action for a in trail]
            assert r.version == len(trail)
            if r.status == "draft":
                assert trail == [] and r.submitted_at is None
                continue
            assert r.application_file_id and r.commitment_file_id and r.credit_file_id
            assert kinds[0] == "submit" and r.submitted_at == max(a.created_at for a in trail if a.action == "submit")
            assert trail[0].created_at > r.created_at
            if r.status == "reviewing":
                assert r.step_entered_at == trail[-1].created_at
            elif r.status == "returned":
                assert kinds[-1] == "return" and trail[-1].step == r.return_step and trail[-1].opinion
            elif r.status == "rejected":
                assert kinds[-1] == "reject" and r.completed_at == trail[-1].created_at and trail[-1].opinion
            else:
                assert [a.step for a in trail if a.action == "approve"][-2:] == ["town", "city"]
                assert r.completed_at == trail[-1].created_at
        # an open to-do of the 市工信 demo reviewer for every application waiting at the city step
        city = db.session.query(ZsdxUser).filter_by(username="13800000008").one()
        waiting = {r.id for r in rows if r.status == "reviewing" and r.current_step == "city"}
        open_ = {
            n.subject_id
            for n in db.session.query(Notification).filter_by(
                user_id=city.id, kind="todo", subject_type="pre_subsidy", step="city", closed_at=None
            )
        }
        assert waiting and waiting <= open_


def _signed(town_id):
    return {s.project_id: s for s in db.session.query(Signing).filter_by(town_id=town_id, status="signed")}


def _requests(host_type, host_ids):
    from zsdx.models import AssistRequest

    rows = db.session.query(AssistRequest).filter(AssistRequest.host_type == host_type)
    return {r.host_id: r for r in rows.filter(AssistRequest.host_id.in_(list(host_ids) or [0]))}


def _check_request(request, host, signing):
    """The page went to a 行业型服务商 of the project's contracts, whose one user has it in its to-dos while it fills."""
    from zsdx.models import Contract

    leads = {c.industry_provider_id for c in db.session.query(Contract).filter_by(signing_id=signing.id)}
    assert request.provider_id in leads and request.organisation_id == signing.organisation_id
    assert request.item_name == signing.project_name and request.submitted_at >= signing.submitted_at
    if request.status == "reviewing":
        user = db.session.query(ZsdxUser).filter_by(organisation_id=request.provider_id).one()
        assert user.role_names() == {"服务商"}
        todo = db.session.query(Notification).filter_by(
            user_id=user.id, subject_type="assist", subject_id=request.id, closed_at=None
        )
        assert todo.count() >= 1 and all(f"/{host}/" in n.link for n in todo)


def test_implementations_in_every_state(app, load):
    """改造中 of every 已签约 project: its eight dimensions, each state (the 行业型服务商's in between), and 事后评估
    and 改造完成 opened by the submission (the ticked dimensions carried with their 改造前 data)."""
    import datetime as dt

    from zsdx.models import DIMENSIONS, Completion, Implementation, ImplementationIndicator, PostAssessment

    with app.app_context():
        signed = _signed(load["town"]["id"])
        rows = db.session.query(Implementation).filter(Implementation.project_id.in_(list(signed))).all()
        assert {i.project_id for i in rows} == set(signed)
        indicators = {}
        for row in db.session.query(ImplementationIndicator).filter(
            ImplementationIndicator.implementation_id.in_([i.id for i in rows])
        ):
            indicators.setdefault(row.implementation_id, []).append(row)
        requests = _requests("implementation", [i.id for i in rows])
        opened = {p.project_id for p in db.session.query(PostAssessment).filter_by(town_id=load["town"]["id"])}
        completions = {c.project_id: c for c in db.session.query(Completion).filter_by(town_id=load["town"]["id"])}
        states = set()
        for i in rows:
            s = signed[i.project_id]
            assert (i.organisation_id, i.town_id, i.project_name) == (s.organisation_id, s.town_id, s.project_name)
            assert i.created_at == s.submitted_at and i.updated_at >= i.created_at
            dims = sorted(indicators[i.id], key=lambda x: x.id)
            assert [x.dimension for x in dims] == list(DIMENSIONS)
            ticked = [x for x in dims if x.ticked]
            assert ticked and all(x.before is None for x in dims if not x.ticked)
            request = requests.get(i.id)
            assert (request is not None) == bool(i.assisted)
            if request is not None:
                _check_request(request, "implementation", s)
            if i.status == "submitted":
                assert i.submitted_at and s.submitted_at < i.submitted_at == i.updated_at <= dt.datetime.now()
                assert all(x.before for x in ticked)
                assert i.project_id in opened
                results = completions[i.project_id].results
                assert [(r.dimension, r.before) for r in results] == [(x.dimension, x.before) for x in ticked]
                if i.assisted:
                    assert request.status == "done" and request.confirmed_at == i.submitted_at
                    states.add("submitted assisted")
                else:
                    assert i.assisted is False
                    states.add("submitted")
                continue
            assert i.status == "pending" and i.submitted_at is None
            assert i.project_id not in opened and i.project_id not in completions
            if request is not None:
                states.add(f"assist {request.status} {request.current_step} {request.confirmed_at}")
            elif all(x.ticked and x.before is None for x in dims) and i.assisted is None:
                states.add("untouched")
            else:
                assert any(x.before for x in dims) and i.assisted in (None, False)
                states.add("partly filled")
        assert {
            "untouched",
            "partly filled",
            "assist reviewing provider_fill None",  # 协助填写中
            "assist done None None",  # 待企业确认
            "submitted",
            "submitted assisted",
        } <= states


def test_post_assessments_in_every_state(app, load):
    """事后评估 of every submitted 改造中: only the 综合型服务机构, each state, the institution's upload and the
    enterprise's 确认 / 退回修改 as audit rows, the to-dos the engine writes, times in order."""
    import datetime as dt

    from zsdx.models import Completion, Implementation, PostAssessment

    with app.app_context():
        town_id = load["town"]["id"]
        rows = db.session.query(PostAssessment).filter_by(town_id=town_id).all()
        submitted = {
            i.project_id: i for i in db.session.query(Implementation).filter_by(town_id=town_id, status="submitted")
        }
        assert {p.project_id for p in rows} == set(submitted)
        comprehensive = {
            o.id for o in db.session.query(Organisation).filter_by(kind="institution", institution_type="comprehensive")
        }
        assert len(comprehensive) >= 5
        owners = {u.organisation_id: u.id for u in db.session.query(ZsdxUser).filter(ZsdxUser.username.like("150%"))}
        trails = {}
        for a in db.session.query(ReviewAction).filter(
            ReviewAction.subject_type == "post_assessment_report", ReviewAction.subject_id.in_([p.id for p in rows])
        ):
            trails.setdefault(a.subject_id, []).append(a)
        level_after = {c.project_id: c.level_after for c in db.session.query(Completion).filter_by(town_id=town_id)}
        now = dt.datetime.now()
        states = set()
        for p in rows:
            assert p.organisation_id == submitted[p.project_id].organisation_id
            assert p.created_at == submitted[p.project_id].submitted_at
            trail = sorted(trails.get(p.id, []), key=lambda a: (a.created_at, a.id))
            assert p.institution_id is None or p.institution_id in comprehensive
            if p.started_at is None:
                assert (p.method, p.institution_id, p.status, p.version, trail) == (None, None, "draft", 0, [])
                states.add("not started")
                continue
            assert p.created_at <= p.started_at <= now and p.method in ("institution", "city")
            if p.institution_id is None:
                assert p.method == "city" and p.status == "draft" and not trail and p.version == 1
                states.add("waiting for the city")
                continue
            assert p.started_at <= p.assigned_at and (p.method == "city" or p.assigned_at == p.started_at)
            claims = 1 if p.method == "institution" else 2
            assert p.version == claims + len(trail)
            if p.status == "draft":
                assert not trail and p.report_file_id is None and p.reported_level is None
                states.add("assigned")
                continue
            members = {u.id for u in db.session.query(ZsdxUser).filter_by(organisation_id=p.institution_id)}
            assert members and trail[0].action == "submit" and trail[0].created_at > p.assigned_at
            for a in trail:
                assert a.actor_id in members if a.action == "submit" else a.actor_id == owners[p.organisation_id]
                assert a.created_at <= now
            assert p.submitted_at == max(a.created_at for a in trail if a.action == "submit")
            assert p.report_file_id and 1 <= p.reported_level <= 4 and 0 <= p.reported_score <= 100
            if p.status == "reviewing":
                assert p.current_step == "enterprise_confirm" and p.step_entered_at == trail[-1].created_at
                assert trail[-1].action == "submit" and p.level is None and p.assessed_at is None
                todo = db.session.query(Notification).filter_by(
                    user_id=owners[p.organisation_id],
                    subject_type="post_assessment_report",
                    subject_id=p.id,
                    step="enterprise_confirm",
                    closed_at=None,
                )
                assert todo.count() >= 1
                states.add("report uploaded")
            elif p.status == "returned":
                assert p.return_step == "enterprise_confirm" and p.current_step is None
                assert trail[-1].action == "return" and trail[-1].opinion and p.assessed_at is None
                states.add("returned")
            else:
                assert p.status == "done" and trail[-1].action == "approve" and trail[-1].opinion is None
                assert p.assessed_at == p.completed_at == trail[-1].created_at
                assert (p.level, p.score) == (p.reported_level, p.reported_score)
                assert level_after[p.project_id] == p.level
                states.add("confirmed")
            if p.status != "done":
                assert level_after[p.project_id] is None
        assert {"not started", "waiting for the city", "assigned", "report uploaded", "returned", "confirmed"} <= states
        # the institutions' users were told of their new tasks
        told = db.session.query(Notification).filter(
            Notification.user_id.in_(
                [u.id for u in db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id.in_(comprehensive))]
            )
        )
        assert told.filter(Notification.kind == "todo", Notification.subject_type.is_(None)).count() >= 1


def test_completions_in_every_state(app, load):
    """改造完成: each state; a submitted one passes the engine's own checks for 【提交】 (levels, results, a rating
    of every provider, files, invoices dated within the rules with exact totals, vouchers) and has its 项目入库
    record; every invoice line's total is amount + tax, invoice numbers are unique within a project, stars 1–5."""
    import datetime as dt
    from decimal import Decimal

    from zsdx import completion as rules
    from zsdx.models import Completion, PostAssessment, PreDiagnosis, Warehousing

    places = Decimal("0.01")
    with app.app_context(), app.test_request_context("/"):
        town_id = load["town"]["id"]
        signed = _signed(town_id)
        rows = db.session.query(Completion).filter_by(town_id=town_id).all()
        requests = _requests("completion", [c.id for c in rows])
        warehoused = {
            w.project_id: w
            for w in db.session.query(Warehousing).filter(Warehousing.project_id.in_([c.project_id for c in rows]))
        }
        today = dt.date.today()
        states = set()
        for c in rows:
            s = signed[c.project_id]
            request = requests.get(c.id)
            assert (request is not None) == bool(c.assisted)
            if request is not None:
                _check_request(request, "completion", s)
            for rating in c.ratings:
                for key in ("product", "overall", "attitude", "after_sales"):
                    assert getattr(rating, f"{key}_stars") in (None, 1, 2, 3, 4, 5)
            numbers = [i.number for i in c.invoices if i.number]
            assert len(numbers) == len(set(numbers))
            for invoice in c.invoices:
                assert invoice.issued_on is None or s.submitted_at.date() <= invoice.issued_on <= today
                for line in invoice.lines:
                    for amount in (line.amount, line.tax, line.total):
                        assert amount is None or (isinstance(amount, Decimal) and amount == amount.quantize(places))
                    assert line.total == rules.line_total(line)
                    if line.amount is not None and line.tax is not None:
                        assert line.total == line.amount + line.tax
                for voucher in invoice.vouchers:
                    assert voucher.paid_on is None or s.submitted_at.date() <= voucher.paid_on <= today
            pre = db.session.query(PreDiagnosis).filter_by(project_id=c.project_id).one()
            post = db.session.query(PostAssessment).filter_by(project_id=c.project_id).one()
            assert c.level_after == (post.level if post.status == "done" else None)
            assert c.level_before in (None, pre.level)
            if c.status == "submitted":
                assert rules.problems(c, today) == {}, c.id
                assert c.level_before == pre.level and pre.diagnosed_at <= c.created_at
                assert post.status == "done" and post.assessed_at < c.submitted_at <= dt.datetime.now()
                assert c.submitted_at == c.updated_at and c.created_at < c.submitted_at
                assert {r.provider_id for r in c.ratings} == set(rules.provider_ids(c))
                assert 1 <= len(c.invoices) <= 3
                for invoice in c.invoices:
                    assert 1 <= len(invoice.lines) <= 3 and 1 <= len(invoice.vouchers) <= 2
                    assert invoice.issued_on <= c.submitted_at.date()
                    assert sum(v.amount for v in invoice.vouchers) == rules.invoice_totals(invoice)[2]
                    assert all(invoice.issued_on <= v.paid_on <= c.submitted_at.date() for v in invoice.vouchers)
                w = warehoused[c.project_id]
                assert (w.organisation_id, w.town_id, w.created_at) == (c.organisation_id, c.town_id, c.submitted_at)
                if c.assisted:
                    assert request.status == "done" and request.confirmed_at == c.submitted_at
                    states.add("submitted assisted")
                else:
                    assert c.assisted is False
                    states.add("submitted")
                continue
            assert c.status == "pending" and c.submitted_at is None and c.project_id not in warehoused
            if request is not None:
                states.add(f"assist {request.status} {request.current_step} {request.confirmed_at}")
            elif not (c.ratings or c.invoices or any(r.after for r in c.results)) and c.assisted is None:
                states.add("untouched")
            else:
                states.add("partly filled")
        assert {
            "untouched",
            "partly filled",
            "assist reviewing provider_fill None",
            "assist done None None",
            "submitted",
            "submitted assisted",
        } <= states


def test_gen_load_options():
    from click.testing import CliRunner

    from zsdx.cli import gen_load_command

    out = CliRunner().invoke(gen_load_command, ["--help"]).output
    assert "--implementation / --no-implementation" in out and "--signings / --no-signings" in out
    assert "--warehousing / --no-warehousing" in out


def test_warehousing_in_every_state(app, load):
    """项目入库 of every submitted 改造完成: each state of 镇街 → 验收专家 → 市工信; the audit trail in order (submit
    after 改造完成's, step_seconds, a return with its opinion and return_step, resubmissions); assignments only of
    专家 users, reset by an expert's return; an open to-do for someone allowed to act on every waiting record (市工信
    while 待分配) and none for the others; 已入库 with the subsidy zsdx.subsidy.compute gives from the database; the
    佐证材料; an open 申报窗口 since before the first submission."""
    import datetime as dt

    from zsdx import subsidy, workflow
    from zsdx.models import (
        Completion,
        Contract,
        PostAssessment,
        ReviewAssignment,
        SubmissionWindow,
        Warehousing,
        WarehousingFile,
    )
    from zsdx.stages import STAGES

    with app.app_context(), app.test_request_context("/"):
        town_id = load["town"]["id"]
        rows = db.session.query(Warehousing).filter_by(town_id=town_id).all()
        submitted = {
            c.project_id: c for c in db.session.query(Completion).filter_by(town_id=town_id, status="submitted")
        }
        assert {w.project_id for w in rows} == set(submitted) and len(rows) >= 11
        ids = [w.id for w in rows]
        trails, assigned, todos, files = {}, {}, {}, {}
        for a in db.session.query(ReviewAction).filter(
            ReviewAction.subject_type == "warehousing", ReviewAction.subject_id.in_(ids)
        ):
            trails.setdefault(a.subject_id, []).append(a)
        for a in db.session.query(ReviewAssignment).filter(
            ReviewAssignment.subject_type == "warehousing", ReviewAssignment.subject_id.in_(ids)
        ):
            assert a.step == "expert"
            assigned.setdefault(a.subject_id, []).append(a)
        for n in db.session.query(Notification).filter(
            Notification.kind == "todo",
            Notification.subject_type == "warehousing",
            Notification.subject_id.in_(ids),
            Notification.closed_at.is_(None),
        ):
            todos.setdefault(n.subject_id, []).append(n)
        for f in db.session.query(WarehousingFile).filter(WarehousingFile.warehousing_id.in_(ids)):
            files.setdefault(f.warehousing_id, []).append(f)
        users = {}

        def roles_of(uid):
            if uid not in users:
                user = db.session.get(ZsdxUser, uid)
                users[uid] = (user.role_names(), user.town_id)
            return users[uid]

        registered = "warehousing" in STAGES  # the engine's own checks, once the stage is registered
        now = dt.datetime.now()
        states = set()
        for w in rows:
            c = submitted[w.project_id]
            assert (w.organisation_id, w.project_name, w.created_at) == (
                c.organisation_id,
                c.project_name,
                c.submitted_at,
            )
            trail = sorted(trails.get(w.id, []), key=lambda a: (a.created_at, a.id))
            kinds = [a.action for a in trail]
            own = assigned.get(w.id, [])
            assert w.version == len(trail) and w.updated_at >= w.created_at
            assert w.content["project"]["project_name"] == w.project_name  # every record has its copy
            assert all("专家" in roles_of(a.user_id)[0] for a in own) and len(own) <= 3
            assert len({f.kind for f in files.get(w.id, [])}) == len(files.get(w.id, []))
            if w.status == "draft":
                assert trail == [] and own == [] and not todos.get(w.id)
                assert (w.submitted_at, w.current_step, w.return_step, w.proposed_subsidy) == (None, None, None, None)
                states.add("draft never saved" if w.updated_at == w.created_at else "draft saved")
                continue
            assert files.get(w.id) and all(f.file_id for f in files[w.id])
            assert kinds[0] == "submit" and trail[0].created_at > c.submitted_at
            assert w.submitted_at == max(a.created_at for a in trail if a.action == "submit")
            assert all(a.created_at <= now for a in trail) and w.step_entered_at <= trail[-1].created_at
            for a in trail:
                who, town = roles_of(a.actor_id)
                if a.action == "submit":
                    assert a.step is None and a.actor_id in {u.id for u in c.organisation.users}
                elif a.action == "assign":
                    assert a.step == "expert" and "市工信" in who and a.opinion and a.step_seconds is None
                else:
                    assert a.step_seconds is not None and a.step_seconds >= 0
                    assert {"town": "镇街", "expert": "专家", "city": "市工信"}[a.step] in who
                    assert a.step != "town" or town == w.town_id
                    assert a.step != "expert" or a.actor_id in {x.user_id for x in own}
                    assert a.action != "return" or a.opinion
            # the steps in order: every pass approves 镇街 before the experts, the experts before 市工信
            passed = [a.step for a in trail if a.action == "approve"]
            assert passed == sorted(passed, key=["town", "expert", "city"].index)
            if "return" in kinds:
                assert kinds.index("return") < len(kinds) - 1 or w.status == "returned"
            open_ = todos.get(w.id, [])
            if w.status == "reviewing":
                assert w.current_step in ("town", "expert", "city") and w.return_step is None
                assert open_ and all(n.step == w.current_step for n in open_)
                waiting = {n.user_id for n in open_}
                if w.current_step == "expert" and not own:
                    assert all("市工信" in roles_of(u)[0] for u in waiting)
                    states.add("expert unassigned")
                elif w.current_step == "expert":
                    pending = {a.user_id for a in own if a.approved_at is None}
                    assert pending and waiting == pending
                    if len(pending) < len(own):
                        states.add("expert partly approved")
                else:
                    role = {"town": "镇街", "city": "市工信"}[w.current_step]
                    assert all(role in roles_of(u)[0] for u in waiting)
                    assert w.current_step != "town" or all(roles_of(u)[1] == w.town_id for u in waiting)
                    if w.current_step == "town":
                        assert w.step_entered_at == trail[-1].created_at
                if registered:
                    for uid in waiting:
                        user = db.session.get(ZsdxUser, uid)
                        assert workflow.can_act(user, w) or workflow.can_assign(user, w), (w.id, uid)
                if "return" in kinds:
                    assert kinds[-1] in ("submit", "assign", "approve")
                    states.add("resubmitted")
                states.add(f"reviewing {w.current_step}")
            elif w.status == "returned":
                assert kinds[-1] == "return" and trail[-1].step == w.return_step and trail[-1].opinion
                assert w.current_step is None and not open_
                if w.return_step == "expert":  # the experts' approvals start again at the resubmission
                    assert own and all(a.approved_at is None for a in own)
                states.add(f"returned {w.return_step}")
            else:
                assert w.status == "done" and not open_ and w.current_step is None
                # the last pass: every assigned expert (after 镇街, unless a later step returned it), then 市工信
                steps = [step for i, step in enumerate(passed) if i == 0 or passed[i - 1] != step]
                assert steps[-2:] == ["expert", "city"] and kinds[-1] == "approve", passed
                assert passed.count("expert") >= len(own) > 0, (passed, own)
                assert w.completed_at == trail[-1].created_at and all(a.approved_at for a in own) and own
                post = db.session.query(PostAssessment).filter_by(project_id=w.project_id).one_or_none()
                level = subsidy.confirmed_level(post)
                amounts = [
                    x.subsidy_amount
                    for x in db.session.query(Contract).join(Contract.signing).filter_by(project_id=w.project_id)
                ]
                _by_level, cap, proposed = subsidy.compute(level, amounts)
                assert (w.level_after, w.subsidy_cap, w.proposed_subsidy) == (level, cap, proposed)
                assert proposed <= cap and w.completed_at > w.submitted_at
                states.add("done")
        assert {
            "draft never saved",
            "draft saved",
            "reviewing town",
            "reviewing expert",
            "expert unassigned",
            "expert partly approved",
            "reviewing city",
            "returned town",
            "returned expert",
            "returned city",
            "resubmitted",
            "done",
        } <= states, states
        # the enterprise was told of the outcomes
        owners = {u.id for w in rows for u in w.organisation.users}
        told = db.session.query(Notification).filter(
            Notification.kind == "review", Notification.user_id.in_(owners), Notification.link.like("%warehousing%")
        )
        assert told.count() >= 1
        # an open 申报窗口 of the chain (the drafts can be submitted) since before the first submission
        first = min(w.submitted_at for w in rows if w.submitted_at)
        window = db.session.query(SubmissionWindow).filter(
            SubmissionWindow.chain_name == "warehousing",
            SubmissionWindow.opens_at <= first,
            SubmissionWindow.closes_at > now,
        )
        assert window.count() >= 1
        assert not [r for r in workflow.stranded_records() if r[0] == "warehousing" and r[1] in ids]
