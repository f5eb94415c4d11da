"""What a schema cannot say about a report: its object and fields exist and suit what is done with them.

Groups need a single plain value (not a list, long text or roll-up); time buckets need a date or
datetime; sum and avg need numbers, min and max numbers or dates. The chart must fit the groups.
The filter is checked by the engine (`report_expressions_in`), which also knows the functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from metadata.problems import Problem, pointer
from metadata.references import (
    BUILTIN_TYPES,
    DATE_TYPES,
    MULTI_VALUE_TYPES,
    NUMBER_TYPES,
    missing_object,
    no_field,
    repeats,
)
from metadata.reports import ReportSpec
from metadata.specs import FieldSpec, ObjectSpec

# How many groups each chart draws: (fewest, most).
CHART_GROUPS: Mapping[str, tuple[int, int]] = {
    "bar": (1, 2),
    "line": (1, 2),
    "pie": (1, 1),
    "funnel": (1, 1),
    "number": (0, 0),
    "table": (0, 3),
}
UNGROUPABLE = MULTI_VALUE_TYPES | {"long_text", "rollup"}


def report_problems(
    report: ReportSpec, file: str, known: Mapping[str, ObjectSpec], broken: Iterable[str] = ()
) -> list[Problem]:
    """Semantic problems of a schema-valid report; `broken` names objects already reported as invalid."""
    problems = list(_chart_problems(report, file))
    missing = missing_object(report.object, known, broken)
    if missing:
        return [Problem(file, "/object", f"report {report.name!r} counts {missing}"), *problems]
    obj = known.get(report.object)
    if obj is None:
        return problems
    problems += _group_problems(report, obj, file)
    problems += _measure_problems(report, obj, file)
    problems += _column_problems(report, file)
    return problems


def _chart_problems(report: ReportSpec, file: str) -> Iterator[Problem]:
    if report.chart == "number" and len(report.measures) > 1:
        yield Problem(file, "/measures", "a number chart shows one measure")
    fewest, most = CHART_GROUPS[report.chart]
    count = len(report.group_by)
    if fewest <= count <= most:
        return
    wanted = (
        "no groups" if most == 0 else f"{fewest} group" if fewest == most else f"{fewest} to {most} groups"
    )
    yield Problem(file, "/chart", f"a {report.chart} chart draws {wanted}, but the report has {count}")


def _group_problems(report: ReportSpec, obj: ObjectSpec, file: str) -> Iterator[Problem]:
    for index, group in enumerate(report.group_by):
        at = ("group_by", index) if group.short else ("group_by", index, "field")
        if not obj.has_field(group.field):
            yield Problem(file, pointer(*at), no_field(obj, group.field))
            continue
        field = obj.field(group.field)
        if field.type in UNGROUPABLE:
            message = f"cannot group by {group.field!r}: a {field.type} field has no single value to group on"
            yield Problem(file, pointer(*at), message)
        elif group.bucket is not None and _kind(field) != "date":
            message = (
                f"a {group.bucket} bucket needs a date or datetime field, but {group.field!r} is {field.type}"
            )
            yield Problem(file, pointer("group_by", index, "bucket"), message)
    for index, first in repeats(g.field for g in report.group_by):
        message = f"{report.group_by[index].field!r} is already a group at /group_by/{first}"
        yield Problem(file, pointer("group_by", index), message)


def _measure_problems(report: ReportSpec, obj: ObjectSpec, file: str) -> Iterator[Problem]:
    for index, measure in enumerate(report.measures):
        if measure.field is None:
            continue
        at = pointer("measures", index, "field")
        if not obj.has_field(measure.field):
            yield Problem(file, at, no_field(obj, measure.field))
            continue
        field = obj.field(measure.field)
        kind = _kind(field)
        allowed = {"number"} if measure.function in {"sum", "avg"} else {"number", "date"}
        if field.type == "rollup" or kind not in allowed | {None}:
            what = "numbers" if measure.function in {"sum", "avg"} else "numbers or dates"
            message = f"{measure.function} needs {what}, but {measure.field!r} is a {field.type} field"
            if field.type == "rollup":
                message = f"{measure.function} cannot measure {measure.field!r}: roll-ups are not measured"
            yield Problem(file, at, message)


def _column_problems(report: ReportSpec, file: str) -> Iterator[Problem]:
    columns = report.columns
    groups = len(report.group_by)
    for index, first in repeats(columns):
        if index >= groups:
            message = (
                f"a second column named {columns[index]!r} (first at {_where(first, groups)}): give it a name"
            )
            yield Problem(file, _where(index, groups), message)
    for index, key in enumerate(report.sort):
        if key.removeprefix("-") not in columns:
            name = key.removeprefix("-")
            message = f"sorts by {name!r}, which is not a column; the columns are {', '.join(columns)}"
            yield Problem(file, pointer("sort", index), message)


def _where(index: int, groups: int) -> str:
    return pointer("group_by", index) if index < groups else pointer("measures", index - groups)


def _kind(field: FieldSpec) -> str | None:
    """'number', 'date' or 'other' for built-in types; None when only the engine can tell."""
    field_type = field.param("result") if field.type == "formula" else field.type
    if field_type in NUMBER_TYPES:
        return "number"
    if field_type in DATE_TYPES:
        return "date"
    return "other" if field_type in BUILTIN_TYPES else None
