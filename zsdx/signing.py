"""项目签约 (manual 04, SPEC §3.4): the signing created at 已备案, its contracts, page 3 (牵引单位信息: needs and
the products picked from the catalog, optionally filled by the enterprise's 行业型服务商 through
zsdx.assist), 【提交】 → 已签约 (which creates the 改造中 record) and 信息变更 with revisions.

Money is in 万元, Decimal with at most 4 places; totals are sums of the stored lines, never floats.
"""

import datetime as dt
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import joinedload, selectinload

from . import assist
from .catalog import listed_products
from .extensions import db
from .models import (
    AssistRequest,
    Contract,
    Implementation,
    Product,
    Signing,
    SigningNeed,
    SigningProduct,
    SigningStatus,
)
from .revisions import history
from .revisions import record_revision as _record_revision
from .stages import WorkbenchTab, register_tab
from .visibility import register
from .workflow import WorkflowError, unit_of_work

HOST = "signing"  # AssistRequest.host_type and Revision.subject_type
SUMMARY_MAX = 2000
ANALYSIS_MAX = 300
SCENARIO_DESC_MAX = 500
MIN_TARGET_LEVEL = 2
TARGET_LEVELS = [("2", _l("Level 2")), ("3", _l("Level 3")), ("4", _l("Level 4"))]
CLOUD_USES = [
    ("public", _l("Public cloud")),
    ("private", _l("Private cloud")),
    ("hybrid", _l("Hybrid cloud")),
    ("none", _l("Not on the cloud")),
]
NO_PROVIDER = "none"  # 已签约行业服务商: 无牵引单位

PROJECT_FIELDS = [
    ("project_name", _l("Project name")),
    ("summary", _l("Project summary")),
    ("start_date", _l("Transformation start date")),
    ("end_date", _l("Transformation end date")),
    ("acceptance_date", _l("Planned acceptance date")),
    ("target_level", _l("Target digital level")),
    ("chain_leader", _l("Driven by a chain leader")),
]
CONTRACT_FIELDS = [
    ("number", _l("Contract/agreement number")),
    ("total_amount", _l("Total contract amount (10k yuan)")),
    ("industry_provider", _l("Signed industry service provider")),
    ("file", _l("Project contract (PDF)")),
    ("subsidy_amount", _l("Of which included in the subsidised project amount (10k yuan)")),
]
NEED_FIELDS = [
    ("scenario", _l("Application scenario")),
    ("description", _l("Scenario description")),
    ("analysis", _l("Problem and needs analysis (within 300 characters)")),
]
PRODUCT_FIELDS = [
    ("contract_id", _l("Contract")),
    ("cloud", _l("Cloud use")),
    ("content", _l("Digital transformation content")),
    ("start_date", _l("Transformation start date")),
    ("end_date", _l("Transformation end date")),
    ("price", _l("Product/service signing price (10k yuan, tax included)")),
    ("scenario", _l("Corresponding transformation scenario")),
    ("scenario_desc", _l("Scenario description (within 500 characters)")),
]


# --- creation and reading -------------------------------------------------------------------------------
def new_signing(filing):
    """项目签约 of a project reaching 已备案: 项目基本信息 carried from the filing."""
    return Signing(
        project_id=filing.project_id,
        organisation_id=filing.organisation_id,
        town_id=filing.town_id,
        project_name=filing.project_name,
        summary=filing.project_summary,
        start_date=filing.start_date,
        end_date=filing.end_date,
        target_level=filing.target_level,
        chain_leader=filing.chain_leader,
    )


def status_text(signing):
    return _("Signed") if signing.status == SigningStatus.SIGNED else _("To be signed")


def assist_text(signing):
    return assist.status_text(signing.assist, bool(signing.assisted))


def editable(signing):
    return signing.status == SigningStatus.PENDING


def page_options():
    """Everything the signing pages show, with the signing."""
    return [
        selectinload(Signing.contracts).options(joinedload(Contract.file), joinedload(Contract.industry_provider)),
        selectinload(Signing.needs),
        selectinload(Signing.products),
        joinedload(Signing.assist).joinedload(AssistRequest.provider),
    ]


