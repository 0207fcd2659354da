"""事前诊断 screens of the enterprise: 【发起诊断】 by the filing's 诊断方式, and the report page
(【查看诊断报告】, 确认 / 退回修改) shared with every institution report (views/institution_reports.py, which
also holds the institution's task list and 市工信's assignment queue)."""

from flask import flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from .. import diagnosis as rules
from ..models import DiagnosisMethod, PreDiagnosis
from ..visibility import get_owned_or_404
from ..workflow import WorkflowError
from .institution_reports import InstitutionReportView


class DiagnosisView(InstitutionReportView):
    """The enterprise side of 事前诊断."""

    route_base = "/diagnosis"
    default_view = "index"
    kind = "pre"

    @expose("/")
    @has_access
    def index(self):
        return redirect(self.back())

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
        return redirect(self.back())
