"""The form fuzzer of tests/test_fuzz.py: a two-tenant world, every HTML form a role is served, bad input for
each of them, and the two things checked after every request (no 5xx, no write behind a refusal).

How a form is found: every GET route of `app.url_map` without arguments, plus the routes with arguments
filled with the ids of the world's records (tenant A's and tenant B's filings, assessments, diagnoses,
organisations, and one fixture row per admin reference view), plus the links to argument routes found on
those pages (one level). Each page is fetched as the role; every `<form method="post">` on it is parsed with
lxml into the fields a browser would send (inputs, checked boxes, selects, textareas, file inputs, submit
buttons). Routes that end a session, delete, download or change the language are not walked, and FAB's
generated list pages are never followed into rows other tests own (only the fixture's own rows are edited).

What is posted (one hypothesis example = one request, with the session's valid CSRF token): the form as the
browser would send it, with a drawn subset of fields replaced by a bad value (huge or non-finite numbers,
NUL and other control characters, 10k-character text, full-width digits, RTL marks, emoji, invalid UTF-8
such as an encoded lone surrogate, wrong types), dropped, or duplicated; hidden fields and selects also get
another tenant's ids; the record id in the form's URL may be replaced by another tenant's id or a junk id;
file inputs get hostile names (CR/LF, NUL, `..`, 300 characters) and odd bytes.
"""

import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import logging
import os
import random
import re
import traceback
import uuid
from urllib.parse import quote_from_bytes, urljoin, urlsplit

import lxml.html
from hypothesis import strategies as st

# --- the identities --------------------------------------------------------------------------------------
ANONYMOUS = "anonymous"
ROLES = [ANONYMOUS, "Admin", "企业", "服务商", "评估机构", "镇街", "第三方", "专家", "市工信"]
# ASCII test ids (`-k enterprise`)
ROLE_IDS = ["anonymous", "admin", "enterprise", "provider", "institution", "town", "third_party", "expert", "city"]
# Admin is served four times the forms of any other role (FAB's CRUD): its forms are fuzzed in two halves so
# the two xdist workers finish together. (role, half or None, test id)
RUNS = [(r, None, i) for r, i in zip(ROLES, ROLE_IDS) if r != "Admin"] + [("Admin", h, f"admin-{h}") for h in (0, 1)]

# Endpoints never walked: they end the session, delete, download, switch language, or are not pages.
SKIP_ENDPOINTS = re.compile(
    r"(^static$|^appbuilder\.static$|logout|\.delete$|\.action$|\.action_post$|\.download$|^LocaleView|"
    r"captcha|^csrf_token$|^UtilView|\.export$|\.file$|report_file$|\.attachment$|authorization_template|"
    r"\.report$|^NotificationView\.open$|\.form_(docx|xlsx)$|^UserStatsChartView|^MenuApi|^SecurityApi|^FilingApi|^OpenApi|"
    r"\.userinfo$)"
)
# FAB's generated CRUD: edit/show pages are built for the fixture's own rows only (never rows of other tests).
FAB_ROW_ENDPOINT = re.compile(r"\.(edit|show)$")


def fab_model_views(app):
    """Class names of FAB's generated CRUD views (their row pages are walked for the fixture's rows only)."""
    from flask_appbuilder import ModelView

    return {type(v).__name__ for v in app.appbuilder.baseviews if isinstance(v, ModelView)}


def _fab_row(app, endpoint):
    return bool(FAB_ROW_ENDPOINT.search(endpoint)) and endpoint.split(".")[0] in fab_model_views(app)


# Forms not fuzzed: 退出登录 would end the session under the rest of the run (it takes no input anyway).
NOT_FUZZED_FORMS = re.compile(r"logout")


def _examples():
    return int(os.environ.get("ZSDX_FUZZ_EXAMPLES", "6"))


# --- the world: two of each tenant ------------------------------------------------------------------------
@dataclasses.dataclass
class World:
    users: dict  # role -> factory user dict (anonymous: None)
    own: dict  # kind -> ids of tenant A's records (the fuzzing user's side)
    foreign: dict  # kind -> ids of tenant B's records
    fab_rows: dict  # FAB view class name -> pk of a row this world created
    orgs: dict  # "A"/"B" -> organisation ids of that tenant

    def foreign_ids(self):
        return sorted({i for ids in self.foreign.values() for i in ids})

    def all_ids(self):
        return sorted({i for ids in itertools.chain(self.own.values(), self.foreign.values()) for i in ids})


