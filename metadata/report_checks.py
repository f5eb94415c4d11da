"""What a schema cannot say about a report: its object and fields exist and suit what is done with them.

Groups need a single plain value (not a list, long text or roll-up); time buckets need a date or
datetime; sum and avg need numbers, min and max numbers or dates. The chart must fit the groups.
A period parameter needs a date, a user or department parameter a user field, and a comparison
a period to shift. The filter is checked by the engine (`report_expressions_in`), which also knows
the functions. The system columns owner, created_by, updated_by, created_at and updated_at count
as fields. A report shared with roles names roles that exist (when the caller knows them); a private
one names its owner, and a report shared with everyone names neither.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator, Mapping

from metadata.problems import Problem, pointer
from metadata.references import (
    BUILTIN_TYPES,
    DATE_TYPES,
    MULTI_VALUE_TYPES,
    NUMBER_TYPES,
    did_you_mean,
    missing_object,
    repeats,
)
from metadata.reports import (
    DEPARTMENT_CHOICES,
    PERIODS,
    SYSTEM_REPORT_FIELDS,
    USER_CHOICES,
    ReportSpec,
)
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
NUMBER_ROLLUPS = ("count", "sum", "avg")  # roll-ups a report may measure
DATE_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def report_field(obj: ObjectSpec, name: str) -> FieldSpec | None:
    """A field of the object, or a system column a report may use; None when neither."""
    if obj.has_field(name):
        return obj.field(name)
    return SYSTEM_REPORT_FIELDS.get(name)


def field_uses(field: FieldSpec) -> dict[str, object]:
    """What a report may do with a field, as these checks allow it: group by it (with time buckets
    for a date), which measures fit it, and whether a period parameter may narrow it."""
    kind = _kind(field)
    functions: list[str] = []
    if field.type not in UNGROUPABLE:
        functions.append("count_distinct")
    if field.type == "rollup":
        if (field.param("source") or {}).get("function") in NUMBER_ROLLUPS:
            functions += ["sum", "avg", "min", "max"]
    else:
        if kind in ("number", None):
            functions += ["sum", "avg"]
        if kind in ("number", "date", None):
            functions += ["min", "max"]
    return {
        "group": field.type not in UNGROUPABLE,
        "date": kind == "date",
        "functions": functions,
        "user": field.type == "user",
    }


def _no_field(obj: ObjectSpec, name: str) -> str:
    names = [spec.name for spec in obj.fields] + list(SYSTEM_REPORT_FIELDS)
    return f"object {obj.name!r} has no field {name!r}{did_you_mean(name, names)}"


def default_problem(kind: str, value: str) -> str | None:
    """Why a parameter's value (as a default or given at run time) is not one its kind takes."""
    if kind == "period":
        if value in PERIODS:
            return None
        found = DATE_RANGE.match(value)
        if found is None:
            return f"a period is one of {', '.join(PERIODS)}, or YYYY-MM-DD..YYYY-MM-DD"
        for text in found.groups():
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                return f"{text} is not a date"
        if found.group(1) > found.group(2):
            return "the range ends before it starts"
        return None
    choices = USER_CHOICES if kind == "user" else DEPARTMENT_CHOICES
    if value in choices or (value.isdigit() and len(value) < 16):
        return None
    words = " or ".join(choices)
    return f"a {kind} parameter takes {words}, or a {kind}'s id"


def report_problems(
    report: ReportSpec,
    file: str,
    known: Mapping[str, ObjectSpec],
    broken: Iterable[str] = (),
    roles: Collection[str] | None = None,
) -> list[Problem]:
    """Semantic problems of a schema-valid report; `broken` names objects already reported as invalid;
    `roles` are the roles a sharing may name (None: not known here, checked when installed)."""
    problems = list(_chart_problems(report, file))
    problems += _sharing_problems(report, file, roles)
    missing = missing_object(report.object, known, broken)
    if missing:
        return [Problem(file, "/object", f"report {report.name!r} counts {missing}"), *problems]
    obj = known.get(report.object)
    if obj is None:
        return problems
    problems += _group_problems(report, obj, file)
    problems += _measure_problems(report, obj, file)
    problems += _parameter_problems(report, obj, file)
    problems += _compare_problems(report, file)
    problems += _cohort_problems(report, obj, file)
    problems += _column_problems(report, file)
    return problems


def _sharing_problems(report: ReportSpec, file: str, roles: Collection[str] | None) -> Iterator[Problem]:
    sharing = report.sharing
    if sharing.with_ == "roles":
        if not sharing.roles:
            yield Problem(file, "/sharing/roles", "a report shared with roles names at least one role")
        for index, role in enumerate(sharing.roles):
            if roles is not None and role not in roles:
                message = f"there is no role {role!r}{did_you_mean(role, sorted(roles))}"
                yield Problem(file, pointer("sharing", "roles", index), message)
    elif sharing.roles:
        message = f"roles are for a report shared with roles, not {sharing.with_}"
        yield Problem(file, "/sharing/roles", message)
    if sharing.with_ == "private" and not sharing.owner:
        message = "a private report names its owner: the username of who may run it"
        yield Problem(file, "/sharing/owner", message)
    elif sharing.with_ != "private" and sharing.owner is not None:
        yield Problem(file, "/sharing/owner", "an owner is for a private report")


def _chart_problems(report: ReportSpec, file: str) -> Iterator[Problem]:
    if report.cohort is not None:
        return  # its own checks say what a cohort is drawn as
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
        field = report_field(obj, group.field)
        if field is None:
            yield Problem(file, pointer(*at), _no_field(obj, group.field))
            continue
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


