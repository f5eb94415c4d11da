"""Running reports: groups and measures computed by the database, within the reader's record scope.

A report runs only for those it is shared with (engine/records/report_access.py; to anyone else it
is unknown) and reads only what its reader may read: their record scope limits the rows, and a report
that groups or measures a field hidden from them is refused (PermissionDenied) rather than run
without that column, so nobody mistakes a narrower report for the real one. Select groups come
in option order (a funnel reads stage by stage), time buckets in time order, each with a label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as spec_field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection, Select

from engine.base.actors import Actor
from engine.base.clock import business_date
from engine.base.errors import ExpressionError, LoomError, UnknownReport
from engine.expressions import SqlContext, condition_error, to_sql
from engine.expressions.sql_dates import business_date_of, within_dates
from engine.fieldtypes.numbers import DecimalType, IntegerType
from engine.identity.permissions import (
    ObjectAccess,
    PermissionDenied,
    access_for,
    has_shares,
    scope_condition,
)
from engine.records.queries import visible_kinds, visible_resolver
from engine.records.report_access import shared_with
from engine.records.report_parameters import (
    Period,
    bucket_period,
    parameter_values,
    period_expression,
    period_of,
    user_ids,
    users_expression,
)
from engine.records.sql import name_resolver
from engine.schema.registry import ObjectModel, Registry
from engine.store.system_tables import users
from metadata.frozen import Label
from metadata.reports import PREVIOUS_SUFFIX, SYSTEM_REPORT_FIELDS, GroupBy, Measure, ReportSpec
from metadata.specs import FieldSpec

if TYPE_CHECKING:
    from engine.loom import Loom

EMPTY_LABEL: Label = MappingProxyType({"zh_CN": "（空）", "en": "(empty)"})
BOOLEAN_LABELS: Mapping[bool, Label] = MappingProxyType(
    {
        True: MappingProxyType({"zh_CN": "是", "en": "Yes"}),
        False: MappingProxyType({"zh_CN": "否", "en": "No"}),
    }
)
_AVERAGE_SCALE = 2  # an average of whole numbers is shown to two decimals
REACHED_LABEL: Label = MappingProxyType({"zh_CN": "到达数", "en": "Reached"})
CONVERSION_LABEL: Label = MappingProxyType({"zh_CN": "转化率", "en": "Conversion"})
COHORT_LABEL: Label = MappingProxyType({"zh_CN": "首次期间", "en": "Cohort"})
PERIOD_LABEL: Label = MappingProxyType({"zh_CN": "之后第几期", "en": "Periods later"})
COUNTED_LABEL: Label = MappingProxyType({"zh_CN": "数量", "en": "Count"})
RETENTION_LABEL: Label = MappingProxyType({"zh_CN": "留存率", "en": "Retention"})


@dataclass(frozen=True)
class ReportColumn:
    """One column of a result: a group (with a label for each value found) or a measure."""

    name: str
    role: Literal["group", "measure"]
    label: Label
    field: str | None = None
    bucket: str | None = None
    function: str | None = None
    value_labels: Mapping[Any, Label] = spec_field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ReportResult:
    """A report's rows, each a mapping of column name to value, in the report's order.

    `filters[i]` is the condition (expression language) selecting the records counted in row i,
    for the list API's `filter`; None for a group that no condition can name (a bare datetime).
    """

    report: ReportSpec
    columns: tuple[ReportColumn, ...]
    rows: tuple[Mapping[str, Any], ...]
    filters: tuple[str | None, ...] = ()
    parameters: Mapping[str, str] = spec_field(default_factory=lambda: MappingProxyType({}))
    period: Period | None = None
    previous: Period | None = None
    across: tuple[Any, ...] = ()  # with two groups: the second group's values, in order

    def column(self, name: str) -> ReportColumn:
        return next(column for column in self.columns if column.name == name)

    def pivot(self) -> Pivot | None:
        """A report of two groups as a cross table: the first group down, the second across."""
        groups = [column.name for column in self.columns if column.role == "group"]
        if len(groups) != 2:
            return None
        down, across = groups
        rows = list(dict.fromkeys(row[down] for row in self.rows))
        columns = self.across
        cells: dict[tuple[Any, Any], int] = {}
        for index, row in enumerate(self.rows):
            cells[(row[down], row[across])] = index
        return Pivot(down, across, tuple(rows), columns, MappingProxyType(cells))

    def label(self, column: str, value: Any, locale: str = "zh_CN") -> str:
        """How a group value reads in a locale: an option's label, a record's title, a period."""
        labels = self.column(column).value_labels.get(value)
        if labels is None:
            return "" if value is None else str(value)
        return labels.get(locale) or labels.get("en") or next(iter(labels.values()), str(value))


@dataclass(frozen=True)
class Pivot:
    """A two-group result as a cross table: `cells[(row value, column value)]` is the index of the
    result row (its measures and its drill-down filter); a missing pair had no records."""

    down: str
    across: str
    rows: tuple[Any, ...]
    columns: tuple[Any, ...]
    cells: Mapping[tuple[Any, Any], int]


def _across_order(model: ObjectModel, group: GroupBy, values: list[Any]) -> tuple[Any, ...]:
    """The second group's values in their natural order: a select's option order, else by value;
    empty last (as the query orders each first group's rows)."""
    found = list(dict.fromkeys(values))
    present = [value for value in found if value is not None]
    spec = report_field_spec(model, group.field)
    if spec.type == "select" and group.bucket is None:
        rank = {option["value"]: i for i, option in enumerate(spec.param("options", ()))}
        present.sort(key=lambda value: (rank.get(value, len(rank)), str(value)))
    else:
        present.sort(key=lambda value: (str(type(value)), value))
    return tuple(present) + ((None,) if None in found else ())


def readable_reports(registry: Registry, actor: Actor) -> list[ReportSpec]:
    """The reports, by name, shared with the actor over an object they may read (the only ones they
    may run)."""
    found = []
    for name in sorted(registry.reports()):
        try:
            spec = registry.report(name)
        except UnknownReport:
            continue
        if not shared_with(registry, actor, spec) or spec.object not in registry.objects:
            continue
        if access_for(registry, actor, spec.object).allows("read"):
            found.append(spec)
    return found


def run_report(
    loom: Loom,
    report: ReportSpec | str,
    actor: Actor,
    *,
    filter: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> ReportResult:
    """Run a report (or the stored report of that name) as `actor`; `filter` narrows it further,
    `parameters` give values to its parameters (the others take their defaults). A report not
    shared with the actor is an UnknownReport, as if there were none."""
    with loom.read() as conn:
        registry = loom.registry_for(conn)
        spec = registry.report(report) if isinstance(report, str) else report
        if not shared_with(registry, actor, spec):
            raise UnknownReport(spec.name)
        model = registry.object(spec.object)
        access = access_for(registry, actor, model.name)
        access.require("read")
        _refuse_hidden(spec, access)
        values = parameter_values(spec, parameters or {})
        _, sctx = loom.contexts(actor)
        resolve = visible_resolver(model, registry, sctx, access)
        conditions = [model.table.c.deleted_at.is_(None)]
        if not access.unrestricted:
            shares = has_shares(conn, model, actor)
            if (scope := scope_condition(model, access, "read", actor, shares=shares)) is not None:
                conditions.append(scope)
        if filter:
            # Checked as the API checks a filter: a condition, with no part that always fails.
            problem = condition_error(filter, visible_kinds(model, access, registry), sctx.functions)
            if problem is not None:
                raise ExpressionError(problem)
            conditions.append(to_sql(filter, resolve, sctx, as_condition=True))
        today = business_date(sctx.now, sctx.timezone)
        narrowed = _Narrowing(spec, values, today)
        texts = [f"({text})" for text in (spec.filter, filter) if text]
        others: list[ColumnElement] = []
        for parameter in spec.parameters:
            value = values.get(parameter.name)
            if value is None or parameter.kind == "period":
                continue
            ids = user_ids(conn, parameter, value, actor)
            others.append(resolve(parameter.field).in_(ids) if ids else sa.false())
            texts.append(users_expression(parameter.field, ids))
        if narrowed.period is not None and narrowed.parameter is not None:
            texts.append(f"({period_expression(narrowed.parameter.field, narrowed.period)})")
        periods = narrowed.conditions(resolve, sctx)
        try:
            if spec.filter:
                conditions.append(to_sql(spec.filter, resolve, sctx, as_condition=True))
            if spec.cohort is not None:
                query = cohort_query(spec, model, resolve, sctx, [*conditions, *others, *periods])
            else:
                query = report_query(spec, model, resolve, sctx, [*conditions, *others, *periods])
        except ExpressionError as error:
            # The report's expressions were checked when it was installed: what fails now is a
            # name hidden from this reader.
            raise PermissionDenied(
                f"the report {spec.name!r} reads a field you may not see: {error}"
            ) from None
        if spec.cohort is not None:
            rows = _cohort_rows(spec, conn.execute(query))
            columns = _cohort_columns(spec, rows)
            return ReportResult(
                spec,
                columns,
                tuple(MappingProxyType(row) for row in rows),
                (None,) * len(rows),  # a cell counts customers by their first order: no filter names it
                MappingProxyType(values),
                narrowed.period,
                across=tuple(sorted({row["period"] for row in rows})),
            )
        rows = [_row(spec, model, row) for row in conn.execute(query)]
        if spec.compare is not None and narrowed.previous is not None:
            before = narrowed.conditions(resolve, sctx, previous=True)
            earlier = [
                _row(spec, model, row)
                for row in conn.execute(
                    report_query(spec, model, resolve, sctx, [*conditions, *others, *before])
                )
            ]
            _add_previous(spec, rows, earlier)
        if spec.is_funnel:
            _add_conversion(spec, rows)
        columns = _columns(loom, conn, spec, model, actor, rows)
        filters = tuple(_row_filter(spec, model, row, texts) for row in rows)
        across = ()
        if len(spec.group_by) == 2:
            second = spec.group_by[1]
            across = _across_order(model, second, [row[second.column] for row in rows])
        return ReportResult(
            spec,
            columns,
            tuple(MappingProxyType(row) for row in rows),
            filters,
            MappingProxyType(values),
            narrowed.period,
            narrowed.previous if spec.compare else None,
            across,
        )


class _Narrowing:
    """The period a report is narrowed to (its first period parameter's value), and the one before."""

    def __init__(self, spec: ReportSpec, values: Mapping[str, str], today: dt.date) -> None:
        self.periods = [
            (p, period_of(values[p.name], today))
            for p in spec.parameters
            if p.kind == "period" and p.name in values
        ]
        self.parameter, self.period = self.periods[0] if self.periods else (None, None)
        self.previous = self.period.previous() if self.period is not None else None

    def conditions(self, resolve: Any, sctx: SqlContext, *, previous: bool = False) -> list[ColumnElement]:
        found = []
        for index, (parameter, period) in enumerate(self.periods):
            if previous and index == 0 and self.previous is not None:
                period = self.previous
            found.append(within_dates(resolve(parameter.field), period.first, period.last, sctx))
        return found


def _add_previous(spec: ReportSpec, rows: list[dict[str, Any]], earlier: list[dict[str, Any]]) -> None:
    """Each measure of the period before, on the row with the same groups (0 or empty when none)."""
    keys = [group.column for group in spec.group_by]
    before = {tuple(row[key] for key in keys): row for row in earlier}
    for row in rows:
        match = before.get(tuple(row[key] for key in keys))
        for measure in spec.measures:
            empty = 0 if measure.function in ("count", "count_distinct") else None
            row[measure.column + PREVIOUS_SUFFIX] = match[measure.column] if match else empty


def _add_conversion(spec: ReportSpec, rows: list[dict[str, Any]]) -> None:
    """Reached: the records at this row's stage or a later one; conversion: reached over the row before's."""
    count = next(m.column for m in spec.measures if m.function == "count")
    remaining = sum(row[count] for row in rows)
    before: int | None = None
    for row in rows:
        row["reached"] = remaining
        row["conversion"] = (
            None
            if not before
            else (Decimal(remaining) / Decimal(before)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        )
        before = remaining
        remaining -= row[count]


def _row_filter(spec: ReportSpec, model: ObjectModel, row: Mapping[str, Any], texts: list[str]) -> str | None:
    parts = list(texts)
    for group in spec.group_by:
        value = row[group.column]
        field_type = report_field_spec(model, group.field).type
        if value is None:
            parts.append(f"isblank({group.field})")
        elif group.bucket is not None:
            parts.append(f"({period_expression(group.field, bucket_period(value, group.bucket))})")
        elif field_type == "date":
            parts.append(period_expression(group.field, Period(value, value)))
        elif isinstance(value, dt.datetime):
            return None
        elif isinstance(value, bool):
            parts.append(group.field if value else f"not {group.field}")
        else:
            literal = repr(value) if isinstance(value, str | int) else str(value)
            parts.append(f"{group.field} == {literal}")
    return " and ".join(parts) if parts else None


def report_field_spec(model: ObjectModel, name: str) -> FieldSpec:
    """The field's spec, or the system column's (owner, created_at, …) as a report sees it."""
    return model.fields.get(name) or SYSTEM_REPORT_FIELDS[name]


def _refuse_hidden(spec: ReportSpec, access: ObjectAccess) -> None:
    used = [group.field for group in spec.group_by] + [m.field for m in spec.measures if m.field]
    used += [parameter.field for parameter in spec.parameters]
    if spec.cohort is not None:
        used += [spec.cohort.by, spec.cohort.date]
    for name in used:
        if not access.visible(name):
            raise PermissionDenied(
                f"the report {spec.name!r} uses {spec.object}.{name}, which you may not see"
            )


def report_query(
    spec: ReportSpec, model: ObjectModel, resolve: Any, sctx: SqlContext, conditions: list[ColumnElement]
) -> Select:
    """The report as one query: an inner select of each row's group keys and measured values,
    grouped outside, so an expression key (a time bucket) is written once on both databases."""
    keys = [group_sql(group, model, resolve, sctx).label(f"g{i}") for i, group in enumerate(spec.group_by)]
    measured = [
        value.label(f"m{i}")
        for i, measure in enumerate(spec.measures)
        if (value := measured_value(measure, resolve, sctx)) is not None
    ]
    inner = sa.select(*keys, *measured, model.table.c.id).where(*conditions).subquery("report_rows")
    groups = [inner.c[f"g{i}"] for i in range(len(keys))]
    plain = {m.column: _aggregate(m, inner, i) for i, m in enumerate(spec.measures) if not m.is_ratio}
    aggregates = [
        (_ratio(plain[m.of], plain[m.to]) if m.is_ratio else plain[m.column]).label(f"m{i}")  # type: ignore[index]
        for i, m in enumerate(spec.measures)
    ]
    query = sa.select(*groups, *aggregates)
    if groups:
        query = query.group_by(*groups)
    by_column = dict(zip(spec.computed_columns, [*groups, *aggregates], strict=True))
    order: list[ColumnElement] = []
    for key in spec.sort:
        column = by_column[key.removeprefix("-")]
        order.append(column.desc() if key.startswith("-") else column.asc())
    for group, column in zip(spec.group_by, groups, strict=True):
        order += _natural_order(model, group, column)
    if order:
        query = query.order_by(*order)
    return query.limit(spec.limit) if spec.limit else query


def cohort_query(
    spec: ReportSpec, model: ObjectModel, resolve: Any, sctx: SqlContext, conditions: list[ColumnElement]
) -> Select:
    """Cohort retention as one query: each record's follower and date bucket, each follower's first
    bucket, and the distinct followers per first bucket and number of buckets since."""
    cohort = spec.cohort
    assert cohort is not None
    who = resolve(cohort.by)
    bucket = group_sql(GroupBy(cohort.date, cohort.bucket), model, resolve, sctx)
    present = [who.is_not(None), resolve(cohort.date).is_not(None)]
    rows = sa.select(who.label("who"), bucket.label("b")).where(*conditions, *present).subquery("cohort_rows")
    first = (
        sa.select(rows.c.who, sa.func.min(rows.c.b).label("c")).group_by(rows.c.who).subquery("cohort_first")
    )
    step = {"month": 1, "quarter": 3, "year": 12}[cohort.bucket]
    since = _months(rows.c.b, sctx) - _months(first.c.c, sctx)
    if step > 1:  # buckets start on whole quarters and years, so this divides exactly
        since = since // step
    return (
        sa.select(first.c.c, since.label("period"), sa.func.count(sa.distinct(rows.c.who)))
        .select_from(rows.join(first, rows.c.who == first.c.who))
        .where(since <= cohort.periods)
        .group_by(first.c.c, since)
        .order_by(first.c.c, since)
    )


def _months(day: Any, sctx: SqlContext) -> ColumnElement:
    """A date as a count of months (year × 12 + month), so buckets subtract on both databases."""
    if sctx.dialect == "postgresql":
        year, month = sa.extract("year", day), sa.extract("month", day)
    else:
        year, month = sa.func.strftime("%Y", day), sa.func.strftime("%m", day)
    return sa.cast(year, sa.Integer) * 12 + sa.cast(month, sa.Integer)


def _cohort_rows(spec: ReportSpec, found: Any) -> list[dict[str, Any]]:
    """Each cohort's row per period, with the share of the cohort (its period 0) that came back."""
    column = spec.measures[0].column
    rows: list[dict[str, Any]] = []
    size: dict[dt.date, int] = {}
    for first, period, count in found:
        start = _date(first)
        period, count = int(period), int(count)
        if period == 0:
            size[start] = count
        whole = size.get(start)
        share = Decimal(count) / Decimal(whole) if whole else None
        rows.append(
            {
                "cohort": start,
                "period": period,
                column: count,
                "retention": None if share is None else share.quantize(Decimal("0.0001"), ROUND_HALF_UP),
            }
        )
    return rows


def _cohort_columns(spec: ReportSpec, rows: list[dict[str, Any]]) -> tuple[ReportColumn, ...]:
    cohort = spec.cohort
    assert cohort is not None
    starts = {row["cohort"] for row in rows}
    periods = {row["period"] for row in rows}
    measure = spec.measures[0]
    later = {n: MappingProxyType({"zh_CN": f"第{n}期", "en": f"+{n}"}) for n in periods}
    return (
        ReportColumn(
            "cohort", "group", COHORT_LABEL, field=cohort.date, bucket=cohort.bucket,
            value_labels=MappingProxyType({start: period_label(start, cohort.bucket) for start in starts}),
        ),
        ReportColumn(
            "period", "group", PERIOD_LABEL,
            value_labels=MappingProxyType(later),
        ),
        ReportColumn(measure.column, "measure", measure.label or COUNTED_LABEL, field=measure.field,
                     function=measure.function),
        ReportColumn("retention", "measure", RETENTION_LABEL, function="ratio"),
    )  # fmt: skip


def group_sql(group: GroupBy, model: ObjectModel, resolve: Any, sctx: SqlContext) -> ColumnElement:
    """A group's key: the field's value, or the first day of its time bucket as a business date."""
    value = resolve(group.field)
    if group.bucket is None:
        return value
    day = business_date_of(sctx, value)
    if group.bucket == "day":
        return day
    if sctx.dialect == "postgresql":
        # date_trunc on a timestamp without zone: the bucket of the business date, whatever the session zone.
        return sa.cast(sa.func.date_trunc(sa.literal(group.bucket), sa.cast(day, sa.DateTime)), sa.Date)
    modifiers = {
        "week": ["weekday 0", "-6 days"],  # to the Sunday ending the week, then back to its Monday
        "month": ["start of month"],
        "year": ["start of year"],
    }.get(group.bucket)
    if modifiers is None:  # quarter: the month's start, moved back to the quarter's first month
        month = sa.cast(sa.func.strftime(sa.literal("%m"), day), sa.Integer)
        back = sa.func.printf(sa.literal("-%d months"), (month - 1) % 3)
        return sa.func.date(day, sa.literal("start of month"), back, type_=sa.Date)
    return sa.func.date(day, *(sa.literal(m) for m in modifiers), type_=sa.Date)


def measured_value(measure: Measure, resolve: Any, sctx: SqlContext) -> ColumnElement | None:
    """What a measure reads from each record: its field or expression (or 1 for a filtered count),
    empty for a record its filter leaves out; None for a plain count or a ratio."""
    if measure.is_ratio:
        return None
    if measure.expression is not None:
        value = to_sql(measure.expression, resolve, sctx)
    elif measure.field is not None:
        value = resolve(measure.field)
    elif measure.filter is not None:
        value = sa.literal(1, sa.Integer)
    else:
        return None
    if not isinstance(value, ColumnElement):  # an expression that folded to a constant
        value = sa.literal(value)
    if measure.filter is None:
        return value
    return sa.case((to_sql(measure.filter, resolve, sctx, as_condition=True), value), else_=sa.null())


def _ratio(part: ColumnElement, whole: ColumnElement) -> ColumnElement:
    # As a float: SQLite divides integers as integers. Rounded to four places when read.
    return sa.cast(part, sa.Float) / sa.func.nullif(whole, 0)


def _aggregate(measure: Measure, inner: Any, index: int) -> ColumnElement:
    if measure.function == "count" and measure.filter is not None:
        return sa.func.count(inner.c[f"m{index}"])
    if measure.function == "count":
        return sa.func.count(inner.c.id)
    if measure.function == "count_distinct":
        return sa.func.count(sa.distinct(inner.c[f"m{index}"]))
    return getattr(sa.func, measure.function)(inner.c[f"m{index}"])


def _natural_order(model: ObjectModel, group: GroupBy, column: ColumnElement) -> list[ColumnElement]:
    """Empty values last; a select's values in option order, anything else by value."""
    spec = report_field_spec(model, group.field)
    order = [column.is_(None).asc()]
    options = [option["value"] for option in spec.param("options", ())] if spec.type == "select" else []
    if options and group.bucket is None:
        order.append(
            sa.case({value: rank for rank, value in enumerate(options)}, value=column, else_=len(options))
        )
    return [*order, column.asc()]


def _row(spec: ReportSpec, model: ObjectModel, row: Any) -> dict[str, Any]:
    values = list(row)
    found: dict[str, Any] = {}
    for i, group in enumerate(spec.group_by):
        found[group.column] = _date(values[i]) if group.bucket else values[i]
    offset = len(spec.group_by)
    for j, measure in enumerate(spec.measures):
        found[measure.column] = _measure_value(model, measure, values[offset + j])
    return found


def _date(value: Any) -> Any:
    if isinstance(value, str):  # SQLite hands back a computed date as text
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _measure_value(model: ObjectModel, measure: Measure, value: Any) -> Any:
    """Counts as int; sums and averages of numbers as Decimal (whole numbers stay int where exact)."""
    if measure.function in ("count", "count_distinct"):
        return int(value or 0)
    if value is None:
        return value
    if measure.is_ratio:
        return Decimal(str(value)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    if measure.field is None:  # an expression: whole numbers stay whole, others get two decimals
        if (isinstance(value, float | Decimal) and value != int(value)) or measure.function == "avg":
            return Decimal(str(value)).quantize(Decimal(1).scaleb(-_AVERAGE_SCALE), ROUND_HALF_UP)
        return int(value) if isinstance(value, float | Decimal) else value
    if measure.field not in model.fields:  # a system column: a user's id or a moment
        return value
    ftype = model.types[measure.field]
    spec = model.fields[measure.field]
    if spec.type == "formula":
        ftype = ftype.result_type(spec)  # type: ignore[attr-defined]
    if isinstance(ftype, IntegerType) and measure.function != "avg":
        return int(value)
    if isinstance(ftype, DecimalType):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-ftype.scale(spec)), ROUND_HALF_UP)
    if isinstance(ftype, IntegerType) or isinstance(value, float | Decimal):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-_AVERAGE_SCALE), ROUND_HALF_UP)
    return _date(value) if spec.type == "date" else value


