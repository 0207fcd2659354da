"""Shared set-up of the review-engine tests (test_review_*.py, test_redis_outage.py).

Records are made through the real HTTP layer where the test is about that layer; fixtures that only
need "a filing waiting at step X" insert it directly (`make_filing`) to stay fast. Every helper scopes
to records it creates: the database is shared by all tests of a process.
"""

import io
import itertools
import random
import re

import lxml.html
from conftest import csrf_from, login

from zsdx.extensions import db
from zsdx.models import (
    Filing,
    Notification,
    Organisation,
    ProductCategory,
    ReviewAction,
    Town,
)

# A minimal but real PDF (header, one empty page, xref, trailer, %%EOF).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n"
)
EXE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)

_ips = itertools.count(random.randint(0, 50_000))


def new_client(app):
    """A fresh browser with its own IP (the login rate limit counts per IP)."""
    n = next(_ips)
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"172.{16 + (n >> 16) % 16}.{n >> 8 & 255}.{n & 255}"
    return c


def client_for(app, user):
    c = new_client(app)
    login(c, user)
    return c


def make_town(app):
    """A town of this test alone (4-digit code 8xxx): queues, exports and 备案号 sequences stay ours."""
    with app.app_context():
        used = {code for (code,) in db.session.query(Town.code)}
        code = random.choice([f"{n}" for n in range(8000, 9000) if f"{n}" not in used])
        town = Town(code=code, name=f"测试镇{code}", sort=900)
        db.session.add(town)
        db.session.commit()
        return {"id": town.id, "code": code, "name": town.name}


def leaf_category(app):
    with app.app_context():
        return db.session.query(ProductCategory.id).filter_by(level=3).order_by(ProductCategory.id).first()[0]


def make_filing(app, ent, step="third_party", project_name=None, entered=None):
    """A complete filing of `ent` (a factory user dict) already waiting at `step` (None: a draft)."""
    from zsdx.seed import sample_filing

    with app.app_context():
        org = db.session.get(Organisation, ent["org_id"])
        name = project_name or f"测试项目{random.randint(0, 10**8)}"
        filing = sample_filing(org, ent["id"], step=step, project_name=name, entered=entered)
        db.session.commit()
        return filing.id


def post_info_change(client, **fields):
    """Send the enterprise's 企业信息变更 form as it fills it: the page's CSRF token, 行业 1, a contact, a business
    licence (PDF) attached, and `fields` (name, credit_code, town_id…) as typed."""
    html = client.get("/info-change/").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "industry_id": "1",
        "contact_name": "联系人",
        "contact_phone": "13912345678",
        "attachments": (io.BytesIO(PDF_BYTES), "营业执照.pdf"),
    }
    data.update({name: str(value) for name, value in fields.items()})
    return client.post("/info-change/", data=data)


def filing_state(app, pk):
    """What a test compares before/after an attempt: the columns an attack could change."""
    with app.app_context():
        f = db.session.get(Filing, pk)
        return {
            "status": f.status,
            "current_step": f.current_step,
            "version": f.version,
            "project_name": f.project_name,
            "planned_investment": f.planned_investment,
            "authorization_file_id": f.authorization_file_id,
            "filing_no": f.filing_no,
            "return_step": f.return_step,
        }


def actions_of(app, pk, subject="filing"):
    with app.app_context():
        return [
            (a.step, a.action, a.actor_id, a.opinion)
            for a in db.session.query(ReviewAction)
            .filter_by(subject_type=subject, subject_id=pk)
            .order_by(ReviewAction.created_at, ReviewAction.id)
        ]


def notes_of(app, user, kind=None, link=None):
    """(id, kind, text, link, is_read, delivered_at) of a user's notifications (those pointing at `link`,
    a path such as /filing/12), oldest first."""
    with app.app_context():
        q = db.session.query(Notification).filter(Notification.user_id == user["id"])
        if kind:
            q = q.filter(Notification.kind == kind)
        rows = [
            {
                "id": n.id,
                "kind": n.kind,
                "text": n.text,
                "link": n.link or "",
                "is_read": n.is_read,
                "delivered_at": n.delivered_at,
            }
            for n in q.order_by(Notification.id)
        ]
    return [r for r in rows if link is None or r["link"].split("?")[0] == link]


def act_http(client, pk, action, opinion="", subject="filing", token_from=None):
    """POST a review action with the CSRF token of the reviewer's session."""
    page = client.get(token_from or "/review/")
    return client.post(
        f"/review/{subject}/{pk}/act",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "action": action, "opinion": opinion},
    )


def flashes(client, url):
    """The flash messages shown on the next page."""
    html = client.get(url).get_data(as_text=True)
    doc = lxml.html.fromstring(html)
    return [
        el.text_content().replace("\u00d7", "").strip()
        for el in doc.xpath('//div[contains(@class, "alert")][button[@data-dismiss="alert"]]')
    ]


def queue_ids(client, url):
    """The record ids listed on a review queue page."""
    html = client.get(url).get_data(as_text=True)
    return [int(x) for x in re.findall(r'<tr data-id="(\d+)"', html)]


def review_form_fields(html):
    """The hidden inputs of the review form (#review-form) as the reviewer's browser would post them."""
    doc = lxml.html.fromstring(html)
    form = doc.xpath('//form[@id="review-form"]')
    assert form, "no review form on the page"
    return {i.get("name"): i.get("value") or "" for i in form[0].xpath('.//input[@type="hidden"]')}
