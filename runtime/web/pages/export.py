"""A list exported as CSV or XLSX: the rows the actor may export (their export scope, not their read
scope), the columns and filters of the list, values as the page shows them.

CSV is streamed batch by batch, so a list of any size exports whole with the download's own progress;
an XLSX workbook is built whole before it is sent, so it has a cap the list page states beside its
button, and a list longer than that is refused with the count rather than cut short.

A cell a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage return)
is written with a leading apostrophe, so an exported customer name cannot run anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, render_template, request, stream_with_context
from flask_babel import format_number
from flask_babel import gettext as _

from engine.base.spreadsheets import safe_cell, workbook_bytes
from engine.loom import Loom
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import Shown, ValueFormatter, field_label
from runtime.web.pages.list_query import ListQuery, default_sort
from runtime.web.pages.objects import ObjectPage, object_page

# An XLSX workbook is assembled whole before it is sent (the spreadsheet apps open far fewer rows
# comfortably than their 1,048,576 maximum); CSV has no cap.
XLSX_LIMIT = 100_000
BATCH = 500


@blueprint.get("/app/<object_name>/export.<any(csv, xlsx):kind>")
def export_list(object_name: str, kind: str) -> Response | tuple[str, int]:
    page = object_page(object_name, "export")
    query = ListQuery.from_args(request.args)
    columns = query.shown_columns(page)
    header = [field_label(page.model, name) for name in columns]
    loom = current_loom()
    if kind == "xlsx":
        total = loom.queries(current_actor()).count(
            page.name, filter=query.expression(page), operation="export"
        )
        if total > XLSX_LIMIT:
            message = _(
                "This list has %(total)s rows, more than the %(limit)s an Excel export holds. Export it as"
                " CSV, which has no limit, or narrow the filters.",
                total=format_number(total),
                limit=format_number(XLSX_LIMIT),
            )
            return render_template("error.html", status=422, message=message), 422
        body = workbook_bytes(header, _rows(loom, page, query, columns))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = Response(body, mimetype=mimetype)
    else:
        rows = _rows(loom, page, query, columns)
        first = next(rows, None)  # a filter that cannot run is refused here, before anything is sent
        streamed = stream_with_context(_csv(header, first, rows))
        response = Response(streamed, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{object_name}.{kind}"'
    return response


def _rows(loom: Loom, page: ObjectPage, query: ListQuery, columns: list[str]) -> Iterator[list[str]]:
    """Every exportable row of the list, read BATCH at a time."""
    actor = current_actor()
    formatter = ValueFormatter(loom, actor, page_locale())
    queries = loom.queries(actor)
    cursor = None
    while True:
        found = queries.find(
            page.name,
            filter=query.expression(page),
            sort=query.sort or default_sort(page),
            limit=BATCH,
            cursor=cursor,
            operation="export",
        )
        formatter.prepare(page.model, found.records, columns)
        for record in found.records:
            yield [_cell(formatter.show(page.model, name, record)) for name in columns]
        cursor = found.next_cursor
        if cursor is None:
            return


def _csv(header: list[str], first: list[str] | None, rows: Iterator[list[str]]) -> Iterator[bytes]:
    """The CSV a batch of lines at a time; the BOM makes Excel read the Chinese as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(header)
    if first is not None:
        writer.writerow(first)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % BATCH == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def _cell(shown: Shown) -> str:
    return "" if shown.empty else safe_cell(shown.text)
