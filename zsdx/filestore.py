"""Where the bytes of uploaded files live, named by their sha256 (issue 12: scale-out).

`FILE_STORE=local` (the embedded default): a folder, UPLOAD_FOLDER/<sha[:2]>/<sha>, the layout files have
always had. With several app nodes the folder is a shared mount (NFS, CephFS, …) that every node and every
rq worker sees at the same path.

`FILE_STORE=s3`: an S3-compatible object store (MinIO, Ceph RGW, a cloud's object storage) through boto3;
the object key is FILE_STORE_S3_PREFIX + <sha[:2]>/<sha>, so a local folder can be copied into a bucket
as it is (`aws s3 sync UPLOAD_FOLDER s3://bucket/prefix`). Nothing is ever public: downloads stream
through the app, which authorises them (zsdx/files.py).

The interface: put(sha, fileobj), put_path(sha, path) (moves a finished temp file in), open(sha),
exists(sha), size(sha), delete(sha) (a file nobody refers to any more: an expired 一企一档 export),
send(sha, mimetype) (the download response; a missing file is a 404) and
staging_dir() (where an upload is spooled while it is hashed: beside the files for the local store, so
that storing it is one rename).
"""

import os
import shutil
import tempfile

from flask import abort, current_app, send_file

_CHUNK = 1024 * 1024


def key_of(sha):
    """The relative name of a file: <sha[:2]>/<sha> (a hex sha256 only: nothing else reaches a path)."""
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        raise ValueError(f"not a sha256: {sha!r}")
    return f"{sha[:2]}/{sha}"


class FileStore:
    """The interface; see the module doc."""

    def put(self, sha, fileobj):
        """Store the bytes read from `fileobj` (from its current position) under `sha`; no-op if present."""
        raise NotImplementedError

    def put_path(self, sha, path):
        """Store the finished temp file at `path` (written in staging_dir()) and remove it."""
        try:
            if not self.exists(sha):
                with open(path, "rb") as fh:
                    self.put(sha, fh)
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def open(self, sha):
        """A binary file object reading the bytes (close it); FileNotFoundError when there is none."""
        raise NotImplementedError

    def exists(self, sha):
        raise NotImplementedError

    def size(self, sha):
        """The size in bytes, or None when there is no such file."""
        raise NotImplementedError

    def delete(self, sha):
        """Remove the file (nothing when there is none). The caller checks that nothing refers to it."""
        raise NotImplementedError

    def send(self, sha, mimetype):
        """The response streaming the file (Flask send_file); 404 when there is no such file."""
        raise NotImplementedError

    def staging_dir(self):
        folder = tempfile.gettempdir()
        return folder


class LocalFileStore(FileStore):
    """A folder (shared mount with several nodes): root/<sha[:2]>/<sha>."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def path_of(self, sha):
        return os.path.join(self.root, *key_of(sha).split("/"))

    def staging_dir(self):
        os.makedirs(self.root, exist_ok=True)
        return self.root

    def put(self, sha, fileobj):
        final = self.path_of(sha)
        if os.path.exists(final):
            return
        os.makedirs(os.path.dirname(final), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(final), prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(fileobj, out, _CHUNK)
            os.replace(tmp, final)  # atomic: a reader sees the whole file or none
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def put_path(self, sha, path):
        final = self.path_of(sha)
        try:
            if not os.path.exists(final):
                os.makedirs(os.path.dirname(final), exist_ok=True)
                os.replace(path, final)  # same file system as staging_dir(): one rename
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def open(self, sha):
        return open(self.path_of(sha), "rb")  # the caller closes it

    def exists(self, sha):
        return os.path.isfile(self.path_of(sha))

    def size(self, sha):
        try:
            return os.path.getsize(self.path_of(sha))
        except OSError:
            return None

    def delete(self, sha):
        try:
            os.unlink(self.path_of(sha))
        except FileNotFoundError:
            pass

    def send(self, sha, mimetype):
        path = self.path_of(sha)
        if not os.path.isfile(path):
            abort(404)
        return send_file(path, mimetype=mimetype, conditional=True, max_age=0)


class S3FileStore(FileStore):
    """An S3-compatible bucket (boto3): key = prefix + <sha[:2]>/<sha>."""

    def __init__(self, bucket, endpoint_url=None, region=None, access_key=None, secret_key=None, prefix=""):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        # credentials: given here, else boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile)
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"},  # MinIO and most on-premises stores
            ),
        )

    def key(self, sha):
        return self.prefix + key_of(sha)

    def put(self, sha, fileobj):
        if self.exists(sha):
            return
        self.client.upload_fileobj(fileobj, self.bucket, self.key(sha))

    def put_path(self, sha, path):
        try:
            if not self.exists(sha):
                self.client.upload_file(path, self.bucket, self.key(sha))
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def _get(self, sha):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(sha))
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(self.key(sha)) from exc
            raise

    def open(self, sha):
        return _Body(self._get(sha)["Body"])

    def _head(self, sha):
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, sha):
        return self._head(sha) is not None

    def size(self, sha):
        head = self._head(sha)
        return None if head is None else head["ContentLength"]

    def delete(self, sha):
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha))  # no error when there is none

    def send(self, sha, mimetype):
        try:
            obj = self._get(sha)
        except FileNotFoundError:
            abort(404)
        # the content hash is the ETag: If-None-Match gets a 304 as with the local store; the body streams
        # from the store in chunks (no range requests: a preview reads the whole file)
        response = send_file(
            _Body(obj["Body"]),
            mimetype=mimetype,
            conditional=True,
            etag=sha,
            last_modified=obj.get("LastModified"),
            max_age=0,
        )
        if response.status_code == 200:
            response.content_length = obj["ContentLength"]
        else:
            obj["Body"].close()
        return response


class _Body:
    """botocore's StreamingBody as a plain binary file object (read / close / context manager)."""

    def __init__(self, body):
        self._body = body

    def read(self, size=-1):
        return self._body.read(None if size is None or size < 0 else size)

    def close(self):
        self._body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return iter(lambda: self.read(_CHUNK), b"")


def _missing(exc):
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def get_store(app=None):
    """The app's store, chosen by FILE_STORE (built once per process and configuration)."""
    app = app or current_app
    cfg = app.config
    kind = (cfg.get("FILE_STORE") or "local").lower()
    if kind == "local":
        key = ("local", cfg["UPLOAD_FOLDER"])
    elif kind == "s3":
        key = (
            "s3",
            cfg.get("FILE_STORE_S3_BUCKET"),
            cfg.get("FILE_STORE_S3_ENDPOINT_URL"),
            cfg.get("FILE_STORE_S3_REGION"),
            cfg.get("FILE_STORE_S3_ACCESS_KEY"),
            cfg.get("FILE_STORE_S3_SECRET_KEY"),
            cfg.get("FILE_STORE_S3_PREFIX") or "",
        )
    else:
        raise RuntimeError(f"FILE_STORE must be local or s3, not {kind!r}")
    stores = app.extensions.setdefault("zsdx_filestores", {})
    store = stores.get(key)
    if store is None:
        if kind == "local":
            store = LocalFileStore(cfg["UPLOAD_FOLDER"])
        else:
            if not key[1]:
                raise RuntimeError("FILE_STORE=s3 needs FILE_STORE_S3_BUCKET")
            store = S3FileStore(*key[1:])
        store = stores.setdefault(key, store)
    return store
