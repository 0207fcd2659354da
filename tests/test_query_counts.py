"""A bound on SQL statements per page (issue 7): every GET page each demo role can open issues at most
MAX_STATEMENTS statements, and the count does not grow with the tables or with FAB's page size.

The pages are discovered from app.url_map (scripts/count_queries.py, the same measuring code as the
script the issue notes quote), plus the detail pages of records made here. A new page is covered without
touching this file.
"""

import count_queries as cq
import pytest
from helpers_review import new_client

MAX_STATEMENTS = 10

# Pages over the bound, by URL prefix → why (none today). An entry is an xfail case of test_over_bound_page
# and is left out of the other tests; a new chapter may park a page here only with a reason and a plan.
OVER_BOUND: dict = {}
ROLES = [label for label, _phone in cq.DEMO_ACCOUNTS if label != "镇街(石岐)"]  # the other town's 镇街 adds nothing


def over_bound(url):
    return any(url.startswith(prefix) for prefix in OVER_BOUND)


class World:
    """The demo accounts and records, one logged-in client per role, and the counts measured so far."""

    def __init__(self, app):
        from zsdx.extensions import db
        from zsdx.seed import seed_demo

        self.app = app
        with app.app_context():
            seed_demo()
            self.counter = cq.StatementCounter(db.engine)
        self.records = cq.make_demo_records(app)
        self.urls = cq.page_urls(app, self.records)
        self.clients = {}
        self.baseline = {}
        self.after = {}  # {(role, url): statements} once the tables have grown

    def client(self, role):
        if role not in self.clients:
            client = new_client(self.app)
            phone = dict(cq.DEMO_ACCOUNTS)[role]
            if phone:
                cq.login(client, phone)
            client.get("/")
            self.clients[role] = client
        return self.clients[role]

    def measure(self, role, urls=None):
        """{url: (status, statements)} of `urls` (default: every page) for `role`."""
        client = self.client(role)
        return {url: cq.measure(client, self.counter, url)[:2] for url in (urls or self.urls)}

    def served(self, role):
        """{url: statements} of the pages `role` is served (200), measured once."""
        if role not in self.baseline:
            self.baseline[role] = {u: n for u, (status, n) in self.measure(role).items() if status == 200}
        return self.baseline[role]


@pytest.fixture(scope="module")
def world(app):
    # The 数据看板's statements depend on its snapshot's age, not on the tables: fresh, it is read (1); expired
    # within DASHBOARD_STALE_SECONDS, it is read and its recount claimed (2). A slow run crossed the default 60 s
    # between two measurements; here the snapshot outlives the module, so each page is measured in one state.
    kept = app.config["DASHBOARD_CACHE_SECONDS"]
    app.config["DASHBOARD_CACHE_SECONDS"] = 24 * 3600
    w = World(app)
    yield w
    w.counter.close()
    app.config["DASHBOARD_CACHE_SECONDS"] = kept


@pytest.mark.parametrize("role", ROLES)
def test_every_page_within_the_bound(world, role):
    served = world.served(role)
    assert served, f"{role} was served no page at all"
    over = {u: n for u, n in served.items() if n > MAX_STATEMENTS and not over_bound(u)}
    assert not over, f"{role}: pages over {MAX_STATEMENTS} statements: {over}"


def test_the_page_size_does_not_matter(world):
    """FAB list pages at their page size and at 100 rows per page issue as many statements. Both are measured
    again, each after its first visit: what a process keeps once read (the 角色列表's grants, for one) is then
    kept for both."""
    served = world.served("Admin")
    pairs = [(u, u.split("?")[0]) for u in served if "?psize_" in u and not over_bound(u)]
    assert pairs, "no list page with a psize parameter was measured"
    now = world.measure("Admin", [url for pair in pairs for url in pair])
    differ = {u: (now[base][1], now[u][1]) for u, base in pairs if now[base][1] != now[u][1]}
    assert not differ, f"statements change with the page size (page size 20/default → 100): {differ}"


def test_the_counts_do_not_grow_with_the_tables(app, world):
    """30 more filings, notifications per account and users (in 30 organisations): the same counts."""
    before = {role: world.served(role) for role in ROLES}
    cq.add_bulk(app, 30, tag="grow")
    grew = {}
    for role in ROLES:
        for url, (status, n) in world.measure(role, list(before[role])).items():
            world.after[(role, url)] = n
            if status == 200 and n > before[role][url] and not over_bound(url):
                grew[(role, url)] = (before[role][url], n)
    assert not grew, f"statements grow with the table sizes (before → after): {grew}"


@pytest.mark.parametrize(
    "prefix",
    [pytest.param(p, marks=pytest.mark.xfail(strict=False, reason=reason)) for p, reason in OVER_BOUND.items()],
)
def test_over_bound_page(world, prefix):
    """The pages known to be over the bound today (the sets at the top): passes once they are fixed (also
    after the tables grew, when test_the_counts_do_not_grow_with_the_tables ran first in this process)."""
    over = {}
    for role in ROLES:
        for url, n in world.served(role).items():
            n = max(n, world.after.get((role, url), 0))
            if url.startswith(prefix) and n > MAX_STATEMENTS:
                over[(role, url)] = n
    assert not over, f"over {MAX_STATEMENTS} statements: {over}"
