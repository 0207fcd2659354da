"""事后评估 (manual 06, SPEC §3.6): opened when 改造中 is submitted (zsdx.implementation.open_next_stages).

【发起评估】 chooses the 评估方式: 评估机构评估 (one of the five 综合型服务机构; the 事前诊断's institution is the
default when it was a 综合型 one) or 市工信局分配 (市工信 assigns a 综合型服务机构). The institution uploads the
改造后评估报告 (PDF), 改造后数字化水平等级 and score; the enterprise 确认 (the level becomes the project's 改造后
level, also on its 改造完成 record) or 退回修改. The institution's part is the shared institution-report
machinery (zsdx/institution_reports.py), from the "post" kind declared here.

是否逾期: POST_ASSESSMENT_DEADLINE_DAYS after the later of 改造中's submission and the signing's planned
改造实施结束时间 (the assessment is of the finished transformation), until the enterprise confirms.
"""

import datetime as dt
from types import SimpleNamespace

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, update

from . import roles as R
from .extensions import db
from .institution_reports import (
    METHOD_CITY,
    METHOD_INSTITUTION,
    ReportKind,
    choose_institution,
    confirmed_values,
    institution_users,
    institutions,
    is_overdue,
    level_name,
    project_name,
    register_kind,
    request_city_assignment,
    status_label,
)
from .models import Completion, Filing, InstitutionType, PostAssessment, PreDiagnosis, Project, Signing
from .request_cache import LazyList
from .stages import Stage, WorkbenchTab, register_stage, register_tab
from .workflow import WorkflowError

# 评估方式 (manual 06: 评估机构评估 / 市工信局分配)
METHODS = [(METHOD_INSTITUTION, _l("Assessment by an institution")), (METHOD_CITY, _l("Assigned by the city bureau"))]
INSTITUTION_TYPES = (InstitutionType.COMPREHENSIVE,)  # the five 综合型服务机构


def deadline(record):
    start = record.created_at
    signing = record.project.signing
    if signing is not None and signing.end_date is not None:
        start = max(start, dt.datetime.combine(signing.end_date, dt.time.max))
    return start + dt.timedelta(days=current_app.config["POST_ASSESSMENT_DEADLINE_DAYS"])


def past_deadline(now):
    """`deadline` as SQL (PostAssessment outer-joined to its project's Signing): `now` is past it, counted from the
    later of its opening and the end of the planned 改造实施结束时间 (the 数据看板's 是否逾期)."""
    limit = now - dt.timedelta(days=current_app.config["POST_ASSESSMENT_DEADLINE_DAYS"])
    return and_(PostAssessment.created_at < limit, or_(Signing.end_date.is_(None), Signing.end_date < limit.date()))


def pre_institution(record):
    """The institution of the project's 事前诊断 (事前诊断机构名称), or None."""
    pre = record.project.pre_diagnosis
    return pre.institution if pre is not None else None


def default_institution_id(record):
    """The institution pre-selected in 【发起评估】: the 事前诊断's, when it is a 综合型服务机构 (manual 06)."""
    if record.institution_id:
        return record.institution_id
    inst = pre_institution(record)
    return inst.id if inst is not None and inst.institution_type in INSTITUTION_TYPES else None


def may_start(record):
    return record.started_at is None and record.assessed_at is None


def start(record, user, method, institution_id=None):
    """【发起评估】 【确认】: 评估机构评估 with the chosen 综合型服务机构, or 市工信局分配 (one transaction)."""
    if not may_start(record):
        raise WorkflowError(_("The assessment has already been started"))
    if method == METHOD_INSTITUTION:
        choose_institution(record, user, institution_id, method=method)
    elif method == METHOD_CITY:
        request_city_assignment(record, user, method=method)
    else:
        raise WorkflowError(_("Please choose the assessment method"))


def complete_report(record, actor):
    """The enterprise 确认: the institution's level becomes the project's 改造后 level (事后评估 and 改造完成)."""
    db.session.execute(update(PostAssessment).where(PostAssessment.id == record.id).values(**confirmed_values(record)))
    db.session.execute(
        update(Completion)
        .where(Completion.project_id == record.project_id)
        .values(level_after=record.reported_level)
        .execution_options(synchronize_session=False)
    )


