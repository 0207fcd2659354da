"""数据看板 rows as plug-ins: what a stage module declares so that the dashboard (zsdx/dashboard.py and its view)
needs no per-stage code.

A module calls `register_dashboard_part(DashboardPart(...))` for its row of 各阶段项目数 (projects per stage and
status): its key and position, its label, the table counted (scoped by its `town_id`, the column the visibility
layer scopes 镇街 by), its status as a SQL expression (grouped on, in SQL), how the stage's own list names and
orders each status, and, when its records have a deadline (是否逾期), an `Overdue`: the stage's rule as a SQL
condition (the twin of its Python rule, kept next to it), the tables the condition needs, the time the wait is
counted from and the deadline of one listed record by the Python rule itself. A row is not always a review-chain
Stage (项目签约, 事前诊断 are rows too), so the registry is keyed by the row's key, in `order`.

`chain_overdue` builds the `Overdue` of a record in a review chain from the engine's own rule
(`workflow.overdue_clause` / `workflow.deadline_of`), the same for every chain stage.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import Integer, String, case, literal_column, null

from .models import ReviewStatus

PARTS: dict[str, "DashboardPart"] = {}

# A status no rank knows (data no rule knows: shown raw, never a 500) sorts after the statuses in progress and
# before the finished ones.
UNKNOWN_RANK = 4
# The review statuses of a chain record, ranked in the workflow's order: drafts, under review (then by the step's
# place in the chain), returned, done, rejected.
REVIEW_RANKS = {
    ReviewStatus.DRAFT: 0,
    ReviewStatus.REVIEWING: 2,
    ReviewStatus.RETURNED: 5,
    ReviewStatus.DONE: 6,
    ReviewStatus.REJECTED: 7,
}


def constant(value):
    """A constant of the statement (not a bind parameter: PostgreSQL must see the same text in GROUP BY)."""
    if isinstance(value, str):
        return literal_column("'" + value.replace("'", "''") + "'", String)
    return literal_column(str(int(value)), Integer)


def step_if_reviewing(model):
    """The current step while under review (the list shows 审核中（step）), else NULL."""
    return case((model.status == ReviewStatus.REVIEWING, model.current_step), else_=null())


@dataclass(frozen=True)
class Overdue:
    """How a row's records are overdue (是否逾期): counted per row and listed, oldest wait first."""

    where: Callable  # now -> the SQL condition of an overdue record: the stage's own rule
    since: object  # the column the wait is counted from (the list's 等待起始, its order)
    deadline: Callable  # (since, step, end_date) -> the deadline of a listed record, by the stage's Python rule
    # select (from the row's model) -> the select joined to what `where`, `since`, `step`, `end_date` and
    # `project` read, and to the project's Filing (the list shows its name and opens it)
    joins: Callable = lambda query: query
    step: object = None  # the column of the step waited at, fed to `deadline` (None: NULL)
    end_date: object = None  # a date column fed to `deadline` (None: NULL)
    project: object = None  # the project name column (None: the filing's 项目名称)
    link: Callable | None = None  # (item, citywide) -> where the list opens the item, None: the project's filing


@dataclass(frozen=True)
class DashboardPart:
    """One row of the dashboard's stages (项目数 per status) and, with `overdue`, of its overdue figures."""

    key: str  # the row's key (data-stage in the page, the stage of an overdue item)
    order: int  # position among the rows: the lifecycle's order
    label: object  # the stage, e.g. 项目备案 (a lazy string)
    model: type  # the records counted, filtered on model.town_id
    status: object  # SQL expression: the status value the row groups on
    status_text: Callable  # record-like (status, current_step) -> the status as the stage's own list shows it
    ranks: dict  # {status value: rank}: the statuses the row knows, in the workflow's order
    step: object = None  # SQL expression: the step of a record under review (sorted by its chain), else NULL
    overdue: Overdue | None = None

    def rank(self, status, step):
        """The sort key of a (status, step) row: the status's rank, then the step's place in the chain."""
        position = 0
        if step:
            from .workflow import chain

            keys = [s.key for s in chain(self.model.chain_name)]
            position = keys.index(step) if step in keys else len(keys)
        return (self.ranks.get(status, UNKNOWN_RANK), position)

    def label_of(self, status, step):
        """The status's label, by the stage's own rule; a status the row does not know is shown raw."""
        if status not in self.ranks:
            return status
        return self.status_text(SimpleNamespace(status=status, current_step=step))


def register_dashboard_part(part):
    PARTS[part.key] = part
    return part


def unregister_dashboard_part(key):
    """Tests only: remove a throwaway row."""
    PARTS.pop(key, None)


def parts():
    """The rows, in order."""
    return sorted(PARTS.values(), key=lambda p: (p.order, p.key))


def overdue_parts():
    """The rows with a deadline, in order."""
    return [p for p in parts() if p.overdue is not None]


def chain_overdue(model, joins=None, project=None):
    """The `Overdue` of a record in a review chain: past its current step's deadline_days (the engine's rule:
    workflow.overdue_clause as SQL, workflow.deadline_of for one record); listed from when it entered the step,
    opened on its review page."""
    from flask import url_for

    from .stages import stage_of
    from .workflow import deadline_of, overdue_clause

    def deadline(since, step, end_date):
        record = SimpleNamespace(
            status=ReviewStatus.REVIEWING, step_entered_at=since, current_step=step, chain_name=model.chain_name
        )
        return deadline_of(record)

    return Overdue(
        where=lambda now: overdue_clause(model, now),
        since=model.step_entered_at,
        step=model.current_step,
        deadline=deadline,
        joins=joins or (lambda query: query),
        project=project,
        link=lambda item, citywide: url_for("ReviewQueueView.detail", subject=stage_of(model).type, pk=item.id),
    )


def chain_part(key, order, label, model, status_text, by_step=True, **overdue):
    """The row of a stage in a review chain: grouped on its review status (and, with `by_step`, the step of a
    record under review), ranked in the workflow's order, overdue by the engine's rule (`chain_overdue`, which
    takes the rest of the arguments)."""
    return DashboardPart(
        key=key,
        order=order,
        label=label,
        model=model,
        status=model.status,
        step=step_if_reviewing(model) if by_step else None,
        status_text=status_text,
        ranks=REVIEW_RANKS,
        overdue=chain_overdue(model, **overdue),
    )