def build_world(app, factory):
    """Tenant A (小榄 2010) and tenant B (石岐 2001): an enterprise with filings at several steps, a provider,
    an institution; reviewers of both towns; one of each other role; one row per admin reference view."""
    from helpers_review import make_filing
    from helpers_signing import listed_product, make_signing

    from zsdx.extensions import appbuilder, db
    from zsdx.models import (
        Announcement,
        Filing,
        Industry,
        Organisation,
        ProductCategory,
        RegistryEntry,
        ReviewStatus,
        SubmissionWindow,
        Town,
        ZsdxUser,
    )

    tag = uuid.uuid4().hex[:6]
    ent = {t: factory.enterprise_user(code) for t, code in (("A", "2010"), ("B", "2001"))}
    prov = {t: factory.user("服务商", org=factory.org("provider", code)) for t, code in (("A", "2010"), ("B", "2001"))}
    inst = {
        t: factory.user("评估机构", org=factory.org("institution", code, institution_type="comprehensive"))
        for t, code in (("A", "2010"), ("B", "2001"))
    }
    users = {
        ANONYMOUS: None,
        "Admin": factory.user("Admin"),
        "企业": ent["A"],
        "服务商": prov["A"],
        "评估机构": inst["A"],
        "镇街": factory.user("镇街", town_code="2010"),
        "第三方": factory.user("第三方"),
        "专家": factory.user("专家"),
        "市工信": factory.user("市工信"),
    }
    own, foreign = {}, {}
    for side, bucket in (("A", own), ("B", foreign)):
        e = ent[side]
        filings = [make_filing(app, e, step=None)] + [make_filing(app, e, step=s) for s in ("town", "third_party")]
        done = make_filing(app, e, step="city")
        with app.app_context():
            f = db.session.get(Filing, done)
            f.status, f.current_step = ReviewStatus.DONE, None
            f.filing_no = f"ZS{tag}{side}"
            db.session.commit()
        bucket["filing"] = [*filings, done]
        product = listed_product(app, factory)
        pending = make_signing(app, e, contracts=1, filled=True, product=product)
        signed = make_signing(app, e, contracts=2, filled=True, signed=True, product=product)
        assisted = make_signing(app, e, contracts=1, filled=True, product=product, provider_org=prov[side]["org_id"])
        with app.app_context():
            from zsdx.models import AssistRequest

            now = dt.datetime.now()
            db.session.add(
                AssistRequest(
                    host_type="signing",
                    host_id=assisted["signing"],
                    organisation_id=e["org_id"],
                    provider_id=prov[side]["org_id"],
                    status=ReviewStatus.REVIEWING,
                    current_step="provider_fill",
                    submitted_at=now,
                    step_entered_at=now,
                )
            )
            db.session.commit()
        bucket["signing"] = [pending["signing"], signed["signing"], assisted["signing"]]
        bucket["implementation"] = _implementations(app, e, prov[side], signed["signing"], product)
        bucket["post_assessment"] = _post_assessments(app, e, inst[side], (signed, pending))
        bucket["completion"] = _completions(app, factory, e, prov[side])
        bucket["warehousing"] = _warehousings(app, bucket["completion"][1])
        bucket["org"] = [e["org_id"], prov[side]["org_id"], inst[side]["org_id"]]
        bucket["user"] = [e["id"], prov[side]["id"], inst[side]["id"]]
    with app.app_context():
        used = {code for (code,) in db.session.query(Town.code)}  # a random code could clash with another fixture's
        code = random.choice([str(n) for n in range(9000, 10000) if str(n) not in used])
        town = Town(code=code, name=f"模糊测试镇{tag}", sort=999)
        industry = Industry(name=f"模糊测试行业{tag}", sort=999)
        leaf_parent = db.session.query(ProductCategory).filter_by(level=2).first()
        category = ProductCategory(name=f"模糊测试类别{tag}", level=3, parent=leaf_parent)
        registry = RegistryEntry(credit_code=factory.credit_code(), name=f"中山市模糊测试{tag}有限公司")
        notice = Announcement(title=f"模糊测试公告{tag}", body="正文")
        sm = appbuilder.sm
        group = sm.group_model(name=f"fuzz-{tag}") if getattr(sm, "group_model", None) else None
        db.session.add_all([x for x in (town, industry, category, registry, notice, group) if x is not None])
        db.session.commit()
        role = sm.add_role(f"fuzz-{tag}")
        fab_rows = {
            "TownView": town.id,
            "IndustryView": industry.id,
            "ProductCategoryView": category.id,
            "RegistryView": registry.id,
            "AnnouncementAdminView": notice.id,
            "OrganisationView": own["org"][0],
            "ZsdxUserDBModelView": users["企业"]["id"],
            "ZsdxRoleModelView": role.id,
        }
        if group is not None:
            fab_rows["UserGroupModelView"] = group.id
        window = db.session.query(SubmissionWindow.id).order_by(SubmissionWindow.id.desc()).first()
        if window:
            fab_rows["SubmissionWindowView"] = window[0]
        assert db.session.get(ZsdxUser, users["Admin"]["id"]) is not None
        orgs = {"A": own["org"], "B": foreign["org"]}
        assert all(db.session.get(Organisation, o) for o in orgs["A"] + orgs["B"])
    return World(users=users, own=own, foreign=foreign, fab_rows=fab_rows, orgs=orgs)


