"""Values computed once per HTTP request (issue 7, shared-layer speed).

The cache is a dict kept on the request's own context object (Flask's RequestContext), not on `flask.g`:
`g` is the application context's, and a test that holds an app context open around several client requests
shares one `g` between them, so a `g` attribute would leak one request's answers into the next. Outside a
request there is no cache at all (CLI commands, jobs and tests calling functions directly always get fresh
answers). Looked up ~100 times a page: one context-variable read, no LocalProxy.
"""

import functools

from flask.globals import _cv_request


def request_cache():
    """This request's cache dict, or None outside a request."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return None
    try:
        return ctx.zsdx_cache
    except AttributeError:
        ctx.zsdx_cache = cache = {}
        return cache


def per_request(fn):
    """Memoise `fn(*args)` for the rest of the request (positional, hashable arguments only).

    The cached value is shared by every caller: do not mutate it. `fn.forget()` drops this function's
    entries (call it after changing what it reads, when the same request reads it again).
    """
    key_base = (fn.__module__, fn.__qualname__)

    @functools.wraps(fn)
    def wrapper(*args):
        cache = request_cache()
        if cache is None:
            return fn(*args)
        key = (key_base, args)
        if key not in cache:
            cache[key] = fn(*args)
        return cache[key]

    def forget():
        cache = request_cache()
        if cache:
            for key in [k for k in cache if isinstance(k, tuple) and k and k[0] == key_base]:
                del cache[key]

    wrapper.forget = forget
    wrapper.uncached = fn
    return wrapper


class ProcessMemo(dict):
    """A dict kept for the life of the process (rendered menus, permission pairs, static URLs, 数据看板
    content), emptied when it reaches `limit` entries so that it can never grow without bound."""

    def __init__(self, limit=256):
        super().__init__()
        self.limit = limit

    def keep(self, key, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class LazyList:
    """A list read on first use (iteration, len, truth, index): what a page offers only in some rows' dialogs
    (the 开始诊断 dialog's self-assessment results and institutions) is not read when no row shows one."""

    __slots__ = ("_read", "_rows")

    def __init__(self, read):
        self._read, self._rows = read, None

    def _list(self):
        if self._rows is None:
            self._rows = list(self._read())
        return self._rows

    def __iter__(self):
        return iter(self._list())

    def __len__(self):
        return len(self._list())

    def __bool__(self):
        return bool(self._list())

    def __getitem__(self, index):
        return self._list()[index]
