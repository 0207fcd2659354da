"""申报窗口: the periods in which a chain accepts submissions (guard `window_open`), kept by 市工信 with
FAB's generated CRUD under the shared visibility (zsdx/views/generated.py).

A window with a 公告内容 publishes a 首页 公告 (manual 09: "请密切关注系统公告通知，开放时间将另行告知") that
follows it: its title names the kind and the period, editing or closing the window rewrites it, emptying
the text or deleting the window withdraws it."""

import datetime as dt

from flask import flash, g, redirect
from flask_appbuilder.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..extensions import db
from ..models import Announcement, SubmissionWindow
from ..stages import STAGES
from .admin import titles
from .datamodel import EagerSQLAInterface
from .generated import ScopedModelView


def _chain_choices():
    return [(s.chain, str(s.label)) for s in STAGES.values()]


def _chain_label(value):
    return dict(_chain_choices()).get(value, value)


class SubmissionWindowView(ScopedModelView):
    datamodel = EagerSQLAInterface(SubmissionWindow)
    locals().update(titles(_l("Submission window")))
    label_columns = {
        "chain_name": _l("Application kind"),
        "name": _l("Window name"),
        "opens_at": _l("Opens at"),
        "closes_at": _l("Closes at"),
        "created_at": _l("Created at"),
        "notice": _l("Announcement on the home page"),
    }
    description_columns = {
        "notice": _l("If filled, published on 首页 as an announcement that follows the window's period"),
    }
    list_columns = ["name", "chain_name", "opens_at", "closes_at"]
    add_columns = edit_columns = ["name", "chain_name", "opens_at", "closes_at", "notice"]
    show_columns = ["name", "chain_name", "opens_at", "closes_at", "notice", "created_at"]
    search_columns = ["name", "chain_name"]
    order_columns = ["opens_at", "closes_at", "name"]
    base_order = ("opens_at", "desc")
    formatters_columns = {"chain_name": _chain_label}
    add_form_extra_fields = edit_form_extra_fields = {
        "chain_name": SelectField(_l("Application kind"), choices=_chain_choices, validators=[DataRequired()]),
        "notice": TextAreaField(
            _l("Announcement on the home page"),
            validators=[Optional(), Length(max=5000, message=_l("At most %(n)s characters", n=5000))],
        ),
    }
    page_size = 20

    def _check(self, item):
        if item.chain_name not in {c for c, _label in _chain_choices()}:
            raise ValidationError(_("Please choose the application kind"))
        if item.opens_at is None or item.closes_at is None or item.closes_at <= item.opens_at:
            raise ValidationError(_("The closing time must be later than the opening time"))

    def pre_add(self, item):
        self._check(item)
        sync_announcement(item)

    def pre_update(self, item):
        self._check(item)
        sync_announcement(item)

    def pre_delete(self, item):
        item.notice = None
        sync_announcement(item)

    @action("close_now", _l("Close now"), _l("Close the selected windows now?"), "fa-stop", single=False)
    def close_now(self, items):
        items = items if isinstance(items, list) else [items]
        now = dt.datetime.now()
        for item in items:
            if item.closes_at > now:
                item.closes_at = max(now, item.opens_at)
                sync_announcement(item)
        db.session.commit()
        flash(_("%(n)s windows closed", n=len(items)), "success")
        return redirect(self.get_redirect())


def _fmt(moment):
    return moment.strftime("%Y-%m-%d %H:%M")


def sync_announcement(window):
    """Publish, rewrite or withdraw the window's 首页 公告 in the window's own transaction."""
    notice = (window.notice or "").strip()
    item = db.session.get(Announcement, window.announcement_id) if window.announcement_id else None
    if not notice:
        if item is not None:
            item.published = False
        return
    if item is None:
        item = Announcement(author_id=g.user.id if getattr(g, "user", None) else None)
        db.session.add(item)
    item.title = _(
        "%(kind)s open period: %(start)s to %(end)s",
        kind=_chain_label(window.chain_name),
        start=_fmt(window.opens_at),
        end=_fmt(window.closes_at),
    )[:200]
    item.body = notice
    item.published = True
    db.session.flush()
    window.announcement_id = item.id
