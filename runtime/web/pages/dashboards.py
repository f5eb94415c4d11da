"""Dashboards: a grid of widgets over the CRM's reports — KPI cards, charts with their tables, and
lists — with the dashboard's period, view (mine, my team, all I may see) and department passed to
every report that takes them.

The sales and the service dashboards are composed here from the standard CRM's reports; a widget
whose report the reader may not run is left out, and the engine scopes every figure to the reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l

from engine import identity
from engine.identity.permissions import PermissionDenied
from engine.records.reports import ReportResult
from metadata.reports import ReportSpec
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import error_text, label_text, page_locale
from runtime.web.pages import report_view
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.reports import readable_reports

VIEWS = ("", "me", "my_team")
DEFAULT_PERIOD = "this_month"


@dataclass(frozen=True)
class Widget:
    """A report shown as a KPI card (one measure added up over its rows), a chart, or a list."""

    report: str
    kind: str = "chart"  # "kpi", "chart" or "list"
    measure: str | None = None
    label: Any = None


@dataclass(frozen=True)
class Dashboard:
    name: str
    label: Any
    widgets: tuple[Widget, ...]


DASHBOARDS = (
    Dashboard(
        "sales",
        _l("Sales dashboard"),
        (
            Widget("sales_by_rep_month", "kpi", "sum_amount", _l("Sales in the period")),
            Widget("payments_by_rep_month", "kpi", "sum_amount", _l("Payments received in the period")),
            Widget("sales_by_rep_month", "kpi", "count", _l("Orders in the period")),
            Widget("sales_by_rep_month"),
            Widget("payments_by_rep_month"),
            Widget("win_rate_by_rep"),
            Widget("opportunity_funnel"),
            Widget("dormant_customers_by_owner", "list"),
        ),
    ),
    Dashboard(
        "service",
        _l("Service dashboard"),
        (
            Widget("ticket_resolution_by_category", "kpi", "count", _l("Tickets in the period")),
            Widget("ticket_resolution_by_category", "kpi", "resolved", _l("Tickets resolved")),
            Widget("tickets_by_category"),
            Widget("ticket_resolution_by_category"),
            Widget("followups_by_rep_month", "list"),
        ),
    ),
)


def view_names() -> dict[str, str]:
    return {"": str(_l("All I may see")), "me": str(_l("Mine")), "my_team": str(_l("My team"))}


def _dashboard(name: str) -> Dashboard:
    found = next((board for board in DASHBOARDS if board.name == name), None)
    if found is None:
        abort(404)
    return found


@blueprint.get("/app/dashboards")
def dashboards_list() -> str:
    readable = {spec.name for spec in readable_reports()}
    boards = [board for board in DASHBOARDS if any(w.report in readable for w in board.widgets)]
    return render_template("dashboards.html", boards=boards)


def _given(spec: ReportSpec, filters: dict[str, str]) -> dict[str, str]:
    """The dashboard's filters (by parameter kind) as this report's parameters, for those it takes;
    an empty one is passed as empty, so the report does not narrow on it whatever its default."""
    return {parameter.name: filters.get(parameter.kind, "") for parameter in spec.parameters}


def _total(result: ReportResult, measure: str) -> str:
    column = result.column(measure)
    values = [row.get(measure) for row in result.rows if row.get(measure) is not None]
    total = sum((Decimal(str(value)) for value in values), Decimal(0))
    if column.function == "count":
        total = Decimal(int(total))
        return report_view.shown(column, int(total), result, page_locale())
    return report_view.shown(column, total, result, page_locale())


def _default_view(loom: Any, actor: Any) -> str:
    """A department's head opens on everything they may see (their team's figures); anyone else
    on their own."""
    if actor.department_id is None:
        return "me"
    head = identity.head_of(loom, actor.department_id)
    return "" if head is not None and head["id"] == actor.user_id else "me"


@blueprint.get("/app/dashboards/<name>")
def dashboard_page(name: str) -> str | tuple[str, int]:
    board = _dashboard(name)
    loom, actor = current_loom(), current_actor()
    period = str(request.args.get("period", DEFAULT_PERIOD)).strip()
    view = str(request.args.get("view", _default_view(loom, actor))).strip()
    department = str(request.args.get("department", "")).strip()
    departments = report_view.department_choices(loom)
    problem = None
    if view not in VIEWS:
        problem, view = str(_l("Choose a view from the list.")), ""
    if department not in dict(departments):
        problem, department = str(_l("Choose a department from the list.")), ""
    first, last = str(request.args.get("period_from", "")), str(request.args.get("period_to", ""))
    if period == report_view.CUSTOM:
        try:
            period = report_view.custom_range(first, last)
        except report_view.BadParameters as error:
            problem, period = error.message, ""
    elif period and period not in report_view.PERIOD_PRESETS:
        problem, period = str(_l("Choose a period from the list.")), DEFAULT_PERIOD
    specs = {spec.name: spec for spec in readable_reports()}
    widgets = []
    if problem is None:
        for index, widget in enumerate(board.widgets):
            spec = specs.get(widget.report)
            if spec is not None:
                filters = {"period": period, "user": view, "department": department}
                widgets.append(_widget(loom, actor, index, widget, spec, filters))
    page = render_template(
        "dashboard.html",
        board=board,
        widgets=widgets,
        problem=problem,
        period=report_view.CUSTOM if ".." in period else period,
        first=first,
        last=last,
        view=view,
        periods=report_view.period_names(),
        views=view_names(),
        department=department,
        departments=departments,
    )
    return (page, 400) if problem else page


def _widget(
    loom: Any, actor: Any, index: int, widget: Widget, spec: ReportSpec, filters: dict[str, str]
) -> dict[str, Any]:
    given = _given(spec, filters)
    title = str(widget.label) if widget.label else label_text(spec.label, spec.name)
    shown: dict[str, Any] = {
        "key": f"w{index}",
        "kind": widget.kind,
        "title": title,
        "report": spec.name,
        "links": report_view.report_links(spec.name, given),
        "whole_time": not any(p.kind == "period" for p in spec.parameters),
    }
    try:
        result = report_view.run(loom, spec.name, actor, given)
    except PermissionDenied as error:
        shown["problem"] = error_text(error)
        return shown
    except report_view.BadParameters as error:
        shown["problem"] = error.message
        return shown
    if widget.kind == "kpi":
        shown["value"] = _total(result, widget.measure or "count")
    else:
        shown["table"] = report_view.table(result)
        shown["chart"] = report_view.chart_data(result) if widget.kind == "chart" else None
    return shown
