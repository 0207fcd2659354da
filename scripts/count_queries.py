"""SQL statements per page, per role: the shared-layer cost of every GET page (issue 7).

Builds the app on a fresh database the way tests/conftest.py does (migrations, roles, reference data,
the demo accounts of `flask zsdx seed-demo`), adds a few demo records (a filing at the 镇街 step, a draft,
a questionnaire, notifications, a message), logs in as each demo account (and stays anonymous once), GETs
every page that role can reach (the GET routes of app.url_map without arguments, a few query-string
variants, and the detail pages of the demo records) and prints, per (role, url), the HTTP status, the
number of SQL statements and how many of them are FAB permission checks (`SELECT EXISTS … ab_permission_view`).

    .venv/bin/python scripts/count_queries.py                 # fresh SQLite file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python scripts/count_queries.py
    .venv/bin/python scripts/count_queries.py --extra 30      # 30 more filings/notifications/users
    .venv/bin/python scripts/count_queries.py --all           # also pages answered with a redirect or 4xx

tests/test_query_counts.py imports the helpers below (`StatementCounter`, `page_urls`, `measure`,
`make_demo_records`, `add_bulk`), so the bound the suite enforces is measured the same way.
"""

import argparse
import os
import re
import sys
import tempfile
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEMO_PASSWORD = "Zsdx@2026"
# (label, phone) of the demo accounts (README); None is the anonymous visitor (FAB's Public role).
DEMO_ACCOUNTS = [
    ("anonymous", None),
    ("Admin", "13800000000"),
    ("企业", "13800000001"),
    ("服务商", "13800000002"),
    ("评估机构", "13800000003"),
    ("镇街", "13800000004"),
    ("镇街(石岐)", "13800000005"),
    ("第三方", "13800000006"),
    ("专家", "13800000007"),
    ("市工信", "13800000008"),
]

# Routes that are not pages: files, side effects, language switch, static assets.
SKIP_ENDPOINTS = re.compile(
    r"^(static|appbuilder\.static)$|\.(logout|back|captcha|download|action|delete|report_file|file|attachment|"
    r"export|report|authorization_template|open)$|^LocaleView\.|^UserStatsChartView\.chart$"
)
SKIP_RULES = re.compile(r"\.(docx|xlsx|png|pdf)$")
# Query-string variants of argument-less pages (tabs, kinds).
VARIANTS = {
    "/workbench/": [
        "?tab=filing",
        "?tab=overview",
        "?group=diagnosis&tab=pre_diagnosis",
        "?group=diagnosis&tab=post_assessment",
        "?tab=completed",
        "?tab=warehousing",
        "?panel=review",
        "?group=projects&tab=implementing",
    ],
    "/notifications/": ["?kind=todo"],
    "/dashboard/": ["?town=1"],  # 市工信's town filter (a 镇街 is held to its own town)
    "/dossier/": ["?reached=warehoused", "?q=%E9%A1%B9%E7%9B%AE&town=1&page=2"],
}
PERMISSION_CHECK = re.compile(r"\bEXISTS\b.*\bab_permission_view\b", re.S | re.I)


