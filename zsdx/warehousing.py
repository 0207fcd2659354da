"""项目入库 (manual 09, SPEC §3.8): the record is created when 改造完成 is submitted (zsdx.completion) and is
pre-filled here with the whole project (an editable copy in `Warehousing.content`: enterprise, project,
数字化改造需求, 合同主要试点产品/服务, 维度指标); the enterprise edits it, uploads the 佐证材料 checklist, 【预览】,
【保存】 / 【提交】 into the chain "warehousing" (镇街 → 验收专家, assigned by 市工信, all must agree → 市工信复审),
only inside a 申报窗口 (guard window_open). On 已入库 the proposed subsidy is fixed from configuration.

The amounts and levels the subsidy depends on (contracts, invoices, 改造前/改造后 levels) are always read from
their own stages, never from the editable copy.
"""

import copy
import datetime as dt
import sys
from decimal import Decimal

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .extensions import db
from .filing import ENT_CATEGORIES, ENT_NATURES, ENT_SCALES, QUALITY_LEVELS, YES_NO
from .implementation import DIMENSION_LABELS
from .inputs import INT32_MAX, has_control_chars, parse_integer
from .models import (
    Completion,
    CompletionIndicator,
    Contract,
    Filing,
    Invoice,
    InvoiceLine,
    PostAssessment,
    PreDiagnosis,
    ReviewStatus,
    Signing,
    SigningNeed,
    SigningProduct,
    SubmissionWindow,
    Warehousing,
    WarehousingFile,
)
from .signing import TARGET_LEVELS
from .stages import Stage, WorkbenchTab, register_stage, register_tab
from .workflow import WorkflowError, step_of, submit, unit_of_work

TYPE = "warehousing"  # the stage's subject type (audit rows, assignments, notifications)
FOUR_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")

# 项目入库流程 (manual 09, 1/4)
FLOW = [
    _l("Warehousing submission"),
    _l("Town review"),
    _l("Acceptance expert review"),
    _l("City bureau re-review"),
    _l("Warehousing completed"),
]

# --- the editable copy: fields as data -----------------------------------------------------------------------
# (key, label, kind, limit or choices, editable). kind: text | textarea | int | date | choice
ENTERPRISE = [
    ("ent_name", _l("Enterprise name"), "text", 200, False),
    ("ent_credit_code", _l("Unified social credit code"), "text", 18, False),
    ("town", _l("Town"), "text", 64, False),
    ("ent_nature", _l("Enterprise nature"), "choice", ENT_NATURES, True),
    ("ent_category", _l("Enterprise category"), "choice", ENT_CATEGORIES, True),
    ("ent_scale", _l("Enterprise scale"), "choice", ENT_SCALES, True),
    ("product_category", _l("Main product category"), "text", 200, True),
    ("industry", _l("Industry segment"), "text", 100, True),
    ("quality_levels", _l("Quality SME status"), "text", 200, True),
    ("ent_address", _l("Enterprise address"), "text", 255, True),
    ("employees_total", _l("Total employees"), "int", 10_000_000, True),
    ("employees_digital", _l("Digital staff"), "int", 10_000_000, True),
    ("ent_description", _l("Enterprise basic information"), "textarea", 300, True),
]
PROJECT = [
    ("project_name", _l("Project name"), "text", 200, True),
    ("summary", _l("Project summary"), "textarea", 2000, True),
    ("build_address", _l("Project construction address"), "text", 255, True),
    ("start_date", _l("Transformation start date"), "date", None, True),
    ("end_date", _l("Transformation end date"), "date", None, True),
    ("acceptance_date", _l("Planned acceptance date"), "date", None, True),
    ("target_level", _l("Target digital level"), "choice", TARGET_LEVELS, True),
    ("chain_leader", _l("Driven by a chain leader"), "choice", YES_NO, True),
]
NEEDS = [
    ("scenario", _l("Application scenario"), "text", 64, False),
    ("description", _l("Scenario description"), "textarea", 500, True),
    ("analysis", _l("Problem and needs analysis (within 300 characters)"), "textarea", 300, True),
]
PRODUCTS = [
    ("code", _l("Product/service code"), "text", 16, False),
    ("name", _l("Product/service name"), "text", 200, False),
    ("supplier", _l("Product/service supplier"), "text", 200, False),
    ("price", _l("Product/service signing price (10k yuan, tax included)"), "text", 32, False),
    ("content", _l("Digital transformation content"), "textarea", 2000, True),
    ("scenario_desc", _l("Scenario description (within 500 characters)"), "textarea", 500, True),
]
INDICATORS = [
    ("dimension", _l("Dimension indicator"), "text", 32, False),
    ("before", _l("Indicator data (before)"), "textarea", 500, True),
    ("after", _l("Indicator data (after)"), "textarea", 500, True),
]
# section key → (title, fields, is a list of rows)
SECTIONS = [
    ("enterprise", _l("Enterprise basic information"), ENTERPRISE, False),
    ("project", _l("Project basic information"), PROJECT, False),
    ("needs", _l("Digital transformation needs"), NEEDS, True),
    ("products", _l("Main pilot products/services of the contract"), PRODUCTS, True),
    ("indicators", _l("Digital transformation results"), INDICATORS, True),
]

