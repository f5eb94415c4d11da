"""Running a dashboard as a reader: the widgets whose reports they may run, each report given the
dashboard's filters, and each KPI's total and target added up over the rows in the reader's scope.

The pages and the API share this; results come through the report cache, so a dashboard opened by
many readers of one scope runs each report once per change to the data it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.base.actors import Actor
from engine.base.errors import LoomError
from engine.records.reports import ReportColumn, ReportResult, readable_reports
from engine.schema.registry import Registry
from metadata.dashboards import DashboardSpec, Widget
from metadata.reports import ReportSpec

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass(frozen=True)
class Kpi:
    """A KPI's figure, the column it adds up (for formatting) and its target, when it has one."""

    total: Decimal
    column: ReportColumn
    target: Decimal | None = None
    target_error: LoomError | None = None  # the target's report could not run for this reader

    @property
    def reached(self) -> Decimal | None:
        """The share of the target reached (1 = 100 %); None without a target above zero."""
        if self.target is None or self.target <= 0:
            return None
        return self.total / self.target


@dataclass(frozen=True)
class WidgetResult:
    """One widget as a reader sees it: the report's result (or why it could not run); a KPI's figure."""

    widget: Widget
    report: ReportSpec
    parameters: Mapping[str, str]  # what the dashboard's filters gave the report
    result: ReportResult | None = None
    kpi: Kpi | None = None
    error: LoomError | None = None


def runnable_widgets(registry: Registry, actor: Actor, dashboard: DashboardSpec) -> list[Widget]:
    """The widgets whose report the actor may run; the others are left out of their dashboard."""
    readable = {spec.name for spec in readable_reports(registry, actor)}
    return [widget for widget in dashboard.widgets if widget.report in readable]


def readable_dashboards(registry: Registry, actor: Actor) -> list[DashboardSpec]:
    """The dashboards, by name, with at least one widget the actor may run."""
    readable = {spec.name for spec in readable_reports(registry, actor)}
    return [
        board
        for board in registry.dashboards.values()
        if any(widget.report in readable for widget in board.widgets)
    ]


def readable_dashboard(registry: Registry, actor: Actor, name: str) -> DashboardSpec | None:
    """The dashboard of that name when the actor may run one of its widgets; None as for an unknown one."""
    board = registry.dashboards.get(name)
    if board is None or not runnable_widgets(registry, actor, board):
        return None
    return board


def home_dashboard(registry: Registry, actor: Actor) -> DashboardSpec | None:
    """The dashboard that is the home page of one of the actor's roles, when they may see any of it."""
    board = registry.home_dashboard(actor.roles)
    if board is None or not runnable_widgets(registry, actor, board):
        return None
    return board


def report_parameters(spec: ReportSpec, filters: Mapping[str, str]) -> dict[str, str]:
    """The dashboard's filters (by kind) as this report's parameters, for those it takes; an empty
    filter is passed as empty, so the report does not narrow on it whatever its default."""
    return {parameter.name: filters.get(parameter.kind, "") for parameter in spec.parameters}


def run_dashboard(
    loom: Loom, actor: Actor, dashboard: DashboardSpec, filters: Mapping[str, str]
) -> list[WidgetResult]:
    """Every widget the actor may run, in order, with the filters {period, user, department} applied.

    A filter the dashboard does not show is not applied. A report refusing the reader (a hidden field)
    or the values gives a widget with its `error`; other widgets still run.
    """
    registry = loom.registry
    shown = {kind: value for kind, value in filters.items() if kind in dashboard.filters}
    return [run_widget(loom, actor, widget, shown) for widget in runnable_widgets(registry, actor, dashboard)]


def run_widget(loom: Loom, actor: Actor, widget: Widget, filters: Mapping[str, str]) -> WidgetResult:
    spec = loom.registry.report(widget.report)
    given = report_parameters(spec, filters)
    try:
        result = loom.reports.run(spec.name, actor, parameters=given)
    except LoomError as error:
        return WidgetResult(widget, spec, given, error=error)
    if widget.kind != "kpi":
        return WidgetResult(widget, spec, given, result)
    measure = widget.measure or "count"
    kpi = Kpi(kpi_total(result, measure), result.column(measure))
    target = widget.target
    if target is not None and target.value is not None:
        kpi = Kpi(kpi.total, kpi.column, target.value)
    elif target is not None and target.report is not None:
        kpi = _with_target(loom, actor, kpi, target.report, target.measure or "", filters)
    return WidgetResult(widget, spec, given, result, kpi)


def _with_target(
    loom: Loom, actor: Actor, kpi: Kpi, report: str, measure: str, filters: Mapping[str, str]
) -> Kpi:
    """The KPI with its target: the other report's measure added up, run with the same filters."""
    try:
        spec = loom.registry.report(report)
        found = loom.reports.run(report, actor, parameters=report_parameters(spec, filters))
    except LoomError as error:
        return Kpi(kpi.total, kpi.column, None, error)
    return Kpi(kpi.total, kpi.column, kpi_total(found, measure))


def kpi_total(result: ReportResult, measure: str) -> Decimal:
    """A measure added up over the result's rows (a count stays whole)."""
    values = [row.get(measure) for row in result.rows if row.get(measure) is not None]
    return sum((Decimal(str(value)) for value in values), Decimal(0))
