"""The backup file: one zip holding `manifest.json`, `tables/<table>.jsonl` and `files/<key>`.

A zip rather than a tarball so restore and verify can read the manifest first and each table on
its own; ZIP64 so neither the number nor the size of members is limited. The archive is written
under a temporary name and renamed when complete, so a failed backup never leaves half a file
with the final name.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.base.errors import BackupRefused

FORMAT = "loom-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# What reading a damaged member raises: a bad CRC, broken compressed data, a cut-off file, bad UTF-8.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeDecodeError)


@dataclass(frozen=True)
class TableEntry:
    """A table as the manifest lists it: what it is to Loom, its columns, rows and checksum."""

    name: str
    role: str
    object: str | None
    columns: tuple[tuple[str, str], ...]  # (name, kind)
    rows: int
    checksum: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "object": self.object,
            "columns": [list(column) for column in self.columns],
            "rows": self.rows,
            "checksum": self.checksum,
        }


@dataclass(frozen=True)
class FileEntry:
    """A stored file the archive holds, with the size and SHA-256 of its bytes."""

    key: str
    size: int
    sha256: str


def table_member(table: str) -> str:
    return f"tables/{table}.jsonl"


def file_member(key: str) -> str:
    return f"files/{key}"


class ArchiveWriter:
    """Writes members into a temporary zip beside `path`; `commit` renames it into place."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part"
        )
        os.close(handle)
        self._temporary = Path(temporary)
        self._zip = zipfile.ZipFile(self._temporary, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)

    def write_lines(self, member: str, lines: Iterable[str]) -> None:
        with self._zip.open(member, "w", force_zip64=True) as raw, io.TextIOWrapper(raw, "utf-8") as out:
            for text in lines:
                out.write(text)
                out.write("\n")

    def write_chunks(self, member: str, chunks: Iterable[bytes]) -> None:
        with self._zip.open(member, "w", force_zip64=True) as out:
            for chunk in chunks:
                out.write(chunk)

    def commit(self, manifest: dict[str, Any]) -> None:
        self._zip.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        self._zip.close()
        os.replace(self._temporary, self.path)

    def abandon(self) -> None:
        self._zip.close()
        self._temporary.unlink(missing_ok=True)


class ArchiveReader:
    """A backup file opened for reading, its manifest checked for a format this Loom reads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            manifest = json.loads(self._zip.read(MANIFEST))
        except FileNotFoundError:
            raise BackupRefused(f"{self.path}: no such file") from None
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            raise BackupRefused(f"{self.path} is not a Loom backup ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupRefused(f"{self.path} is not a Loom backup (its manifest says no format {FORMAT!r})")
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise BackupRefused(
                f"{self.path} is a backup of format {version}; this Loom reads format {FORMAT_VERSION}"
            )
        self.manifest: dict[str, Any] = manifest
        self._names = set(self._zip.namelist())
        try:
            self.tables = [
                TableEntry(
                    str(t["name"]),
                    str(t["role"]),
                    t.get("object"),
                    tuple((str(name), str(kind)) for name, kind in t["columns"]),
                    int(t["rows"]),
                    str(t["checksum"]),
                )
                for t in manifest["tables"]
            ]
            self.files = [
                FileEntry(str(f["key"]), int(f["size"]), str(f["sha256"]))
                for f in manifest["files"]["stored"]
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise BackupRefused(f"{self.path}: its manifest is damaged ({error!r})") from None

    def has(self, member: str) -> bool:
        return member in self._names

    def lines(self, member: str) -> Iterator[tuple[int, Any]]:
        """(line number, parsed JSON) of each line of a table member."""
        if member not in self._names:
            raise BackupRefused(f"{self.path} lacks {member}")
        number = 0
        try:
            with self._zip.open(member) as raw, io.TextIOWrapper(raw, "utf-8") as text:
                for number, content in enumerate(text, start=1):
                    try:
                        parsed = json.loads(content)
                    except ValueError as error:
                        raise BackupRefused(f"{member} line {number} is not JSON ({error})") from None
                    yield number, parsed
        except READ_ERRORS as error:
            where = f" after line {number}" if number else ""
            raise BackupRefused(f"{member} is damaged{where} ({error})") from None

    def open(self, member: str) -> IO[bytes]:
        if member not in self._names:
            raise BackupRefused(f"{self.path} lacks {member}")
        return self._zip.open(member)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
