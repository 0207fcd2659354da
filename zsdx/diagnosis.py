"""事前诊断 (manual 03, SPEC §3.3): starting a diagnosis by the filing's 诊断方式, binding a
self-assessment, the institution's report and its confirmation through the engine.

The institution's part (choosing or assigning the institution, its upload, the task list, 市工信's
assignment queue) is shared with 事后评估: zsdx/institution_reports.py, from the "pre" kind declared here."""

import datetime as dt
import sys
from types import SimpleNamespace

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, update

from . import roles as R
from .extensions import db
from .institution_reports import (  # noqa: F401  (the 事前诊断 use cases and readers, as they were named here)
    ReportKind,
    assign_institution,
    choose_institution,
    institution_users,
    institutions,
    is_overdue,
    level_name,
    project_name,
    register_kind,
    request_city_assignment,
    status_label,
    upload_report,
)
from .models import AssessmentResult, DiagnosisMethod, Filing, InstitutionType, PreDiagnosis
from .request_cache import LazyList
from .stages import Stage, WorkbenchTab, register_stage, register_tab
from .workflow import WorkflowError, complete_without_review, unit_of_work

LEVEL_SOURCE_SELF = "self"
LEVEL_SOURCE_INSTITUTION = "institution"


def deadline(record):
    filing = record.project.filing
    if filing is None or filing.completed_at is None:
        return None
    return filing.completed_at + dt.timedelta(days=current_app.config["PRE_DIAGNOSIS_DEADLINE_DAYS"])


def past_deadline(now):
    """`deadline` as SQL (PreDiagnosis joined to its Filing): `now` is past it (the 数据看板's 是否逾期)."""
    days = current_app.config["PRE_DIAGNOSIS_DEADLINE_DAYS"]
    return and_(Filing.completed_at.isnot(None), Filing.completed_at < now - dt.timedelta(days=days))


def bindable_results(org_id):
    """The enterprise's submitted self-assessment results, newest first."""
    return (
        db.session.query(AssessmentResult)
        .filter(AssessmentResult.organisation_id == org_id, AssessmentResult.submitted.is_(True))
        .order_by(AssessmentResult.submitted_at.desc(), AssessmentResult.id.desc())
        .all()
    )


def bind_self_assessment(record, user, result_id):
    """自诊断 【确认】: one of the enterprise's own submitted results becomes the 改造前 level."""
    if record.method != DiagnosisMethod.SELF:
        raise WorkflowError(_("This project was filed for diagnosis by an institution"))
    result = (
        db.session.query(AssessmentResult)
        .filter_by(id=result_id, organisation_id=record.organisation_id, submitted=True)
        .one_or_none()
    )
    if result is None:
        raise WorkflowError(_("Please choose one of your submitted assessment results"))
    now = dt.datetime.now()
    with unit_of_work():
        complete_without_review(
            record,
            user,
            assessment_id=result.id,
            level=result.level,
            score=result.total,
            level_source=LEVEL_SOURCE_SELF,
            started_at=record.started_at or now,
            diagnosed_at=now,
        )


def complete_report(record, actor):
    """The enterprise 确认: the institution's level becomes the project's 改造前 level."""
    from .institution_reports import confirmed_values

    db.session.execute(
        update(PreDiagnosis)
        .where(PreDiagnosis.id == record.id)
        .values(level_source=LEVEL_SOURCE_INSTITUTION, **confirmed_values(record))
    )


def may_start(record):
    """【开始诊断】 is offered: the diagnosis is neither started nor done, or it is a 自诊断 not yet bound."""
    return not record.diagnosed_at and (not record.started_at or record.method == DiagnosisMethod.SELF)


def pre_diagnosis_rows(user):
    """The 事前诊断 tab of 我的工作台."""
    from sqlalchemy.orm import joinedload

    from .models import Project
    from .visibility import owned

    return (
        owned(PreDiagnosis, user)
        .options(
            joinedload(PreDiagnosis.project).joinedload(Project.filing),
            joinedload(PreDiagnosis.institution),
            joinedload(PreDiagnosis.report_file),
        )
        .order_by(PreDiagnosis.created_at.desc(), PreDiagnosis.id.desc())
    )


