"""The proposed subsidy of a 已入库 project (SPEC §3.8, 中工信规字〔2024〕5号), one pure rule for the stage, the
dashboard, the dossier and gen-load: the most paid by the 改造后 digital level that an institution's 事后评估
confirmed (config WAREHOUSING_SUBSIDY_CAPS, 万元), never more than the contracts' 纳入资金奖补项目金额; below 二级,
or with no institution's confirmed level (a self-assessment never qualifies), nothing."""

from decimal import Decimal

from flask import current_app

FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")


def level_cap(level, caps=None):
    """The most paid (万元) at a 改造后 level; 0 below 二级 or with no level."""
    caps = current_app.config["WAREHOUSING_SUBSIDY_CAPS"] if caps is None else caps
    if level is None:
        return ZERO
    return Decimal(str(caps.get(int(level), "0"))).quantize(FOUR_PLACES)


def confirmed_level(post_assessment):
    """The 改造后 level that counts: the one the enterprise confirmed on an institution's 事后评估 report."""
    from .models import ReviewStatus

    if post_assessment is None or post_assessment.status != ReviewStatus.DONE:
        return None
    if post_assessment.institution_id is None:
        return None
    return post_assessment.level


def compute(level, contract_amounts, caps=None):
    """(level_cap, subsidy_cap, proposed) in exact 万元: proposed = min(level cap, Σ 纳入资金奖补项目金额)."""
    by_level = level_cap(level, caps)
    cap = sum((Decimal(a) for a in contract_amounts if a is not None), Decimal(0)).quantize(FOUR_PLACES)
    return by_level, cap, min(by_level, cap).quantize(FOUR_PLACES)
