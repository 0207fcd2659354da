"""Uploaded files: type checked from the bytes, stored outside the web root under their sha256, served
with the original (Chinese) name to those who may see the owning record (SPEC §3.10, FAB-NOTES P10).

Callers authorise; this module only stores and streams.
"""

import hashlib
import os
import tempfile
import unicodedata
from urllib.parse import quote

import filetype
from flask import current_app
from flask_babel import gettext

from .extensions import db
from .filestore import get_store
from .models import StoredFile

PDF = ("pdf",)
DOCS = ("pdf", "doc", "docx")
IMAGES = ("jpg", "png")
EVIDENCE = PDF + IMAGES + ("doc", "docx")

_MIMES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "jpg": "image/jpeg",
    "png": "image/png",
}
MAX_NAME_CHARS = 200  # StoredFile.original_name is VARCHAR(255)
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_LABELS = {"pdf": "PDF", "doc": "Word", "docx": "Word", "jpg": "JPG", "png": "PNG"}


class UploadError(ValueError):
    pass


def sniff(head):
    """The kind of a file from its first bytes: pdf, doc, docx, jpg, png or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2 compound file: legacy .doc
        return "doc"
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.extension == "docx" or (kind.extension == "zip" and b"word/" in head):
        return "docx"
    if kind.extension in ("jpg", "png"):
        return kind.extension
    return None


def store_upload(storage, allowed, user_id=None):
    """Validate and store a werkzeug FileStorage; return the StoredFile (added, not committed)."""
    if not (storage.filename or "").strip():
        raise UploadError(gettext("Please choose a file"))
    name = clean_file_name(storage.filename)
    limit = current_app.config["MAX_FILE_BYTES"]
    store = get_store()
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=store.staging_dir(), prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            head = b""
            while True:
                chunk = storage.stream.read(1024 * 1024)
                if not chunk:
                    break
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                size += len(chunk)
                if size > limit:
                    raise UploadError(gettext("A file may not be larger than 100 MB"))
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError(gettext("The file is empty"))
        kind = sniff(head)
        if kind not in allowed:
            wanted = "/".join(sorted({_LABELS[k] for k in allowed}))
            raise UploadError(gettext("The file content is not an allowed type (%(types)s)", types=wanted))
        sha = digest.hexdigest()
        store.put_path(sha, tmp)  # the same bytes are stored once, whoever uploads them
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    name = name or gettext("Attachment") + "." + kind  # nothing printable was left of the name
    row = StoredFile(sha256=sha, original_name=name, mime=_MIMES[kind], size=size, uploaded_by_id=user_id)
    db.session.add(row)
    return row


def clean_file_name(raw, limit=MAX_NAME_CHARS):
    """The name a file is stored and served under: its last path part, without control, format (e.g. the
    right-to-left override that disguises an extension) or unassigned characters, at most `limit`
    characters with the extension kept. Chinese stays. May be empty."""
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES).strip()
    if not name.strip("."):
        return ""
    if len(name) > limit:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: limit - len(ext)].rstrip() + ext
    return name


def serve(stored, inline=False):
    """Stream a stored file (from the file store, zsdx/filestore.py) with its original name (RFC 5987 filename*)."""
    response = get_store().send(stored.sha256, stored.mime)  # a file missing from the store is a 404
    disposition = "inline" if inline and stored.mime == "application/pdf" else "attachment"
    # cleaned again: a name stored before names were cleaned may hold CR/LF, which no header may carry
    name = clean_file_name(stored.original_name) or f"file.{stored.mime.rsplit('/', 1)[-1]}"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "").replace("\\", "_")
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
