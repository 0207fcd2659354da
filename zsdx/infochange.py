"""企业信息变更 (manual 10): a request reviewed by 市工信; on approval the change is applied."""

from flask import url_for
from flask_babel import gettext as _

from .extensions import db
from .models import InfoChangeRequest, Organisation
from .workflow import Subject, register_subject

APPLIED_FIELDS = ("name", "credit_code", "town_id", "industry_id", "contact_name", "contact_phone")


def apply_change(request, actor):
    org = db.session.get(Organisation, request.organisation_id)
    for field in APPLIED_FIELDS:
        value = getattr(request, field)
        if field == "industry_id" and value is None:
            continue
        setattr(org, field, value)


register_subject(
    Subject(
        type="info_change",
        model=InfoChangeRequest,
        title=lambda r: _("enterprise information change review"),
        owner_link=lambda r: url_for("InfoChangeView.form"),
        review_link=lambda r: url_for("ReviewQueueView.detail", subject="info_change", pk=r.id),
        on_complete=apply_change,
    )
)
