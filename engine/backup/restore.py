"""Restoring a backup into an empty database, on SQLite or PostgreSQL, whichever it was taken on.

In one transaction: Loom's own tables and their rows, then the record tables made by schema sync
from the restored metadata (as an install makes them), their rows, the archive tables of removed
objects; PostgreSQL's id sequences moved past the restored ids; the files put back; then the
consistency check against the manifest. Any failure rolls all of it back and removes the files
it put in the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, Table, func, insert, inspect, select, text
from sqlalchemy import table as light_table
from sqlalchemy.exc import DBAPIError

from engine.backup.archive import ArchiveReader, TableEntry, file_member, table_member
from engine.backup.check import CheckReport, Expected, check_connection
from engine.backup.inventory import (
    ARCHIVE,
    RECORD,
    ROLE_ORDER,
    SYSTEM,
    add_missing_columns,
    archive_column_types,
    create_archive_table,
    live_table,
    loom_table_names,
)
from engine.backup.values import RowCodec
from engine.backup.verify import verify_archive
from engine.base.errors import BackupRefused
from engine.files import FileStore
from engine.schema.sync import apply_sync, plan_sync
from engine.store.system_tables import archived_tables, files, system_metadata

if TYPE_CHECKING:
    from engine.loom import Loom

INSERT_BATCH = 1000
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class RestoreSummary:
    tables: int
    rows: int
    files_restored: int
    files_present: int  # already in the store under the same key (the same bytes)
    report: CheckReport


def restore_backup(loom: Loom, path: str | Path, *, replace: bool = False) -> RestoreSummary:
    """Restore the archive at `path`; refused (changing nothing) unless the database is empty or `replace`."""
    verified = verify_archive(path)
    if not verified.ok:
        raise BackupRefused(_listed(f"{path} is damaged; nothing was restored", verified.problems))
    added: list[str] = []
    with ArchiveReader(path) as archive:
        loom.forget_registry()
        try:
            with loom.begin() as conn:
                _make_room(conn, replace)
                rows = _restore_tables(loom, conn, archive)
                _move_sequences(conn, [entry.name for entry in archive.tables])
                present = _restore_files(conn, archive, loom.files.store, added)
                expected = Expected.from_manifest(archive.manifest, archive.tables)
                report = check_connection(loom, conn, expected)
                if not report.ok:
                    raise BackupRefused(
                        _listed(
                            "the restored database failed its check; nothing was restored", report.problems
                        )
                    )
        except BaseException:
            loom.forget_registry()
            loom.files.delete_stored(added)
            raise
    loom.forget_registry()
    return RestoreSummary(len(archive.tables), rows, len(added), present, report)


def _listed(headline: str, problems: list[str]) -> str:
    shown = [f"  {problem}" for problem in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        shown.append(f"  … and {len(problems) - SHOWN_PROBLEMS} more")
    return "\n".join([f"{headline}:", *shown])


def _make_room(conn: Connection, replace: bool) -> None:
    """Refuse a database that holds Loom data, or with `replace` drop every table of Loom's in it."""
    names = loom_table_names(conn)
    if replace:
        ops = Operations(MigrationContext.configure(conn))
        for name in names:
            ops.drop_table(name)
    else:
        held = []
        for name in names:
            rows = conn.execute(select(func.count()).select_from(light_table(name))).scalar_one()
            if rows or not name.startswith("loom_"):
                held.append(f"{name}: {rows} row(s)")
        if held:
            shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            raise BackupRefused(
                f"the database already holds Loom data ({shown}); restore into an empty database, "
                "or pass --replace to replace everything in it. Nothing was changed"
            )
    system_metadata.create_all(conn)


