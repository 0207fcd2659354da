"""Shared steps of the browser walkthrough: logging in and out, the zh catalog as the app uses it, the
menu each role should see (read from zsdx/roles.py and zsdx/views/__init__.py) and the English-leak check."""

import ast
import csv
import random
import re
from functools import lru_cache
from pathlib import Path

import flask_appbuilder
from babel.messages.pofile import read_po
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
PROJECT_PO = REPO / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
FAB_PO = Path(flask_appbuilder.__file__).parent / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
VIEWS_INIT = REPO / "zsdx" / "views" / "__init__.py"
REGISTRY_CSV = REPO / "zsdx" / "data" / "registry_demo.csv"
# FAB's security manager files its screens under this category (flask_appbuilder/security/manager.py).
FAB_SECURITY_CATEGORY = "Security"

CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORDS = (
    "Login",
    "Logout",
    "Register",
    "Submit",
    "Password",
    "Home",
    "List",
    "Add",
    "Actions",
    "Search",
    "My workbench",
)
_ENGLISH = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")(?![A-Za-z])")


def has_cjk(text):
    return bool(CJK.search(text or ""))


# --- the catalog --------------------------------------------------------------------------------------
def _read_po(path):
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        catalog = read_po(fh)
    out = {}
    for msg in catalog:
        if not msg.id or isinstance(msg.id, tuple):
            continue
        text = msg.string if isinstance(msg.string, str) else (msg.string[0] if msg.string else "")
        if text:  # fuzzy entries count: the catalog is compiled with -f (Makefile, live_server)
            out[msg.id] = text
    return out


@lru_cache(maxsize=1)
def _catalogs():
    return _read_po(PROJECT_PO), _read_po(FAB_PO)


def zh(msgid):
    """The text the app shows for msgid: Flask-Babel merges FAB's zh catalog, then zsdx's over it.
    Returns (text or None, where from: "zsdx" / "FAB" / None)."""
    project, fab = _catalogs()
    if msgid in project:
        return project[msgid], "zsdx"
    if msgid in fab:
        return fab[msgid], "FAB"
    return None, None


def in_project_catalog(msgid):
    return msgid in _catalogs()[0]


# --- the menus ----------------------------------------------------------------------------------------
def _label_of(node):
    """The msgid of `_l("…")` (or a plain string), else None."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        return node.args[0].value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _menu_call(call, env):
    def value(node):
        if isinstance(node, ast.Name) and node.id in env:
            node = env[node.id]
        return node

    kw = {k.arg: value(k.value) for k in call.keywords}
    method = call.func.attr
    if method == "add_link":
        name = value(call.args[0])
    else:  # add_view(view, name, …)
        name = value(call.args[1]) if len(call.args) > 1 else kw.get("name")
    return {
        "name": _label_of(name),
        "label": _label_of(kw.get("label")) or _label_of(name),
        "category": _label_of(kw["category"]) if "category" in kw else None,
        "category_label": _label_of(kw["category_label"]) if "category_label" in kw else None,
    }


def _is_menu_call(node):
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("add_view", "add_link")
    )


@lru_cache(maxsize=1)
def registered_menus():
    """Every menu entry zsdx registers, in registration order (= navigation order):
    dicts name / label (msgid) / category / category_label (msgid)."""
    tree = ast.parse(VIEWS_INIT.read_text(encoding="utf-8"))
    func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "register_views")
    entries = []

    def visit(stmts):
        for stmt in stmts:
            if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Tuple) and isinstance(stmt.iter, ast.Tuple):
                names = [t.id for t in stmt.target.elts]
                for row in stmt.iter.elts:
                    env = dict(zip(names, row.elts))
                    for node in ast.walk(ast.Module(body=stmt.body, type_ignores=[])):
                        if _is_menu_call(node):
                            entries.append(_menu_call(node, env))
            elif isinstance(stmt, ast.Expr | ast.Assign) and _is_menu_call(stmt.value):
                entries.append(_menu_call(stmt.value, {}))

    visit(func.body)
    assert entries and all(e["name"] and e["label"] for e in entries), f"could not read the menus: {entries}"
    return entries


def role_menus(role_spec_menus):
    """The msgids of the top-level entries a role with these menu permissions sees, in order."""
    return [e["label"] for e in registered_menus() if e["category"] is None and e["name"] in role_spec_menus]


def admin_top_menus():
    """Admin has every permission: all entries, the categories as dropdowns, and FAB's security dropdown."""
    labels = [FAB_SECURITY_CATEGORY]
    for e in registered_menus():
        label = e["label"] if e["category"] is None else (e["category_label"] or e["category"])
        if label not in labels:
            labels.append(label)
    return labels


