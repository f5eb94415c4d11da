"""Dashboards over the API: `GET /dashboards` lists those the caller may see, `GET /dashboards/<name>`
runs every widget the caller may run, with the dashboard's filters (`?period=last_quarter&user=me`).

Each widget carries its report's result as `GET /reports/<name>` sends it and, for a KPI, its total,
target and the share reached, as exact decimal strings.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import NotFound

from engine.base.errors import LoomError
from engine.records.dashboards import (
    Kpi,
    WidgetResult,
    readable_dashboard,
    readable_dashboards,
    run_dashboard,
)
from metadata.dashboards import FILTER_KINDS, DashboardSpec
from metadata.report_checks import default_problem
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import BadQuery, takes_query
from runtime.web.api.report_json import report_json
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import api_locale, label_text


def dashboard_head(board: DashboardSpec, locale: str) -> dict[str, Any]:
    return {
        "name": board.name,
        "label": label_text(board.label, board.name, locale),
        "filters": list(board.filters),
        "default_period": board.default_period,
        "home_for": list(board.home_for),
    }


@blueprint.get("/dashboards")
@takes_query()
def list_dashboards() -> Response:
    """The dashboards with a widget the caller may run."""
    loom, actor = current_loom(), current_actor()
    locale = api_locale()
    return jsonify(
        {"data": [dashboard_head(board, locale) for board in readable_dashboards(loom.registry, actor)]}
    )


@blueprint.get("/dashboards/<name>")
@takes_query(*FILTER_KINDS)
def get_dashboard(name: str) -> Response:
    """Run the dashboard as the caller: each widget they may run, each figure in their scope."""
    loom, actor = current_loom(), current_actor()
    board = readable_dashboard(loom.registry, actor, name)
    if board is None:
        raise NotFound(f"no dashboard named {name!r} that you may see")
    filters = {"period": board.default_period, "user": "", "department": ""}
    for kind in FILTER_KINDS:
        value = request.args.get(kind)
        if value is None:
            continue
        if value and (problem := default_problem(kind, value)) is not None:
            raise BadQuery(f"{kind}: {problem}")
        filters[kind] = value
    locale = api_locale()
    widgets = [_widget_json(found, locale) for found in run_dashboard(loom, actor, board, filters)]
    shown = {kind: value for kind, value in filters.items() if kind in board.filters}
    return jsonify({**dashboard_head(board, locale), "values": shown, "widgets": widgets})


def _widget_json(found: WidgetResult, locale: str) -> dict[str, Any]:
    """A widget as the API sends it: its report's result, a KPI's figures, or why it could not run."""
    widget = found.widget
    return {
        "name": widget.name,
        "kind": widget.kind,
        "report": widget.report,
        "label": label_text(widget.label, "", locale)
        or label_text(found.report.label, found.report.name, locale),
        "width": widget.columns,
        "result": None if found.result is None else report_json(found.result, locale),
        "kpi": None if found.kpi is None else _kpi_json(found.kpi, locale),
        "error": None if found.error is None else _error_json(found.error, locale),
    }


def _kpi_json(kpi: Kpi, locale: str) -> dict[str, Any]:
    reached = kpi.reached
    return {
        "total": str(kpi.total),
        "target": None if kpi.target is None else str(kpi.target),
        "reached": None if reached is None else str(round(reached, 4)),
        "target_error": None if kpi.target_error is None else _error_json(kpi.target_error, locale),
    }


def _error_json(error: LoomError, locale: str) -> dict[str, Any]:
    return {"code": error.code, "message": error.localized(locale)}
