"""How records map to SQL: the selected columns (with rollups as subqueries) and the names expressions see."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, false, func, select

from engine.base.errors import ExpressionError, FieldValueError
from engine.expressions import EvalContext, SqlContext, evaluate, parse, to_sql
from engine.fieldtypes.base import FieldType
from engine.identity.permissions import access_for, scope_condition
from engine.schema.registry import ObjectModel, Registry
from engine.schema.tables import SYSTEM_COLUMNS
from metadata.specs import FieldSpec

# System fields an expression may read, besides the object's own fields.
SYSTEM_NAMES = ("id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version")

_AGGREGATES = {"count": func.count, "sum": func.sum, "min": func.min, "max": func.max, "avg": func.avg}


def name_resolver(model: ObjectModel, registry: Registry, sctx: SqlContext) -> Callable[[str], ColumnElement]:
    """Resolve an expression name to SQL: a column, a formula's own SQL, or a rollup subquery."""

    def resolve(name: str) -> ColumnElement:
        table = model.table
        if name in SYSTEM_COLUMNS:
            return table.c[SYSTEM_COLUMNS[name]]
        spec = model.fields.get(name)
        if spec is None:
            raise ExpressionError(f"{model.name} has no field {name!r}")
        if spec.type == "formula":
            return to_sql(spec.param("expression"), resolve, sctx)
        if spec.type == "rollup":
            return rollup_subquery(model, spec, registry, sctx)
        return table.c[name]

    return resolve


def rollup_subquery(
    model: ObjectModel, spec: FieldSpec, registry: Registry, sctx: SqlContext, *, empty: bool = False
) -> ColumnElement:
    """A correlated scalar subquery: computed on read, so it is never stale and needs no recalculation.

    `empty`: over no records at all, as for a record just made (which nothing can link to yet).
    """
    source = spec.param("source")
    child = registry.object(source["object"])
    function = source["function"]
    measured = child.table.c.id if function == "count" else child.table.c[source["field"]]
    linked = false() if empty else child.table.c[source["via"]] == model.table.c.id
    query = select(_AGGREGATES[function](measured)).where(linked, child.table.c.deleted_at.is_(None))
    if source.get("filter"):
        query = query.where(to_sql(source["filter"], name_resolver(child, registry, sctx), sctx))
    if source.get("scope") == "reader" and (scope := _readable(child, registry, sctx)) is not None:
        query = query.where(scope)
    aggregate = query.scalar_subquery()
    if function in ("count", "sum"):
        return func.coalesce(aggregate, 0)
    return aggregate


def _readable(child: ObjectModel, registry: Registry, sctx: SqlContext) -> ColumnElement | None:
    """The related records the reading actor may open: the very condition their lists use."""
    return scope_condition(child, access_for(registry, sctx.actor, child.name), "read", sctx.actor)


def select_columns(model: ObjectModel, registry: Registry, sctx: SqlContext) -> list[ColumnElement]:
    """Every stored column plus one labelled subquery per rollup field.

    Built once per object and registry (and reader, for reader-scoped roll-ups) when no roll-up
    reads the clock: compiling the roll-up filters is most of the cost of reading one record.
    """
    if not model.rollups:
        return list(model.table.c)
    key = _columns_key(model, registry, sctx)
    if key is not None and key in registry.select_cache:
        return list(registry.select_cache[key])  # type: ignore[call-overload]
    columns: list[ColumnElement] = list(model.table.c)
    columns += [
        rollup_subquery(model, spec, registry, sctx).label(f"rollup__{spec.name}") for spec in model.rollups
    ]
    if key is not None:
        registry.select_cache[key] = tuple(columns)
    return columns