def _post_assessments(app, ent, inst, signings):
    """事后评估 of the first signing's project with `inst` (its upload form on the institution's task list), and
    of the second's waiting for 市工信局分配 (its assignment form)."""
    from zsdx.extensions import db
    from zsdx.models import PostAssessment, Signing

    with app.app_context():
        now = dt.datetime.now()
        records = []
        for ids, extra in zip(
            signings,
            ({"method": "institution", "institution_id": inst["org_id"], "assigned_at": now}, {"method": "city"}),
        ):
            project_id = db.session.get(Signing, ids["signing"]).project_id
            record = PostAssessment(project_id=project_id, organisation_id=ent["org_id"], started_at=now, **extra)
            db.session.add(record)
            records.append(record)
        db.session.commit()
        return [r.id for r in records]


def _completions(app, factory, ent, prov):
    """改造完成 records of `ent`: a pending one with rows on every page (a rating, an invoice with a line and a
    voucher), a submitted one (信息变更) and one whose 数字化改造成效 is with `prov` (the provider's page)."""
    from decimal import Decimal

    from helpers_implementation import make_implementation

    from zsdx.extensions import db
    from zsdx.models import (
        AssistRequest,
        Completion,
        Invoice,
        InvoiceLine,
        PaymentVoucher,
        ProviderRating,
        ReviewStatus,
    )

    records = [make_implementation(app, factory, ent, submitted=True)["completion"] for _ in range(2)]
    with app.app_context():
        now = dt.datetime.now()
        first, second = (db.session.get(Completion, pk) for pk in records)
        provider = first.project.signing.products[0].product.organisation_id
        db.session.add(ProviderRating(completion=first, provider_id=provider, product_stars=4, product_text="好"))
        invoice = Invoice(completion=first, number=f"FZ{first.id}", issued_on=now.date(), seller="销售方")
        line = InvoiceLine(invoice=invoice, name="服务器", amount=Decimal("1.00"), tax=Decimal("0.13"))
        line.total = Decimal("1.13")
        db.session.add_all([invoice, line, PaymentVoucher(invoice=invoice, paid_on=now.date(), amount=Decimal("1"))])
        second.status, second.submitted_at = "submitted", now
        assisted = Completion(
            project_id=make_implementation(app, factory, ent)["project"],
            organisation_id=ent["org_id"],
            project_name="协助填写的改造完成",
            assisted=True,
        )
        db.session.add(assisted)
        db.session.flush()
        db.session.add(
            AssistRequest(
                host_type="completion",
                host_id=assisted.id,
                organisation_id=ent["org_id"],
                provider_id=prov["org_id"],
                status=ReviewStatus.REVIEWING,
                current_step="provider_fill",
                submitted_at=now,
                step_entered_at=now,
            )
        )
        db.session.commit()
        return [*records, assisted.id]


