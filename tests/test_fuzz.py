"""Fuzzing every HTML form and the REST API with bad input (issue 8's harness): no input ends in a 5xx, and a
refused input leaves nothing written.

Forms (tests/fuzz_forms.py): every `<form method="post">` served to each identity (anonymous, Admin, 企业,
服务商, 评估机构, 镇街, 第三方, 专家, 市工信) in a two-tenant world, found from `app.url_map`, the world's records
and the links on those pages. Each form gets ZSDX_FUZZ_EXAMPLES hypothesis-drawn requests (default 6;
`derandomize=True`, so CI draws the same requests every run) carrying the session's valid CSRF token; a form
aimed at a GET-only route (FAB's list-page delete form, pointed by JavaScript) gets one. A form none of whose
cases got past CSRFProtect fails the test: the harness must reach every view it claims to fuzz. Figures per
role (forms, cases, seconds, statuses per form, failures) are written to test-artifacts/fuzz/*.json.

The two assertions, after every request:
1. **No 5xx.** A raised exception or a 5xx response is a failure; its traceback's last line is reported.
2. **No write behind a refusal.** A request is *refused* when it answers 4xx, re-renders the page with an
   error shown (HTTP 200 with `has-error`/`alert-danger`/a filled `*-error` element), or redirects with a
   danger/error/warning flash; a 5xx counts as refused too. For a refused request the database
   fingerprint before and after must be equal. The fingerprint is every row of every table of the
   models' metadata (tables over 5,000 rows: their row count and highest key), minus what a refusal
   writes by design: `zs_login_failure` and `zs_sms_code` (counted failed tries) and FAB's sign-in
   bookkeeping columns (`last_login`, `login_count`, `fail_login_count`, `changed_on`). An accepted
   request (a redirect without such a flash, or a 200 without an error shown) may write. Two screens keep
   what was typed by contract (the filing draft, the assessment draft: `DRAFT_WRITES`): a refusal there may
   write that draft's own tables, but never any record's workflow state (`<table>#workflow`: id, status,
   current_step) nor any other table.
   Limits: this fingerprints the whole database of the test process, so it sees inserts, deletes and
   updates anywhere, but not a write that a *later* request would make, nor files written to disk.

API: the OpenAPI document FAB builds for v1 (FAB_API_SWAGGER_UI=False, so `/api/v1/_openapi` is not served:
it is built in-process by FAB's own `OpenApi` code, the document that URL would serve) drives schemathesis
against /api/v1/filing/ and /api/v1/filing/{pk} as 企业 and 镇街, plus rison `q` strings and JSON bodies of
the wrong types for /api/v1/security/login. Asserted: no 5xx, JSON responses, and no filing of the other
tenant ever in a response.

All of it is marked `fuzz` (`-m "not fuzz"` skips it); `make test` runs it.
"""

import json
import os
import time

import pytest
from conftest import csrf_from, login
from fuzz_forms import (
    ANONYMOUS,
    DRAFT_WRITES,
    RUNS,
    _examples,
    build_world,
    changed_tables,
    discover,
    draw_case,
    parse_forms,
    post,
    snapshot,
)
from helpers import fast_password_hashes  # noqa: F401  (autouse: cheap hashes in this module)
from helpers_review import new_client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts", "fuzz")


def _settings(n=None):
    return settings(
        max_examples=n or _examples(),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )


def _record(name, figures):
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, f"{name}.json"), "w", encoding="utf-8") as fh:
        json.dump(figures, fh, ensure_ascii=False, indent=1)


def _report(failures):
    lines = [f"{len(failures)} distinct failure(s):"]
    for f in failures.values():
        lines.append(
            f"- [{f['kind']}] {f['role']} POST {f['url']} -> {f['status']}: {f['error']}\n    input: {f['input']}"
        )
    return "\n".join(lines)


