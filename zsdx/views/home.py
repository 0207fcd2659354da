"""首页: the announcements (公告) of 市工信, open to everyone."""

from flask import abort
from flask_appbuilder import IndexView, expose
from flask_babel import gettext as _

from ..extensions import db
from ..models import Announcement


def published():
    return db.session.query(Announcement).filter(Announcement.published.is_(True))


class HomeView(IndexView):
    route_base = ""
    index_template = "zsdx/home.html"

    @expose("/")
    def index(self):
        items = published().order_by(Announcement.published_at.desc()).limit(20).all()
        return self.render_template(self.index_template, announcements=items, title=_("Home"))

    @expose("/announcements/<int:pk>")
    def announcement(self, pk):
        item = published().filter(Announcement.id == pk).one_or_none()
        if item is None:
            abort(404)
        return self.render_template("zsdx/announcement.html", item=item, title=item.title)
