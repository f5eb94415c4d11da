"""`loom backup`, `loom restore` and `loom check`: one archive of the database and its files, put back
on SQLite or PostgreSQL, and the consistency check that says whether a database is whole."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from engine.backup import CheckReport, check_database, restore_backup, take_backup, verify_archive
from engine.base.errors import LoomError
from engine.files import LocalFileStore
from engine.loom import Loom
from runtime.cli.group import Context, _fail, cli, pass_context

SHOWN = 20


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True, help="Check an existing backup FILE against its manifest; take none.")
@click.option("--replace", is_flag=True, help="Overwrite FILE if it exists.")
@pass_context
def backup(ctx: Context, file: Path, verify: bool, replace: bool) -> None:
    """Write the whole database (metadata, records, history, users) and its files to one archive FILE."""
    try:
        if verify:
            _verify(file)
            return
        if file.exists() and not replace:
            click.echo(f"error: {file} exists; pass --replace to overwrite it", err=True)
            sys.exit(1)
        started = time.monotonic()
        summary = take_backup(ctx.loom, file)
    except LoomError as error:
        _fail(error)
        return
    except OSError as error:
        _os_error(error)
    took = time.monotonic() - started
    click.echo(f"backed up the database to {summary.path} in {took:.1f} s")
    click.echo(
        f"  {summary.tables} tables, {summary.rows} rows, {summary.files} files "
        f"({_size(summary.file_bytes)}), metadata version {summary.metadata_version}"
    )
    if summary.missing_files:
        shown = ", ".join(summary.missing_files[:SHOWN])
        click.echo(
            f"  warning: {len(summary.missing_files)} file(s) that records name were missing from the "
            f"file store and are not in the backup: {shown}",
            err=True,
        )
    if summary.dangling:
        click.echo(
            f"  warning: {summary.dangling} reference(s) already named no record; `loom check` lists them",
            err=True,
        )


def _verify(file: Path) -> None:
    report = verify_archive(file)
    if report.ok:
        click.echo(
            f"{file}: {report.tables} tables, {report.rows} rows and {report.files} files match its manifest"
        )
        return
    _print_problems(f"{file} is damaged", report)
    sys.exit(1)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Replace everything Loom holds in the database with the backup."
)
@pass_context
def restore(ctx: Context, file: Path, replace: bool) -> None:
    """Restore a backup FILE into an empty database (SQLite or PostgreSQL), then check it; all or nothing."""
    loom = ctx.loom
    started = time.monotonic()
    try:
        summary = restore_backup(loom, file, replace=replace)
    except LoomError as error:
        _fail(error)
        return
    except OSError as error:
        _os_error(error)
    took = time.monotonic() - started
    click.echo(f"restored {file} in {took:.1f} s: {summary.tables} tables, {summary.rows} rows")
    present = f" ({summary.files_present} already there)" if summary.files_present else ""
    click.echo(f"  {summary.files_restored} files put in the file store{_store_place(loom)}{present}")
    click.echo(f"check passed: {summary.report.tables} tables, {summary.report.files} files")
    for note in summary.report.notes[:SHOWN]:
        click.echo(f"  note: {note}")


@cli.command()
@pass_context
def check(ctx: Context) -> None:
    """Check the database: tables match the metadata, references resolve, every file a record names exists."""
    report = check_database(ctx.loom)
    if not report.ok:
        _print_problems("the check found problems", report)
        sys.exit(1)
    click.echo(f"check passed: {report.tables} tables, {report.rows} rows, {report.files} files")


def _os_error(error: OSError) -> NoReturn:
    """A file that cannot be written or read (a full disk, a folder without permission)."""
    click.echo(f"error: {error}; nothing was changed", err=True)
    sys.exit(1)


def _print_problems(headline: str, report: CheckReport) -> None:
    click.echo(f"{headline}: {len(report.problems)} problem(s)", err=True)
    for problem in report.problems[:SHOWN]:
        click.echo(f"  {problem}", err=True)
    if len(report.problems) > SHOWN:
        click.echo(f"  … and {len(report.problems) - SHOWN} more", err=True)


def _store_place(loom: Loom) -> str:
    store = loom.files.store
    return f" ({store.root})" if isinstance(store, LocalFileStore) else ""


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    size = float(count)
    for unit in ("KB", "MB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GB"
