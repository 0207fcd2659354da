"""gunicorn settings for zsdx (the production command in the README: `gunicorn -c gunicorn.conf.py app:app`,
which is also gunicorn's default config file name in the working directory).

No `Server: gunicorn` header (issue 8): gunicorn 27 has no setting for it; it writes the header from
`gunicorn.http.wsgi.Response.default_headers`, so the line is dropped there.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _headers_without_server


# Requests after which a worker freezes again what it holds (see `post_worker_init`): by then it has imported what
# its pages import lazily and filled SQLAlchemy's statement cache (~110,000 objects more, ~60 ms a full collection).
REFREEZE_AFTER_REQUESTS = 1000


def _freeze():
    import gc

    gc.collect()  # the garbage is freed, not frozen
    gc.freeze()


def post_worker_init(worker):
    """Freeze what the worker holds once the app is loaded (issue 12: the tail under load).

    Python's full (generation 2) collection walks every tracked object; a loaded worker holds ~220,000 (the app,
    its views, SQLAlchemy's mappers, the catalogs), so each full collection paused a request for 100–340 ms, 4–8
    times per worker in a benchmark run. `gc.freeze()` moves what exists now to the permanent generation, which
    the collector never walks: a full collection then walks only what requests left behind. Objects freed by their
    reference count are freed as before.
    """
    _freeze()


def post_request(worker, req, environ, resp):
    """Freeze once more when the worker is warm; gunicorn calls this once the response has been sent, so the
    collection it costs (once, ~60 ms) holds no answer up."""
    if worker.nr == REFREEZE_AFTER_REQUESTS:
        _freeze()
