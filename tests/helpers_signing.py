"""Shared set-up of the signing tests (test_signing*.py, test_presubsidy.py): a 已备案 project's signing,
filled or not, signed or not, and listed products to pick. Inserted directly (fast); the HTTP layer is
what the tests themselves drive."""

import datetime as dt
import random
from decimal import Decimal

from helpers_review import PDF_BYTES, make_filing

from zsdx.extensions import db
from zsdx.models import (
    Contract,
    Filing,
    Product,
    ReviewStatus,
    Signing,
    SigningNeed,
    SigningProduct,
    SigningStatus,
)


def listed_product(app, factory, provider_org=None, price="12.6", name=None, withdrawn=False, listed=True):
    """A product of a 服务商 (a new one unless `provider_org`), approved and listed unless told otherwise.
    Returns {"id", "org_id", "code"}."""
    org = provider_org or factory.org("provider", is_industry_provider=True)
    with app.app_context():
        p = Product(
            organisation_id=org,
            name=name or f"测试产品{random.randint(0, 10**8)}",
            category="software",
            scenarios="S1,S2",
            max_price=Decimal(price),
            purchase_mode="yearly",
            status=ReviewStatus.DONE if listed else ReviewStatus.DRAFT,
        )
        db.session.add(p)
        db.session.flush()
        if listed:
            p.code = f"T{p.id:010d}"[:16]
            p.listed_price = Decimal(price)
        if withdrawn:
            p.withdrawn_at = dt.datetime.now()
        db.session.commit()
        return {"id": p.id, "org_id": org, "code": p.code}


def store_pdf(app, user_id=None, data=PDF_BYTES, name="合同.pdf"):
    """A stored PDF (as an upload would leave it); returns its id."""
    import io

    from werkzeug.datastructures import FileStorage

    from zsdx.files import PDF, store_upload

    with app.test_request_context("/"):
        stored = store_upload(FileStorage(io.BytesIO(data), filename=name), PDF, user_id)
        db.session.commit()
        return stored.id


def make_signing(app, ent, contracts=0, filled=False, signed=False, product=None, provider_org=None):
    """The signing of a new 已备案 project of `ent`. `contracts`: how many complete contracts (each with a
    PDF; 合同总金额 100.1234 + i, 纳入奖补 50.5 + i); `filled`: page 3 filled by the enterprise (assisted = 否,
    one need, `product` picked for the first contract); `signed`: 已签约. Returns a dict of ids."""
    from zsdx.filing import complete_filing

    filing_id = make_filing(app, ent, step="city")
    pdf = store_pdf(app, ent["id"]) if contracts else None
    with app.app_context():
        filing = db.session.get(Filing, filing_id)
        filing.status, filing.current_step = ReviewStatus.DONE, None
        complete_filing(filing, None)
        db.session.flush()
        signing = db.session.query(Signing).filter_by(project_id=filing.project_id).one()
        signing.acceptance_date = dt.date(2026, 12, 31)
        signing.target_level = "3"
        signing.chain_leader = False
        signing.summary = signing.summary or "项目简介"
        ids = []
        for i in range(contracts):
            c = Contract(
                signing_id=signing.id,
                position=i,
                number=f"HT-{signing.id}-{i + 1}",
                total_amount=Decimal("100.1234") + i,
                subsidy_amount=Decimal("50.5") + i,
                industry_provider_id=provider_org,
                no_industry_provider=provider_org is None,
                file_id=pdf,
            )
            db.session.add(c)
            db.session.flush()
            ids.append(c.id)
        if filled:
            signing.assisted = False
            db.session.add(
                SigningNeed(signing_id=signing.id, scenario="S1", description="场景描述", analysis="问题分析")
            )
            if product is not None:
                p = db.session.get(Product, product["id"])
                db.session.add(
                    SigningProduct(
                        signing_id=signing.id,
                        contract_id=ids[0] if ids else None,
                        product_id=p.id,
                        code=p.code,
                        name=p.name,
                        provider_credit_code=p.organisation.credit_code,
                        supplier_name=p.organisation.name,
                        max_price=p.listed_price,
                        cloud="public",
                        content="转型内容",
                        start_date=dt.date(2026, 1, 1),
                        end_date=dt.date(2026, 6, 30),
                        price=Decimal("10.5"),
                        scenario="S1",
                        scenario_desc="场景描述",
                    )
                )
        if signed:
            signing.status = SigningStatus.SIGNED
            signing.submitted_at = dt.datetime.now()
        db.session.commit()
        return {
            "signing": signing.id,
            "project": filing.project_id,
            "filing": filing_id,
            "contracts": ids,
            "town_id": filing.town_id,
            "file": pdf,
        }
