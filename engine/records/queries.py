"""Queries over records: filters in the expression language compiled to SQL, sort, keyset pages, counts.

A filter that cannot be expressed in SQL is refused (NotCompilable); there is no Python
fallback that would load the table.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    and_,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.sql.elements import False_, Null, True_

from engine.base.errors import ExpressionError, LoomError
from engine.expressions import SqlContext, condition_error, to_sql
from engine.expressions.kinds import SYSTEM_KINDS
from engine.identity.permissions import ObjectAccess, access_for, has_shares, scope_condition
from engine.records.acting import ActingService
from engine.records.page_statements import first_page_key, page_statements
from engine.records.service import shown
from engine.records.sql import name_resolver, rows_to_records, select_columns
from engine.schema.registry import ObjectModel, Registry
from engine.schema.tables import SYSTEM_COLUMNS

if TYPE_CHECKING:
    pass

MAX_PAGE = 500


class InvalidQuery(LoomError):
    code = "invalid_query"


@dataclass(frozen=True)
class Page:
    """One page of records and the cursor for the next (None on the last page)."""

    records: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool


def parse_sort(sort: str | Sequence[str] | None) -> list[SortKey]:
    """`"-amount,name"` or `["-amount", "name"]` → sort keys; `-` means descending."""
    parts = (sort.split(",") if isinstance(sort, str) else list(sort)) if sort else []
    keys = [SortKey(p.strip().lstrip("-+"), p.strip().startswith("-")) for p in parts if p.strip()]
    # Nothing but separators and spaces (`,`, ` `) asks for no particular order: the default one.
    return keys or [SortKey("created_at", True)]


class QueryService(ActingService):
    """Reads lists of records as one actor; every filter and sort runs in the database."""

    def find(
        self,
        object_name: str,
        *,
        filter: str | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
        include_deleted: bool = False,
        operation: str = "read",
    ) -> Page:
        """A page of records matching `filter`, ordered by `sort` then id, continuing after `cursor`.

        Only records in the actor's scope for `operation` ("read", or "export" for exports) are
        considered, and fields hidden from the actor are neither shown nor usable in filters or sorts.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidQuery(f"limit must be between 1 and {MAX_PAGE} (got {limit})")
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, operation)
            ectx, sctx = self._contexts()
            keys = parse_sort(sort)
            width = len(keys) + 1  # the sort keys, then the id
            after = decode_cursor(cursor, width) if cursor else None
            shares = not access.unrestricted and has_shares(conn, model, self.actor)
            shape = (tuple(keys), limit, include_deleted, shares)
            kept = page_statements(registry)
            key = None
            if after is None:
                sort_names = [k.name for k in keys if k.name not in SYSTEM_COLUMNS]
                key = first_page_key(model, registry, sctx, access, operation, filter, sort_names, shape)
            query = kept.get(key) if key is not None else None
            if query is None:
                query, order = self._page_query(
                    conn, model, registry, sctx, access, keys, filter, include_deleted, operation, shares
                )
                rows = _page_rows(conn, query, order, after, limit + 1)
                if key is not None:
                    kept.put(key, query.limit(page_limit(limit + 1)))
            else:
                rows = conn.execute(query).all()
            records = [shown(access, record) for record in rows_to_records(model, rows[:limit], ectx)]
            next_cursor = None
            if len(rows) > limit:
                last = rows[limit - 1]._mapping
                next_cursor = encode_cursor([last[f"sort__{i}"] for i in range(width)])
            return Page(records, next_cursor)

    def _page_query(
        self, conn, model, registry, sctx, access, keys, filter, include_deleted, operation, shares
    ) -> tuple[Any, list[tuple[ColumnElement, bool]]]:  # type: ignore[no-untyped-def]
        """The SELECT of the filtered, sorted records (no limit yet), and the order it sorts by."""
        resolve = visible_resolver(model, registry, sctx, access)
        order = [(self._sort_column(model, resolve, key, access), key.descending) for key in keys]
        # The id breaks ties in the last key's direction, so a one-key sort pages with a
        # row-value comparison that walks the key's index: page 10,000 costs what page 1 does.
        order.append((model.table.c.id, keys[-1].descending))
        sort_labels = [col.label(f"sort__{i}") for i, (col, _) in enumerate(order)]
        query = select(*select_columns(model, registry, sctx), *sort_labels)
        query = query.where(
            *self._conditions(conn, model, resolve, sctx, filter, include_deleted, access, operation, shares)
        )
        return query.order_by(*(col.desc() if desc else col.asc() for col, desc in order)), order

    def count(
        self,
        object_name: str,
        *,
        filter: str | None = None,
        include_deleted: bool = False,
        operation: str = "read",
    ) -> int:
        """How many records `find` with the same filter and operation ("read" or "export") would give."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, operation)
            _, sctx = self._contexts()
            resolve = visible_resolver(model, registry, sctx, access)
            query = select(func.count()).select_from(model.table)
            query = query.where(
                *self._conditions(conn, model, resolve, sctx, filter, include_deleted, access, operation)
            )
            return int(conn.execute(query).scalar_one())

    def group_totals(
        self, object_name: str, by: str, *, filter: str | None = None, sums: Sequence[str] = ()
    ) -> dict[Any, dict[str, Any]]:
        """Per value of `by`: how many records match `filter` and the sum of each of `sums`, in one query."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, "read")
            _, sctx = self._contexts()
            resolve = visible_resolver(model, registry, sctx, access)
            try:
                group = resolve(by)
                measured = [func.sum(resolve(name)) for name in sums]
            except ExpressionError as error:
                raise InvalidQuery(str(error)) from None
            query = select(group, func.count(), *measured).group_by(group)
            query = query.where(*self._conditions(conn, model, resolve, sctx, filter, False, access, "read"))
            return {
                row[0]: {"count": int(row[1]), "sums": dict(zip(sums, row[2:], strict=True))}
                for row in conn.execute(query)
            }

    def _access(self, registry: Registry, model: ObjectModel, operation: str) -> ObjectAccess:
        access = access_for(registry, self.actor, model.name)
        access.require(operation)
        return access

    def related(
        self, object_name: str, record_id: int, child_object: str, *, via: str | None = None, **options: Any
    ) -> Page:
        """Records of `child_object` whose lookup `via` points at this record (e.g. a customer's contacts)."""
        registry = self.loom.registry
        parent = registry.object(object_name)
        child = registry.object(child_object)
        via = via or _only_lookup(child, parent.name)
        condition = f"{via} == {int(record_id)}"
        if options.get("filter"):
            condition = f"({condition}) and ({options.pop('filter')})"
        return self.find(child_object, filter=condition, **options)

    def titles(self, object_name: str, ids: Sequence[int]) -> dict[int, str]:
        """Display titles of records by id (for lookup values), in one query."""
        with self._reading() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = self._access(registry, model, "read")
            title = model.spec.title_field
            shown_title = title and title in model.table.c and access.visible(title)
            column = model.table.c[title] if shown_title else model.table.c.id
            query = select(model.table.c.id, column).where(model.table.c.id.in_(list(ids)))
            if (scope := scope_condition(model, access, "read", self.actor)) is not None:
                query = query.where(scope)
            rows = conn.execute(query)
            return {row[0]: str(row[1]) if row[1] is not None else f"#{row[0]}" for row in rows}

    def _conditions(
        self, conn, model, resolve, sctx, filter, include_deleted, access, operation, shares=None
    ) -> list[ColumnElement]:  # type: ignore[no-untyped-def]
        conditions: list[ColumnElement] = []
        if not include_deleted:
            conditions.append(model.table.c.deleted_at.is_(None))
        if not access.unrestricted:
            if shares is None:
                shares = has_shares(conn, model, self.actor)
            if (scope := scope_condition(model, access, operation, self.actor, shares=shares)) is not None:
                conditions.append(scope)
        if filter:
            problem = condition_error(
                filter, visible_kinds(model, access, self.loom.registry_for(conn)), sctx.functions
            )
            if problem is not None:
                raise ExpressionError(problem)
            conditions.append(to_sql(filter, resolve, sctx, as_condition=True))
        return conditions

    def _sort_column(self, model: ObjectModel, resolve, key: SortKey, access: ObjectAccess) -> ColumnElement:  # type: ignore[no-untyped-def]
        if (key.name not in SYSTEM_COLUMNS and key.name not in model.fields) or not access.visible(key.name):
            raise InvalidQuery(f"cannot sort by {key.name!r}: {model.name} has no such field")
        try:
            column = resolve(key.name)
        except ExpressionError as error:
            raise InvalidQuery(f"cannot sort by {key.name!r}: {error}") from None
        if isinstance(column, True_ | False_ | Null):
            # A formula whose value is a constant: a bare `0` or `false` in ORDER BY would be read as
            # a column position (SQLite) or refused (PostgreSQL), so it goes as a bound value.
            return literal(None if isinstance(column, Null) else isinstance(column, True_), Boolean)
        return column


