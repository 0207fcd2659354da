"""一企一档 (SPEC §3.11) through the real stack: a project taken through every stage, its dossier downloaded by
市工信 and parsed (every stage, every audit row, a file manifest whose sha256 and size match the bytes on
disk), the .zip export through the job (in-process, and with a real Redis + `rq worker` where REDIS_URL is
set), the CLI writing the same JSON, and the attacker's side."""

import datetime as dt
import hashlib
import io
import json
import os
import re
import time
import uuid
import zipfile
from decimal import Decimal
from urllib.parse import urlsplit

import count_queries as cq
import pytest
from conftest import csrf_from
from helpers_implementation import make_implementation
from helpers_review import PDF_BYTES, PNG_BYTES, client_for, make_filing, make_town
from helpers_signing import store_pdf

from zsdx.extensions import db
from zsdx.models import (
    AssistRequest,
    Completion,
    CompletionStatus,
    Contract,
    Filing,
    FilingRevision,
    InfoChangeAttachment,
    InfoChangeRequest,
    Invoice,
    InvoiceLine,
    Organisation,
    PaymentVoucher,
    PostAssessment,
    PreDiagnosis,
    PreSubsidy,
    ProviderRating,
    ReviewAction,
    ReviewStatus,
    Revision,
    Signing,
    Warehousing,
    WarehousingFile,
)

T0 = dt.datetime(2025, 1, 6, 9, 0)


def _pdf(app, user_id, name):
    """A stored PDF with bytes of its own (so that each manifest entry is checked against its own file)."""
    return store_pdf(app, user_id, data=PDF_BYTES + f"\n% {uuid.uuid4().hex}\n".encode(), name=name)


def _png(app, user_id):
    from werkzeug.datastructures import FileStorage

    from zsdx.files import IMAGES, store_upload

    with app.test_request_context("/"):
        stored = store_upload(FileStorage(io.BytesIO(PNG_BYTES), filename="付款凭证.png"), IMAGES, user_id)
        db.session.commit()
        return stored.id


def _action(subject_type, subject_id, actor_id, action, minutes, step=None, opinion=None):
    return ReviewAction(
        subject_type=subject_type,
        subject_id=subject_id,
        step=step,
        actor_id=actor_id,
        action=action,
        opinion=opinion,
        created_at=T0 + dt.timedelta(minutes=minutes),
        step_seconds=60 if step else None,
    )