def _tab_context(user):
    from . import filing
    from .views.assessment import fmt2

    return {
        "diag": sys.modules[__name__],
        "filing_rules": filing,
        # read only when a row's 开始诊断 dialog is shown (most rows of a working enterprise are diagnosed)
        "results": LazyList(lambda: bindable_results(user.organisation_id)),
        "institutions": LazyList(institutions),
        "level_name": level_name,
        "fmt2": fmt2,
    }


register_stage(
    Stage(
        type="diagnosis_report",
        model=PreDiagnosis,
        label=_l("Pre-diagnosis report"),
        title=lambda r: _("%(name)s pre-diagnosis report", name=project_name(r)),
        owner_link=lambda r: url_for("InstitutionTaskView.index"),
        review_link=lambda r: url_for("DiagnosisView.report", pk=r.id),
        item_name=project_name,
        status_text=status_label,
        on_complete=complete_report,
        submitters=institution_users,
        # the institution works on its task before submitting; the city assigns institutions
        viewers=((R.INSTITUTION, "institution", True), (R.CITY, "city", True)),
        in_review_queue=False,
    )
)
register_tab(
    WorkbenchTab(
        group="diagnosis",
        key="pre_diagnosis",
        label=_l("Pre-diagnosis"),
        columns=[
            _l("No."),
            _l("Project name"),
            _l("Overdue"),
            _l("Diagnosis status"),
            _l("Pre-transformation diagnosis report"),
            _l("Pre-transformation digital level"),
            _l("Diagnosis institution"),
            _l("Operation"),
        ],
        order=10,
        rows=pre_diagnosis_rows,
        template="zsdx/_tab_pre_diagnosis.html",
        context=_tab_context,
    )
)

register_kind(
    ReportKind(
        key="pre",
        model=PreDiagnosis,
        order=10,
        view="DiagnosisView",
        workbench_tab="pre_diagnosis",
        done_column="diagnosed_at",
        institution_types=None,  # 诊断型 or 综合型
        label=_l("Pre-diagnosis"),
        status_header=_l("Diagnosis status"),
        statuses=(_l("To be diagnosed"), _l("Diagnosing"), _l("To be confirmed"), _l("Diagnosed")),
        report_label=_l("Pre-transformation diagnosis report"),
        report_title=_l("Diagnosis report"),
        level_label=_l("Pre-transformation digital level"),
        institution_label=_l("Diagnosis institution"),
        confirm_label=_l("Confirm the diagnosis report"),
        new_task=_l("New pre-diagnosis task: %(project)s"),
        choose_institution=_l("Please choose a diagnosis institution"),
        already_started=_l("The diagnosis has already been started"),
        missing_level=_l("Please choose the pre-transformation digital level"),
        missing_report=_l("Please upload the diagnosis report (PDF)"),
        uploaded=_l("The diagnosis report has been submitted to the enterprise for confirmation"),
        confirmed=_l("The diagnosis report has been confirmed"),
        deadline=deadline,
    )
)

COMPREHENSIVE = InstitutionType.COMPREHENSIVE


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import register_dashboard_part  # noqa: E402
from .institution_reports import dashboard_part, kind_of  # noqa: E402


def _deadline_of_listed(since, step, end_date):
    """`deadline` of an overdue item (`since`: its filing's completion)."""
    return deadline(SimpleNamespace(project=SimpleNamespace(filing=SimpleNamespace(completed_at=since))))


register_dashboard_part(
    dashboard_part(
        kind_of(PreDiagnosis),
        key="pre_diagnosis",
        order=20,
        past_deadline=past_deadline,
        since=Filing.completed_at,
        deadline=_deadline_of_listed,
        joins=lambda query: query.join(Filing, Filing.project_id == PreDiagnosis.project_id),
    )
)
