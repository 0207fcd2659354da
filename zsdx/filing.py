"""项目备案 (manual 02, SPEC §3.2): the form's rules, the 备案号, the completion hook, revisions."""

import datetime as dt
import json
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import Filing, FilingCounter, FilingRevision, PreDiagnosis, Project, ReviewStatus, Signing
from .stages import Stage, WorkbenchTab, register_stage, register_tab

ENT_NATURES = [
    ("state", _l("State-owned")),
    ("private", _l("Private")),
    ("foreign", _l("Foreign-funded")),
    ("mixed", _l("Mixed ownership")),
    ("other", _l("Other")),
]
ENT_CATEGORIES = [
    ("above", _l("Industrial enterprise above designated size")),
    ("below", _l("Industrial enterprise below designated size")),
]
ENT_SCALES = [("medium", _l("Medium enterprise")), ("small", _l("Small enterprise")), ("micro", _l("Micro enterprise"))]
QUALITY_LEVELS = [
    ("innovative", _l("Innovative SME")),
    ("specialised", _l("Specialised, refined, distinctive and innovative SME")),
    ("little_giant", _l("Specialised and innovative 'little giant' enterprise")),
    ("none", _l("None")),
]
TARGET_LEVELS = [("2", _l("Level 2")), ("3", _l("Level 3")), ("4", _l("Level 4"))]
DIAGNOSIS_METHODS = [
    ("self", _l("Self-diagnosis")),
    ("institution", _l("Diagnosis by an institution")),
    ("city", _l("Assigned by the city bureau")),
]
YES_NO = [("1", _l("Yes")), ("0", _l("No"))]

# Field name → label, in the order of the manual's two pages; all are required on 提交 (*).
ENTERPRISE_FIELDS = [
    ("ent_name", _l("Enterprise name")),
    ("ent_credit_code", _l("Credit code")),
    ("town_id", _l("Town")),
    ("ent_nature", _l("Enterprise nature")),
    ("ent_category", _l("Enterprise category")),
    ("ent_scale", _l("Enterprise scale")),
    ("product_category_id", _l("Main product category")),
    ("industry_id", _l("Industry segment")),
    ("quality_levels", _l("Quality SME status")),
    ("ent_address", _l("Enterprise address")),
    ("employees_total", _l("Total employees")),
    ("employees_digital", _l("Digital staff")),
    ("ent_description", _l("Enterprise basic information")),
]
PROJECT_FIELDS = [
    ("project_name", _l("Project name")),
    ("project_summary", _l("Project summary")),
    ("build_address", _l("Project construction address")),
    ("planned_investment", _l("Planned project investment (excl. tax, 10k yuan)")),
    ("start_date", _l("Project start date")),
    ("end_date", _l("Project end date")),
    ("target_level", _l("Target digital level")),
    ("diagnosis_method", _l("Diagnosis method")),
    ("intended_industry_provider", _l("Intended industry service provider")),
    ("intended_scenario_provider", _l("Intended scenario service provider")),
    ("chain_leader", _l("Driven by a chain leader")),
]
REQUIRED = [name for name, _label in ENTERPRISE_FIELDS + PROJECT_FIELDS]
# The enterprise's identity: copied from its organisation (which changes only through the reviewed 企业信息变更),
# never typed into the filing, so the 镇街 reviewing a filing is always the enterprise's own.
IDENTITY_FIELDS = {"ent_name": "name", "ent_credit_code": "credit_code", "town_id": "town_id"}
EDITABLE_FIELDS = [name for name in REQUIRED if name not in IDENTITY_FIELDS]
LABELS = dict(ENTERPRISE_FIELDS + PROJECT_FIELDS)
DESCRIPTION_MAX = 300


def status_label(filing):
    """项目备案状态 as the manual's list shows it."""
    from .workflow import step_of

    if filing.status == ReviewStatus.REVIEWING:
        step = step_of("filing", filing.current_step)
        return _("Under review (%(step)s)", step=step.label if step else "")
    return {
        ReviewStatus.DRAFT: _("To be submitted"),
        ReviewStatus.RETURNED: _("Status: returned"),
        ReviewStatus.DONE: _("Filed"),
        ReviewStatus.REJECTED: _("Not approved"),
    }[filing.status]


def new_filing(user):
    """【发起备案】: a project and its draft filing, pre-filled from the enterprise."""
    org = user.organisation
    project = Project(organisation_id=org.id, created_by_id=user.id)
    filing = Filing(project=project, organisation_id=org.id, industry_id=org.industry_id, status=ReviewStatus.DRAFT)
    take_identity(filing, org)
    db.session.add_all([project, filing])
    db.session.commit()
    return filing


