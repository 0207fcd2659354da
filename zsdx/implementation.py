"""项目实施-改造中 (manual 05, SPEC §3.5): created at 已签约 with its eight 维度指标; the page (企业现状（改造前）) may be
handed to the enterprise's 行业型服务商 through zsdx.assist (host type "implementation"); 【提交】 → 已提交 opens
the 事后评估 and 改造完成 records (`open_next_stages`); 信息变更 afterwards is saved at once with a revision."""

import datetime as dt
import sys

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import joinedload, selectinload

from . import assist
from .extensions import db
from .models import (
    DIMENSIONS,
    AssistRequest,
    Completion,
    CompletionIndicator,
    Contract,
    Implementation,
    ImplementationIndicator,
    ImplementationStatus,
    PostAssessment,
    Signing,
)
from .revisions import history
from .revisions import record_revision as _record_revision
from .stages import WorkbenchTab, register_tab
from .visibility import owned, register
from .workflow import WorkflowError, unit_of_work

HOST = "implementation"  # AssistRequest.host_type and Revision.subject_type
BEFORE_MAX = 500  # 指标数据（改造前）

# The eight 维度指标 with the manual's examples (指标数据（改造前） is typed per ticked dimension).
DIMENSION_LABELS = {
    "innovation": _l("Innovation dimension"),
    "market": _l("Market dimension"),
    "quality": _l("Quality dimension"),
    "cost": _l("Cost dimension"),
    "efficiency": _l("Efficiency dimension"),
    "green": _l("Green dimension"),
    "safety": _l("Safety dimension"),
    "other": _l("Other dimension"),
}
DIMENSION_EXAMPLES = {
    "innovation": _l("e.g. networking rate of digital equipment, CNC rate of key processes"),
    "market": _l("e.g. revenue per employee, customer satisfaction"),
    "quality": _l("e.g. product pass rate, production efficiency"),
    "cost": _l("e.g. networking rate of digital equipment, CNC rate of key processes"),
    "efficiency": _l("e.g. on-time delivery rate, inventory turnover, production plan achievement rate"),
    "green": _l("e.g. savings of water, electricity, coal and gas"),
    "safety": _l("e.g. virus interception rate, production safety, safety control"),
    "other": "/",
}
assert tuple(DIMENSION_LABELS) == DIMENSIONS


def new_implementation(signing):
    """改造中 of a project reaching 已签约: the project's name and town carried, the eight dimensions ticked."""
    record = Implementation(
        project_id=signing.project_id,
        organisation_id=signing.organisation_id,
        town_id=signing.town_id,
        project_name=signing.project_name,
    )
    record.indicators = [ImplementationIndicator(dimension=d, ticked=True) for d in DIMENSIONS]
    return record


def open_next_stages(implementation):
    """改造中 submitted: the 事后评估 and the 改造完成 records (once each; the caller commits). 改造完成 carries
    the dimensions ticked in 改造中 with their 改造前 data, and the 改造前 level of the 事前诊断."""
    from .models import PreDiagnosis

    project_id = implementation.project_id
    common = dict(
        project_id=project_id,
        organisation_id=implementation.organisation_id,
        town_id=implementation.town_id,
    )
    if not db.session.query(PostAssessment.id).filter_by(project_id=project_id).first():
        db.session.add(PostAssessment(**common))
    if not db.session.query(Completion.id).filter_by(project_id=project_id).first():
        pre = db.session.query(PreDiagnosis).filter_by(project_id=project_id).one_or_none()
        completion = Completion(
            **common, project_name=implementation.project_name, level_before=pre.level if pre else None
        )
        completion.results = [
            CompletionIndicator(dimension=i.dimension, ticked=True, before=i.before)
            for i in implementation.indicators
            if i.ticked
        ]
        db.session.add(completion)


# --- reading ---------------------------------------------------------------------------------------------
def status_text(record):
    """项目实施-改造中状态: 待提交 / 已提交."""
    return _("Submitted") if record.status == ImplementationStatus.SUBMITTED else _("To be submitted")