def ecosystem(signing):
    """{contract id: [产业生态服务商]}: the suppliers of the products picked for each contract (never typed),
    from the signing's loaded product rows."""
    out = {}
    for row in signing.products:
        names = out.setdefault(row.contract_id, [])
        if row.supplier_name and row.supplier_name not in names:
            names.append(row.supplier_name)
    return out


def totals(signing):
    """(合同总金额, 纳入资金奖补项目金额) summed over the contracts, exact."""
    total = sum((c.total_amount or Decimal(0) for c in signing.contracts), Decimal(0))
    subsidy = sum((c.subsidy_amount or Decimal(0) for c in signing.contracts), Decimal(0))
    return total, subsidy


def revisions(signing):
    return history(HOST, signing.id)


# --- what 【提交】 needs -----------------------------------------------------------------------------------
def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def problems(signing, listed_ids=None):
    """Everything missing or wrong for 【提交】, as {anchor: message} in page order; each message names its
    item (e.g. "合同2：请上传项目合同（PDF）"). `listed_ids`: the picked products still listed (looked up
    when None)."""
    out = {}
    for name, label in PROJECT_FIELDS:
        if _blank(getattr(signing, name)):
            out[name] = _("%(label)s is required", label=label)
    if signing.summary and len(signing.summary) > SUMMARY_MAX:
        out["summary"] = _("At most %(n)s characters", n=SUMMARY_MAX)
    if signing.target_level and (not signing.target_level.isdigit() or int(signing.target_level) < MIN_TARGET_LEVEL):
        out["target_level"] = _("The target level should be Level 2 or above")
    if signing.start_date and signing.end_date and signing.start_date > signing.end_date:
        out["end_date"] = _("The end date cannot be earlier than the start date")
    if signing.start_date and signing.acceptance_date and signing.acceptance_date < signing.start_date:
        out["acceptance_date"] = _("The acceptance date cannot be earlier than the start date")
    if not signing.contracts:
        out["contracts"] = _("Please add at least one contract")
    numbers = {}
    for index, contract in enumerate(signing.contracts, start=1):
        out.update(contract_problems(contract, index))
        if contract.number:
            key = contract.number.strip()
            if key in numbers:
                out[f"contract-{contract.id}-number"] = _(
                    "Contract %(n)s: the contract number repeats contract %(m)s", n=index, m=numbers[key]
                )
            numbers.setdefault(key, index)
    out.update(page3_problems(signing, listed_ids))
    return out


def contract_problems(contract, index):
    out = {}
    prefix = f"contract-{contract.id}-"
    for name, label in CONTRACT_FIELDS:
        if name == "industry_provider":
            missing = contract.industry_provider_id is None and not contract.no_industry_provider
        elif name == "file":
            missing = contract.file_id is None
        else:
            missing = _blank(getattr(contract, name))
        if missing:
            out[prefix + name] = _("Contract %(n)s: %(label)s is required", n=index, label=label)
    if contract.total_amount is not None and contract.total_amount <= 0:
        out[prefix + "total_amount"] = _("Contract %(n)s: the total amount must be greater than 0", n=index)
    if (
        contract.total_amount is not None
        and contract.subsidy_amount is not None
        and contract.subsidy_amount > contract.total_amount
    ):
        out[prefix + "subsidy_amount"] = _(
            "Contract %(n)s: the subsidised amount cannot exceed the total contract amount", n=index
        )
    return out


def page3_problems(signing, listed_ids=None):
    """Page 3 (牵引单位信息): the assistance and the rows."""
    out = {}
    if signing.assisted is None:
        out["assisted"] = _("Please choose whether the industry service provider assists with filling")
        return out
    waiting = assist.check_ready(signing.assist, signing.assisted)
    if waiting:
        out["assisted"] = waiting
        return out
    out.update(rows_problems(signing, listed_ids))
    return out


def rows_problems(signing, listed_ids=None):
    """The rows of page 3 (what the enterprise, or the provider assisting it, must fill)."""
    out = {}
    if not signing.needs:
        out["needs"] = _("Please fill in at least one digital transformation need")
    for index, need in enumerate(signing.needs, start=1):
        for name, label in NEED_FIELDS:
            if _blank(getattr(need, name)):
                out[f"need-{need.id}-{name}"] = _("Need %(n)s: %(label)s is required", n=index, label=label)
    if not signing.products:
        out["products"] = _("Please add at least one main pilot product/service of the contracts")
    if listed_ids is None:
        listed_ids = still_listed({row.product_id for row in signing.products})
    contract_ids = {c.id for c in signing.contracts}
    for index, row in enumerate(signing.products, start=1):
        out.update(product_problems(row, index, contract_ids, row.product_id in listed_ids))
    return out


