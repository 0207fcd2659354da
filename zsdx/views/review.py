"""审核工作台 of 镇街 / 第三方 / 专家 / 市工信: one generic queue, detail and action screen for every
review chain (SPEC §3.1), with filters, bulk 同意 and .xlsx export."""

import datetime as dt
import io

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import filing as filing_rules
from ..access import visible_clause
from ..extensions import db
from ..files import serve
from ..models import Filing, InfoChangeAttachment, ReviewAction, ReviewStatus
from ..workflow import SUBJECTS, WorkflowError, act, can_act, chain, is_overdue, overdue_clause, timeline
from .account import town_choices

SUBJECT_LABELS = {"filing": _l("Project filing"), "info_change": _l("Enterprise information change")}
STATUS_FILTERS = [
    ("reviewing", _l("Under review")),
    ("returned", _l("Status: returned")),
    ("done", _l("Completed")),
    ("rejected", _l("Not approved")),
]
PAGE_SIZE = 20


def status_text(record):
    if record.chain_name == "filing":
        return filing_rules.status_label(record)
    if record.status == ReviewStatus.REVIEWING:
        return _("Pending review")
    return {
        ReviewStatus.DRAFT: _("To be submitted"),
        ReviewStatus.RETURNED: _("Status: returned"),
        ReviewStatus.DONE: _("Status: approved"),
        ReviewStatus.REJECTED: _("Not approved"),
    }[record.status]


def enterprise_name(record):
    return record.ent_name if isinstance(record, Filing) else record.organisation.name


def item_name(record):
    return record.project_name if isinstance(record, Filing) else record.name