def assist_text(record):
    """行业型服务商协助状态."""
    return assist.status_text(record.assist, bool(record.assisted))


def editable(record):
    return record.status == ImplementationStatus.PENDING


def page_options():
    """Everything the pages show, with the record."""
    return [
        selectinload(Implementation.indicators),
        joinedload(Implementation.assist).joinedload(AssistRequest.provider),
    ]


def lead_units(record):
    """The ids of the 已签约行业服务商 of the project's contracts: the lead units the page may be sent to
    (none: 无牵引单位, 行业型服务商协助填写 must be 否)."""
    rows = (
        db.session.query(Contract.industry_provider_id)
        .join(Signing, Signing.id == Contract.signing_id)
        .filter(Signing.project_id == record.project_id, Contract.industry_provider_id.isnot(None))
        .distinct()
    )
    return {pid for (pid,) in rows}


def revisions(record):
    return history(HOST, record.id)


# --- what 【提交】 needs -----------------------------------------------------------------------------------
def _blank(value):
    return value is None or not str(value).strip()


def problems(record, lead=None):
    """Everything missing or wrong for 【提交】, as {anchor: message} in page order. `lead`: the lead units
    (looked up when None and needed)."""
    out = {}
    if record.assisted is None:
        out["assisted"] = _("Please choose whether the industry service provider assists with filling")
    elif record.assisted:
        if assist.state(record.assist) == assist.NONE and not (lead if lead is not None else lead_units(record)):
            out["assisted"] = _("Without a lead unit, please choose No")
            return out
        waiting = assist.check_ready(record.assist, True)
        if waiting:
            out["assisted"] = waiting
            return out  # the dimensions are the provider's to fill meanwhile
    out.update(indicator_problems(record))
    return out


def indicator_problems(record):
    """The 维度指标 (what the enterprise, or the provider assisting it, fills): at least one ticked, each
    ticked one with its 指标数据（改造前） of at most BEFORE_MAX characters."""
    out = {}
    if not any(i.ticked for i in record.indicators):
        out["dimensions"] = _("Please tick and fill in at least one transformation dimension indicator")
    for indicator in record.indicators:
        if not indicator.ticked:
            continue
        label = DIMENSION_LABELS.get(indicator.dimension, indicator.dimension)
        anchor = f"dim-{indicator.dimension}-before"
        if _blank(indicator.before):
            out[anchor] = _("%(label)s: please fill in the indicator data (before transformation)", label=label)
        elif len(indicator.before) > BEFORE_MAX:
            out[anchor] = _("%(label)s: at most %(n)s characters", label=label, n=BEFORE_MAX)
    return out


# --- 【提交】 ------------------------------------------------------------------------------------------------
class Incomplete(WorkflowError):
    def __init__(self, problems):
        super().__init__(_("Submission failed: please complete the items marked below"))
        self.problems = problems


