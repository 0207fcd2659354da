"""数据看板 (SPEC §3.11): the figures of the city's dashboard, each computed in SQL (GROUP BY / CASE / UNION
ALL), never by loading rows into Python to count them. A page costs four statements, whatever the data:

1. `counts`: projects per stage and status, the 改造前 / 改造后 level distribution and the overdue counts per
   stage (one UNION ALL of grouped selects);
2. `breakdown`: per town and per 细分行业 (projects, 已备案, 已签约, 已入库, 合同总金额) with the names of the
   towns and industries (one UNION ALL);
3. `money`: contract and subsidy totals (one row of scalar subqueries; sums stay Decimal in SQL);
4. `overdue_items`: the overdue records themselves, oldest first (limited; `iter_overdue_items` streams them).

`figures` runs the four for a page and keeps them DASHBOARD_CACHE_SECONDS per scope in the process (the page shows
when they were counted): at 100,000 projects the four take a few hundred ms for the city, the page a few ms.
Indexes for them (migration "dashboard indexes"): zs_filing (status, step_entered_at, current_step, town_id) for
the overdue filings, (completed_at, project_id) for the overdue 事前诊断, (town_id, industry_id, status) for
the per-town / per-industry counts; zs_contract (signing_id, total_amount, subsidy_amount) for the sums.

Scope: `town` is a town id (a 镇街 user's own town, or 市工信's filter) or None (the whole city). Every select
filters on the town column of the record it counts (the column the visibility layer scopes 镇街 by), so
nothing of another town is ever read into a figure.

Overdue (是否逾期) is the engine's `workflow.overdue_clause` for records under review in a chain (项目备案,
预奖补, 项目入库); 事前诊断 and 事后评估 have deadlines of their own (`diagnosis.deadline`,
`post_assessment.deadline`, which compute one record's in Python): `_pre_overdue` / `_post_overdue` are
the same rules as SQL conditions, and tests/test_dashboard.py checks them against `institution_reports.is_overdue`.
"""

import datetime as dt
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import true as sql_true

from .extensions import db
from .models import (
    Completion,
    CompletionStatus,
    Contract,
    Filing,
    Implementation,
    ImplementationStatus,
    Industry,
    PostAssessment,
    PreDiagnosis,
    PreSubsidy,
    ReviewStatus,
    Signing,
    SigningStatus,
    Town,
    Warehousing,
)
from .models.signing import pre_subsidy_contract

FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")
MONEY = Numeric(18, 4)
OVERDUE_LIST_LIMIT = 20
EXPORT_LIMIT = 50_000

# The stages of the 项目总览, in the lifecycle's order (SPEC §3).
STAGE_LABELS = {
    "filing": _l("Project filing"),
    "pre_diagnosis": _l("Pre-diagnosis"),
    "signing": _l("Project signing"),
    "pre_subsidy": _l("Pre-subsidy application"),
    "implementation": _l("Implementation - in progress"),
    "post_assessment": _l("Post-assessment"),
    "completion": _l("Implementation - completed"),
    "warehousing": _l("Project warehousing"),
}
# Stages with a deadline (是否逾期), in the same order.
OVERDUE_STAGES = ("filing", "pre_diagnosis", "pre_subsidy", "post_assessment", "warehousing")
# The report kinds' status categories (institution_reports.status_label), in the order of ReportKind.statuses.
REPORT_CATEGORIES = ("todo", "progress", "confirm", "done")
LEVELS = (1, 2, 3, 4)


def _lit(value):
    """A constant of the statement (not a bind parameter: PostgreSQL must see the same text in GROUP BY)."""
    if isinstance(value, str):
        return literal_column("'" + value.replace("'", "''") + "'", String)
    return literal_column(str(int(value)), Integer)


def _where_town(column, town):
    return sql_true() if town is None else column == town


def _step_if_reviewing(model):
    """The current step while under review (the list shows 审核中（step）), else NULL."""
    return case((model.status == ReviewStatus.REVIEWING, model.current_step), else_=null())


