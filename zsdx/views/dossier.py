"""一企一档 (SPEC §3.11), for 市工信 only: the list of projects (town, name / 备案号 search, stage reached; 20 a
page), one project's dossier as JSON, and the .zip of the filtered projects, written by a job whose
progress the page polls.

Rows are those 市工信 sees through zsdx.visibility (submitted filings). Every route also checks the 市工信
role itself: Admin, whose FAB role holds every permission, gets a 403 too. An export belongs to the user
who started it: its token (256 random bits) answers 404 to anyone else.
"""

from flask import Response, abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from .. import dossier
from .. import roles as R
from ..filestore import get_store
from ..guards import CONTROL, id_arg
from ..models import Filing
from ..paging import paginate
from ..visibility import visible
from .account import town_choices

PAGE_SIZE = 20


def _city_only():
    if R.CITY not in R.role_names(g.user):
        abort(403)


def _filters(args):
    reached = args.get("reached", "")
    return {
        "town_id": id_arg(args.get("town")),
        "text": CONTROL.sub("", args.get("q") or "")[:100],  # a posted form is not guarded (NUL in SQL)
        "reached": reached if reached in dict(dossier.REACHED) else None,
    }


def _filtered():
    f = _filters(request.values)
    return dossier.filter_filings(visible(Filing), **f), f


def _own_export(token):
    """The export `token` of the current user, or 404."""
    status = dossier.read_status(token)
    if status is None or status.get("user_id") != g.user.id:
        abort(404)
    return status


class DossierView(BaseView):
    route_base = "/dossier"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        _city_only()
        query, f = _filtered()
        # counted up to COUNT_LIMIT ("超过 10000 条"): a search matching most projects stops counting early
        page = paginate(query.options(joinedload(Filing.town)).order_by(Filing.id.desc()), per_page=PAGE_SIZE)
        filings = page.items
        reached = dossier.reached_labels([f_.project_id for f_ in filings])
        args = {
            k: v
            for k, v in (("town", f["town_id"]), ("q", f["text"]), ("reached", f["reached"]))
            if v not in (None, "")
        }
        return self.render_template(
            "zsdx/dossier_list.html",
            title=_("Enterprise dossiers"),
            rows=[(f_, reached.get(f_.project_id, "")) for f_ in filings],
            towns=town_choices(blank=False),
            stages=dossier.REACHED,
            args=args,
            total=page.total,
            page=page,
        )

    @expose("/<int:pk>/download")
    @has_access
    def download(self, pk):
        _city_only()
        filing = visible(Filing).filter(Filing.project_id == pk).one_or_none()
        if filing is None:
            abort(404)
        project = dossier.load(filing.project_id)
        data = dossier.build(project)
        body = dossier.dumps(data).encode("utf-8")
        name = dossier.entry_name(data)
        response = Response(body, content_type="application/json; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @expose("/export", methods=["POST"])
    @has_access
    def export(self):
        _city_only()
        query, f = _filtered()
        ids = [pid for (pid,) in query.with_entities(Filing.project_id).order_by(Filing.id)]
        if not ids:
            flash(_("No project matches the filters: nothing to export"), "warning")
            args = {"town": f["town_id"], "q": f["text"] or None, "reached": f["reached"]}
            return redirect(url_for("DossierView.index", **{k: v for k, v in args.items() if v}))
        token = dossier.start_export(g.user.id, ids)
        return redirect(url_for("DossierView.progress", token=token))

    @expose("/export/<token>")
    @has_access
    def progress(self, token):
        _city_only()
        status = _own_export(token)
        return self.render_template(
            "zsdx/dossier_export.html", title=_("Enterprise dossiers"), token=token, status=status
        )

    @expose("/export/<token>/status")
    @has_access
    def status(self, token):
        _city_only()
        status = _own_export(token)
        body = {
            "state": status.get("state"),
            "done": status.get("done", 0),
            "total": status.get("total", 0),
        }
        if status.get("state") == "done":
            body["download"] = url_for("DossierView.archive", token=token)
        response = jsonify(body)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/export/<token>/archive")
    @has_access
    def archive(self, token):
        _city_only()
        status = _own_export(token)
        if status.get("state") != "done" or not status.get("sha256"):
            abort(404)
        response = get_store().send(status["sha256"], dossier.ZIP_MIME)  # a .zip gone from the store: 404
        stamp = (status.get("finished_at") or "")[:10].replace("-", "") or "export"
        response.headers["Content-Disposition"] = f'attachment; filename="dossiers-{stamp}.zip"'
        response.headers["Cache-Control"] = "private, no-store"
        return response