def product_problems(row, index, contract_ids, listed):
    out = {}
    prefix = f"product-{row.id}-"
    name = row.name or row.code
    if not listed:
        out[prefix + "product"] = _(
            "Product %(n)s (%(name)s) is no longer listed; please remove it and choose another", n=index, name=name
        )
    for field, label in PRODUCT_FIELDS:
        if _blank(getattr(row, field)):
            out[prefix + field] = _("Product %(n)s: %(label)s is required", n=index, label=label)
    if row.contract_id is not None and row.contract_id not in contract_ids:
        out[prefix + "contract_id"] = _("Product %(n)s: please choose one of this project's contracts", n=index)
    if row.start_date and row.end_date and row.start_date > row.end_date:
        out[prefix + "end_date"] = _("The end date cannot be earlier than the start date")
    if row.price is not None and row.price <= 0:
        out[prefix + "price"] = _("Product %(n)s: the signing price must be greater than 0", n=index)
    if over_price(row) and _blank(row.over_price_reason):
        out[prefix + "over_price_reason"] = _(
            "Product %(n)s: the signing price is above the maximum warehousing price; please explain why", n=index
        )
    if row.scenario_desc and len(row.scenario_desc) > SCENARIO_DESC_MAX:
        out[prefix + "scenario_desc"] = _("At most %(n)s characters", n=SCENARIO_DESC_MAX)
    return out


def over_price(row):
    """产品/服务签约价格 above the product's 最高入库价格 (a warning; an explanation is then required)."""
    return row.price is not None and row.max_price is not None and row.price > row.max_price


def still_listed(product_ids):
    if not product_ids:
        return set()
    rows = listed_products().with_entities(Product.id).filter(Product.id.in_(product_ids))
    return {pid for (pid,) in rows}


# --- page 3 rows ------------------------------------------------------------------------------------------
def add_need(signing):
    need = SigningNeed(signing_id=signing.id, position=len(signing.needs))
    db.session.add(need)
    return need


def pick_product(signing, product_id):
    """【添加产品/服务】 → 确定: a listed product (approved, not withdrawn) of any provider becomes a row, its
    code, name and supplier copied; anything else is refused as not found."""
    product = listed_products().options(joinedload(Product.organisation)).filter(Product.id == product_id).one_or_none()
    if product is None:
        raise WorkflowError(_("This product/service is not in the catalog (not listed or withdrawn)"))
    row = SigningProduct(
        signing_id=signing.id,
        product_id=product.id,
        position=len(signing.products),
        code=product.code,
        name=product.name,
        provider_credit_code=product.organisation.credit_code,
        supplier_name=product.organisation.name,
        max_price=product.listed_price,
        contract_id=signing.contracts[0].id if len(signing.contracts) == 1 else None,
    )
    db.session.add(row)
    return row


def add_contract(signing):
    contract = Contract(signing_id=signing.id, position=len(signing.contracts))
    db.session.add(contract)
    return contract


def remove_row(signing, kind, row_id):
    """Delete one of the signing's own rows (a contract, need or product); other ids are ignored."""
    rows = {"contract": signing.contracts, "need": signing.needs, "product": signing.products}.get(kind, [])
    for row in rows:
        if row.id == row_id:
            if kind == "contract":
                for product in signing.products:
                    if product.contract_id == row.id:
                        product.contract_id = None
                if signing.pre_subsidy is not None and row in signing.pre_subsidy.contracts:
                    raise WorkflowError(_("This contract is part of the pre-subsidy application"))
            db.session.delete(row)
            return True
    return False


# --- 【提交】 ------------------------------------------------------------------------------------------------
class Incomplete(WorkflowError):
    def __init__(self, problems):
        super().__init__(_("Submission failed: please complete the items marked below"))
        self.problems = problems