def _report_category(model, done_column):
    """institution_reports.status_label as SQL: 待诊断 / 诊断中 / 待确认 / 已诊断 (and the 事后评估 names)."""
    return case(
        (or_(model.status == ReviewStatus.DONE, done_column.isnot(None)), _lit("done")),
        (model.status == ReviewStatus.REVIEWING, _lit("confirm")),
        (
            or_(model.institution_id.isnot(None), and_(model.method == "city", model.started_at.isnot(None))),
            _lit("progress"),
        ),
        else_=_lit("todo"),
    )


def _report_done(model, done_column):
    return or_(model.status == ReviewStatus.DONE, done_column.isnot(None))


# --- 是否逾期 --------------------------------------------------------------------------------------
def _pre_overdue(now):
    """diagnosis.deadline as SQL (with PreDiagnosis joined to its Filing): not diagnosed PRE_DIAGNOSIS_DEADLINE_DAYS
    after 已备案."""
    days = current_app.config["PRE_DIAGNOSIS_DEADLINE_DAYS"]
    return and_(
        ~_report_done(PreDiagnosis, PreDiagnosis.diagnosed_at),
        Filing.completed_at.isnot(None),
        Filing.completed_at < now - dt.timedelta(days=days),
    )


def _post_overdue(now):
    """post_assessment.deadline as SQL (with PostAssessment outer-joined to its Signing): not assessed
    POST_ASSESSMENT_DEADLINE_DAYS after the later of its opening and the end of the planned 改造实施结束时间."""
    limit = now - dt.timedelta(days=current_app.config["POST_ASSESSMENT_DEADLINE_DAYS"])
    return and_(
        ~_report_done(PostAssessment, PostAssessment.assessed_at),
        PostAssessment.created_at < limit,
        or_(Signing.end_date.is_(None), Signing.end_date < limit.date()),
    )


def _overdue_selects(town, now, columns):
    """One select per stage with a deadline: `columns(stage, model)` → the select list; filtered to the
    overdue records of the scope. Returns {stage: select}."""
    from .workflow import overdue_clause

    out = {
        "filing": select(*columns("filing", Filing)).where(overdue_clause(Filing, now)),
        "pre_subsidy": select(*columns("pre_subsidy", PreSubsidy))
        .select_from(PreSubsidy)
        .join(Signing, Signing.id == PreSubsidy.signing_id)
        .join(Filing, Filing.project_id == Signing.project_id, isouter=True)
        .where(overdue_clause(PreSubsidy, now)),
        "warehousing": select(*columns("warehousing", Warehousing))
        .select_from(Warehousing)
        .join(Filing, Filing.project_id == Warehousing.project_id, isouter=True)
        .where(overdue_clause(Warehousing, now)),
    }
    for key, model in (("filing", Filing), ("pre_subsidy", PreSubsidy), ("warehousing", Warehousing)):
        out[key] = out[key].where(_where_town(model.town_id, town))
    out["pre_diagnosis"] = (
        select(*columns("pre_diagnosis", PreDiagnosis))
        .select_from(PreDiagnosis)
        .join(Filing, Filing.project_id == PreDiagnosis.project_id)
        .where(_pre_overdue(now), _where_town(PreDiagnosis.town_id, town))
    )
    out["post_assessment"] = (
        select(*columns("post_assessment", PostAssessment))
        .select_from(PostAssessment)
        .join(Signing, Signing.project_id == PostAssessment.project_id, isouter=True)
        .join(Filing, Filing.project_id == PostAssessment.project_id, isouter=True)
        .where(_post_overdue(now), _where_town(PostAssessment.town_id, town))
    )
    return {key: out[key] for key in OVERDUE_STAGES}