def _ensure_signed_in(app, client, user):
    """Sign in again when a fuzzed request ended the session (e.g. a password reset that was accepted); the
    password is put back first, so the next forms are fuzzed as the same user."""
    if user is None or client.get("/workbench/").status_code == 200:
        return
    from zsdx.extensions import appbuilder

    with app.app_context():
        appbuilder.sm.reset_password(user["id"], user["password"])
    login(client, user)


def _refresh_token(client, form):
    """The form as served now (its CSRF token belongs to the current session)."""
    resp = client.get(form.page, follow_redirects=True)
    if resp.status_code != 200:
        return False
    html = resp.get_data(as_text=True)
    fresh = next((f for f in parse_forms(html, resp.request.path) if f.key == form.key), None)
    if fresh is None:
        return False
    token = {f.name: f.value for f in fresh.fields if f.name in fresh.csrf_names}
    for f in form.fields:
        if f.name in token:
            f.value = token[f.name]
    if not token and form.csrf_names:
        try:
            value = csrf_from(html)
        except AssertionError:
            return False
        for f in form.fields:
            if f.name in form.csrf_names:
                f.value = value
    return True


def _windows_after(app, before):
    """Remove 申报窗口 rows the fuzzing created: a window is global and would close submissions for later tests."""
    from zsdx.extensions import db
    from zsdx.models import SubmissionWindow

    with app.app_context():
        db.session.query(SubmissionWindow).filter(SubmissionWindow.id > before).delete()
        db.session.commit()


def _max_window(app):
    from sqlalchemy import func

    from zsdx.extensions import db
    from zsdx.models import SubmissionWindow

    with app.app_context():
        return db.session.query(func.max(SubmissionWindow.id)).scalar() or 0


def _fuzz_form(app, client, form, world, role, failures):
    """ZSDX_FUZZ_EXAMPLES drawn requests to one form; failures collected (one per route and error line)."""
    state = {"snap": snapshot(app), "cases": 0, "statuses": {}, "csrf": 0}
    where = form.key.split("?")[0]

    @_settings(None if form.posts else 1)  # a form aimed at a GET-only route: one case shows its 405
    @given(st.data())
    def fuzz(data):
        case = draw_case(data, form, world)
        out = post(client, case, form.multipart)
        state["cases"] += 1
        state["statuses"][out.status] = state["statuses"].get(out.status, 0) + 1
        state["csrf"] += out.csrf
        after = snapshot(app)
        changed = [t for t in changed_tables(state["snap"], after) if t not in DRAFT_WRITES.get(where, ())]
        state["snap"] = after
        if out.error:
            failures.setdefault(
                (where, out.error),
                {"kind": "5xx", "role": role, "url": case.url, "status": out.status, "error": out.error}
                | {"input": case.describe()},
            )
        if out.refused and changed:
            failures.setdefault(
                (where, "write", tuple(changed)),
                {"kind": "write behind a refusal", "role": role, "url": case.url, "status": out.status}
                | {"error": f"tables changed: {', '.join(changed)}", "input": case.describe()},
            )

    fuzz()
    if state["cases"] and state["csrf"] == state["cases"]:
        failures.setdefault(
            (where, "csrf"),
            {"kind": "harness: never reached the view", "role": role, "url": form.action, "status": 400}
            | {"error": "every case was refused by CSRFProtect", "input": "-"},
        )
    return state["cases"], {form.key: state["statuses"]}


# --- forms ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "half"), [r[:2] for r in RUNS], ids=[r[2] for r in RUNS])
def test_forms_survive_bad_input(app, factory, role, half):
    started = time.monotonic()
    world = build_world(app, factory)
    user = world.users[role]
    client = new_client(app)
    if user is not None:
        login(client, user)
    forms = discover(app, client, world)
    assert role == ANONYMOUS or forms, f"{role} was served no form at all"
    windows = _max_window(app)
    failures, cases, statuses = {}, 0, {}
    try:
        keys = sorted(forms)
        for key in keys if half is None else keys[half::2]:
            form = forms[key]
            _ensure_signed_in(app, client, user)
            if not _refresh_token(client, form):
                continue
            n, seen = _fuzz_form(app, client, form, world, role, failures)
            cases += n
            statuses.update(seen)
    finally:
        _windows_after(app, windows)
    _record(
        f"forms-{role}" + ("" if half is None else f"-{half}"),
        {
            "role": role,
            "forms": sorted(forms) if half is None else sorted(forms)[half::2],
            "cases": cases,
            "seconds": round(time.monotonic() - started, 1),
            "statuses": {k: {str(c): n for c, n in v.items()} for k, v in statuses.items()},
            "failures": [dict(f) for f in failures.values()],
        },
    )
    assert not failures, _report(failures)


