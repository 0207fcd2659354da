"""Security headers on every response (issue 8).

- No page can be framed: `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'` (clickjacking of the
  review buttons).
- Content-Security-Policy: scripts only from this site, or inline with this request's nonce. FAB 5.3's
  templates already write `nonce="{{ baselib.get_nonce() }}"`, which calls a `csp_nonce()` Jinja global
  when one is defined (as Flask-Talisman does): it is defined here, one random nonce per request. Styles
  allow inline `style="…"` attributes: FAB's templates use them, and old Chromium browsers (360, QQ) do not
  know `style-src-attr`, so a nonce-only style policy would break their layout.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`.
- `Cache-Control: no-store` on every response except static files: pages of signed-in users must not stay
  in a shared or back-button cache after logout; zsdx/files.py sends its own `private, no-store`.
- `url_for` of a relative URL is built once per process (`_memoise_urls`).
- Static files are versioned: `url_for('static' | 'appbuilder.static', filename=…)` adds `?v=<size-mtime>` of the
  file, and a versioned request is cached for a year (`immutable`), so a page costs no round trip per script
  and style sheet; a changed file gets a new URL.
- No `Server: gunicorn`: the header is written by gunicorn below the WSGI app; gunicorn.conf.py at the
  repository root (used by the production command in the README) leaves it out.
"""

import os
import secrets
from functools import lru_cache

from flask import current_app, g, has_request_context, request

from .request_cache import ProcessMemo

STATIC_ENDPOINTS = {"static", "appbuilder.static"}


def csp_nonce():
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce):
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_security_headers(response):
    headers = response.headers
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    if request.endpoint in STATIC_ENDPOINTS:
        if request.args.get("v") and response.status_code == 200:
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif "no-store" not in (headers.get("Cache-Control") or ""):
        headers["Cache-Control"] = "no-store"
    return response


@lru_cache(maxsize=1024)
def _static_version(folder, filename):
    try:
        st = os.stat(os.path.join(folder, filename))
    except (OSError, ValueError):
        return None
    return f"{st.st_size:x}-{int(st.st_mtime):x}"


def _version_static_urls(endpoint, values):
    if endpoint not in STATIC_ENDPOINTS or "filename" not in values or "v" in values:
        return
    if endpoint == "static":
        folder = current_app.static_folder
    else:
        blueprint = current_app.blueprints.get(endpoint.rsplit(".", 1)[0])
        folder = blueprint.static_folder if blueprint is not None else None
    version = _static_version(folder, values["filename"]) if folder else None
    if version:
        values["v"] = version


def _memo_key(endpoint, values):
    """The memo key of a relative URL, or None when the URL is not memoised: a blueprint-relative endpoint
    (its blueprint is the request's), or a value other than a short string or an integer (a long search
    text would make the memo hold it)."""
    if endpoint.startswith("."):
        return None
    for value in values.values():
        kind = type(value)
        if not (kind is int or (kind is str and len(value) <= 64)):
            return None
    return (request.script_root, endpoint, *values.items())


def _memoise_urls(app):
    """`url_for` answered from a dict after the first build. A relative URL depends only on the endpoint, the
    values (the only URL-defaults function, `_version_static_urls`, depends on nothing else either) and the
    application root, so a page's links (every static file, ~20, and the links of each list row) are built
    by Werkzeug once per process. External URLs, anchors, methods and schemes go to Flask's url_for
    unchanged."""
    build = app.url_for
    urls = ProcessMemo(8192)

    def url_for(endpoint, *, _anchor=None, _method=None, _scheme=None, _external=None, **values):
        if _anchor is None and _method is None and _scheme is None and not _external and has_request_context():
            key = _memo_key(endpoint, values)
            if key is not None:
                url = urls.get(key)
                return url if url is not None else urls.keep(key, build(endpoint, **values))
        return build(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values)

    app.url_for = url_for
    app.jinja_env.globals["url_for"] = url_for


def register(app):
    _memoise_urls(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_security_headers)
    app.url_defaults(_version_static_urls)