def build_complete_project(app, factory, town_code="2010"):
    """A project of a new enterprise through every stage (备案 → 入库), with files, an audit trail on every
    reviewable record, revisions, an assist request and an info change. Returns ids and the file ids."""
    ent = factory.enterprise_user(town_code)
    town_user, city = factory.user("镇街", town_code=town_code), factory.user("市工信")
    provider_user = factory.user("服务商", org=factory.org("provider", town_code, is_industry_provider=True))
    ids = make_implementation(app, factory, ent, submitted=True)
    uid = ent["id"]
    files = {
        "auth": _pdf(app, uid, "授权书.pdf"),
        "diag": _pdf(app, uid, "诊断报告.pdf"),
        "post": _pdf(app, uid, "评估报告.pdf"),
        "app": _pdf(app, uid, "入库申报表.pdf"),
        "commit": _pdf(app, uid, "承诺书.pdf"),
        "credit": _pdf(app, uid, "信用报告.pdf"),
        "quote": _pdf(app, uid, "报价单.pdf"),
        "evidence": _pdf(app, uid, "佐证.pdf"),
        "wh": _pdf(app, uid, "验收材料.pdf"),
        "info": _pdf(app, uid, "营业执照.pdf"),
        "voucher": _png(app, uid),
    }
    files["contract"] = ids["file"]
    with app.app_context():
        filing = db.session.get(Filing, ids["filing"])
        filing.authorization_file_id = files["auth"]
        filing.planned_investment = Decimal("300.50")
        pre = db.session.query(PreDiagnosis).filter_by(project_id=ids["project"]).one()
        pre.report_file_id, pre.reported_level, pre.reported_score = files["diag"], 2, Decimal("61.5")
        signing = db.session.get(Signing, ids["signing"])
        contracts = db.session.query(Contract).filter_by(signing_id=signing.id).order_by(Contract.id).all()
        pre_subsidy = PreSubsidy(
            signing_id=signing.id,
            organisation_id=ent["org_id"],
            town_id=filing.town_id,
            application_file_id=files["app"],
            commitment_file_id=files["commit"],
            credit_file_id=files["credit"],
            status=ReviewStatus.DONE,
            contracts=contracts[:1],
        )
        post = db.session.get(PostAssessment, ids["post_assessment"])
        post.report_file_id, post.reported_level, post.level, post.score = files["post"], 3, 3, Decimal("72.25")
        post.status = ReviewStatus.DONE
        c = db.session.get(Completion, ids["completion"])
        c.assisted, c.level_before, c.level_after = False, 2, 3
        c.quotation_file_id = c.invoice_file_id = c.payment_file_id = files["quote"]
        for r in c.results:
            r.ticked, r.after, r.evidence_file_id = True, f"{r.dimension}改造后", files["evidence"]
        db.session.add(
            ProviderRating(
                completion_id=c.id,
                provider_id=ids["provider_org"],
                **{f"{k}_stars": 5 for k in ("product", "overall", "attitude", "after_sales")},
                **{f"{k}_text": "满意" for k in ("product", "overall", "attitude", "after_sales")},
            )
        )
        inv = Invoice(completion_id=c.id, number=f"NO{c.id}", issued_on=dt.date(2025, 6, 1), seller="销售方")
        db.session.add(inv)
        db.session.flush()
        db.session.add_all(
            [
                InvoiceLine(
                    invoice_id=inv.id,
                    name="服务器",
                    amount=Decimal("100.00"),
                    tax=Decimal("13.00"),
                    total=Decimal("113.00"),
                ),
                InvoiceLine(
                    invoice_id=inv.id,
                    position=1,
                    name="软件",
                    amount=Decimal("0.10"),
                    tax=Decimal("0.01"),
                    total=Decimal("0.11"),
                ),
                PaymentVoucher(
                    invoice_id=inv.id, paid_on=dt.date(2025, 6, 2), amount=Decimal("113.11"), file_id=files["voucher"]
                ),
            ]
        )
        c.status, c.submitted_at = CompletionStatus.SUBMITTED, dt.datetime.now()
        db.session.flush()
        wh = db.session.query(Warehousing).filter_by(project_id=ids["project"]).one_or_none()
        if wh is None:  # 项目入库 is opened by 改造完成's submission once zsdx/warehousing.py does it
            wh = Warehousing(project_id=ids["project"], organisation_id=ent["org_id"], town_id=filing.town_id)
            db.session.add(wh)
            db.session.flush()
        wh.project_name, wh.content = filing.project_name, {"basic": {"project_name": filing.project_name}}
        wh.status, wh.completed_at = ReviewStatus.DONE, T0 + dt.timedelta(days=30)
        wh.level_after, wh.subsidy_cap, wh.proposed_subsidy = 3, Decimal("50.5000"), Decimal("30.0000")
        db.session.add(WarehousingFile(warehousing_id=wh.id, kind="acceptance", file_id=files["wh"]))
        assist = AssistRequest(
            host_type="signing",
            host_id=signing.id,
            organisation_id=ent["org_id"],
            provider_id=provider_user["org_id"],
            item_name=filing.project_name,
            status=ReviewStatus.DONE,
        )
        org = db.session.get(Organisation, ent["org_id"])
        change = InfoChangeRequest(
            organisation_id=org.id,
            requester_id=uid,
            name=org.name,
            credit_code=org.credit_code,
            town_id=org.town_id,
            contact_name="新联系人",
            contact_phone=org.contact_phone,
            status=ReviewStatus.DONE,
        )
        db.session.add_all([pre_subsidy, assist, change])
        db.session.flush()
        db.session.add(InfoChangeAttachment(request_id=change.id, file_id=files["info"]))
        # the audit trail of every reviewable record, in an order the time stamps (not the ids) decide
        tu, cu = town_user["id"], city["id"]
        rows = [
            _action("filing", filing.id, uid, "submit", 0),
            _action("filing", filing.id, tu, "approve", 5, "town", "同意"),
            _action("filing", filing.id, cu, "approve", 9, "city", "同意备案"),
            _action("diagnosis_report", pre.id, uid, "approve", 20, "enterprise_confirm", "确认"),
            _action("pre_subsidy", pre_subsidy.id, uid, "submit", 40),
            _action("pre_subsidy", pre_subsidy.id, tu, "return", 41, "town", "请补充信用报告"),
            _action("pre_subsidy", pre_subsidy.id, cu, "approve", 45, "city"),
            _action("assist", assist.id, provider_user["id"], "approve", 30, "provider_fill"),
            _action("post_assessment_report", post.id, uid, "approve", 60, "enterprise_confirm"),
            _action("warehousing", wh.id, uid, "submit", 70),
            _action("warehousing", wh.id, cu, "approve", 80, "city", "同意入库"),
            _action("info_change", change.id, cu, "approve", 2, "city"),
            _action("filing", filing.id, cu, "approve", 7, "third_party", "第三方同意"),  # added last, earlier time
        ]
        db.session.add_all(rows)
        db.session.add(
            FilingRevision(filing_id=filing.id, actor_id=uid, changes=json.dumps([["项目名称", "旧", "新"]]))
        )
        db.session.add(
            Revision(
                subject_type="signing", subject_id=signing.id, actor_id=uid, changes=json.dumps([["简介", "a", "b"]])
            )
        )
        db.session.commit()
        ids.update(
            ent=ent,
            city=city,
            town_user=town_user,
            org=ent["org_id"],
            pre_diagnosis=pre.id,
            pre_subsidy=pre_subsidy.id,
            warehousing=wh.id,
            assist=assist.id,
            info_change=change.id,
            audit_rows=len(rows),
            town_code=town_code,
            filing_no=filing.filing_no,
            project_name=filing.project_name,
        )
        ids["files"] = files
        return ids


