"""The attacker's side of 项目备案 and its review (SPEC §1 row access, §3.1 rules, §3.10 files):
another enterprise, a reviewer of another town, a reviewer of another step, a crafted POST on a
submitted record, a file that is not what its name says, a POST without CSRF token."""

import hashlib
import io
import os
from urllib.parse import quote

import pytest
from conftest import csrf_from, login
from helpers import assert_denied, error_of
from helpers_review import (
    EXE_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    act_http,
    actions_of,
    client_for,
    filing_state,
    flashes,
    make_filing,
    new_client,
    post_info_change,
    queue_ids,
)
from test_filing import filing_form, fill_and_submit, new_filing, post_form

from zsdx.extensions import db
from zsdx.models import Filing, ReviewStatus, StoredFile


def _with_file(data, content, name="授权委托书.pdf"):
    return dict(data, authorization_file=(io.BytesIO(content), name))


def _done(app, pk):
    """Put a filing straight into 已备案 (set-up only: the chain itself is tested elsewhere)."""
    with app.app_context():
        f = db.session.get(Filing, pk)
        f.status, f.current_step, f.filing_no = ReviewStatus.DONE, None, None
        db.session.commit()


def api_client(app, user):
    """A client with a JWT of `user` (POST /api/v1/security/login)."""
    c = new_client(app)
    resp = c.post(
        "/api/v1/security/login", json={"username": user["phone"], "password": user["password"], "provider": "db"}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    token = resp.get_json()["access_token"]
    return c, {"Authorization": f"Bearer {token}"}


def api_ids(c, headers):
    resp = c.get("/api/v1/filing/?q=(page_size:100)", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return set(resp.get_json()["ids"])


# --- another enterprise ------------------------------------------------------------------------------
def test_enterprise_cannot_read_edit_submit_or_download_another_enterprises_filing(app, client, factory):
    victim = factory.enterprise_user("2010")
    attacker = factory.enterprise_user("2010")
    vc = client_for(app, victim)
    draft = new_filing(vc)
    assert post_form(vc, draft, "save", _with_file({"project_name": "受害者草稿"}, PDF_BYTES)).status_code == 302
    submitted = fill_and_submit(app, vc, victim, project_name="受害者已提交")
    done = make_filing(app, victim, step="city", project_name="受害者已备案")
    _done(app, done)
    with app.app_context():
        assert db.session.get(Filing, draft).authorization_file_id is not None  # the attack has a file to aim at
    assert vc.get(f"/filing/{draft}/file/authorization").status_code == 200
    assert vc.get(f"/filing/{done}/change").status_code == 200  # 信息变更 is the owner's, once filed

    login(client, attacker)
    token = csrf_from(client.get("/workbench/?group=projects&tab=filing").get_data(as_text=True))
    crafted = dict(filing_form(app), project_name="被篡改", planned_investment="1", csrf_token=token)
    for pk in (draft, submitted, done):
        before = filing_state(app, pk)
        assert client.get(f"/filing/{pk}").status_code == 404
        assert client.get(f"/filing/{pk}/edit").status_code == 404
        for action in ("save", "submit"):
            assert client.post(f"/filing/{pk}/edit", data=dict(crafted, action=action)).status_code == 404
        resp = client.post(f"/filing/{pk}/edit", data=_with_file(dict(crafted, action="save"), PDF_BYTES, "替换.pdf"))
        assert resp.status_code == 404
        assert client.get(f"/filing/{pk}/change").status_code == 404
        assert client.post(f"/filing/{pk}/change", data=dict(crafted, action="save")).status_code == 404
        for which in ("authorization", "evidence"):
            assert client.get(f"/filing/{pk}/file/{which}").status_code == 404
            assert client.get(f"/filing/{pk}/file/{which}?inline=1").status_code == 404
        assert filing_state(app, pk) == before
    with app.app_context():
        f = db.session.get(Filing, draft)
        assert f.project_name == "受害者草稿" and f.status == ReviewStatus.DRAFT
    # the attacker's own list does not carry the victim's rows
    html = client.get("/workbench/?group=projects&tab=filing").get_data(as_text=True)
    assert "受害者" not in html


def test_api_returns_only_own_filings(app, factory):
    victim = factory.enterprise_user("2010")
    attacker = factory.enterprise_user("2010")
    theirs = make_filing(app, victim, step="town", project_name="他人的API项目")
    their_draft = make_filing(app, victim, step=None)
    mine = make_filing(app, attacker, step="town", project_name="自己的API项目")
    c, headers = api_client(app, attacker)
    for pk in (theirs, their_draft):
        assert c.get(f"/api/v1/filing/{pk}", headers=headers).status_code == 404
    resp = c.get(f"/api/v1/filing/{mine}", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["result"]["project_name"] == "自己的API项目"
    ids = api_ids(c, headers)
    assert mine in ids and theirs not in ids and their_draft not in ids
    with app.app_context():
        own = {pk for (pk,) in db.session.query(Filing.id).filter_by(organisation_id=attacker["org_id"])}
    assert ids == own
    # no token, no rows
    assert c.get(f"/api/v1/filing/{mine}").status_code == 401


# --- a reviewer of another town ----------------------------------------------------------------------
def test_town_reviewer_of_another_town_cannot_see_or_act(app, factory):
    ent = factory.enterprise_user("2010")
    ec = client_for(app, ent)
    pk = new_filing(ec)
    with app.app_context():
        f = db.session.get(Filing, pk)
        data = filing_form(app, ent_credit_code=f.ent_credit_code, town_id=str(f.town_id), project_name="小榄镇的项目")
    assert post_form(ec, pk, "submit", _with_file(data, PDF_BYTES)).status_code == 302
    assert filing_state(app, pk)["authorization_file_id"] is not None
    other = factory.user("镇街", town_code="2001")
    own = factory.user("镇街", town_code="2010")
    oc = client_for(app, other)
    before = filing_state(app, pk)

    assert oc.get(f"/review/filing/{pk}").status_code == 404
    assert oc.get(f"/filing/{pk}").status_code == 404
    assert oc.get(f"/filing/{pk}/file/authorization").status_code == 404
    for tab in ("pending", "done"):
        assert pk not in queue_ids(oc, f"/review/?subject=filing&tab={tab}")
    export = oc.get("/review/export.xlsx?subject=filing")
    assert export.status_code == 200
    from openpyxl import load_workbook

    names = [row[2] for row in load_workbook(io.BytesIO(export.data)).active.iter_rows(min_row=2, values_only=True)]
    assert "小榄镇的项目" not in names
    c, headers = api_client(app, other)
    assert c.get(f"/api/v1/filing/{pk}", headers=headers).status_code == 404
    assert pk not in api_ids(c, headers)
    for action, opinion in (("approve", "同意"), ("return", "越权驳回"), ("reject", "越权")):
        resp = act_http(oc, pk, action, opinion)
        assert resp.status_code == 404 or (
            resp.status_code == 302 and f"/review/filing/{pk}" in resp.headers["Location"]
        )
    assert filing_state(app, pk) == before
    assert [a[1] for a in actions_of(app, pk)] == ["submit"]

    # the reviewer of the filing's own town does see it and may act (the control)
    ownc = client_for(app, own)
    assert pk in queue_ids(ownc, "/review/?subject=filing")
    assert 'id="review-form"' in ownc.get(f"/review/filing/{pk}").get_data(as_text=True)
    assert ownc.get(f"/filing/{pk}/file/authorization").data == PDF_BYTES


# --- a reviewer of another step; an enterprise at the review endpoints --------------------------------
@pytest.mark.parametrize("role", ["第三方", "市工信"])
def test_reviewer_cannot_act_on_a_step_that_is_not_theirs(app, factory, role):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="town")
    reviewer = factory.user(role)
    c = client_for(app, reviewer)
    page = c.get(f"/review/filing/{pk}")
    assert page.status_code == 200 and 'id="review-form"' not in page.get_data(as_text=True)
    assert pk not in queue_ids(c, "/review/?subject=filing")
    before = filing_state(app, pk)
    for action, opinion in (("approve", "同意"), ("return", "不是我的环节")):
        resp = act_http(c, pk, action, opinion)
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/review/filing/{pk}")
        assert any("您无权审核该记录的当前环节" in m for m in flashes(c, f"/review/filing/{pk}"))
    assert filing_state(app, pk) == before
    assert actions_of(app, pk) == []


def test_reviewer_cannot_act_again_once_the_record_moved_on(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="city")  # 第三方 already approved it
    c = client_for(app, factory.user("第三方"))
    before = filing_state(app, pk)
    resp = act_http(c, pk, "approve", "再同意一次")
    assert resp.status_code == 302
    assert filing_state(app, pk) == before and actions_of(app, pk) == []


def test_enterprise_user_gets_no_access_to_review_actions(app, client, factory):
    ent = factory.enterprise_user("2010")
    own = make_filing(app, ent, step="town")
    other = make_filing(app, factory.enterprise_user("2010"), step="town")
    login(client, ent)
    token = csrf_from(client.get("/workbench/").get_data(as_text=True))
    for pk in (own, other):
        before = filing_state(app, pk)
        for url in (f"/review/filing/{pk}", "/review/", "/review/export.xlsx"):
            assert_denied(client.get(url), url)
        for action in ("approve", "return", "reject"):
            url = f"/review/filing/{pk}/act"
            assert_denied(client.post(url, data={"csrf_token": token, "action": action, "opinion": "自己审自己"}), url)
        url = "/review/bulk"
        assert_denied(client.post(url, data={"csrf_token": token, "subject": "filing", "ids": [str(pk)]}), url)
        assert filing_state(app, pk) == before
        assert actions_of(app, pk) == []


# --- a submitted record is not editable --------------------------------------------------------------
def test_submitted_filing_cannot_be_changed_by_a_crafted_post(app, client, factory):
    ent = factory.enterprise_user("2010")
    login(client, ent)
    pk = fill_and_submit(app, client, ent, project_name="已提交的项目")
    before = filing_state(app, pk)
    resp = client.get(f"/filing/{pk}/edit")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/filing/{pk}")
    token = csrf_from(client.get(f"/filing/{pk}").get_data(as_text=True))
    with app.app_context():
        f = db.session.get(Filing, pk)
        crafted = filing_form(
            app,
            ent_credit_code=f.ent_credit_code,
            town_id=str(f.town_id),
            project_name="偷偷改名",
            planned_investment="9999",
            csrf_token=token,
        )
    for action in ("save", "submit"):
        resp = client.post(f"/filing/{pk}/edit", data=dict(crafted, action=action))
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/filing/{pk}")
    resp = client.post(f"/filing/{pk}/edit", data=_with_file(dict(crafted, action="save"), PDF_BYTES))
    assert resp.status_code == 302
    assert client.post(f"/filing/{pk}/change", data=dict(crafted, action="save")).status_code == 404
    assert client.get(f"/filing/{pk}/change").status_code == 404
    after = filing_state(app, pk)
    assert after == before
    assert after["project_name"] == "已提交的项目" and after["status"] == ReviewStatus.REVIEWING
    assert [a[1] for a in actions_of(app, pk)] == ["submit"]  # no second submission either


# --- files: the bytes decide -------------------------------------------------------------------------
@pytest.mark.parametrize("content", [EXE_BYTES, PNG_BYTES], ids=["exe", "png"])
def test_file_that_is_not_a_pdf_is_refused_whatever_its_name(app, client, login_as, content):
    login_as("企业")
    pk = new_filing(client)
    sha = hashlib.sha256(content).hexdigest()
    path = os.path.join(app.config["UPLOAD_FOLDER"], sha[:2], sha)
    # other screens may legitimately hold the same bytes (a PNG payment voucher): nothing is added by this one
    with app.app_context():
        rows_before = db.session.query(StoredFile).filter_by(sha256=sha).count()
    on_disk_before = os.path.exists(path)
    resp = post_form(client, pk, "save", _with_file({"project_name": "上传测试"}, content))
    assert resp.status_code == 200
    message = error_of(resp, "authorization_file")
    assert message and "PDF" in message
    with app.app_context():
        assert db.session.get(Filing, pk).authorization_file_id is None
        assert db.session.query(StoredFile).filter_by(sha256=sha).count() == rows_before
        assert os.path.exists(path) == on_disk_before
    assert client.get(f"/filing/{pk}/file/authorization").status_code == 404


def test_real_pdf_is_stored_and_downloads_with_its_chinese_name(app, client, factory):
    ent = factory.enterprise_user("2010")
    login(client, ent)
    pk = new_filing(client)
    assert post_form(client, pk, "save", _with_file({"project_name": "上传PDF"}, PDF_BYTES)).status_code == 302
    with app.app_context():
        stored = db.session.get(Filing, pk).authorization_file
        assert stored is not None and stored.original_name == "授权委托书.pdf" and stored.mime == "application/pdf"
        assert stored.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    resp = client.get(f"/filing/{pk}/file/authorization")
    assert resp.status_code == 200 and resp.data == PDF_BYTES
    assert resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("授权委托书.pdf") in disposition
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    inline = client.get(f"/filing/{pk}/file/authorization?inline=1")
    assert inline.status_code == 200 and inline.headers["Content-Disposition"].startswith("inline")


# --- CSRF ---------------------------------------------------------------------------------------------
def test_review_action_without_csrf_token_is_refused(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="town")
    c = client_for(app, factory.user("镇街", town_code="2010"))
    before = filing_state(app, pk)
    assert c.post(f"/review/filing/{pk}/act", data={"action": "approve", "opinion": "同意"}).status_code == 400
    assert (
        c.post(
            f"/review/filing/{pk}/act", data={"action": "approve", "opinion": "同意", "csrf_token": "forged"}
        ).status_code
        == 400
    )
    assert c.post("/review/bulk", data={"subject": "filing", "ids": [str(pk)]}).status_code == 400
    assert filing_state(app, pk) == before and actions_of(app, pk) == []


# --- 企业信息变更: reviewed by 市工信 only -----------------------------------------------------------------
def _info_change(app, factory):
    """An enterprise's pending 信息变更 with an attachment (a business licence PDF)."""
    ent = factory.enterprise_user("2010")
    ec = client_for(app, ent)
    with app.app_context():
        from zsdx.models import Organisation

        town_id = db.session.get(Organisation, ent["org_id"]).town_id
    resp = post_info_change(ec, name="中山市变更测试有限公司", credit_code=factory.credit_code(), town_id=town_id)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        from zsdx.models import InfoChangeRequest

        req = db.session.query(InfoChangeRequest).filter_by(organisation_id=ent["org_id"]).one()
        return ent, req.id, req.attachments[0].id


def test_other_enterprise_cannot_see_an_info_change_request(app, factory):
    ent, pk, att = _info_change(app, factory)
    oc = client_for(app, factory.enterprise_user("2010"))
    assert_denied(oc.get(f"/review/info_change/{pk}"), f"/review/info_change/{pk}")
    assert oc.get(f"/info-change/{pk}/attachment/{att}").status_code == 404
    assert "中山市变更测试有限公司" not in oc.get("/info-change/").get_data(as_text=True)
    # the owner and the city bureau do
    assert client_for(app, ent).get(f"/info-change/{pk}/attachment/{att}").data == PDF_BYTES
    assert (
        client_for(app, factory.user("市工信")).get(f"/review/info_change/{pk}/file/attachment/{att}").data == PDF_BYTES
    )


def test_third_party_reviewer_cannot_open_an_info_change_request(app, factory):
    _ent, pk, att = _info_change(app, factory)
    c = client_for(app, factory.user("第三方"))
    assert c.get(f"/review/info_change/{pk}/file/attachment/{att}").status_code in (403, 404)
    assert c.get(f"/review/info_change/{pk}").status_code in (403, 404)
