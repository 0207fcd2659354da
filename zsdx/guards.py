"""Input guards in front of every view (issue 8): bad input ends in a clean 4xx, never a 500.

- Over-large bodies: a request announcing more than MAX_CONTENT_LENGTH is answered 413 with the Chinese
  page *after* its body is read and dropped (up to a bound). Werkzeug refuses without reading, and a server
  that closes a connection with unread data resets it: the browser shows "connection reset", not our page.
  This runs first, before CSRFProtect reads the form.
- Control characters (C0 except tab, DEL) in the path or the query string: 400 with a Chinese message.
  PostgreSQL refuses NUL in a string, `send_file` an embedded NUL, Werkzeug a CR/LF in a redirect header.
- FAB's list arguments, read by `flask_appbuilder.urltools` with a bare `int()` and no bounds: a
  `page_<View>`/`psize_<View>` that is not an integer is a 400; page sizes are clamped to 1..100 and pages
  to 0..10000 (an offset beyond a 64-bit integer is an overflow in the database driver).
- FAB's ModelViews (every one registered: zsdx's and FAB's security views): FAB 5.3 looks up an unknown
  action name without a check, loads action rows that may not exist, converts a chart's group-by with
  `int()`, and sends any file name from UPLOAD_FOLDER. For a user who may use the method (the others get
  FAB's own refusal), an unknown action, a missing row, a malformed primary key, an unknown chart and a
  download from a view without files are a 404. ScopedModelView (zsdx/views/generated.py) guards its own
  actions and downloads further (the row filter).
"""

import math
import re

from flask import abort, current_app, request
from flask_appbuilder.baseviews import BaseModelView
from flask_appbuilder.const import PERMISSION_PREFIX
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest

from .inputs import INT32_MAX

CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
FAB_PAGE_ARG = re.compile(r"page_")  # FAB matches re.findall("page_(.*)", arg): anywhere in the name
FAB_PSIZE_ARG = re.compile(r"psize_")
FAB_FILTER_ARG = re.compile(r"_flt_(\d)_(.*)")  # as flask_appbuilder.urltools.get_filter_args
INTEGER = re.compile(r"\s*[+-]?\d{1,18}\s*")
PK = re.compile(r"\d{1,18}")
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100
DRAIN_FACTOR = 4  # read and drop at most 4 × MAX_CONTENT_LENGTH of an over-large body, then let it reset

CONTROL_MESSAGE = _l("The address contains control characters that are not allowed. Please check it and try again.")
NUMBER_MESSAGE = _l("A page number or page size in the address is not a number.")


FILTER_MESSAGE = _l("A search value is out of range. Please enter a smaller number.")


def _in_column_range(datamodel, column, value):
    """FAB converts a filter value with int()/float() (a boolean's only from "y") and hands it to the
    driver: keep it within what the column takes."""
    try:
        if datamodel.is_integer(column):
            return abs(int(value)) <= INT32_MAX  # an INTEGER column (PostgreSQL refuses a larger parameter for one)
        if datamodel.is_float(column):
            return math.isfinite(float(value)) and abs(float(value)) < 1e15
        if datamodel.is_boolean(column):
            return value in ("", "y", "n")  # FAB passes anything but "y" through raw: PostgreSQL refuses it
    except (ValueError, TypeError, OverflowError):
        return True  # FAB turns an unparsable number into None itself
    return True


def page_arg(name="page", limit=MAX_PAGE):
    """A 1-based page number from the query string, within 1..limit (garbage is page 1)."""
    return min(max(request.args.get(name, 1, type=int) or 1, 1), limit)


def id_arg(value):
    """An id from the query string as an int a database column takes, else None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= INT32_MAX else None


class RefusedInput(BadRequest):
    """A 400 whose Chinese message zsdx/errors.py shows instead of the generic one."""

    def __init__(self, message):
        super().__init__()
        self.zh_message = message


def refuse_oversized_body():
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if not limit or length is None or length <= limit:
        return None
    drain(request.environ, min(length, limit * DRAIN_FACTOR))
    abort(413)


def drain(environ, length):
    """Read and drop `length` bytes of the body (exactly that many: a dev server's input is not bounded)."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    left = length
    try:
        while left > 0:
            chunk = stream.read(min(left, 1024 * 1024))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError):
        pass


