"""Error responses: one Chinese page in the site's layout for every HTTP error, JSON for API and AJAX calls.

An expired or missing CSRF token (the session ran out while a long form was open) gets its own message:
the form cannot be re-rendered server-side (CSRFProtect refuses the request before any view runs), so the
page sends the user back with history.back(), where the browser still holds what was typed, and zsdx.js
fetches a fresh token from /csrf-token as that page is shown again.

The 500 page must render with the database down: it shows the header without the menu (the menu and the
signed-in user both need the database) and is rendered without the context processors (Flask-Login's loads
the user eagerly).
"""

import logging
import time

from flask import current_app, g, jsonify, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

TEMPLATE = "zsdx/error.html"

# code → (title, what happened and what to do)
MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be processed. Please go back and try again.")),
    401: (_l("Please log in"), _l("This page is only available after logging in.")),
    403: (_l("Access denied"), _l("You do not have permission to view this page or perform this operation.")),
    404: (_l("Page not found"), _l("The page you requested does not exist or has been removed.")),
    405: (
        _l("Operation not allowed"),
        _l("This page cannot be opened this way. Please go back and use the buttons on the page."),
    ),
    413: (
        _l("Upload too large"),
        _l(
            "The uploaded content is too large: each file may be at most 100 MB. Please go back and choose a smaller file."
        ),
    ),
    429: (_l("Too many requests"), _l("Requests are too frequent. Please wait a moment and try again.")),
    500: (
        _l("Server error"),
        _l("The server ran into a problem and the error has been recorded. Please try again later."),
    ),
}
CSRF_TITLE = _l("The page has expired")
CSRF_MESSAGE = _l(
    "The page was open for a long time or your login expired, so it could not be submitted. "
    "What you typed is still on the previous page: go back and submit it again. "
    "If you have been logged out, log in again in a new window first, then go back and submit."
)
CSRF_JSON_MESSAGE = _l("The page has expired; it has been refreshed, please try again")


def wants_json():
    """API calls and AJAX requests get JSON; a browser navigating gets the page."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json"])
    return best == "application/json" and accept[best] > accept["text/html"]


def retry_after_seconds():
    """Seconds until the breached rate limit resets (None when no limit was breached)."""
    from .extensions import limiter

    current = limiter.current_limit
    if current is None or not current.breached:
        return None
    return max(1, int(current.reset_at - time.time() + 0.999))


def too_many_message(error):
    """Our own limits carry a Chinese error_message; FAB's per-IP login limit does not: say it in Chinese."""
    own = getattr(getattr(error, "limit", None), "error_message", None)
    if own:
        return error.description
    wait = retry_after_seconds()
    if wait:
        return gettext("Requests are too frequent. Please try again in %(seconds)s seconds.", seconds=wait)
    return str(MESSAGES[429][1])


def describe(error):
    code = error.code or 500
    if isinstance(error, CSRFError):
        return code, str(CSRF_TITLE), str(CSRF_MESSAGE)
    title, message = MESSAGES.get(code, (None, None))
    if code == 429:
        message = too_many_message(error)
    if getattr(error, "zh_message", None):  # a refusal that says what was wrong (zsdx/guards.py)
        message = error.zh_message
    if title is None:
        title, message = MESSAGES[500] if code >= 500 else MESSAGES[400]
    return code, str(title), str(message)


def render_error(error):
    if wants_json():
        return json_error(error)
    code, title, message = describe(error)
    response = current_app.response_class(_page(code, title, message, error), mimetype="text/html")
    response.status_code = code
    return response  # Flask-Limiter's after_request adds Retry-After to a 429


def json_error(error):
    """{"ok": false, "code", "message"} in Chinese; "csrf_expired" tells zsdx.js to fetch a fresh token."""
    code, _title, message = describe(error)
    body = {"ok": False, "code": code, "message": message}
    if isinstance(error, CSRFError):
        body.update(csrf_expired=True, message=str(CSRF_JSON_MESSAGE))
    response = jsonify(body)
    response.status_code = code
    return response


def _page(code, title, message, error):
    context = {
        "code": code,
        "title": title,
        "message": message,
        "csrf_expired": isinstance(error, CSRFError),
        "home_url": "/",
        "login_url": url_for("ZsdxAuthView.login", next=request.full_path if request.method == "GET" else None),
        "safe_mode": code >= 500,
        "appbuilder": current_app.appbuilder,
        "base_template": current_app.appbuilder.base_template,
    }
    if code < 500:
        # FAB sets g.user in a before_request that runs after CSRFProtect's: a CSRF refusal arrives without it
        g.setdefault("user", current_user)
        try:
            return render_template(TEMPLATE, **context)
        except Exception:  # e.g. the database went away while the menu was built: fall back to the safe page
            log.exception("error page for %s could not be rendered with the menu", code)
            context["safe_mode"] = True
    return _safe_page(context)


def _safe_page(context):
    """Render without the context processors and the menu: nothing here touches the database."""
    try:
        template = current_app.jinja_env.get_template(TEMPLATE)
        return template.render(
            **context,
            request=request,
            session=session,
            g=g,
            current_user=AnonymousUserMixin(),
            config=current_app.config,
        )
    except Exception:
        log.exception("error page could not be rendered")
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{t}</title></head>'
            '<body><h1>{t}</h1><p>{m}</p><p><a href="/">{h}</a></p></body></html>'
        ).format(t=context["title"], m=context["message"], h=gettext("Back to home"))


def handle_http_error(error):
    return render_error(error)


def handle_server_error(error):
    """Unhandled exceptions arrive here as InternalServerError (outside debug/testing propagation)."""
    from .extensions import db

    try:
        db.session.rollback()  # a failed transaction must not break what runs after (after_request)
    except Exception:
        log.exception("rollback after a server error failed")
    return render_error(error if isinstance(error, HTTPException) else InternalServerError())


def csrf_token():
    """A fresh token for a page the browser restored from history (its embedded one may be stale)."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app):
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.add_url_rule("/csrf-token", "csrf_token", csrf_token, methods=["GET"])
