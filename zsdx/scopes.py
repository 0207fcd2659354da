"""Scopes: who, among the holders of a step's role, may act on a record, see it, and is told about it.

A scope is defined here once and used by the engine (may this user act?), the queues (the SQL clause of
records this user may act on), the visibility layer (records this user may see) and the notifications
(the users to tell). A chain step names its scope in REVIEW_CHAINS; an unknown name stops start-up
(zsdx.workflow.validate_chains), so a typo can never fail open.

To add a scope, subclass Scope and `register_scope` it.
"""

from sqlalchemy import and_, exists, or_, select, true

from .extensions import db
from .models import ReviewAction, ReviewAssignment, ReviewStatus, ZsdxUser
from .request_cache import per_request, request_cache


class Scope:
    """One rule of reach. `column` methods return SQL conditions on the stage's model."""

    name = ""
    requires = ()  # model attributes the rule reads (checked when a chain uses it)

    def may_act(self, user, record, step, stage):
        raise NotImplementedError

    def act_clause(self, model, user, step, stage):
        """Condition on `model` for the records at `step` this user may act on (None: none)."""
        raise NotImplementedError

    def see_clause(self, model, user, stage):
        """Condition on `model` for the records this user may see through this scope (None: none)."""
        return self.act_clause(model, user, None, stage)

    def users(self, query, record, step, stage):
        """Narrow `query` (active holders of the step's role) to those to tell about `record`."""
        raise NotImplementedError


SCOPES: dict[str, Scope] = {}


def register_scope(scope):
    SCOPES[scope.name] = scope
    return scope


def scope(name):
    try:
        return SCOPES[name]
    except KeyError:
        raise KeyError(f"unknown scope {name!r}") from None


class TownScope(Scope):
    """镇街: the reviewers of the record's own town."""

    name = "town"
    requires = ("town_id",)

    def may_act(self, user, record, step, stage):
        return user.town_id is not None and user.town_id == record.town_id

    def act_clause(self, model, user, step, stage):
        return None if user.town_id is None else model.town_id == user.town_id

    def users(self, query, record, step, stage):
        return query.filter(ZsdxUser.town_id == record.town_id)


TownScope = register_scope(TownScope())


class CityScope(Scope):
    """City-wide: every holder of the role (第三方, 市工信)."""

    name = "city"

    def may_act(self, user, record, step, stage):
        return True

    def act_clause(self, model, user, step, stage):
        return true()

    def users(self, query, record, step, stage):
        return query


CityScope = register_scope(CityScope())


class OwnerScope(Scope):
    """The record's own organisation (e.g. the enterprise confirming an institution's report)."""

    name = "owner"
    requires = ("organisation_id",)

    def may_act(self, user, record, step, stage):
        return user.organisation_id is not None and user.organisation_id == record.organisation_id

    def act_clause(self, model, user, step, stage):
        return None if user.organisation_id is None else model.organisation_id == user.organisation_id

    def users(self, query, record, step, stage):
        return query.filter(ZsdxUser.organisation_id == record.organisation_id)


OwnerScope = register_scope(OwnerScope())


class InstitutionScope(Scope):
    """The institution (评估机构) the record is assigned to."""

    name = "institution"
    requires = ("institution_id",)

    def may_act(self, user, record, step, stage):
        return user.organisation_id is not None and user.organisation_id == record.institution_id

    def act_clause(self, model, user, step, stage):
        return None if user.organisation_id is None else model.institution_id == user.organisation_id

    def users(self, query, record, step, stage):
        return query.filter(ZsdxUser.organisation_id == record.institution_id)


InstitutionScope = register_scope(InstitutionScope())


class HelperScope(Scope):
    """The provider this record asked for help (行业型服务商协助填写): its users fill the handed-over page."""

    name = "helper"
    requires = ("provider_id",)

    def may_act(self, user, record, step, stage):
        return user.organisation_id is not None and user.organisation_id == record.provider_id

    def act_clause(self, model, user, step, stage):
        return None if user.organisation_id is None else model.provider_id == user.organisation_id

    def users(self, query, record, step, stage):
        return query.filter(ZsdxUser.organisation_id == record.provider_id)