def _audit_rows_of(app, ids):
    """The ReviewAction rows of the project's records, counted straight from the table."""
    subjects = [
        ("filing", ids["filing"]),
        ("diagnosis_report", ids["pre_diagnosis"]),
        ("pre_subsidy", ids["pre_subsidy"]),
        ("assist", ids["assist"]),
        ("post_assessment_report", ids["post_assessment"]),
        ("warehousing", ids["warehousing"]),
        ("info_change", ids["info_change"]),
    ]
    with app.app_context():
        return sum(db.session.query(ReviewAction).filter_by(subject_type=t, subject_id=i).count() for t, i in subjects)


def _referenced_file_ids(app, ids):
    with app.app_context():
        return set(ids["files"].values())


@pytest.fixture(scope="module")
def project(app):
    from conftest import Factory

    return build_complete_project(app, Factory(app))


@pytest.fixture(scope="module")
def city_client(app, project):
    return client_for(app, project["city"])


def _download(client, pid):
    return client.get(f"/dossier/{pid}/download")


def _strip(dossier):
    return {k: v for k, v in dossier.items() if k != "generated_at"}


# --- the dossier ------------------------------------------------------------------------------------------
def test_the_dossier_holds_every_stage_the_audit_trail_and_the_files(app, project, city_client):
    resp = _download(city_client, project["project"])
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json") and "utf-8" in resp.headers["Content-Type"]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert project["filing_no"] in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert project["project_name"].encode("utf-8") in raw  # Chinese as UTF-8, not \\u escapes
    d = json.loads(raw.decode("utf-8"))
    assert d["format"] == "zsdx-dossier" and d["version"] == 1
    dt.datetime.fromisoformat(d["generated_at"])
    assert d["project"]["id"] == project["project"] and d["project"]["filing_no"] == project["filing_no"]
    assert d["enterprise"]["organisation"]["id"] == project["org"]
    assert d["enterprise"]["filed"]["ent_credit_code"] == d["enterprise"]["organisation"]["credit_code"]

    s = d["stages"]
    expected = {"filing", "pre_diagnosis", "signing", "pre_subsidy", "implementation", "post_assessment"}
    expected |= {"completion", "warehousing"}
    assert set(s) == expected and all(s[k] is not None for k in expected)
    assert "version" not in s["filing"]
    assert s["filing"]["planned_investment"] == "300.50"
    assert len(s["signing"]["contracts"]) == 2 and s["signing"]["contracts"][0]["total_amount"] == "100.1234"
    assert s["signing"]["contracts"][0]["subsidy_amount"] == "50.5000"
    assert len(s["signing"]["needs"]) == 1 and len(s["signing"]["products"]) == 1
    assert s["signing"]["products"][0]["price"] == "10.5000"
    assert s["signing"]["assist"]["id"] == project["assist"]
    assert s["pre_subsidy"]["contract_ids"] == [project["contracts"][0]]
    assert {i["dimension"] for i in s["implementation"]["indicators"]} >= {"innovation", "quality"}
    assert s["post_assessment"]["score"] == "72.2500" and s["post_assessment"]["level"] == 3
    comp = s["completion"]
    assert comp["results"] and comp["ratings"][0]["overall_stars"] == 5
    (invoice,) = comp["invoices"]
    assert [line["total"] for line in invoice["lines"]] == ["113.00", "0.11"]
    assert invoice["vouchers"][0]["amount"] == "113.11" and invoice["issued_on"] == "2025-06-01"
    wh = s["warehousing"]
    assert wh["proposed_subsidy"] == "30.0000" and wh["subsidy_cap"] == "50.5000" and wh["level_after"] == 3
    assert wh["content"]["basic"]["project_name"] == project["project_name"] and len(wh["files"]) == 1
    assert d["info_changes"][0]["id"] == project["info_change"] and d["info_changes"][0]["attachments"]

    # keys are English identifiers: no Chinese in any key
    def keys(o):
        if isinstance(o, dict):
            for k, v in o.items():
                yield k
                yield from keys(v)
        elif isinstance(o, list):
            for v in o:
                yield from keys(v)

    assert not [k for k in keys({k: v for k, v in d.items() if k != "labels"}) if re.search(r"[^\x00-\x7f]", k)]

    # the audit trail: every ReviewAction row of the project's records, in time order, with names
    audit = d["audit"]
    assert len(audit) == _audit_rows_of(app, project) == project["audit_rows"]
    times = [a["created_at"] for a in audit]
    assert times == sorted(times)
    assert {a["subject_type"] for a in audit} == {
        "filing",
        "diagnosis_report",
        "pre_subsidy",
        "assist",
        "post_assessment_report",
        "warehousing",
        "info_change",
    }
    third = next(a for a in audit if a["step"] == "third_party")
    assert third["actor"] == "测试用户" and third["opinion"] == "第三方同意" and third["action"] == "approve"
    assert audit.index(third) < audit.index(
        next(a for a in audit if a["step"] == "city" and a["subject_type"] == "filing")
    )
    assert third["action_label"] and third["step_label"]
    assert {r["subject_type"] for r in d["revisions"]} == {"filing", "signing"}

    # the manifest: every referenced file, its record and field, with sha256 and size of the bytes on disk
    manifest = d["files"]
    assert {f["file_id"] for f in manifest} == _referenced_file_ids(app, project)
    fields = {(f["record"], f["field"]) for f in manifest}
    assert {("filing", "authorization_file_id"), ("contract", "file_id"), ("payment_voucher", "file_id")} <= fields
    assert {("warehousing_file", "file_id"), ("info_change_attachment", "file_id")} <= fields
    assert ("completion_indicator", "evidence_file_id") in fields and ("pre_subsidy", "credit_file_id") in fields
    folder = app.config["UPLOAD_FOLDER"]
    for f in manifest:
        with open(os.path.join(folder, f["sha256"][:2], f["sha256"]), "rb") as fh:
            data = fh.read()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["size"], f
        assert f["name"] and f["mime"] in ("application/pdf", "image/png")
    # references resolve the ids the rows point at
    refs = d["references"]
    assert str(project["org"]) in refs["organisations"] and refs["towns"]