# --- the REST API ----------------------------------------------------------------------------------------
def openapi_document(app, client, token):
    """The v1 OpenAPI document: fetched from /api/v1/_openapi when the app serves it, else built by FAB's own
    OpenApi view code in-process (FAB_API_SWAGGER_UI=False leaves that route unregistered)."""
    resp = client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {token}"})
    if resp.status_code == 200 and resp.is_json:
        return resp.get_json()
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    with app.test_request_context("/api/v1/_openapi"):
        spec = OpenApi._create_api_spec("v1")
        for view in app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == "v1":
                view.add_api_spec(spec)
        return spec.to_dict()


def api_token(client, user):
    resp = client.post(
        "/api/v1/security/login", json={"username": user["phone"], "password": user["password"], "provider": "db"}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()["access_token"]


def _credit_code(app, org_id):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    with app.app_context():
        return db.session.get(Organisation, org_id).credit_code


API_ROLES = {"企业": "enterprise", "镇街": "town"}
RISON_KEYS = ["page", "page_size", "order_column", "order_direction", "filters", "columns", "keys", "select_columns"]
RISON_ODD = ["(((", "(page:1e20)", "(page:-1,page_size:-1)", "(page_size:99999999999)", "!(", "'", "(page:'1')"]
RISON_ODD += ["(filters:!((col:id,opr:eq,value:1)))", "(filters:!((col:ent_name,opr:ct,value:'%')))", "\x00", "()"]
RISON_ODD += ["(select_columns:1)", "(columns:'id')", "(keys:!(none))", "(page:1e20)", "(order_column:nope)"]


def _rison_values(foreign):
    scalars = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([True, False, None, "id", "ent_name", "status", "asc", "desc", "eq", "ct", "sw", "in"]),
        st.sampled_from(foreign),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["col", "opr", "value", *RISON_KEYS]), inner, max_size=3)
        ),
        max_leaves=8,
    )


def _rison_q(foreign):
    import prison

    filters = st.lists(
        st.fixed_dictionaries(
            {
                "col": st.sampled_from(["id", "project_name", "status", "ent_name", "organisation_id", "town_id"]),
                "opr": st.sampled_from(["eq", "neq", "ct", "sw", "gt", "lt", "in", "rel_o_m", "nope"]),
                "value": st.one_of(st.sampled_from(foreign), st.text(max_size=10), st.integers()),
            }
        ),
        max_size=2,
    )
    structured = st.fixed_dictionaries(
        {},
        optional={
            "page": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.text(max_size=5)),
            "page_size": st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.text(max_size=5)),
            "order_column": st.sampled_from(["id", "submitted_at", "ent_name", "nope", ""]),
            "order_direction": st.sampled_from(["asc", "desc", "sideways"]),
            "filters": filters,
            "columns": st.lists(st.sampled_from(["id", "ent_name", "organisation_id", "nope"]), max_size=3),
            "keys": st.lists(st.sampled_from(["list_columns", "label_columns", "none"]), max_size=2),
        },
    )
    return st.one_of(
        structured.map(prison.dumps),
        st.dictionaries(st.sampled_from(RISON_KEYS), _rison_values(foreign), max_size=3).map(prison.dumps),
        st.sampled_from(RISON_ODD),
        st.text(max_size=30),
    )