def _warehousings(app, completion_id):
    """The 项目入库 draft of a tenant's submitted 改造完成 (pre-filled with its project), and an open 申报窗口 so
    that its page offers the form."""
    from zsdx.extensions import db
    from zsdx.models import Completion, SubmissionWindow, Warehousing

    with app.app_context():
        now = dt.datetime.now()
        c = db.session.get(Completion, completion_id)
        record = db.session.query(Warehousing).filter_by(project_id=c.project_id).one_or_none()
        if record is None:
            record = Warehousing(
                project_id=c.project_id,
                organisation_id=c.organisation_id,
                town_id=c.town_id,
                project_name=c.project_name,
            )
            db.session.add(record)
        db.session.add(
            SubmissionWindow(
                chain_name="warehousing",
                name="模糊测试入库窗口",
                opens_at=now - dt.timedelta(hours=1),
                closes_at=now + dt.timedelta(days=30),
            )
        )
        db.session.commit()
        return [record.id]


def _implementations(app, ent, provider, signing_id, product):
    """改造中 records of a tenant (ids): the signed signing's (pending, 否), a submitted one, and one whose page
    is with the tenant's provider (协助填写中); their signings are signed directly, so the records are made here."""
    from helpers_signing import make_signing

    from zsdx.extensions import db
    from zsdx.implementation import new_implementation
    from zsdx.models import AssistRequest, ImplementationStatus, ReviewStatus, Signing

    more = [
        make_signing(app, ent, contracts=1, filled=True, signed=True, product=product, provider_org=provider["org_id"])
        for _ in range(2)
    ]
    with app.app_context():
        now = dt.datetime.now()
        records = [new_implementation(db.session.get(Signing, s)) for s in [signing_id] + [m["signing"] for m in more]]
        db.session.add_all(records)
        db.session.flush()
        pending, submitted, assisted = records
        for record in records:
            record.assisted = record is assisted
            for indicator in record.indicators:
                indicator.before = f"{indicator.dimension}改造前"
        submitted.status, submitted.submitted_at = ImplementationStatus.SUBMITTED, now
        db.session.add(
            AssistRequest(
                host_type="implementation",
                host_id=assisted.id,
                organisation_id=ent["org_id"],
                provider_id=provider["org_id"],
                status=ReviewStatus.REVIEWING,
                current_step="provider_fill",
                submitted_at=now,
                step_entered_at=now,
            )
        )
        db.session.commit()
        return [r.id for r in records]


# --- discovery -------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea", "file", "submit"
    value: str = ""
    options: tuple = ()
    checked: bool = True


@dataclasses.dataclass
class Form:
    page: str
    action: str
    multipart: bool
    fields: list
    swap_url_id: bool = True  # False for FAB's CRUD: another id there is another test's row (Admin sees all)
    posts: bool = True  # False: the action takes no POST (FAB's list-page delete form, aimed by JavaScript)

    @property
    def key(self):
        """Forms are the same when they post the same field names to the same route (ids aside)."""
        path = re.sub(r"/\d+", "/<n>", urlsplit(self.action).path)
        return path + "?" + ",".join(sorted({f.name for f in self.fields if f.kind != "submit"}))

    @property
    def csrf_names(self):
        return {f.name for f in self.fields if f.name == "csrf_token" or f.name.endswith("-csrf_token")}


def parse_forms(html, page_url):
    """Every <form method=post> of a page, as the fields a browser would send."""
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    forms = []
    for el in doc.xpath("//form"):
        if (el.get("method") or "get").lower() != "post":
            continue
        action = urljoin(page_url, el.get("action") or page_url)
        fields = []
        for node in el.xpath(".//input|.//select|.//textarea|.//button"):
            name = node.get("name")
            if not name:
                continue
            tag = node.tag.lower()
            if tag == "select":
                opts = tuple(o.get("value", o.text_content()) for o in node.xpath(".//option"))
                sel = [o.get("value", o.text_content()) for o in node.xpath(".//option[@selected]")]
                fields.append(Field(name, "select", sel[0] if sel else (opts[0] if opts else ""), opts))
            elif tag == "textarea":
                fields.append(Field(name, "textarea", node.text_content()))
            elif tag == "button":
                if (node.get("type") or "submit").lower() == "submit":
                    fields.append(Field(name, "submit", node.get("value") or ""))
            else:
                kind = (node.get("type") or "text").lower()
                if kind in ("submit", "image"):
                    fields.append(Field(name, "submit", node.get("value") or ""))
                elif kind in ("checkbox", "radio"):
                    fields.append(Field(name, kind, node.get("value") or "on", checked=node.get("checked") is not None))
                elif kind in ("button", "reset"):
                    continue
                else:
                    fields.append(Field(name, kind, node.get("value") or ""))
        forms.append(Form(page_url, action, (el.get("enctype") or "").lower() == "multipart/form-data", fields))
    return forms