def test_one_complete_project_builds_fast_with_few_statements(app, project):
    from zsdx import dossier

    with app.app_context():
        counter = cq.StatementCounter(db.engine)
        try:
            with counter.counting():
                started = time.perf_counter()
                data = dossier.build(dossier.load(project["project"]))
                elapsed = time.perf_counter() - started
            statements = len(counter.statements)
        finally:
            counter.close()
    print(f"\none complete project's dossier: {elapsed * 1000:.0f} ms, {statements} statements")
    assert data["stages"]["warehousing"] is not None
    assert elapsed < 1.0
    assert statements <= 30


def test_missing_stages_are_null(app, factory):
    ent = factory.enterprise_user()
    city = factory.user("市工信")
    filing_id = make_filing(app, ent, step="town")
    with app.app_context():
        pid = db.session.get(Filing, filing_id).project_id
    resp = _download(client_for(app, city), pid)
    assert resp.status_code == 200
    d = resp.get_json()
    assert d["stages"]["filing"]["id"] == filing_id
    assert all(d["stages"][k] is None for k in d["stages"] if k != "filing")
    assert d["project"]["filing_no"] is None and resp.headers["Content-Disposition"].endswith(f'project-{pid}.json"')


# --- the list --------------------------------------------------------------------------------------------
def _rows(resp):
    return [int(p) for p in re.findall(r'data-project="(\d+)"', resp.get_data(as_text=True))]


