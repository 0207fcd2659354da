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