def record_by_id(model: ObjectModel, registry: Registry, sctx: SqlContext, *, live: bool = True) -> Select:
    """The SELECT of one record by `:record_id` (`live`: not in the recycle bin).

    Built once per object and registry while its columns are fixed: a statement used again keeps
    the cache key SQLAlchemy would otherwise compute afresh by walking all its columns.
    """
    key = ("by_id", columns := columns_key(model, registry, sctx), live)
    if columns is not None and key in registry.select_cache:
        return registry.select_cache[key]  # type: ignore[return-value]
    table = model.table
    query = select(*select_columns(model, registry, sctx)).where(table.c.id == bindparam("record_id"))
    if live:
        query = query.where(table.c.deleted_at.is_(None))
    if columns is not None:
        registry.select_cache[key] = query
    return query


def columns_key(model: ObjectModel, registry: Registry, sctx: SqlContext) -> tuple | None:
    """What the object's columns for this read are built from; None when they must be built anew."""
    if not model.rollups:
        return (model.name, sctx.dialect)
    return _columns_key(model, registry, sctx)


def _columns_key(model: ObjectModel, registry: Registry, sctx: SqlContext) -> tuple | None:
    """The key the object's columns are kept under for this read; None when they must be built anew."""
    reuse_key = ("reuse", model.name)
    if reuse_key not in registry.select_cache:
        registry.select_cache[reuse_key] = _rollups_reuse(model, registry)
    reuse = registry.select_cache[reuse_key]
    if reuse == "never":
        return None
    key = ("columns", model.name, sctx.dialect, sctx.timezone)
    if reuse == "per_reader":
        actor = sctx.actor
        # Everything a scope condition reads of the actor; roles' grants come with the registry.
        key += (actor.user_id, actor.is_system, actor.roles, actor.department_id, actor.department_path)
    return key


def _rollups_reuse(model: ObjectModel, registry: Registry) -> str:
    """Whether the roll-ups compile to the same SQL at any moment: "always", "per_reader" or "never".

    A reader-scoped roll-up counts what each actor may open: the same SQL for the same reader.
    """
    seen: set[tuple[str, str]] = set()
    per_reader: list[FieldSpec] = []
    if not all(_rollup_fixed(spec, registry, seen, per_reader) for spec in model.rollups):
        return "never"
    return "per_reader" if per_reader else "always"


def expression_fixed(text: str, model: ObjectModel, registry: Registry) -> bool:
    """Whether an expression on `model` compiles to the same SQL at any moment (for one reader).

    Only a function call can read the clock or the actor (today(), user(), a plugin's function),
    so an expression is fixed when neither it nor any formula or roll-up it reads calls one.
    """
    return _fixed(text, model, registry, set(), [])


def _fixed(
    text: str, owner: ObjectModel, registry: Registry, seen: set[tuple[str, str]], per_reader: list[FieldSpec]
) -> bool:
    expression = parse(text)
    if expression.functions:
        return False
    for name in expression.names:
        spec = owner.fields.get(name)
        if spec is None or (owner.name, name) in seen:
            continue
        seen.add((owner.name, name))
        if spec.type == "formula" and not _fixed(spec.param("expression"), owner, registry, seen, per_reader):
            return False
        if spec.type == "rollup" and not _rollup_fixed(spec, registry, seen, per_reader):
            return False
    return True


def _rollup_fixed(
    spec: FieldSpec, registry: Registry, seen: set[tuple[str, str]], per_reader: list[FieldSpec]
) -> bool:
    source = spec.param("source")
    if source.get("scope") == "reader":
        per_reader.append(spec)
    if not source.get("filter"):
        return True
    return _fixed(source["filter"], registry.object(source["object"]), registry, seen, per_reader)


def row_to_record(model: ObjectModel, row: Row, ectx: EvalContext) -> dict[str, Any]:
    """A database row as the engine's record: system fields, stored values, rollups, then formulas."""
    return _record_from(_plan(model, row._fields), model, row, ectx)


def rows_to_records(model: ObjectModel, rows: Sequence[Row], ectx: EvalContext) -> list[dict[str, Any]]:
    """`row_to_record` of each of the rows of one result, its columns looked at once."""
    if not rows:
        return []
    plan = _plan(model, rows[0]._fields)
    return [_record_from(plan, model, row, ectx) for row in rows]