# 佐证材料 checklist (manual 09: merge files of one kind into one PDF, ≤ 100 MB): (kind, label, note, required)
EVIDENCE = [
    ("contract", _l("Project contract"), _l("All contracts of the project, merged into one PDF"), True),
    ("assessment_report", _l("Post-transformation assessment report"), _l("The institution's sealed report"), True),
    ("invoice", _l("Invoices"), _l("Every invoice of the project, merged into one PDF"), True),
    ("payment", _l("Payment vouchers"), _l("Every bank payment voucher, merged into one PDF"), True),
    ("screenshot", _l("System screenshots"), _l("Screenshots of the systems put into use, in one PDF"), True),
    ("cloud", _l("Cloud usage report"), _l("Where cloud products or services are used"), False),
    ("other", _l("Other materials"), _l("Anything else that supports the application"), False),
]
EVIDENCE_KINDS = [kind for kind, *_rest in EVIDENCE]
EVIDENCE_LABELS = {kind: label for kind, label, *_rest in EVIDENCE}


# --- reading ------------------------------------------------------------------------------------------------
def status_text(record):
    """项目入库状态 of the enterprise's list: 待提交 / 待审核 / 退回修改 / 已入库."""
    return {
        ReviewStatus.DRAFT: _("To be submitted"),
        ReviewStatus.REVIEWING: _("Pending review"),
        ReviewStatus.RETURNED: _("Returned for revision"),
        ReviewStatus.DONE: _("Warehoused"),
        ReviewStatus.REJECTED: _("Not approved"),
    }.get(record.status, "")


def queue_status(record):
    """The status in the reviewers' queues: 待审核（step） while under review."""
    if record.status == ReviewStatus.REVIEWING:
        step = step_of(TYPE, record.current_step)
        return _("Pending review (%(step)s)", step=step.label if step else "")
    return status_text(record)


def editable(record):
    return record.status in ReviewStatus.EDITABLE


def flow_position(record):
    """How far the 项目入库流程 banner is lit (1-5)."""
    if record.status == ReviewStatus.DONE:
        return 5
    if record.status == ReviewStatus.REVIEWING:
        return {"town": 2, "expert": 3, "city": 4}.get(record.current_step, 1)
    return 1


def money(value):
    """万元 with exactly 4 places ('' for none), never through float."""
    if value is None or value == "":
        return ""
    return format(Decimal(value).quantize(FOUR_PLACES), "f")


def choice_label(choices, value):
    return str(dict(choices).get(value, value or ""))


def display(field, value):
    """A field's value as shown read-only."""
    key, _label, kind, spec, _editable = field
    if kind == "choice":
        return choice_label(spec, value)
    if key == "dimension":
        return str(DIMENSION_LABELS.get(value, value or ""))
    if key == "scenario":
        from .catalog import scenario_names

        return scenario_names(value or "")
    return "" if value is None else str(value)