def test_the_list_filters_by_town_name_and_stage(app, factory, project, city_client):
    other = factory.enterprise_user()
    only_filed = make_filing(app, other, step="town", project_name=f"只备案项目{uuid.uuid4().hex[:6]}")
    with app.app_context():
        filed_pid = db.session.get(Filing, only_filed).project_id
        town_id = db.session.get(Filing, project["filing"]).town_id
    resp = city_client.get("/dossier/")
    assert resp.status_code == 200 and "一企一档" in resp.get_data(as_text=True)
    name = project["project_name"]
    assert _rows(city_client.get("/dossier/", query_string={"q": name})) == [project["project"]]
    assert _rows(city_client.get("/dossier/", query_string={"q": project["filing_no"]})) == [project["project"]]
    hit = city_client.get("/dossier/", query_string={"q": name, "reached": "warehoused", "town": town_id})
    assert _rows(hit) == [project["project"]] and "已入库" in hit.get_data(as_text=True)
    assert project["project"] not in _rows(city_client.get("/dossier/", query_string={"q": name, "town": 999999}))
    filed = city_client.get("/dossier/", query_string={"q": "只备案项目", "reached": "warehoused"})
    assert filed_pid not in _rows(filed)
    assert filed_pid in _rows(city_client.get("/dossier/", query_string={"q": "只备案项目"}))


def test_the_list_page_stays_within_the_statement_bound(app, project, city_client):
    with app.app_context():
        counter = cq.StatementCounter(db.engine)
    try:
        status, n, *_ = cq.measure(city_client, counter, "/dossier/?reached=signed&q=%E9%A1%B9%E7%9B%AE")
    finally:
        counter.close()
    assert status == 200 and n <= 10, n


# --- the .zip export through the job ---------------------------------------------------------------------
def _export(client, **filters):
    page = client.get("/dossier/", query_string=filters)
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/dossier/export", data={"csrf_token": token, **filters})


def _check_zip(data, project, single):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "zsdx-dossier-archive" and manifest["count"] == len(manifest["dossiers"])
        entry = next(e for e in manifest["dossiers"] if e["project_id"] == project["project"])
        assert entry["file"] == f"{project['filing_no']}.json"
        payload = zf.read(entry["file"])
        assert hashlib.sha256(payload).hexdigest() == entry["sha256"] and len(payload) == entry["size"]
        assert _strip(json.loads(payload)) == _strip(single)
        return manifest


def test_the_zip_export_runs_as_a_job_in_process_and_reports_progress(app, project, city_client):
    single = _download(city_client, project["project"]).get_json()
    resp = _export(city_client, q=project["project_name"])
    assert resp.status_code == 302 and "/dossier/export/" in resp.headers["Location"]
    progress_url = resp.headers["Location"]
    token = progress_url.rstrip("/").rsplit("/", 1)[-1]
    page = city_client.get(progress_url)
    assert page.status_code == 200 and "dossier-progress" in page.get_data(as_text=True)
    status = city_client.get(f"/dossier/export/{token}/status").get_json()
    assert status["state"] == "done" and status["done"] == status["total"] == 1
    archive = city_client.get(status["download"])
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert archive.headers["Content-Disposition"].startswith("attachment;")
    _check_zip(archive.get_data(), project, single)
    # kept in the file store under its sha256 (the shared folder or the bucket every node reads), outside the
    # web root; the progress in the database
    from zsdx.filestore import get_store
    from zsdx.models import DossierExport

    with app.app_context():
        row = db.session.get(DossierExport, token)
        assert row.state == "done" and row.count == 1
        assert hashlib.sha256(archive.get_data()).hexdigest() == row.sha256 and get_store().exists(row.sha256)