def identity_of(org):
    """{filing field: value} of the organisation's 企业名称 / 统一社会信用代码 / 所属镇街."""
    return {field: getattr(org, org_field) for field, org_field in IDENTITY_FIELDS.items()}


def take_identity(filing, org):
    """Set the filing's identity from its organisation (on creation and on every save and submit)."""
    for field, value in identity_of(org).items():
        setattr(filing, field, value)


def follow_identity_change(org):
    """企业信息变更 approved: the organisation's filings not yet 已备案 (draft, returned, under review) take the
    new identity, so their 镇街 scope follows the enterprise. A 已备案 filing keeps the identity it was filed
    with: its 备案号 embeds that town's code and its later stages were opened under it."""
    filings = (
        db.session.query(Filing)
        .filter(Filing.organisation_id == org.id, Filing.status.in_(ReviewStatus.EDITABLE + (ReviewStatus.REVIEWING,)))
        .all()
    )
    from .workflow import rescope

    for filing in filings:
        town_before = filing.town_id
        take_identity(filing, org)
        if filing.town_id != town_before:
            rescope(filing)  # a filing at the 镇街 step moves to the new town's reviewers and their 待办


def missing_fields(filing):
    """The * fields still empty: [(name, label)]."""
    out = []
    for name in REQUIRED:
        value = getattr(filing, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append((name, LABELS[name]))
    return out


def rule_errors(filing):
    """Cross-field rules checked on 提交 (and shown on 保存 too): {field: message}."""
    errors = {}
    if filing.employees_total is not None and filing.employees_total < 1:
        errors["employees_total"] = _("Must be a whole number of at least 1")
    if filing.employees_digital is not None and filing.employees_digital < 0:
        errors["employees_digital"] = _("Must not be negative")
    if (
        filing.employees_total is not None
        and filing.employees_digital is not None
        and filing.employees_digital > filing.employees_total
    ):
        errors["employees_digital"] = _("Digital staff cannot exceed total employees")
    if filing.ent_description and len(filing.ent_description) > DESCRIPTION_MAX:
        errors["ent_description"] = _("At most %(n)s characters", n=DESCRIPTION_MAX)
    if filing.planned_investment is not None and filing.planned_investment <= Decimal("0"):
        errors["planned_investment"] = _("The planned investment must be greater than 0")
    if filing.start_date and filing.end_date and filing.start_date > filing.end_date:
        errors["end_date"] = _("The end date cannot be earlier than the start date")
    levels = (filing.quality_levels or "").split(",")
    if "none" in levels and len([x for x in levels if x]) > 1:
        errors["quality_levels"] = _("'None' cannot be combined with other options")
    if filing.product_category_id and filing.product_category and filing.product_category.level < 3:
        errors["product_category_id"] = _("Please choose a category down to the third level")
    return errors


# --- 备案号 ------------------------------------------------------------------------------------------
def issue_filing_no(filing, today=None):
    """YYMMDD + 4-digit town code + 3-digit daily sequence of the town, e.g. 2409132010002."""
    today = today or dt.date.today()
    day = today.strftime("%y%m%d")
    town_code = filing.town.code
    key = dict(day=day, town_code=town_code)
    if db.session.get(FilingCounter, (day, town_code)) is None:
        try:
            with db.session.begin_nested():
                db.session.add(FilingCounter(last=0, **key))
        except IntegrityError:
            pass  # another completion created the counter first
    # The UPDATE takes the row lock: concurrent completions queue here and each gets its own number.
    last = db.session.execute(
        update(FilingCounter)
        .where(FilingCounter.day == day, FilingCounter.town_code == town_code)
        .values(last=FilingCounter.last + 1)
        .returning(FilingCounter.last)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if last > 999:
        raise RuntimeError("more than 999 filings completed in one town on one day")
    return f"{day}{town_code}{last:03d}"


def complete_filing(filing, actor):
    """备案完成: the 备案号, and the 事前诊断 and 项目签约 records (SPEC §3 arrows)."""
    filing_no = issue_filing_no(filing)
    db.session.execute(update(Filing).where(Filing.id == filing.id).values(filing_no=filing_no))
    project_id = filing.project_id
    if not db.session.query(PreDiagnosis.id).filter_by(project_id=project_id).first():
        db.session.add(
            PreDiagnosis(
                project_id=project_id,
                organisation_id=filing.organisation_id,
                town_id=filing.town_id,
                method=filing.diagnosis_method,
            )
        )
    if not db.session.query(Signing.id).filter_by(project_id=project_id).first():
        from .signing import new_signing

        db.session.add(new_signing(filing))


def record_revision(filing, actor, before, after):
    """信息变更 of a filed filing: keep what changed."""
    changes = [[k, before[k], after[k]] for k in after if before.get(k) != after[k]]
    if changes:
        db.session.add(
            FilingRevision(
                filing_id=filing.id, actor_id=actor.id, changes=json.dumps(changes, ensure_ascii=False, default=str)
            )
        )
    return changes


FILE_LABELS = {
    "authorization_file_id": _l("Power of attorney"),
    "chain_evidence_file_id": _l("Supply-chain relationship evidence (contracts, orders, etc.)"),
}


def tell_reviewers_of_change(filing, actor, changes):
    """A 已备案 filing was changed: tell its town's 镇街 reviewers and 市工信 (in the change's transaction)."""
    from . import roles as R
    from .models import NotificationKind
    from .notifications import notify
    from .scopes import scope
    from .workflow import users_with_role

    if not changes:
        return
    town_reviewers = scope("town").users(users_with_role(R.TOWN), filing, None, None).all()
    recipients = {u.id: u for u in town_reviewers + users_with_role(R.CITY).all() if u.id != actor.id}
    fields = "、".join(str(LABELS.get(name) or FILE_LABELS.get(name) or name) for name, _old, _new in changes)
    text = _(
        "The filed project %(project)s of %(enterprise)s was changed: %(fields)s",
        project=filing.project_name or "",
        enterprise=filing.ent_name or "",
        fields=fields,
    )
    link = url_for("FilingView.detail", pk=filing.id)
    for user in recipients.values():
        notify(user, NotificationKind.REVIEW, text, link=link)


def snapshot(filing):
    return {
        name: _plain(getattr(filing, name)) for name in REQUIRED + ["authorization_file_id", "chain_evidence_file_id"]
    }


def _plain(value):
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def filing_rows(user):
    """The 项目备案 tab of 我的工作台: the enterprise's filings, newest first (a query: the workbench pages it)."""
    from .visibility import owned

    return owned(Filing, user).order_by(Filing.created_at.desc(), Filing.id.desc())


def overview_rows(user):
    """项目总览: every project of the enterprise with its stages."""
    from .visibility import owned

    return (
        owned(Project, user)
        .options(joinedload(Project.filing), joinedload(Project.signing), joinedload(Project.pre_diagnosis))
        .order_by(Project.created_at.desc(), Project.id.desc())
    )


def detail_options():
    """Everything the filing page shows, loaded with the filing (the category path, revisions and actors)."""
    from .models import FilingRevision, ProductCategory

    return [
        joinedload(Filing.town),
        joinedload(Filing.industry),
        joinedload(Filing.product_category).joinedload(ProductCategory.parent).joinedload(ProductCategory.parent),
        selectinload(Filing.revisions).joinedload(FilingRevision.actor),
    ]


def _review_context(filing):
    import sys

    return {"filing": filing, "rules": sys.modules[__name__]}


register_stage(
    Stage(
        type="filing",
        order=10,
        model=Filing,
        label=_l("Project filing"),
        title=lambda f: _("%(name)s project filing review", name=f.project_name or ""),
        owner_link=lambda f: url_for("FilingView.detail", pk=f.id),
        item_name=lambda f: f.project_name or "",
        item_label=_l("Project name"),
        enterprise_name=lambda f: f.ent_name or "",
        status_text=status_label,
        review_template="zsdx/_review_filing.html",
        review_context=_review_context,
        queue_options=lambda model: [joinedload(model.town)],
        detail_options=lambda model: detail_options(),
        on_complete=complete_filing,
    )
)
register_tab(
    WorkbenchTab(
        group="projects",
        key="overview",
        label=_l("Project overview"),
        columns=[_l("No."), _l("Project name"), _l("Project progress")],
        order=10,
        rows=overview_rows,
        template="zsdx/_tab_overview.html",
    )
)
register_tab(
    WorkbenchTab(
        group="projects",
        key="filing",
        label=_l("Project filing"),
        columns=[
            _l("No."),
            _l("Project name"),
            _l("Filing status"),
            _l("Filing number"),
            _l("Submitted at"),
            _l("Operation"),
        ],
        order=20,
        rows=filing_rows,
        template="zsdx/_tab_filing.html",
    )
)


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import chain_part, register_dashboard_part  # noqa: E402

register_dashboard_part(chain_part("filing", 10, _l("Project filing"), Filing, status_label))
