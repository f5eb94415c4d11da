"""Running an import: a dry run on a sample, a real run in committed batches, and resuming one.

Each batch commits its records, their audit rows, the import's items and problems and the
import's progress in one transaction. A crash loses at most the batch in flight, and resuming
skips exactly the rows already committed, so nothing is imported twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import LoomError
from engine.base.messages import Message, named
from engine.identity.permissions import ObjectAccess, PermissionDenied, access_for
from engine.imports.batch import BatchImporter
from engine.imports.dates import DateReader, DayOrderEvidence
from engine.imports.dedupe import KeyIndex
from engine.imports.mapping import auto_mapping, checked_mapping, field_named, unmapped_columns
from engine.imports.options import DATE_ORDERS, Counts, ImportOptions, ImportRefused, ImportReport
from engine.imports.rows import CellReaders, ImportRow, RowMapper
from engine.imports.sources import estimate_rows, file_digest, open_rows
from engine.imports.store import (
    create_import,
    finish,
    get_import,
    record_progress,
    unfinished_import,
)
from engine.imports.store import list_imports as stored_imports
from engine.imports.values import CHOICE_TYPES, ChoiceCells, LookupCells, clean_value_map
from engine.records.uniqueness import UniqueValues
from engine.schema.registry import ObjectModel

if TYPE_CHECKING:
    from engine.loom import Loom

#: Called after each committed batch with (rows done, estimated rows in the file).
Progress = Callable[[int, int], None]
DRY_RUN_SAMPLE = 200


@dataclass(frozen=True)
class _Plan:
    """An import's checked request: the object, the actor's rights, the header and mapping."""

    model: ObjectModel
    access: ObjectAccess
    header: list[str]
    mapping: dict[str, str]
    options: ImportOptions
    unmapped: list[str]


@dataclass
class _Survey:
    """What reading a whole file's date and select columns tells before any row is imported."""

    date_orders: dict[str, str]
    unknown_values: dict[str, dict[str, int]]
    guessed_values: dict[str, dict[str, str]]


@dataclass
class _ImportState:
    """What one import carries from batch to batch: its cell readers, and for a dry run (whose
    records are never stored as the import's items) the lines of the records it created."""

    readers: CellReaders
    created_lines: dict[int, int] = field(default_factory=dict)


def _plan(loom: Loom, object_name: str, path: Path, options: ImportOptions, actor: Actor) -> _Plan:
    """Check the permissions, the mapping and the key before any row is read; ImportRefused if wrong."""
    registry = loom.registry
    model = registry.object(object_name)
    access = access_for(registry, actor, object_name)
    access.require("import")
    access.require("create")
    if options.on_duplicate != "skip" or options.key:
        access.require("update")
    with open_rows(path) as (header, _):
        pass
    mapping = (
        options.mapping if options.mapping is not None else auto_mapping(model, header, access, options.key)
    )
    checked = checked_mapping(model, access, header, mapping, options.key)
    if options.key:
        spec = model.fields.get(options.key)
        unique = spec is not None and (
            spec.unique or spec.type == "autonumber" or (options.key,) in model.spec.unique_keys
        )
        if not unique:
            raise ImportRefused([Message("key_not_unique", field=field_named(model, options.key))])
    elif options.on_duplicate != "skip" and not model.spec.duplicate_rules:
        what = named(object_name, model.spec.label)
        raise ImportRefused([Message("no_duplicate_rules", object=what)])
    return _Plan(model, access, header, checked, options, unmapped_columns(header, mapping))


def _readers(
    loom: Loom,
    plan: _Plan,
    date_orders: dict[str, str],
    survey: Callable[[], dict[str, str]] | None = None,
) -> CellReaders:
    fields = list(plan.mapping.values())
    return CellReaders(
        DateReader(loom.clock.timezone, plan.options.date_order, date_orders, survey),
        ChoiceCells(plan.model, fields, clean_value_map(plan.options.values)),
        LookupCells(loom.registry, plan.model, fields),
    )


def _survey(loom: Loom, plan: _Plan, path: Path, *, choices: bool) -> _Survey:
    """Read the file's date columns for their day order and, with `choices`, every select cell once."""
    kinds = {"date", "datetime", *(CHOICE_TYPES if choices else ())}
    position = {column: index for index, column in enumerate(plan.header)}
    columns = [
        (position[column], name)
        for column, name in plan.mapping.items()
        if plan.model.fields[name].type in kinds
    ]
    readers = _readers(loom, plan, {})
    evidence = DayOrderEvidence()
    if columns:
        # Only the surveyed columns need be read: a wide sheet costs what its date columns cost.
        span = (min(index for index, _ in columns), max(index for index, _ in columns))
        with open_rows(path, span) as (_, rows):
            for row in rows:
                cells = row.cells
                for index, name in columns:
                    value = cells[index] if index < len(cells) else None
                    if type(value) is not str or not value.strip():
                        continue
                    if name in readers.choices.tables:
                        readers.choices.read(name, value)
                    else:
                        evidence.see(value)
    return _Survey(evidence.orders(), readers.choices.unknown(), readers.choices.guessed())


