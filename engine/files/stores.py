"""File stores: put, read and delete bytes by key. A folder on this machine, or an S3-compatible bucket."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy.engine import make_url

from engine.base.errors import LoomError
from engine.base.settings import Settings
from engine.store.database import normalise_url

# Keys are made by the engine (year and month, then random hex: 202611-…); anything else never
# reaches a store. They hold no slash, so they fit in one segment of a URL.
KEY_PATTERN = re.compile(r"^\d{6}-[0-9a-f]{32}$")
CHUNK = 64 * 1024


class MissingFile(LoomError):
    """The store holds nothing under this key."""

    code = "not_found"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise MissingFile("there is no such file")
    return key


class FileStore(Protocol):
    """Where uploaded bytes live. Keys are checked by the caller against KEY_PATTERN."""

    def put(self, key: str, data: BinaryIO, content_type: str) -> None: ...

    def read(self, key: str) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class LocalFileStore:
    """Files in a folder, one per key in a folder per month (`2026/11/202611-<hex>`), written whole."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:4] / key[4:6] / key

    def put(self, key: str, data: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := data.read(CHUNK):
                    out.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise MissingFile("there is no such file") from None
        return _chunks(handle)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def default_files_dir(database_url: str) -> Path:
    """`files/` beside a SQLite database file (instance/loom.db → instance/files), else instance/files."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "files"
    return Path("instance") / "files"


def file_store_for(settings: Settings, database_url: str) -> FileStore:
    """The store the settings choose: LOOM_FILES_BACKEND=local (default) or s3."""
    backend = settings.files_backend.strip().lower() or "local"
    if backend == "local":
        return LocalFileStore(settings.files_dir or default_files_dir(database_url))
    if backend == "s3":
        from engine.files.s3 import S3FileStore

        return S3FileStore.from_settings(settings)
    raise ValueError(f"LOOM_FILES_BACKEND must be local or s3 (got {settings.files_backend!r})")