def _columns(
    loom: Loom, conn: Connection, spec: ReportSpec, model: ObjectModel, actor: Actor, rows: list[dict]
) -> tuple[ReportColumn, ...]:
    columns = []
    for group in spec.group_by:
        field_spec = report_field_spec(model, group.field)
        found = {row[group.column] for row in rows}
        columns.append(
            ReportColumn(
                group.column,
                "group",
                field_spec.label,
                field=group.field,
                bucket=group.bucket,
                value_labels=MappingProxyType(_value_labels(loom, conn, model, group, found, actor)),
            )
        )
    for measure in spec.measures:
        label = measure.label or _measure_label(model, measure)
        columns.append(
            ReportColumn(measure.column, "measure", label, field=measure.field, function=measure.function)
        )
    if spec.is_funnel:
        columns.append(ReportColumn("reached", "measure", REACHED_LABEL, function="count"))
        columns.append(ReportColumn("conversion", "measure", CONVERSION_LABEL))
    if spec.compare is not None:
        for measure in spec.measures:
            label = measure.label or _measure_label(model, measure)
            previous = MappingProxyType(
                {"zh_CN": f"{label.get('zh_CN', measure.column)}（上期）",
                 "en": f"{label.get('en', measure.column)} (previous period)"}
            )  # fmt: skip
            columns.append(
                ReportColumn(
                    measure.column + PREVIOUS_SUFFIX,
                    "measure",
                    previous,
                    field=measure.field,
                    function=measure.function,
                )
            )
    return tuple(columns)