class _ApiCheck:
    """No 5xx, a JSON answer, and no filing of the other tenant in it."""

    def __init__(self, role, foreign_filings, own_code):
        self.role, self.foreign, self.own_code = role, set(foreign_filings), own_code
        self.failures, self.cases = {}, 0

    def call(self, route, detail, send):
        """Send one request (`send()`), with the exceptions logged on the way, and check the answer."""
        from fuzz_forms import _Errors, last_line

        handler = _Errors().__enter__()
        try:
            resp = send()
        except Exception as exc:
            resp, handler.last = None, (type(exc), exc, exc.__traceback__)
        finally:
            handler.__exit__()
        self.cases += 1
        if resp is None or resp.status_code >= 500:
            err = last_line(handler.last) if handler.last else _stacktrace_line(resp)
            self.failures.setdefault((route, err), f"[5xx] {self.role} {route} {detail}: {err}")
            return resp
        if "json" not in (resp.headers.get("Content-Type") or ""):
            self.failures.setdefault(
                (route, "not json"), f"[not JSON] {self.role} {route} {detail} -> {resp.status_code}"
            )
            return resp
        try:
            data = json.loads(resp.get_data() or b"null")
        except ValueError:
            self.failures.setdefault((route, "bad json"), f"[bad JSON] {self.role} {route} {detail}")
            return resp
        rows = []
        if isinstance(data, dict):
            result = data.get("result")
            rows = result if isinstance(result, list) else [result] if isinstance(result, dict) else []
            ids = data.get("ids") or ([data["id"]] if "id" in data else [])
            leaked = [i for i in ids if _as_int(i) in self.foreign]
            if leaked:
                self.failures.setdefault((route, "ids"), f"[LEAK] {self.role} {route} {detail}: ids {leaked}")
        for row in rows:
            if not isinstance(row, dict):
                continue
            if _as_int(row.get("id")) in self.foreign or (
                self.own_code and row.get("ent_credit_code") not in (None, self.own_code)
            ):
                self.failures.setdefault((route, "row"), f"[LEAK] {self.role} {route} {detail}: row {row.get('id')}")
        return resp


def _stacktrace_line(resp):
    """The last line of the traceback FAB puts in a 500's message (FAB_API_SHOW_STACKTRACE, set by these tests)."""
    body = resp.get_data()
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        message = ""
    lines = [ln.strip() for ln in str(message).splitlines() if ln.strip()]
    return f"HTTP {resp.status_code}: {lines[-1] if lines else body[:100]!r}"


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@pytest.mark.parametrize("role", list(API_ROLES), ids=list(API_ROLES.values()))
def test_filing_api_survives_bad_input_and_never_leaks(app, factory, role, monkeypatch):
    import schemathesis
    from schemathesis.generation import GenerationMode

    monkeypatch.setitem(app.config, "FAB_API_SHOW_STACKTRACE", True)  # a 500's message names its cause
    started = time.monotonic()
    world = build_world(app, factory)
    user = world.users[role]
    client = new_client(app)
    token = api_token(client, user)
    auth = {"Authorization": f"Bearer {token}"}
    foreign = world.foreign["filing"]
    own_code = _credit_code(app, user["org_id"]) if role == "企业" else None
    check = _ApiCheck(role, foreign, own_code)
    doc = openapi_document(app, client, token)
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app
    n = _examples() * 4

    for path in ("/api/v1/filing/", "/api/v1/filing/{pk}"):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = schema[path]["GET"].as_strategy(generation_mode=mode)
            _by_schema(strategy, 2 * _examples(), check, f"GET {path}", auth)

    ids = st.one_of(st.sampled_from(world.all_ids()), st.integers(min_value=-(2**63), max_value=2**63))

    @_settings(n)
    @_explicit_examples("q", RISON_ODD, pk=world.own["filing"][0])
    @given(q=_rison_q([str(i) for i in foreign] + [int(i) for i in foreign]), pk=ids)
    def by_rison(q, pk):
        for route, url in (
            ("GET /api/v1/filing/", "/api/v1/filing/"),
            ("GET /api/v1/filing/<pk>", f"/api/v1/filing/{pk}"),
        ):
            resp = check.call(
                route, f"{url} q={q!r}", lambda url=url: client.get(url, query_string={"q": q}, headers=auth)
            )
            if (
                resp is not None
                and url != "/api/v1/filing/"
                and _as_int(pk) in check.foreign
                and resp.status_code == 200
            ):
                check.failures.setdefault((url, "200"), f"[LEAK] {role} GET {url} answered 200")

    by_rison()
    for pk in foreign:  # every id of the other tenant, directly
        resp = check.call("GET /api/v1/filing/<pk>", pk, lambda pk=pk: client.get(f"/api/v1/filing/{pk}", headers=auth))
        if resp is None or resp.status_code != 404:
            status = resp.status_code if resp is not None else "error"
            check.failures.setdefault(("foreign", pk), f"[LEAK] {role} GET /api/v1/filing/{pk} -> {status}")
    _record(
        f"api-{API_ROLES[role]}",
        {"role": role, "cases": check.cases, "seconds": round(time.monotonic() - started, 1)}
        | {"failures": sorted(check.failures.values())},
    )
    assert not check.failures, "\n".join(sorted(check.failures.values()))


