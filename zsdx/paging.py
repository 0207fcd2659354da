"""Lists paged in SQL, 20 rows a page, with the manual's pager ("共 N 条 20条/页 < 1 2 … >").

`paginate(query)` counts the rows with one bounded COUNT (it stops at COUNT_LIMIT: "超过 10000 条") and
loads the rows of the page with OFFSET / LIMIT; a list (a plug-in that still returns one) is sliced. The
page number comes from the URL (`?page=`, garbage is page 1, past the end is the last page). The result, a
`Page`, iterates over its rows; the pager macro of zsdx/templates/zsdx/_macros.html reads the rest, and
`list_table` shows it under every list.
"""

from flask import request, url_for
from sqlalchemy import func, inspect, select

from .extensions import db
from .guards import page_arg

PAGE_SIZE = 20
COUNT_LIMIT = 10_000  # counted up to here; a longer list shows "超过 10000 条"
WINDOW = 2  # page numbers shown on each side of the current one


class Page:
    """One page of a list: its rows (iterate over it), the total and the page numbers."""

    def __init__(self, items, total, page=1, per_page=PAGE_SIZE, capped=False, param="page"):
        self.items = list(items)
        self.total = total
        self.per_page = per_page
        self.capped = capped
        self.param = param
        self.pages = max(1, -(-total // per_page))
        self.page = min(max(page, 1), self.pages)

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __bool__(self):
        return bool(self.items)

    @property
    def offset(self):
        return (self.page - 1) * self.per_page

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    def numbers(self):
        """The page numbers to link: the first, the last and WINDOW around the current one; None is a gap."""
        shown = {1, self.pages, *range(self.page - WINDOW, self.page + WINDOW + 1)}
        out, last = [], 0
        for n in sorted(x for x in shown if 1 <= x <= self.pages):
            if n > last + 1:
                out.append(None)
            out.append(n)
            last = n
        return out

    def url(self, number):
        """The current address with page `number` (every other argument kept: group, tab, filters)."""
        args = request.args.to_dict(flat=False)
        args[self.param] = [str(number)]
        return url_for(request.endpoint, **(request.view_args or {}), **args)


def requested_page(param="page"):
    """The page number asked for in the URL, 1 .. COUNT_LIMIT / PAGE_SIZE (garbage is 1)."""
    return page_arg(param, COUNT_LIMIT // PAGE_SIZE)


def count_rows(query, limit=COUNT_LIMIT):
    """count(*) of a query or select, stopping at `limit`: one statement, no eager loads, no ORDER BY. A query
    of one mapped entity selects only its key in the counted subquery: PostgreSQL cannot drop the other columns
    of a LIMITed subquery, and reading them from every counted row cost 10–25 % of the count (issue 12)."""
    if hasattr(query, "enable_eagerloads"):  # an ORM Query
        key = _single_key(query)
        query = query.enable_eagerloads(False)
        if key is not None:
            query = query.with_entities(key)
    sub = query.order_by(None).limit(limit).subquery()
    return db.session.execute(select(func.count()).select_from(sub)).scalar()


def paginate(rows, page=None, per_page=PAGE_SIZE, param="page"):
    """A Page of `rows`: an ordered Query (counted and paged in SQL) or a list (sliced)."""
    number = requested_page(param) if page is None else page
    if isinstance(rows, (list, tuple)):
        result = Page([], len(rows), number, per_page, param=param)
        result.items = list(rows[result.offset : result.offset + per_page])
        return result
    total = count_rows(rows)
    result = Page([], total, number, per_page, capped=total >= COUNT_LIMIT, param=param)
    result.items = rows_of_page(rows, result.offset, per_page) if total else []
    return result


def rows_of_page(query, offset, limit):
    """The rows of one page, in one statement. The page's keys are chosen first, without the eager joins
    (`JOIN (SELECT id … ORDER BY … LIMIT 20 OFFSET n) ON id = …`), so that the joins run for those 20 rows,
    not for every row before the sort (a semi-join `IN (…)` let PostgreSQL join every row first)."""
    key = _single_key(query)
    if key is None:
        return query.offset(offset).limit(limit).all()
    page_keys = query.enable_eagerloads(False).with_entities(key).offset(offset).limit(limit).subquery()
    return query.join(page_keys, key == page_keys.c[0]).all()


def _single_key(query):
    """The primary-key column of a query of one mapped entity with a one-column key, else None."""
    described = query.column_descriptions
    entity = described[0].get("entity") if len(described) == 1 else None
    if entity is None or described[0].get("type") is not entity:
        return None
    keys = inspect(entity).primary_key
    return keys[0] if len(keys) == 1 else None