def test_expired_exports_are_swept_from_the_database_and_the_store(app, factory):
    """After KEEP_SECONDS an export is forgotten and its .zip deleted from the file store, unless the same
    bytes are still referred to (an uploaded file with that sha256, a newer export)."""
    from zsdx import dossier
    from zsdx.filestore import get_store
    from zsdx.models import DossierExport, StoredFile

    city = factory.user("市工信")
    old = dt.datetime.now() - dt.timedelta(seconds=dossier.KEEP_SECONDS + 60)
    with app.test_request_context("/"):
        store = get_store()
        shas = []
        for i in range(3):
            data = f"zip {uuid.uuid4().hex} {i}".encode()
            shas.append(hashlib.sha256(data).hexdigest())
            store.put(shas[-1], io.BytesIO(data))
        gone, uploaded, newer = shas
        tokens = {}
        for name, sha, created in (("gone", gone, old), ("uploaded", uploaded, old), ("old", newer, old)):
            tokens[name] = uuid.uuid4().hex + uuid.uuid4().hex[:11]
            db.session.add(
                DossierExport(token=tokens[name], user_id=city["id"], state="done", sha256=sha, created_at=created)
            )
        tokens["new"] = uuid.uuid4().hex + uuid.uuid4().hex[:11]
        db.session.add(DossierExport(token=tokens["new"], user_id=city["id"], state="done", sha256=newer))
        db.session.add(StoredFile(sha256=uploaded, original_name="a.zip", mime="application/zip", size=1))
        db.session.commit()
        assert dossier._sweep() >= 3
        left = set(db.session.scalars(_select_tokens(tokens)))
        assert left == {tokens["new"]}
        assert not store.exists(gone) and store.exists(uploaded) and store.exists(newer)


def _select_tokens(tokens):
    from sqlalchemy import select

    from zsdx.models import DossierExport

    return select(DossierExport.token).where(DossierExport.token.in_(list(tokens.values())))


def test_an_export_with_no_match_enqueues_nothing(app, city_client):
    resp = _export(city_client, q=f"不存在{uuid.uuid4().hex}")
    assert resp.status_code == 302 and "/dossier/export/" not in resp.headers["Location"]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: the RQ path runs where Redis runs")
def test_with_redis_a_real_worker_writes_the_zip(app, project, city_client):
    from test_jobs import _drop_queue, _queue_length, _run_worker

    redis_url = os.environ["REDIS_URL"]
    queue = f"zsdx-test-{uuid.uuid4().hex[:8]}"
    saved = {k: app.config.get(k) for k in ("REDIS_URL", "RQ_QUEUE")}
    app.config.update(REDIS_URL=redis_url, RQ_QUEUE=queue)
    try:
        single = _download(city_client, project["project"]).get_json()
        resp = _export(city_client, q=project["project_name"])
        token = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        status = city_client.get(f"/dossier/export/{token}/status").get_json()
        assert status["state"] == "queued" and _queue_length(redis_url, queue) == 1
        worker = _run_worker(redis_url, queue)
        deadline = time.time() + 90
        while time.time() < deadline:
            status = city_client.get(f"/dossier/export/{token}/status").get_json()
            if status["state"] in ("done", "failed") or worker.poll() is not None:
                break
            time.sleep(0.3)
        out, _ = worker.communicate(timeout=60)
        status = city_client.get(f"/dossier/export/{token}/status").get_json()
        assert status["state"] == "done" and status["done"] == status["total"] == 1, out[-3000:]
        archive = city_client.get(status["download"])
        assert archive.status_code == 200
        _check_zip(archive.get_data(), project, single)
    finally:
        app.config.update(saved)
        _drop_queue(redis_url, queue)


