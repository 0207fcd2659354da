"""行业型服务商协助填写 on the screens (the rules are zsdx.assist): what every host stage's views share — the
provider's page (404 to anyone but the provider asked; read-only once the request has left it), the
enterprise's 是/否 choice, 【发送】 to a lead unit among `allowed`, 撤回, and the provider's 【提交】.

Templates show the choice with zsdx/_assist_choice.html."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from .. import assist
from ..extensions import db
from ..inputs import parse_integer
from ..visibility import get_visible_or_404
from ..workflow import WorkflowError


def row_id(value):
    """A posted id (a positive whole number), or None."""
    number, error = parse_integer(value or "", 1)
    return None if error else number


def helped_or_404(model, pk, detail_endpoint, options=()):
    """The host record for its provider's page: (record, None) while the request waits with the user's
    organisation (协助填写中); (record, a redirect to the detail) on a GET once it has left it (403 on a POST);
    404 to anyone else (Admin included: the page is the provider's)."""
    record = get_visible_or_404(model, pk, options=options)
    if record.assist is None or record.assist.provider_id != g.user.organisation_id:
        abort(404)
    if not assist.may_fill(g.user, record.assist):
        if request.method == "POST":
            abort(403)
        flash(_("This page can be filled only while the enterprise's request is with your organisation"), "warning")
        return record, redirect(url_for(detail_endpoint, pk=pk))
    return record, None


def read_choice(record):
    """The enterprise's 行业型服务商协助填写 是/否 as posted (anything else leaves it as it was)."""
    choice = request.form.get("assisted")
    if choice in ("1", "0"):
        record.assisted = choice == "1"


def send(host_type, record, allowed, here, done):
    """【发送】 the page to the lead unit posted as `assist_provider`, one of `allowed` (the contracts' signed
    industry service providers): 是 is kept, then the request goes out. A redirect either way."""
    provider_id = row_id(request.form.get("assist_provider"))
    try:
        if not allowed:
            raise WorkflowError(_("Without a lead unit, please choose No"))
        record.assisted = True
        db.session.commit()
        assist.ask(host_type, record, g.user, provider_id, allowed)
    except WorkflowError as exc:
        flash(str(exc), "danger")
        return redirect(here)
    flash(_("The page has been sent to the industry service provider"), "success")
    return redirect(done)


def take_back(record, here):
    """撤回: the enterprise takes the page back from the provider."""
    try:
        assist.cancel(record.assist, g.user)
        flash(_("The request to the industry service provider was withdrawn"), "success")
    except WorkflowError as exc:
        flash(str(exc), "danger")
    return redirect(here)


def provider_submit(record, done):
    """The provider's 【提交】 (its page already checked by the host): back to the enterprise to confirm."""
    try:
        assist.provider_submit(record.assist, g.user)
    except WorkflowError as exc:
        flash(str(exc), "danger")
        return redirect(done)
    flash(_("Submitted; the page has gone back to the enterprise for confirmation"), "success")
    return redirect(done)


def choice_context(record, allowed, offer=True):
    """What zsdx/_assist_choice.html needs besides the record: the state, and the lead units among `allowed`
    (looked up only when the choice is `offer`ed)."""
    return {
        "assist_state": assist.state(record.assist, bool(record.assisted)),
        "assist_providers": assist.provider_choices(allowed) if offer else [],
    }