def evidence_of(record):
    """{kind: WarehousingFile} of the record."""
    return {f.kind: f for f in record.files}


def file_of(record, kind):
    row = evidence_of(record).get(kind)
    return row.file if row is not None else None


# --- the 申报窗口 -------------------------------------------------------------------------------------------
def window_state(now=None):
    """(the open 项目入库 window or None, the next one to open or None): one statement."""
    now = now or dt.datetime.now()
    rows = (
        db.session.query(SubmissionWindow)
        .filter(SubmissionWindow.chain_name == TYPE, SubmissionWindow.closes_at > now)
        .order_by(SubmissionWindow.opens_at, SubmissionWindow.id)
        .limit(20)
        .all()
    )
    open_ = next((w for w in rows if w.opens_at <= now), None)
    upcoming = next((w for w in rows if w.opens_at > now), None)
    return open_, upcoming


def closed_notice(upcoming):
    if upcoming is not None:
        return _(
            "The project warehousing period has not opened yet (it opens at %(time)s); watch the announcements",
            time=upcoming.opens_at.strftime("%Y-%m-%d %H:%M"),
        )
    return _(
        "The project warehousing period has not opened yet, so this function is not enabled; please watch the "
        "system announcements, the opening time will be announced separately"
    )


# --- the pre-filled copy ------------------------------------------------------------------------------------
def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def prefill(project_id):
    """The whole project as the editable copy (5 statements): the filing's enterprise and project, the signing's
    project fields, needs and picked products, the 改造完成 dimensions with 改造前 / 改造后."""
    filing = (
        db.session.query(Filing)
        .options(joinedload(Filing.town), joinedload(Filing.industry), joinedload(Filing.product_category))
        .filter(Filing.project_id == project_id)
        .one_or_none()
    )
    signing = db.session.query(Signing).filter(Signing.project_id == project_id).one_or_none()
    needs = products = []
    if signing is not None:
        needs = (
            db.session.query(SigningNeed)
            .filter(SigningNeed.signing_id == signing.id)
            .order_by(SigningNeed.position, SigningNeed.id)
            .all()
        )
        products = (
            db.session.query(SigningProduct)
            .filter(SigningProduct.signing_id == signing.id)
            .order_by(SigningProduct.position, SigningProduct.id)
            .all()
        )
    results = (
        db.session.query(CompletionIndicator)
        .join(Completion, Completion.id == CompletionIndicator.completion_id)
        .filter(Completion.project_id == project_id, CompletionIndicator.ticked.is_(True))
        .order_by(CompletionIndicator.id)
        .all()
    )
    f = filing
    quality = dict(QUALITY_LEVELS)
    enterprise = {
        "ent_name": _text(f.ent_name) if f else "",
        "ent_credit_code": _text(f.ent_credit_code) if f else "",
        "town": f.town.name if f and f.town else "",
        "ent_nature": _text(f.ent_nature) if f else "",
        "ent_category": _text(f.ent_category) if f else "",
        "ent_scale": _text(f.ent_scale) if f else "",
        "product_category": f.product_category.name if f and f.product_category else "",
        "industry": f.industry.name if f and f.industry else "",
        "quality_levels": "、".join(str(quality.get(x, x)) for x in (f.quality_levels or "").split(",") if x)
        if f
        else "",
        "ent_address": _text(f.ent_address) if f else "",
        "employees_total": _text(f.employees_total) if f else "",
        "employees_digital": _text(f.employees_digital) if f else "",
        "ent_description": _text(f.ent_description) if f else "",
    }
    s = signing
    project = {
        "project_name": _text((s.project_name if s else None) or (f.project_name if f else None)),
        "summary": _text((s.summary if s else None) or (f.project_summary if f else None)),
        "build_address": _text(f.build_address) if f else "",
        "start_date": _text((s.start_date if s else None) or (f.start_date if f else None)),
        "end_date": _text((s.end_date if s else None) or (f.end_date if f else None)),
        "acceptance_date": _text(s.acceptance_date) if s else "",
        "target_level": _text((s.target_level if s else None) or (f.target_level if f else None)),
        "chain_leader": _text(s.chain_leader if s and s.chain_leader is not None else (f.chain_leader if f else None)),
    }
    return {
        "enterprise": enterprise,
        "project": project,
        "needs": [
            {"scenario": _text(n.scenario), "description": _text(n.description), "analysis": _text(n.analysis)}
            for n in needs
        ],
        "products": [
            {
                "code": _text(p.code),
                "name": _text(p.name),
                "supplier": _text(p.supplier_name),
                "price": money(p.price),
                "content": _text(p.content),
                "scenario_desc": _text(p.scenario_desc),
            }
            for p in products
        ],
        "indicators": [
            {"dimension": _text(r.dimension), "before": _text(r.before), "after": _text(r.after)} for r in results
        ],
    }


