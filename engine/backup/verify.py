"""Verifying a backup file on its own: every table reads back to its manifest's rows and checksum,
and every file to its size and SHA-256. Needs no database."""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.backup.archive import READ_ERRORS, ArchiveReader, FileEntry, TableEntry, file_member, table_member
from engine.backup.check import CheckReport
from engine.backup.values import RowCodec, TableDigest, UnsupportedColumn
from engine.base.errors import BackupRefused

CHUNK = 64 * 1024


def verify_archive(path: str | Path) -> CheckReport:
    """Read the whole archive and compare it with its manifest; the report names each damaged part."""
    report = CheckReport()
    with ArchiveReader(path) as archive:
        for entry in archive.tables:
            report.tables += 1
            rows, problem = _verify_table(archive, entry)
            report.rows += rows
            if problem:
                report.problems.append(problem)
        for stored in archive.files:
            report.files += 1
            if problem := _verify_file(archive, stored):
                report.problems.append(problem)
    return report


def _verify_table(archive: ArchiveReader, entry: TableEntry) -> tuple[int, str | None]:
    try:
        codec = RowCodec([kind for _, kind in entry.columns])
    except UnsupportedColumn as error:
        return 0, f"{entry.name}: {error}"
    digest = TableDigest()
    try:
        for number, values in archive.lines(table_member(entry.name)):
            try:
                digest.add(codec.encode(codec.decode(values)))
            except (TypeError, ValueError, ArithmeticError) as error:
                return (
                    digest.rows,
                    f"{entry.name}: line {number} does not read as the table's columns ({error})",
                )
    except BackupRefused as error:
        return digest.rows, f"{entry.name}: {error.message}"
    if digest.rows != entry.rows:
        return (
            digest.rows,
            f"{entry.name}: {digest.rows} row(s) in the archive, the manifest says {entry.rows}",
        )
    if digest.checksum != entry.checksum:
        return (
            digest.rows,
            f"{entry.name}: the rows differ from the manifest's checksum (changed after the backup)",
        )
    return digest.rows, None


def _verify_file(archive: ArchiveReader, stored: FileEntry) -> str | None:
    member = file_member(stored.key)
    if not archive.has(member):
        return f"file {stored.key}: not in the archive"
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(member) as data:
            while chunk := data.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except READ_ERRORS as error:
        return f"file {stored.key}: damaged in the archive ({error})"
    if size != stored.size or digest.hexdigest() != stored.sha256:
        return f"file {stored.key}: its bytes differ from the manifest's size and SHA-256"
    return None
