"""Typed, frozen definitions of reports: an object's records grouped, measured and charted.

A group is a field name, or an object with the field and a time `bucket`; a measure is a function
(count, sum, avg, min, max) over a field. Each column of a report's result has a stable name:
a group's is its field's, a measure's is `count` or `<function>_<field>` unless it is given one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as spec_field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw
from metadata.heading import heading_from_json, heading_to_json

CHARTS = ("bar", "line", "pie", "funnel", "number", "table")
BUCKETS = ("day", "week", "month", "quarter", "year")
FUNCTIONS = ("count", "sum", "avg", "min", "max")
DEFAULT_CHART = "table"


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

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Measure:
        return cls(doc["function"], doc.get("field"), freeze(doc.get("label", {})), doc.get("name"))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"function": self.function}
        if self.field is not None:
            doc["field"] = self.field
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
        doc["chart"] = self.chart
        return doc

    @property
    def columns(self) -> tuple[str, ...]:
        """The result's column names: the groups, then the measures."""
        return tuple(g.column for g in self.group_by) + tuple(m.column for m in self.measures)