# --- 1. stages and statuses, levels, overdue counts ----------------------------------------------------
def _counts_statement(town, now):
    """(kind, key, detail, n): kind "stage" (key stage, detail status[:step]), "before"/"after" (key level or
    NULL), "overdue" (key stage)."""
    parts = []

    def status_part(stage, model, status_expr, step_expr=None):
        inner = select(
            status_expr.label("status"), (step_expr if step_expr is not None else null()).label("step")
        ).where(_where_town(model.town_id, town))
        inner = inner.subquery()
        parts.append(
            select(
                _lit("stage").label("kind"),
                _lit(stage).label("key"),
                func.coalesce(inner.c.status, _lit("")).label("detail"),
                cast(inner.c.step, String).label("step"),
                func.count().label("n"),
            ).group_by(inner.c.status, inner.c.step)
        )

    status_part("filing", Filing, Filing.status, _step_if_reviewing(Filing))
    status_part("pre_diagnosis", PreDiagnosis, _report_category(PreDiagnosis, PreDiagnosis.diagnosed_at))
    status_part("signing", Signing, Signing.status)
    status_part("pre_subsidy", PreSubsidy, PreSubsidy.status, _step_if_reviewing(PreSubsidy))
    status_part("implementation", Implementation, Implementation.status)
    status_part("post_assessment", PostAssessment, _report_category(PostAssessment, PostAssessment.assessed_at))
    status_part("completion", Completion, Completion.status)
    status_part("warehousing", Warehousing, Warehousing.status)

    # 改造前: the 事前诊断's level once diagnosed; 改造后: the confirmed 事后评估 level, over the same projects
    # (every 已备案 project has its 事前诊断), so the two bars of a level compare like with like.
    before = select(
        case((_report_done(PreDiagnosis, PreDiagnosis.diagnosed_at), PreDiagnosis.level), else_=null()).label("level")
    ).where(_where_town(PreDiagnosis.town_id, town))
    after = (
        select(
            case((_report_done(PostAssessment, PostAssessment.assessed_at), PostAssessment.level), else_=null()).label(
                "level"
            )
        )
        .select_from(PreDiagnosis)
        .join(PostAssessment, PostAssessment.project_id == PreDiagnosis.project_id, isouter=True)
        .where(_where_town(PreDiagnosis.town_id, town))
    )
    for kind, inner in (("before", before.subquery()), ("after", after.subquery())):
        parts.append(
            select(
                _lit(kind),
                _lit(""),
                cast(inner.c.level, String),
                cast(null(), String),
                func.count(),
            ).group_by(inner.c.level)
        )

    def overdue_columns(stage, model):
        return [_lit("overdue"), _lit(stage), _lit(""), cast(null(), String), func.count()]

    parts.extend(_overdue_selects(town, now, overdue_columns).values())
    return union_all(*parts)


# --- 2. per town and per 细分行业 ----------------------------------------------------------------------
def _breakdown_statement(town, citywide=False):
    """(dim, key, key2, name, sort, projects, filed, signed, warehoused, contract_total): the name rows of the
    towns ("town_name", key) and industries ("industry_name", key), and aggregate rows per (town, 细分行业) of
    each source ("agg", town id, industry id): one pass over each table, rolled up per town and per industry by
    the caller (a few hundred rows at most)."""
    zero = _lit(0)
    no_money = cast(null(), MONEY)
    no_name = cast(null(), String)
    no_key = cast(null(), Integer)
    agg = _lit("agg")
    parts = [
        # the names: every town for the city (its filter and its table), only its own for a 镇街
        select(_lit("town_name"), Town.id, no_key, Town.name, Town.sort, zero, zero, zero, zero, no_money).where(
            _where_town(Town.id, None if citywide else town)
        ),
        select(
            _lit("industry_name"), Industry.id, no_key, Industry.name, Industry.sort, zero, zero, zero, zero, no_money
        ),
    ]
    filed = func.sum(case((Filing.status == ReviewStatus.DONE, 1), else_=0))
    parts.append(
        select(agg, Filing.town_id, Filing.industry_id, no_name, zero, func.count(), filed, zero, zero, no_money)
        .where(_where_town(Filing.town_id, town))
        .group_by(Filing.town_id, Filing.industry_id)
    )
    # 已签约 and 合同总金额 in one pass: each signed signing once, with the sum of its contracts
    signed = Signing.status == SigningStatus.SIGNED
    per_signing = (
        select(Contract.signing_id.label("signing_id"), func.sum(Contract.total_amount).label("total"))
        .group_by(Contract.signing_id)
        .subquery()
    )
    parts.append(
        select(
            agg,
            Signing.town_id,
            Filing.industry_id,
            no_name,
            zero,
            zero,
            zero,
            func.count(),
            zero,
            func.sum(per_signing.c.total),
        )
        .select_from(Signing)
        .join(per_signing, per_signing.c.signing_id == Signing.id, isouter=True)
        .join(Filing, Filing.project_id == Signing.project_id, isouter=True)
        .where(signed, _where_town(Signing.town_id, town))
        .group_by(Signing.town_id, Filing.industry_id)
    )
    done = Warehousing.status == ReviewStatus.DONE
    parts.append(
        select(agg, Warehousing.town_id, Filing.industry_id, no_name, zero, zero, zero, zero, func.count(), no_money)
        .select_from(Warehousing)
        .join(Filing, Filing.project_id == Warehousing.project_id, isouter=True)
        .where(done, _where_town(Warehousing.town_id, town))
        .group_by(Warehousing.town_id, Filing.industry_id)
    )
    return union_all(*parts)


