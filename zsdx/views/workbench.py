"""我的工作台: the organisation card, the stage tabs, and the 待办事项 / 审核通知 / 留言板 / 我 panel."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union_all, update
from sqlalchemy.orm import joinedload

from .. import roles as R
from ..extensions import db
from ..forms import MessageForm
from ..models import Message, Notification, NotificationKind, Organisation, OrgKind, ZsdxUser
from ..notifications import unread_counts, unread_messages
from ..paging import paginate
from ..stages import tabs_of
from ..visibility import get_visible_or_404, owned, visible

# The groups of 我的工作台 (manual ch. 02–09); each stage registers its tabs (zsdx/stages.py register_tab).
GROUPS = [("projects", _l("Project management")), ("diagnosis", _l("Digital diagnosis and assessment"))]
PANEL_SIZE = 6


def _city_users():
    from ..workflow import users_with_role

    return users_with_role(R.CITY).all()


def _tell(users, text, link):
    """留言板 activity as a 待办事项 (no SMS: messages are not urgent)."""
    from ..notifications import notify

    for user in users:
        notify(user, NotificationKind.TODO, text, link=link, send_sms=False)


def panel_context(user):
    """The right-hand panel: latest notifications of each kind and the unread counts."""
    # the newest PANEL_SIZE of each kind in one statement: a UNION ALL of per-kind index scans
    newest = union_all(
        *[
            select(
                visible(Notification, user)
                .with_entities(Notification.id)
                .filter(Notification.kind == kind)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(PANEL_SIZE)
                .subquery()
            )
            for kind in NotificationKind.ALL
        ]
    ).subquery()
    rows = (
        visible(Notification, user)
        .join(newest, newest.c.id == Notification.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .all()
    )
    latest = {kind: [n for n in rows if n.kind == kind] for kind in NotificationKind.ALL}
    return {"latest": latest, "unread": unread_counts(user.id), "unread_messages": unread_messages(user.id)}


class WorkbenchView(BaseView):
    route_base = "/workbench"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        group = request.args.get("group", "projects")
        if group not in dict(GROUPS):
            group = "projects"
        tabs = tabs_of(group)
        keys = [t.key for t in tabs]
        key = request.args.get("tab")
        tab = tabs[keys.index(key)] if key in keys else tabs[0]
        org = (
            visible(Organisation)
            .options(joinedload(Organisation.town))
            .filter(Organisation.id == g.user.organisation_id)
            .first()
            if g.user.organisation_id
            else None
        )
        rows, extra = [], {}
        if org is not None and org.kind == OrgKind.ENTERPRISE:
            # a tab's rows(user) is an ordered query: counted and paged in SQL, 20 a page (?page= in the URL)
            rows = paginate(tab.rows(g.user) if tab.rows else [])
            extra = tab.context(g.user) if tab.context else {}
        return self.render_template(
            "zsdx/workbench.html",
            title=_("My workbench"),
            org=org,
            is_enterprise=org is not None and org.kind in (OrgKind.ENTERPRISE, OrgKind.PROVIDER),
            groups=GROUPS,
            group=group,
            tabs=[(t.key, t.label) for t in tabs],
            tab=tab.key,
            tab_template=tab.template if org is not None and org.kind == OrgKind.ENTERPRISE else "zsdx/_tab_empty.html",
            columns=tab.columns,
            tab_cells=tab.cells,
            rows=rows,
            panel=panel_context(g.user),
            panel_tab=request.args.get("panel", NotificationKind.TODO),
            **extra,
        )


class NotificationView(BaseView):
    """查看更多: every notification of the user; opening one marks it read."""

    route_base = "/notifications"
    default_view = "list"
    page_size = 20

    @expose("/")
    @has_access
    def list(self):
        kind = request.args.get("kind", NotificationKind.REVIEW)
        if kind not in NotificationKind.ALL:
            kind = NotificationKind.REVIEW
        # counted up to 10,000 ("超过 10000 条"): a city reviewer has tens of thousands of notifications
        items = paginate(
            visible(Notification)
            .filter(Notification.kind == kind)
            .order_by(Notification.created_at.desc(), Notification.id.desc()),
            per_page=self.page_size,
        )
        return self.render_template(
            "zsdx/notifications.html",
            title=_("Notifications"),
            kind=kind,
            items=items,
            total=items.total,
            capped=items.capped,
            page=items.page,
            pages=items.pages,
            unread=unread_counts(g.user.id),
        )

    @expose("/<int:pk>")
    @has_access
    def open(self, pk):
        note = get_visible_or_404(Notification, pk)
        if not note.is_read:
            note.is_read = True
            db.session.commit()
        return redirect(note.link or url_for("NotificationView.list", kind=note.kind))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        kind = request.form.get("kind")
        query = visible(Notification).filter(Notification.is_read.is_(False))
        if kind in NotificationKind.ALL:
            query = query.filter(Notification.kind == kind)
        query.update({Notification.is_read: True}, synchronize_session=False)
        db.session.commit()
        return redirect(url_for("NotificationView.list", kind=kind or NotificationKind.REVIEW))


class MessageBoardView(BaseView):
    """留言板 of an enterprise or provider: its thread with the platform."""

    route_base = "/messages"
    default_view = "thread"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def thread(self):
        org = g.user.organisation
        if org is None:
            abort(404)
        form = MessageForm()
        if form.validate_on_submit():
            db.session.add(Message(organisation_id=org.id, author_id=g.user.id, body=form.body.data.strip()))
            _tell(
                _city_users(),
                _("New message from %(org)s on the message board", org=org.name),
                url_for("MessageReplyView.reply", org_id=org.id),
            )
            db.session.commit()
            flash(_("Your message has been sent"), "success")
            return redirect(url_for("MessageBoardView.thread"))
        messages = owned(Message).options(joinedload(Message.author)).order_by(Message.created_at, Message.id).all()
        page = self.render_template(
            "zsdx/messages.html", title=_("Message board"), form=form, messages=messages, org=org
        )
        _mark_read([m.id for m in messages if m.from_platform and not m.read_by_enterprise], "read_by_enterprise")
        return page


class MessageReplyView(BaseView):
    """市工信 answers the message board: a list of threads and a reply box."""

    route_base = "/message-replies"
    default_view = "threads"

    @expose("/")
    @has_access
    def threads(self):
        from sqlalchemy import func

        rows = (
            visible(Organisation)
            .join(Message, Message.organisation_id == Organisation.id)
            .with_entities(Organisation, func.max(Message.created_at), func.count(Message.id))
            .group_by(Organisation.id)
            .order_by(func.max(Message.created_at).desc())
            .limit(200)
            .all()
        )
        return self.render_template("zsdx/message_threads.html", title=_("Message board"), rows=rows)

    @expose("/<int:org_id>", methods=["GET", "POST"])
    @has_access
    def reply(self, org_id):
        org = get_visible_or_404(Organisation, org_id)
        form = MessageForm()
        if form.validate_on_submit():
            db.session.add(
                Message(organisation_id=org.id, author_id=g.user.id, body=form.body.data.strip(), from_platform=True)
            )
            members = db.session.query(ZsdxUser).filter(ZsdxUser.organisation_id == org.id).all()
            _tell(members, _("The platform has replied to your message"), url_for("MessageBoardView.thread"))
            db.session.commit()
            return redirect(url_for("MessageReplyView.reply", org_id=org.id))
        messages = (
            visible(Message)
            .options(joinedload(Message.author))
            .filter(Message.organisation_id == org.id)
            .order_by(Message.created_at, Message.id)
            .all()
        )
        page = self.render_template(
            "zsdx/messages.html", title=_("Message board"), form=form, messages=messages, org=org, platform=True
        )
        _mark_read([m.id for m in messages if not m.from_platform and not m.read_by_platform], "read_by_platform")
        return page


def _mark_read(ids, column):
    """Mark the shown messages read, after the page is rendered (a commit expires what the page reads)."""
    if ids:
        db.session.execute(update(Message).where(Message.id.in_(ids)).values({column: True}))
        db.session.commit()