def content_of(record):
    """The record's copy (the stored one, else the project as it is now), with every declared key present."""
    content = copy.deepcopy(record.content) if isinstance(record.content, dict) else prefill(record.project_id)
    for key, _title, fields, is_rows in SECTIONS:
        if is_rows:
            rows = content.get(key) if isinstance(content.get(key), list) else []
            content[key] = [
                {f[0]: _text(row.get(f[0])) for f in fields} if isinstance(row, dict) else {f[0]: "" for f in fields}
                for row in rows
            ]
        else:
            values = content.get(key) if isinstance(content.get(key), dict) else {}
            content[key] = {f[0]: _text(values.get(f[0])) for f in fields}
    return content


@event.listens_for(Session, "before_flush")
def _prefill_new_records(session, flush_context, instances):
    """A 项目入库 record made by 改造完成's 【提交】 gets its copy of the project at once (in the same transaction)."""
    for obj in list(session.new):
        if isinstance(obj, Warehousing) and obj.content is None and obj.project_id is not None:
            with session.no_autoflush:
                obj.content = prefill(obj.project_id)


# --- what the stages say (never the copy) ---------------------------------------------------------------------
def facts(record):
    """The levels, the contracts and the invoice totals of the project, from their stages (3 statements)."""
    levels = db.session.execute(
        select(PreDiagnosis.level, PreDiagnosis.diagnosed_at, PostAssessment.level, PostAssessment.assessed_at)
        .select_from(Warehousing)
        .outerjoin(PreDiagnosis, PreDiagnosis.project_id == Warehousing.project_id)
        .outerjoin(PostAssessment, PostAssessment.project_id == Warehousing.project_id)
        .where(Warehousing.id == record.id)
    ).one_or_none()
    before = levels[0] if levels and levels[1] else None
    after = levels[2] if levels and levels[3] else None
    contracts = (
        db.session.query(Contract)
        .options(joinedload(Contract.industry_provider))
        .join(Signing, Signing.id == Contract.signing_id)
        .filter(Signing.project_id == record.project_id)
        .order_by(Contract.position, Contract.id)
        .all()
    )
    amount, tax = db.session.execute(
        select(func.sum(InvoiceLine.amount), func.sum(InvoiceLine.tax))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Completion, Completion.id == Invoice.completion_id)
        .where(Completion.project_id == record.project_id)
    ).one()
    amount, tax = Decimal(amount or 0).quantize(CENT), Decimal(tax or 0).quantize(CENT)
    contract_total = sum((c.total_amount or Decimal(0) for c in contracts), Decimal(0))
    subsidy_base = sum((c.subsidy_amount or Decimal(0) for c in contracts), Decimal(0))
    return {
        "level_before": before,
        "level_after": after,
        "contracts": contracts,
        "contract_total": contract_total,
        "subsidy_base": subsidy_base,
        "invoice_amount": amount,
        "invoice_tax": tax,
        "invoice_total": amount + tax,
        "proposed": proposed_subsidy(after, subsidy_base),
        "level_cap": level_cap(after),
    }


def level_text(level):
    return str(dict(TARGET_LEVELS + [("1", _l("Level 1"))]).get(str(level), "")) if level else ""