def _date_orders(loom: Loom, plan: _Plan, path: Path) -> dict[str, str]:
    return _survey(loom, plan, path, choices=False).date_orders


def _asked(options: dict[str, Any]) -> dict[str, Any]:
    """An import's stored options as it was asked: without the day orders that imports started by
    earlier versions kept with them (the file's, not the request's)."""
    return {key: value for key, value in options.items() if key != "date_orders"}


def _batches(plan: _Plan, rows: Iterator[Any], size: int, readers: CellReaders) -> Iterator[list[ImportRow]]:
    mapper = RowMapper(plan.model, plan.header, plan.mapping, plan.options.normalise, readers)
    while batch := list(islice(rows, size)):
        yield [mapper.row(row) for row in batch]


def _catch_up(loom: Loom, model: ObjectModel) -> None:
    with loom.begin() as conn:
        KeyIndex(model).catch_up(conn, loom.clock.now())


def dry_run(
    loom: Loom,
    object_name: str,
    path: Path | str,
    options: ImportOptions | None = None,
    actor: Actor = SYSTEM,
    sample: int = DRY_RUN_SAMPLE,
    *,
    survey_file: bool = True,
) -> ImportReport:
    """Import the first `sample` rows in a transaction that is rolled back: the report, nothing saved.

    With `survey_file`, the whole file's date and select columns are read first, so the report lists
    every word no option takes (not only the sample's) and dates read in the order the file shows.
    """
    path = Path(path)
    plan = _plan(loom, object_name, path, options or ImportOptions(), actor)
    survey = _survey(loom, plan, path, choices=True) if survey_file else _Survey({}, {}, {})
    _catch_up(loom, plan.model)
    report = ImportReport(
        object_name,
        None,
        "dry_run",
        0,
        unmapped=plan.unmapped,
        unknown_values=survey.unknown_values,
        guessed_values=survey.guessed_values,
        date_orders=survey.date_orders,
    )
    state = _ImportState(_readers(loom, plan, survey.date_orders))
    with loom.db.connect() as conn, open_rows(path) as (_, rows):
        transaction = conn.begin()
        try:
            registry = loom.registry_for(conn)
            importer = BatchImporter(
                loom, conn, registry, registry.object(object_name), actor, plan.access, plan.options, None,
                state.readers.lookups, state.created_lines,
            )  # fmt: skip
            for batch in _batches(plan, islice(rows, sample), plan.options.batch_rows, state.readers):
                outcome = importer.run(batch)
                report.rows += len(batch)
                report.counts.add(outcome.counts)
                report.problems += outcome.problems
        finally:
            transaction.rollback()
    report.problems.sort(key=lambda problem: problem.line)
    return report


def start_import(
    loom: Loom,
    object_name: str,
    path: Path | str,
    options: ImportOptions | None = None,
    actor: Actor = SYSTEM,
    *,
    progress: Progress | None = None,
    resume: bool = True,
) -> ImportReport:
    """Import a whole file; with `resume`, an unfinished import of the same file and request continues."""
    path = Path(path).resolve()
    options = options or ImportOptions()
    plan = _plan(loom, object_name, path, options, actor)
    digest = file_digest(path)
    stored_options = {**options.to_json(), "header": plan.header}
    with loom.begin() as conn:
        found = unfinished_import(conn, object_name, digest, actor.user_id) if resume else None
        if found is not None and (found["mapping"], _asked(found["options"])) != (
            plan.mapping,
            stored_options,
        ):
            found = None  # the same file asked differently is a new import
        if found is None:
            import_id = create_import(
                conn,
                object_name=object_name,
                path=str(path),
                digest=digest,
                mapping=plan.mapping,
                options=stored_options,
                actor_id=actor.user_id,
                now=loom.clock.now(),
            )
        else:
            import_id = found["id"]
    return _run(loom, import_id, plan, actor, progress)


def resume_import(
    loom: Loom, import_id: int, actor: Actor = SYSTEM, *, progress: Progress | None = None
) -> ImportReport:
    """Continue an import that stopped (a crash, a killed process) after its last committed batch."""
    with loom.read() as conn:
        row = get_import(conn, import_id)
    if row["status"] not in ("running", "failed"):
        raise ImportRefused([f"import {import_id} is {row['status']}; only an unfinished import resumes"])
    if not actor.is_system and actor.user_id != row["created_by"]:
        raise PermissionDenied(f"import {import_id} was started by someone else")
    path = Path(row["file_path"])
    if not path.exists():
        raise ImportRefused([f"{path} is gone; put the same file back to resume import {import_id}"])
    if file_digest(path) != row["file_digest"]:
        raise ImportRefused([f"{path} changed since import {import_id} started; it cannot resume"])
    stored = dict(row["options"])
    options = ImportOptions.from_json(stored, row["mapping"])
    plan = _plan(loom, row["object"], path, options, actor)
    if plan.header != stored.get("header"):
        raise ImportRefused([f"{path.name} no longer has the columns import {import_id} started with"])
    return _run(loom, import_id, plan, actor, progress)


