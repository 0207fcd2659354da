"""上架产品 (manual 04, SPEC §3.4): a 服务商's products and services, reviewed by 市工信 (chain "product");
an approved product gets its 产品/服务代码 and is listed in the catalog enterprises pick from.

A change of an approved product's 最高入库价格 goes through review again; meanwhile the catalog keeps the
approved (listed) price. 下架 (withdraw) takes a product out of the catalog at once.
"""

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from . import roles as R
from .extensions import db
from .models import Product, PurchaseMode, ReviewStatus
from .stages import Stage, register_stage
from .workflow import WorkflowError, reopen, submit, unit_of_work

CATEGORIES = [("software", _l("Software product")), ("hardware", _l("Hardware product")), ("service", _l("Service"))]
PURCHASE_MODES = [
    (PurchaseMode.ONE_TIME, _l("One-time purchase")),
    (PurchaseMode.ON_DEMAND, _l("Purchase on demand")),
    (PurchaseMode.YEARLY, _l("Yearly subscription")),
    (PurchaseMode.OTHER, _l("Other")),
]
MAX_PRICE = Decimal("99999999.9999")  # Numeric(14, 4), in 万元


def scenario_choices():
    """适用场景: the 16 scenarios of the national index."""
    from .assessment import get_index

    return [(s.id, s.name) for s in get_index().scenarios]


def scenario_names(value):
    names = dict(scenario_choices())
    return "、".join(names.get(x, x) for x in (value or "").split(",") if x)


def parse_price(text):
    """最高入库价格 in 万元: a finite number above 0 with at most 4 places, exact (Decimal); else None."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value <= 0 or value > MAX_PRICE or value.as_tuple().exponent < -4:
        return None
    return value


def check(product):
    """The rules a product must meet before it is submitted: {field: message}."""
    errors = {}
    if not (product.name or "").strip():
        errors["name"] = _("Please enter the product/service name")
    if product.category not in dict(CATEGORIES):
        errors["category"] = _("Please choose the category")
    if not [x for x in (product.scenarios or "").split(",") if x in dict(scenario_choices())]:
        errors["scenarios"] = _("Please choose at least one applicable scenario")
    if parse_price(product.max_price) is None:
        errors["max_price"] = _("The maximum warehousing price must be a number above 0 with at most 4 decimal places")
    if product.purchase_mode not in PurchaseMode.ALL:
        errors["purchase_mode"] = _("Please choose the purchase method")
    return errors


def listed_products():
    """A query of the catalog: approved, not withdrawn products (what anyone may pick), whoever asks."""
    from .scopes import scope

    return db.session.query(Product).filter(scope("listed").see_clause(Product, None, None))


def status_text(product):
    if product.withdrawn_at:
        return _("Withdrawn")
    if product.status == ReviewStatus.REVIEWING:
        return _("Under review (listed)") if product.listed_price is not None else _("Pending review")
    return {
        ReviewStatus.DRAFT: _("Listed, change not submitted")
        if product.listed_price is not None
        else _("To be submitted"),
        ReviewStatus.RETURNED: _("Status: returned"),
        ReviewStatus.DONE: _("Listed"),
        ReviewStatus.REJECTED: _("Not approved"),
    }[product.status]


# --- use cases (one commit each) ------------------------------------------------------------------------
def submit_product(product, actor):
    """【提交审核】: a draft or returned product into the 产品上架 chain."""
    errors = check(product)
    if errors:
        raise WorkflowError("；".join(errors.values()))
    if product.withdrawn_at:
        raise WorkflowError(_("A withdrawn product cannot be submitted"))
    with unit_of_work():
        submit(product, actor)


def price_changed(product, actor):
    """The provider changed an approved product's price: it is reviewed again (the listing stays)."""
    with unit_of_work():
        reopen(product, actor)


def withdraw(product, actor):
    """【下架】: out of the catalog at once; enterprises can no longer pick it."""
    if product.withdrawn_at:
        return
    with unit_of_work():
        db.session.execute(update(Product).where(Product.id == product.id).values(withdrawn_at=dt.datetime.now()))


def _approve(product, actor):
    """The chain completed: the first approval issues the 产品/服务代码; the approved price is listed."""
    values = {"listed_price": product.max_price}
    if not product.code:
        values["code"] = f"P{dt.date.today():%y%m%d}{product.id:05d}"
    db.session.execute(update(Product).where(Product.id == product.id).values(**values))


register_stage(
    Stage(
        type="product",
        order=30,
        model=Product,
        label=_l("Product listing"),
        title=lambda p: _("%(name)s product listing review", name=p.name),
        owner_link=lambda p: url_for("MyProductView.show", pk=p.id),
        item_name=lambda p: p.name,
        item_label=_l("Product/service name"),
        status_text=status_text,
        review_template="zsdx/_review_product.html",
        review_context=lambda p: {"catalog": sys.modules[__name__]},
        queue_options=lambda model: [joinedload(model.organisation)],
        detail_options=lambda model: [joinedload(model.organisation)],
        on_complete=_approve,
        # every enterprise and provider sees what is listed (the catalog)
        viewers=((R.ENTERPRISE, "listed", True), (R.PROVIDER, "listed", True)),
    )
)
