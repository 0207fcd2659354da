"""企业信息变更 (manual 10): a request reviewed by 市工信; on approval the change is applied."""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import InfoChangeRequest, Organisation, ReviewStatus
from .stages import Stage, generic_status, register_stage

APPLIED_FIELDS = ("name", "credit_code", "town_id", "industry_id", "contact_name", "contact_phone")


def apply_change(request, actor):
    """The approved change becomes the organisation's identity, and that of its filings not yet 已备案."""
    from .filing import follow_identity_change

    org = db.session.get(Organisation, request.organisation_id)
    for field in APPLIED_FIELDS:
        value = getattr(request, field)
        if field == "industry_id" and value is None:
            continue
        setattr(org, field, value)
    follow_identity_change(org)


def status_text(request):
    """As every stage's, but a request under review is simply 待审核 (its chain has one step)."""
    return _("Pending review") if request.status == ReviewStatus.REVIEWING else generic_status(request)


def _attachment(request, item):
    for att in request.attachments:
        if att.id == item:
            return att.file
    return None


register_stage(
    Stage(
        type="info_change",
        order=20,
        model=InfoChangeRequest,
        label=_l("Enterprise information change"),
        title=lambda r: _("enterprise information change review"),
        owner_link=lambda r: url_for("InfoChangeView.form"),
        item_name=lambda r: r.name,
        item_label=_l("New enterprise name"),
        status_text=status_text,
        review_template="zsdx/_review_info_change.html",
        review_context=lambda r: {"org": r.organisation},
        files={"attachment": _attachment},
        queue_options=lambda model: [joinedload(model.town), joinedload(model.organisation)],
        on_complete=apply_change,
    )
)