def refuse_control_characters():
    if CONTROL.search(request.path):
        raise RefusedInput(CONTROL_MESSAGE)
    for key, values in request.args.lists():
        if CONTROL.search(key) or any(CONTROL.search(v) for v in values):
            raise RefusedInput(CONTROL_MESSAGE)


def clamp_list_arguments():
    """Rewrite FAB's page_/psize_ arguments into range (request.args is a cached property: replaceable)."""
    changed, args = False, []
    for key, value in request.args.items(multi=True):
        is_page, is_size = bool(FAB_PAGE_ARG.search(key)), bool(FAB_PSIZE_ARG.search(key))
        if is_page or is_size:
            if not INTEGER.fullmatch(value):
                raise RefusedInput(NUMBER_MESSAGE)
            number = int(value)
            bounded = min(max(number, 1), MAX_PAGE_SIZE) if is_size else min(max(number, 0), MAX_PAGE)
            changed = changed or str(bounded) != value
            value = str(bounded)
        args.append((key, value))
    if changed:
        request.args = ImmutableMultiDict(args)


class ModelViewGuard:
    """Checks the arguments of FAB ModelView endpoints that FAB 5.3 uses unchecked."""

    def __init__(self, appbuilder):
        self.appbuilder = appbuilder
        self._views = self._by_class = None

    def views(self):
        if self._views is None:
            self._views = {
                view.blueprint.name: view
                for view in self.appbuilder.baseviews
                if isinstance(view, BaseModelView) and getattr(view, "blueprint", None) is not None
            }
            self._by_class = {type(v).__name__: v for v in self._views.values()}
        return self._views

    def __call__(self):
        if not request.blueprint or not request.endpoint:
            return None
        view = self.views().get(request.blueprint)
        if view is None:
            return None
        method = request.endpoint.rsplit(".", 1)[-1]
        args = request.view_args or {}
        self.drop_unknown_order_columns()
        self.check_filters(view)
        if method == "action":
            return self.action(view, args.get("name", ""), [args.get("pk", "")])
        if method == "action_post":
            return self.action(view, request.form.get("action", ""), request.form.getlist("rowid"))
        if not self.may(view, method):
            return None  # FAB's own permission check refuses
        if "pk" in args:
            self.check_pk(view, args["pk"])  # show/edit/delete load the row through the base filters themselves
        if method == "download" and self.serves_no_files(view):
            abort(404)
        if method == "chart" and "group_by" in args:
            group_by = args["group_by"]
            if not PK.fullmatch(group_by) or int(group_by) >= len(getattr(view, "definitions", ())):
                abort(404)
        return None

    def drop_unknown_order_columns(self):
        """`_oc_<View>` naming no sortable column: SQLAlchemy fails compiling ORDER BY <text>. Sort by default."""
        self.views()
        by_class = self._by_class
        items = list(request.args.items(multi=True))
        keep = [
            (key, value)
            for key, value in items
            if not (key.startswith("_oc_") and hasattr(by_class.get(key[4:]), "order_columns"))
            or value in (by_class[key[4:]].order_columns or ())
        ]
        if len(keep) != len(items):
            request.args = ImmutableMultiDict(keep)

    @staticmethod
    def check_filters(view):
        """`_flt_<n>_<column>` with n past the column's filters: FAB indexes its list unchecked (IndexError)."""
        filters = getattr(getattr(view, "_filters", None), "_all_filters", None)
        if filters is None:
            return
        items = list(request.args.items(multi=True))
        keep = []
        for key, value in items:
            match = FAB_FILTER_ARG.match(key)
            if match and int(match.group(1)) >= len(filters.get(match.group(2), ())):
                continue
            if match and not _in_column_range(view.datamodel, match.group(2), value):
                raise RefusedInput(FILTER_MESSAGE)
            keep.append((key, value))
        if len(keep) != len(items):
            request.args = ImmutableMultiDict(keep)

    def may(self, view, method):
        name = (view.method_permission_name or {}).get(method) or method
        return self.appbuilder.sm.has_access(PERMISSION_PREFIX + name, view.class_permission_name)

    def action(self, view, name, pks):
        actions = getattr(view, "actions", {}) or {}
        if name not in actions:
            abort(404)
        permission = view.get_action_permission_name(name)
        if not self.appbuilder.sm.has_access(permission, view.class_permission_name):
            return None  # FAB's action refuses with its own message
        if not pks or len(pks) > 500:
            abort(400)
        for pk in pks:
            if self.check_pk(view, pk) and view.datamodel.get(int(pk), view._base_filters) is None:
                abort(404)  # FAB would hand None to the action
        return None

    @staticmethod
    def check_pk(view, pk):
        """A malformed primary key is a 404 (PostgreSQL refuses "abc" or a 2**31 for an integer, SQLite a 10**30)."""
        if view.datamodel.is_pk_composite():
            return False  # FAB's security models and zsdx's have none; FAB parses those itself
        if not PK.fullmatch(str(pk or "")) or int(pk) > INT32_MAX:  # ids are INTEGER columns
            abort(404)
        return True

    @staticmethod
    def serves_no_files(view):
        """FAB's stock download sends any name in UPLOAD_FOLDER: only views that override it may download."""
        from flask_appbuilder import ModelView

        return getattr(type(view), "download", None) is getattr(ModelView, "download", None)


API_QUERY_MESSAGE = _l("The query parameter q is not valid.")


class ApiQueryGuard:
    """The REST API's rison argument `q`, parsed by FAB after authentication: `(((` raises inside prison
    (a 500 from FAB's @safe), a page of 1e20 passes FAB's schema (an integral float) and overflows the
    offset, an unknown filter operator is looked up unchecked. Refused here with a Chinese JSON 400."""

    def __init__(self, appbuilder):
        self.appbuilder = appbuilder
        self._blueprints = None

    def blueprints(self):
        if self._blueprints is None:
            from flask_appbuilder.api import BaseApi

            self._blueprints = {
                v.blueprint.name for v in self.appbuilder.baseviews if isinstance(v, BaseApi) and v.blueprint
            }
        return self._blueprints

    def __call__(self):
        if "q" not in request.args or request.blueprint not in self.blueprints():
            return None
        if not valid_rison_query(request.args.get("q", "")):
            raise RefusedInput(API_QUERY_MESSAGE)
        return None


def _integral(value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return False
    return low <= value <= high


def valid_rison_query(text):
    import json

    import prison
    from flask_appbuilder.models.sqla.filters import SQLAFilterConverter

    try:
        args = prison.loads(text)
    except Exception:  # prison raises more than its ParserException on garbage
        try:
            args = json.loads(text)
        except ValueError:
            return False
    if not isinstance(args, dict):
        return False
    if "page" in args and not _integral(args["page"], 0, MAX_PAGE):
        return False
    if "page_size" in args and not _integral(args["page_size"], -1, 10_000):
        return False
    for key in ("select_columns", "columns", "keys"):
        if key in args and not (isinstance(args[key], list) and all(isinstance(c, str) for c in args[key])):
            return False
    for key in ("order_column", "order_direction"):
        if key in args and not isinstance(args[key], str):
            return False
    filters = args.get("filters", [])
    if not isinstance(filters, list):
        return False
    oprs = {f.arg_name for _kind, classes in SQLAFilterConverter.conversion_table for f in classes}
    for item in filters:
        if not isinstance(item, dict) or not isinstance(item.get("col"), str) or item.get("opr") not in oprs:
            return False
        if not isinstance(item.get("value"), (str, int, float, bool, type(None), list)):
            return False
    return True


def register(app):
    """Called last in create_app: the body-size check goes first of all before_request functions."""
    from .extensions import appbuilder

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_body)
    app.before_request(refuse_control_characters)
    app.before_request(clamp_list_arguments)
    app.before_request(ModelViewGuard(appbuilder))
    app.before_request(ApiQueryGuard(appbuilder))