def inserted_record(
    conn: Connection, model: ObjectModel, registry: Registry, sctx: SqlContext, row: Row, ectx: EvalContext
) -> dict[str, Any]:
    """A record from the row its INSERT returned, as reading it back would give it: its roll-ups,
    over no records yet, read once per registry with the database's own types (a sum of decimals
    is 0 on SQLite, Decimal 0 on PostgreSQL)."""
    key = ("empty_rollups", model.name, sctx.dialect)
    empty: Any = registry.select_cache.get(key)
    if empty is None:
        columns = [
            rollup_subquery(model, spec, registry, sctx, empty=True).label(f"rollup__{spec.name}")
            for spec in model.rollups
        ]
        empty = registry.select_cache[key] = conn.execute(select(*columns)).one() if columns else ()
    fields = row._fields + (empty._fields if empty else ())
    return _record_from(_plan(model, fields), model, (*row, *empty), ectx)


def _plan(model: ObjectModel, fields: tuple[str, ...]) -> RowPlan:
    plans = model.derive("row_plans", _no_plans)
    plan = plans.get(fields)
    if plan is None:
        plan = plans[fields] = _row_plan(model, fields)
    return plan


def _record_from(plan: RowPlan, model: ObjectModel, row: Sequence[Any], ectx: EvalContext) -> dict[str, Any]:
    record = dict(zip(plan.keys, plan.take(row), strict=True))
    for key, index, convert in plan.converted:
        value = row[index]
        if value is not None:  # NULL reads as None in every type
            record[key] = convert(value)
    for spec in model.formulas:
        record[spec.name] = formula_value(model, spec, record, ectx)
    return record


class RowPlan(NamedTuple):
    """How to read a row with given columns, worked out once per statement shape rather than per row.

    Every value is taken as the driver gives it in one pass (positions, not a lookup by name for each
    of forty columns of fifty rows); then the few whose type converts on reading are converted.
    """

    keys: tuple[str, ...]
    take: Callable[[Sequence[Any]], tuple[Any, ...]]
    converted: tuple[tuple[str, int, Callable[[Any], Any]], ...]


def _no_plans(_model: ObjectModel) -> dict[tuple[str, ...], RowPlan]:
    return {}


def _row_plan(model: ObjectModel, columns: tuple[str, ...]) -> RowPlan:
    position = {name: index for index, name in reversed(list(enumerate(columns)))}
    read = [(key, position[column]) for key, column in SYSTEM_COLUMNS.items()]
    read += [(spec.name, position[spec.name]) for spec in model.stored]
    read += [(spec.name, position[f"rollup__{spec.name}"]) for spec in model.rollups]
    converted = []
    for key, index in read:
        convert = _reader(model, model.fields[key]) if key in model.fields else None
        if convert is not None:
            converted.append((key, index, convert))
    keys, indexes = zip(*read, strict=True)
    return RowPlan(keys, itemgetter(*indexes), tuple(converted))


def _reader(model: ObjectModel, spec: FieldSpec) -> Callable[[Any], Any] | None:
    """The type's conversion of a value read from the database; None where it keeps the driver's."""
    field_type = model.types[spec.name]
    if type(field_type).from_db is FieldType.from_db:
        return None
    return partial(field_type.from_db, field=spec)


def formula_value(model: ObjectModel, spec: FieldSpec, record: dict[str, Any], ectx: EvalContext) -> Any:
    """Evaluate a formula and shape it as its result type (a currency formula rounds to cents).

    A formula that cannot be computed from this record's data reads as empty rather than failing
    the whole read; the static checks at metadata time catch formulas that can never work.
    """
    try:
        value = evaluate(spec.param("expression"), record, ectx)
        if spec.param("result") == "integer" and isinstance(value, Decimal | float):
            value = Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP)
        return model.types[spec.name].result_type(spec).coerce(value, spec, "json")
    except (ExpressionError, FieldValueError):
        return None