HelperScope = register_scope(HelperScope())


class ListedScope(Scope):
    """Anyone holding the role sees what is listed (an approved, not withdrawn catalog entry); nobody acts."""

    name = "listed"
    requires = ("listed_price", "withdrawn_at")

    def may_act(self, user, record, step, stage):
        return False

    def act_clause(self, model, user, step, stage):
        return None

    def see_clause(self, model, user, stage):
        return and_(model.listed_price.isnot(None), model.withdrawn_at.is_(None))

    def users(self, query, record, step, stage):
        return query.filter(ZsdxUser.id.is_(None))


ListedScope = register_scope(ListedScope())


@per_request
def step_assignments(subject_type, subject_id, step_key):
    """The assignments of one record's step with their users, once per request (tuple, do not mutate)."""
    from sqlalchemy.orm import joinedload

    return tuple(
        db.session.query(ReviewAssignment)
        .options(joinedload(ReviewAssignment.user))
        .filter_by(subject_type=subject_type, subject_id=subject_id, step=step_key)
        .order_by(ReviewAssignment.id)
    )


class AssignedScope(Scope):
    """The users assigned to the record's step (验收专家): each must approve; a return resets them all.

    A record waiting at such a step with nobody assigned is 待分配: it is shown to, and reminded to, the
    step's assigner role (市工信 by default), who assigns the reviewers on the review page.
    """

    name = "assigned"

    def _open(self, stage, record_id, step_key, user_id=None):
        cond = [
            ReviewAssignment.subject_type == stage.type,
            ReviewAssignment.subject_id == record_id,
            ReviewAssignment.step == step_key,
            ReviewAssignment.approved_at.is_(None),
        ]
        if user_id is not None:
            cond.append(ReviewAssignment.user_id == user_id)
        return cond

    def may_act(self, user, record, step, stage):
        if request_cache() is not None and step.key == record.current_step:
            # the review page lists the same rows (workflow.assignees): one statement for both
            rows = step_assignments(stage.type, record.id, step.key)
            return any(a.user_id == user.id and a.approved_at is None for a in rows)
        return db.session.query(exists().where(*self._open(stage, record.id, step.key, user.id))).scalar()

    def act_clause(self, model, user, step, stage):
        if step is None:
            return self.see_clause(model, user, stage)
        return exists().where(*self._open(stage, model.id, step.key, user.id))

    def see_clause(self, model, user, stage):
        assigned = select(ReviewAssignment.subject_id).where(
            ReviewAssignment.subject_type == stage.type, ReviewAssignment.user_id == user.id
        )
        acted = select(ReviewAction.subject_id).where(
            ReviewAction.subject_type == stage.type, ReviewAction.actor_id == user.id
        )
        return or_(model.id.in_(assigned), model.id.in_(acted))

    def users(self, query, record, step, stage):
        return query.join(ReviewAssignment, ReviewAssignment.user_id == ZsdxUser.id).filter(
            *self._open(stage, record.id, step.key)
        )

    # --- 待分配 --------------------------------------------------------------------------------------
    def unassigned_clause(self, model, step, stage):
        """Records waiting at `step` with nobody assigned."""
        return and_(
            model.status == ReviewStatus.REVIEWING,
            model.current_step == step.key,
            ~exists().where(
                ReviewAssignment.subject_type == stage.type,
                ReviewAssignment.subject_id == model.id,
                ReviewAssignment.step == step.key,
            ),
        )

    def has_assignees(self, record, step, stage):
        return db.session.query(
            exists().where(
                ReviewAssignment.subject_type == stage.type,
                ReviewAssignment.subject_id == record.id,
                ReviewAssignment.step == step.key,
            )
        ).scalar()


AssignedScope = register_scope(AssignedScope())
