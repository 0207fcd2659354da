"""审核工作台 of 镇街 / 第三方 / 专家 / 市工信: one generic queue, detail and action screen for every
registered stage (zsdx/stages.py), with filters, bulk 同意, .xlsx export and the assignment of reviewers
(待分配). Nothing here knows a stage by name: labels, columns, partials and files come from the registry."""

import datetime as dt
from itertools import islice

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import roles as R
from .. import xlsx
from ..extensions import db
from ..files import serve
from ..guards import id_arg
from ..models import ReviewStatus, ZsdxUser
from ..paging import rows_of_page
from ..stages import STAGES
from ..visibility import get_visible_or_404, visible
from ..workflow import (
    WorkflowError,
    actionable_clause,
    assign_reviewers,
    assignees,
    can_act,
    can_assign,
    chain,
    check_opinion,
    count_bounded,
    is_overdue,
    my_reviews_page,
    overdue_clause,
    review,
    step_of,
    timeline,
    users_with_role,
)
from .account import town_choices, town_name

STATUS_FILTERS = [
    ("reviewing", _l("Under review")),
    ("returned", _l("Status: returned")),
    ("done", _l("Completed")),
    ("rejected", _l("Not approved")),
]
PAGE_SIZE = 20
COUNT_LIMIT = 10_000  # the queue's total is counted up to here ("10000+")
EXPORT_LIMIT = 50_000  # rows of one .xlsx export
EXPORT_CHUNK = 1000  # records the export reads at a time


def _stages_for(user):
    """The stages whose queue this user works in: its role acts, or assigns, at one of the chain's steps."""
    names = R.role_names(user)
    out = []
    for stage in sorted(STAGES.values(), key=lambda s: s.order):
        if not stage.in_review_queue:
            continue
        steps = chain(stage.chain)
        if R.ADMIN in names or any(s.role in names or (s.assigner and s.assigner in names) for s in steps):
            out.append(stage)
    return out


def _stage(name):
    stage = STAGES.get(name)
    if stage is None or stage not in _stages_for(g.user):
        abort(404)
    return stage


def _filtered(stage, query):
    model = stage.model
    town = id_arg(request.values.get("town"))  # 10**30 would overflow the driver
    if town and hasattr(model, "town_id"):
        query = query.filter(model.town_id == town)
    status = request.values.get("status")
    if status in dict(STATUS_FILTERS):
        query = query.filter(model.status == status)
    start = _parse_date(request.values.get("from"))
    end = _parse_date(request.values.get("to"))
    if start:
        query = query.filter(model.submitted_at >= start)
    if end:
        query = query.filter(model.submitted_at < end + dt.timedelta(days=1))
    if request.values.get("overdue") == "1":
        query = query.filter(overdue_clause(model))
    return query


def _pending(stage):
    model = stage.model
    query = visible(model).filter(actionable_clause(model, g.user))
    query = _filtered(stage, query)
    if stage.queue_options:
        query = query.options(*stage.queue_options(model))
    return query.order_by(model.submitted_at.desc(), model.id.desc())


def _rows(stage, records, actions=None):
    """Queue rows; a record at an assigned step with nobody assigned shows 待分配 (one query per page)."""
    from ..models import ReviewAssignment

    waiting = {r.id: r.current_step for r in records if r.status == ReviewStatus.REVIEWING}
    assigned = set()
    if waiting and any(s.assigner for s in chain(stage.chain)):
        assigned = {
            (sid, step)
            for sid, step in db.session.query(ReviewAssignment.subject_id, ReviewAssignment.step).filter(
                ReviewAssignment.subject_type == stage.type, ReviewAssignment.subject_id.in_(list(waiting))
            )
        }
    out = []
    for i, record in enumerate(records):
        step = step_of(stage.chain, record.current_step) if record.id in waiting else None
        unassigned = bool(step and step.assigner and (record.id, step.key) not in assigned)
        out.append(
            {
                "record": record,
                "overdue": is_overdue(record),
                "status": _("To be assigned") if unassigned else stage.status_text(record),
                "enterprise": stage.enterprise_name(record),
                "item": stage.item_name(record),
                "town": town_name(getattr(record, "town_id", None)),
                "action": actions[i] if actions else None,
            }
        )
    return out


