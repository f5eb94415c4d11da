"""The tables a backup holds, read with the engine's own column types, and made again on restore.

Loom's own tables (`loom_*`), one record table per object of the metadata, and the archive tables
of removed objects. Columns are taken from the live table, so archived columns (`zz_arch_<n>`) are
kept too; a column the engine defines is read and written with the engine's type, any other with
the type the database reports. Loom declares no foreign keys, so rows may load table by table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    Time,
    inspect,
    select,
)
from sqlalchemy.types import TypeEngine

from engine.backup.values import column_kind
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.schema.registry import Registry
from engine.schema.tables import ARCHIVE_PREFIX, build_table
from engine.store.system_tables import NAMING_CONVENTION, archived_columns, archived_tables, system_metadata
from metadata.specs import FieldSpec, ObjectSpec

SYSTEM, RECORD, ARCHIVE = "system", "record", "archive"
ROLE_ORDER = (SYSTEM, RECORD, ARCHIVE)  # the order rows are loaded in
LOOM_PREFIXES = ("loom_", "obj_", ARCHIVE_PREFIX)
READ_BATCH = 2000

# The type a column gets when neither the engine nor the archive lists say what it was.
_GENERIC: dict[str, TypeEngine[Any]] = {
    "integer": BigInteger(),
    "boolean": Boolean(),
    "decimal": Numeric(),
    "float": Float(),
    "datetime": DateTime(),
    "date": Date(),
    "time": Time(),
    "json": JSON(),
    "text": Text(),
    "binary": LargeBinary(),
}


@dataclass(frozen=True)
class HeldTable:
    """One table of a backup: what it is to Loom and its columns in the live order."""

    name: str
    role: str  # system, record, archive
    object: str | None
    table: Table

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(name, kind) of each column, as the manifest lists them."""
        return [(column.name, column_kind(column.type)) for column in self.table.columns]

    @property
    def key(self) -> list[Column[Any]]:
        return list(self.table.primary_key.columns) or list(self.table.columns)


def read_rows(
    conn: Connection, held: HeldTable, columns: Sequence[str] | None = None
) -> Iterator[Sequence[Any]]:
    """The table's rows (all columns, or those named, in that order) in key order, in batches."""
    selected = [held.table.c[name] for name in columns] if columns is not None else [held.table]
    query = select(*selected).order_by(*held.key).execution_options(yield_per=READ_BATCH)
    yield from conn.execute(query)


def held_tables(conn: Connection, registry: Registry) -> list[HeldTable]:
    """Every table of Loom's in this database, in load order: system, record, archive."""
    live = set(inspect(conn).get_table_names())
    held = [
        HeldTable(table.name, SYSTEM, None, live_table(conn, table.name, table))
        for table in system_metadata.sorted_tables
        if table.name in live
    ]
    for name, model in registry.objects.items():
        if model.table.name in live:
            held.append(
                HeldTable(model.table.name, RECORD, name, live_table(conn, model.table.name, model.table))
            )
    if archived_tables.name in live:
        rows = conn.execute(select(archived_tables.c.table_name, archived_tables.c.object)).all()
        for row in sorted(rows):
            if row.table_name in live:
                held.append(HeldTable(row.table_name, ARCHIVE, row.object, live_table(conn, row.table_name)))
    return held


def live_table(conn: Connection, name: str, known: Table | None = None) -> Table:
    """The table as it is in the database, with the engine's type for each column `known` defines."""
    inspector = inspect(conn)
    key = set(inspector.get_pk_constraint(name).get("constrained_columns") or ())
    columns = []
    for found in inspector.get_columns(name):
        column_name = found["name"]
        engine_column = known.c[column_name] if known is not None and column_name in known.c else None
        column_type = engine_column.type if engine_column is not None else found["type"]
        columns.append(Column(column_name, column_type, primary_key=column_name in key))
    return Table(name, MetaData(), *columns)


def loom_table_names(conn: Connection) -> list[str]:
    """The tables in this database that belong to Loom (by prefix)."""
    return sorted(name for name in inspect(conn).get_table_names() if name.startswith(LOOM_PREFIXES))


# -- making tables again on restore ------------------------------------------------------------------


def archive_column_types(conn: Connection, field_types: FieldTypeRegistry) -> dict[str, TypeEngine[Any]]:
    """Archived column name → the type its field had, from Loom's list of archived columns."""
    found: dict[str, TypeEngine[Any]] = {}
    for row in conn.execute(select(archived_columns.c.column_name, archived_columns.c.spec)):
        spec = FieldSpec.from_json(row.spec)
        if spec.type in field_types:
            found[row.column_name] = field_types.get(spec.type).column_type(spec)
    return found


def add_missing_columns(
    conn: Connection, name: str, columns: Sequence[tuple[str, str]], archived: Mapping[str, TypeEngine[Any]]
) -> None:
    """Add the backed-up columns a freshly made record table lacks: its archived columns."""
    live = {column["name"] for column in inspect(conn).get_columns(name)}
    ops = Operations(MigrationContext.configure(conn))
    for column_name, kind in columns:
        if column_name not in live:
            ops.add_column(
                name, Column(column_name, archived.get(column_name, _GENERIC[kind]), nullable=True)
            )


def create_archive_table(
    conn: Connection,
    name: str,
    columns: Sequence[tuple[str, str]],
    spec: Mapping[str, Any] | None,
    field_types: FieldTypeRegistry,
    archived: Mapping[str, TypeEngine[Any]],
) -> None:
    """Make an archive table again: the removed object's columns as the engine made them, no indexes
    (archiving drops them), and any other column with the type it was archived with."""
    known: dict[str, Column[Any]] = {}
    if spec is not None:
        try:
            built = build_table(ObjectSpec.from_json(spec), field_types, MetaData())
        except (KeyError, TypeError, ValueError):
            built = None  # a field type no longer installed: every column falls back to its kind
        known = {column.name: column for column in built.columns} if built is not None else {}
    made = []
    for column_name, kind in columns:
        engine_column = known.get(column_name)
        if engine_column is not None:
            made.append(
                Column(column_name, engine_column.type, primary_key=engine_column.primary_key, nullable=True)
            )
        else:
            made.append(Column(column_name, archived.get(column_name, _GENERIC[kind]), nullable=True))
    Table(name, MetaData(naming_convention=NAMING_CONVENTION), *made).create(conn)
