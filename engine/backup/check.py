"""The consistency check: tables match the metadata, references resolve, files exist — and, against a
backup's manifest, every table holds the same rows.

What was already wrong when a backup was taken (a lookup to a purged record, a file deleted by
hand) is listed in its manifest; checking a restore against it reports those as notes, so a
restore is refused only for what the restore itself got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from engine.backup.archive import TableEntry
from engine.backup.inventory import HeldTable, held_tables, read_rows
from engine.backup.references import dangling_references, referenced_files
from engine.backup.values import RowCodec, TableDigest
from engine.files import FileStore
from engine.schema.registry import Registry
from engine.schema.sync import plan_sync
from engine.store.documents import metadata_version

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass
class CheckReport:
    """What the check found: problems (the check fails), notes (known, not failures) and counts."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Expected:
    """What a backup's manifest says the database should hold."""

    tables: tuple[TableEntry, ...]
    metadata_version: int
    dangling: Mapping[str, int]  # reference label → values already dangling when it was taken
    missing_files: frozenset[str]  # keys already missing from the store when it was taken

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], tables: list[TableEntry]) -> Expected:
        return cls(
            tuple(tables),
            int(manifest.get("metadata_version", 0)),
            dict(manifest.get("dangling_references", {})),
            frozenset(manifest.get("files", {}).get("missing", ())),
        )


def check_database(loom: Loom, expected: Expected | None = None) -> CheckReport:
    """Check the database in one read transaction; against a backup when `expected` is given."""
    with loom.read() as conn:
        return check_connection(loom, conn, expected)


def check_connection(loom: Loom, conn: Connection, expected: Expected | None = None) -> CheckReport:
    """The check inside the caller's transaction (a restore runs it before it commits)."""
    report = CheckReport()
    registry = loom.registry_for(conn)
    _check_tables(report, conn, registry, expected)
    plan = plan_sync(conn, registry.specs(), registry.specs(), loom.field_types)
    for line in plan.lines():
        report.problems.append(f"the tables differ from the metadata: {line}")
    _check_references(report, conn, registry, expected)
    _check_files(report, conn, registry, loom.files.store, expected)
    return report


def _check_tables(
    report: CheckReport, conn: Connection, registry: Registry, expected: Expected | None
) -> None:
    held = {table.name: table for table in held_tables(conn, registry)}
    report.tables = len(held)
    if expected is None:
        for table in held.values():
            report.rows += conn.execute(select(func.count()).select_from(table.table)).scalar_one()
        return
    version = metadata_version(conn)
    if version != expected.metadata_version:
        report.problems.append(f"metadata version is {version}, the backup's is {expected.metadata_version}")
    listed = {entry.name for entry in expected.tables}
    for entry in expected.tables:
        table = held.get(entry.name)
        if table is None:
            report.problems.append(f"{entry.name}: missing (the backup holds {entry.rows} row(s))")
            continue
        # Compared as sets: a table made afresh has its columns in the metadata's order, while one
        # that grew over the years has them in the order they were added.
        live, backed_up = {name for name, _ in table.columns}, {name for name, _ in entry.columns}
        if live != backed_up:
            differ = ", ".join(sorted(live ^ backed_up))
            report.problems.append(f"{entry.name}: its columns differ from the backup's ({differ})")
            continue
        digest = table_digest(conn, table, entry.columns)
        report.rows += digest.rows
        if digest.rows != entry.rows:
            report.problems.append(f"{entry.name}: {digest.rows} row(s), the backup holds {entry.rows}")
        elif digest.checksum != entry.checksum:
            report.problems.append(f"{entry.name}: the rows differ from the backup's (checksum)")
    for name, table in held.items():
        if name not in listed:
            rows = conn.execute(select(func.count()).select_from(table.table)).scalar_one()
            if rows:
                report.problems.append(f"{name}: holds {rows} row(s) the backup does not have")


def table_digest(conn: Connection, held: HeldTable, columns: Sequence[tuple[str, str]]) -> TableDigest:
    """Row count and checksum of a live table, its columns read in the backup's order."""
    codec = RowCodec([kind for _, kind in columns])
    digest = TableDigest()
    for row in read_rows(conn, held, [name for name, _ in columns]):
        digest.add(codec.encode(row))
    return digest


def _check_references(
    report: CheckReport, conn: Connection, registry: Registry, expected: Expected | None
) -> None:
    for dangling in dangling_references(conn, registry):
        known = expected.dangling.get(dangling.label, 0) if expected is not None else 0
        if dangling.count <= known:
            report.notes.append(f"{dangling} — already so when the backup was taken")
        else:
            report.problems.append(str(dangling))


def _check_files(
    report: CheckReport, conn: Connection, registry: Registry, store: FileStore, expected: Expected | None
) -> None:
    keys = referenced_files(conn, registry)
    report.files = len(keys)
    for key, where in sorted(keys.items()):
        if store.exists(key):
            continue
        if expected is not None and key in expected.missing_files:
            report.notes.append(f"file {key} ({where}) was already missing when the backup was taken")
        else:
            report.problems.append(f"file {key} ({where}) is missing from the file store")
