"""事后评估 screens of the enterprise: 【发起评估】 (评估方式, 评估机构名称), and the report page
(【查看评估报告】 / 【确认评估报告】, 确认 / 退回修改) shared with every institution report
(views/institution_reports.py, which also holds the institution's task list and 市工信's assignment queue)."""

from flask import flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import post_assessment as rules
from ..institution_reports import METHOD_CITY
from ..models import PostAssessment
from ..visibility import get_owned_or_404
from ..workflow import WorkflowError
from .institution_reports import InstitutionReportView


class PostAssessmentView(InstitutionReportView):
    """The enterprise side of 事后评估."""

    screen_label = _l("Post-assessment")  # its name in 角色管理

    route_base = "/post-assessment"
    default_view = "index"
    kind = "post"

    @expose("/")
    @has_access
    def index(self):
        return redirect(self.back())

    @expose("/<int:pk>/start", methods=["POST"])
    @has_access
    def start(self, pk):
        """【发起评估】 【确认】."""
        record = get_owned_or_404(PostAssessment, pk)
        method = request.form.get("method")
        try:
            rules.start(record, g.user, method, request.form.get("institution_id", type=int))
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(self.back())
        flash(
            _("Waiting for the city bureau to assign an assessment institution")
            if method == METHOD_CITY
            else _("The assessment institution has been chosen; it will upload the assessment report"),
            "success",
        )
        return redirect(self.back())
