"""What a schema cannot say about a dashboard: its reports exist and suit its widgets, and its roles exist.

A KPI adds a measure up over the report's rows, so it takes a count or a sum (an average, minimum,
maximum or ratio does not add up); its target's report and measure are checked the same way. A chart
widget needs a report drawn as a chart, not a table. Every role the dashboard is home for must exist,
and a role has one home dashboard.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping

from metadata.dashboards import OPENING_PERIODS, DashboardSpec, Widget
from metadata.problems import Problem, pointer
from metadata.references import did_you_mean, repeats
from metadata.report_checks import default_problem
from metadata.reports import ReportSpec

ADDABLE = ("count", "sum")


def dashboard_problems(
    dashboard: DashboardSpec,
    file: str,
    reports: Mapping[str, ReportSpec],
    roles: Collection[str],
    broken: Iterable[str] = (),
) -> list[Problem]:
    """Semantic problems of a schema-valid dashboard; `broken` names reports already reported as invalid."""
    broken = set(broken)
    problems: list[Problem] = []
    for index, widget in enumerate(dashboard.widgets):
        problems += _widget_problems(widget, index, file, reports, broken)
    for index, first in repeats(widget.name for widget in dashboard.widgets):
        message = f"a second widget named {dashboard.widgets[index].name!r} (first at /widgets/{first})"
        problems.append(Problem(file, pointer("widgets", index, "name"), message))
    for index, role in enumerate(dashboard.home_for):
        if role not in roles:
            message = f"role {role!r} is neither in this package nor installed{did_you_mean(role, roles)}"
            problems.append(Problem(file, pointer("home_for", index), message))
    opening = dashboard.default_period
    if opening not in OPENING_PERIODS and (".." not in opening or default_problem("period", opening)):
        message = f"a dashboard opens on one of {', '.join(OPENING_PERIODS)}, or YYYY-MM-DD..YYYY-MM-DD"
        problem = default_problem("period", opening) if ".." in opening else None
        problems.append(Problem(file, "/default_period", problem or message))
    return problems


def home_problems(dashboards: Iterable[tuple[str, DashboardSpec]]) -> list[Problem]:
    """A role is home to one dashboard: the second dashboard naming it is a problem."""
    homes: dict[str, str] = {}
    problems: list[Problem] = []
    for file, dashboard in dashboards:
        for index, role in enumerate(dashboard.home_for):
            if role in homes and homes[role] != dashboard.name:
                message = f"role {role!r} already has dashboard {homes[role]!r} as its home page"
                problems.append(Problem(file, pointer("home_for", index), message))
            homes.setdefault(role, dashboard.name)
    return problems


def _widget_problems(
    widget: Widget, index: int, file: str, reports: Mapping[str, ReportSpec], broken: Collection[str]
) -> Iterator[Problem]:
    report = reports.get(widget.report)
    if report is None:
        if widget.report not in broken:
            yield Problem(file, pointer("widgets", index, "report"), _no_report(widget.report, reports))
    elif widget.kind == "kpi":
        yield from _measure_problems(report, widget.measure or "", file, ("widgets", index, "measure"))
    elif widget.kind == "chart" and report.chart == "table":
        message = f"report {report.name!r} is drawn as a table, not a chart: show it in a list widget"
        yield Problem(file, pointer("widgets", index, "kind"), message)
    target = widget.target
    if target is None or target.report is None:
        return
    other = reports.get(target.report)
    if other is None:
        if target.report not in broken:
            at = pointer("widgets", index, "target", "report")
            yield Problem(file, at, _no_report(target.report, reports))
        return
    yield from _measure_problems(other, target.measure or "", file, ("widgets", index, "target", "measure"))


def _measure_problems(
    report: ReportSpec, name: str, file: str, at: tuple[str | int, ...]
) -> Iterator[Problem]:
    found = next((measure for measure in report.measures if measure.column == name), None)
    if found is None:
        names = [measure.column for measure in report.measures]
        message = f"report {report.name!r} has no measure {name!r}; its measures: {', '.join(names)}"
        yield Problem(file, pointer(*at), message)
    elif found.function not in ADDABLE:
        message = (
            f"a KPI adds {name!r} up over the report's rows, but {found.function} figures do not add up:"
            " pick a count or a sum"
        )
        yield Problem(file, pointer(*at), message)


def _no_report(name: str, reports: Mapping[str, ReportSpec]) -> str:
    return f"report {name!r}, which is neither in this package nor installed{did_you_mean(name, reports)}"
