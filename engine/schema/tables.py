"""Record tables as SQLAlchemy Core `Table`s built from object specs: system columns, fields, indexes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, Table

from engine.fieldtypes.registry import FieldTypeRegistry
from engine.store.system_tables import NAMING_CONVENTION, Id
from metadata.specs import FieldSpec, ObjectSpec

# Record key → column name for the columns every record table has.
SYSTEM_COLUMNS: dict[str, str] = {
    "id": "id",
    "owner": "owner_id",
    "created_at": "created_at",
    "created_by": "created_by",
    "updated_at": "updated_at",
    "updated_by": "updated_by",
    "version": "version",
    "deleted_at": "deleted_at",
}

ARCHIVE_PREFIX = "zz_arch_"


def system_columns() -> list[Column]:
    return [
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("created_at", DateTime, nullable=False),
        Column("created_by", BigInteger),
        Column("updated_at", DateTime, nullable=False),
        Column("updated_by", BigInteger),
        Column("owner_id", BigInteger),
        Column("version", Integer, nullable=False),
        Column("deleted_at", DateTime),
    ]


def field_column(field: FieldSpec, field_types: FieldTypeRegistry, name: str | None = None) -> Column:
    """The column that stores a field (nullable: `required` is enforced by the engine, not the table)."""
    return Column(name or field.name, field_types.get(field.type).column_type(field), nullable=True)


def index_name(table_name: str, columns: tuple[str, ...], unique: bool = False) -> str:
    prefix = "uq" if unique else "ix"
    return f"{prefix}_{table_name}_{'_'.join(columns)}"[:63]


def expected_indexes(
    obj: ObjectSpec, field_types: FieldTypeRegistry
) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Index name → (columns, unique) that the object's metadata asks for."""
    table = obj.table_name
    wanted: dict[str, tuple[tuple[str, ...], bool]] = {}

    def want(columns: tuple[str, ...], unique: bool = False) -> None:
        wanted[index_name(table, columns, unique)] = (columns, unique)

    # Lists page by (sort key, id) and a rep's list is scoped by owner: (owner_id, created_at, id)
    # serves "my records, newest first" without reading anyone else's rows, and owner lookups too.
    want(("owner_id", "created_at", "id"))
    want(("created_at", "id"))
    want(("updated_at", "id"))
    stored = {f.name: f for f in obj.fields if field_types.get(f.type).stored}
    for field in stored.values():
        ftype = field_types.get(field.type)
        if field.unique:
            want((field.name,), unique=True)
        elif field.indexed or ftype.indexed_by_default:
            want((field.name,))
    for name in obj.search_fields:
        if name in stored and not stored[name].unique:
            want((name,))
    for key in obj.unique_keys:
        want(tuple(key), unique=True)
    pool = obj.extra.get("pool")
    if pool and pool.get("flag", "in_pool") in stored:
        # Everyone with read access sees the pool, so the pool test is part of every scoped list.
        want((pool.get("flag", "in_pool"),))
    return _without_covered(wanted)


def _without_covered(
    wanted: dict[str, tuple[tuple[str, ...], bool]],
) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Drop a plain one-column index when another index starts with that column (a unique key on
    `code`, say): it would serve no query the other cannot, and every insert would pay for both."""
    leading = {columns[0] for name, (columns, unique) in wanted.items() if unique or len(columns) > 1}
    return {
        name: (columns, unique)
        for name, (columns, unique) in wanted.items()
        if unique or len(columns) > 1 or columns[0] not in leading
    }


def build_table(
    obj: ObjectSpec,
    field_types: FieldTypeRegistry,
    metadata: MetaData | None = None,
    *,
    sqlite_autoincrement: bool = False,
) -> Table:
    """A Core Table for an object, as schema sync creates it and as queries address it."""
    metadata = metadata if metadata is not None else MetaData(naming_convention=NAMING_CONVENTION)
    columns = system_columns()
    columns += [field_column(f, field_types) for f in obj.fields if field_types.get(f.type).stored]
    table = Table(obj.table_name, metadata, *columns, sqlite_autoincrement=sqlite_autoincrement)
    for name, (cols, unique) in expected_indexes(obj, field_types).items():
        Index(name, *(table.c[c] for c in cols), unique=unique)
    return table