def post_assessment_rows(user):
    """The 事后评估 tab of 我的工作台. The projects and their stages come in a second statement, by id: joined to
    the rows' own relations in one statement (8 tables), PostgreSQL took longer to plan it (~2.6 ms) than both
    statements take to plan and run (issue 12)."""
    from sqlalchemy.orm import joinedload, selectinload

    from .visibility import owned

    project = selectinload(PostAssessment.project)
    return (
        owned(PostAssessment, user)
        .options(
            project.joinedload(Project.filing),
            project.joinedload(Project.signing),
            project.joinedload(Project.pre_diagnosis).joinedload(PreDiagnosis.institution),
            joinedload(PostAssessment.institution),
            joinedload(PostAssessment.report_file),
        )
        .order_by(PostAssessment.created_at.desc(), PostAssessment.id.desc())
    )


def _tab_context(user):
    return {
        "methods": METHODS,
        "institutions": LazyList(lambda: institutions(INSTITUTION_TYPES)),  # read for a 发起评估 dialog only
        "level_name": level_name,
        "status_label": status_label,
        "is_overdue": is_overdue,
        "may_start": may_start,
        "pre_institution": pre_institution,
        "default_institution_id": default_institution_id,
    }


KIND = register_kind(
    ReportKind(
        key="post",
        model=PostAssessment,
        order=20,
        view="PostAssessmentView",
        workbench_tab="post_assessment",
        done_column="assessed_at",
        institution_types=INSTITUTION_TYPES,
        label=_l("Post-assessment"),
        status_header=_l("Assessment status"),
        statuses=(_l("To be assessed"), _l("Assessing"), _l("To be confirmed"), _l("Assessed")),
        report_label=_l("Post-transformation assessment report"),
        report_title=_l("Assessment report"),
        level_label=_l("Post-transformation digital level"),
        institution_label=_l("Assessment institution"),
        confirm_label=_l("Confirm the assessment report"),
        new_task=_l("New post-assessment task: %(project)s"),
        choose_institution=_l("Please choose one of the comprehensive service institutions"),
        already_started=_l("The assessment has already been started"),
        missing_level=_l("Please choose the post-transformation digital level"),
        missing_report=_l("Please upload the assessment report (PDF)"),
        uploaded=_l("The assessment report has been submitted to the enterprise for confirmation"),
        confirmed=_l("The assessment report has been confirmed"),
        deadline=deadline,
        dom_prefix="post-",
    )
)
register_stage(
    Stage(
        type="post_assessment_report",
        model=PostAssessment,
        label=_l("Post-assessment report"),
        title=lambda r: _("%(name)s post-assessment report", name=project_name(r)),
        owner_link=lambda r: url_for("InstitutionTaskView.index"),
        review_link=lambda r: url_for("PostAssessmentView.report", pk=r.id),
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
        key="post_assessment",
        label=_l("Post-assessment"),
        columns=[
            _l("No."),
            _l("Project name"),
            _l("Overdue"),
            _l("Assessment status"),
            _l("Pre-diagnosis institution"),
            _l("Post-transformation assessment report"),
            _l("Post-transformation digital level"),
            _l("Assessment institution"),
            _l("Operation"),
        ],
        order=20,
        rows=post_assessment_rows,
        template="zsdx/_tab_post_assessment.html",
        context=_tab_context,
    )
)


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import register_dashboard_part  # noqa: E402
from .institution_reports import dashboard_part  # noqa: E402


def _deadline_of_listed(since, step, end_date):
    """`deadline` of an overdue item (`since`: its opening, `end_date`: its signing's 改造实施结束时间)."""
    signing = SimpleNamespace(end_date=end_date)
    return deadline(SimpleNamespace(created_at=since, project=SimpleNamespace(signing=signing)))


register_dashboard_part(
    dashboard_part(
        KIND,
        key="post_assessment",
        order=60,
        past_deadline=past_deadline,
        since=PostAssessment.created_at,
        deadline=_deadline_of_listed,
        joins=lambda query: query.join(Signing, Signing.project_id == PostAssessment.project_id, isouter=True).join(
            Filing, Filing.project_id == PostAssessment.project_id, isouter=True
        ),
        end_date=Signing.end_date,
    )
)