# --- 3. money ---------------------------------------------------------------------------------------------
def _money_statement(town):
    """One row: the signed contracts' count and sums (one pass over the contracts), the approved 预奖补 and the
    已入库 projects' counts and sums (each one small aggregate)."""
    signed = and_(Signing.status == SigningStatus.SIGNED, _where_town(Signing.town_id, town))
    contracts = (
        select(
            func.count(Contract.id).label("contracts"),
            func.sum(Contract.total_amount).label("contract_total"),
            func.sum(Contract.subsidy_amount).label("contract_subsidy"),
        )
        .select_from(Contract)
        .join(Signing, Signing.id == Contract.signing_id)
        .where(signed)
        .subquery()
    )
    approved = and_(PreSubsidy.status == ReviewStatus.DONE, _where_town(PreSubsidy.town_id, town))
    warehoused = and_(Warehousing.status == ReviewStatus.DONE, _where_town(Warehousing.town_id, town))
    return select(
        contracts.c.contracts,
        contracts.c.contract_total,
        contracts.c.contract_subsidy,
        select(func.count(PreSubsidy.id)).where(approved).scalar_subquery().label("pre_subsidy_count"),
        select(func.sum(Contract.subsidy_amount))
        .select_from(PreSubsidy)
        .join(pre_subsidy_contract, pre_subsidy_contract.c.pre_subsidy_id == PreSubsidy.id)
        .join(Contract, Contract.id == pre_subsidy_contract.c.contract_id)
        .where(approved)
        .scalar_subquery()
        .label("pre_subsidy_amount"),
        select(func.count(Warehousing.id)).where(warehoused).scalar_subquery().label("warehoused"),
        select(func.sum(Warehousing.proposed_subsidy)).where(warehoused).scalar_subquery().label("proposed_subsidy"),
    ).select_from(contracts)


# --- 4. the overdue records ---------------------------------------------------------------------------------
def _overdue_items_statement(town, now, limit):
    """(stage, id, filing_id, project, town, since, step, end_date), oldest wait first (since, stage, id).

    With a small limit, each stage's select keeps only its own `limit` oldest (the `limit` oldest of all are among
    them), so the database sorts a few rows instead of every overdue record; the town names are looked up for
    the rows returned only."""

    def columns(stage, model):
        if stage == "pre_diagnosis":
            since, step = Filing.completed_at, cast(null(), String)
        elif stage == "post_assessment":
            since, step = PostAssessment.created_at, cast(null(), String)
        else:
            since, step = model.step_entered_at, model.current_step
        name = Filing.project_name
        if model is Warehousing:
            name = func.coalesce(Warehousing.project_name, Filing.project_name)
        return [
            _lit(stage).label("stage"),
            model.id.label("id"),
            Filing.id.label("filing_id"),
            name.label("project"),
            model.town_id.label("town_id"),
            since.label("since"),
            step.label("step"),
            (Signing.end_date if stage == "post_assessment" else cast(null(), Date)).label("end_date"),
        ]

    selects = list(_overdue_selects(town, now, columns).values())
    if limit and limit <= 1000:  # the page's list (the export sorts once, all of them)
        # a select of each stage's first `limit` (wrapped: SQLite takes no ORDER BY / LIMIT inside a UNION)
        selects = [
            select(sub).select_from(sub)
            for sub in (
                q.order_by(q.selected_columns.since, q.selected_columns.id).limit(limit).subquery() for q in selects
            )
        ]
    united = union_all(*selects).subquery()
    order = (united.c.since, united.c.stage, united.c.id)
    first = select(united).order_by(*order)
    if limit:
        first = first.limit(limit)
    first = first.subquery()
    return (
        select(
            first.c.stage,
            first.c.id,
            first.c.filing_id,
            first.c.project,
            Town.name.label("town"),
            first.c.since,
            first.c.step,
            first.c.end_date,
        )
        .select_from(first)
        .join(Town, Town.id == first.c.town_id, isouter=True)
        .order_by(first.c.since, first.c.stage, first.c.id)
    )


