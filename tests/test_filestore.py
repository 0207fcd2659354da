"""The file store (zsdx/filestore.py, issue 12): the local folder (the embedded default, the layout files have
always had) and an S3-compatible object store, here moto's S3 server on a free port of this machine (a real
S3 endpoint spoken to over HTTP by boto3). Both round-trip bytes under their sha256; the app uploads into
and downloads from either with the same headers; a file missing from the store is a 404, never a 500."""

import hashlib
import io
import os
import uuid

import pytest
from conftest import login
from helpers_review import PDF_BYTES
from test_filing import new_filing

from zsdx.extensions import db
from zsdx.filestore import LocalFileStore, S3FileStore, get_store, key_of
from zsdx.models import Filing

BUCKET = "zsdx-test"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region": "us-east-1"}


def _pdf():
    """A PDF of its own (a fresh sha256: the store keeps one copy of equal bytes)."""
    return PDF_BYTES + f"%{uuid.uuid4().hex}\n".encode()


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    S3FileStore(BUCKET, endpoint_url=url, **CREDENTIALS).client.create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture()
def s3_store(s3_endpoint):
    return S3FileStore(BUCKET, endpoint_url=s3_endpoint, prefix=f"t-{uuid.uuid4().hex[:8]}/", **CREDENTIALS)


@pytest.fixture()
def config(app):
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_
    app.config.update(saved)


def _use_s3(config, endpoint, prefix):
    """The app's FILE_STORE=s3 settings for moto's server, under a key prefix of the test's own."""
    config(
        FILE_STORE="s3",
        FILE_STORE_S3_BUCKET=BUCKET,
        FILE_STORE_S3_ENDPOINT_URL=endpoint,
        FILE_STORE_S3_PREFIX=prefix,
        FILE_STORE_S3_REGION=CREDENTIALS["region"],
        FILE_STORE_S3_ACCESS_KEY=CREDENTIALS["access_key"],
        FILE_STORE_S3_SECRET_KEY=CREDENTIALS["secret_key"],
    )


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalFileStore(str(tmp_path / "files"))
    return request.getfixturevalue("s3_store")


def test_both_stores_round_trip_bytes_under_their_sha256(store, tmp_path):
    data = _pdf() * 50_000  # a few MB: more than one chunk, a multipart upload to S3
    sha = hashlib.sha256(data).hexdigest()
    assert not store.exists(sha) and store.size(sha) is None
    with pytest.raises(FileNotFoundError):
        store.open(sha)
    store.put(sha, io.BytesIO(data))
    assert store.exists(sha) and store.size(sha) == len(data)
    with store.open(sha) as fh:
        assert fh.read() == data
    store.put(sha, io.BytesIO(b"other bytes"))  # present already: kept as it is
    with store.open(sha) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sha

    # put_path: the upload path, a finished temp file in staging_dir() moved into the store and removed
    data2 = _pdf()
    sha2 = hashlib.sha256(data2).hexdigest()
    tmp = os.path.join(store.staging_dir(), ".upload-test")
    with open(tmp, "wb") as fh:
        fh.write(data2)
    store.put_path(sha2, tmp)
    assert not os.path.exists(tmp)
    with store.open(sha2) as fh:
        assert fh.read() == data2

    # delete: gone (an expired 一企一档 export), and deleting what is not there is no error
    store.delete(sha2)
    assert not store.exists(sha2) and store.exists(sha)
    store.delete(sha2)


def test_names_are_content_hashes_in_the_layout_files_always_had(tmp_path, s3_store):
    data = _pdf()
    sha = hashlib.sha256(data).hexdigest()
    local = LocalFileStore(str(tmp_path))
    local.put(sha, io.BytesIO(data))
    with open(tmp_path / sha[:2] / sha, "rb") as fh:  # UPLOAD_FOLDER/<sha[:2]>/<sha>, as before the store
        assert fh.read() == data
    s3_store.put(sha, io.BytesIO(data))
    obj = s3_store.client.get_object(Bucket=BUCKET, Key=f"{s3_store.prefix}{sha[:2]}/{sha}")
    assert obj["Body"].read() == data
    for bad in ("../" + sha[3:], sha.upper(), sha[:-1], "", None, sha + "/x"):
        with pytest.raises(ValueError):
            key_of(bad)


def test_the_default_store_is_the_upload_folder(app):
    with app.app_context():
        store = get_store()
        assert isinstance(store, LocalFileStore)
        assert store.root == os.path.abspath(app.config["UPLOAD_FOLDER"])


