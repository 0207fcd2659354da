"""FAB's generated CRUD (list/search/sort/show/add/edit/actions) for plain record kinds, safe by default.

`ScopedModelView` puts the shared visibility (zsdx/visibility.py) into `base_filters`, and re-routes what
FAB 5.3 does *not* filter (FAB-NOTES P1): `action` and `action_post` load each row with
`datamodel.get(pk)` and `download/<filename>` serves any stored file. Here every action row is loaded
through the base filters (a row outside them is a 404 and nothing runs), an unknown action name is a 404,
and downloads are refused unless a subclass names the file column and the owning row is visible.
"""

from flask import abort, g, request, send_file
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access

from ..visibility import visible_clause


class VisibleRows(BaseFilter):
    """base_filters entry: only the rows the current user may see (zsdx.visibility)."""

    name = "visible to the current user"
    arg_name = "visible"

    def apply(self, query, value):
        return query.filter(visible_clause(self.model))


class OwnedRows(BaseFilter):
    """base_filters entry: only the rows the current user's own organisation owns (its own list)."""

    name = "owned by the current user's organisation"
    arg_name = "owned"

    def apply(self, query, value):
        from sqlalchemy import false

        from ..visibility import owner_clause

        clause = owner_clause(self.model, g.user)
        return query.filter(false() if clause is None else clause)


class ScopedModelView(ModelView):
    base_filters = [["id", VisibleRows, None]]
    file_columns = ()  # columns holding FAB-stored file names that `download` may serve (visible rows only)

    def _visible_item(self, pk):
        try:
            pk = self._deserialize_pk_if_composite(pk)
            item = self.datamodel.get(pk, self._base_filters)
        except (ValueError, TypeError, LookupError):
            item = None
        if item is None:
            abort(404)
        return item

    def _checked_action(self, name):
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name):
            abort(403)
        return self.actions[name]

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    @has_access
    def action(self, name, pk):
        action = self._checked_action(name)
        return action.func(self._visible_item(pk))

    @expose("/action_post", methods=["POST"])
    @has_access
    def action_post(self):
        action = self._checked_action(request.form.get("action", ""))
        pks = request.form.getlist("rowid")
        if not pks or len(pks) > 500:
            abort(400)
        return action.func([self._visible_item(pk) for pk in pks])

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        import os

        from flask import current_app
        from flask_appbuilder.filemanager import uuid_originalname

        model = self.datamodel.obj
        for column in self.file_columns:
            query = self.datamodel.session.query(model).filter(
                getattr(model, column) == filename, visible_clause(model)
            )
            if query.first() is not None:
                path = os.path.join(current_app.config["UPLOAD_FOLDER"], os.path.basename(filename))
                if os.path.isfile(path):
                    return send_file(path, download_name=uuid_originalname(filename), as_attachment=True)
        abort(404)