def _restore_tables(loom: Loom, conn: Connection, archive: ArchiveReader) -> int:
    entries = {role: [e for e in archive.tables if e.role == role] for role in ROLE_ORDER}
    unknown = [e.name for e in archive.tables if e.role not in entries]
    if unknown:
        raise BackupRefused(
            f"the backup holds tables this Loom does not know how to make: {', '.join(unknown)}"
        )
    rows = 0
    for entry in entries[SYSTEM]:
        if entry.name not in system_metadata.tables:
            raise BackupRefused(f"the backup holds {entry.name}, a table this version of Loom does not have")
        rows += _load(conn, archive, entry, live_table(conn, entry.name, system_metadata.tables[entry.name]))
    # The restored metadata, read as every process reads it, makes the record tables: the same
    # schema sync as an install, so each table is exactly the engine's own.
    registry = loom.registry_for(conn)
    specs = registry.specs()
    try:
        plan = plan_sync(conn, {}, specs, loom.field_types)
        apply_sync(conn, plan, specs, loom.field_types, loom.clock.now())
    except KeyError as error:  # a field type of a plugin this installation lacks
        raise BackupRefused(f"the backed-up metadata cannot be installed here: {error}") from None
    archived = archive_column_types(conn, loom.field_types)
    for entry in entries[RECORD]:
        if entry.object is None or not registry.has_object(entry.object):
            raise BackupRefused(
                f"the backup holds {entry.name}, but its metadata has no object {entry.object!r}"
            )
        add_missing_columns(conn, entry.name, entry.columns, archived)
        rows += _load(conn, archive, entry, live_table(conn, entry.name, registry.object(entry.object).table))
    specs_of = {row.table_name: row.spec for row in conn.execute(select(archived_tables))}
    for entry in entries[ARCHIVE]:
        create_archive_table(
            conn, entry.name, entry.columns, specs_of.get(entry.name), loom.field_types, archived
        )
        rows += _load(conn, archive, entry, live_table(conn, entry.name))
    return rows


def _load(conn: Connection, archive: ArchiveReader, entry: TableEntry, table: Table) -> int:
    """Insert a table's rows in batches; a row the database refuses names the table."""
    names = [name for name, _ in entry.columns]
    missing = [name for name in names if name not in table.c]
    if missing:
        raise BackupRefused(f"{entry.name}: this Loom's table has no column(s) {', '.join(missing)}")
    codec = RowCodec([kind for _, kind in entry.columns])
    statement = insert(table)
    loaded = 0
    try:
        for batch in _batches(archive, entry, codec, names):
            conn.execute(statement, batch)
            loaded += len(batch)
    except DBAPIError as error:
        raise BackupRefused(f"{entry.name}: the database refused a row ({error.orig})") from None
    return loaded


def _batches(
    archive: ArchiveReader, entry: TableEntry, codec: RowCodec, names: list[str]
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for _, values in archive.lines(table_member(entry.name)):
        batch.append(dict(zip(names, codec.decode(values), strict=True)))
        if len(batch) == INSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _move_sequences(conn: Connection, names: list[str]) -> None:
    """On PostgreSQL, move each id sequence past the restored ids so the next insert gets a new one.
    (SQLite gives the next rowid after the largest, or after its sqlite_sequence, with nothing to move.)"""
    if conn.dialect.name != "postgresql":
        return
    for name in names:
        if "id" not in {column["name"] for column in inspect(conn).get_columns(name)}:
            continue
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f'"{name}"'}).scalar()
        if sequence:
            # Never back: a table made again over an archive starts past ids no restored row has.
            conn.execute(
                text(
                    f'SELECT setval(:s, GREATEST(COALESCE((SELECT max(id) FROM "{name}"), 0) + 1,'
                    f" (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence})),"
                    " false)"
                ),
                {"s": sequence},
            )


def _restore_files(conn: Connection, archive: ArchiveReader, store: FileStore, added: list[str]) -> int:
    """Put each archived file in the store (checking its bytes); returns how many were there already."""
    kinds = dict(conn.execute(select(files.c.key, files.c.content_type)).all())
    present = 0
    for stored in archive.files:
        if store.exists(stored.key):
            present += 1
            continue
        with archive.open(file_member(stored.key)) as data:
            reader = _Hashing(data)
            store.put(stored.key, reader, kinds.get(stored.key, "application/octet-stream"))
        added.append(stored.key)
        if reader.size != stored.size or reader.digest.hexdigest() != stored.sha256:
            raise BackupRefused(f"file {stored.key}: its bytes differ from the manifest's size and SHA-256")
    return present


class _Hashing:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk
