"""Jinja filters shared by the templates."""

from types import SimpleNamespace

import flask_babel
from flask.globals import _cv_app
from jinja2 import pass_eval_context
from markupsafe import Markup

from .request_cache import ProcessMemo

# navbar_menu(): (language, access signature) -> the rendered menu items; a few entries per role in practice
_MENUS = ProcessMemo()
# _template_gettext: (translations, msgid, autoescape, no variables) -> the translated text (Markup when
# autoescaping), `%`-ed already when it has no variables; a few thousand msgids at most
_TEXTS = ProcessMemo(16384)


def current_translations():
    """Flask-Babel's translations of this request, found once per request and per locale.

    flask_babel.get_translations() finds the domain and the locale and rebuilds the locale's name on every
    call (~17 µs before _babel_context below, ~3 µs after; a workbench page makes ~140 through `_()`). This answers from the
    Babel namespace of the request (`g._flask_babel`), where Flask-Babel keeps the request's locale: the
    translations are remembered there beside the locale and domain objects they belong to, so
    `force_locale` (which swaps the locale) and another domain still get Flask-Babel's own answer."""
    ctx = _cv_app.get(None)
    ns = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
    locale = getattr(ns, "babel_locale", None)
    domain = getattr(ns, "babel_domain", None)
    kept = getattr(ns, "zsdx_translations", None)
    if kept is not None and kept[0] is locale and kept[1] is domain and locale is not None:
        return kept[2]
    translations = flask_babel.get_translations()
    if ns is not None:
        ns.zsdx_translations = (ns.__dict__.get("babel_locale"), ns.__dict__.get("babel_domain"), translations)
    return translations


def _babel_context():
    """flask_babel._get_current_context (Flask-Babel 4.0.0, pinned) without its LocalProxy walks: the same
    namespace on the application context's `g`, or None outside one. Every gettext / lazy string / format
    call of Flask-Babel asks for it two or three times (~4 µs each through the proxy)."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    ns = ctx.g.__dict__.get("_flask_babel")
    if ns is None:
        ns = ctx.g._flask_babel = SimpleNamespace()
    return ns


def _speed_up_flask_babel():
    original = getattr(flask_babel, "_get_current_context", None)
    if original is not None and original is not _babel_context:
        flask_babel._get_current_context = _babel_context


@pass_eval_context
def _template_gettext(eval_ctx, string, **variables):
    """`_()` / `gettext()` / `{% trans %}` of the templates: what Jinja's newstyle gettext does (translate,
    Markup when autoescaping, always `%` the variables) in one call, instead of its alias resolving `gettext`
    from the context and calling through Context.call twice (~10 µs a string; ~140 on a 工作台 page). The
    translated text is kept per process for each catalog (one per language), so a text costs a dict look-up."""
    translations = current_translations()
    if type(string) is not str:  # a lazy string or another object: translated each time
        rv = Markup(translations.ugettext(string)) if eval_ctx.autoescape else translations.ugettext(string)
        return rv % variables
    key = (translations, string, eval_ctx.autoescape, not variables)
    rv = _TEXTS.get(key)
    if rv is None:
        rv = translations.ugettext(string)
        if eval_ctx.autoescape:
            rv = Markup(rv)
        if not variables:  # the text with no variable is the same every time: `%` it once
            rv = rv % variables
        rv = _TEXTS.keep(key, rv)
    return rv % variables if variables else rv


def _install_fast_gettext(app):
    """The templates' `_()`/`ngettext()`: Flask-Babel's callables with current_translations()."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = _template_gettext


def register(app):
    from . import filing

    _speed_up_flask_babel()
    _install_fast_gettext(app)

    @app.template_filter("dt")
    def format_datetime(value):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""

    @app.template_filter("d")
    def format_date(value):
        return value.strftime("%Y-%m-%d") if value else ""

    app.add_template_filter(filing.status_label, "filing_status")

    @app.template_filter("wan")
    def format_wan(value):
        """An amount in 万元 as stored (Decimal), with its 4 places; '' when empty. Never through float."""
        from decimal import Decimal

        if value is None or value == "":
            return ""
        return f"{Decimal(value).quantize(Decimal('0.0001')):f}"

    @app.template_global("navbar_menu")
    def navbar_menu():
        """The menu items of the header (FAB's navbar_menu.html), rendered once per process for each access
        signature and language: the items a user sees depend only on what `has_access` answers, and the
        signature holds everything those answers depend on (see PermissionCacheMixin.access_signature).
        Rendering it cost ~16 permission checks and ~5 ms of every page."""
        from flask import current_app
        from flask_babel import get_locale

        appbuilder = current_app.appbuilder
        signature = appbuilder.sm.access_signature()
        key = (str(get_locale()), signature)
        html = _MENUS.get(key) if signature is not None else None
        if html is None:
            template = current_app.jinja_env.get_template("appbuilder/navbar_menu.html")
            html = Markup(template.render(menu=appbuilder.menu))
            if signature is not None:
                _MENUS.keep(key, html)
        return html

    @app.template_global("unread_notifications")
    def unread_notifications():
        """The header badge: unread 待办事项 + 审核通知 of the signed-in user (one aggregate query)."""
        from flask_login import current_user

        from .notifications import unread_counts

        if not getattr(current_user, "is_authenticated", False):
            return 0
        return sum(unread_counts(current_user.id).values())

    @app.template_global("once")
    def once(render):
        """`render` (a macro) as a callable that renders it on its first call and gives the same markup on every
        call after: for a part a page repeats unchanged, e.g. the options of every row's dialog (issue 12)."""
        done = []

        def rendered():
            if not done:
                done.append(render())
            return done[0]

        return rendered

    @app.template_filter("badge")
    def badge(count):
        """An unread count as a badge shows it: 1..99, then "99+" (zsdx.notifications counts no further than
        UNREAD_SHOWN, 100)."""
        return count if count < 100 else "99+"

    @app.template_filter("fromjson")
    def from_json(value):
        import json

        return json.loads(value or "[]")

    @app.template_filter("choice")
    def choice_label(value, choices):
        return str(dict(choices).get(value, value or ""))