def submit_implementation(record, actor):
    """【提交】 / 【确认提交】: 已提交, the provider's page 已确认, and the 事后评估 and 改造完成 records; one commit.
    Refused (Incomplete) while anything is missing, and when someone else submitted it meanwhile."""
    found = problems(record)
    if found:
        raise Incomplete(found)
    now = dt.datetime.now()
    with unit_of_work():
        result = db.session.execute(
            update(Implementation)
            .where(Implementation.id == record.id, Implementation.status == ImplementationStatus.PENDING)
            .values(status=ImplementationStatus.SUBMITTED, submitted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise WorkflowError(_("This record has already been handled by someone else"))
        assist.confirm(record.assist)
        open_next_stages(record)
    db.session.expire(record)


# --- 信息变更 -----------------------------------------------------------------------------------------------
def snapshot(record):
    """The record as {label: text}, for the revisions of 信息变更."""
    out = {}
    for indicator in record.indicators:
        label = str(DIMENSION_LABELS.get(indicator.dimension, indicator.dimension))
        out[label] = _("Involved") if indicator.ticked else _("Not involved")
        out[f"{label} {_('Indicator data (before transformation)')}"] = indicator.before or ""
    return out


def record_revision(record, actor, before, after):
    return _record_revision(HOST, record.id, actor, before, after)


# --- visibility: the owner; 市工信; the town's 镇街; the provider it asked for help --------------------------
register(Implementation, assist.host_rule(HOST))

assist.register_host(
    assist.AssistHost(
        type=HOST,
        model=Implementation,
        label=_l("Implementation - in progress"),
        page_label=_l("Enterprise status (before transformation)"),
        fill_link=lambda pk: url_for("ImplementationView.assist", pk=pk),
        owner_link=lambda pk: url_for("ImplementationView.edit", pk=pk),
    )
)


# --- 我的工作台 → 项目实施-改造中 -------------------------------------------------------------------------------
def implementation_rows(user):
    return (
        owned(Implementation, user)
        .options(joinedload(Implementation.assist))
        .order_by(Implementation.created_at.desc(), Implementation.id.desc())
    )


register_tab(
    WorkbenchTab(
        group="projects",
        key="implementing",
        label=_l("Implementation - in progress"),
        columns=[
            _l("No."),
            _l("Project name"),
            _l("Implementation-in-progress status"),
            _l("Industry provider assistance status"),
            _l("Submitted at"),
            _l("Operation"),
        ],
        order=40,
        rows=implementation_rows,
        template="zsdx/_tab_implementation.html",
        context=lambda user: {"implementation_rules": sys.modules[__name__]},
    )
)


# --- 【表单下载】 -------------------------------------------------------------------------------------------
def _text(value):
    """Text a .docx/.xlsx cell accepts (no control characters but tab and line breaks)."""
    return "".join(c for c in str(value or "") if c in "\t\n\r" or ord(c) >= 32)


def form_name(record):
    name = "".join(c for c in (record.project_name or str(record.id)) if c not in '\\/:*?"<>|' and ord(c) >= 32)
    return f"{_('Implementation - in progress')}-{name[:80]}"


def form_header(record):
    """(label, value) of the form's head: the project, the enterprise, the status, the assistance."""
    if record.assisted is None:
        helped = _("Not chosen")
    elif record.assisted:
        provider = record.assist.provider.name if record.assist is not None and record.assist.provider else ""
        helped = _("Yes") + (f" ({provider})" if provider else "")
    else:
        helped = _("No")
    pairs = [
        (_("Project name"), record.project_name),
        (_("Enterprise name"), record.organisation.name if record.organisation else ""),
        (_("Implementation-in-progress status"), status_text(record)),
        (_("Submitted at"), record.submitted_at.strftime("%Y-%m-%d %H:%M:%S") if record.submitted_at else ""),
        (_("Filled with the help of the industry service provider"), helped),
        (_("Industry provider assistance status"), assist_text(record)),
    ]
    return [(str(label), _text(value)) for label, value in pairs]


def form_columns():
    return [_("Dimension indicator"), _("Example"), _("Indicator data (before transformation)")]


def form_rows(record):
    """One row per dimension: ☑/☐ and its name, the manual's example, 指标数据（改造前） (不涉及 when unticked)."""
    rows = []
    for indicator in record.indicators:
        label = DIMENSION_LABELS.get(indicator.dimension, indicator.dimension)
        mark = "☑" if indicator.ticked else "☐"
        data = indicator.before if indicator.ticked else _("Not involved")
        rows.append([f"{mark} {label}", str(DIMENSION_EXAMPLES.get(indicator.dimension, "")), _text(data)])
    return rows


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import DashboardPart, register_dashboard_part  # noqa: E402

register_dashboard_part(
    DashboardPart(
        key="implementation",
        order=50,
        label=_l("Implementation - in progress"),
        model=Implementation,
        status=Implementation.status,
        status_text=status_text,
        ranks={ImplementationStatus.PENDING: 0, ImplementationStatus.SUBMITTED: 6},
    )
)
