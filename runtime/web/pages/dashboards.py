"""Dashboards: the registry's dashboards as pages — KPI cards with their targets, charts with their
tables, and lists in a grid — with the dashboard's period, view (mine, my team, all I may see) and
department passed to every report that takes them.

The engine (engine/records/dashboards.py) picks the widgets the reader may run and computes every
figure in their scope; this module reads the filters and formats the figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import identity
from engine.base.errors import LoomError
from engine.identity.permissions import PermissionDenied
from engine.records.dashboards import (
    Kpi,
    WidgetResult,
    readable_dashboard,
    readable_dashboards,
    run_dashboard,
)
from engine.records.report_parameters import InvalidReportParameter
from metadata.dashboards import DashboardSpec
from metadata.reports import ReportSpec
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import babel_locale, error_text, label_text, page_locale
from runtime.web.pages import report_view
from runtime.web.pages.blueprint import blueprint

VIEWS = ("", "me", "my_team")


def view_names() -> dict[str, str]:
    return {"": str(_l("All I may see")), "me": str(_l("Mine")), "my_team": str(_l("My team"))}


def _dashboard(name: str) -> DashboardSpec:
    """The dashboard of that name if the reader may run any of its widgets; a 404 otherwise, as for
    an unknown one."""
    found = readable_dashboard(current_loom().registry, current_actor(), name)
    if found is None:
        abort(404)
    return found


@blueprint.get("/app/dashboards")
def dashboards_list() -> str:
    boards = readable_dashboards(current_loom().registry, current_actor())
    shown = [{"name": board.name, "label": label_text(board.label, board.name)} for board in boards]
    return render_template("dashboards.html", boards=shown)


def _default_view(loom: Any, actor: Any) -> str:
    """A department's head opens on everything they may see (their team's figures); anyone else
    on their own."""
    if actor.department_id is None:
        return "me"
    head = identity.head_of(loom, actor.department_id)
    return "" if head is not None and head["id"] == actor.user_id else "me"


@blueprint.get("/app/dashboards/<name>")
def dashboard_page(name: str) -> str | tuple[str, int]:
    return render_dashboard(_dashboard(name))


def render_dashboard(board: DashboardSpec, *, home: bool = False) -> str | tuple[str, int]:
    """The dashboard's page with the filters of the request; `home` when it stands as the home page."""
    loom, actor = current_loom(), current_actor()
    period = str(request.args.get("period", board.default_period)).strip()
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
    elif period and period not in report_view.PERIOD_PRESETS and period != board.default_period:
        problem, period = str(_l("Choose a period from the list.")), board.default_period
    if ".." in period and not (first or last):
        first, last = period.split("..", 1)  # a default range shows as the custom period it is
    widgets = []
    if problem is None:
        filters = {"period": period, "user": view, "department": department}
        results = run_dashboard(loom, actor, board, filters)
        widgets = [_widget(index, found) for index, found in enumerate(results)]
    page = render_template(
        "dashboard.html",
        board={"name": board.name, "label": label_text(board.label, board.name), "filters": board.filters},
        home=home,
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


def _widget(index: int, found: WidgetResult) -> dict[str, Any]:
    widget, spec = found.widget, found.report
    title = label_text(widget.label, "") or label_text(spec.label, spec.name)
    shown: dict[str, Any] = {
        "key": f"w{index}",
        "name": widget.name,
        "kind": widget.kind,
        "columns": widget.columns,
        "title": title,
        "report": spec.name,
        "links": report_view.report_links(spec.name, found.parameters),
        "whole_time": not any(p.kind == "period" for p in spec.parameters),
    }
    if found.error is not None:
        shown["problem"] = _problem(found.error, spec)
    elif found.kpi is not None:
        shown.update(_kpi(found.kpi, found))
    elif found.result is not None:
        shown["table"] = report_view.table(found.result)
        shown["chart"] = report_view.chart_data(found.result) if widget.kind == "chart" else None
    return shown


def _kpi(kpi: Kpi, found: WidgetResult) -> dict[str, Any]:
    """The card's figure and, with a target, the target and the share of it reached."""
    assert found.result is not None
    value: Any = int(kpi.total) if kpi.column.function == "count" else kpi.total
    shown: dict[str, Any] = {"value": report_view.shown(kpi.column, value, found.result, page_locale())}
    if kpi.target_error is not None:
        shown["target_problem"] = _problem(kpi.target_error, None)
    if kpi.target is not None:
        target: Any = int(kpi.target) if kpi.column.function == "count" else kpi.target
        shown["target"] = report_view.shown(kpi.column, target, found.result, page_locale())
    reached = kpi.reached
    if reached is not None:
        percent = reached * 100
        shown["percent"] = format_decimal(percent, format="#,##0.0", locale=babel_locale(page_locale())) + "%"
        shown["bar"] = float(min(percent, Decimal(100)))
        shown["met"] = reached >= 1
    elif kpi.target is not None:
        shown["percent"] = None  # a target of zero: nothing to reach
    return shown


def _problem(error: LoomError, spec: ReportSpec | None) -> str:
    """Why a widget's report did not run, in the reader's language."""
    if isinstance(error, PermissionDenied):
        return error_text(error)
    if isinstance(error, InvalidReportParameter):
        labels = {p.name: label_text(p.label, p.name) for p in spec.parameters} if spec else {}
        named = "、".join(labels.get(key, key) for key in error.fields)
        return _("The report does not take this value of %(names)s.", names=named)
    return _("The report cannot run with these values.")