# --- through the app ---------------------------------------------------------------------------------
def _upload(client, pk, data, name="授权委托书.pdf"):
    from conftest import csrf_from

    page = client.get(f"/filing/{pk}/edit").get_data(as_text=True)
    resp = client.post(
        f"/filing/{pk}/edit",
        data={
            "csrf_token": csrf_from(page),
            "action": "save",
            "project_name": "文件存储测试项目",
            "authorization_file": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    with client.application.app_context():
        stored = db.session.get(Filing, pk).authorization_file
        return stored.sha256


def _headers(resp):
    return {k: resp.headers.get(k) for k in ("Content-Type", "Content-Disposition", "X-Content-Type-Options")} | {
        "Cache-Control": resp.headers.get("Cache-Control")
    }


def test_the_app_uploads_to_and_serves_from_the_s3_store(app, client, factory, config, s3_endpoint):
    prefix = f"app-{uuid.uuid4().hex[:8]}/"
    login(client, factory.enterprise_user("2010"))

    # the same file on the local store first: the headers a download has always had
    pk_local = new_filing(client)
    local_data = _pdf()
    _upload(client, pk_local, local_data)
    local = client.get(f"/filing/{pk_local}/file/authorization")
    assert local.status_code == 200 and local.data == local_data

    _use_s3(config, s3_endpoint, prefix)
    pk = new_filing(client)
    data = _pdf()
    sha = _upload(client, pk, data)
    assert sha == hashlib.sha256(data).hexdigest()
    with app.app_context():
        store = get_store()
        assert isinstance(store, S3FileStore)
        assert store.size(sha) == len(data)
    # in the bucket, not in the upload folder (nor a temp file left in it)
    assert not os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], sha[:2], sha))
    obj = store.client.get_object(Bucket=BUCKET, Key=f"{prefix}{sha[:2]}/{sha}")
    assert obj["Body"].read() == data

    resp = client.get(f"/filing/{pk}/file/authorization")
    assert resp.status_code == 200 and resp.data == data
    assert int(resp.headers["Content-Length"]) == len(data)
    assert _headers(resp) == _headers(local)  # the same download, whichever store holds the bytes
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    inline = client.get(f"/filing/{pk}/file/authorization?inline=1")
    assert inline.status_code == 200 and inline.headers["Content-Disposition"].startswith("inline;")
    # the content hash is the ETag: a revalidation costs no body
    etag = resp.headers["ETag"]
    assert sha in etag
    again = client.get(f"/filing/{pk}/file/authorization", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    # the bytes gone from the store (a lost object): 404, not 500
    store.client.delete_object(Bucket=BUCKET, Key=f"{prefix}{sha[:2]}/{sha}")
    assert client.get(f"/filing/{pk}/file/authorization").status_code == 404


def test_a_file_missing_from_the_local_store_is_a_404(app, client, factory):
    login(client, factory.enterprise_user("2010"))
    pk = new_filing(client)
    data = _pdf()
    sha = _upload(client, pk, data)
    path = os.path.join(app.config["UPLOAD_FOLDER"], sha[:2], sha)
    assert open(path, "rb").read() == data  # noqa: SIM115
    os.unlink(path)
    resp = client.get(f"/filing/{pk}/file/authorization")
    assert resp.status_code == 404


def test_a_dossier_export_is_written_to_the_s3_store_and_served_from_it(app, factory, config, s3_endpoint):
    """With FILE_STORE=s3 the 一企一档 .zip goes into the bucket (no folder is shared between the worker and the
    app nodes: its progress is in the database) and the archive download streams it from there."""
    import zipfile

    from helpers_review import client_for

    from zsdx import dossier
    from zsdx.models import DossierExport

    prefix = f"exp-{uuid.uuid4().hex[:8]}/"
    _use_s3(config, s3_endpoint, prefix)
    city = factory.user("市工信")
    with app.test_request_context("/"):
        token = dossier.start_export(city["id"], [])  # in-process job (no Redis here): done at once
        row = db.session.get(DossierExport, token)
        assert row.state == "done" and row.sha256
        sha, store = row.sha256, get_store()
        assert isinstance(store, S3FileStore) and store.exists(sha)
    assert not os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], sha[:2], sha))
    resp = client_for(app, city).get(f"/dossier/export/{token}/archive")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert hashlib.sha256(resp.data).hexdigest() == sha
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        assert zf.namelist() == ["manifest.json"]
    # the object lost from the bucket: 404, not 500
    store.delete(sha)
    assert client_for(app, city).get(f"/dossier/export/{token}/archive").status_code == 404