def _measure_label(model: ObjectModel, measure: Measure) -> Label:
    words = {
        "count": ("数量", "Count"),
        "count_distinct": ("去重数", "Distinct"),
        "sum": ("合计", "Total"),
        "avg": ("平均", "Average"),
        "min": ("最小", "Minimum"),
        "max": ("最大", "Maximum"),
        "ratio": ("比率", "Ratio"),
    }[measure.function]
    if measure.field is None:
        return MappingProxyType({"zh_CN": words[0], "en": words[1]})
    name = report_field_spec(model, measure.field).label
    zh, en = name.get("zh_CN", measure.field), name.get("en", measure.field)
    return MappingProxyType({"zh_CN": f"{zh}{words[0]}", "en": f"{words[1]} {en.lower()}"})


def _value_labels(
    loom: Loom, conn: Connection, model: ObjectModel, group: GroupBy, found: set[Any], actor: Actor
) -> dict[Any, Label]:
    """A label for every value found: option labels, yes/no, user names, record titles, periods."""
    spec = report_field_spec(model, group.field)
    labels: dict[Any, Label] = {None: EMPTY_LABEL} if None in found else {}
    values = found - {None}
    if group.bucket is not None:
        labels.update({value: period_label(value, group.bucket) for value in values})
    elif spec.type == "select":
        options = {option["value"]: option.get("label") for option in spec.param("options", ())}
        labels.update({value: options.get(value) or MappingProxyType({"en": str(value)}) for value in values})
    elif spec.type == "boolean":
        labels.update({value: BOOLEAN_LABELS[bool(value)] for value in values})
    elif spec.type == "user":
        query = sa.select(users.c.id, users.c.display_name).where(users.c.id.in_(list(values)))
        labels.update({row.id: _same(row.display_name) for row in conn.execute(query)})
    elif spec.type == "lookup":
        try:
            titles = loom.queries(actor, conn).titles(spec.param("target"), list(values))
        except PermissionDenied:
            titles = {}
        labels.update({value: _same(titles.get(value, f"#{value}")) for value in values})
    return labels


