"""Taking a backup: every table of Loom's read in one snapshot, then the files its rows name.

On PostgreSQL the tables are read in one REPEATABLE READ, READ ONLY transaction; on SQLite in
one read transaction, which WAL mode keeps to the moment of its first read. Web processes and
the worker keep writing meanwhile; the backup holds the database as it was at that moment.
Files are copied after the transaction ends (stored files never change under their key, so the
bytes are those of the snapshot); one deleted meanwhile is listed as missing in the manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from engine.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveWriter,
    FileEntry,
    TableEntry,
    file_member,
    table_member,
)
from engine.backup.inventory import RECORD, HeldTable, held_tables, read_rows
from engine.backup.references import attachment_keys, dangling_references, referenced_files
from engine.backup.values import RowCodec, TableDigest, line
from engine.files import FileStore, MissingFile
from engine.packages.store import installed_packages
from engine.schema.registry import Registry
from engine.store.documents import metadata_version

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds, for the person who took it."""

    path: Path
    tables: int
    rows: int
    files: int
    file_bytes: int
    missing_files: tuple[str, ...]
    dangling: int  # reference values that already named no row
    metadata_version: int


def loom_version() -> str:
    try:
        return version("loom-crm")
    except PackageNotFoundError:
        return "unknown"


@contextmanager
def snapshot(loom: Loom) -> Iterator[Connection]:
    """A read-only transaction that sees every table at one moment."""
    with loom.db.connect() as conn:
        postgresql = conn.dialect.name == "postgresql"
        if postgresql:
            conn.execution_options(isolation_level="REPEATABLE READ")
        conn.execution_options(loom_readonly=True)
        with conn.begin():
            if postgresql:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn


def take_backup(loom: Loom, path: str | Path) -> BackupSummary:
    """Write the whole database and its files to one archive at `path`."""
    writer = ArchiveWriter(path)
    try:
        with snapshot(loom) as conn:
            registry = loom.registry_for(conn)
            tables, named = _write_tables(writer, conn, registry)
            files = referenced_files(conn, registry)
            for key in named:
                files.setdefault(key, "")
            dangling = {item.label: item.count for item in dangling_references(conn, registry)}
            meta_version = metadata_version(conn)
            packages = {name: package.version for name, package in installed_packages(conn).items()}
            dialect = conn.dialect.name
        stored, missing = _write_files(writer, loom.files.store, sorted(files))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "loom_version": loom_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": dialect,
            "metadata_version": meta_version,
            "packages": packages,
            "tables": [entry.to_json() for entry in tables],
            "files": {
                "store": loom.settings.files_backend.strip().lower() or "local",
                "stored": [{"key": f.key, "size": f.size, "sha256": f.sha256} for f in stored],
                "missing": missing,
            },
            "dangling_references": dangling,
        }
        writer.commit(manifest)
    except BaseException:
        writer.abandon()
        raise
    return BackupSummary(
        writer.path,
        len(tables),
        sum(entry.rows for entry in tables),
        len(stored),
        sum(f.size for f in stored),
        tuple(missing),
        sum(dangling.values()),
        meta_version,
    )


def _write_tables(
    writer: ArchiveWriter, conn: Connection, registry: Registry
) -> tuple[list[TableEntry], set[str]]:
    entries: list[TableEntry] = []
    named: set[str] = set()  # file keys the records' attachment fields hold
    for held in held_tables(conn, registry):
        columns = held.columns
        digest = TableDigest()
        writer.write_lines(table_member(held.name), _lines(conn, held, columns, digest, registry, named))
        entries.append(
            TableEntry(held.name, held.role, held.object, tuple(columns), digest.rows, digest.checksum)
        )
    return entries, named


def _lines(
    conn: Connection,
    held: HeldTable,
    columns: list[tuple[str, str]],
    digest: TableDigest,
    registry: Registry,
    named: set[str],
) -> Iterator[str]:
    codec = RowCodec([kind for _, kind in columns])
    attachments: list[int] = []
    if held.role == RECORD and held.object is not None:
        stored = {f.name for f in registry.object(held.object).stored if f.type == "attachment"}
        attachments = [index for index, (name, _) in enumerate(columns) if name in stored]
    for row in read_rows(conn, held):
        encoded = codec.encode(row)
        digest.add(encoded)
        for index in attachments:
            named.update(attachment_keys(row[index]))
        yield line(encoded)


def _write_files(
    writer: ArchiveWriter, store: FileStore, keys: list[str]
) -> tuple[list[FileEntry], list[str]]:
    stored: list[FileEntry] = []
    missing: list[str] = []
    for key in keys:
        try:
            if not store.exists(key):
                raise MissingFile(key)
            chunks = store.read(key)
        except MissingFile:
            missing.append(key)
            continue
        tally = _Tally()
        writer.write_chunks(file_member(key), tally.through(chunks))
        stored.append(FileEntry(key, tally.size, tally.digest.hexdigest()))
    return stored, missing


class _Tally:
    """Counts and hashes the chunks that pass through it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def through(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.digest.update(chunk)
            self.size += len(chunk)
            yield chunk
