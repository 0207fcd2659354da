"""Two of everything, for probing the other tenant's ids: enterprises in two towns, two providers, two
institutions, two town reviewers, two experts, a 第三方, a 市工信 and an Admin — and records of tenant A
(a filing at the 镇街 step, a pre-diagnosis waiting for the enterprise's confirmation, an info change with
an attachment, a questionnaire, a notification, a message, a submission window).

    world = build_tenants(app)      # once per module: `tenants` fixture in conftest-using modules
    world.client("ent_b")           # a signed-in client of that identity
    world.ids["filing"]             # tenant A's records

Every later chapter adds its records here, so the access table and its own tests probe them from tenant B.
"""

import datetime as dt
import random

from conftest import PASSWORD, Factory, csrf_from
from helpers_review import PDF_BYTES, client_for, make_filing, make_town, new_client

from zsdx.extensions import db
from zsdx.models import (
    AssessmentResult,
    InfoChangeAttachment,
    InfoChangeRequest,
    Message,
    Notification,
    PreDiagnosis,
    Project,
    ReviewStatus,
    StoredFile,
    SubmissionWindow,
    ZsdxUser,
)

# identity → role (None: anonymous)
IDENTITIES = {
    "anonymous": None,
    "admin": "Admin",
    "ent_a": "企业",
    "ent_b": "企业",
    "prov_a": "服务商",
    "prov_b": "服务商",
    "inst_a": "评估机构",
    "inst_b": "评估机构",
    "town_a": "镇街",
    "town_b": "镇街",
    "third": "第三方",
    "expert_a": "专家",
    "expert_b": "专家",
    "city": "市工信",
}


