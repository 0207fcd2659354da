"""行业型服务商协助填写, for any stage that hands one page to a provider (the signing's 牵引单位信息 now, the
改造中 form next): the enterprise chooses 是 and a provider; the page becomes editable only by that
provider's users, who find it in their 待办, fill it and submit; the enterprise then edits it if it
wants and 确认提交 its record.

A host stage registers itself with `register_host`; the request is an AssistRequest going through the
one-step chain "assist" (scope "helper": the provider the request names), so the to-dos, the audit trail,
reminders and visibility come from the shared engine.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .models import AssistRequest, Organisation, ReviewStatus
from .stages import Stage, link_of, register_stage
from .workflow import WorkflowError, act, can_act, reopen, submit, unit_of_work, withdraw


@dataclass
class AssistHost:
    type: str  # AssistRequest.host_type
    model: type
    label: object  # e.g. 项目签约
    page_label: object  # the page handed over, e.g. 牵引单位信息
    fill_link: Callable  # host id -> the provider's page
    owner_link: Callable  # host id -> the enterprise's page
    name: Callable = lambda host: getattr(host, "display_name", "")


HOSTS: dict[str, AssistHost] = {}


def register_host(host):
    HOSTS[host.type] = host
    return host


def hosts_helped_by(host_type, organisation_id):
    """SQL: the ids of the host records of `host_type` that asked provider `organisation_id` for help
    (sent, being filled or filled; not a withdrawn request)."""
    return select(AssistRequest.host_id).where(
        AssistRequest.host_type == host_type,
        AssistRequest.provider_id == organisation_id,
        AssistRequest.status != ReviewStatus.DRAFT,
    )


def host_rule(host_type):
    """The visibility rule (zsdx.visibility.register) of a record that may hand a page to a provider: its
    owner; 市工信; the 镇街 of its town; the 行业型服务商 it asked for help."""
    from sqlalchemy import or_, true

    from . import roles as R
    from .visibility import owner_clause

    def rule(model, user, names):
        parts = [owner_clause(model, user)]
        if R.CITY in names:
            parts.append(true())
        if R.TOWN in names and user.town_id is not None:
            parts.append(model.town_id == user.town_id)
        if R.PROVIDER in names and user.organisation_id is not None:
            parts.append(model.id.in_(hosts_helped_by(host_type, user.organisation_id)))
        parts = [p for p in parts if p is not None]
        return or_(*parts) if parts else None

    return rule


# --- the status the lists show (行业型服务商协助状态) --------------------------------------------------------
NONE, FILLING, TO_CONFIRM, CONFIRMED = "none", "filling", "to_confirm", "confirmed"
STATUS_LABELS = {
    NONE: _l("Assistance not chosen"),
    FILLING: _l("Being filled by the provider"),
    TO_CONFIRM: _l("To be confirmed by the enterprise"),
    CONFIRMED: _l("Confirmed"),
}


def state(request, assisted=True):
    if not assisted or request is None or request.status == ReviewStatus.DRAFT:
        return NONE
    if request.status == ReviewStatus.REVIEWING:
        return FILLING
    return CONFIRMED if request.confirmed_at else TO_CONFIRM


def status_text(request, assisted=True):
    return str(STATUS_LABELS[state(request, assisted)])


def locked_for_owner(request):
    """While the provider fills the page, the enterprise cannot change it."""
    return request is not None and request.status == ReviewStatus.REVIEWING


def may_fill(user, request):
    """May `user` edit the handed-over page now (the chosen provider's user, while 协助填写中)?"""
    return request is not None and request.status == ReviewStatus.REVIEWING and can_act(user, request)


def provider_choices(organisation_ids=None):
    """[(id, name)] of the 行业型服务商 (limited to `organisation_ids` when given)."""
    # not a row load: the providers' public names
    query = db.session.query(Organisation.id, Organisation.name).filter(
        Organisation.kind == "provider", Organisation.is_industry_provider.is_(True)
    )
    if organisation_ids is not None:
        query = query.filter(Organisation.id.in_(list(organisation_ids) or [0]))
    return query.order_by(Organisation.id).all()


# --- use cases (the caller's unit of work commits, except where noted) -------------------------------------
def ask(host_type, host, actor, provider_id, allowed=None):
    """Hand the page to `provider_id` (a 行业型服务商, among `allowed` ids when given); one commit. A filled
    request not yet confirmed may be sent again (to the same or another provider)."""
    if provider_id not in {pid for pid, _name in provider_choices(allowed)}:
        raise WorkflowError(_("Please choose an industry service provider"))
    request = host.assist
    with unit_of_work():
        if request is None:
            request = AssistRequest(
                host_type=host_type, host_id=host.id, organisation_id=host.organisation_id, provider_id=provider_id
            )
            db.session.add(request)
        elif request.status == ReviewStatus.REVIEWING:
            raise WorkflowError(_("The page is already with the industry service provider"))
        elif request.status == ReviewStatus.DONE:
            if request.confirmed_at:
                raise WorkflowError(_("This record has already been handled by someone else"))
            reopen(request, actor)
        request.provider_id = provider_id
        request.item_name = HOSTS[host_type].name(host)[:200]
        db.session.flush()
        submit(request, actor)
    return request


def cancel(request, actor):
    """The enterprise takes the page back from the provider (撤回协助); one commit."""
    with unit_of_work():
        withdraw(request, actor)


def provider_submit(request, actor):
    """The provider's 【提交】: the page goes back to the enterprise (待企业确认); one commit."""
    with unit_of_work():
        act(request, actor, "approve")


def confirm(request):
    """The enterprise's 确认提交 of its record (inside the host's submission): 已确认."""
    if request is not None and request.status == ReviewStatus.DONE and not request.confirmed_at:
        import datetime as dt

        request.confirmed_at = dt.datetime.now()


def check_ready(request, assisted):
    """Why the host cannot be submitted yet because of the assistance, or None."""
    if assisted and state(request) == FILLING:
        return _("The industry service provider has not submitted the page yet")
    if assisted and state(request) == NONE:
        return _("Please send the page to the industry service provider, or choose No")
    return None


def _host(request):
    return HOSTS[request.host_type]


register_stage(
    Stage(
        type="assist",
        order=90,
        model=AssistRequest,
        label=_l("Assisted filling"),
        title=lambda r: _("%(name)s %(page)s assisted filling", name=r.item_name or "", page=_host(r).page_label),
        owner_link=lambda r: _host(r).owner_link(r.host_id),
        review_link=lambda r: _host(r).fill_link(r.host_id),
        item_name=lambda r: r.item_name or "",
        in_review_queue=False,  # the provider acts on the page itself, reached from its 待办
    )
)


def fill_link(request):
    return link_of(lambda r: _host(r).fill_link(r.host_id), request)
