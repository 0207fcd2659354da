"""Row access, in one place (in the spirit of Superset's DAOs and flaskr's `get_post(id, check_author)`).

Every view, download, export, job and API loads scoped records through these functions; FAB's own actions
and downloads skip `base_filters` (FAB-NOTES P1), so zsdx never relies on them alone.

- `visible(Model)` — a query of the rows the current user may see;
- `get_visible_or_404(Model, pk)` — one of them, or 404 (never another tenant's);
- `get_owned_or_404(Model, pk)` — one the user's own organisation owns (editing rights);
- `get_in_scope_or_404(Model, pk, "institution")` — one the user reaches through a named scope.

A reviewable stage's rule is derived from its chain (zsdx.stages.register_stage): its owners, each step's
reviewers through the step's scope (submitted records only), the step's assigner, and the stage's extra
`viewers`. Plain record kinds register a rule with `register(Model, rule)`. tests/test_visibility.py fails
on a view that loads a scoped model any other way.
"""

from flask import abort, g
from sqlalchemy import and_, false, or_, true

from . import roles as R
from .extensions import db
from .models import (
    AssessmentResult,
    InfoChangeAttachment,
    Message,
    Notification,
    Organisation,
    Project,
    ReviewStatus,
    SubmissionWindow,
)
from .scopes import scope

RULES: dict = {}
PERSONAL: set = set()  # kinds whose rows belong to one user: not even Admin reads another user's


def register(model, rule, personal=False):
    """`rule(model, user, names)` returns the SQL condition of rows `user` (role names `names`) may see."""
    RULES[model] = rule
    if personal:
        PERSONAL.add(model)


def unregister(model):
    RULES.pop(model, None)
    PERSONAL.discard(model)


def scoped_models():
    return set(RULES)


def _user(user):
    if user is not None:
        return user
    return getattr(g, "user", None)


def visible_clause(model, user=None):
    user = _user(user)
    names = R.role_names(user)
    if not names:
        return false()
    if R.ADMIN in names and model not in PERSONAL:
        return true()
    try:
        rule = RULES[model]
    except KeyError:
        raise KeyError(f"{model.__name__} has no visibility rule") from None
    clause = rule(model, user, names)
    return false() if clause is None else clause


def visible(model, user=None):
    return db.session.query(model).filter(visible_clause(model, user))


def get_visible_or_404(model, pk, user=None, options=()):
    record = visible(model, user).options(*options).filter(model.id == pk).one_or_none()
    if record is None:
        abort(404)
    return record


def owner_clause(model, user):
    if user is None or user.organisation_id is None or not (R.role_names(user) & set(R.OWNER_ROLES)):
        return None
    return model.organisation_id == user.organisation_id


def owns(user, record):
    return (
        user is not None
        and user.organisation_id is not None
        and bool(R.role_names(user) & set(R.OWNER_ROLES))
        and record.organisation_id == user.organisation_id
    )


def owned(model, user=None):
    """A query of the rows the user's own organisation owns (the enterprise's own lists)."""
    user = _user(user)
    clause = owner_clause(model, user)
    return db.session.query(model).filter(false() if clause is None else clause)


def get_owned_or_404(model, pk, user=None, options=()):
    """A record of the user's own organisation (the only one allowed to edit it), or 404."""
    user = _user(user)
    clause = owner_clause(model, user)
    if clause is None:
        abort(404)
    record = db.session.query(model).options(*options).filter(model.id == pk, clause).one_or_none()
    if record is None:
        abort(404)
    return record


def in_scope(model, scope_name, user=None):
    """A query of the records the user reaches through scope `scope_name` (e.g. its institution's tasks)."""
    user = _user(user)
    from .stages import stage_of

    clause = scope(scope_name).see_clause(model, user, stage_of(model)) if R.role_names(user) else None
    return db.session.query(model).filter(false() if clause is None else clause)


def get_in_scope_or_404(model, pk, scope_name, user=None, options=()):
    """A record the user reaches through scope `scope_name` (e.g. the institution it is assigned to)."""
    record = in_scope(model, scope_name, user).options(*options).filter(model.id == pk).one_or_none()
    if record is None:
        abort(404)
    return record


def _or(parts):
    parts = [p for p in parts if p is not None]
    return or_(*parts) if parts else None


# --- reviewable stages ------------------------------------------------------------------------------
def stage_rule(stage):
    """The rule of a stage: owners; each step's reviewers (submitted records); assigners; extra viewers."""
    from .workflow import chain

    def rule(model, user, names):
        parts = [owner_clause(model, user)] if hasattr(model, "organisation_id") else []
        submitted = model.status != ReviewStatus.DRAFT
        for step in chain(stage.chain):
            if step.role in names:
                clause = scope(step.scope).see_clause(model, user, stage)
                if clause is not None:
                    parts.append(and_(submitted, clause))
            if step.assigner and step.assigner in names:
                parts.append(submitted)
        for role, scope_name, include_drafts in stage.viewers:
            if role in names:
                clause = scope(scope_name).see_clause(model, user, stage)
                if clause is not None:
                    parts.append(clause if include_drafts else and_(submitted, clause))
        return _or(parts)

    return rule


# --- plain record kinds -----------------------------------------------------------------------------
def _own_org(model, user, names):
    return owner_clause(model, user)


register(AssessmentResult, _own_org)
register(Project, _own_org)
register(Message, lambda model, user, names: _or([owner_clause(model, user), true() if R.CITY in names else None]))
register(Notification, lambda model, user, names: model.user_id == user.id, personal=True)
register(
    Organisation,
    lambda model, user, names: _or(
        [true() if R.CITY in names else None, model.id == user.organisation_id if user.organisation_id else None]
    ),
)
register(SubmissionWindow, lambda model, user, names: true())


def _attachment_rule(model, user, names):
    from .models import InfoChangeRequest

    return model.request_id.in_(visible(InfoChangeRequest, user).with_entities(InfoChangeRequest.id))


register(InfoChangeAttachment, _attachment_rule)
