"""Reports over the API: `GET /reports` lists those the caller may run, `GET /reports/<name>` runs one.

The report's parameters are query parameters (`?period=last_quarter&rep=my_team`), with `filter`
to narrow it further. The answer names its columns (with labels in the caller's language) and
gives each row its values, the labels of its group values, and the filter that lists its
records through `GET /records/<object>?filter=…`.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from engine.base.errors import ExpressionError
from engine.records.reports import readable_reports
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import BadQuery
from runtime.web.api.report_json import report_json, spec_json
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
    """Run a report as the caller (from the report cache when nothing it reads has changed)."""
    loom, actor = current_loom(), current_actor()
    given = {key: value for key, value in request.args.items() if key not in COMMON_PARAMETERS}
    try:
        result = loom.reports.run(name, actor, filter=request.args.get("filter") or None, parameters=given)
    except ExpressionError as error:
        # A filter the caller wrote is a bad request, as on the list of records.
        raise BadQuery(error.message) from None
    return jsonify(report_json(result, api_locale()))


# Reading the parameters off the URL ourselves: the engine names any it does not take.
get_report.loom_any_query = True  # type: ignore[attr-defined]
