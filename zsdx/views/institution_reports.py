"""The screens every kind of institution report shares (zsdx/institution_reports.py): the enterprise's report
page (预览, download, 确认 / 退回修改) as a base class each kind's own view extends, the institution's task list
with the upload, and 市工信's assignment queue. Labels, institutions offered and links come from the kinds'
declarations; nothing here names a kind."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import joinedload

from .. import institution_reports as reports
from ..extensions import db
from ..files import UploadError, serve
from ..inputs import parse_decimal
from ..models import Project
from ..paging import COUNT_LIMIT, Page, count_rows, requested_page
from ..visibility import get_in_scope_or_404, get_visible_or_404, in_scope, visible
from ..workflow import WorkflowError, can_act, review, timeline

# The kind of the addresses that carried no kind before 事后评估 joined (/institution/<pk>/report,
# /diagnosis-assign/<pk>): kept working for what was built on them.
FIRST_KIND = "pre"


def _kind(key):
    kind = reports.KINDS.get(key)
    if kind is None:
        abort(404)
    return kind


def _options(model):
    return [joinedload(model.project).joinedload(Project.filing), joinedload(model.institution)]


class InstitutionReportView(BaseView):
    """The enterprise's side of one kind of report (a subclass sets `kind`): the report page with the PDF
    inline, the file, and 确认 / 退回修改 (engine actions of the kind's one-step chain)."""

    kind = ""  # a key of institution_reports.KINDS

    @property
    def report_kind(self):
        return reports.KINDS[self.kind]

    def back(self):
        return url_for("WorkbenchView.index", group="diagnosis", tab=self.report_kind.workbench_tab)

    def load(self, pk):
        model = self.report_kind.model
        return get_visible_or_404(model, pk, options=_options(model))

    @expose("/<int:pk>/report")
    @has_access
    def report(self, pk):
        """【查看报告】 / 【确认报告】: the report inline, level and score, 确认 / 退回修改."""
        record = self.load(pk)
        kind = self.report_kind
        return self.render_template(
            "zsdx/institution_report.html",
            title=str(kind.report_title),
            kind=kind,
            record=record,
            status=reports.status_label(record),
            may_act=can_act(g.user, record),
            timeline=timeline(record),
            level_name=reports.level_name,
        )

    @expose("/<int:pk>/report/file")
    @has_access
    def report_file(self, pk):
        record = self.load(pk)
        if record.report_file is None:
            abort(404)
        return serve(record.report_file, inline=request.args.get("inline") == "1")

    @expose("/<int:pk>/confirm", methods=["POST"])
    @has_access
    def confirm(self, pk):
        """确认 / 退回修改 of the institution's report (a reason is required to return it)."""
        record = self.load(pk)
        report_page = url_for(self.report_kind.endpoint("report"), pk=pk)
        action = {"confirm": "approve", "return": "return"}.get(request.form.get("decision"))
        if action is None:
            flash(_("Please choose confirm or return for revision"), "danger")
            return redirect(report_page)
        try:
            review(record, g.user, action, request.form.get("reason"))
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(report_page)
        flash(
            str(self.report_kind.confirmed)
            if action == "approve"
            else _("The report has been returned to the institution for revision"),
            "success",
        )
        return redirect(self.back())


def _union_page(sources, columns, order, options, presort=None):
    """One page (zsdx.paging.Page of (kind, record)) of the records of several kinds as one list.

    `sources`: [(kind, query of its visible records, *extra)] (a kind may come more than once, e.g. split
    by a condition); `columns(kind, model, *extra)`: the sort columns of a source (labelled alike);
    `order(union)`: the ORDER BY over the union's columns (kind, id and those). One bounded COUNT, one
    statement for the page's (kind, id)s, then one per kind for the page's records.

    `presort(kind, model)`, if given, is the order of each source's rows that `order` keeps within that
    source (e.g. `order` is (a constant of the source, started_at DESC, id DESC, kind) and `presort` is
    (started_at DESC, id DESC)): each source then gives only its first offset + 20 rows in that order, read
    from an index, instead of the whole union being sorted for one page."""
    parts = [
        query.with_entities(
            literal(kind.key).label("kind"), kind.model.id.label("id"), *columns(kind, kind.model, *extra)
        )
        for kind, query, *extra in sources
    ]
    union = union_all(*[part.statement for part in parts]).subquery()
    # counted over the sources' keys alone: a union of the full parts made PostgreSQL project every column of
    # every counted row (the 分配评估机构 count of 10,000 index entries: 4.6 ms, 3.2 ms so)
    total = count_rows(union_all(*[query.with_entities(kind.model.id).statement for kind, query, *_x in sources]))
    page = Page([], total, requested_page(), capped=total >= COUNT_LIMIT)
    if presort is not None:
        heads = [
            part.order_by(*presort(kind, kind.model)).limit(page.offset + page.per_page).subquery()
            for (kind, *_rest), part in zip(sources, parts)
        ]
        union = union_all(*[select(*head.c) for head in heads]).subquery()
    keys = (
        db.session.execute(
            select(union.c.kind, union.c.id).order_by(*order(union)).offset(page.offset).limit(page.per_page)
        ).all()
        if total
        else []
    )
    loaded = {}
    for kind in {source[0].key: source[0] for source in sources}.values():
        ids = [pk for key, pk in keys if key == kind.key]
        if ids:
            model = kind.model
            for record in db.session.query(model).options(*options(model)).filter(model.id.in_(ids)):
                loaded[(kind.key, record.id)] = (kind, record)
    page.items = [loaded[key] for key in map(tuple, keys) if key in loaded]
    return page


def _by_kind(page):
    """[(kind, [its records on the page])] in the kinds' order."""
    groups = {}
    for kind, record in page:
        groups.setdefault(kind.key, (kind, []))[1].append(record)
    return list(groups.values())


def _parse_report_form(kind):
    """(level, score, file, errors) of the institution's upload form."""
    errors = []
    level = dict((str(v), v) for v, _label in reports.LEVELS).get((request.form.get("level") or "").strip())
    if level is None:
        errors.append(str(kind.missing_level))
    # finite, 0–100, two places (reported_score is Numeric(6, 2)): no NaN, sNaN, Infinity or 1e999
    score, score_error = parse_decimal(request.form.get("score", ""), places=2, max_digits=6, minimum=0, maximum=100)
    if score_error:
        errors.append(_("The score must be a number from 0 to 100 with at most two decimal places"))
    else:
        score += 0  # "-0" is 0
    storage = request.files.get("report")
    if not storage or not storage.filename:
        errors.append(str(kind.missing_report))
    return level, score, storage, errors


class InstitutionTaskView(BaseView):
    """评估机构: every kind of task assigned to the user's institution, and the report upload."""

    route_base = "/institution"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        # every kind's tasks in one list, newest assignment first, paged in SQL (20 a page); each kind gives its
        # first rows of that order from its index (institution_id, assigned_at, id), read backwards. A task
        # has its assigned_at from the moment it has an institution (institution_reports: _claim).
        page = _union_page(
            [(kind, in_scope(kind.model, "institution")) for kind in reports.kinds()],
            lambda kind, model: [model.assigned_at.label("at")],
            lambda u: [u.c.at.desc(), u.c.id.desc(), u.c.kind],
            lambda model: [joinedload(model.project).joinedload(Project.filing), joinedload(model.organisation)],
            presort=lambda kind, model: [model.assigned_at.desc(), model.id.desc()],
        )
        returns = {}  # the last 退回修改 opinion of the page's returned tasks: one statement per kind at most
        for kind, records in _by_kind(page):
            returns.update({(kind.key, pk): text for pk, text in reports.last_returns(kind, records).items()})
        rows = [
            (kind, r, reports.status_label(r), returns.get((kind.key, r.id), ""), reports.editable_by_institution(r))
            for kind, r in page
        ]
        return self.render_template(
            "zsdx/institution_tasks.html",
            title=_("Diagnosis and assessment tasks"),
            rows=rows,
            page=page,
            levels=reports.LEVELS,
        )

    @expose("/<int:pk>/report", methods=["POST"])
    @expose("/<kind>/<int:pk>/report", methods=["POST"])
    @has_access
    def upload(self, pk, kind=FIRST_KIND):
        kind = _kind(kind)
        record = get_in_scope_or_404(kind.model, pk, "institution")
        level, score, storage, errors = _parse_report_form(kind)
        if not errors:
            try:
                reports.upload_report(record, g.user, storage, level, score)
                flash(str(kind.uploaded), "success")
                return redirect(url_for("InstitutionTaskView.index"))
            except (UploadError, WorkflowError) as exc:
                errors.append(str(exc))
        for message in errors:
            flash(message, "danger")
        return redirect(url_for("InstitutionTaskView.index", task=f"{kind.dom_prefix}{pk}"))


class DiagnosisAssignView(BaseView):
    """市工信: the records of every kind whose way is 市工信局分配, waiting for an institution."""

    route_base = "/diagnosis-assign"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        every = reports.institutions()
        # waiting ones first, then the newest; every kind in one list, paged in SQL (20 a page)
        # each kind twice, waiting and assigned, so that each part is read in order from the index
        # (method, started_at, id, institution_id) and only its first rows up to the page are sorted
        page = _union_page(
            [
                (
                    kind,
                    visible(kind.model).filter(
                        kind.model.method == reports.METHOD_CITY,
                        kind.model.started_at.isnot(None),
                        kind.model.institution_id.is_(None) if assigned == 0 else kind.model.institution_id.isnot(None),
                    ),
                    assigned,
                )
                for assigned in (0, 1)
                for kind in reports.kinds()
            ],
            lambda kind, model, assigned: [literal(assigned).label("assigned"), model.started_at.label("at")],
            lambda u: [u.c.assigned, u.c.at.desc(), u.c.id.desc(), u.c.kind],
            lambda model: [*_options(model), joinedload(model.organisation)],
            presort=lambda kind, model: [model.started_at.desc(), model.id.desc()],
        )
        offered = {kind.key: reports.institutions_for(kind, every) for kind in reports.kinds()}
        rows = [(kind, r, reports.status_label(r), offered[kind.key]) for kind, r in page]
        return self.render_template(
            "zsdx/diagnosis_assign.html",
            title=_("Assign diagnosis and assessment institutions"),
            rows=rows,
            page=page,
        )

    @expose("/<int:pk>", methods=["POST"])
    @expose("/<kind>/<int:pk>", methods=["POST"])
    @has_access
    def assign(self, pk, kind=FIRST_KIND):
        kind = _kind(kind)
        record = get_visible_or_404(kind.model, pk, options=_options(kind.model))
        try:
            reports.assign_institution(record, g.user, request.form.get("institution_id", type=int))
            flash(_("The institution has been assigned"), "success")
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        return redirect(url_for("DiagnosisAssignView.index"))