def level_cap(level):
    """The most paid (万元) at this 改造后 level (config WAREHOUSING_SUBSIDY_CAPS); 0 below 二级 or unknown."""
    caps = current_app.config.get("WAREHOUSING_SUBSIDY_CAPS", {})
    value = caps.get(level) if level else None
    if value is None and level:
        value = caps.get(str(level))
    return Decimal(str(value)) if value is not None else Decimal(0)


def proposed_subsidy(level, subsidy_base):
    """SPEC §3.8: by the 改造后 level, at most its cap, never more than the contracts' 纳入资金奖补项目金额."""
    base = Decimal(subsidy_base or 0)
    return max(Decimal(0), min(level_cap(level), base)).quantize(FOUR_PLACES)


def fix_subsidy(record, actor=None):
    """On 已入库 (the chain's last 同意): the level, the cap and the proposed subsidy are kept on the record."""
    found = facts(record)
    record.level_after = found["level_after"]
    record.subsidy_cap = found["subsidy_base"].quantize(FOUR_PLACES)
    record.proposed_subsidy = found["proposed"]


# --- editing -------------------------------------------------------------------------------------------------
def _check(field, raw):
    """(value to store, error or None) for one posted value of an editable field."""
    key, label, kind, spec, _editable = field
    if not isinstance(raw, str):
        return None, _("Please enter %(label)s as text", label=label)
    value = raw.strip() if kind != "textarea" else raw.strip().replace("\r\n", "\n")
    if has_control_chars(value, multiline=kind == "textarea"):
        return None, _("%(label)s contains control characters that are not allowed", label=label)
    if value == "":
        return "", None
    if kind in ("text", "textarea"):
        if len(value) > spec:
            return None, _("%(label)s: at most %(n)s characters", label=label, n=spec)
        return value, None
    if kind == "choice":
        if value not in dict(spec):
            return None, _("Please choose %(label)s from the list", label=label)
        return value, None
    if kind == "int":
        number, error = parse_integer(value, minimum=0, maximum=min(spec, INT32_MAX))
        if error is not None:
            return None, _("%(label)s: %(error)s", label=label, error=error)
        return str(number), None
    if kind == "date":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None, _("%(label)s: please enter a date such as 2025-05-22", label=label)
        if not dt.date(1990, 1, 1) <= day <= dt.date(2100, 12, 31):
            return None, _("%(label)s: please enter a date between 1990 and 2100", label=label)
        return day.isoformat(), None
    return None, _("Unknown field")


def name_of(section, key, index=None):
    """The form field (and error anchor) name of a value of the copy."""
    return f"{section}-{key}" if index is None else f"{section}-{index}-{key}"


def apply_form(content, form):
    """Copy the posted values that are valid into `content` (a dict from content_of); an absent field keeps its
    value. Returns ({anchor: error}, {anchor: the value as typed, for the page})."""
    errors, typed = {}, {}
    for section, _title, fields, is_rows in SECTIONS:
        targets = list(enumerate(content[section])) if is_rows else [(None, content[section])]
        for index, values in targets:
            for field in fields:
                if not field[4]:
                    continue
                name = name_of(section, field[0], index)
                if name not in form:
                    continue
                raw = form.get(name)
                value, error = _check(field, raw)
                if error is not None:
                    errors[name] = error
                    typed[name] = raw if isinstance(raw, str) and len(raw) <= 20_000 else ""
                else:
                    values[field[0]] = value
    return errors, typed


def problems(record, content=None):
    """Everything 【提交】 needs, as {anchor: message}, each naming its item."""
    content = content or content_of(record)
    out = {}
    for section, title, fields, is_rows in SECTIONS:
        rows = content[section] if is_rows else [content[section]]
        for index, values in enumerate(rows, start=1):
            for field in fields:
                if not field[4] or (values.get(field[0]) or "").strip():
                    continue
                name = name_of(section, field[0], index - 1 if is_rows else None)
                if is_rows:
                    out[name] = _(
                        "%(section)s %(n)s: %(label)s cannot be empty", section=title, n=index, label=field[1]
                    )
                else:
                    out[name] = _("%(label)s cannot be empty", label=field[1])
    project = content["project"]
    if project["start_date"] and project["end_date"] and project["end_date"] < project["start_date"]:
        out["project-end_date"] = _("The transformation end date cannot be earlier than its start date")
    ent = content["enterprise"]
    if ent["employees_total"] and ent["employees_digital"]:
        if int(ent["employees_digital"]) > int(ent["employees_total"]):
            out["enterprise-employees_digital"] = _("The digital staff cannot exceed the total employees")
    have = evidence_of(record)
    for kind, label, _note, required in EVIDENCE:
        if required and kind not in have:
            out[f"evidence-{kind}"] = _("Please upload %(label)s", label=label)
    return out


