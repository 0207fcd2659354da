"""Stages as plug-ins: what a reviewable kind of record declares so that the shared screens need no
per-stage code.

A stage module (zsdx/filing.py, zsdx/diagnosis.py, …) calls `register_stage(Stage(...))` with its model,
its chain (a key of REVIEW_CHAINS), the names shown in queues, its review partial template, its owner /
reviewer links and its completion hook, and `register_tab(WorkbenchTab(...))` for its tab of 我的工作台.
The engine (zsdx/workflow.py), the visibility layer (zsdx/visibility.py), the review screens
(zsdx/views/review.py) and the workbench (zsdx/views/workbench.py) read only this registry.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, has_request_context
from flask_babel import gettext as _

STAGES: dict[str, "Stage"] = {}
_BY_MODEL: dict[type, "Stage"] = {}


def generic_status(record):
    """The status shown in lists: 审核中（step）, 待提交, 已驳回, 已通过, 审核不通过."""
    from .models import ReviewStatus
    from .workflow import step_of

    if record.status == ReviewStatus.REVIEWING:
        step = step_of(record.chain_name, record.current_step)
        return _("Under review (%(step)s)", step=step.label if step else "")
    return {
        ReviewStatus.DRAFT: _("To be submitted"),
        ReviewStatus.RETURNED: _("Status: returned"),
        ReviewStatus.DONE: _("Status: approved"),
        ReviewStatus.REJECTED: _("Not approved"),
    }[record.status]


@dataclass
class Stage:
    """How the shared layer sees one kind of reviewable record."""

    type: str  # the subject type stored in audit rows, assignments and notifications; also the URL part
    model: type
    label: object  # the kind, e.g. 项目备案 (a lazy string)
    title: Callable  # record -> "XX项目备案审核" (notifications)
    owner_link: Callable  # record -> the path the submitter opens
    review_link: Callable | None = None  # record -> the path the reviewer opens; default: the generic review page
    item_name: Callable = lambda r: getattr(r, "name", "") or ""  # the item column of the queues
    item_label: object = None  # its header (default: 项目名称)
    enterprise_name: Callable = lambda r: r.organisation.name if r.organisation else ""
    status_text: Callable = generic_status  # record -> the status shown in lists
    review_template: str = "zsdx/_review_generic.html"  # the partial inside the generic review page
    detail_fields: list = field(default_factory=list)  # [(attribute, label)] for the generic partial
    review_context: Callable | None = None  # record -> extra template context for the partial
    files: dict = field(default_factory=dict)  # name -> record -> StoredFile, served by the review page
    on_submit: Callable | None = None  # (record, actor) inside the submission's transaction
    on_complete: Callable | None = None  # (record, actor) when the chain completes
    submitters: Callable | None = None  # record -> users told of outcomes; default: the owning organisation's
    viewers: tuple = ()  # extra (role, scope, include_drafts) who may see records beyond the chain's reviewers
    in_review_queue: bool = True  # listed in the 审核工作台 (False when the reviewer acts on a page of its own)
    order: int = 100  # position among the 审核工作台's kinds (the first is the default tab)
    queue_options: Callable | None = None  # model -> loader options for queue rows (eager loads)
    detail_options: Callable | None = None  # model -> loader options for the review page's record

    @property
    def chain(self):
        return self.model.chain_name

    def link_for_review(self, record):
        if self.review_link is not None:
            return self.review_link(record)
        from flask import url_for

        return url_for("ReviewQueueView.detail", subject=self.type, pk=record.id)


def register_stage(stage):
    STAGES[stage.type] = stage
    _BY_MODEL[stage.model] = stage
    from . import visibility

    visibility.register(stage.model, visibility.stage_rule(stage))
    return stage


def unregister_stage(type_):
    """Tests only: remove a throwaway stage."""
    stage = STAGES.pop(type_)
    _BY_MODEL.pop(stage.model, None)
    from . import visibility

    visibility.unregister(stage.model)


def stage_of(record_or_model):
    model = record_or_model if isinstance(record_or_model, type) else type(record_or_model)
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise KeyError(f"{model.__name__} is not a registered stage") from None


def link_of(make, record):
    """A stage's link (a path) for a notification, also outside a request (rq job, ticker, CLI), where
    url_for has no request to build from and SERVER_NAME is not configured."""
    if has_request_context():
        return make(record)
    with current_app.test_request_context("/"):
        return make(record)


# --- 我的工作台 tabs ----------------------------------------------------------------------------------
@dataclass
class WorkbenchTab:
    """One tab of the enterprise's 我的工作台 (group "projects" or "diagnosis"), in `order`."""

    group: str
    key: str
    label: object
    columns: list  # column headers (lazy strings)
    order: int
    rows: Callable | None = None  # user -> an ordered query of the rows (the workbench pages it; a list works too)
    template: str = "zsdx/_tab_generic.html"  # renders `rows` inside the workbench's table
    context: Callable | None = None  # user -> extra template context
    cells: Callable | None = None  # the generic template's (row) -> [cell, …] (Markup for links)


TABS: dict[tuple[str, str], WorkbenchTab] = {}


def register_tab(tab):
    TABS[(tab.group, tab.key)] = tab
    return tab


def unregister_tab(group, key):
    TABS.pop((group, key), None)


def tabs_of(group):
    return sorted((t for t in TABS.values() if t.group == group), key=lambda t: t.order)