def visible_resolver(model: ObjectModel, registry: Registry, sctx: SqlContext, access: ObjectAccess):  # type: ignore[no-untyped-def]
    """Names as SQL, except fields hidden from the actor, which read as fields that do not exist."""
    resolve = name_resolver(model, registry, sctx)
    if not access.hidden:
        return resolve

    def visible(name: str) -> ColumnElement:
        if name in access.hidden:
            raise ExpressionError(f"{model.name} has no field {name!r}")
        return resolve(name)

    return visible


def visible_kinds(model: ObjectModel, access: ObjectAccess, registry: Registry) -> dict[str, str]:
    """The kind of value of each field the actor sees (hidden fields stay unknown, as to the resolver)."""
    specs = {name: other.spec for name, other in registry.objects.items()}
    kinds = {name: SYSTEM_KINDS.get(name, "any") for name in SYSTEM_COLUMNS}
    for name, spec in model.fields.items():
        kinds[name] = model.types[name].value_kind_for(spec, specs)
    return {name: kind for name, kind in kinds.items() if access.visible(name)}


def _only_lookup(child: ObjectModel, parent: str) -> str:
    lookups = [f.name for f in child.spec.fields if f.type == "lookup" and f.param("target") == parent]
    if len(lookups) != 1:
        raise InvalidQuery(
            f"say which lookup of {child.name} to follow to {parent} (found {lookups or 'none'})"
        )
    return lookups[0]


