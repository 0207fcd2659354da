"""事前诊断 (manual 03, SPEC §3.3): starting a diagnosis by the filing's 诊断方式, binding a
self-assessment, the institution's report and its confirmation through the engine."""

import datetime as dt
import sys

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from . import roles as R
from .extensions import db
from .models import (
    AssessmentResult,
    DiagnosisMethod,
    InstitutionType,
    Organisation,
    OrgKind,
    PreDiagnosis,
    ReviewStatus,
    ZsdxUser,
)
from .stages import Stage, WorkbenchTab, register_stage, register_tab
from .workflow import WorkflowError, complete_without_review, submit, unit_of_work

LEVEL_SOURCE_SELF = "self"
LEVEL_SOURCE_INSTITUTION = "institution"


def status_label(record):
    """诊断状态: 待诊断 / 诊断中 / 待确认 / 已诊断."""
    if record.status == ReviewStatus.DONE or record.diagnosed_at:
        return _("Diagnosed")
    if record.status == ReviewStatus.REVIEWING:
        return _("To be confirmed")
    if record.institution_id or (record.method == DiagnosisMethod.CITY and record.started_at):
        return _("Diagnosing")
    return _("To be diagnosed")


def deadline(record):
    filing = record.project.filing
    if filing is None or filing.completed_at is None:
        return None
    return filing.completed_at + dt.timedelta(days=current_app.config["PRE_DIAGNOSIS_DEADLINE_DAYS"])


def is_overdue(record, now=None):
    limit = deadline(record)
    return limit is not None and not record.diagnosed_at and (now or dt.datetime.now()) > limit


def institutions(types=None):
    query = db.session.query(Organisation).filter(Organisation.kind == OrgKind.INSTITUTION)
    if types:
        query = query.filter(Organisation.institution_type.in_(types))
    return query.order_by(Organisation.institution_type, Organisation.id).all()


def bindable_results(org_id):
    """The enterprise's submitted self-assessment results, newest first."""
    return (
        db.session.query(AssessmentResult)
        .filter(AssessmentResult.organisation_id == org_id, AssessmentResult.submitted.is_(True))
        .order_by(AssessmentResult.submitted_at.desc(), AssessmentResult.id.desc())
        .all()
    )


def _claim(record, **values):
    """Change a not-yet-diagnosed record, guarded by its version (two tabs, two users)."""
    result = db.session.execute(
        update(PreDiagnosis)
        .where(
            PreDiagnosis.id == record.id,
            PreDiagnosis.version == record.version,
            PreDiagnosis.diagnosed_at.is_(None),
            PreDiagnosis.status.in_(ReviewStatus.EDITABLE),
        )
        .values(version=record.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise WorkflowError(_("This record has already been handled by someone else"))
    db.session.expire(record)


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


def choose_institution(record, user, institution_id):
    """诊断机构诊断: the enterprise picks a 诊断型 or 综合型 institution; the task appears in its queue."""
    if record.method != DiagnosisMethod.INSTITUTION:
        raise WorkflowError(_("This project does not use an institution of its own choice"))
    inst = db.session.get(Organisation, institution_id)
    if inst is None or inst.kind != OrgKind.INSTITUTION:
        raise WorkflowError(_("Please choose a diagnosis institution"))
    if record.institution_id:
        raise WorkflowError(_("An institution has already been chosen"))
    now = dt.datetime.now()
    with unit_of_work():
        _claim(record, institution_id=inst.id, assigned_at=now, started_at=now)
        _tell_institution(record, inst)


def request_city_assignment(record, user):
    """市工信局分配: the project enters the city's assignment queue."""
    if record.method != DiagnosisMethod.CITY:
        raise WorkflowError(_("This project does not wait for assignment by the city bureau"))
    if record.started_at:
        raise WorkflowError(_("The diagnosis has already been started"))
    with unit_of_work():
        _claim(record, started_at=dt.datetime.now())


def assign_institution(record, user, institution_id):
    """市工信 assigns the institution of a 市工信局分配 project."""
    inst = db.session.get(Organisation, institution_id)
    if inst is None or inst.kind != OrgKind.INSTITUTION:
        raise WorkflowError(_("Please choose a diagnosis institution"))
    if record.method != DiagnosisMethod.CITY or record.institution_id:
        raise WorkflowError(_("This record has already been handled by someone else"))
    with unit_of_work():
        now = dt.datetime.now()
        _claim(record, institution_id=inst.id, assigned_at=now, started_at=record.started_at or now)
        _tell_institution(record, inst)


def _tell_institution(record, inst):
    from .notifications import notify

    for member in db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == inst.id):
        notify(
            member,
            "todo",
            _("New pre-diagnosis task: %(project)s", project=project_name(record)),
            link=url_for("InstitutionTaskView.index"),
        )


def upload_report(record, user, storage, level, score):
    """The institution's 改造前诊断报告 (an uploaded PDF), level and score; submitted to the enterprise for
    确认. One transaction: the stored file, the values and the submission."""
    from .files import PDF, store_upload

    if user.organisation_id is None or record.institution_id != user.organisation_id:
        raise WorkflowError(_("This task is not assigned to your institution"))
    if record.status not in ReviewStatus.EDITABLE:
        raise WorkflowError(_("The report is waiting for the enterprise's confirmation"))
    with unit_of_work():
        stored = store_upload(storage, PDF, user.id)
        db.session.flush()
        record.report_file_id = stored.id
        record.reported_level = level
        record.reported_score = score
        db.session.flush()
        submit(record, user)


def project_name(record):
    filing = record.project.filing
    return filing.project_name if filing else ""


def complete_report(record, actor):
    """The enterprise 确认: the institution's level becomes the project's 改造前 level."""
    now = dt.datetime.now()
    db.session.execute(
        update(PreDiagnosis)
        .where(PreDiagnosis.id == record.id)
        .values(
            level=record.reported_level,
            score=record.reported_score,
            level_source=LEVEL_SOURCE_INSTITUTION,
            diagnosed_at=now,
        )
    )


def _institution_users(record):
    return db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == record.institution_id).all()


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
        .all()
    )


def _tab_context(user):
    from . import filing
    from .views.assessment import fmt2
    from .views.diagnosis import level_name

    return {
        "diag": sys.modules[__name__],
        "filing_rules": filing,
        "results": bindable_results(user.organisation_id),
        "institutions": institutions(),
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
        submitters=_institution_users,
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

COMPREHENSIVE = InstitutionType.COMPREHENSIVE
