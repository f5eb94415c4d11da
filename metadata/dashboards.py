"""Typed, frozen definitions of dashboards: a grid of widgets over reports, with the filters the
reader picks once for every widget, and the roles whose home page the dashboard is.

A widget is a KPI card (one measure of a report added up over its rows, with an optional target: a
fixed figure or another report's measure run with the same filters), a chart (the report's chart and
its table) or a list (the report's table). Each widget has a name unique in its dashboard, so an
admin's change to one survives an upgrade of the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as spec_field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw

WIDGET_KINDS = ("kpi", "chart", "list")
# The dashboard-level filters, each passed to every report parameter of the same kind.
FILTER_KINDS = ("period", "user", "department")
DEFAULT_PERIOD = "this_month"
# The named periods a dashboard may open on: those its period filter offers (or a range).
OPENING_PERIODS = ("this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year")
DEFAULT_WIDTH = {"kpi": 1, "chart": 2, "list": 4}
GRID_COLUMNS = 4


@dataclass(frozen=True)
class Target:
    """What a KPI is measured against: a fixed figure, or a measure of another report."""

    value: Decimal | None = None
    report: str | None = None
    measure: str | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Target:
        value = doc.get("value")
        return cls(Decimal(str(value)) if value is not None else None, doc.get("report"), doc.get("measure"))

    def to_json(self) -> dict[str, Any]:
        if self.value is not None:
            number = int(self.value) if self.value == self.value.to_integral_value() else float(self.value)
            return {"value": number}
        return {"report": self.report, "measure": self.measure}


@dataclass(frozen=True)
class Widget:
    """One cell of the grid: a report shown as a KPI card, a chart or a list."""

    name: str
    kind: str
    report: str
    measure: str | None = None  # kpi: the report's measure column added up
    target: Target | None = None  # kpi only
    label: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    width: int | None = None  # grid columns; absent: the kind's default

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Widget:
        return cls(
            doc["name"],
            doc["kind"],
            doc["report"],
            doc.get("measure"),
            Target.from_json(doc["target"]) if "target" in doc else None,
            freeze(doc.get("label", {})),
            doc.get("width"),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "kind": self.kind, "report": self.report}
        if self.measure is not None:
            doc["measure"] = self.measure
        if self.target is not None:
            doc["target"] = self.target.to_json()
        if self.label:
            doc["label"] = thaw(self.label)
        if self.width is not None:
            doc["width"] = self.width
        return doc

    @property
    def columns(self) -> int:
        """How many of the grid's columns the widget spans."""
        return min(self.width or DEFAULT_WIDTH[self.kind], GRID_COLUMNS)

    @property
    def reports(self) -> tuple[str, ...]:
        """The reports the widget runs: its own, and its target's."""
        if self.target is not None and self.target.report is not None:
            return (self.report, self.target.report)
        return (self.report,)


@dataclass(frozen=True)
class DashboardSpec:
    """A dashboard: its widgets in reading order, the filters shown above them, the roles it is home for."""

    name: str
    widgets: tuple[Widget, ...]
    label: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    description: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    filters: tuple[str, ...] = FILTER_KINDS
    default_period: str = DEFAULT_PERIOD
    home_for: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> DashboardSpec:
        return cls(
            doc["name"],
            tuple(Widget.from_json(widget) for widget in doc.get("widgets", ())),
            freeze(doc.get("label", {})),
            freeze(doc.get("description", {})),
            tuple(doc.get("filters", FILTER_KINDS)),
            doc.get("default_period", DEFAULT_PERIOD),
            tuple(doc.get("home_for", ())),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name}
        if self.label:
            doc["label"] = thaw(self.label)
        if self.description:
            doc["description"] = thaw(self.description)
        if self.filters != FILTER_KINDS:
            doc["filters"] = list(self.filters)
        if self.default_period != DEFAULT_PERIOD:
            doc["default_period"] = self.default_period
        if self.home_for:
            doc["home_for"] = list(self.home_for)
        doc["widgets"] = [widget.to_json() for widget in self.widgets]
        return doc

    def widget(self, name: str) -> Widget | None:
        return next((widget for widget in self.widgets if widget.name == name), None)

    @property
    def reports(self) -> tuple[str, ...]:
        """Every report the dashboard runs, once each, in the order first met."""
        return tuple(dict.fromkeys(name for widget in self.widgets for name in widget.reports))