def category_children(category_label):
    return [e["label"] for e in registered_menus() if (e["category_label"] or e["category"]) == category_label]


# --- the demo business registry --------------------------------------------------------------------
_claimed = set()


def claim_registry_entry():
    """(name, credit code, town name) of a demo-registry enterprise that has no account yet on this
    session's server: not the demo enterprise's, and never the same one twice in a test session."""
    from zsdx.data.reference import TOWNS
    from zsdx.seed import DEMO_USERS

    taken = {b[1] for _, _, _, b in DEMO_USERS if b and b[0] == "enterprise"} | _claimed
    towns = dict(TOWNS)
    with open(REGISTRY_CSV, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if r["name"] not in taken and r["town_code"] in towns]
    assert rows, "every demo-registry enterprise has been registered in this session"
    row = random.choice(rows)
    _claimed.add(row["name"])
    return row["name"], row["credit_code"], towns[row["town_code"]]


# --- the browser steps --------------------------------------------------------------------------------
def login(page, phone, password):
    page.goto("/login/")
    page.fill("#pw-phone", phone)
    page.fill("#pw-password", password)
    page.click("#login-password-submit")
    page.wait_for_load_state()


def logout(page):
    page.click("#zs-logout")
    page.wait_for_load_state()
    expect(page.locator("#zs-login")).to_be_visible()


def nav_texts(page):
    return [t.strip() for t in page.locator("#zs-nav > li > a").all_inner_texts()]


def english_leaks(page):
    """English UI words in the visible text of the page."""
    return sorted(set(_ENGLISH.findall(page.inner_text("body"))))


class Leaks:
    """English UI words per visited page, asserted at the end so that one run lists them all."""

    def __init__(self, page):
        self.page = page
        self.found = {}

    def check(self):
        words = english_leaks(self.page)
        if words:
            self.found.setdefault(self.page.url, set()).update(words)

    def assert_none(self):
        assert not self.found, f"English UI text on the pages: { {u: sorted(w) for u, w in self.found.items()} }"


# --- the demo users of the walkthroughs ----------------------------------------------------------------
def follow(target):
    """Click a link or a submit button and wait until the page it leads to has loaded: its scripts (the
    modals, the tabs, the tooltips) are bound before the next click."""
    with target.page.expect_navigation():
        target.click()


class Actor:
    """One demo user in a browser context of their own."""

    def __init__(self, browser, live_server, phone):
        from zsdx.seed import DEMO_PASSWORD

        self.phone = phone
        self.context = browser.new_context(
            viewport={"width": 1300, "height": 900},
            locale="zh-CN",
            base_url=live_server.base_url,
            accept_downloads=True,
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.leaks = Leaks(self.page)
        login(self.page, phone, DEMO_PASSWORD)
        expect(self.page.locator("#zs-logout")).to_be_visible()

    def check(self):
        self.leaks.check()

    def nav(self, label):
        """Open a top menu entry by its text, as a user does."""
        follow(self.page.locator("#zs-nav > li > a", has_text=label))
        self.check()

    def close(self):
        self.context.close()


class Actors:
    """The demo users of one test module, logged in once each; every 5xx answer any of their pages receives is
    noted in `server_errors` (the `actors` fixture of conftest.py)."""

    def __init__(self, browser, live_server):
        self.browser, self.live_server = browser, live_server
        self.by_phone = {}
        self.server_errors = []

    def __call__(self, phone):
        if phone not in self.by_phone:
            user = Actor(self.browser, self.live_server, phone)
            user.page.on("response", self._watch)
            self.by_phone[phone] = user
        return self.by_phone[phone]

    def _watch(self, response):
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def close(self):
        for actor in self.by_phone.values():
            actor.close()