def _explicit_examples(name, values, **fixed):
    """hypothesis @example for each value (run first, every time, whatever ZSDX_FUZZ_EXAMPLES is)."""
    from hypothesis import example

    def wrap(fn):
        for value in reversed(values):
            fn = example(**{name: value}, **fixed)(fn)
        return fn

    return wrap


def _by_schema(strategy, n, check, route, auth):
    """schemathesis' cases for one operation (positive or negative data), sent through the WSGI app."""

    @_settings(n)
    @given(case=strategy)
    def by_schema(case):
        resp = check.call(
            route, f"{case.path_parameters or ''} {case.query or ''}", lambda: _Flaskish(case.call(headers=auth))
        )
        del resp

    by_schema()


class _Flaskish:
    """schemathesis' Response seen through the few attributes _ApiCheck reads."""

    def __init__(self, resp):
        self.status_code = resp.status_code
        self.headers = {k.title(): v[0] if isinstance(v, list) else v for k, v in resp.headers.items()}
        self._content = resp.content

    def get_data(self):
        return self._content


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(["\x00", "a" * 200, "1" * 129, "１３９００００１２３４", "db", "ldap", "😀"]),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def test_api_login_survives_wrong_json(app, factory, monkeypatch):
    """POST /api/v1/security/login with bodies of the wrong JSON types (and some that are not JSON)."""
    monkeypatch.setitem(app.config, "FAB_API_SHOW_STACKTRACE", True)
    started = time.monotonic()
    user = factory.enterprise_user()
    client = new_client(app)
    check = _ApiCheck("anonymous", (), None)
    body = st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "username": JSON_VALUES | st.just(user["phone"]),
                "password": JSON_VALUES | st.just(user["password"]),
                "provider": JSON_VALUES | st.sampled_from(["db", "ldap"]),
                "refresh": JSON_VALUES,
            },
        ).map(json.dumps),
        JSON_VALUES.map(lambda v: json.dumps(v, allow_nan=True)),
        st.sampled_from(['{"username": "a"', "\xff", "NaN", "[1,2", "", '{"username":"\\ud800"}']),
    )

    @_settings(max(_examples() * 8, 40))
    @given(body=body)
    def login_with(body):
        client.environ_base["REMOTE_ADDR"] = f"10.250.{time.monotonic_ns() % 250}.{time.monotonic_ns() % 253 + 1}"
        check.call(
            "POST /api/v1/security/login",
            f"body={body[:80]!r}",
            lambda: client.post(
                "/api/v1/security/login", data=body.encode("utf-8", "surrogatepass"), content_type="application/json"
            ),
        )

    login_with()
    _record(
        "api-login",
        {"cases": check.cases, "seconds": round(time.monotonic() - started, 1)}
        | {"failures": sorted(check.failures.values())},
    )
    assert not check.failures, "\n".join(sorted(check.failures.values()))
