"""数据看板 (SPEC §3.11): the figures of the city's dashboard, each computed in SQL (GROUP BY / CASE / UNION
ALL), never by loading rows into Python to count them. A page costs four statements, whatever the data:

1. `counts`: projects per stage and status, the 改造前 / 改造后 level distribution and the overdue counts per
   stage (one UNION ALL of grouped selects);
2. `breakdown`: per town and per 细分行业 (projects, 已备案, 已签约, 已入库, 合同总金额) with the names of the
   towns and industries (one UNION ALL);
3. `money`: contract and subsidy totals (one row of scalar subqueries; sums stay Decimal in SQL);
4. `overdue_items`: the overdue records themselves, oldest first (limited; `iter_overdue_items` streams them).

`figures` runs the four for a page and keeps them DASHBOARD_CACHE_SECONDS per scope, in the process and in the
table zs_dashboard_snapshot that every worker and node reads (the page shows when they were counted): at 100,000
projects the four take a few hundred ms for the city, the page a few ms.
Indexes for them (migration "dashboard indexes"): zs_filing (status, step_entered_at, current_step, town_id) for
the overdue filings, (completed_at, project_id) for the overdue 事前诊断, (town_id, industry_id, status) for
the per-town / per-industry counts; zs_contract (signing_id, total_amount, subsidy_amount) for the sums.

Scope: `town` is a town id (a 镇街 user's own town, or 市工信's filter) or None (the whole city). Every select
filters on the town column of the record it counts (the column the visibility layer scopes 镇街 by), so
nothing of another town is ever read into a figure.

The stages (项目数 per stage and status, 是否逾期 per stage, the overdue list) are the rows of the registry of
zsdx/dashboard_parts.py, which each stage module fills with its own part: its label, its status as SQL and
how its list names and orders them, and its overdue rule as SQL (the twin of its Python rule: the engine's
`workflow.overdue_clause` for records in a review chain, `diagnosis.past_deadline` / `post_assessment.past_deadline`
beside their `deadline`), with the deadline of a listed record by the Python rule itself. Nothing here names a
stage of those rows; tests/test_dashboard.py checks the SQL against the Python rules record by record.
"""

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import LazyString, force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy import true as sql_true
from sqlalchemy.exc import SQLAlchemyError

