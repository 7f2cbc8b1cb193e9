"""Files through one interface, so that web processes keep nothing of their own.

A local folder by default; an S3-compatible object store (AWS S3, MinIO, Ceph, R2 …)
takes its place behind the same three calls with `FACILITIES_STORAGE_BACKEND=s3`.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from facilities.settings import get_settings

logger = logging.getLogger(__name__)


class Storage(Protocol):
    def save(
        self, data: bytes, *, suffix: str, content_type: str = "application/octet-stream"
    ) -> str: ...
    def load(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...


def new_key(suffix: str) -> str:
    """A random name for a new file: never what the uploader called it."""
    return f"{secrets.token_hex(16)}{suffix}"


def is_our_key(key: str) -> bool:
    """Keys are ours: hex and a suffix. Anything else (a path, a dotfile) is refused."""
    name = Path(key).name
    return name == key and bool(name) and not name.startswith(".")


class LocalStorage:
    """Files in a folder, named by random keys (never by what the uploader called them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(
        self, data: bytes, *, suffix: str, content_type: str = "application/octet-stream"
    ) -> str:
        # content_type is for object stores; a file's type here is its suffix
        self.folder.mkdir(parents=True, exist_ok=True)
        key = new_key(suffix)
        (self.folder / key).write_bytes(data)
        return key

    def _path(self, key: str) -> Path | None:
        # anything but our own keys never reaches the file system
        return self.folder / key if is_our_key(key) else None

    def load(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path is not None and path.is_file() else None

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path is not None:
            path.unlink(missing_ok=True)


_clients_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _make_s3_client(
    endpoint_url: str, region: str, access_key_id: str, secret_access_key: str
) -> Any:  # boto3 ships no type hints
    import boto3
    from botocore.config import Config

    # A session of its own: boto3's default session is not safe to build clients from
    # in several threads at once. Empty values fall back to boto3's usual lookup
    # (AWS_* variables, ~/.aws, an instance or task role).
    session = boto3.session.Session(
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        region_name=region or None,
    )
    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 3},
        # S3-compatible servers (MinIO, Ceph …) seldom serve bucket-named host names
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    return session.client("s3", endpoint_url=endpoint_url or None, config=config)


def s3_client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str) -> Any:
    """One client per process and connection settings: clients are thread-safe and keep
    their connection pool, while building one costs tens of milliseconds."""
    with _clients_lock:
        return _make_s3_client(endpoint_url, region, access_key_id, secret_access_key)


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional folder-like prefix.

    Keys handed out are the same as LocalStorage's (no prefix in them), so the prefix
    can be set per deployment without touching stored keys.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> None:
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self._connection = (endpoint_url, region, access_key_id, secret_access_key)

    @property
    def client(self) -> Any:
        # made on first use, not when the storage is picked for a request
        return s3_client(*self._connection)

    def _object_key(self, key: str) -> str | None:
        return f"{self.prefix}{key}" if is_our_key(key) else None

    def save(
        self, data: bytes, *, suffix: str, content_type: str = "application/octet-stream"
    ) -> str:
        key = new_key(suffix)
        self.client.put_object(
            Bucket=self.bucket, Key=f"{self.prefix}{key}", Body=data, ContentType=content_type
        )
        return key

    def load(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        object_key = self._object_key(key)
        if object_key is None:
            return None
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as error:
            # a missing object only; a missing bucket or refused access is a fault to see
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        with response["Body"] as body:
            data: bytes = body.read()
        return data

    def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        if object_key is not None:
            # S3 answers a delete of a missing object with success as well
            self.client.delete_object(Bucket=self.bucket, Key=object_key)


def get_storage() -> Storage:
    settings = get_settings()
    if settings.storage_backend == "s3":
        return S3Storage(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    folder = settings.upload_folder or str(Path(current_app.instance_path) / "uploads")
    return LocalStorage(Path(folder))


# --- files that belong to a transaction --------------------------------------------------

_NEW_FILES = "facilities.new_files"


def save_with(session: OrmSession, storage: Storage, data: bytes, **options: Any) -> str:
    """Save a file that rows of `session` will point to: if the transaction does not
    commit (an error, a refused form), the file is deleted again, so no file is left
    that nothing refers to."""
    key = storage.save(data, **options)
    session.info.setdefault(_NEW_FILES, []).append((storage, key))
    return key


@event.listens_for(OrmSession, "after_commit")
def _keep_committed_files(session: OrmSession) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(OrmSession, "after_transaction_end")
def _remove_uncommitted_files(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    for storage, key in session.info.pop(_NEW_FILES, []):
        try:
            storage.delete(key)
        except Exception:  # storage away: a stray file, not a failed request
            logger.warning("could not delete uncommitted file %s", key, exc_info=True)