def _fill(app, rule, world, endpoint):
    """The URLs of an argument route filled with the world's ids (A's and B's), or [] when not walked."""
    args = set(rule.arguments)
    view = endpoint.split(".")[0]
    if _fab_row(app, endpoint):
        pk = world.fab_rows.get(view)
        return [rule.rule.replace("<pk>", str(pk))] if pk and args == {"pk"} else []
    if args - {"pk", "subject", "org_id"}:
        return []
    if "org_id" in args:
        pks = world.own["org"][:1] + world.foreign["org"][:1]
    elif view in ("FilingView", "ReviewQueueView"):
        pks = world.own["filing"] + world.foreign["filing"][:2]
    elif view in ("SigningView", "PreSubsidyView"):
        # both pages of the signing form (?page=2 is the same route: links are followed by path only)
        pks = world.own["signing"] + world.foreign["signing"][:1]
        urls = [re.sub(r"<(?:int:)?pk>", str(pk), rule.rule) for pk in pks]
        if endpoint in ("SigningView.edit", "SigningView.change", "SigningView.assist"):
            urls += [u + "?page=2" for u in urls]
        return urls
    elif view == "CompletionView":
        # the three pages of the enterprise's form (?page=N is the same route)
        pks = world.own["completion"] + world.foreign["completion"][:1]
        urls = [re.sub(r"<(?:int:)?pk>", str(pk), rule.rule) for pk in pks]
        if endpoint in ("CompletionView.edit", "CompletionView.change"):
            urls += [u + f"?page={n}" for u in urls for n in (2, 3)]
        return urls if args == {"pk"} else []
    elif view == "ImplementationView":
        pks = world.own["implementation"] + world.foreign["implementation"][:1]
    elif view == "WarehousingView":
        pks = world.own["warehousing"] + world.foreign["warehousing"][:1]
    else:
        return []  # assessments, diagnoses, announcements: found as links on the pages above
    urls = []
    for pk in pks:
        url = re.sub(r"<(?:int:)?(?:pk|org_id)>", str(pk), rule.rule)
        urls.append(url.replace("<subject>", "filing"))
    return urls


def candidate_urls(app, world):
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or SKIP_ENDPOINTS.search(rule.endpoint):
            continue
        if not rule.arguments:
            urls.append(rule.rule)
        else:
            urls.extend(_fill(app, rule, world, rule.endpoint))
    return sorted(set(urls))


