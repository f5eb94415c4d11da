"""A list exported as CSV or XLSX: the rows the actor may export (their export scope, not their read
scope), the columns and filters of the list, values as the page shows them.

A cell a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage return)
is written with a leading apostrophe, so an exported customer name cannot run anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, request
from openpyxl import Workbook

from engine.loom import Loom
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import page_locale
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import Shown, ValueFormatter, field_label
from runtime.web.pages.list_query import ListQuery, default_sort
from runtime.web.pages.objects import ObjectPage, object_page

EXPORT_LIMIT = 10_000
BATCH = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@blueprint.get("/app/<object_name>/export.<any(csv, xlsx):kind>")
def export_list(object_name: str, kind: str) -> Response:
    page = object_page(object_name, "export")
    query = ListQuery.from_args(request.args)
    columns = query.shown_columns(page)
    header = [field_label(page.model, name) for name in columns]
    rows = _rows(current_loom(), page, query, columns)
    filename = f"{object_name}.{kind}"
    if kind == "csv":
        body = _csv(header, rows)
        mimetype = "text/csv; charset=utf-8"
    else:
        body = _xlsx(header, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _rows(loom: Loom, page: ObjectPage, query: ListQuery, columns: list[str]) -> Iterator[list[str]]:
    actor = current_actor()
    formatter = ValueFormatter(loom, actor, page_locale())
    queries = loom.queries(actor)
    cursor, sent = None, 0
    while sent < EXPORT_LIMIT:
        found = queries.find(
            page.name,
            filter=query.expression(page),
            sort=query.sort or default_sort(page),
            limit=min(BATCH, EXPORT_LIMIT - sent),
            cursor=cursor,
            operation="export",
        )
        formatter.prepare(page.model, found.records, columns)
        for record in found.records:
            yield [_cell(formatter.show(page.model, name, record)) for name in columns]
        sent += len(found.records)
        cursor = found.next_cursor
        if cursor is None:
            return


def _csv(header: list[str], rows: Iterator[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read the Chinese as UTF-8


def _xlsx(header: list[str], rows: Iterator[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(shown: Shown) -> str:
    return "" if shown.empty else safe_cell(shown.text)
