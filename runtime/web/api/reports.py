"""Reports over the API: `GET /reports` lists those the caller may run, `GET /reports/<name>` runs one.

The report's parameters are query parameters (`?period=last_quarter&rep=my_team`), with `filter`
to narrow it further. The answer names its columns (with labels in the caller's language) and
gives each row its values, the labels of its group values, and the filter that lists its
records through `GET /records/<object>?filter=…`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine.base.actors import Actor
from engine.base.errors import ExpressionError, UnknownReport
from engine.identity.permissions import access_for
from engine.records.reports import ReportColumn, ReportResult, run_report
from engine.schema.registry import Registry
from metadata.frozen import Label
from metadata.reports import ReportSpec
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import BadQuery
from runtime.web.api.record_json import plain_json
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import api_locale

#: Query parameters every report takes besides its own.
COMMON_PARAMETERS = ("filter",)


@blueprint.get("/reports")
def list_reports() -> Response:
    """The reports the caller may run: over an object they may read."""
    loom, actor = current_loom(), current_actor()
    locale = api_locale()
    return jsonify({"data": [spec_json(spec, locale) for spec in readable_reports(loom.registry, actor)]})


@blueprint.get("/reports/<name>")
def get_report(name: str) -> Response:
    """Run a report as the caller; its parameters come as query parameters."""
    loom, actor = current_loom(), current_actor()
    given = {key: value for key, value in request.args.items() if key not in COMMON_PARAMETERS}
    try:
        result = run_report(loom, name, actor, filter=request.args.get("filter") or None, parameters=given)
    except ExpressionError as error:
        # A filter the caller wrote is a bad request, as on the list of records.
        raise BadQuery(error.message) from None
    return jsonify(report_json(result, api_locale()))


# Reading the parameters off the URL ourselves: the engine names any it does not take.
get_report.loom_any_query = True  # type: ignore[attr-defined]


def readable_reports(registry: Registry, actor: Actor) -> list[ReportSpec]:
    found = []
    for report_name in sorted(registry.reports()):
        try:
            spec = registry.report(report_name)
        except UnknownReport:
            continue
        if spec.object in registry.objects and access_for(registry, actor, spec.object).allows("read"):
            found.append(spec)
    return found


def _text(label: Label, locale: str, fallback: str) -> str:
    return label.get(locale) or label.get("en") or next(iter(label.values()), fallback)


def spec_json(spec: ReportSpec, locale: str) -> dict[str, Any]:
    """What a caller needs to run a report: its name, title, object, chart and parameters."""
    return {
        "name": spec.name,
        "label": _text(spec.label, locale, spec.name),
        "object": spec.object,
        "chart": spec.chart,
        "parameters": [
            {
                "name": p.name,
                "kind": p.kind,
                "field": p.field,
                "default": p.default,
                "label": _text(p.label, locale, p.name),
            }
            for p in spec.parameters
        ],
    }


def _column_json(column: ReportColumn, locale: str) -> dict[str, Any]:
    return {
        "name": column.name,
        "role": column.role,
        "label": _text(column.label, locale, column.name),
        "field": column.field,
        "bucket": column.bucket,
        "function": column.function,
    }


def report_json(result: ReportResult, locale: str) -> dict[str, Any]:
    """A report's result as the API sends it; decimals as exact strings, dates as YYYY-MM-DD."""
    spec = result.report
    groups = [column.name for column in result.columns if column.role == "group"]
    rows = []
    for row, filter in zip(result.rows, result.filters, strict=True):
        rows.append(
            {
                "values": plain_json(dict(row)),
                "labels": {name: result.label(name, row[name], locale) for name in groups},
                "filter": filter,
            }
        )
    period = result.period
    previous = result.previous
    return {
        **spec_json(spec, locale),
        "values": dict(result.parameters),
        "period": None
        if period is None
        else {"first": period.first.isoformat(), "last": period.last.isoformat()},
        "previous_period": (
            None
            if previous is None
            else {"first": previous.first.isoformat(), "last": previous.last.isoformat()}
        ),
        "columns": [_column_json(column, locale) for column in result.columns],
        "rows": rows,
    }
