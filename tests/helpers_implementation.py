"""Shared set-up of the implementation tests (改造中, 事后评估, 改造完成): a signed project, its 改造中 record,
submitted or not, and the 事后评估 / 改造完成 records its submission opens. Inserted directly (fast)."""

import datetime as dt

from helpers_signing import listed_product, make_signing

from zsdx.extensions import db
from zsdx.models import (
    Completion,
    Implementation,
    ImplementationStatus,
    PostAssessment,
    PreDiagnosis,
    ReviewStatus,
)


def make_implementation(
    app,
    factory,
    ent,
    submitted=False,
    ticked=("innovation", "quality"),
    pre_level=2,
    pre_institution=None,
    provider_org=None,
):
    """A signed project of `ent` (two contracts, page 3 filled with a listed product of a new provider) and its
    改造中 record; `ticked` dimensions get 改造前 data, the others are unticked. `submitted`: 已提交, with the
    事后评估 and 改造完成 records opened. The 事前诊断 is done at `pre_level` (by `pre_institution`, an
    organisation id, when given). Returns a dict of ids."""
    from zsdx.implementation import open_next_stages

    product = listed_product(app, factory, provider_org=provider_org)
    ids = make_signing(app, ent, contracts=2, filled=True, signed=True, product=product)
    with app.app_context():
        pre = db.session.query(PreDiagnosis).filter_by(project_id=ids["project"]).one()
        pre.level, pre.status, pre.diagnosed_at = pre_level, ReviewStatus.DONE, dt.datetime.now()
        if pre_institution:
            pre.method, pre.institution_id, pre.level_source = "institution", pre_institution, "institution"
        record = db.session.query(Implementation).filter_by(project_id=ids["project"]).one_or_none()
        if record is None:  # signed directly in the database: create it as 【提交】 would
            from zsdx.implementation import new_implementation
            from zsdx.models import Signing

            record = new_implementation(db.session.get(Signing, ids["signing"]))
            db.session.add(record)
            db.session.flush()
        for indicator in record.indicators:
            indicator.ticked = indicator.dimension in ticked
            indicator.before = f"{indicator.dimension}改造前数据" if indicator.ticked else None
        record.assisted = False
        if submitted:
            record.status, record.submitted_at = ImplementationStatus.SUBMITTED, dt.datetime.now()
            db.session.flush()
            open_next_stages(record)
        db.session.commit()
        ids.update(implementation=record.id, product=product["id"], provider_org=product["org_id"])
        if submitted:
            ids["post_assessment"] = db.session.query(PostAssessment.id).filter_by(project_id=ids["project"]).scalar()
            ids["completion"] = db.session.query(Completion.id).filter_by(project_id=ids["project"]).scalar()
        return ids