class Tenants:
    def __init__(self, app):
        self.app = app
        self.users = {}
        self.ids = {}
        self._clients = {}

    def client(self, name):
        if name not in self._clients:
            self._clients[name] = (
                new_client(self.app) if name == "anonymous" else client_for(self.app, self.users[name])
            )
        return self._clients[name]

    def token(self, name):
        """A CSRF token of that identity's session."""
        page = self.client(name).get("/login/" if name == "anonymous" else "/workbench/")
        return csrf_from(page.get_data(as_text=True))

    def snapshot(self):
        """What an attack could change of tenant A's records: their versions, statuses and key values."""
        from zsdx.models import Filing, Organisation, PostAssessment, Product

        with self.app.app_context():
            f = db.session.get(Filing, self.ids["filing"])
            d = db.session.get(PreDiagnosis, self.ids["diagnosis"])
            p = db.session.get(PostAssessment, self.ids["post_assessment"])
            c = db.session.get(InfoChangeRequest, self.ids["info_change"])
            w = db.session.get(SubmissionWindow, self.ids["window"])
            o = db.session.get(Organisation, self.ids["org"])
            return {
                "filing": (f.status, f.current_step, f.version, f.project_name),
                "diagnosis": (d.status, d.current_step, d.version, d.institution_id),
                "post_assessment": (p.status, p.current_step, p.version, p.method, p.institution_id, p.level),
                "info_change": (c.status, c.version),
                "window": (w.closes_at,),
                "org": (o.name, o.credit_code, o.town_id),
                "products": [
                    (p.status, p.version, p.withdrawn_at, p.max_price)
                    for p in db.session.query(Product)
                    .filter(Product.id.in_([self.ids["product_draft"], self.ids["product_listed"]]))
                    .order_by(Product.id)
                ],
                "filings": db.session.query(Filing).filter_by(organisation_id=self.ids["org"]).count(),
                "implementations": _implementation_state(self.ids),
                "completions": _completion_state(self.ids),
                "warehousing": _warehousing_state(self.ids),
            }

    def api_headers(self, name):
        """A JWT of that identity (None for anonymous)."""
        if name == "anonymous":
            return {}
        user = self.users[name]
        resp = new_client(self.app).post(
            "/api/v1/security/login", json={"username": user["phone"], "password": user["password"], "provider": "db"}
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def build_tenants(app):
    factory = Factory(app)
    world = Tenants(app)
    town_a, town_b = make_town(app), make_town(app)
    world.towns = (town_a, town_b)
    u = world.users
    u["admin"] = factory.user("Admin")
    u["ent_a"] = factory.user("企业", org=factory.org("enterprise", town_a["code"]), name="企业甲")
    u["ent_b"] = factory.user("企业", org=factory.org("enterprise", town_b["code"]), name="企业乙")
    u["prov_a"] = factory.user("服务商", org=factory.org("provider", town_a["code"], is_industry_provider=True))
    u["prov_b"] = factory.user("服务商", org=factory.org("provider", town_b["code"], is_scenario_provider=True))
    u["inst_a"] = factory.user(
        "评估机构", org=factory.org("institution", town_a["code"], institution_type="diagnostic")
    )
    u["inst_b"] = factory.user(
        "评估机构", org=factory.org("institution", town_b["code"], institution_type="diagnostic")
    )
    u["town_a"] = factory.user("镇街", town_code=town_a["code"])
    u["town_b"] = factory.user("镇街", town_code=town_b["code"])
    u["third"] = factory.user("第三方")
    u["expert_a"] = factory.user("专家", name="专家甲")
    u["expert_b"] = factory.user("专家", name="专家乙")
    u["city"] = factory.user("市工信")
    assert PASSWORD  # every factory user has the same password

    ent = u["ent_a"]
    world.ids["filing"] = make_filing(app, ent, step="town", project_name="甲企业项目")
    world.ids["filing_b"] = make_filing(app, u["ent_b"], step="town", project_name="乙企业项目")
    with app.app_context():
        now = dt.datetime.now()
        project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
        stored = StoredFile(
            sha256="0" * 64,
            original_name="报告.pdf",
            mime="application/pdf",
            size=len(PDF_BYTES),
            uploaded_by_id=ent["id"],
        )
        db.session.add_all([project, stored])
        db.session.flush()
        diagnosis = PreDiagnosis(
            project=project,
            organisation_id=ent["org_id"],
            town_id=town_a["id"],
            method="institution",
            institution_id=u["inst_a"]["org_id"],
            report_file_id=stored.id,
            reported_level=2,
            status=ReviewStatus.REVIEWING,
            current_step="enterprise_confirm",
            submitted_at=now,
            step_entered_at=now,
        )
        change = InfoChangeRequest(
            organisation_id=ent["org_id"],
            requester_id=ent["id"],
            name="甲企业新名称",
            credit_code="91442000MA00000000",
            town_id=town_a["id"],
            contact_name="联系人",
            contact_phone="13900000000",
            status=ReviewStatus.REVIEWING,
            current_step="city",
            submitted_at=now,
            step_entered_at=now,
        )
        change.attachments.append(InfoChangeAttachment(file=stored))
        result = AssessmentResult(
            organisation_id=ent["org_id"], user_id=ent["id"], index_version="2024", answers="{}", submitted=False
        )
        note = Notification(user_id=ent["id"], kind="review", text="甲企业的通知", link="/workbench/")
        message = Message(organisation_id=ent["org_id"], author_id=ent["id"], body="甲企业的留言")
        window = SubmissionWindow(
            chain_name="filing", name="测试窗口", opens_at=now, closes_at=now + dt.timedelta(days=random.randint(1, 9))
        )
        from decimal import Decimal

        from zsdx.models import Product

        draft = Product(
            organisation_id=u["prov_a"]["org_id"],
            name="甲服务商草稿产品",
            category="software",
            scenarios="S6",
            max_price=Decimal("1.5"),
            purchase_mode="yearly",
        )
        listed = Product(
            organisation_id=u["prov_a"]["org_id"],
            name="甲服务商上架产品",
            category="service",
            scenarios="S7",
            max_price=Decimal("2.5"),
            listed_price=Decimal("2.5"),
            purchase_mode="other",
            code=f"T{random.randint(0, 10**9):09d}",
            status=ReviewStatus.DONE,
        )
        db.session.add_all([diagnosis, change, result, note, message, window, draft, listed])
        db.session.commit()
        world.ids.update(
            diagnosis=diagnosis.id,
            info_change=change.id,
            attachment=change.attachments[0].id,
            assessment=result.id,
            notification=note.id,
            org=ent["org_id"],
            window=window.id,
            product_draft=draft.id,
            product_listed=listed.id,
            user=ent["id"],
        )
        world.ids["town"] = town_a["id"]
        assert db.session.get(ZsdxUser, ent["id"]) is not None
    _store_bytes(app, PDF_BYTES)
    _signings(app, world)
    _implementations(app, world)
    _completions(app, world)
    _post_assessment(app, world)
    _warehousing(app, world)
    return world


def _warehousing(app, world):
    """A's 项目入库 records (town A): a draft (the owner's alone) and one at the 验收专家 step assigned to expert_a,
    with its 项目合同 (the stored file above)."""
    from zsdx.models import ReviewAssignment, Warehousing, WarehousingFile

    ent = world.users["ent_a"]
    with app.app_context():
        now = dt.datetime.now()
        stored = db.session.query(StoredFile.id).filter_by(sha256="0" * 64).order_by(StoredFile.id).first()[0]
        records = []
        for status in ("draft", "reviewing"):
            project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
            record = Warehousing(
                project=project,
                organisation_id=ent["org_id"],
                town_id=world.towns[0]["id"],
                project_name="甲企业项目入库",
                content={"project": {"project_name": "甲企业项目入库"}},
                status=status,
                current_step="expert" if status == "reviewing" else None,
                submitted_at=now if status == "reviewing" else None,
                step_entered_at=now if status == "reviewing" else None,
            )
            db.session.add_all([project, record])
            records.append(record)
        db.session.flush()
        db.session.add(WarehousingFile(warehousing_id=records[1].id, kind="contract", file_id=stored))
        db.session.add(
            ReviewAssignment(
                subject_type="warehousing",
                subject_id=records[1].id,
                step="expert",
                user_id=world.users["expert_a"]["id"],
            )
        )
        db.session.commit()
        world.ids.update(warehousing=records[0].id, warehousing_review=records[1].id)


def _signings(app, world):
    """Signings: A's signed one (two contracts, a draft 预奖补申请), B's signed one, and A's pending one whose
    page 3 is with prov_a (协助填写中)."""
    from helpers_signing import listed_product, make_signing

    from zsdx.models import AssistRequest, PreSubsidy, Signing

    u = world.users
    product = {"id": world.ids["product_listed"]}
    signed = make_signing(app, u["ent_a"], contracts=2, filled=True, signed=True, product=product)
    signed_b = make_signing(app, u["ent_b"], contracts=1, filled=True, signed=True, product=product)
    pending = make_signing(app, u["ent_a"], contracts=1, provider_org=u["prov_a"]["org_id"])
    listed_product(app, Factory(app), provider_org=u["prov_b"]["org_id"])
    with app.app_context():
        now = dt.datetime.now()
        application = PreSubsidy(
            signing_id=signed["signing"], organisation_id=u["ent_a"]["org_id"], town_id=world.towns[0]["id"]
        )
        db.session.add(application)
        signing = db.session.get(Signing, pending["signing"])
        signing.assisted = True
        request = AssistRequest(
            host_type="signing",
            host_id=signing.id,
            organisation_id=u["ent_a"]["org_id"],
            provider_id=u["prov_a"]["org_id"],
            item_name=signing.project_name,
            status=ReviewStatus.REVIEWING,
            current_step="provider_fill",
            submitted_at=now,
            step_entered_at=now,
        )
        db.session.add(request)
        db.session.commit()
        world.ids.update(
            signing=signed["signing"],
            signing_b=signed_b["signing"],
            signing_assisted=pending["signing"],
            contract=signed["contracts"][0],
            contract_b=signed_b["contracts"][0],
            pre_subsidy=application.id,
            assist=request.id,
        )


def _post_assessment(app, world):
    """A's 事后评估 assigned to inst_a, its report uploaded (the stored file above), waiting for ent_a's 确认."""
    from zsdx.models import PostAssessment

    ent = world.users["ent_a"]
    with app.app_context():
        now = dt.datetime.now()
        project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
        stored = db.session.query(StoredFile.id).filter_by(sha256="0" * 64).order_by(StoredFile.id).first()[0]
        record = PostAssessment(
            project=project,
            organisation_id=ent["org_id"],
            town_id=world.towns[0]["id"],
            method="institution",
            started_at=now,
            institution_id=world.users["inst_a"]["org_id"],
            assigned_at=now,
            report_file_id=stored,
            reported_level=3,
            status=ReviewStatus.REVIEWING,
            current_step="enterprise_confirm",
            submitted_at=now,
            step_entered_at=now,
        )
        db.session.add_all([project, record])
        db.session.commit()
        world.ids["post_assessment"] = record.id


def _completions(app, world):
    """A's 改造完成 records: a pending one whose 数字化改造成效 is with prov_a (协助填写中), with a 佐证材料, an
    evidenced dimension and an invoice with its voucher (the stored file above), and a submitted one."""
    from decimal import Decimal

    from zsdx.models import AssistRequest, Completion, CompletionIndicator, Invoice, InvoiceLine, PaymentVoucher

    ent = world.users["ent_a"]
    with app.app_context():
        now = dt.datetime.now()
        stored = db.session.query(StoredFile.id).filter_by(sha256="0" * 64).order_by(StoredFile.id).first()[0]
        records = []
        for status in ("pending", "submitted"):
            project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
            record = Completion(
                project=project,
                organisation_id=ent["org_id"],
                town_id=world.towns[0]["id"],
                project_name="甲企业改造完成",
                status=status,
                assisted=True,
                level_before=2,
                level_after=3,
                quotation_file_id=stored,
                submitted_at=now if status == "submitted" else None,
            )
            db.session.add_all([project, record])
            records.append(record)
        pending = records[0]
        result = CompletionIndicator(completion=pending, dimension="innovation", before="10", evidence_file_id=stored)
        invoice = Invoice(completion=pending, number="A-001", issued_on=now.date(), seller="销售方")
        line = InvoiceLine(invoice=invoice, name="服务器", amount=Decimal("1.00"), tax=Decimal("0.13"))
        line.total = Decimal("1.13")
        voucher = PaymentVoucher(invoice=invoice, paid_on=now.date(), amount=Decimal("1.13"), file_id=stored)
        db.session.add_all([result, invoice, line, voucher])
        db.session.flush()
        db.session.add(
            AssistRequest(
                host_type="completion",
                host_id=pending.id,
                organisation_id=ent["org_id"],
                provider_id=world.users["prov_a"]["org_id"],
                item_name=pending.project_name,
                status=ReviewStatus.REVIEWING,
                current_step="provider_fill",
                submitted_at=now,
                step_entered_at=now,
            )
        )
        db.session.commit()
        world.ids.update(
            completion=pending.id,
            completion_submitted=records[1].id,
            completion_result=result.id,
            completion_voucher=voucher.id,
        )


def _completion_state(ids):
    """A's 改造完成 records as an attack could change them: status, files, rows and amounts."""
    from zsdx.models import Completion, Invoice

    out = []
    for pk in (ids["completion"], ids["completion_submitted"]):
        c = db.session.get(Completion, pk)
        out.append(
            (c.status, c.assisted, c.quotation_file_id, c.submitted_at, [(r.after, r.ticked) for r in c.results])
        )
    invoices = db.session.query(Invoice).filter_by(completion_id=ids["completion"]).order_by(Invoice.id).all()
    out.append([(i.number, [(x.amount, x.tax, x.total) for x in i.lines], len(i.vouchers)) for i in invoices])
    return out


def _warehousing_state(ids):
    """A's 项目入库 records as an attack could change them."""
    from zsdx.models import Warehousing

    out = []
    for pk in (ids["warehousing"], ids["warehousing_review"]):
        w = db.session.get(Warehousing, pk)
        out.append((w.status, w.current_step, w.version, w.content, sorted((f.kind, f.file_id) for f in w.files)))
    return out


def _implementations(app, world):
    """改造中: A's signed signing ("@signing") has its record, submitted ("@implementation": 信息变更, 表单下载);
    A's second signed project, whose contract's lead unit is prov_a, has its page with prov_a
    ("@implementation_assisted", 协助填写中). Signed directly in the database, so created here as 【提交】 would."""
    from helpers_signing import make_signing

    from zsdx.implementation import new_implementation, open_next_stages
    from zsdx.models import AssistRequest, ImplementationStatus, Signing

    u = world.users
    product = {"id": world.ids["product_listed"]}
    other = make_signing(
        app, u["ent_a"], contracts=1, filled=True, signed=True, product=product, provider_org=u["prov_a"]["org_id"]
    )
    with app.app_context():
        now = dt.datetime.now()
        submitted = new_implementation(db.session.get(Signing, world.ids["signing"]))
        pending = new_implementation(db.session.get(Signing, other["signing"]))
        db.session.add_all([submitted, pending])
        db.session.flush()
        for indicator in submitted.indicators:
            indicator.before = f"{indicator.dimension}改造前"
        submitted.assisted = False
        submitted.status, submitted.submitted_at = ImplementationStatus.SUBMITTED, now
        open_next_stages(submitted)
        pending.assisted = True
        db.session.add(
            AssistRequest(
                host_type="implementation",
                host_id=pending.id,
                organisation_id=u["ent_a"]["org_id"],
                provider_id=u["prov_a"]["org_id"],
                item_name=pending.project_name,
                status=ReviewStatus.REVIEWING,
                current_step="provider_fill",
                submitted_at=now,
                step_entered_at=now,
            )
        )
        db.session.commit()
        world.ids.update(implementation=submitted.id, implementation_assisted=pending.id)


def _implementation_state(ids):
    from zsdx.models import Implementation, ImplementationIndicator

    rows = (
        db.session.query(Implementation.id, Implementation.status, Implementation.assisted, Implementation.submitted_at)
        .filter(Implementation.id.in_([ids["implementation"], ids["implementation_assisted"]]))
        .order_by(Implementation.id)
        .all()
    )
    indicators = (
        db.session.query(ImplementationIndicator.id, ImplementationIndicator.ticked, ImplementationIndicator.before)
        .filter(ImplementationIndicator.implementation_id.in_([ids["implementation"], ids["implementation_assisted"]]))
        .order_by(ImplementationIndicator.id)
        .all()
    )
    return [tuple(r) for r in rows], [tuple(r) for r in indicators]


def _store_bytes(app, data):
    """The stored file rows above point at sha256 "0"*64: put bytes there so downloads can be served."""
    import os

    folder = app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    for name in ("0" * 64, "00/" + "0" * 64):
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
