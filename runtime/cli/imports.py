"""`loom import OBJECT FILE`, `loom import resume|revert|list`: importing records from CSV and XLSX."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.base.messages import Message, localize
from engine.imports import (
    Counts,
    ImportOptions,
    ImportReport,
    MappingFile,
    auto_mapping,
    bad_rows_report,
    dry_run,
    list_imports,
    load_mapping_document,
    problems_report,
    resume_import,
    revert_import,
    start_import,
)
from engine.imports.mapping import field_named
from engine.imports.report import reasons_text
from engine.loom import Loom
from runtime.cli.group import Context, _fail, actor_named, cli, cli_locale, pass_context
from runtime.heap import startup_objects_frozen

SUBCOMMANDS = ("run", "resume", "revert", "list")


class _ImportGroup(click.Group):
    """`loom import OBJECT FILE` runs an import; `loom import resume|revert|list …` manage them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in SUBCOMMANDS and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@cli.group("import", cls=_ImportGroup)
def import_group() -> None:
    """Import records: `loom import OBJECT FILE.csv|FILE.xlsx [options]`, or resume, revert, list."""


@import_group.command("run")
@click.argument("object_name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping", "mapping_file", type=click.Path(exists=True, path_type=Path), help="JSON column → field."
)
@click.option(
    "--dry-run", is_flag=True, help="Import a sample in a transaction that is rolled back; report only."
)
@click.option(
    "--sample", type=click.IntRange(min=1), default=200, show_default=True, help="Rows of a dry run."
)
@click.option(
    "--on-duplicate", type=click.Choice(["skip", "update", "merge"]), default="skip", show_default=True
)
@click.option("--key", help="Match rows to records on this unique field instead of the duplicate rules.")
@click.option(
    "--report", "report_path", type=click.Path(path_type=Path), help="Write bad rows to OUT.csv or OUT.xlsx."
)
@click.option("--as", "username", help="Run as this user (default: the system, which may do anything).")
@click.option(
    "--no-normalise", is_flag=True, help="Keep cells as typed (no half-width digits, no phone tidying)."
)
@click.option(
    "--date-order",
    type=click.Choice(["auto", "dmy", "mdy"]),
    default=None,
    help="How 03/04/2026 reads: day first, month first, or as the file's other dates show (auto).",
)
@click.option(
    "--save-mapping",
    "save_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Dry-run, then write the mapping used, with the words to map under "values", to this JSON file.',
)
@pass_context
def import_run(
    ctx: Context,
    object_name: str,
    path: Path,
    mapping_file: Path | None,
    dry_run: bool,
    sample: int,
    on_duplicate: str,
    key: str | None,
    report_path: Path | None,
    username: str | None,
    no_normalise: bool,
    date_order: str | None,
    save_path: Path | None,
) -> None:
    """Import OBJECT records from a CSV or XLSX file."""
    loom = ctx.loom
    try:
        actor = actor_named(loom, username)
        saved = load_mapping_document(mapping_file) if mapping_file else None
        options = ImportOptions(
            mapping=saved.columns if saved else None,
            on_duplicate=on_duplicate,
            key=key,
            normalise=not no_normalise,
            values=saved.values if saved else {},
            date_order=date_order or (saved.date_order if saved and saved.date_order else "auto"),
        )
        if dry_run or save_path is not None:
            report = _dry_run(loom, object_name, path, options, actor, sample, report_path)
            if save_path is not None:
                _save_mapping(loom, object_name, path, options, report, save_path)
            return
        with (
            startup_objects_frozen(loom),
            _progressbar(f"importing {path.name}") as bar,
        ):
            report = start_import(loom, object_name, path, options, actor, progress=_advance(bar))
            _complete(bar)
        _print_report(report)
        if report.unmapped:
            _say("columns_left_out", columns=[repr(column) for column in report.unmapped])
        if report_path is not None and report.import_id is not None:
            _write_report(
                report_path,
                bad_rows_report(loom, report.import_id, _format(report_path), locale=cli_locale()),
            )
    except LoomError as error:
        _fail(error)


def _dry_run(
    loom: Loom,
    object_name: str,
    path: Path,
    options: ImportOptions,
    actor: Actor,
    sample: int,
    report_path: Path | None,
) -> ImportReport:
    report = dry_run(loom, object_name, path, options, actor, sample=sample)
    click.echo(f"dry run of {report.rows} row(s); nothing was saved")
    _print_report(report)
    _print_findings(loom, object_name, report)
    model = loom.registry.object(object_name)
    for problem in report.problems[:20]:
        reasons = reasons_text(model, problem.reasons, cli_locale())
        click.echo(f"  line {problem.line} {problem.kind}: {reasons}")
    if len(report.problems) > 20:
        click.echo(f"  … and {len(report.problems) - 20} more")
    if report_path is not None:
        model = loom.registry.object(object_name)
        header = _header(path)
        _write_report(
            report_path, problems_report(model, header, report.problems, _format(report_path), cli_locale())
        )
    return report


def _say(code: str, **params: Any) -> None:
    click.echo(localize(Message(code, **params), cli_locale()))