class ReviewQueueView(BaseView):
    route_base = "/review"
    default_view = "queue"

    # --- the queue ---------------------------------------------------------------------------------
    def _subject(self):
        name = request.values.get("subject", "filing")
        if name not in SUBJECTS or not self._subjects_for_user():
            abort(404)
        if name not in self._subjects_for_user():
            name = self._subjects_for_user()[0]
        return SUBJECTS[name]

    def _subjects_for_user(self):
        roles = {r.name for r in g.user.roles}
        out = []
        for name, subject in SUBJECTS.items():
            if name in SUBJECT_LABELS and any(step.role in roles or "Admin" in roles for step in chain(subject.model.chain_name)):
                out.append(name)
        return out

    def _query(self, subject):
        model = subject.model
        tab = request.values.get("tab", "pending")
        query = db.session.query(model).filter(visible_clause(model, g.user, subject.type))
        if tab == "done":
            acted = select(ReviewAction.subject_id).where(
                ReviewAction.subject_type == subject.type, ReviewAction.actor_id == g.user.id
            )
            query = query.filter(model.id.in_(acted))
        else:
            from ..workflow import actionable_clause

            query = query.filter(actionable_clause(model, g.user))
        town = request.values.get("town", type=int)
        if town:
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
        options = [joinedload(model.town), joinedload(model.organisation)]
        return query.options(*options).order_by(model.submitted_at.desc(), model.id.desc()), tab

    @expose("/")
    @has_access
    def queue(self):
        if not self._subjects_for_user():
            # e.g. 专家 before any chain has an expert step: an empty workbench, not an error
            return self.render_template(
                "zsdx/review_queue.html", title=_("Review workbench"), subject=None, subjects=[], tab="pending",
                rows=[], total=0, page=1, pages=1, args={}, towns=[], statuses=STATUS_FILTERS,
            )
        subject = self._subject()
        query, tab = self._query(subject)
        page = max(request.args.get("page", 1, type=int), 1)
        total = query.order_by(None).with_entities(func.count(subject.model.id)).scalar()
        rows = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE).all()
        args = {k: v for k, v in request.args.items() if k != "page"}
        return self.render_template(
            "zsdx/review_queue.html",
            title=_("Review workbench"),
            subject=subject.type,
            subjects=[(s, SUBJECT_LABELS[s]) for s in self._subjects_for_user()],
            tab=tab,
            rows=[(r, is_overdue(r), status_text(r), enterprise_name(r), item_name(r)) for r in rows],
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            args=args,
            towns=self._town_filter_choices(),
            statuses=STATUS_FILTERS,
        )

    def _town_filter_choices(self):
        """A 镇街 reviewer filters within its own town only; city-wide reviewers choose any town."""
        roles = {r.name for r in g.user.roles}
        if roles & {"市工信", "第三方", "专家", "Admin"} or g.user.town_id is None:
            return town_choices(blank=False)
        return [(g.user.town_id, g.user.town.name)]

    @expose("/export.xlsx")
    @has_access
    def export(self):
        """The filtered queue as .xlsx (every row, not only the page)."""
        from openpyxl import Workbook

        subject = self._subject()
        query, _tab = self._query(subject)
        wb = Workbook()
        ws = wb.active
        ws.title = str(SUBJECT_LABELS[subject.type])[:30]
        ws.append([_("No."), _("Enterprise name"), _("Item"), _("Town"), _("Status"), _("Submitted at"), _("Overdue")])
        for i, r in enumerate(query.limit(50_000), start=1):
            ws.append(
                [
                    i,
                    enterprise_name(r),
                    item_name(r),
                    r.town.name if r.town else "",
                    status_text(r),
                    r.submitted_at.strftime("%Y-%m-%d %H:%M:%S") if r.submitted_at else "",
                    _("Yes") if is_overdue(r) else _("No"),
                ]
            )
        for col, width in zip("ABCDEFG", (6, 36, 36, 18, 22, 20, 8)):
            ws.column_dimensions[col].width = width
        buf = io.BytesIO()
        wb.save(buf)
        buf.seek(0)
        name = _("Review queue") + dt.datetime.now().strftime("-%Y%m%d%H%M") + ".xlsx"
        return send_file(
            buf,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=name,
        )

    @expose("/bulk", methods=["POST"])
    @has_access
    def bulk(self):
        """Bulk 同意 of the selected rows: each goes through the engine on its own."""
        subject = self._subject()
        ids = [int(x) for x in request.form.getlist("ids") if x.isdigit()]
        done, skipped = 0, 0
        for pk in ids:
            record = self._visible(subject, pk)
            if record is None:
                skipped += 1
                continue
            try:
                act(record, g.user, "approve", request.form.get("opinion") or _("Approved"))
                done += 1
            except WorkflowError:
                db.session.rollback()
                skipped += 1
        flash(_("%(done)s approved; %(skipped)s skipped (handled by someone else or not yours)", done=done, skipped=skipped),
              "success" if done else "warning")
        return redirect(url_for("ReviewQueueView.queue", subject=subject.type))

    # --- one record -------------------------------------------------------------------------------
    def _visible(self, subject, pk):
        model = subject.model
        return (
            db.session.query(model)
            .filter(model.id == pk, visible_clause(model, g.user, subject.type))
            .one_or_none()
        )

    @expose("/<subject>/<int:pk>")
    @has_access
    def detail(self, subject, pk):
        if subject not in SUBJECTS:
            abort(404)
        record = self._visible(SUBJECTS[subject], pk)
        if record is None:
            abort(404)
        template = "zsdx/review_filing.html" if subject == "filing" else "zsdx/review_info_change.html"
        return self.render_template(
            template,
            title=_("Review"),
            subject=subject,
            filing=record,
            record=record,
            rules=filing_rules,
            timeline=timeline(record),
            overdue=is_overdue(record),
            may_act=can_act(g.user, record),
            allow_reject=_allow_reject(record),
            is_owner=False,
            status=status_text(record),
            org=record.organisation,
        )

    @expose("/<subject>/<int:pk>/act", methods=["POST"])
    @has_access
    def act(self, subject, pk):
        if subject not in SUBJECTS:
            abort(404)
        record = self._visible(SUBJECTS[subject], pk)
        if record is None:
            abort(404)
        action = request.form.get("action")
        try:
            act(record, g.user, action, request.form.get("opinion"), seen_version=request.form.get("version", type=int))
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("ReviewQueueView.detail", subject=subject, pk=pk))
        flash(_("Done"), "success")
        return redirect(url_for("ReviewQueueView.queue", subject=subject))

    @expose("/info_change/<int:pk>/attachment/<int:att>")
    @has_access
    def attachment(self, pk, att):
        record = self._visible(SUBJECTS["info_change"], pk)
        if record is None:
            abort(404)
        return _serve_attachment(record, att)


def _allow_reject(record):
    from ..workflow import step_of

    step = step_of(record.chain_name, record.current_step) if record.current_step else None
    return bool(step and step.allow_reject)


def _serve_attachment(record, att_id):
    att = db.session.query(InfoChangeAttachment).filter_by(id=att_id, request_id=record.id).one_or_none()
    if att is None:
        abort(404)
    return serve(att.file, inline=request.args.get("inline") == "1")


def _parse_date(value):
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None