# --- reading ---------------------------------------------------------------------------------------------
def money(value):
    """An exact 万元 amount from a SQL sum (None → 0.0000)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(FOUR_PLACES)


def _status_label(stage, status, step):
    """The status as the stage's own list shows it (each stage module's rule, fed the grouped values)."""
    from . import completion, filing, implementation, presubsidy, signing
    from .institution_reports import KINDS

    record = SimpleNamespace(status=status, current_step=step)
    if stage == "filing":
        return filing.status_label(record)
    if stage == "pre_subsidy":
        return presubsidy.status_text(record)
    if stage in ("pre_diagnosis", "post_assessment"):
        kind = KINDS["pre" if stage == "pre_diagnosis" else "post"]
        return str(kind.statuses[REPORT_CATEGORIES.index(status)])
    if stage == "signing":
        return signing.status_text(SimpleNamespace(status=status))
    if stage == "implementation":
        return implementation.status_text(record)
    if stage == "completion":
        return completion.status_text(record)
    return {  # 项目入库: 待提交 / 待审核 / 退回修改 / 已入库 (its list's names)
        ReviewStatus.DRAFT: _("To be submitted"),
        ReviewStatus.REVIEWING: _("Pending review"),
        ReviewStatus.RETURNED: _("Returned for revision"),
        ReviewStatus.DONE: _("Warehoused"),
        ReviewStatus.REJECTED: _("Not approved"),
    }.get(status, status)


def _status_order(stage, status, step):
    """Rows of a stage in the workflow's order: drafts, each review step in chain order, returned, done."""
    from .workflow import chain

    order = {
        "draft": 0,
        "pending": 0,
        "todo": 0,
        "progress": 1,
        "reviewing": 2,
        "confirm": 2,
        "returned": 5,
        "submitted": 6,
        "signed": 6,
        "done": 6,
        "rejected": 7,
    }
    position = 0
    if step:
        chains = {"filing": "filing", "pre_subsidy": "pre_subsidy", "warehousing": "warehousing"}
        keys = [s.key for s in chain(chains[stage])] if stage in chains else []
        position = keys.index(step) if step in keys else len(keys)
    return (order.get(status, 4), position)


def _known_status(stage, status):
    allowed = {
        "signing": (SigningStatus.PENDING, SigningStatus.SIGNED),
        "implementation": (ImplementationStatus.PENDING, ImplementationStatus.SUBMITTED),
        "completion": (CompletionStatus.PENDING, CompletionStatus.SUBMITTED),
        "pre_diagnosis": REPORT_CATEGORIES,
        "post_assessment": REPORT_CATEGORIES,
    }.get(stage, ReviewStatus.ALL)
    return status in allowed


@dataclass
class StageRow:
    stage: str
    stage_label: str
    status: str
    label: str
    count: int


def level_names():
    from .assessment import get_index

    return dict(get_index().level_short_names)