def _walkable_link(app, href):
    """A same-site link to an argument route we may walk (not a FAB row of someone else, not a download)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(parts.path, method="GET")
    except Exception:
        return None
    if not args or SKIP_ENDPOINTS.search(endpoint) or _fab_row(app, endpoint):
        return None
    return parts.path


def discover(app, client, world):
    """{form key: Form} of every post form served to this client (first occurrence wins)."""
    found = {}
    seen = set()
    queue = [(u, 0) for u in candidate_urls(app, world)]
    while queue:
        url, depth = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        try:
            resp = client.get(url, follow_redirects=True)
        except Exception:  # a GET that raises is the access table's finding, not a form
            continue
        if resp.status_code != 200 or "html" not in (resp.content_type or ""):
            continue
        final = resp.request.path
        html = resp.get_data(as_text=True)
        fab = fab_model_views(app)
        for form in parse_forms(html, final):
            try:
                endpoint = app.url_map.bind("localhost").match(urlsplit(form.action).path, method="POST")[0]
            except Exception:
                endpoint, form.posts = "", False
            if NOT_FUZZED_FORMS.search(endpoint or "-"):
                continue
            form.swap_url_id = endpoint.split(".")[0] not in fab
            found.setdefault(form.key, form)
        if depth == 0:
            for href in lxml.html.fromstring(html).xpath("//a/@href") if html.strip() else []:
                path = _walkable_link(app, href)
                if path and path not in seen:
                    queue.append((path, depth + 1))
    return found


# --- bad input -------------------------------------------------------------------------------------------
NUMBERS = [
    "1e20",
    "99999999999",
    "9999999999999.99",
    "-1",
    "-0",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "sNaN",
    "1e309",
    "1e-400",
    "2147483648",
    "9223372036854775808",
    "0x10",
    "1_000",
    "１２３４",
    "٣٤",
    "1,5",
    "",
]
TEXTS = [
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "line\r\nInjected: 1",
    "\u202etxt.exe",
    "\u200f\u200e\u200b",
    "\ufeff",
    "😀" * 40,
    "e\u0301" * 200,
    "\U0010ffff",
    "１３９００００１２３４",
    "字" * 10_000,
    "a" * 10_001,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "[]",
    "{}",
    "true",
    "null",
    "   ",
]
# Raw (already encoded) values: invalid UTF-8 a browser can still send.
RAW = [b"\xed\xa0\x80", b"\xff\xfe\xfd", b"\xc0\x80", b"a\xed\xb0\x80b"]
JUNK_IDS = ["0", "-1", "2147483648", "99999999999999999999", "1.5", "abc", "1 OR 1=1"]


def bad_values(world):
    foreign = [str(i) for i in world.foreign_ids()]
    return st.one_of(
        st.sampled_from(NUMBERS),
        st.sampled_from(TEXTS),
        st.sampled_from(RAW),
        st.sampled_from(foreign + JUNK_IDS),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
        st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Nd", "So"]), min_size=1, max_size=20),
    )


FILE_NAMES = [
    "a\r\nb.pdf",
    "a\x00b.pdf",
    "../../x.pdf",
    "合同" * 150 + ".pdf",
    "x.exe",
    "no-extension",
    "",
    ".pdf",
    "a%0D%0Ab.pdf",
    "\u202efdp.exe",
]
FILE_BODIES = [b"", b"%PDF-1.4\n%%EOF\n", b"MZ\x90\x00" + b"\x00" * 60, b"\x00" * 1024, "中文".encode("gb18030")]


@dataclasses.dataclass
class Case:
    url: str
    pairs: list  # (name, str | bytes | (filename, bytes))
    note: list  # what was changed, for the report

    def describe(self):
        return "; ".join(self.note) or "as served"


def draw_case(data, form, world):
    """One request: the served form with some fields spoiled (drawn by hypothesis from `data`)."""
    bad = bad_values(world)
    foreign = [str(i) for i in world.foreign_ids()] + JUNK_IDS
    note = []
    pairs = []
    submits = [f for f in form.fields if f.kind == "submit"]
    submit = data.draw(st.sampled_from(submits)) if submits else None
    for f in form.fields:
        if f.kind == "submit":
            continue
        if f.name in form.csrf_names:
            pairs.append((f.name, f.value))
            continue
        if f.kind in ("checkbox", "radio") and not f.checked and not data.draw(st.booleans()):
            continue
        op = data.draw(st.sampled_from(["keep", "keep", "bad", "drop", "dup", "foreign"]))
        if f.kind == "file":
            if op == "drop":
                note.append(f"{f.name}: dropped")
                continue
            name = data.draw(st.sampled_from(FILE_NAMES))
            body = data.draw(st.sampled_from(FILE_BODIES))
            pairs.append((f.name, (name, body)))
            note.append(f"{f.name}: file {name[:40]!r} ({len(body)} bytes)")
            continue
        value = f.value
        if f.kind == "select" and f.options and op == "keep":
            value = data.draw(st.sampled_from(f.options))
        if op == "drop":
            note.append(f"{f.name}: dropped")
            continue
        if op == "bad":
            value = data.draw(bad)
            note.append(f"{f.name}={_show(value)}")
        elif op == "foreign":
            value = data.draw(st.sampled_from(foreign))
            note.append(f"{f.name}={value} (foreign/junk id)")
        pairs.append((f.name, value))
        if op == "dup":
            extra = data.draw(bad)
            pairs.append((f.name, extra))
            note.append(f"{f.name} twice (+{_show(extra)})")
    if submit is not None:
        pairs.append((submit.name, submit.value))
    if data.draw(st.integers(0, 9)) == 0:
        pairs.append(("zz_unknown", data.draw(bad)))
        note.append("unknown field")
    url = form.action
    ids = re.findall(r"/(\d+)(?=/|$|\?)", urlsplit(url).path)
    if ids and form.swap_url_id and data.draw(st.integers(0, 4)) == 0:
        other = data.draw(st.sampled_from(foreign))
        url = url.replace(f"/{ids[0]}", f"/{quote_from_bytes(other.encode())}", 1)
        note.append(f"URL id {ids[0]} -> {other}")
    return Case(url, pairs, note)


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}…({len(value)} chars)"


def _enc(value):
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def encode(case, multipart):
    """The request body, built by hand so invalid UTF-8 and duplicated names go on the wire as drawn."""
    if not multipart and not any(isinstance(v, tuple) for _, v in case.pairs):
        body = "&".join(f"{quote_from_bytes(_enc(k))}={quote_from_bytes(_enc(v))}" for k, v in case.pairs)
        return body.encode("ascii"), "application/x-www-form-urlencoded"
    boundary = "----zsdxfuzz" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in case.pairs:
        out.write(f"--{boundary}\r\n".encode())
        if isinstance(value, tuple):
            filename, body = value
            out.write(b'Content-Disposition: form-data; name="' + _enc(name) + b'"; filename="')
            out.write(_enc(filename).replace(b'"', b"%22") + b'"\r\nContent-Type: application/octet-stream\r\n\r\n')
            out.write(body)
        else:
            out.write(b'Content-Disposition: form-data; name="' + _enc(name) + b'"\r\n\r\n' + _enc(value))
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# --- what the database holds -------------------------------------------------------------------------------
# Written by design when an attempt is refused (counted failures, SMS tries, sign-in bookkeeping).
EXEMPT_TABLES = {"zs_login_failure", "zs_sms_code"}
EXEMPT_COLUMNS = {"last_login", "login_count", "fail_login_count", "changed_on"}
FULL_TABLE_ROWS = 5000  # larger tables: row count and highest key only


def snapshot(app):
    """{table: fingerprint}: the content of every row (bookkeeping columns aside) of each table of up to
    FULL_TABLE_ROWS rows, or the row count and highest key of a larger one; and, for each table of reviewed
    records, `<table>#workflow`: every submitted row's (id, status, current_step), which no refusal may change
    (a draft never submitted is left out: a refused first 保存 of a draft screen may create it)."""
    from sqlalchemy import func, inspect, select

    from zsdx.extensions import db

    with app.app_context():
        existing = set(inspect(db.engine).get_table_names())
        out = {}
        for table in db.metadata.sorted_tables:
            if table.name in EXEMPT_TABLES or table.name not in existing:
                continue
            pk = list(table.primary_key.columns)
            cols = [c for c in table.columns if c.name not in EXEMPT_COLUMNS]
            rows = db.session.execute(select(*cols).order_by(*(pk or cols)).limit(FULL_TABLE_ROWS + 1)).all()
            if len(rows) > FULL_TABLE_ROWS and len(pk) == 1:
                count = db.session.execute(select(func.count()).select_from(table)).scalar()
                out[table.name] = (count, db.session.execute(select(func.max(pk[0]))).scalar())
            else:
                out[table.name] = hashlib.sha1(repr(rows).encode()).hexdigest()
            if {"status", "current_step"} <= set(table.columns.keys()) and len(pk) == 1:
                # drafts never submitted are not in any workflow yet: a refused first 保存 may create one
                # (the draft's own table is then a DRAFT_WRITES entry), but never submit, move or end one
                not_started = (table.c.status == "draft") & table.c.current_step.is_(None)
                state = select(pk[0], table.c.status, table.c.current_step).where(~not_started).order_by(pk[0])
                out[f"{table.name}#workflow"] = hashlib.sha1(repr(db.session.execute(state).all()).encode()).hexdigest()
        db.session.remove()
    return out


# Screens whose contract is "what was typed is kept": saving a draft stores the valid fields even while
# errors are shown beside the others (zsdx/views/filing.py, zsdx/views/assessment.py). A refusal there may
# write the draft's own tables, never its workflow state (`#workflow`) nor anything else.
DRAFT_WRITES = {
    "/filing/<n>/edit": {"zs_filing", "zs_project", "zs_file"},
    "/assessment/<n>/edit": {"zs_assessment"},
    # 项目签约 (zsdx/views/signing.py): the enterprise's pages keep what parsed; the provider's page 3 its rows
    "/signing/<n>/edit": {"zs_signing", "zs_contract", "zs_signing_need", "zs_signing_product", "zs_file"},
    "/signing/<n>/assist": {"zs_signing_need", "zs_signing_product"},
    # 项目实施-改造中 (zsdx/views/implementation.py): the enterprise's page keeps the 是/否 and the dimensions that
    # parsed; the provider's page its dimensions
    "/implementation/<n>/edit": {"zs_implementation", "zs_implementation_indicator"},
    "/implementation/<n>/assist": {"zs_implementation_indicator"},
    # 预奖补申请 (zsdx/views/presubsidy.py): the chosen contracts and the uploaded files are kept
    "/presubsidy/<n>": {"zs_pre_subsidy", "zs_pre_subsidy_contract", "zs_file"},
    # 项目实施-改造完成 (zsdx/views/completion.py): the enterprise's pages keep what parsed (a refused 发送 keeps 是);
    # the provider's 数字化改造成效 its rows; 信息变更 and 提交 keep nothing of a refusal
    "/completion/<n>/edit": {
        "zs_completion",
        "zs_completion_indicator",
        "zs_provider_rating",
        "zs_invoice",
        "zs_invoice_line",
        "zs_payment_voucher",
        "zs_file",
    },
    "/completion/<n>/assist": {"zs_completion_indicator", "zs_file"},
    # 项目入库 (zsdx/views/warehousing.py): the copy's valid fields and the uploaded 佐证材料 are kept
    "/warehousing/<n>/edit": {"zs_warehousing", "zs_warehousing_file", "zs_file"},
}


def changed_tables(before, after):
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


# --- one request and its verdict ---------------------------------------------------------------------------
class _Errors(logging.Handler):
    """The last logged exception (FAB's @safe and our handlers log and answer 500 themselves)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.last = None

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.last = record.exc_info

    def _loggers(self):
        """The root logger and every logger that does not pass its records up to it."""
        extra = [
            lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger) and not lg.propagate
        ]
        return [logging.getLogger(), *extra]

    def __enter__(self):
        self._on = self._loggers()
        for lg in self._on:
            lg.addHandler(self)
        return self

    def __exit__(self, *exc):
        for lg in self._on:
            lg.removeHandler(self)
        return False