def save_content(record, content):
    record.content = copy.deepcopy(content)  # a new object: the JSON column sees the change


def attach(record, kind, stored_id):
    """The 佐证材料 of `kind` (replacing the one uploaded before)."""
    if kind not in EVIDENCE_KINDS:
        raise WorkflowError(_("Unknown kind of supporting material"))
    row = evidence_of(record).get(kind)
    if row is None:
        row = WarehousingFile(warehousing_id=record.id, kind=kind, file_id=stored_id)
        db.session.add(row)
        record.files.append(row)
    else:
        row.file_id = stored_id
    return row


class Incomplete(WorkflowError):
    def __init__(self, found):
        super().__init__(_("Submission failed: please complete the items marked below"))
        self.problems = found


def submit_warehousing(record, actor):
    """【提交】 (again after a return: it re-enters at the step that returned it): refused (Incomplete) while
    anything is missing; the engine refuses it outside a 申报窗口."""
    content = content_of(record)
    found = problems(record, content)
    if found:
        raise Incomplete(found)
    with unit_of_work():
        if record.content is None:
            save_content(record, content)
        submit(record, actor)


# --- registration ------------------------------------------------------------------------------------------
def page_options():
    return [selectinload(Warehousing.files).joinedload(WarehousingFile.file)]


def _review_context(record):
    return {
        "warehousing": sys.modules[__name__],
        "content": content_of(record),
        "facts": facts(record),
        "evidence": evidence_of(record),
    }


register_stage(
    Stage(
        type=TYPE,
        order=60,
        model=Warehousing,
        label=_l("Project warehousing"),
        title=lambda r: _("%(name)s project warehousing", name=r.project_name or ""),
        owner_link=lambda r: url_for("WarehousingView.detail", pk=r.id),
        item_name=lambda r: r.project_name or "",
        status_text=queue_status,
        review_template="zsdx/_review_warehousing.html",
        review_context=_review_context,
        files={kind: (lambda r, item=None, k=kind: file_of(r, k)) for kind in EVIDENCE_KINDS},
        on_complete=fix_subsidy,
        queue_options=lambda model: [joinedload(model.organisation)],
        detail_options=lambda model: [joinedload(model.organisation), *page_options()],
    )
)


# --- 我的工作台 → 项目入库 ----------------------------------------------------------------------------------------
def warehousing_rows(user):
    from .visibility import owned

    return owned(Warehousing, user).order_by(Warehousing.created_at.desc(), Warehousing.id.desc())


def _tab_context(user):
    return {"warehousing": sys.modules[__name__]}


register_tab(
    WorkbenchTab(
        group="projects",
        key="warehousing",
        label=_l("Project warehousing"),
        columns=[_l("No."), _l("Project name"), _l("Warehousing status"), _l("Submitted at"), _l("Operation")],
        order=60,
        rows=warehousing_rows,
        template="zsdx/_tab_warehousing.html",
        context=_tab_context,
    )
)


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import chain_part, register_dashboard_part  # noqa: E402

register_dashboard_part(
    chain_part(
        "warehousing",
        80,
        _l("Project warehousing"),
        Warehousing,
        status_text,  # its list's names: 待提交 / 待审核 / 退回修改 / 已入库
        by_step=False,
        joins=lambda query: query.join(Filing, Filing.project_id == Warehousing.project_id, isouter=True),
        project=func.coalesce(Warehousing.project_name, Filing.project_name),
    )
)
