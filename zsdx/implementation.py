"""项目实施-改造中 (manual 05, SPEC §3.5): created at 已签约 with its eight 维度指标; 【提交】 opens the 事后评估 and
改造完成 records (`open_next_stages`)."""

from flask_babel import lazy_gettext as _l

from .extensions import db
from .models import (
    DIMENSIONS,
    Completion,
    CompletionIndicator,
    Implementation,
    ImplementationIndicator,
    PostAssessment,
)

# The eight 维度指标 with the manual's examples (指标数据（改造前） is typed per ticked dimension).
DIMENSION_LABELS = {
    "innovation": _l("Innovation dimension"),
    "market": _l("Market dimension"),
    "quality": _l("Quality dimension"),
    "cost": _l("Cost dimension"),
    "efficiency": _l("Efficiency dimension"),
    "green": _l("Green dimension"),
    "safety": _l("Safety dimension"),
    "other": _l("Other dimension"),
}
DIMENSION_EXAMPLES = {
    "innovation": _l("e.g. networking rate of digital equipment, CNC rate of key processes"),
    "market": _l("e.g. revenue per employee, customer satisfaction"),
    "quality": _l("e.g. product pass rate, production efficiency"),
    "cost": _l("e.g. networking rate of digital equipment, CNC rate of key processes"),
    "efficiency": _l("e.g. on-time delivery rate, inventory turnover, production plan achievement rate"),
    "green": _l("e.g. savings of water, electricity, coal and gas"),
    "safety": _l("e.g. virus interception rate, production safety, safety control"),
    "other": "/",
}
assert tuple(DIMENSION_LABELS) == DIMENSIONS


def new_implementation(signing):
    """改造中 of a project reaching 已签约: the project's name and town carried, the eight dimensions ticked."""
    record = Implementation(
        project_id=signing.project_id,
        organisation_id=signing.organisation_id,
        town_id=signing.town_id,
        project_name=signing.project_name,
    )
    record.indicators = [ImplementationIndicator(dimension=d, ticked=True) for d in DIMENSIONS]
    return record


def open_next_stages(implementation):
    """改造中 submitted: the 事后评估 and the 改造完成 records (once each; the caller commits). 改造完成 carries
    the dimensions ticked in 改造中 with their 改造前 data, and the 改造前 level of the 事前诊断."""
    from .models import PreDiagnosis

    project_id = implementation.project_id
    common = dict(
        project_id=project_id,
        organisation_id=implementation.organisation_id,
        town_id=implementation.town_id,
    )
    if not db.session.query(PostAssessment.id).filter_by(project_id=project_id).first():
        db.session.add(PostAssessment(**common))
    if not db.session.query(Completion.id).filter_by(project_id=project_id).first():
        pre = db.session.query(PreDiagnosis).filter_by(project_id=project_id).one_or_none()
        completion = Completion(
            **common, project_name=implementation.project_name, level_before=pre.level if pre else None
        )
        completion.results = [
            CompletionIndicator(dimension=i.dimension, ticked=True, before=i.before)
            for i in implementation.indicators
            if i.ticked
        ]
        db.session.add(completion)
