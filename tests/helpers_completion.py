"""Shared set-up of the 改造完成 and 项目入库 tests (test_completion.py, test_warehousing.py): a project whose 改造完成
is open, its record filled so that it can be submitted, and a project whose 改造完成 is submitted (which opens its
项目入库 record). Inserted directly (fast); the HTTP layer is what the tests themselves drive."""

import datetime as dt
from decimal import Decimal

from helpers_implementation import make_implementation
from helpers_signing import store_pdf

from zsdx.extensions import db
from zsdx.models import (
    Completion,
    Invoice,
    InvoiceLine,
    PaymentVoucher,
    PostAssessment,
    ProviderRating,
    ReviewStatus,
    Signing,
    Warehousing,
)

SIGNED = dt.datetime(2025, 3, 1, 10, 0)  # the project's signing was submitted then
TODAY = dt.date.today()  # the filled invoices were issued and paid then


def open_completion(app, factory, ent, level_after=3, provider_org=None):
    """A project of `ent` whose 改造完成 is open (改造中 submitted): its record's 改造后 level is `level_after`, the
    signing was submitted on SIGNED. Returns the ids of make_implementation."""
    ids = make_implementation(app, factory, ent, submitted=True, provider_org=provider_org)
    with app.app_context():
        db.session.get(Completion, ids["completion"]).level_after = level_after
        db.session.get(Signing, ids["signing"]).submitted_at = SIGNED
        db.session.commit()
    return ids


def fill_completion(app, ids, ent, invoices=1):
    """Fill the 改造完成 record straight in the database so that it can be submitted: 否 (not assisted), every
    dimension ticked with its 改造后 data and a PDF, the provider rated 4 stars, the three files, and `invoices`
    invoices (number NO<record id>-<n>, issued TODAY), each with one line (100.00 + 13.00 = 113.00) and a voucher
    of 113.00 paid TODAY. Returns the id of the PDF every file is."""
    pdf = store_pdf(app, ent["id"], name="佐证.pdf")
    with app.app_context():
        c = db.session.get(Completion, ids["completion"])
        c.assisted = False
        for r in c.results:
            r.ticked, r.after, r.evidence_file_id = True, f"{r.dimension}改造后数据", pdf
        db.session.add(
            ProviderRating(
                completion_id=c.id,
                provider_id=ids["provider_org"],
                **{f"{k}_stars": 4 for k in ("product", "overall", "attitude", "after_sales")},
                **{f"{k}_text": "很好" for k in ("product", "overall", "attitude", "after_sales")},
            )
        )
        c.quotation_file_id = c.invoice_file_id = c.payment_file_id = pdf
        for n in range(invoices):
            inv = Invoice(completion_id=c.id, position=n, number=f"NO{c.id}-{n}", issued_on=TODAY, seller="销售方")
            db.session.add(inv)
            db.session.flush()
            line = InvoiceLine(
                invoice_id=inv.id,
                name="服务器",
                amount=Decimal("100.00"),
                tax=Decimal("13.00"),
                total=Decimal("113.00"),
            )
            db.session.add(line)
            db.session.add(PaymentVoucher(invoice_id=inv.id, paid_on=TODAY, amount=Decimal("113.00"), file_id=pdf))
        db.session.commit()
    return pdf


def submitted_completion(app, factory, ent, level_after=3):
    """A project of `ent` whose 改造完成, filled as fill_completion does, is submitted through zsdx.completion (which
    opens the 项目入库 record), with the 事后评估 confirmed at `level_after`. Returns the ids of open_completion and
    the 项目入库 record's id ("warehousing")."""
    from zsdx.completion import submit_completion
    from zsdx.models import ZsdxUser

    ids = open_completion(app, factory, ent, level_after=level_after)
    fill_completion(app, ids, ent)
    with app.app_context():
        post = db.session.get(PostAssessment, ids["post_assessment"])
        post.level, post.assessed_at, post.status = level_after, dt.datetime.now(), ReviewStatus.DONE
        db.session.commit()
    with app.test_request_context("/"):
        c = db.session.get(Completion, ids["completion"])
        submit_completion(c, db.session.get(ZsdxUser, ent["id"]))
        ids["warehousing"] = db.session.query(Warehousing.id).filter_by(project_id=ids["project"]).scalar()
    return ids