# --- the CLI ---------------------------------------------------------------------------------------------
def test_the_cli_writes_the_same_json_and_a_town_zip(app, factory, project, city_client, tmp_path):
    single = _download(city_client, project["project"]).get_json()
    out = tmp_path / "dossier.json"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["zsdx", "dossier", str(project["project"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _strip(json.loads(out.read_text(encoding="utf-8"))) == _strip(single)

    # a town of its own: the .zip holds exactly its projects
    town = make_town(app)
    mine = build_complete_project(app, factory, town_code=town["code"])
    with app.app_context():
        from zsdx import dossier

        expected = _strip(dossier.build(dossier.load(mine["project"])))
    zpath = tmp_path / "town.zip"
    result = runner.invoke(args=["zsdx", "dossier", "--town", town["code"], "-o", str(zpath)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zpath) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert [e["project_id"] for e in manifest["dossiers"]] == [mine["project"]]
        assert _strip(json.loads(zf.read(manifest["dossiers"][0]["file"]))) == expected
    for bad in (["zsdx", "dossier"], ["zsdx", "dossier", "999999999"], ["zsdx", "dossier", "--all"]):
        assert runner.invoke(args=bad).exit_code != 0
    assert runner.invoke(args=["zsdx", "dossier", "--town", "没有这个镇", "-o", str(zpath)]).exit_code != 0


# --- the attacker's side ---------------------------------------------------------------------------------
def _refused(resp):
    if resp.status_code == 302:  # FAB's refusal: back to the login page or the index, never a dossier page
        return not urlsplit(resp.headers.get("Location", "")).path.startswith("/dossier")
    return resp.status_code in (401, 403, 404)


def test_other_roles_reach_no_dossier_route(app, factory, project, city_client):
    resp = _export(city_client, q=project["project_name"])
    token = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    pid = project["project"]
    provider = factory.user("服务商", org=factory.org("provider", is_industry_provider=True))
    others = {
        "enterprise (the owner)": project["ent"],
        "town (the project's)": project["town_user"],
        "expert": factory.user("专家"),
        "third party": factory.user("第三方"),
        "provider": provider,
        "institution": factory.user("评估机构", org=factory.org("institution", institution_type="diagnostic")),
        "admin": factory.user("Admin"),
    }
    urls = [
        "/dossier/",
        f"/dossier/{pid}/download",
        f"/dossier/export/{token}",
        f"/dossier/export/{token}/status",
        f"/dossier/export/{token}/archive",
    ]
    for who, user in others.items():
        client = client_for(app, user)
        for url in urls:
            resp = client.get(url)
            assert _refused(resp), (who, url, resp.status_code)
        page = client.get("/workbench/")
        post = client.post("/dossier/export", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
        assert _refused(post), (who, post.status_code)
    anonymous = app.test_client()
    for url in urls:
        assert _refused(anonymous.get(url)), url


def test_another_city_user_cannot_use_my_export(app, factory, project, city_client):
    resp = _export(city_client, q=project["project_name"])
    token = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    other = client_for(app, factory.user("市工信"))
    for suffix in ("", "/status", "/archive"):
        assert other.get(f"/dossier/export/{token}{suffix}").status_code == 404
        assert city_client.get(f"/dossier/export/{token}{suffix}").status_code == 200
    # a guessed token of the right shape is unknown
    assert city_client.get(f"/dossier/export/{'A' * 43}/status").status_code == 404


def test_a_draft_filing_has_no_dossier_for_the_city(app, factory, city_client):
    ent = factory.enterprise_user()
    draft = make_filing(app, ent, step=None)
    with app.app_context():
        pid = db.session.get(Filing, draft).project_id
    assert _download(city_client, pid).status_code == 404


def test_garbage_parameters_never_end_in_a_500(app, city_client):
    for url in (
        "/dossier/?page=abc&town=xyz&reached=<script>",
        "/dossier/?page=-5&town=-1&q=" + "%25_\\" * 80,
        "/dossier/?page=99999999999999999999999&town=99999999999999999999",
        "/dossier/?q=%F0%9F%98%80%E2%80%AE&reached=warehoused&reached=signed",
        "/dossier/0/download",
        "/dossier/99999999999999999999/download",
        "/dossier/abc/download",
        "/dossier/export/..%2F..%2Fetc%2Fpasswd/status",
        "/dossier/export/" + "x" * 500 + "/archive",
        "/dossier/export/%00/status",
        "/dossier/export/short",
    ):
        resp = city_client.get(url)
        assert resp.status_code < 500, (url, resp.status_code)
        assert resp.status_code in (200, 400, 404), (url, resp.status_code)
    page = city_client.get("/dossier/")
    token = csrf_from(page.get_data(as_text=True))
    nothing = f"不存在{uuid.uuid4().hex}"
    for data in ({"town": "abc", "q": nothing}, {"reached": "x" * 1000, "q": "\x00"}, {"town": "1" * 40, "q": nothing}):
        resp = city_client.post("/dossier/export", data={"csrf_token": token, **data})
        assert resp.status_code < 500, (data, resp.status_code)
    assert city_client.post("/dossier/export", data={"town": "1"}).status_code in (302, 400)  # no CSRF token
