"""File names from the attacker's side (zsdx/files.py, issue 8): a name with CR/LF or NUL sent as RFC 2231
`filename*=` in a multipart upload is stored cleaned, the form keeps what was typed, and every download
works, also for a name stored before names were cleaned; Chinese names stay Chinese."""

from urllib.parse import quote

import pytest
from conftest import csrf_from, login
from helpers_review import PDF_BYTES
from test_filing import new_filing

from zsdx.extensions import db
from zsdx.files import clean_file_name
from zsdx.models import Filing

BOUNDARY = "----zsdxtestboundary"


def _multipart(fields, file_field, disposition_name, content):
    """A multipart body written by hand: the test client cannot send `filename*=` with raw CR/LF in it."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; {disposition_name}\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def _upload(client, pk, disposition_name, project_name):
    page = client.get(f"/filing/{pk}/edit").get_data(as_text=True)
    body = _multipart(
        {"csrf_token": csrf_from(page), "action": "save", "project_name": project_name},
        "authorization_file",
        disposition_name,
        PDF_BYTES,
    )
    try:
        return client.post(f"/filing/{pk}/edit", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    except Exception as exc:  # TESTING propagates: this is the 500
        raise AssertionError(f"upload raised {exc!r}") from exc


def _stored_name(app, pk):
    with app.app_context():
        stored = db.session.get(Filing, pk).authorization_file
        return stored.original_name if stored else None


@pytest.mark.parametrize(
    "disposition, expected",
    [
        ("filename*=UTF-8''a%0D%0Ab.pdf", "ab.pdf"),
        ("filename*=UTF-8''%E5%90%88%E5%90%8C%00%0A.pdf", "合同.pdf"),
        ("filename*=UTF-8''..%2F..%2Fetc%2F%E6%8E%88%E6%9D%83.pdf", "授权.pdf"),
        ("filename*=UTF-8''%E2%80%AEfdp.exe", "fdp.exe"),  # the right-to-left override is dropped
        ('filename="C:\\\\Users\\\\x\\\\报告.pdf"', "报告.pdf"),
        ("filename*=UTF-8''%00", "附件.pdf"),
    ],
)
def test_file_name_is_cleaned_on_upload_and_downloads(app, client, factory, disposition, expected):
    login(client, factory.enterprise_user("2010"))
    pk = new_filing(client)
    resp = _upload(client, pk, disposition, "文件名测试项目")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert _stored_name(app, pk) == expected
    with app.app_context():
        assert db.session.get(Filing, pk).project_name == "文件名测试项目"
    download = client.get(f"/filing/{pk}/file/authorization")
    assert download.status_code == 200 and download.data == PDF_BYTES
    disposition_header = download.headers["Content-Disposition"]
    assert "\r" not in disposition_header and "\n" not in disposition_header
    assert "filename*=UTF-8''" + quote(expected) in disposition_header


def test_long_name_is_cut_keeping_the_extension(app, client, factory):
    login(client, factory.enterprise_user("2010"))
    pk = new_filing(client)
    name = "很长的文件名" * 100 + ".pdf"
    assert _upload(client, pk, f"filename*=UTF-8''{quote(name)}", "长文件名").status_code == 302
    stored = _stored_name(app, pk)
    assert stored.endswith(".pdf") and len(stored) <= 200 and stored.startswith("很长的文件名")


def test_a_name_stored_before_cleaning_still_downloads(app, client, factory):
    """Defence in depth: rows written before names were cleaned may hold CR/LF or NUL."""
    login(client, factory.enterprise_user("2010"))
    pk = new_filing(client)
    assert _upload(client, pk, 'filename="ok.pdf"', "旧文件名").status_code == 302
    with app.app_context():
        db.session.get(Filing, pk).authorization_file.original_name = "旧\r\n合同\t.pdf"
        db.session.commit()
    for url in (f"/filing/{pk}/file/authorization", f"/filing/{pk}/file/authorization?inline=1"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "filename*=UTF-8''" + quote("旧合同.pdf") in resp.headers["Content-Disposition"]


def test_clean_file_name_keeps_chinese_and_drops_controls():
    assert clean_file_name("项目/材料\\申报书（定稿）.docx") == "申报书（定稿）.docx"
    assert clean_file_name("a\x00\x1f\x7fb\u2028.pdf") == "ab.pdf"
    assert clean_file_name("..") == "" and clean_file_name("   ") == ""
    assert clean_file_name("x" * 300 + ".pdf", limit=50) == "x" * 46 + ".pdf"
