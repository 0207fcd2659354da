"""事前诊断 screens: the enterprise's 【发起诊断】 / 【查看诊断报告】, the institution's task list with the
report upload, and 市工信's assignment queue."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from .. import diagnosis as rules
from ..extensions import db
from ..files import UploadError, serve
from ..inputs import parse_decimal
from ..models import DiagnosisMethod, PreDiagnosis, Project, ReviewStatus
from ..visibility import get_in_scope_or_404, get_owned_or_404, get_visible_or_404, in_scope, visible
from ..workflow import WorkflowError, can_act, review, timeline

LEVELS = [(1, "一级"), (2, "二级"), (3, "三级"), (4, "四级")]
BACK = {"group": "diagnosis", "tab": "pre_diagnosis"}


def _load(pk):
    return get_visible_or_404(
        PreDiagnosis,
        pk,
        options=[joinedload(PreDiagnosis.project).joinedload(Project.filing), joinedload(PreDiagnosis.institution)],
    )


def level_name(level):
    from ..assessment import get_index

    if level is None:
        return ""
    return get_index().level_names.get(int(level), "")


class DiagnosisView(BaseView):
    """The enterprise side of 事前诊断."""

    route_base = "/diagnosis"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return redirect(url_for("WorkbenchView.index", **BACK))

    @expose("/<int:pk>/start", methods=["POST"])
    @has_access
    def start(self, pk):
        """【发起诊断】 by the filing's 诊断方式."""
        record = get_owned_or_404(PreDiagnosis, pk)
        try:
            if record.method == DiagnosisMethod.SELF:
                rules.bind_self_assessment(record, g.user, request.form.get("result_id", type=int))
                flash(_("The self-assessment result has been bound as the pre-transformation level"), "success")
            elif record.method == DiagnosisMethod.INSTITUTION:
                rules.choose_institution(record, g.user, request.form.get("institution_id", type=int))
                flash(_("The diagnosis institution has been chosen; it will upload the diagnosis report"), "success")
            else:
                rules.request_city_assignment(record, g.user)
                flash(_("Waiting for the city bureau to assign a diagnosis institution"), "success")
        except WorkflowError as exc:
            flash(str(exc), "danger")
        return redirect(url_for("WorkbenchView.index", **BACK))

    @expose("/<int:pk>/report")
    @has_access
    def report(self, pk):
        """【查看诊断报告】: the report inline, level and score, 确认 / 退回修改."""
        record = _load(pk)
        return self.render_template(
            "zsdx/diagnosis_report.html",
            title=_("Diagnosis report"),
            record=record,
            status=rules.status_label(record),
            may_act=can_act(g.user, record),
            timeline=timeline(record),
            level_name=level_name,
        )

    @expose("/<int:pk>/report/file")
    @has_access
    def report_file(self, pk):
        record = _load(pk)
        if record.report_file is None:
            abort(404)
        return serve(record.report_file, inline=request.args.get("inline") == "1")

    @expose("/<int:pk>/confirm", methods=["POST"])
    @has_access
    def confirm(self, pk):
        """确认 / 退回修改 of the institution's report (engine actions of chain diagnosis_report)."""
        record = _load(pk)
        choice = request.form.get("decision")
        action = {"confirm": "approve", "return": "return"}.get(choice)
        if action is None:
            flash(_("Please choose confirm or return for revision"), "danger")
            return redirect(url_for("DiagnosisView.report", pk=pk))
        try:
            review(record, g.user, action, request.form.get("reason"))
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("DiagnosisView.report", pk=pk))
        flash(
            _("The diagnosis report has been confirmed")
            if action == "approve"
            else _("The report has been returned to the institution for revision"),
            "success",
        )
        return redirect(url_for("WorkbenchView.index", **BACK))


class InstitutionTaskView(BaseView):
    """评估机构: the diagnosis tasks assigned to the user's institution, and the report upload."""

    route_base = "/institution"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = (
            in_scope(PreDiagnosis, "institution")
            .options(joinedload(PreDiagnosis.project).joinedload(Project.filing), joinedload(PreDiagnosis.organisation))
            .order_by(PreDiagnosis.assigned_at.desc(), PreDiagnosis.id.desc())
            .all()
        )
        return self.render_template(
            "zsdx/institution_tasks.html",
            title=_("Diagnosis and assessment tasks"),
            rows=[(r, rules.status_label(r), _last_return(r)) for r in rows],
            levels=LEVELS,
            level_name=level_name,
        )

    @expose("/<int:pk>/report", methods=["POST"])
    @has_access
    def upload(self, pk):
        record = get_in_scope_or_404(PreDiagnosis, pk, "institution")
        level = request.form.get("level", type=int)
        # finite, 0–100, two places (reported_score is Numeric(6, 2)): no NaN, sNaN, Infinity or 1e999
        score, score_error = parse_decimal(
            request.form.get("score", ""), places=2, max_digits=6, minimum=0, maximum=100
        )
        errors = []
        if level not in dict(LEVELS):
            errors.append(_("Please choose the pre-transformation digital level"))
        if score_error:
            errors.append(_("The score must be a number from 0 to 100 with at most two decimal places"))
        storage = request.files.get("report")
        if not storage or not storage.filename:
            errors.append(_("Please upload the diagnosis report (PDF)"))
        if not errors:
            try:
                rules.upload_report(record, g.user, storage, level, score)
                flash(_("The diagnosis report has been submitted to the enterprise for confirmation"), "success")
                return redirect(url_for("InstitutionTaskView.index"))
            except (UploadError, WorkflowError) as exc:
                errors.append(str(exc))
        for message in errors:
            flash(message, "danger")
        return redirect(url_for("InstitutionTaskView.index", task=pk))


class DiagnosisAssignView(BaseView):
    """市工信: projects whose 诊断方式 is 市工信局分配, waiting for an institution."""

    route_base = "/diagnosis-assign"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = (
            visible(PreDiagnosis)
            .options(
                joinedload(PreDiagnosis.project).joinedload(Project.filing),
                joinedload(PreDiagnosis.organisation),
                joinedload(PreDiagnosis.institution),
            )
            .filter(PreDiagnosis.method == DiagnosisMethod.CITY, PreDiagnosis.started_at.isnot(None))
            .order_by(PreDiagnosis.institution_id.isnot(None), PreDiagnosis.started_at.desc())
            .limit(500)
            .all()
        )
        return self.render_template(
            "zsdx/diagnosis_assign.html",
            title=_("Assign diagnosis institutions"),
            rows=[(r, rules.status_label(r)) for r in rows],
            institutions=rules.institutions(),
        )

    @expose("/<int:pk>", methods=["POST"])
    @has_access
    def assign(self, pk):
        record = _load(pk)
        try:
            rules.assign_institution(record, g.user, request.form.get("institution_id", type=int))
            flash(_("The institution has been assigned"), "success")
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        return redirect(url_for("DiagnosisAssignView.index"))


def _last_return(record):
    if record.status != ReviewStatus.RETURNED:
        return ""
    rows = [t for t in timeline(record) if t["action"] == "return"]
    return rows[-1]["opinion"] if rows else ""