def _page_rows(
    conn: Connection,
    query: Any,
    order: list[tuple[ColumnElement, bool]],
    after: list[Any] | None,
    wanted: int,
) -> list[Any]:
    """Rows of the next page. A one-key sort reads its two segments (values, NULLs) separately."""
    if after is None:
        return conn.execute(query.limit(page_limit(wanted))).all()
    if len(order) != 2:
        return conn.execute(
            query.where(keyset_after(order, after, conn.dialect.name)).limit(page_limit(wanted))
        ).all()
    (column, descending), (id_column, _) = order
    value, last_id = after
    nulls_after = descending == (conn.dialect.name != "postgresql")
    if value is None:
        same = and_(column.is_(None), id_column < last_id if descending else id_column > last_id)
        rest = None if nulls_after else column.is_not(None)
    else:
        pair, bound = tuple_(column, id_column), tuple_(value, last_id)
        same = pair < bound if descending else pair > bound
        rest = column.is_(None) if nulls_after else None
    rows = conn.execute(query.where(same).limit(page_limit(wanted))).all()
    if len(rows) < wanted and rest is not None:
        rows += conn.execute(query.where(rest).limit(page_limit(wanted - len(rows)))).all()
    return rows


def page_limit(rows: int) -> ColumnElement:
    """A page's LIMIT written into the SQL: bound as a parameter, PostgreSQL plans the prepared
    statement for an unknown limit (a tenth of the table), finds that worse than planning it afresh,
    and so plans the page, roll-ups and all, on every request."""
    return literal_column(str(int(rows)))


def keyset_after(order: list[tuple[ColumnElement, bool]], values: list[Any], dialect: str) -> ColumnElement:
    """Rows strictly after `values` in `order`, honouring where each database sorts NULL.

    SQLite sorts NULL first in ascending order, PostgreSQL last; following the database's own
    order keeps the ORDER BY index-friendly.
    """
    nulls_small = dialect != "postgresql"
    alternatives = []
    for i, (column, descending) in enumerate(order):
        equal = [
            (c.is_(None) if v is None else c == v) for (c, _), v in zip(order[:i], values[:i], strict=True)
        ]
        value = values[i]
        larger_is_after = not descending
        null_after = (larger_is_after and not nulls_small) or (not larger_is_after and nulls_small)
        if value is None:
            step = column.is_not(None) if not null_after else false()
        else:
            beyond = column > value if larger_is_after else column < value
            step = or_(beyond, column.is_(None)) if null_after else beyond
        alternatives.append(and_(*equal, step) if equal else step)
    return or_(*alternatives) if alternatives else true()


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return {"$t": type(value).__name__, "v": value.isoformat()}
    return {"$t": "Decimal", "v": str(value)}


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=_json_default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    def revive(item: Any) -> Any:
        if isinstance(item, dict) and "$t" in item:
            kind = item["$t"]
            return {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "Decimal": Decimal}[kind](
                item["v"]
            )
        return item

    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise InvalidQuery("the cursor is not one this server produced") from None
    if not isinstance(values, list) or len(values) != length:
        raise InvalidQuery("the cursor does not match this sort order")
    return [revive(v) for v in values]
