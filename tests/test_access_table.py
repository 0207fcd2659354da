"""The access table (tests/access_table.py) against Flask's whole url_map, from every identity of the
two-tenant world (tests/tenants.py): every route is declared; each identity is served exactly what the
table says; tenant B never reaches tenant A's record; no response is a 5xx."""

import re

import pytest
from access_table import PUBLIC, TABLE
from tenants import IDENTITIES, build_tenants

DENIED_REDIRECT = re.compile(r"/login/|/workbench/?$|^/?$|/\?|^https?://[^/]+/?$")


@pytest.fixture(scope="module")
def world(app):
    return build_tenants(app)


def _routes(app):
    out = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith(("appbuilder.", "static")):
            continue
        out.setdefault(rule.endpoint, []).append(rule)
    return out


def test_every_route_is_in_the_table_and_every_entry_is_a_route(app):
    routes = _routes(app)
    missing = sorted(set(routes) - set(TABLE))
    stale = sorted(set(TABLE) - set(routes))
    assert missing == [], f"routes missing from tests/access_table.py: {missing}"
    assert stale == [], f"entries of tests/access_table.py with no route: {stale}"


def _url(app, endpoint, entry, world):
    from flask import url_for

    args = {k: (world.ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v) for k, v in entry.args.items()}
    rules = _routes(app)[endpoint]
    rule = next((r for r in rules if set(r.arguments) == set(args)), rules[0])
    with app.test_request_context():
        return url_for(endpoint, **{k: args[k] for k in rule.arguments}), rule


def _denied(resp):
    if resp.status_code in (401, 403, 405):
        return True
    if resp.status_code in (301, 302, 303, 307, 308):
        return bool(DENIED_REDIRECT.search(resp.headers.get("Location", "")))
    return False


def _allowed_status(entry, status):
    ok = entry.ok if isinstance(entry.ok, tuple) else (entry.ok,)
    return status in ok


class _Crash:
    """An exception the test client propagated (TESTING): a 500 in production."""

    status_code = 500
    headers = {}


def _call(method, url, **kw):
    try:
        return method(url, **kw)
    except Exception:
        return _Crash()


ROLE_OF = {name: role or "anonymous" for name, role in IDENTITIES.items()}


@pytest.mark.parametrize("identity", list(IDENTITIES))
def test_each_identity_gets_what_the_table_says(app, world, identity):
    role = ROLE_OF[identity]
    client = world.client(identity)
    token = world.token(identity)
    before = world.snapshot()
    problems = []
    for endpoint, entry in sorted(TABLE.items()):
        if endpoint not in _routes(app) or entry.skip:
            continue
        url, rule = _url(app, endpoint, entry, world)
        allowed = role in entry.roles
        in_rows = entry.rows is None or identity in entry.rows
        if "GET" in rule.methods and not entry.post:
            resp = _call(client.get, url)
            status = resp.status_code
            if status >= 500:
                problems.append(f"{identity} GET {url}: {status}")
            elif not allowed and not _denied(resp) and status != 404:
                problems.append(f"{identity} GET {url}: served ({status}) but the table denies {role}")
            elif allowed and in_rows and not _allowed_status(entry, status):
                problems.append(
                    f"{identity} GET {url}: {status} {resp.headers.get('Location', '')}, expected {entry.ok}"
                )
            elif allowed and not in_rows and status != 404:
                problems.append(f"{identity} GET {url}: {status}, expected 404 (another tenant's record)")
        elif "POST" in rule.methods and (not allowed or not in_rows):
            # the attacker's side only: a valid CSRF token, a forbidden role or another tenant's record
            resp = _call(client.post, url, data={"csrf_token": token, "action": "approve", "opinion": "x"})
            status = resp.status_code
            if status >= 500:
                problems.append(f"{identity} POST {url}: {status}")
            elif not allowed and not (_denied(resp) or status in (400, 404)):
                problems.append(f"{identity} POST {url}: {status}, expected a refusal for {role}")
            elif allowed and not in_rows and status not in (302, 400, 403, 404):
                problems.append(f"{identity} POST {url}: {status}, expected a refusal (not this identity's record)")
    # whatever the answers were, none of these attempts changed tenant A's records
    if world.snapshot() != before:
        problems.append(f"{identity}: tenant A's records changed: {before} -> {world.snapshot()}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("identity", list(IDENTITIES))
def test_the_api_serves_each_identity_its_own_rows_only(app, world, identity):
    from access_table import TABLE as T

    role = ROLE_OF[identity]
    headers = world.api_headers(identity)
    client = world.client("anonymous")
    entry = T["FilingApi.get"]
    listing = client.get(
        "/api/v1/filing/",
        # only this world's two filings (other modules add filings to the same database)
        query_string={"q": "(filters:!((col:project_name,opr:sw,value:'甲企业项目')),page_size:100)"},
        headers=headers,
    )
    listing_b = client.get(
        "/api/v1/filing/",
        query_string={"q": "(filters:!((col:project_name,opr:sw,value:'乙企业项目')),page_size:100)"},
        headers=headers,
    )
    one = client.get(f"/api/v1/filing/{world.ids['filing']}", headers=headers)
    assert listing.status_code < 500 and one.status_code < 500
    if role not in entry.roles:
        assert listing.status_code in (401, 403) and one.status_code in (401, 403)
        return
    assert listing.status_code == 200 and listing_b.status_code == 200
    ids = set(listing.get_json()["ids"]) | set(listing_b.get_json()["ids"])
    sees_b = {"ent_b", "town_b", "third", "city", "admin"}  # tenant B's filing waits at town B's step
    assert (world.ids["filing_b"] in ids) == (identity in sees_b)
    if identity in entry.rows:
        assert one.status_code == 200
    else:
        assert one.status_code == 404 and world.ids["filing"] not in ids


def test_the_table_is_sound():
    for endpoint, entry in TABLE.items():
        assert entry.roles <= PUBLIC, endpoint
        if entry.rows is not None:
            assert {ROLE_OF[i] for i in entry.rows} <= entry.roles, endpoint
