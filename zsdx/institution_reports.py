"""Reports by an institution (评估机构) that the enterprise confirms: the 事前诊断's 改造前诊断报告 (manual 03)
and the 事后评估's 改造后评估报告 (manual 06) are the same round trip.

The owner has an institution chosen (by itself, or by 市工信 when its way is 市工信局分配); the institution
uploads its report (PDF), level and score, which submits the record into its one-step chain; the enterprise
确认 (the stage's `on_complete` takes the level) or 退回修改 (the institution uploads again).

A kind of report is declared once, as data (`register_kind(ReportKind(...))`, in its stage module). The use
cases below, the institution's task list, 市工信's assignment screen and the report page
(zsdx/views/institution_reports.py) serve every kind from its declaration, with no branch per kind.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import update

from .extensions import db
from .models import Organisation, OrgKind, ReviewAction, ReviewStatus, ZsdxUser
from .workflow import WorkflowError, submit, unit_of_work

# 评估方式 / 诊断方式 values shared by the kinds (PreDiagnosis.method also has "self")
METHOD_INSTITUTION = "institution"
METHOD_CITY = "city"
# 改造前 / 改造后数字化水平等级 an institution reports (the index's level names, short)
LEVELS = [(1, "一级"), (2, "二级"), (3, "三级"), (4, "四级")]


@dataclass(frozen=True)
class ReportKind:
    """What differs between two kinds of institution report."""

    key: str  # URL part of the shared screens ("pre", "post")
    model: type  # a ReviewableMixin model with method, started_at, institution_id, assigned_at, report_file,
    # reported_level, reported_score, organisation, project
    order: int  # position in the shared lists' kind order
    view: str  # the enterprise's view class (its report page, file and 确认 / 退回修改): "DiagnosisView"
    workbench_tab: str  # its tab of 我的工作台's 数字化诊断评估 group
    done_column: str  # set when the enterprise confirmed ("diagnosed_at")
    institution_types: tuple | None  # the institution types that may be chosen or assigned (None: every type)
    # labels and messages (lazy strings)
    label: object  # the task type: 事前诊断
    status_header: object  # 诊断状态
    statuses: tuple  # (待诊断, 诊断中, 待确认, 已诊断)
    report_label: object  # 改造前诊断报告
    report_title: object  # 诊断报告 (the report page's title)
    level_label: object  # 改造前数字化水平等级
    institution_label: object  # 诊断机构
    confirm_label: object  # 确认诊断报告
    new_task: object  # the institution's to-do, with %(project)s
    choose_institution: object  # the refusal of an institution that is not one of institution_types
    already_started: object
    missing_level: object
    missing_report: object
    uploaded: object  # the institution's flash after uploading
    confirmed: object  # the enterprise's flash after 确认
    deadline: Callable  # record -> the datetime after which it is overdue (是否逾期), or None
    dom_prefix: str = ""  # prefix of the kind's row and form ids in the shared lists

    def done(self, record):
        return record.status == ReviewStatus.DONE or getattr(record, self.done_column) is not None

    def endpoint(self, name):
        return f"{self.view}.{name}"

    def report_url(self, record):
        return url_for(self.endpoint("report"), pk=record.id)


KINDS: dict[str, ReportKind] = {}
_BY_MODEL: dict[type, ReportKind] = {}


def register_kind(kind):
    KINDS[kind.key] = kind
    _BY_MODEL[kind.model] = kind
    return kind


def kinds():
    return sorted(KINDS.values(), key=lambda k: k.order)


def kind_of(record_or_model):
    model = record_or_model if isinstance(record_or_model, type) else type(record_or_model)
    return _BY_MODEL[model]


def level_name(level):
    from .assessment import get_index

    if level is None:
        return ""
    return get_index().level_names.get(int(level), "")


def project_name(record):
    filing = record.project.filing
    return filing.project_name if filing else ""


# --- reading -----------------------------------------------------------------------------------------
def status_label(record):
    """The kind's 待诊断 / 诊断中 / 待确认 / 已诊断 (待评估 / 评估中 / 待确认 / 已评估)."""
    kind = kind_of(record)
    to_do, in_progress, to_confirm, done = kind.statuses
    if kind.done(record):
        return done
    if record.status == ReviewStatus.REVIEWING:
        return to_confirm
    if record.institution_id or (record.method == METHOD_CITY and record.started_at):
        return in_progress
    return to_do