def _same(text: str) -> Label:
    return MappingProxyType({"zh_CN": text, "en": text})


def period_label(day: dt.date, bucket: str) -> Label:
    """How a time bucket reads: 2026-11-26, 2026-W48, 2026-11, 2026-Q4, 2026 (and in Chinese)."""
    if bucket == "day":
        return _same(day.isoformat())
    if bucket == "week":
        year, week, _ = day.isocalendar()
        return MappingProxyType({"zh_CN": f"{year}年第{week}周", "en": f"{year}-W{week:02d}"})
    if bucket == "month":
        return MappingProxyType({"zh_CN": f"{day.year}年{day.month}月", "en": f"{day.year}-{day.month:02d}"})
    if bucket == "quarter":
        quarter = (day.month - 1) // 3 + 1
        return MappingProxyType({"zh_CN": f"{day.year}年第{quarter}季度", "en": f"{day.year}-Q{quarter}"})
    return MappingProxyType({"zh_CN": f"{day.year}年", "en": str(day.year)})


def report_sql_problems(spec: ReportSpec, registry: Registry, sctx: SqlContext) -> list[tuple[str, str]]:
    """(JSON pointer, message) for each part of a report the database cannot compute on this dialect."""
    model = registry.object(spec.object)
    resolve = name_resolver(model, registry, sctx)
    parts: list[tuple[str, Any]] = []
    if spec.filter:
        parts.append(("/filter", lambda: to_sql(spec.filter, resolve, sctx, as_condition=True)))
    for i, group in enumerate(spec.group_by):
        parts.append((f"/group_by/{i}", lambda group=group: group_sql(group, model, resolve, sctx)))
    for i, measure in enumerate(spec.measures):
        if measure.field:
            parts.append((f"/measures/{i}/field", lambda name=measure.field: resolve(name)))
        if measure.expression or measure.filter:
            at = f"/measures/{i}/{'expression' if measure.expression else 'filter'}"
            parts.append((at, lambda measure=measure: measured_value(measure, resolve, sctx)))
    for i, parameter in enumerate(spec.parameters):
        parts.append((f"/parameters/{i}/field", lambda name=parameter.field: resolve(name)))
    if spec.cohort is not None:
        parts.append(("/cohort", lambda: cohort_query(spec, model, resolve, sctx, [])))
    problems = []
    for path, build in parts:
        try:
            build()
        except LoomError as error:
            problems.append((path, f"cannot be computed by the database: {error}"))
    return problems