def _run(loom: Loom, import_id: int, plan: _Plan, actor: Actor, progress: Progress | None) -> ImportReport:
    with loom.read() as conn:
        row = get_import(conn, import_id)
    path = Path(row["file_path"])
    object_name = row["object"]
    done, counts = row["rows_done"], Counts.from_json(row["counts"])
    estimate = max(estimate_rows(path), done) if progress else 0
    _catch_up(loom, plan.model)
    # The file's day orders are read when a date first needs them (kept by imports started before).
    orders = row["options"].get("date_orders")
    survey = None
    if orders is None and plan.options.date_order == "auto":
        survey = partial(_date_orders, loom, plan, path)
    state = _ImportState(_readers(loom, plan, dict(orders or {}), survey))
    batches = 0
    try:
        with open_rows(path) as (_, rows):
            for batch in _batches(plan, islice(rows, done, None), plan.options.batch_rows, state.readers):
                with loom.begin() as conn:
                    registry = loom.registry_for(conn)
                    model = registry.object(object_name)
                    # The lines of earlier batches' records are read back from the import's items:
                    # an import of any size holds only its batch in memory.
                    importer = BatchImporter(
                        loom, conn, registry, model, actor, plan.access, plan.options, import_id,
                        state.readers.lookups,
                    )  # fmt: skip
                    outcome = importer.run(batch)
                    done += len(batch)
                    counts.add(outcome.counts)
                    record_progress(conn, import_id, done, counts, loom.clock.now())
                batches += 1
                if batches & (batches - 1) == 0:  # after batch 1, 2, 4, 8…
                    _refresh_statistics(loom, plan.model, plan.options.key)
                if progress is not None:
                    progress(done, max(estimate, done))
    except BaseException as error:
        message = error.message if isinstance(error, LoomError) else f"{type(error).__name__}: {error}"
        with loom.begin() as conn:
            finish(conn, import_id, "failed", loom.clock.now(), message)
        raise
    with loom.begin() as conn:
        finish(conn, import_id, "done", loom.clock.now())
    return ImportReport(object_name, import_id, "done", done, counts, unmapped=plan.unmapped)


def _refresh_statistics(loom: Loom, model: ObjectModel, key: str | None) -> None:
    """PostgreSQL plans the duplicate and uniqueness lookups from table statistics, which autovacuum
    refreshes only a minute or so later: an import into a small table would otherwise go on
    scanning it sequentially as it grows. Analysing as the table doubles keeps the indexes in use.

    Only the columns those lookups read are sampled (the id, the unique fields and keys, the update
    key): the table's size is counted all the same, at a sixth of the cost of all forty columns.
    """
    if loom.db.dialect.name != "postgresql":
        return
    unique = (name for names in UniqueValues(model).keys for name in names)
    looked_up = dict.fromkeys(["id", *unique, *([key] if key else [])])
    with loom.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in looked_up)
        conn.exec_driver_sql(f"ANALYZE {quote(model.table.name)} ({columns})")
        conn.exec_driver_sql("ANALYZE loom_match_keys")


def import_report(loom: Loom, import_id: int) -> ImportReport:
    """The state of an import as stored: status, rows done and counts (its problems: `bad_rows_report`)."""
    with loom.read() as conn:
        row = get_import(conn, import_id)
    return ImportReport(
        row["object"], import_id, row["status"], row["rows_done"], Counts.from_json(row["counts"])
    )


def list_imports(
    loom: Loom, object_name: str | None = None, limit: int = 50, *, actor: Actor = SYSTEM
) -> list[dict[str, Any]]:
    """The newest imports first, optionally of one object: those `actor` may read (see `may_read_import`)."""
    with loom.read() as conn:
        rows = stored_imports(conn, object_name, limit)
    return [row for row in rows if may_read_import(loom, actor, row)]


def may_read_import(loom: Loom, actor: Actor, row: dict[str, Any]) -> bool:
    """An import's file, rows and problem report are its importer's and the administrators' alone:
    they hold whatever the file held, including rows the importer had no business showing others."""
    if actor.is_system:
        return True
    try:
        access = access_for(loom.registry, actor, row["object"])
    except LoomError:
        return False
    return access.allows("import") and (access.unrestricted or row["created_by"] == actor.user_id)


def previous_choices(loom: Loom, object_name: str, actor: Actor) -> dict[str, Any]:
    """The column mapping, value map and date order of `actor`'s newest import into the object.

    The wizard offers them as the defaults of the next import, so a team maps its words once.
    """
    found = next(
        (
            row
            for row in list_imports(loom, object_name, limit=20, actor=actor)
            if row["created_by"] == actor.user_id
        ),
        None,
    )
    if found is None:
        return {"mapping": {}, "values": {}, "date_order": "auto"}
    options = found["options"] or {}
    order = options.get("date_order")
    return {
        "mapping": {k: v for k, v in (found["mapping"] or {}).items() if isinstance(v, str)},
        "values": clean_value_map(options.get("values")),
        "date_order": order if order in DATE_ORDERS else "auto",
    }