from .dashboard_parts import constant as _lit
from .dashboard_parts import overdue_parts, parts
from .extensions import db, dialect_insert
from .models import (
    Contract,
    DashboardSnapshot,
    Filing,
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

log = logging.getLogger(__name__)

FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")
MONEY = Numeric(18, 4)
OVERDUE_LIST_LIMIT = 20
EXPORT_LIMIT = 50_000
LEVELS = (1, 2, 3, 4)


def stage_labels():
    """{row key: label} of the stages, in the lifecycle's order (the registry's)."""
    return {part.key: part.label for part in parts()}


def _where_town(column, town):
    return sql_true() if town is None else column == town


# --- 是否逾期 --------------------------------------------------------------------------------------
def _overdue_selects(town, now, columns):
    """One select per row with a deadline: `columns(part)` → the select list, from the row's table joined as its
    rule needs, filtered to the overdue records of the scope. In the rows' order."""
    out = []
    for part in overdue_parts():
        rule = part.overdue
        query = rule.joins(select(*columns(part)).select_from(part.model))
        out.append(query.where(rule.where(now), _where_town(part.model.town_id, town)))
    return out


# --- 1. stages and statuses, levels, overdue counts ----------------------------------------------------
def _counts_statement(town, now):
    """(kind, key, detail, n): kind "stage" (key stage, detail status[:step]), "before"/"after" (key level or
    NULL), "overdue" (key stage)."""
    from .institution_reports import done_clause, kind_of

    selects = []
    for part in parts():
        inner = select(
            part.status.label("status"), (part.step if part.step is not None else null()).label("step")
        ).where(_where_town(part.model.town_id, town))
        inner = inner.subquery()
        selects.append(
            select(
                _lit("stage").label("kind"),
                _lit(part.key).label("key"),
                func.coalesce(inner.c.status, _lit("")).label("detail"),
                cast(inner.c.step, String).label("step"),
                func.count().label("n"),
            ).group_by(inner.c.status, inner.c.step)
        )

    # 改造前: the 事前诊断's level once diagnosed; 改造后: the confirmed 事后评估 level, over the same projects
    # (every 已备案 project has its 事前诊断), so the two bars of a level compare like with like.
    pre_done, post_done = done_clause(kind_of(PreDiagnosis)), done_clause(kind_of(PostAssessment))
    before = select(case((pre_done, PreDiagnosis.level), else_=null()).label("level")).where(
        _where_town(PreDiagnosis.town_id, town)
    )
    after = (
        select(case((post_done, PostAssessment.level), else_=null()).label("level"))
        .select_from(PreDiagnosis)
        .join(PostAssessment, PostAssessment.project_id == PreDiagnosis.project_id, isouter=True)
        .where(_where_town(PreDiagnosis.town_id, town))
    )
    for kind, inner in (("before", before.subquery()), ("after", after.subquery())):
        selects.append(
            select(
                _lit(kind),
                _lit(""),
                cast(inner.c.level, String),
                cast(null(), String),
                func.count(),
            ).group_by(inner.c.level)
        )

    def overdue_columns(part):
        return [_lit("overdue"), _lit(part.key), _lit(""), cast(null(), String), func.count()]

    selects.extend(_overdue_selects(town, now, overdue_columns))
    return union_all(*selects)


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

    def columns(part):
        rule = part.overdue
        return [
            _lit(part.key).label("stage"),
            part.model.id.label("id"),
            Filing.id.label("filing_id"),  # the project's 项目备案: its name, and the page a 镇街 may open
            (rule.project if rule.project is not None else Filing.project_name).label("project"),
            part.model.town_id.label("town_id"),
            rule.since.label("since"),
            (rule.step if rule.step is not None else cast(null(), String)).label("step"),
            (rule.end_date if rule.end_date is not None else cast(null(), Date)).label("end_date"),
        ]

    selects = _overdue_selects(town, now, columns)
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
    by_key = {part.key: part for part in parts()}
    stages, before, after, overdue = [], {}, {}, {}
    for kind, key, detail, step, n in db.session.execute(_counts_statement(town, now)):
        if kind == "stage":
            step = step if detail == ReviewStatus.REVIEWING and by_key[key].step is not None else None
            stages.append((key, detail, step, int(n)))
        elif kind in ("before", "after"):
            level = int(detail) if detail not in (None, "") else None
            (before if kind == "before" else after)[level] = int(n)
        else:
            overdue[key] = int(n)
    rows, merged = [], {}
    for key, status, step, n in stages:  # a status known to no rule is shown raw, never a 500
        label = by_key[key].label_of(status, step)
        merged[(key, status, step, label)] = merged.get((key, status, step, label), 0) + n
    order = list(by_key)
    for (key, status, step, label), n in sorted(
        merged.items(), key=lambda item: (order.index(item[0][0]), by_key[item[0][0]].rank(*item[0][1:3]))
    ):
        rows.append(StageRow(key, str(by_key[key].label), status, str(label), n))
    names = level_names()
    levels = []
    extra = sorted(k for k in set(before) | set(after) if k is not None and k not in LEVELS)
    for level in [*extra, *LEVELS]:
        levels.append((names.get(level, str(level)), before.get(level, 0), after.get(level, 0)))
    levels.append((_("Not assessed"), before.get(None, 0), after.get(None, 0)))
    return {
        "stages": rows,
        "levels": levels,
        "overdue": [(part.key, str(part.label), overdue.get(part.key, 0)) for part in overdue_parts()],
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


def _deadline(part, since, step, end_date):
    """The deadline, by the row's own rule (fed the selected values)."""
    if since is None:
        return None
    return part.overdue.deadline(since, step, end_date)


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
    by_key = {part.key: part for part in overdue_parts()}
    labels = {key: str(part.label) for key, part in by_key.items()}  # translated once, not per row
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
                deadline=_deadline(by_key[row.stage], since, row.step, _date(row.end_date)),
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


# (app, locale, town, citywide) → (time.monotonic() when counted, Figures): what this process has read or counted.
# Beneath it the table zs_dashboard_snapshot, shared by every worker and node: a scope is counted once per
# DASHBOARD_CACHE_SECONDS for all of them (it was once in each worker: at 3 workers and a town per 镇街, the cold
# counts — ~0.7 s for the city, ~0.2 s a town — led the tail of the benchmark under load).
_cache = {}
_cache_lock = threading.Lock()
CACHE_MAX_ENTRIES = 64


def clear_cache(app):
    """Forget every kept figure: this process's and the shared snapshots of `app`'s database (tests, and after a
    data repair)."""
    forget_in_process()
    with app.app_context():
        db.session.execute(delete(DashboardSnapshot))
        db.session.commit()


def forget_in_process():
    with _cache_lock:
        _cache.clear()


def figures(town, citywide):
    """The four aggregates of the page for a scope: `town` (a town id, 0 for none, None for the whole city) as
    `citywide` (市工信, whose town list is the whole city's) or not (a 镇街, whose list is its own town). Kept
    DASHBOARD_CACHE_SECONDS (0: counted every time) under a key of exactly that scope, in the process and in the
    shared snapshot table, so one scope's figures are never handed to another; `counted_at` says when they were
    counted. Expired figures less than DASHBOARD_STALE_SECONDS older are shown while one worker recounts them in
    the background (`recount`); older ones are counted here."""
    config = current_app.config
    seconds = config.get("DASHBOARD_CACHE_SECONDS") or 0
    locale = str(get_locale())
    key = (id(current_app._get_current_object()), locale, town, bool(citywide))
    if seconds > 0:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < seconds:
            return hit[1]
    scope = _scope_key(locale, town, citywide)
    now = dt.datetime.now()
    shared = None
    if seconds > 0:
        shared = _read_snapshot(scope, now, seconds + max(config.get("DASHBOARD_STALE_SECONDS") or 0, 0))
    if shared is not None and shared.age >= seconds:  # expired: shown as counted while one worker recounts it
        if not shared.recounting and _claim_recount(scope, shared.counted_at, now):
            from .jobs import enqueue_after_response, recount_dashboard

            enqueue_after_response(recount_dashboard, locale, town, citywide)
        return shared.value  # not kept in the process: the next request reads the recounted snapshot
    value, age = (shared.value, shared.age) if shared is not None else (None, 0.0)
    if value is None:
        value = _count(town, citywide, now)
        if seconds <= 0 or not _known(value, town, citywide):
            return value  # an id that is no town is not kept (the page sends the city back to the city)
        _write_snapshot(scope, value)
    stamp = time.monotonic()
    with _cache_lock:
        for old in [k for k, (t, _v) in _cache.items() if stamp - t >= seconds]:
            del _cache[old]
        while len(_cache) >= CACHE_MAX_ENTRIES:
            del _cache[next(iter(_cache))]
        _cache[key] = (stamp - age, value)  # kept only for what is left of its time
    return value


def recount(locale, town, citywide):
    """Count the figures of a scope and share them (the background job `jobs.recount_dashboard`)."""
    with force_locale(locale):
        value = _count(town, citywide, dt.datetime.now())
        if _known(value, town, citywide):
            _write_snapshot(_scope_key(locale, town, citywide), value)
    db.session.rollback()  # the job's reads end here; the snapshot was written in a transaction of its own


def _count(town, citywide, now):
    parts = breakdown(town, citywide)
    return Figures(now, counts(town, now), parts, totals(town), overdue_items(town, now))


def _known(value, town, citywide):
    return town is None or not citywide or town in dict(value.parts["town_choices"])


def _scope_key(locale, town, citywide):
    return f"{locale}:{'city' if town is None else town}:{int(bool(citywide))}"


# how long a worker's claim to recount a scope holds; a recount that has not ended by then (a worker that died)
# may be claimed by another
RECOUNT_CLAIM_SECONDS = 120


@dataclass
class _Shared:
    value: Figures
    age: float  # seconds since counted
    counted_at: dt.datetime  # as stored (the claim of a recount names it)
    recounting: bool  # a worker has claimed its recount, less than RECOUNT_CLAIM_SECONDS ago


def _read_snapshot(scope, now, usable):
    """The shared figures of `scope` if counted less than `usable` seconds ago, else None."""
    row = db.session.execute(
        select(DashboardSnapshot.counted_at, DashboardSnapshot.payload, DashboardSnapshot.recount_since).where(
            DashboardSnapshot.scope == scope
        )
    ).first()
    age = (now - row.counted_at).total_seconds() if row is not None else -1.0
    if not 0 <= age < usable:
        return None
    try:
        value = _from_json(row.payload)
    except (ValueError, TypeError, KeyError):  # written by another version of the code: count afresh
        log.warning("dashboard snapshot %s not readable; counting afresh", scope, exc_info=True)
        return None
    since = row.recount_since
    recounting = since is not None and 0 <= (now - since).total_seconds() < RECOUNT_CLAIM_SECONDS
    return _Shared(value, age, row.counted_at, recounting)


def _claim_recount(scope, counted_at, now):
    """Take on the recount of `scope`'s expired figures: True for exactly one of the workers that try at once (a
    conditional UPDATE); False also when the database refuses the write."""
    lapsed = now - dt.timedelta(seconds=RECOUNT_CLAIM_SECONDS)
    claim = (
        update(DashboardSnapshot)
        .where(DashboardSnapshot.scope == scope, DashboardSnapshot.counted_at == counted_at)
        .where(DashboardSnapshot.recount_since.is_(None) | (DashboardSnapshot.recount_since < lapsed))
        .values(recount_since=now)
    )
    done = _write_apart(claim, f"dashboard snapshot {scope}: recount not claimed")
    return done is not None and done.rowcount == 1


def _write_snapshot(scope, value):
    """Store the figures for every worker and node. A failure (e.g. a database that is read-only for the moment)
    costs the other workers a count, not the page."""
    row = {"counted_at": value.counted_at, "payload": _to_json(value), "recount_since": None}
    upsert = dialect_insert(db.engine)(DashboardSnapshot).values(scope=scope, **row)
    upsert = upsert.on_conflict_do_update(index_elements=[DashboardSnapshot.scope], set_=row)
    _write_apart(upsert, f"dashboard snapshot {scope} not stored")


def _write_apart(statement, failure):
    """Run `statement` in a transaction of its own (the page's session only reads); on a database error log
    `failure` and return None, else the result."""
    try:
        with db.engine.begin() as conn:
            return conn.execute(statement)
    except SQLAlchemyError:
        log.warning(failure, exc_info=True)
        return None


# the figures as JSON: Decimal, datetime and the row dataclasses tagged, everything else plain
_ROW_TYPES = {cls.__name__: cls for cls in (StageRow, BreakdownRow, OverdueItem)}


def _tagged(value):
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if type(value).__name__ in _ROW_TYPES:
        return {"$row": type(value).__name__, "fields": asdict(value)}
    if isinstance(value, LazyString):  # a stage's label: the scope's language is the request's
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _untagged(obj):
    if "$decimal" in obj:
        return Decimal(obj["$decimal"])
    if "$datetime" in obj:
        return dt.datetime.fromisoformat(obj["$datetime"])
    if "$date" in obj:
        return dt.date.fromisoformat(obj["$date"])
    if "$row" in obj:
        return _ROW_TYPES[obj["$row"]](**obj["fields"])
    return obj


def _to_json(value):
    return json.dumps(
        {
            "counted_at": value.counted_at,
            "counts": value.counts,
            "parts": value.parts,
            "totals": value.totals,
            "items": value.items,
        },
        default=_tagged,
        ensure_ascii=False,
    )


def _from_json(text):
    data = json.loads(text, object_hook=_untagged)
    return Figures(data["counted_at"], data["counts"], data["parts"], data["totals"], data["items"])
