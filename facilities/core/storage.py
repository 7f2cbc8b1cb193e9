"""Files through one interface, so that web processes keep nothing of their own.

A local folder by default; an object store can take its place behind the same three
calls (the tenants' voice issue adds S3-compatible storage).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app

from facilities.settings import get_settings


class Storage(Protocol):
    def save(self, data: bytes, *, suffix: str) -> str: ...
    def load(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files in a folder, named by random keys (never by what the uploader called them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, data: bytes, *, suffix: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = f"{secrets.token_hex(16)}{suffix}"
        (self.folder / key).write_bytes(data)
        return key

    def _path(self, key: str) -> Path | None:
        # keys are ours: hex and a suffix; anything else never reaches the file system
        name = Path(key).name
        if name != key or not name or name.startswith("."):
            return None
        return self.folder / name

    def load(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path is not None and path.is_file() else None

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path is not None:
            path.unlink(missing_ok=True)


def get_storage() -> Storage:
    folder = get_settings().upload_folder or str(Path(current_app.instance_path) / "uploads")
    return LocalStorage(Path(folder))
