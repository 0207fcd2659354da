"""Row access, in one place: which records of each reviewable kind a user may see.

HTML views, downloads, exports and the REST API all query through these clauses; FAB's own actions
and downloads skip `base_filters` (FAB-NOTES P1), so zsdx never relies on them for row access.
"""

from sqlalchemy import and_, false, or_, select, true

from .models import ReviewAction, ReviewAssignment, ReviewStatus

REVIEWER_ROLES = ("镇街", "第三方", "专家", "市工信")


def _roles(user):
    return {r.name for r in user.roles}


def visible_clause(model, user, subject_type):
    """SQL condition: rows of a reviewable `model` (with organisation_id and town_id) `user` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    roles = _roles(user)
    parts = []
    if "Admin" in roles:
        return true()
    if user.organisation_id is not None and roles & {"企业", "服务商"}:
        parts.append(model.organisation_id == user.organisation_id)
    submitted = model.status != ReviewStatus.DRAFT
    institution_task = hasattr(model, "institution_id")  # diagnosis / assessment tasks
    chain_roles = _chain_roles(model)  # a reviewer sees only the kinds of record its role reviews
    if "市工信" in roles and institution_task:
        parts.append(true())  # the city assigns institutions, so it sees tasks before any submission
    elif "市工信" in roles:
        parts.append(submitted)
    if "第三方" in roles and "第三方" in chain_roles:
        parts.append(submitted)
    if "评估机构" in roles and institution_task and user.organisation_id is not None:
        parts.append(model.institution_id == user.organisation_id)
    if "镇街" in roles and user.town_id is not None and "镇街" in chain_roles:
        parts.append(and_(submitted, model.town_id == user.town_id))
    if "专家" in roles:
        assigned = select(ReviewAssignment.subject_id).where(
            ReviewAssignment.subject_type == subject_type, ReviewAssignment.user_id == user.id
        )
        acted = select(ReviewAction.subject_id).where(
            ReviewAction.subject_type == subject_type, ReviewAction.actor_id == user.id
        )
        parts.append(or_(model.id.in_(assigned), model.id.in_(acted)))
    return or_(*parts) if parts else false()


def _chain_roles(model):
    from flask import current_app

    chain = current_app.config["REVIEW_CHAINS"].get(getattr(model, "chain_name", None) or "", [])
    return {step["role"] for step in chain}


def owns(user, record):
    return user.organisation_id is not None and record.organisation_id == user.organisation_id


def visible(query, model, user, subject_type):
    return query.filter(visible_clause(model, user, subject_type))