def counts(town, now=None):
    """{"stages": [StageRow], "levels": [(label, before, after)], "overdue": [(stage, label, n)]}."""
    now = now or dt.datetime.now()
    stages, before, after, overdue = [], {}, {}, {}
    for kind, key, detail, step, n in db.session.execute(_counts_statement(town, now)):
        if kind == "stage":
            step = step if detail == ReviewStatus.REVIEWING and key in ("filing", "pre_subsidy") else None
            stages.append((key, detail, step, int(n)))
        elif kind in ("before", "after"):
            level = int(detail) if detail not in (None, "") else None
            (before if kind == "before" else after)[level] = int(n)
        else:
            overdue[key] = int(n)
    rows, merged = [], {}
    for key, status, step, n in stages:  # a status known to no rule is shown raw, never a 500
        label = _status_label(key, status, step) if _known_status(key, status) else status
        merged[(key, status, step, label)] = merged.get((key, status, step, label), 0) + n
    order = list(STAGE_LABELS)
    for (key, status, step, label), n in sorted(
        merged.items(), key=lambda item: (order.index(item[0][0]), _status_order(*item[0][:3]))
    ):
        rows.append(StageRow(key, str(STAGE_LABELS[key]), status, str(label), n))
    names = level_names()
    levels = []
    extra = sorted(k for k in set(before) | set(after) if k is not None and k not in LEVELS)
    for level in [*extra, *LEVELS]:
        levels.append((names.get(level, str(level)), before.get(level, 0), after.get(level, 0)))
    levels.append((_("Not assessed"), before.get(None, 0), after.get(None, 0)))
    return {
        "stages": rows,
        "levels": levels,
        "overdue": [(key, str(STAGE_LABELS[key]), overdue.get(key, 0)) for key in OVERDUE_STAGES],
    }


@dataclass
class BreakdownRow:
    key: int | None
    name: str
    projects: int = 0
    filed: int = 0
    signed: int = 0
    warehoused: int = 0
    contract_total: Decimal = ZERO


def breakdown(town, citywide=False):
    """{"towns": [BreakdownRow] (every town of the scope, in the reference order), "industries": [BreakdownRow]
    (those with a project, in the reference order, 未填写 last), "town_choices": [(id, name)] (every town for
    the city-wide filter, else the scope's own)}."""
    names = {"town": {}, "industry": {}}
    sums = {"town": {}, "industry": {}}
    for dim, key, industry, name, sort, projects, filed, signed, warehoused, total in db.session.execute(
        _breakdown_statement(town, citywide)
    ):
        if dim.endswith("_name"):
            names[dim[: -len("_name")]][key] = (sort or 0, name)
            continue
        amount = money(total)
        for dim_, key_ in (("town", key), ("industry", industry)):
            row = sums[dim_].setdefault(key_, BreakdownRow(key_, ""))
            row.projects += int(projects or 0)
            row.filed += int(filed or 0)
            row.signed += int(signed or 0)
            row.warehoused += int(warehoused or 0)
            row.contract_total += amount
    choices, towns = [], []
    for key, (_sort, name) in sorted(names["town"].items(), key=lambda item: (item[1][0], item[0])):
        choices.append((key, name))
        if town is None or key == town:
            row = sums["town"].get(key) or BreakdownRow(key, name)
            row.name = name
            towns.append(row)
    industries = []
    for key, (_sort, name) in sorted(names["industry"].items(), key=lambda item: (item[1][0], item[0])):
        row = sums["industry"].get(key)
        if row is not None and (row.projects or row.signed or row.warehoused):
            row.name = name
            industries.append(row)
    unknown = sums["industry"].get(None)
    if unknown is not None and (unknown.projects or unknown.signed or unknown.warehoused):
        unknown.name = _("Not filled in")
        industries.append(unknown)
    return {
        "towns": towns,
        "industries": industries,
        "town_choices": choices,
    }


def totals(town):
    row = db.session.execute(_money_statement(town)).one()
    return {
        "contracts": int(row.contracts or 0),
        "contract_total": money(row.contract_total),
        "contract_subsidy": money(row.contract_subsidy),
        "pre_subsidy_count": int(row.pre_subsidy_count or 0),
        "pre_subsidy_amount": money(row.pre_subsidy_amount),
        "warehoused": int(row.warehoused or 0),
        "proposed_subsidy": money(row.proposed_subsidy),
    }


