"""事前诊断 (manual 03, SPEC §3.3): starting a diagnosis by the filing's 诊断方式, binding a
self-assessment, the institution's report and its confirmation through the engine."""

import datetime as dt

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import update

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
from .workflow import Subject, WorkflowError, register_subject, submit

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
        db.session.rollback()
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
    _claim(
        record,
        assessment_id=result.id,
        level=result.level,
        score=result.total,
        level_source=LEVEL_SOURCE_SELF,
        started_at=record.started_at or now,
        diagnosed_at=now,
        status=ReviewStatus.DONE,
        completed_at=now,
    )
    db.session.commit()


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
    _claim(record, institution_id=inst.id, assigned_at=now, started_at=now)
    _tell_institution(record, inst)
    db.session.commit()


def request_city_assignment(record, user):
    """市工信局分配: the project enters the city's assignment queue."""
    if record.method != DiagnosisMethod.CITY:
        raise WorkflowError(_("This project does not wait for assignment by the city bureau"))
    if record.started_at:
        raise WorkflowError(_("The diagnosis has already been started"))
    _claim(record, started_at=dt.datetime.now())
    db.session.commit()


def assign_institution(record, user, institution_id):
    """市工信 assigns the institution of a 市工信局分配 project."""
    inst = db.session.get(Organisation, institution_id)
    if inst is None or inst.kind != OrgKind.INSTITUTION:
        raise WorkflowError(_("Please choose a diagnosis institution"))
    if record.method != DiagnosisMethod.CITY or record.institution_id:
        raise WorkflowError(_("This record has already been handled by someone else"))
    _claim(record, institution_id=inst.id, assigned_at=dt.datetime.now(), started_at=record.started_at or dt.datetime.now())
    _tell_institution(record, inst)
    db.session.commit()


def _tell_institution(record, inst):
    from .notifications import notify

    for member in db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == inst.id):
        notify(
            member,
            "todo",
            _("New pre-diagnosis task: %(project)s", project=project_name(record)),
            link=url_for("InstitutionTaskView.index"),
        )


def upload_report(record, user, stored_file, level, score):
    """The institution's 改造前诊断报告, level and score; submitted to the enterprise for 确认."""
    if user.organisation_id is None or record.institution_id != user.organisation_id:
        raise WorkflowError(_("This task is not assigned to your institution"))
    if record.status not in ReviewStatus.EDITABLE:
        raise WorkflowError(_("The report is waiting for the enterprise's confirmation"))
    record.report_file_id = stored_file.id
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
        .values(level=record.reported_level, score=record.reported_score, level_source=LEVEL_SOURCE_INSTITUTION, diagnosed_at=now)
    )


def _institution_users(record):
    return db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == record.institution_id).all()


register_subject(
    Subject(
        type="diagnosis_report",
        model=PreDiagnosis,
        title=lambda r: _("%(name)s pre-diagnosis report", name=project_name(r)),
        owner_link=lambda r: url_for("InstitutionTaskView.index"),
        review_link=lambda r: url_for("DiagnosisView.report", pk=r.id),
        on_complete=complete_report,
        submitters=_institution_users,
    )
)

COMPREHENSIVE = InstitutionType.COMPREHENSIVE
