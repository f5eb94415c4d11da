"""Typed, frozen definitions of reports: an object's records grouped, measured and charted.

A group is a field name, or an object with the field and a time `bucket`; a measure is a function
(count, count_distinct, sum, avg, min, max) over a field. Each column of a report's result has a
stable name: a group's is its field's, a measure's is `count` or `<function>_<field>` unless it is
given one. Parameters are values the reader picks when running it: a period, an owner, a department.
A report sits in a folder (by default its object's) and is shared with everyone, with some roles,
or kept private to the user who built it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as spec_field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw
from metadata.heading import heading_from_json, heading_to_json
from metadata.specs import FieldSpec

CHARTS = ("bar", "line", "pie", "funnel", "number", "table")
BUCKETS = ("day", "week", "month", "quarter", "year")
FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max", "ratio")
DEFAULT_CHART = "table"
PARAMETER_KINDS = ("period", "user", "department")
SHARING_KINDS = ("everyone", "roles", "private")
# Named periods a period parameter takes besides an explicit range `YYYY-MM-DD..YYYY-MM-DD`.
PERIODS = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "last_7_days",
    "last_30_days",
    "last_90_days",
    "last_12_months",
)
# What a user parameter takes besides a user's id; a department parameter takes "mine" or an id.
USER_CHOICES = ("me", "my_team")
DEPARTMENT_CHOICES = ("mine",)


def _system(name: str, kind: str, zh: str, en: str) -> FieldSpec:
    return FieldSpec(name, kind, MappingProxyType({"zh_CN": zh, "en": en}))


# System columns a report may group, measure and narrow by, as if they were the object's fields.
SYSTEM_REPORT_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        "owner": _system("owner", "user", "负责人", "Owner"),
        "created_by": _system("created_by", "user", "创建人", "Created by"),
        "updated_by": _system("updated_by", "user", "修改人", "Updated by"),
        "created_at": _system("created_at", "datetime", "创建时间", "Created at"),
        "updated_at": _system("updated_at", "datetime", "修改时间", "Updated at"),
    }
)
# Result columns the engine adds: to a funnel, and to each measure when comparing periods.
FUNNEL_COLUMNS = ("reached", "conversion")
PREVIOUS_SUFFIX = "_previous"


@dataclass(frozen=True)
class GroupBy:
    """Rows are grouped by a field's value, or by the day, week, month, quarter or year of a date."""

    field: str
    bucket: str | None = None
    short: bool = spec_field(default=True, compare=False)  # written as a plain field name

    @classmethod
    def from_json(cls, doc: str | Mapping[str, Any]) -> GroupBy:
        if isinstance(doc, str):
            return cls(doc)
        return cls(doc["field"], doc.get("bucket"), short=False)

    def to_json(self) -> str | dict[str, Any]:
        if self.short and self.bucket is None:
            return self.field
        doc: dict[str, Any] = {"field": self.field}
        if self.bucket is not None:
            doc["bucket"] = self.bucket
        return doc

    @property
    def column(self) -> str:
        return self.field


@dataclass(frozen=True)
class Measure:
    """One figure per group: a count of records, or the sum, average, minimum or maximum of a field."""

    function: str
    field: str | None = None
    label: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    name: str | None = None  # the result column's name when the default would not do
    expression: str | None = None  # measured instead of a field
    filter: str | None = None  # only records meeting it are counted or measured
    of: str | None = None  # ratio: this column divided by `to`
    to: str | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Measure:
        return cls(
            doc["function"],
            doc.get("field"),
            freeze(doc.get("label", {})),
            doc.get("name"),
            doc.get("expression"),
            doc.get("filter"),
            doc.get("of"),
            doc.get("to"),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"function": self.function}
        for key in ("field", "expression", "filter", "of", "to"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        if self.name is not None:
            doc["name"] = self.name
        if self.label:
            doc["label"] = thaw(self.label)
        return doc

    @property
    def column(self) -> str:
        if self.name is not None:
            return self.name
        return self.function if self.field is None else f"{self.function}_{self.field}"

    @property
    def is_ratio(self) -> bool:
        return self.function == "ratio"


@dataclass(frozen=True)
class Parameter:
    """A value the reader picks when running the report, narrowing it on one field."""

    name: str
    kind: str  # period, user or department
    field: str
    default: str | None = None
    label: Label = spec_field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Parameter:
        return cls(doc["name"], doc["kind"], doc["field"], doc.get("default"), freeze(doc.get("label", {})))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "kind": self.kind, "field": self.field}
        if self.default is not None:
            doc["default"] = self.default
        if self.label:
            doc["label"] = thaw(self.label)
        return doc