def _export_rows(stage, query):
    """The export's rows, in the queue's order, made while the workbook is written: the records are read
    EXPORT_CHUNK at a time (yield_per: a server-side cursor on PostgreSQL) and each chunk goes through _rows
    (its 待分配 in one statement), so neither the records nor the rows are ever all in memory."""
    yes, no = _("Yes"), _("No")
    records = iter(query.yield_per(EXPORT_CHUNK))
    n = 0
    while chunk := list(islice(records, EXPORT_CHUNK)):
        for row in _rows(stage, chunk):
            n += 1
            record, overdue = row["record"], yes if row["overdue"] else no
            yield [n, row["enterprise"], row["item"], row["town"], row["status"], record.submitted_at or "", overdue]


def _cursor(value):
    """`before` of the 已审核 tab: "<iso time>_<id>"."""
    try:
        at, pk = (value or "").rsplit("_", 1)
        return (dt.datetime.fromisoformat(at), id_arg(pk)) if id_arg(pk) else None
    except (ValueError, TypeError):
        return None


class ReviewQueueView(BaseView):
    route_base = "/review"
    default_view = "queue"

    # --- the queue ---------------------------------------------------------------------------------
    @expose("/")
    @has_access
    def queue(self):
        stages = _stages_for(g.user)
        base = dict(
            title=_("Review workbench"),
            subjects=[(s.type, s.label) for s in stages],
            towns=self._town_filter_choices(),
            statuses=STATUS_FILTERS,
            args={k: v for k, v in request.args.items() if k not in ("page", "before")},
        )
        if not stages:
            # e.g. 专家 before any chain has an expert step: an empty workbench, not an error
            return self.render_template(
                "zsdx/review_queue.html",
                subject=None,
                stage=None,
                tab="pending",
                rows=[],
                total=0,
                page=1,
                pages=1,
                next_cursor=None,
                **base,
            )
        name = request.args.get("subject") or stages[0].type
        stage = _stage(name)
        tab = "done" if request.args.get("tab") == "done" else "pending"
        base["args"].update(subject=stage.type, tab=tab)
        if tab == "done":
            before = _cursor(request.args.get("before"))
            pairs, cursor = my_reviews_page(stage.model, g.user, before, PAGE_SIZE)
            rows = _rows(stage, [record for _a, record in pairs], [action for action, _r in pairs])
            return self.render_template(
                "zsdx/review_queue.html",
                subject=stage.type,
                stage=stage,
                tab=tab,
                rows=rows,
                total=None,
                page=1,
                pages=1,
                next_cursor=f"{cursor[0].isoformat()}_{cursor[1]}" if cursor else None,
                **base,
            )
        query = _pending(stage)
        page = min(max(request.args.get("page", 1, type=int) or 1, 1), COUNT_LIMIT // PAGE_SIZE)
        total = count_bounded(query, stage.model.id, COUNT_LIMIT)
        records = rows_of_page(query, (page - 1) * PAGE_SIZE, PAGE_SIZE) if total else []
        return self.render_template(
            "zsdx/review_queue.html",
            subject=stage.type,
            stage=stage,
            tab=tab,
            rows=_rows(stage, records),
            total=total,
            total_capped=total >= COUNT_LIMIT,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            next_cursor=None,
            **base,
        )

    def _town_filter_choices(self):
        """A 镇街 reviewer filters within its own town only; city-wide reviewers choose any town."""
        names = R.role_names(g.user)
        if names & {R.CITY, R.THIRD_PARTY, R.EXPERT, R.ADMIN} or g.user.town_id is None:
            return town_choices(blank=False)
        return [(g.user.town_id, town_name(g.user.town_id))]  # from the rows' town names: no statement of its own

    @expose("/export.xlsx")
    @has_access
    def export(self):
        """The filtered pending queue as .xlsx (every row, not only the page)."""
        stage = _stage(request.args.get("subject") or "")
        headers = [_("No."), _("Enterprise name"), str(stage.item_label or _("Project name")), _("Town")]
        headers += [_("Status"), _("Submitted at"), _("Overdue")]
        rows = _export_rows(stage, _pending(stage).limit(EXPORT_LIMIT))
        sheet = xlsx.Sheet(stage.label, headers, rows, widths=[6, 36, 36, 18, 22, 20, 8])
        return xlsx.download(_("Review queue"), [sheet])

    @expose("/bulk", methods=["POST"])
    @has_access
    def bulk(self):
        """Bulk 同意 of the selected rows: each goes through the engine as its own use case."""
        stage = _stage(request.form.get("subject") or "")
        ids = [int(x) for x in request.form.getlist("ids") if x.isdigit() and len(x) < 10][:200]
        try:  # a bad opinion is the same for every row: say so once instead of skipping them all
            opinion = check_opinion(request.form.get("opinion")) or _("Approved")
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("ReviewQueueView.queue", subject=stage.type))
        done, skipped = 0, 0
        for pk in ids:
            record = visible(stage.model).filter(stage.model.id == pk).one_or_none()
            if record is None:
                skipped += 1
                continue
            try:
                review(record, g.user, "approve", opinion)
                done += 1
            except WorkflowError:
                skipped += 1
        flash(
            _(
                "%(done)s approved; %(skipped)s skipped (handled by someone else or not yours)",
                done=done,
                skipped=skipped,
            ),
            "success" if done else "warning",
        )
        return redirect(url_for("ReviewQueueView.queue", subject=stage.type))

    # --- one record -------------------------------------------------------------------------------
    @expose("/<subject>/<int:pk>")
    @has_access
    def detail(self, subject, pk):
        stage = STAGES.get(subject)
        if stage is None:
            abort(404)
        options = stage.detail_options(stage.model) if stage.detail_options else ()
        record = get_visible_or_404(stage.model, pk, options=options)
        step = step_of(stage.chain, record.current_step) if record.status == ReviewStatus.REVIEWING else None
        may_assign = can_assign(g.user, record)
        context = stage.review_context(record) if stage.review_context else {}
        return self.render_template(
            "zsdx/review_detail.html",
            title=_("Review"),
            stage=stage,
            subject=stage.type,
            record=record,
            timeline=timeline(record),
            overdue=is_overdue(record),
            may_act=can_act(g.user, record, step) if step else False,
            allow_reject=bool(step and step.allow_reject),
            may_assign=may_assign,
            assigned=assignees(record) if step and step.scope == "assigned" else [],
            candidates=users_with_role(step.role).order_by(ZsdxUser.id).limit(200).all() if may_assign else [],
            status=stage.status_text(record),
            is_owner=False,
            **context,
        )

    @expose("/<subject>/<int:pk>/act", methods=["POST"])
    @has_access
    def act(self, subject, pk):
        stage = STAGES.get(subject)
        if stage is None:
            abort(404)
        record = get_visible_or_404(stage.model, pk)
        try:
            review(
                record,
                g.user,
                request.form.get("action"),
                request.form.get("opinion"),
                seen_version=request.form.get("version", type=int),
            )
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("ReviewQueueView.detail", subject=subject, pk=pk))
        flash(_("Done"), "success")
        return redirect(url_for("ReviewQueueView.queue", subject=subject))

    @expose("/<subject>/<int:pk>/assign", methods=["POST"])
    @has_access
    def assign(self, subject, pk):
        """The assigner (市工信) chooses the reviewers of an assigned step (e.g. two 验收专家)."""
        stage = STAGES.get(subject)
        if stage is None:
            abort(404)
        record = get_visible_or_404(stage.model, pk)
        ids = [int(x) for x in request.form.getlist("user_ids") if x.isdigit() and len(x) < 10][:50]
        users = db.session.query(ZsdxUser).filter(ZsdxUser.id.in_(ids)).all() if ids else []
        try:
            assign_reviewers(record, g.user, users)
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("ReviewQueueView.detail", subject=subject, pk=pk))
        flash(_("The reviewers have been assigned"), "success")
        return redirect(url_for("ReviewQueueView.detail", subject=subject, pk=pk))

    @expose("/<subject>/<int:pk>/file/<name>/<int:item>")
    @has_access
    def file(self, subject, pk, name, item):
        """A file of the record (declared by its stage), if the user may see the record."""
        stage = STAGES.get(subject)
        if stage is None or name not in stage.files:
            abort(404)
        record = get_visible_or_404(stage.model, pk)
        stored = stage.files[name](record, item)
        if stored is None:
            abort(404)
        return serve(stored, inline=request.args.get("inline") == "1")


def _parse_date(value):
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None
