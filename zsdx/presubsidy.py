"""预奖补申请 (manual 04, SPEC §3.4): after 已签约 the enterprise picks one or more of its contracts, uploads
入库申报表 / 承诺书 / 信用报告 and submits into the chain "pre_subsidy" (镇街 → 市工信), whose outcomes the
signing list shows: 已审核, 退回重填 (edit and submit again), 审核不通过 (final).
"""

import sys
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import Contract, PreSubsidy, ReviewStatus, SigningStatus
from .stages import Stage, register_stage
from .workflow import WorkflowError, step_of, submit, unit_of_work

# the three files: attribute prefix → (label, note, has a 下载模版)
FILES = {
    "application": (_l("Warehousing application form"), _l("Upload the sealed PDF"), True),
    "commitment": (_l("Letter of commitment"), _l("Upload the sealed PDF"), True),
    "credit": (_l("Credit report (Credit China or Credit Guangdong)"), _l("Upload the sealed PDF"), False),
}


def status_text(record):
    """项目预奖补状态: '' (none yet), 待提交, 审核中（step）, 已审核, 退回重填, 审核不通过."""
    if record is None:
        return ""
    if record.status == ReviewStatus.REVIEWING:
        step = step_of("pre_subsidy", record.current_step)
        return _("Under review (%(step)s)", step=step.label if step else "")
    return {
        ReviewStatus.DRAFT: _("To be submitted"),
        ReviewStatus.RETURNED: _("Returned for refilling"),
        ReviewStatus.DONE: _("Reviewed"),
        ReviewStatus.REJECTED: _("Not approved"),
    }[record.status]


def may_apply(signing):
    """【预奖补申请】 shows only after 已签约."""
    return signing.status == SigningStatus.SIGNED


def open_for(signing):
    """The signing's application, created (a draft) on first use; only for a 已签约 signing."""
    if not may_apply(signing):
        raise WorkflowError(_("The pre-subsidy application opens after the signing is submitted"))
    record = signing.pre_subsidy
    if record is None:
        record = PreSubsidy(signing_id=signing.id, organisation_id=signing.organisation_id, town_id=signing.town_id)
        db.session.add(record)
        db.session.flush()
    return record


def choose_contracts(record, contract_ids):
    """Set the chosen contracts: only the signing's own (any other id is refused, never attached)."""
    own = {c.id: c for c in record.signing.contracts}
    unknown = [cid for cid in contract_ids if cid not in own]
    if unknown:
        raise WorkflowError(_("Please choose among this project's contracts"))
    record.contracts = [own[cid] for cid in sorted(set(contract_ids), key=lambda i: own[i].position)]


def amount(record):
    """The subsidised amount applied for: the sum of the chosen contracts' 纳入资金奖补项目金额, exact."""
    return sum((c.subsidy_amount or Decimal(0) for c in record.contracts), Decimal(0))


def contracts_total(record):
    """The 合同总金额 of the chosen contracts, summed exactly."""
    return sum((c.total_amount or Decimal(0) for c in record.contracts), Decimal(0))


FOUR_PLACES = Decimal("0.0001")


def money(value):
    """万元 as shown: exactly 4 decimals ('' for none)."""
    if value is None:
        return ""
    return format(Decimal(value).quantize(FOUR_PLACES), "f")


def contract_file_url(contract):
    """The 项目合同 PDF of a contract (SigningView serves it to whoever may see the signing)."""
    from werkzeug.routing import BuildError

    try:
        return url_for("SigningView.contract_file", pk=contract.id)
    except BuildError:  # SigningView not registered (yet): the same path
        return f"/signing/contract/{contract.id}/file"


def problems(record):
    """What 【提交】 needs: {anchor: message}."""
    out = {}
    if not record.contracts:
        out["contracts"] = _("Please choose at least one contract")
    for key, (label, _note, _template) in FILES.items():
        if getattr(record, f"{key}_file_id") is None:
            out[key] = _("%(label)s is required", label=label)
    return out


def submit_application(record, actor):
    found = problems(record)
    if found:
        raise WorkflowError("；".join(found.values()))
    with unit_of_work():
        submit(record, actor)


def detail_options():
    return [
        joinedload(PreSubsidy.signing),
        selectinload(PreSubsidy.contracts).joinedload(Contract.file),
        selectinload(PreSubsidy.contracts).joinedload(Contract.industry_provider),
        selectinload(PreSubsidy.contracts).selectinload(Contract.products),
        joinedload(PreSubsidy.application_file),
        joinedload(PreSubsidy.commitment_file),
        joinedload(PreSubsidy.credit_file),
        joinedload(PreSubsidy.organisation),
    ]


register_stage(
    Stage(
        type="pre_subsidy",
        order=40,
        model=PreSubsidy,
        label=_l("Pre-subsidy application"),
        title=lambda r: _("%(name)s pre-subsidy application", name=r.signing.project_name or ""),
        owner_link=lambda r: url_for("PreSubsidyView.edit", pk=r.signing_id),
        item_name=lambda r: r.signing.project_name or "",
        status_text=status_text,
        review_template="zsdx/_review_pre_subsidy.html",
        review_context=lambda r: {"presubsidy": sys.modules[__name__]},
        # the review page calls files[name](record, item); these files are single (item unused)
        files={
            "application": lambda r, item=None: r.application_file,
            "commitment": lambda r, item=None: r.commitment_file,
            "credit": lambda r, item=None: r.credit_file,
        },
        queue_options=lambda model: [joinedload(model.signing), joinedload(model.organisation)],
        detail_options=lambda model: detail_options(),
    )
)


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import chain_part, register_dashboard_part  # noqa: E402
from .models import Filing, Signing  # noqa: E402

register_dashboard_part(
    chain_part(
        "pre_subsidy",
        40,
        _l("Pre-subsidy application"),
        PreSubsidy,
        status_text,
        joins=lambda query: query.join(Signing, Signing.id == PreSubsidy.signing_id).join(
            Filing, Filing.project_id == Signing.project_id, isouter=True
        ),
    )
)
