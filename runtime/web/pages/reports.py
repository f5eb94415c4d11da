"""Reports: the list of those the reader may run (by folder: the report's own, else its object's;
with a link to the report builder for those who may build), a report's page (its
parameters, the chart, the table of the same figures with a drill-down link on each row) and the
table exported as CSV or XLSX.

Every figure comes from the engine as the reader: their scope narrows the records counted, and a
report reading a field hidden from them is refused there.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for

from engine.base.spreadsheets import safe_cell, workbook_bytes
from engine.records.report_access import may_build_reports, may_manage_report
from engine.records.reports import ReportResult
from engine.records.reports import readable_reports as engine_readable_reports
from metadata.reports import ReportSpec
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale
from runtime.web.pages import report_view
from runtime.web.pages.blueprint import blueprint

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def readable_reports() -> list[ReportSpec]:
    """The reports over an object the reader may read, by name."""
    return engine_readable_reports(current_loom().registry, current_actor())


def report_spec(name: str) -> ReportSpec:
    """The report of that name if the reader may run it; a 404 otherwise, as for an unknown one."""
    for spec in readable_reports():
        if spec.name == name:
            return spec
    abort(404)


def folder_label(spec: ReportSpec) -> str:
    """The folder a report is listed in: its own (a label or one text), else its object's label."""
    if isinstance(spec.folder, str):
        return spec.folder
    if spec.folder:
        return label_text(spec.folder, spec.object)
    registry = current_loom().registry
    return label_text(registry.objects[spec.object].spec.label, spec.object)


def builder_url(endpoint: str, **values: Any) -> str | None:
    """A page of the report builder, when the builder is mounted (runtime never imports it)."""
    if f"builder.{endpoint}" not in current_app.view_functions:
        return None
    return url_for(f"builder.{endpoint}", **values)


@blueprint.get("/app/reports")
def reports_list() -> str:
    registry, actor = current_loom().registry, current_actor()
    folders: dict[str, dict[str, Any]] = {}
    for spec in readable_reports():
        label = folder_label(spec)
        folder = folders.setdefault(label, {"label": label, "reports": []})
        folder["reports"].append(
            {
                "name": spec.name,
                "label": label_text(spec.label, spec.name),
                "description": label_text(spec.description, ""),
                "chart": spec.chart,
                "sharing": spec.sharing.with_,
            }
        )
    may_build = may_build_reports(registry, actor)
    return render_template(
        "reports.html",
        folders=list(folders.values()),
        new_url=builder_url("report_new") if may_build else None,
        builder_url=builder_url("reports_index") if may_build else None,
    )


@blueprint.get("/app/reports/<name>")
def report_page(name: str) -> tuple[str, int] | str:
    spec = report_spec(name)
    loom, actor = current_loom(), current_actor()
    problem, result, status = None, None, 200
    used: dict[str, str] = {}
    try:
        given = report_view.engine_parameters(spec, request.args)
        result = report_view.run(loom, spec.name, actor, given)
        used = dict(result.parameters)
    except report_view.BadParameters as error:
        problem, status = error.message, 400
    page = render_template(
        "report.html",
        spec=spec,
        title=label_text(spec.label, spec.name),
        description=label_text(spec.description, ""),
        fields=report_view.parameter_fields(loom, spec, request.args, used),
        problem=problem,
        table=report_view.table(result) if result is not None else None,
        chart=report_view.chart_data(result) if result is not None else None,
        period=result.period if result is not None else None,
        links=report_view.report_links(spec.name, report_view.kept_args(spec, request.args)),
        edit_url=(
            builder_url("report_editor", name=spec.name)
            if may_manage_report(loom.registry, actor, spec)
            else None
        ),
    )
    return (page, status) if status != 200 else page


@blueprint.get("/app/reports/<name>/export.<any(csv, xlsx):kind>")
def report_export(name: str, kind: str) -> Response | tuple[str, int]:
    spec = report_spec(name)
    loom, actor = current_loom(), current_actor()
    try:
        result = report_view.run(loom, spec.name, actor, report_view.engine_parameters(spec, request.args))
    except report_view.BadParameters as error:
        return render_template("error.html", status=400, message=error.message), 400
    header, rows = _export_rows(result)
    if kind == "xlsx":
        response = Response(workbook_bytes(header, rows), mimetype=XLSX_TYPE)
    else:
        response = Response(_csv(header, rows), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{spec.name}.{kind}"'
    return response


def _export_rows(result: ReportResult) -> tuple[list[str], list[list[Any]]]:
    locale = page_locale()
    columns = list(result.columns)
    header = [safe_cell(label_text(column.label, column.name)) for column in columns]
    rows = []
    for row in result.rows:
        cells = []
        for column in columns:
            value = report_view.plain(column, row.get(column.name), result, locale)
            cells.append(safe_cell(value) if isinstance(value, str) else value)
        rows.append(cells)
    return header, rows


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    """The table as CSV; the BOM makes Excel read the Chinese as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