@dataclass
class OverdueItem:
    stage: str
    stage_label: str
    id: int
    filing_id: int | None
    project: str
    town: str
    since: dt.datetime | None
    deadline: dt.datetime | None


def _deadline(stage, since, step, end_date):
    """The deadline, by the stage's own rule (fed the selected values)."""
    from . import diagnosis, post_assessment
    from .workflow import deadline_of

    if since is None:
        return None
    if stage == "pre_diagnosis":
        return diagnosis.deadline(SimpleNamespace(project=SimpleNamespace(filing=SimpleNamespace(completed_at=since))))
    if stage == "post_assessment":
        signing = SimpleNamespace(end_date=end_date)
        return post_assessment.deadline(SimpleNamespace(created_at=since, project=SimpleNamespace(signing=signing)))
    record = SimpleNamespace(status=ReviewStatus.REVIEWING, step_entered_at=since, current_step=step, chain_name=stage)
    return deadline_of(record)


def _datetime(value):
    if isinstance(value, str):  # SQLite hands back the text of a column that went through a UNION
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def _date(value):
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return value


def iter_overdue_items(town, now=None, limit=OVERDUE_LIST_LIMIT):
    """The overdue records of the scope, oldest wait first, as they come from the database (a server-side
    cursor, `yield_per` rows at a time): the export writes 50,000 of them without holding them all."""
    now = now or dt.datetime.now()
    labels = {key: str(label) for key, label in STAGE_LABELS.items()}  # translated once, not per row
    result = db.session.execute(_overdue_items_statement(town, now, limit), execution_options={"yield_per": 1000})
    try:
        for row in result:
            since = _datetime(row.since)
            yield OverdueItem(
                stage=row.stage,
                stage_label=labels[row.stage],
                id=row.id,
                filing_id=row.filing_id,
                project=row.project or "",
                town=row.town or "",
                since=since,
                deadline=_deadline(row.stage, since, row.step, _date(row.end_date)),
            )
    finally:
        result.close()


def overdue_items(town, now=None, limit=OVERDUE_LIST_LIMIT):
    return list(iter_overdue_items(town, now, limit))


# --- the figures of a page, kept a short while --------------------------------------------------------------
@dataclass
class Figures:
    counted_at: dt.datetime
    counts: dict
    parts: dict
    totals: dict
    items: list


# (app, locale, town, citywide) → (time.monotonic() when counted, Figures); in this process only (a request
# never waits on another service), each worker counting at most once per scope per DASHBOARD_CACHE_SECONDS.
_cache = {}
_cache_lock = threading.Lock()
CACHE_MAX_ENTRIES = 64


def clear_cache():
    with _cache_lock:
        _cache.clear()


def figures(town, citywide):
    """The four aggregates of the page for a scope: `town` (a town id, 0 for none, None for the whole city) as
    `citywide` (市工信, whose town list is the whole city's) or not (a 镇街, whose list is its own town). Kept
    DASHBOARD_CACHE_SECONDS (0: counted every time) under a key of exactly that scope, so one scope's figures
    are never handed to another; `counted_at` says when they were counted."""
    seconds = current_app.config.get("DASHBOARD_CACHE_SECONDS") or 0
    key = (id(current_app._get_current_object()), str(get_locale()), town, bool(citywide))
    if seconds > 0:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < seconds:
            return hit[1]
    now = dt.datetime.now()
    parts = breakdown(town, citywide)
    value = Figures(now, counts(town, now), parts, totals(town), overdue_items(town, now))
    known = town is None or not citywide or town in dict(parts["town_choices"])
    if seconds > 0 and known:  # an id that is no town is not kept (the page sends the city back to the city)
        stamp = time.monotonic()
        with _cache_lock:
            for old in [k for k, (t, _v) in _cache.items() if stamp - t >= seconds]:
                del _cache[old]
            while len(_cache) >= CACHE_MAX_ENTRIES:
                del _cache[next(iter(_cache))]
            _cache[key] = (stamp, value)
    return value