def _ratio_problems(report: ReportSpec, file: str) -> Iterator[Problem]:
    for index, measure in enumerate(report.measures):
        if not measure.is_ratio:
            continue
        for key in ("of", "to"):
            name = getattr(measure, key)
            found = next((m for m in report.measures if m.column == name), None)
            if found is None or found.is_ratio:
                others = [m.column for m in report.measures if not m.is_ratio]
                message = f"{name!r} is not a measure of this report; its measures: {', '.join(others)}"
                yield Problem(file, pointer("measures", index, key), message)


def _measure_problems(report: ReportSpec, obj: ObjectSpec, file: str) -> Iterator[Problem]:
    yield from _ratio_problems(report, file)
    for index, measure in enumerate(report.measures):
        if measure.field is None:
            continue
        at = pointer("measures", index, "field")
        field = report_field(obj, measure.field)
        if field is None:
            yield Problem(file, at, _no_field(obj, measure.field))
            continue
        if measure.function == "count_distinct":
            if field.type in UNGROUPABLE:
                message = f"cannot count distinct values of {measure.field!r}: a {field.type} field"
                yield Problem(file, at, message + " has no single value to compare")
            continue
        kind = _kind(field)
        allowed = {"number"} if measure.function in {"sum", "avg"} else {"number", "date"}
        if field.type == "rollup":
            # A count, sum or average roll-up is a number per record (a customer's lifetime value);
            # the earliest or latest of a related field takes that field's type, unknown here.
            function = (field.param("source") or {}).get("function")
            if function not in NUMBER_ROLLUPS:
                message = f"{measure.function} cannot measure {measure.field!r}: a {function} roll-up"
                yield Problem(file, at, message + f"; only {', '.join(NUMBER_ROLLUPS)} roll-ups are measured")
        elif kind not in allowed | {None}:
            what = "numbers" if measure.function in {"sum", "avg"} else "numbers or dates"
            message = f"{measure.function} needs {what}, but {measure.field!r} is a {field.type} field"
            yield Problem(file, at, message)


def _parameter_problems(report: ReportSpec, obj: ObjectSpec, file: str) -> Iterator[Problem]:
    for index, parameter in enumerate(report.parameters):
        field = report_field(obj, parameter.field)
        if field is None:
            yield Problem(file, pointer("parameters", index, "field"), _no_field(obj, parameter.field))
        elif parameter.kind == "period" and _kind(field) not in ("date", None):
            message = f"a period needs a date or datetime field, but {parameter.field!r} is {field.type}"
            yield Problem(file, pointer("parameters", index, "field"), message)
        elif parameter.kind in ("user", "department") and field.type != "user":
            message = (
                f"a {parameter.kind} parameter needs a user field, but {parameter.field!r} is {field.type}"
            )
            yield Problem(file, pointer("parameters", index, "field"), message)
        if parameter.default is not None:
            problem = default_problem(parameter.kind, parameter.default)
            if problem is not None:
                yield Problem(file, pointer("parameters", index, "default"), problem)
    for index, first in repeats(p.name for p in report.parameters):
        message = f"a second parameter named {report.parameters[index].name!r} (first at /parameters/{first})"
        yield Problem(file, pointer("parameters", index, "name"), message)


def _compare_problems(report: ReportSpec, file: str) -> Iterator[Problem]:
    if report.compare is None:
        return
    period = report.period
    if period is None or period.default is None:
        yield Problem(
            file, "/compare", "comparing with the previous period needs a period parameter with a default"
        )
    if any(group.bucket is not None for group in report.group_by):
        message = "comparing with the previous period needs groups without a time bucket: the periods differ"
        yield Problem(file, "/compare", message)


def _cohort_problems(report: ReportSpec, obj: ObjectSpec, file: str) -> Iterator[Problem]:
    cohort = report.cohort
    if cohort is None:
        return
    by = report_field(obj, cohort.by)
    if by is None:
        yield Problem(file, "/cohort/by", _no_field(obj, cohort.by))
    elif by.type in UNGROUPABLE:
        yield Problem(
            file, "/cohort/by", f"cannot follow {cohort.by!r}: a {by.type} field has no single value"
        )
    date = report_field(obj, cohort.date)
    if date is None:
        yield Problem(file, "/cohort/date", _no_field(obj, cohort.date))
    elif _kind(date) not in ("date", None):
        message = f"a cohort needs a date or datetime field, but {cohort.date!r} is {date.type}"
        yield Problem(file, "/cohort/date", message)
    wanted = f'[{{"function": "count_distinct", "field": "{cohort.by}"}}]'
    measures = report.measures
    if len(measures) != 1 or measures[0].function != "count_distinct" or measures[0].field != cohort.by:
        yield Problem(file, "/measures", f"a cohort report counts what it follows: measures must be {wanted}")
    elif measures[0].filter is not None:
        yield Problem(file, "/measures/0/filter", "a cohort's measure takes no filter: use the report's")
    for key, present in (("group_by", report.group_by), ("sort", report.sort), ("compare", report.compare)):
        if present:
            yield Problem(
                file, pointer(key), f"a cohort report takes no {key}: its rows are cohort and period"
            )
    if report.chart != "table":
        yield Problem(file, "/chart", "a cohort report is drawn as a table")


def _column_problems(report: ReportSpec, file: str) -> Iterator[Problem]:
    columns = report.columns
    groups = len(report.group_by)
    for index, first in repeats(columns):
        if index >= groups:
            message = (
                f"a second column named {columns[index]!r} (first at {_where(first, groups)}): give it a name"
            )
            yield Problem(file, _where(index, groups), message)
    computed = report.computed_columns
    for index, key in enumerate(report.sort):
        if key.removeprefix("-") not in computed:
            name = key.removeprefix("-")
            message = f"sorts by {name!r}, which is not a column; the columns are {', '.join(computed)}"
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
