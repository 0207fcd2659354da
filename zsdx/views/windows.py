"""申报窗口: the periods in which a chain accepts submissions (guard `window_open`), kept by 市工信 with
FAB's generated CRUD under the shared visibility (zsdx/views/generated.py)."""

import datetime as dt

from flask import flash, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired, ValidationError

from ..extensions import db
from ..models import SubmissionWindow
from ..stages import STAGES
from .admin import titles
from .generated import ScopedModelView


def _chain_choices():
    return [(s.chain, str(s.label)) for s in STAGES.values()]


def _chain_label(value):
    return dict(_chain_choices()).get(value, value)


class SubmissionWindowView(ScopedModelView):
    datamodel = SQLAInterface(SubmissionWindow)
    locals().update(titles(_l("Submission window")))
    label_columns = {
        "chain_name": _l("Application kind"),
        "name": _l("Window name"),
        "opens_at": _l("Opens at"),
        "closes_at": _l("Closes at"),
        "created_at": _l("Created at"),
    }
    list_columns = ["name", "chain_name", "opens_at", "closes_at"]
    add_columns = edit_columns = ["name", "chain_name", "opens_at", "closes_at"]
    show_columns = ["name", "chain_name", "opens_at", "closes_at", "created_at"]
    search_columns = ["name", "chain_name"]
    order_columns = ["opens_at", "closes_at", "name"]
    base_order = ("opens_at", "desc")
    formatters_columns = {"chain_name": _chain_label}
    add_form_extra_fields = edit_form_extra_fields = {
        "chain_name": SelectField(_l("Application kind"), choices=_chain_choices, validators=[DataRequired()]),
    }
    page_size = 20

    def _check(self, item):
        if item.chain_name not in {c for c, _label in _chain_choices()}:
            raise ValidationError(_("Please choose the application kind"))
        if item.opens_at is None or item.closes_at is None or item.closes_at <= item.opens_at:
            raise ValidationError(_("The closing time must be later than the opening time"))

    def pre_add(self, item):
        self._check(item)

    def pre_update(self, item):
        self._check(item)

    @action("close_now", _l("Close now"), _l("Close the selected windows now?"), "fa-stop", single=False)
    def close_now(self, items):
        items = items if isinstance(items, list) else [items]
        now = dt.datetime.now()
        for item in items:
            if item.closes_at > now:
                item.closes_at = max(now, item.opens_at)
        db.session.commit()
        flash(_("%(n)s windows closed", n=len(items)), "success")
        return redirect(self.get_redirect())