def is_overdue(record, now=None):
    limit = kind_of(record).deadline(record)
    return limit is not None and not kind_of(record).done(record) and (now or dt.datetime.now()) > limit


def overdue_clause(kind, past_deadline):
    """is_overdue as SQL: a record of `kind` not done whose deadline is past (`past_deadline`: the kind's
    `deadline` rule as a SQL condition, kept next to it in the stage module)."""
    from sqlalchemy import and_

    return and_(~done_clause(kind), past_deadline)


def editable_by_institution(record):
    """The institution may upload (again): not submitted to the enterprise, not confirmed."""
    return record.status in ReviewStatus.EDITABLE and not kind_of(record).done(record)


def institutions(types=None):
    """Institutions, 诊断型 first (of `types` only, when given)."""
    query = db.session.query(Organisation).filter(Organisation.kind == OrgKind.INSTITUTION)
    if types:
        query = query.filter(Organisation.institution_type.in_(types))
    return query.order_by(Organisation.institution_type, Organisation.id).all()


def institutions_for(kind, every=None):
    """The institutions that may take a task of `kind` (from `every`, a list already loaded, when given)."""
    every = institutions() if every is None else every
    return [i for i in every if kind.institution_types is None or i.institution_type in kind.institution_types]


def last_returns(kind, records):
    """{record id: the opinion of its last 退回修改} of the returned records among `records` (one query)."""
    from .stages import stage_of

    ids = [r.id for r in records if r.status == ReviewStatus.RETURNED]
    if not ids:
        return {}
    rows = (
        db.session.query(ReviewAction.subject_id, ReviewAction.opinion)
        .filter(
            ReviewAction.subject_type == stage_of(kind.model).type,
            ReviewAction.subject_id.in_(ids),
            ReviewAction.action == "return",
        )
        .order_by(ReviewAction.created_at, ReviewAction.id)
        .all()
    )
    return {subject_id: opinion or "" for subject_id, opinion in rows}


def institution_users(record):
    """Who is told of the enterprise's 确认 / 退回修改: the users of the record's institution."""
    return db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == record.institution_id).all()