class StatementCounter:
    """Collects the SQL statements the engine sends while `active` (a before_cursor_execute listener):
    `statements` as the app wrote them, `sent` as the database got them (`EXECUTE <name>(…)` for one zsdx.prepared
    prepared on PostgreSQL)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine = engine
        self.statements = []
        self.sent = []
        self.active = False
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.statements.append(getattr(context, "zsdx_written", statement))
            self.sent.append(statement)

    @contextmanager
    def counting(self):
        self.statements = []
        self.sent = []
        self.active = True
        try:
            yield self
        finally:
            self.active = False

    @property
    def permission_checks(self):
        return [s for s in self.statements if PERMISSION_CHECK.search(s)]

    @property
    def permission_statements(self):
        """Every statement that reads ab_permission_view (EXISTS checks and bulk loads alike)."""
        return [s for s in self.statements if "ab_permission_view" in s]

    def close(self):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._on_execute)


def measure(client, counter, url):
    """(status, statements, permission EXISTS checks, all ab_permission_view statements) of one GET."""
    with counter.counting():
        resp = client.get(url)
    return resp.status_code, len(counter.statements), len(counter.permission_checks), len(counter.permission_statements)


# --- the app ----------------------------------------------------------------------------------------
def build_app(database_url=None):
    """A fresh database and the app on it, as tests/conftest.py builds its session app."""
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    tmp = tempfile.mkdtemp(prefix="zsdx-count-")
    if database_url is None:
        from dbutil import fresh_database_url

        database_url = fresh_database_url("zsdx_count_queries", os.path.join(tmp, "count.db"))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("CAPTCHA_ENABLED", "0")
    os.environ["UPLOAD_FOLDER"] = os.path.join(tmp, "files")
    from flask_migrate import upgrade

    from zsdx import create_app
    from zsdx.seed import init_security, seed_demo, seed_reference

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CAPTCHA_ENABLED": False,
            "UPLOAD_FOLDER": os.path.join(tmp, "files"),
            "SERVER_NAME": None,
            "REDIS_URL": "",
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        init_security()
        seed_reference()
        seed_demo()
    return app


def _user_id(phone):
    from zsdx.extensions import db
    from zsdx.models import ZsdxUser

    return db.session.query(ZsdxUser.id).filter(ZsdxUser.phone == phone).scalar()


def _filing(org, user_id, step, name):
    from zsdx.seed import sample_filing

    return sample_filing(org, user_id, step=step, project_name=name)


def make_demo_records(app, enterprise_phone="13800000001"):
    """Records whose detail pages get measured; returns their ids. Call inside no request."""
    from zsdx.extensions import db
    from zsdx.models import AssessmentResult, Message, Notification, NotificationKind, ZsdxUser

    with app.app_context():
        ent = db.session.query(ZsdxUser).filter(ZsdxUser.phone == enterprise_phone).one()
        org = ent.organisation
        waiting = _filing(org, ent.id, "town", "示例数字化改造项目")
        draft = _filing(org, ent.id, None, "示例草稿项目")
        assessment = AssessmentResult(organisation_id=org.id, user_id=ent.id, index_version="2024", answers="{}")
        db.session.add(assessment)
        db.session.add(Message(organisation_id=org.id, author_id=ent.id, body="您好，请问备案材料有哪些？"))
        db.session.flush()
        for _label, phone in DEMO_ACCOUNTS:
            if phone:
                uid = _user_id(phone)
                for kind in NotificationKind.ALL:
                    db.session.add(
                        Notification(
                            user_id=uid, kind=kind, text="示例通知", link=f"/filing/{waiting.id}", send_sms=False
                        )
                    )
        db.session.commit()
        signing, pre_subsidy = _signed_with_application(org, ent.id)
        pending = _pending_assisted(org, ent.id)
        implementations = _implementations(org, ent.id, signing)
        diagnosis, post_assessment = _post_assessments(org, ent.id, [signing, pending])
        return {
            "filing": waiting.id,
            "draft": draft.id,
            "assessment": assessment.id,
            "org": org.id,
            "signing": signing,
            "pre_subsidy": pre_subsidy,
            "signing_pending": pending,
            **implementations,
            **_completions(org, ent.id, signing, pending),
            **_warehousings(org, ent.id, signing, pending),
            "diagnosis": diagnosis,
            "post_assessment": post_assessment,
        }


def _post_assessments(org, user_id, signings, institution="中国信息通信研究院"):
    """事后评估 of the projects of `signings`: the first assigned to the demo institution, its report waiting for
    the enterprise's 确认; the second waiting for 市工信局分配. Returns (the first's 事前诊断 id, its id)."""
    import datetime as dt

    from zsdx.extensions import db
    from zsdx.models import Organisation, PostAssessment, PreDiagnosis, ReviewStatus, Signing, StoredFile

    now = dt.datetime.now()
    inst = db.session.query(Organisation.id).filter_by(name=institution).scalar()
    report = StoredFile(
        sha256="1" * 64, original_name="改造后评估报告.pdf", mime="application/pdf", size=1, uploaded_by_id=user_id
    )
    db.session.add(report)
    db.session.flush()
    records = []
    for i, signing in enumerate(signings):
        s = db.session.get(Signing, signing)
        common = dict(project_id=s.project_id, organisation_id=org.id, town_id=s.town_id, started_at=now)
        if i == 0:
            record = PostAssessment(
                **common,
                method="institution",
                institution_id=inst,
                assigned_at=now,
                report_file_id=report.id,
                reported_level=3,
                status=ReviewStatus.REVIEWING,
                current_step="enterprise_confirm",
                submitted_at=now,
                step_entered_at=now,
            )
        else:
            record = PostAssessment(**common, method="city")
        db.session.add(record)
        records.append(record)
    db.session.commit()
    first = db.session.get(Signing, signings[0]).project_id
    return db.session.query(PreDiagnosis.id).filter_by(project_id=first).scalar(), records[0].id


# 项目实施-改造完成 pages → the demo record they are measured on (make_demo_records)
COMPLETION_PAGES = {
    "CompletionView.edit": "completion",
    "CompletionView.preview": "completion",
    "CompletionView.detail": "completion",
    "CompletionView.change": "completion_submitted",
    "CompletionView.assist": "completion_assisted",
}


# 项目入库 pages → the demo record they are measured on (make_demo_records)
WAREHOUSING_PAGES = {
    "WarehousingView.edit": "warehousing",
    "WarehousingView.preview": "warehousing",
    "WarehousingView.detail": "warehousing_review",
}


def _warehousings(org, user_id, signing, other_signing):
    """项目入库 records pre-filled with the demo projects (zsdx.warehousing): a draft with its 佐证材料 on the 已签约
    demo project (inside an open 申报窗口), and one waiting at the 镇街 step on the other."""
    import datetime as dt

    from zsdx.extensions import db
    from zsdx.models import Signing, StoredFile, SubmissionWindow, Warehousing, WarehousingFile

    now = dt.datetime.now()
    pdf = StoredFile(
        sha256="3" * 64, original_name="项目合同.pdf", mime="application/pdf", size=1, uploaded_by_id=user_id
    )
    db.session.add(pdf)
    records = []
    for s_id, status in ((signing, "draft"), (other_signing, "reviewing")):
        s = db.session.get(Signing, s_id)
        record = Warehousing(
            project_id=s.project_id,
            organisation_id=org.id,
            town_id=s.town_id,
            project_name="示例项目入库",
            status=status,
            current_step="town" if status == "reviewing" else None,
            submitted_at=now if status == "reviewing" else None,
            step_entered_at=now if status == "reviewing" else None,
        )
        db.session.add(record)
        records.append(record)
    db.session.flush()
    for record in records:
        for kind in ("contract", "invoice", "payment"):
            db.session.add(WarehousingFile(warehousing_id=record.id, kind=kind, file_id=pdf.id))
    db.session.add(
        SubmissionWindow(
            chain_name="warehousing", name="示例入库窗口", opens_at=now, closes_at=now + dt.timedelta(days=30)
        )
    )
    db.session.commit()
    return {"warehousing": records[0].id, "warehousing_review": records[1].id}


def _completions(org, user_id, signing, other_signing, provider_phone="13800000002"):
    """改造完成 records with rows on every page: a pending one on the 已签约 demo project (two dimensions with
    evidence, the demo provider's rating, two invoices of two lines and a voucher each), a submitted one on the
    other demo project, and one whose 数字化改造成效 is with the demo provider (协助填写中)."""
    import datetime as dt
    from decimal import Decimal

    from zsdx.extensions import db
    from zsdx.models import (
        AssistRequest,
        Completion,
        CompletionIndicator,
        Invoice,
        InvoiceLine,
        PaymentVoucher,
        Project,
        ProviderRating,
        ReviewStatus,
        Signing,
        StoredFile,
        ZsdxUser,
    )

    now = dt.datetime.now()
    provider = db.session.query(ZsdxUser).filter_by(phone=provider_phone).one().organisation_id
    pdf = StoredFile(
        sha256="2" * 64, original_name="佐证材料.pdf", mime="application/pdf", size=1, uploaded_by_id=user_id
    )
    db.session.add(pdf)
    db.session.flush()
    projects = [db.session.get(Signing, s).project_id for s in (signing, other_signing)]
    extra = Project(organisation_id=org.id, created_by_id=user_id)
    db.session.add(extra)
    db.session.flush()
    records = []
    for project_id, status in zip(projects + [extra.id], ("pending", "submitted", "pending"), strict=True):
        c = Completion(
            project_id=project_id,
            organisation_id=org.id,
            town_id=org.town_id,
            project_name="示例改造完成项目",
            status=status,
            assisted=False,
            level_before=2,
            level_after=3,
            quotation_file_id=pdf.id,
            invoice_file_id=pdf.id,
            payment_file_id=pdf.id,
            submitted_at=now if status == "submitted" else None,
        )
        c.results = [
            CompletionIndicator(dimension=d, before="60%", after="85%", evidence_file_id=pdf.id)
            for d in ("innovation", "quality")
        ]
        c.ratings = [
            ProviderRating(provider_id=provider, **{f"{k}_stars": 4 for k in ("product", "overall", "attitude")})
        ]
        for n in range(2):
            invoice = Invoice(position=n, number=f"DEMO{n}", issued_on=now.date(), seller="中山市数智云服务有限公司")
            invoice.lines = [
                InvoiceLine(
                    position=m, name="服务器", amount=Decimal("100.10"), tax=Decimal("13.01"), total=Decimal("113.11")
                )
                for m in range(2)
            ]
            invoice.vouchers = [PaymentVoucher(paid_on=now.date(), amount=Decimal("452.44"), file_id=pdf.id)]
            c.invoices.append(invoice)
        db.session.add(c)
        records.append(c)
    db.session.flush()
    records[2].assisted = True
    db.session.add(
        AssistRequest(
            host_type="completion",
            host_id=records[2].id,
            organisation_id=org.id,
            provider_id=provider,
            status=ReviewStatus.REVIEWING,
            current_step="provider_fill",
            submitted_at=now,
            step_entered_at=now,
        )
    )
    db.session.commit()
    return {"completion": records[0].id, "completion_submitted": records[1].id, "completion_assisted": records[2].id}


def _signed_with_application(org, user_id):
    """A 已签约 signing (two contracts) whose 预奖补申请 waits at the 镇街 step: (signing id, application id)."""
    import datetime as dt
    from decimal import Decimal

    from zsdx.extensions import db
    from zsdx.filing import complete_filing
    from zsdx.models import Contract, PreSubsidy, ReviewStatus, Signing, SigningStatus

    filing = _filing(org, user_id, "city", "示例签约项目")
    db.session.flush()
    filing.status, filing.current_step = ReviewStatus.DONE, None
    complete_filing(filing, None)
    db.session.flush()
    signing = db.session.query(Signing).filter_by(project_id=filing.project_id).one()
    signing.status, signing.submitted_at = SigningStatus.SIGNED, dt.datetime.now()
    contracts = [
        Contract(
            signing_id=signing.id,
            position=i,
            number=f"HT-DEMO-{i + 1}",
            total_amount=Decimal("100.5") + i,
            subsidy_amount=Decimal("50.25") + i,
            no_industry_provider=True,
        )
        for i in range(2)
    ]
    now = dt.datetime.now()
    application = PreSubsidy(
        signing_id=signing.id,
        organisation_id=org.id,
        town_id=signing.town_id,
        contracts=contracts,
        status=ReviewStatus.REVIEWING,
        current_step="town",
        submitted_at=now,
        step_entered_at=now,
    )
    db.session.add_all([*contracts, application])
    db.session.commit()
    return signing.id, application.id


def _pending_assisted(org, user_id, provider_phone="13800000002"):
    """A 待签约 signing with a contract, a need and a picked product whose page 3 is with the demo provider
    (协助填写中): the enterprise's pages and the provider's page 3 are measured with rows on them."""
    import datetime as dt
    from decimal import Decimal

    from zsdx.extensions import db
    from zsdx.filing import complete_filing
    from zsdx.models import (
        AssistRequest,
        Contract,
        Product,
        ReviewStatus,
        Signing,
        SigningNeed,
        SigningProduct,
        ZsdxUser,
    )

    filing = _filing(org, user_id, "city", "示例协助签约项目")
    db.session.flush()
    filing.status, filing.current_step = ReviewStatus.DONE, None
    complete_filing(filing, None)
    db.session.flush()
    signing = db.session.query(Signing).filter_by(project_id=filing.project_id).one()
    provider = db.session.query(ZsdxUser).filter_by(phone=provider_phone).one()
    contract = Contract(
        signing_id=signing.id,
        number="HT-DEMO-A",
        total_amount=Decimal("30"),
        industry_provider_id=provider.organisation_id,
    )
    db.session.add_all([contract, SigningNeed(signing_id=signing.id, scenario="S1", description="示例需求")])
    product = db.session.query(Product).filter(Product.listed_price.isnot(None)).order_by(Product.id).first()
    if product is not None:
        db.session.add(
            SigningProduct(
                signing_id=signing.id,
                product_id=product.id,
                code=product.code,
                name=product.name,
                supplier_name=product.organisation.name,
                max_price=product.listed_price,
                price=Decimal("1"),
            )
        )
    now = dt.datetime.now()
    signing.assisted = True
    db.session.add(
        AssistRequest(
            host_type="signing",
            host_id=signing.id,
            organisation_id=org.id,
            provider_id=provider.organisation_id,
            status=ReviewStatus.REVIEWING,
            current_step="provider_fill",
            submitted_at=now,
            step_entered_at=now,
        )
    )
    db.session.commit()
    return signing.id


def _implementations(org, user_id, signed_id, provider_phone="13800000002"):
    """改造中 records: the 已签约 signing's, submitted (信息变更, 详情); a pending one whose lead unit is the demo
    provider (the enterprise's page offering it); one whose page is with the demo provider (its page)."""
    import datetime as dt

    from zsdx.extensions import db
    from zsdx.filing import complete_filing
    from zsdx.implementation import new_implementation
    from zsdx.models import (
        AssistRequest,
        Contract,
        ImplementationStatus,
        ReviewStatus,
        Signing,
        SigningStatus,
        ZsdxUser,
    )

    provider = db.session.query(ZsdxUser).filter_by(phone=provider_phone).one()
    now = dt.datetime.now()
    signings = [db.session.get(Signing, signed_id)]
    for name in ("示例改造中项目", "示例协助改造中项目"):
        filing = _filing(org, user_id, "city", name)
        db.session.flush()
        filing.status, filing.current_step = ReviewStatus.DONE, None
        complete_filing(filing, None)
        db.session.flush()
        signing = db.session.query(Signing).filter_by(project_id=filing.project_id).one()
        signing.status, signing.submitted_at = SigningStatus.SIGNED, now
        db.session.add(
            Contract(signing_id=signing.id, number=f"HT-DEMO-{name}", industry_provider_id=provider.organisation_id)
        )
        signings.append(signing)
    submitted, pending, assisted = records = [new_implementation(s) for s in signings]
    db.session.add_all(records)
    db.session.flush()
    for record in records:
        record.assisted = record is assisted
        for indicator in record.indicators:
            indicator.before = "示例改造前数据"
    submitted.status, submitted.submitted_at = ImplementationStatus.SUBMITTED, now
    db.session.add(
        AssistRequest(
            host_type="implementation",
            host_id=assisted.id,
            organisation_id=org.id,
            provider_id=provider.organisation_id,
            status=ReviewStatus.REVIEWING,
            current_step="provider_fill",
            submitted_at=now,
            step_entered_at=now,
        )
    )
    db.session.commit()
    return {
        "implementation": submitted.id,
        "implementation_pending": pending.id,
        "implementation_assisted": assisted.id,
    }


def add_bulk(app, n, enterprise_phone="13800000001", tag="bulk"):
    """n more filings (waiting at 镇街), n notifications per demo account, n users in n organisations."""
    import random

    from zsdx.extensions import appbuilder, db
    from zsdx.models import Notification, NotificationKind, Organisation, Town, ZsdxUser
    from zsdx.security import placeholder_email

    with app.app_context():
        ent = db.session.query(ZsdxUser).filter(ZsdxUser.phone == enterprise_phone).one()
        org = ent.organisation
        for i in range(n):
            _filing(org, ent.id, "town", f"{tag}项目{i}")
        for _label, phone in DEMO_ACCOUNTS:
            if phone:
                uid = _user_id(phone)
                for i in range(n):
                    db.session.add(
                        Notification(
                            user_id=uid, kind=NotificationKind.ALL[i % 2], text=f"{tag}通知{i}", send_sms=False
                        )
                    )
        sm = appbuilder.sm
        roles = [sm.find_role(name) for name in ("企业", "服务商", "镇街", "专家")]
        towns = db.session.query(Town).order_by(Town.id).all()
        from zsdx.creditcode import CHARSET, check_char

        for i in range(n):
            body = "91442000" + "".join(random.choice(CHARSET[:10]) for _ in range(8)) + random.choice(CHARSET)
            other = Organisation(
                kind="enterprise",
                name=f"中山市{tag}{random.randint(0, 10**9)}有限公司",
                credit_code=body + check_char(body),
                town_id=towns[i % len(towns)].id,
                contact_name="联系人",
                contact_phone="13700000000",
            )
            db.session.add(other)
            phone = f"136{random.randint(0, 10**8 - 1):08d}"
            user = ZsdxUser(
                username=phone,
                phone=phone,
                first_name=f"{tag}用户{i}",
                last_name="",
                email=placeholder_email(phone),
                active=True,
                password="x",
                organisation=other,
                town=towns[i % len(towns)],
                roles=[roles[i % len(roles)], roles[(i + 1) % len(roles)]],
            )
            db.session.add(user)
        db.session.commit()


# --- the pages --------------------------------------------------------------------------------------
def _first_pk(view):
    from zsdx.extensions import db

    model = view.datamodel.obj
    pk = view.datamodel.get_pk_name()
    return db.session.query(getattr(model, pk)).order_by(getattr(model, pk)).limit(1).scalar()


def page_urls(app, records=None):
    """Every GET page without arguments, their variants, and the detail pages of `records` and of the
    first row of each FAB ModelView (show/edit)."""
    from flask_appbuilder import ModelView

    from zsdx.extensions import appbuilder

    urls = []
    detail_rules = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or SKIP_ENDPOINTS.search(rule.endpoint) or SKIP_RULES.search(rule.rule):
            continue
        if not rule.arguments:
            urls.append(rule.rule)
            urls.extend(rule.rule + v for v in VARIANTS.get(rule.rule, []))
        else:
            detail_rules.append(rule)
    records = records or {}
    with app.app_context():
        views = {type(v).__name__: v for v in appbuilder.baseviews}
        for rule in detail_rules:
            view_name, _, method = rule.endpoint.partition(".")
            view = views.get(view_name)
            args = None
            if isinstance(view, ModelView) and rule.arguments == {"pk"} and method in ("show", "edit"):
                pk = _first_pk(view)
                args = {"pk": pk} if pk is not None else None
            elif rule.endpoint == "FilingView.detail" and "filing" in records:
                args = {"pk": records["filing"]}
            elif rule.endpoint in ("FilingView.edit", "FilingView.change") and "draft" in records:
                args = {"pk": records["draft" if method == "edit" else "filing"]}
            elif rule.endpoint == "ReviewQueueView.detail" and "filing" in records:
                args = {"subject": "filing", "pk": records["filing"]}
            elif rule.endpoint == "AssessmentView.edit" and "assessment" in records:
                args = {"pk": records["assessment"]}
            elif rule.endpoint == "MessageReplyView.reply" and "org" in records:
                args = {"org_id": records["org"]}
            elif rule.endpoint == "HomeView.announcement":
                from zsdx.extensions import db
                from zsdx.models import Announcement

                pk = db.session.query(Announcement.id).order_by(Announcement.id).limit(1).scalar()
                args = {"pk": pk} if pk else None
            elif rule.endpoint == "FilingApi.get" and "filing" in records:
                args = {"pk": records["filing"]}
            elif rule.endpoint in ("PreSubsidyView.edit", "SigningView.detail", "SigningView.change") and (
                "signing" in records
            ):
                args = {"pk": records["signing"]}
            elif rule.endpoint in ("SigningView.edit", "SigningView.assist") and "signing_pending" in records:
                args = {"pk": records["signing_pending"]}
            elif rule.endpoint.startswith("ImplementationView.") and "implementation" in records:
                key = {"edit": "implementation_pending", "assist": "implementation_assisted"}.get(method)
                args = {"pk": records[key or "implementation"]}
            elif rule.endpoint in COMPLETION_PAGES and COMPLETION_PAGES[rule.endpoint] in records:
                args = {"pk": records[COMPLETION_PAGES[rule.endpoint]]}
            elif rule.endpoint in WAREHOUSING_PAGES and WAREHOUSING_PAGES[rule.endpoint] in records:
                args = {"pk": records[WAREHOUSING_PAGES[rule.endpoint]]}
            if args:
                urls.append(rule.build(args, append_unknown=False)[1])
                if rule.endpoint in ("SigningView.edit", "SigningView.change"):
                    urls.append(urls[-1] + "?page=2")  # both pages of the form
                if rule.endpoint in ("CompletionView.edit", "CompletionView.change"):
                    urls.extend([urls[-1] + "?page=2", urls[-1] + "?page=3"])  # the three pages
            if rule.endpoint == "ReviewQueueView.detail" and "pre_subsidy" in records:
                urls.append(rule.build({"subject": "pre_subsidy", "pk": records["pre_subsidy"]})[1])
            if rule.endpoint == "ReviewQueueView.detail" and "warehousing_review" in records:
                urls.append(rule.build({"subject": "warehousing", "pk": records["warehousing_review"]})[1])
    # the institution reports' pages (their endpoint name, `report`, is skipped above with the file routes)
    for endpoint, key in (("DiagnosisView.report", "diagnosis"), ("PostAssessmentView.report", "post_assessment")):
        if records.get(key):
            urls.extend(rule.build({"pk": records[key]})[1] for rule in app.url_map.iter_rules(endpoint))
    # FAB list pages at a large page size: the cost must not depend on it.
    for view in appbuilder.baseviews:
        if isinstance(view, ModelView):
            base = f"{view.route_base}/list/"
            if base in urls:
                urls.append(f"{base}?psize_{type(view).__name__}=100")
    return urls


def login(client, phone, password=DEMO_PASSWORD):
    html = client.get("/login/").get_data(as_text=True)
    m = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', html)
    resp = client.post(
        "/login/",
        data={
            "pw-csrf_token": m.group(1) if m else "",
            "pw-mode": "password",
            "mode": "password",
            "pw-phone": phone,
            "pw-password": password,
            "pw-captcha": "",
        },
    )
    if resp.status_code != 302:
        raise RuntimeError(f"login of {phone} failed: {resp.status_code}")


def client_for(app, phone, n=[0]):  # noqa: B006  (a counter of client addresses)
    n[0] += 1
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.250.{n[0] >> 8 & 255}.{n[0] & 255}"
    if phone:
        login(client, phone)
    return client


def run(app, show_all=False, out=sys.stdout):
    from zsdx.extensions import db

    records = make_demo_records(app)
    urls = page_urls(app, records)
    with app.app_context():
        counter = StatementCounter(db.engine)
        backend = db.engine.url.get_backend_name()
    rows = []
    try:
        for label, phone in DEMO_ACCOUNTS:
            client = client_for(app, phone)
            client.get("/")  # warm-up: first-request work is not the page's
            for url in urls:
                status, n, exists, perm = measure(client, counter, url)
                if status == 200 or show_all:
                    rows.append((label, url, status, n, exists, perm))
    finally:
        counter.close()
    print(
        f"# {backend}  columns: role  url  status  statements  permission_exists  ab_permission_view_statements",
        file=out,
    )
    for row in rows:
        print("\t".join(str(c) for c in row), file=out)
    ok = [r for r in rows if r[2] == 200]
    if ok:
        worst = max(ok, key=lambda r: r[3])
        print(
            f"# pages served: {len(ok)}; statements max {worst[3]} ({worst[0]} {worst[1]}), "
            f"mean {sum(r[3] for r in ok) / len(ok):.1f}; permission EXISTS max {max(r[4] for r in ok)}, "
            f"mean {sum(r[4] for r in ok) / len(ok):.1f}; pages over 10 statements: "
            f"{sum(1 for r in ok if r[3] > 10)}",
            file=out,
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra", type=int, default=0, help="add this many filings/notifications/users first")
    parser.add_argument("--all", action="store_true", help="also list pages answered with a redirect or an error")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    app = build_app()
    if args.extra:
        add_bulk(app, args.extra)
    run(app, show_all=args.all)


if __name__ == "__main__":
    main()