@dataclass(frozen=True)
class Cohort:
    """Records of `by` (customers) grouped by the bucket of their first `date` (first order month),
    then counted again in each later bucket: how many came back in month +1, +2, …"""

    by: str
    date: str
    bucket: str = "month"
    periods: int = 12

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Cohort:
        return cls(doc["by"], doc["date"], doc.get("bucket", "month"), doc.get("periods", 12))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"by": self.by, "date": self.date}
        if self.bucket != "month":
            doc["bucket"] = self.bucket
        if self.periods != 12:
            doc["periods"] = self.periods
        return doc


@dataclass(frozen=True)
class Sharing:
    """Who may run a report: everyone who may read its object, the holders of some roles, or its owner."""

    with_: str = "everyone"
    roles: tuple[str, ...] = ()
    owner: str | None = None  # a username, for a private report

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Sharing:
        if not doc:
            return cls()
        return cls(doc.get("with", "everyone"), tuple(doc.get("roles", ())), doc.get("owner"))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"with": self.with_}
        if self.roles:
            doc["roles"] = list(self.roles)
        if self.owner is not None:
            doc["owner"] = self.owner
        return doc

    @property
    def is_everyone(self) -> bool:
        return self.with_ == "everyone" and not self.roles and self.owner is None


EVERYONE = Sharing()


COHORT_COLUMNS = ("cohort", "period")  # the first bucket, and how many buckets later
COHORT_BUCKETS = ("month", "quarter", "year")


@dataclass(frozen=True)
class ReportSpec:
    """A report over one object: an optional filter, groups, measures, order, a row limit and a chart."""

    name: str
    object: str
    measures: tuple[Measure, ...]
    label: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    filter: str | None = None
    group_by: tuple[GroupBy, ...] = ()
    chart: str = DEFAULT_CHART
    sort: tuple[str, ...] = ()  # column names, "-" first for descending; empty: in group order
    limit: int | None = None
    description: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    parameters: tuple[Parameter, ...] = ()
    compare: str | None = None  # "previous_period": each measure also for the period before
    cohort: Cohort | None = None
    folder: Label | str | None = None  # None: the folder named after its object
    sharing: Sharing = EVERYONE

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReportSpec:
        return cls(
            **heading_from_json(doc),
            measures=tuple(Measure.from_json(m) for m in doc.get("measures", ())),
            filter=doc.get("filter"),
            group_by=tuple(GroupBy.from_json(g) for g in doc.get("group_by", ())),
            chart=doc.get("chart", DEFAULT_CHART),
            sort=tuple(doc.get("sort", ())),
            limit=doc.get("limit"),
            parameters=tuple(Parameter.from_json(p) for p in doc.get("parameters", ())),
            compare=doc.get("compare"),
            cohort=Cohort.from_json(doc["cohort"]) if "cohort" in doc else None,
            folder=freeze(doc["folder"]) if "folder" in doc else None,
            sharing=Sharing.from_json(doc.get("sharing")),
        )

    def to_json(self) -> dict[str, Any]:
        doc = heading_to_json(self)
        if self.filter is not None:
            doc["filter"] = self.filter
        if self.group_by:
            doc["group_by"] = [group.to_json() for group in self.group_by]
        doc["measures"] = [measure.to_json() for measure in self.measures]
        if self.sort:
            doc["sort"] = list(self.sort)
        if self.limit is not None:
            doc["limit"] = self.limit
        if self.parameters:
            doc["parameters"] = [parameter.to_json() for parameter in self.parameters]
        if self.compare is not None:
            doc["compare"] = self.compare
        if self.cohort is not None:
            doc["cohort"] = self.cohort.to_json()
        doc["chart"] = self.chart
        if self.folder is not None:
            doc["folder"] = thaw(self.folder)
        if not self.sharing.is_everyone:
            doc["sharing"] = self.sharing.to_json()
        return doc

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def period(self) -> Parameter | None:
        """The period parameter a comparison shifts (the first, when there are several)."""
        return next((p for p in self.parameters if p.kind == "period"), None)

    @property
    def is_funnel(self) -> bool:
        """A funnel over a count: each row also says how many reached it and the conversion to it."""
        return self.chart == "funnel" and any(m.function == "count" for m in self.measures)

    @property
    def computed_columns(self) -> tuple[str, ...]:
        """The columns the grouped query computes, which `sort` may name: the groups, then the measures."""
        if self.cohort is not None:
            return COHORT_COLUMNS + tuple(m.column for m in self.measures)
        return tuple(g.column for g in self.group_by) + tuple(m.column for m in self.measures)

    @property
    def columns(self) -> tuple[str, ...]:
        """The result's column names: the groups, the measures, then what a funnel or comparison adds."""
        columns = self.computed_columns
        if self.cohort is not None:
            columns += ("retention",)
        if self.is_funnel:
            columns += FUNNEL_COLUMNS
        if self.compare is not None:
            columns += tuple(m.column + PREVIOUS_SUFFIX for m in self.measures)
        return columns