# --- use cases (one transaction each) ----------------------------------------------------------------
def _claim(record, **values):
    """Change a not-yet-confirmed record, guarded by its version (two tabs, two users)."""
    kind = kind_of(record)
    model = kind.model
    result = db.session.execute(
        update(model)
        .where(
            model.id == record.id,
            model.version == record.version,
            getattr(model, kind.done_column).is_(None),
            model.status.in_(ReviewStatus.EDITABLE),
        )
        .values(version=record.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise WorkflowError(_("This record has already been handled by someone else"))
    db.session.expire(record)


def _institution(kind, institution_id):
    inst = db.session.get(Organisation, institution_id) if isinstance(institution_id, int) else None
    if (
        inst is None
        or inst.kind != OrgKind.INSTITUTION
        or (kind.institution_types is not None and inst.institution_type not in kind.institution_types)
    ):
        raise WorkflowError(str(kind.choose_institution))
    return inst


def choose_institution(record, user, institution_id, method=None):
    """诊断机构诊断 / 评估机构评估: the owner picks an institution (of the kind's types); the task appears in the
    institution's list. `method`: the way chosen now (事后评估's 【发起评估】); else the record's own."""
    kind = kind_of(record)
    if (method or record.method) != METHOD_INSTITUTION:
        raise WorkflowError(_("This project does not use an institution of its own choice"))
    inst = _institution(kind, institution_id)
    if record.institution_id:
        raise WorkflowError(_("An institution has already been chosen"))
    now = dt.datetime.now()
    with unit_of_work():
        _claim(
            record, institution_id=inst.id, assigned_at=now, started_at=now, **({"method": method} if method else {})
        )
        _tell_institution(record, inst)


def request_city_assignment(record, user, method=None):
    """市工信局分配: the record enters 市工信's assignment queue."""
    if (method or record.method) != METHOD_CITY:
        raise WorkflowError(_("This project does not wait for assignment by the city bureau"))
    if record.started_at:
        raise WorkflowError(str(kind_of(record).already_started))
    with unit_of_work():
        _claim(record, started_at=dt.datetime.now(), **({"method": method} if method else {}))


def assign_institution(record, user, institution_id):
    """市工信 assigns the institution of a 市工信局分配 record."""
    kind = kind_of(record)
    inst = _institution(kind, institution_id)
    if record.method != METHOD_CITY or record.institution_id:
        raise WorkflowError(_("This record has already been handled by someone else"))
    with unit_of_work():
        now = dt.datetime.now()
        _claim(record, institution_id=inst.id, assigned_at=now, started_at=record.started_at or now)
        _tell_institution(record, inst)


def _tell_institution(record, inst):
    from .notifications import notify

    text = str(kind_of(record).new_task) % {"project": project_name(record)}
    for member in db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == inst.id):
        notify(member, "todo", text, link=url_for("InstitutionTaskView.index"))


def upload_report(record, user, storage, level, score):
    """The institution's report (an uploaded PDF), level and score, submitted to the enterprise for 确认.
    One transaction: the stored file, the values and the submission."""
    from .files import PDF, store_upload

    if user.organisation_id is None or record.institution_id != user.organisation_id:
        raise WorkflowError(_("This task is not assigned to your institution"))
    if kind_of(record).done(record):
        raise WorkflowError(_("The enterprise has already confirmed the report"))
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


def confirmed_values(record):
    """What 确认 writes on every kind: the reported level and score become the record's, and its done time."""
    return {
        "level": record.reported_level,
        "score": record.reported_score,
        kind_of(record).done_column: dt.datetime.now(),
    }


# --- the same rules as SQL (数据看板: zsdx/dashboard_parts.py) ---------------------------------------------
# status_label's categories, in the order of ReportKind.statuses, ranked in the dashboard's rows
CATEGORIES = ("todo", "progress", "confirm", "done")
CATEGORY_RANKS = {"todo": 0, "progress": 1, "confirm": 2, "done": 6}


def done_clause(kind):
    """ReportKind.done as SQL."""
    from sqlalchemy import or_

    model = kind.model
    return or_(model.status == ReviewStatus.DONE, getattr(model, kind.done_column).isnot(None))


def category_clause(kind):
    """status_label as SQL: a record's category ("todo" 待诊断, "progress" 诊断中, "confirm" 待确认, "done" 已诊断)."""
    from sqlalchemy import and_, case, or_

    from .dashboard_parts import constant

    model = kind.model
    return case(
        (done_clause(kind), constant("done")),
        (model.status == ReviewStatus.REVIEWING, constant("confirm")),
        (
            or_(model.institution_id.isnot(None), and_(model.method == METHOD_CITY, model.started_at.isnot(None))),
            constant("progress"),
        ),
        else_=constant("todo"),
    )


def category_label(kind, category):
    """The kind's name of a category (category_clause's value): 待诊断 / 诊断中 / 待确认 / 已诊断."""
    return kind.statuses[CATEGORIES.index(category)]


def dashboard_part(kind, key, order, past_deadline, since, deadline, joins, end_date=None):
    """The 数据看板 row of a kind: its projects per status and its overdue records (is_overdue, from the stage
    module's `deadline` rule: `past_deadline` (now -> its SQL twin), `since` (the column the wait counts from),
    `deadline` ((since, step, end_date) -> the Python rule fed those), `joins` (what the twin reads)). The overdue
    list opens a record on its report page for 市工信 (who assigns the institutions), else on the project's
    filing."""
    from flask import url_for

    from .dashboard_parts import DashboardPart, Overdue

    return DashboardPart(
        key=key,
        order=order,
        label=kind.label,
        model=kind.model,
        status=category_clause(kind),
        status_text=lambda record: category_label(kind, record.status),
        ranks=CATEGORY_RANKS,
        overdue=Overdue(
            where=lambda now: overdue_clause(kind, past_deadline(now)),
            since=since,
            deadline=deadline,
            joins=joins,
            end_date=end_date,
            link=lambda item, citywide: url_for(kind.endpoint("report"), pk=item.id) if citywide else None,
        ),
    )