def _print_findings(loom: Loom, object_name: str, report: ImportReport) -> None:
    """What the import leaves out or reads in a way worth knowing: never silently."""
    model = loom.registry.object(object_name)
    if report.unmapped:
        _say("columns_left_out", columns=[repr(column) for column in report.unmapped])
    for separator, order in report.date_orders.items():
        _say("dates_order_read", separator=repr(separator), order=Message(_ORDER_WORDS[order]))
    for field, guessed in report.guessed_values.items():
        words = [f"{word} → {value}" for word, value in guessed.items()]
        _say("words_guessed", field=field_named(model, field), words=words)
    for field, counts in report.unknown_values.items():
        words = [f"{word} ({count})" for word, count in counts.items()]
        _say("words_unknown", field=field_named(model, field), words=words)
    if report.unknown_values:
        _say("map_words_hint", key="values", option="--save-mapping")


_ORDER_WORDS = {"dmy": "day_first", "mdy": "month_first"}


def _save_mapping(
    loom: Loom, object_name: str, path: Path, options: ImportOptions, report: ImportReport, target: Path
) -> None:
    """The mapping file a person edits: the columns as mapped, each unknown word waiting for its option."""
    model = loom.registry.object(object_name)
    columns: dict[str, str | None] = dict(options.mapping or auto_mapping(model, _header(path)))
    for column in report.unmapped:
        columns.setdefault(column, None)
    values = {field: dict(words) for field, words in options.values.items()}
    for field, counts in report.unknown_values.items():
        for word in counts:
            values.setdefault(field, {}).setdefault(word, "")
    document = MappingFile(columns, values, options.date_order if options.date_order != "auto" else None)
    target.write_text(json.dumps(document.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _say("mapping_saved", path=str(target))


def _header(path: Path) -> list[str]:
    from engine.imports import inspect_file

    return inspect_file(path, sample=0).columns


def _progressbar(label: str) -> Any:
    """A bar on the terminal's standard error: rows done of the file's estimated rows, and rows/s."""
    return click.progressbar(
        length=1, label=label, file=sys.stderr, show_pos=True, item_show_func=lambda rate: rate
    )


def _advance(bar: Any):  # type: ignore[no-untyped-def]
    # The rate counts from the first committed batch: rows a resumed import did before are not this run's.
    first: list[tuple[float, int]] = []

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if not first:
            first.append((now, done))
        since, rows = first[0]
        rate = f"{(done - rows) / (now - since):,.0f} rows/s" if now > since and done > rows else None
        bar.length = total
        bar.update(done - bar.pos, rate)

    return progress


def _complete(bar: Any) -> None:
    """The file's rows were an estimate: at the end, the bar is full at the rows there were."""
    bar.length = max(bar.pos, 1)
    bar.render_progress()


def _format(path: Path) -> str:
    return "xlsx" if path.suffix.lower() == ".xlsx" else "csv"


def _write_report(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    click.echo(f"bad rows written to {path}")


def _print_report(report: ImportReport) -> None:
    counts = report.counts
    prefix = f"import {report.import_id}: " if report.import_id is not None else ""
    click.echo(
        f"{prefix}{report.rows} row(s): {counts.created} created, {counts.updated} updated, "
        f"{counts.merged} merged, {counts.unchanged} unchanged, {counts.skipped} duplicate(s) skipped, "
        f"{counts.invalid} invalid"
    )


@import_group.command("resume")
@click.argument("import_id", type=int)
@click.option("--as", "username", help="The user who started the import.")
@pass_context
def import_resume(ctx: Context, import_id: int, username: str | None) -> None:
    """Continue an import that stopped, after its last committed batch."""
    loom = ctx.loom
    try:
        with (
            startup_objects_frozen(loom),
            _progressbar(f"import {import_id}") as bar,
        ):
            report = resume_import(loom, import_id, actor_named(loom, username), progress=_advance(bar))
            _complete(bar)
        _print_report(report)
    except LoomError as error:
        _fail(error)


@import_group.command("revert")
@click.argument("import_id", type=int)
@click.option("--as", "username", help="Revert as this user (the one who imported, or an admin).")
@click.option("--skip-changed", is_flag=True, help="Leave records changed since the import as they are.")
@pass_context
def import_revert(ctx: Context, import_id: int, username: str | None, skip_changed: bool) -> None:
    """Undo an import: delete the records it created, restore the ones it changed."""
    loom = ctx.loom
    try:
        result = revert_import(loom, import_id, actor_named(loom, username), skip_changed=skip_changed)
    except LoomError as error:
        _fail(error)
        return
    click.echo(f"import {import_id} reverted: {result.deleted} deleted, {result.restored} restored")
    if result.skipped:
        click.echo(f"left as they are (changed since): {', '.join(str(i) for i in result.skipped)}")


@import_group.command("list")
@click.option("--object", "object_name", help="Only imports of this object.")
@pass_context
def import_list(ctx: Context, object_name: str | None) -> None:
    """The newest imports with their status and counts."""
    rows = list_imports(ctx.loom, object_name)
    if not rows:
        click.echo("no imports")
    for row in rows:
        counts = Counts.from_json(row["counts"])
        click.echo(
            f"{row['id']:>5}  {row['created_at']:%Y-%m-%d %H:%M}  {row['object']:<14} {row['status']:<9} "
            f"{row['rows_done']:>8} rows  +{counts.created} ~{counts.updated + counts.merged} "
            f"skipped {counts.skipped} invalid {counts.invalid}  {row['file_name']}"
        )