def submit_signing(signing, actor):
    """【提交】 / 【确认提交】: 已签约 and the 改造中 record; refused (Incomplete) while anything is missing."""
    found = problems(signing)
    if found:
        raise Incomplete(found)
    with unit_of_work():
        result = db.session.execute(
            update(Signing)
            .where(Signing.id == signing.id, Signing.status == SigningStatus.PENDING)
            .values(status=SigningStatus.SIGNED, submitted_at=dt.datetime.now())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise WorkflowError(_("This record has already been handled by someone else"))
        assist.confirm(signing.assist)
        if not db.session.query(Implementation.id).filter_by(project_id=signing.project_id).first():
            from .implementation import new_implementation

            db.session.add(new_implementation(signing))
    db.session.expire(signing)


# --- 信息变更 -----------------------------------------------------------------------------------------------
def snapshot(signing):
    """The signing as {label: text}, for the revisions of 信息变更."""

    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return str(value)

    out = {str(label): text(getattr(signing, name)) for name, label in PROJECT_FIELDS}
    for index, c in enumerate(signing.contracts, start=1):
        head = _("Contract %(n)s", n=index)
        provider = _("No lead unit") if c.no_industry_provider else (c.industry_provider_id or "")
        for key, value in (
            ("number", c.number),
            ("total_amount", c.total_amount),
            ("industry_provider", provider),
            ("file", c.file.original_name if c.file_id and c.file else ""),
            ("subsidy_amount", c.subsidy_amount),
        ):
            out[f"{head} {dict(CONTRACT_FIELDS)[key]}"] = text(value)
    for index, need in enumerate(signing.needs, start=1):
        for name, label in NEED_FIELDS:
            out[f"{_('Need %(n)s', n=index)} {label}"] = text(getattr(need, name))
    for index, row in enumerate(signing.products, start=1):
        out[f"{_('Product %(n)s', n=index)} {_('Product/service code')}"] = text(row.code)
        for name, label in PRODUCT_FIELDS + [("over_price_reason", _l("Explanation"))]:
            out[f"{_('Product %(n)s', n=index)} {label}"] = text(getattr(row, name))
    return out


def record_revision(signing, actor, before, after):
    return _record_revision(HOST, signing.id, actor, before, after)


# --- visibility: the owner; 市工信; the town's 镇街; the provider it asked for help --------------------------
_signing_rule = assist.host_rule(HOST)


def _contract_rule(model, user, names):
    from .visibility import visible

    return model.signing_id.in_(visible(Signing, user).with_entities(Signing.id))


register(Signing, _signing_rule)
register(Contract, _contract_rule)
register(SigningNeed, lambda model, user, names: _contract_rule(model, user, names))
register(SigningProduct, lambda model, user, names: _contract_rule(model, user, names))

assist.register_host(
    assist.AssistHost(
        type=HOST,
        model=Signing,
        label=_l("Project signing"),
        page_label=_l("Lead unit information"),
        fill_link=lambda pk: url_for("SigningView.assist", pk=pk),
        owner_link=lambda pk: url_for("SigningView.edit", pk=pk, page=2),
    )
)


# --- 我的工作台 → 项目签约 -------------------------------------------------------------------------------------
def signing_rows(user):
    from .visibility import owned

    return (
        owned(Signing, user)
        .options(joinedload(Signing.assist), joinedload(Signing.pre_subsidy))
        .order_by(Signing.created_at.desc(), Signing.id.desc())
    )


def _tab_context(user):
    import sys

    from . import presubsidy

    return {"signing_rules": sys.modules[__name__], "presubsidy": presubsidy}


register_tab(
    WorkbenchTab(
        group="projects",
        key="signing",
        label=_l("Project signing"),
        columns=[
            _l("No."),
            _l("Project name"),
            _l("Signing status"),
            _l("Pre-subsidy status"),
            _l("Industry provider assistance status"),
            _l("Submitted at"),
            _l("Operation"),
        ],
        order=30,
        rows=signing_rows,
        template="zsdx/_tab_signing.html",
        context=_tab_context,
    )
)


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import DashboardPart, register_dashboard_part  # noqa: E402

register_dashboard_part(
    DashboardPart(
        key="signing",
        order=30,
        label=_l("Project signing"),
        model=Signing,
        status=Signing.status,
        status_text=status_text,
        ranks={SigningStatus.PENDING: 0, SigningStatus.SIGNED: 6},
    )
)