def last_line(exc_info):
    etype, exc, tb = exc_info
    frames = traceback.extract_tb(tb)
    where = next((f for f in reversed(frames) if "/zsdx/" in f.filename), frames[-1] if frames else None)
    at = f" at {os.path.relpath(where.filename)}:{where.lineno}" if where else ""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{etype.__name__}: {text}{at}"


ERROR_MARKERS = re.compile(
    r'has-error|alert-danger|class="[^"]*zs-error[^"]*"[^>]*>\s*[^<\s]|id="[\w-]+-error"[^>]*>\s*[^<\s]'
)
REFUSING_FLASHES = {"danger", "error", "warning"}


@dataclasses.dataclass
class Outcome:
    status: int
    refused: bool
    error: str | None  # traceback's last line of a 5xx
    csrf: bool = False  # refused by CSRFProtect before any view ran: the case did not reach the form's view


CSRF_PAGE = re.compile("页面已过期|CSRF")


def post(client, case, multipart):
    """Send one case; return (status, refused?, error line). A refusal is a 4xx, a 200 that re-renders the form
    with an error shown, or a redirect carrying a danger/error/warning flash."""
    body, ctype = encode(case, multipart)
    handler = _Errors().__enter__()
    client.environ_base["REMOTE_ADDR"] = (
        f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    )
    try:
        resp = client.post(case.url, data=body, content_type=ctype)
    except Exception:
        import sys

        return Outcome(500, True, last_line(sys.exc_info()))
    finally:
        handler.__exit__()
    status = resp.status_code
    if status >= 500:
        return Outcome(status, True, last_line(handler.last) if handler.last else f"HTTP {status} (nothing logged)")
    flashes = []
    try:
        with client.session_transaction() as sess:
            flashes = sess.pop("_flashes", [])
    except Exception:
        pass
    if 400 <= status < 500:
        refused = True
        if status == 400 and CSRF_PAGE.search(resp.get_data(as_text=True)):
            return Outcome(status, True, None, csrf=True)
    elif status == 200:
        refused = bool(ERROR_MARKERS.search(resp.get_data(as_text=True)))
    else:
        refused = any(cat in REFUSING_FLASHES for cat, _ in flashes)
    return Outcome(status, refused, None)
