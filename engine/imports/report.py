"""The bad-row report: each row that was not imported, as it was in the file, with every reason."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.base.messages import from_json, localize, to_json
from engine.base.spreadsheets import safe_cell, workbook_bytes
from engine.imports.options import ImportRefused, Problem
from engine.imports.store import get_import
from engine.schema.registry import ObjectModel
from engine.store.system_tables import import_problems

if TYPE_CHECKING:
    from engine.loom import Loom

FORMATS = ("csv", "xlsx")
# A spreadsheet would run a cell starting with these as a formula (CSV/formula injection).


def bad_rows_report(
    loom: Loom,
    import_id: int,
    fmt: str = "csv",
    kinds: Sequence[str] = ("invalid", "duplicate"),
    locale: str = "zh_CN",
) -> bytes:
    """The stored problems of an import as a CSV (UTF-8 with BOM, for Excel) or XLSX file."""
    with loom.read() as conn:
        row = get_import(conn, import_id)
        model = loom.registry_for(conn).object(row["object"])
        query = (
            select(import_problems)
            .where(import_problems.c.import_id == import_id, import_problems.c.kind.in_(list(kinds)))
            .order_by(import_problems.c.line, import_problems.c.id)
        )
        problems = (
            Problem(p.line, p.kind, p.cells, read_reasons(p.reasons))
            for p in conn.execute(query, execution_options={"yield_per": 1000})
        )
        return problems_report(model, row["options"].get("header", []), problems, fmt, locale)


def problems_report(
    model: ObjectModel,
    header: Sequence[str],
    problems: Iterable[Problem],
    fmt: str = "csv",
    locale: str = "zh_CN",
) -> bytes:
    """Problems (from a dry run or an import) as a file: line, the original cells, kind, reasons."""
    if fmt not in FORMATS:
        raise ImportRefused([f"report format must be one of {', '.join(FORMATS)}"])
    columns = ["line", *header, "problem", "reasons"]
    rows = (
        [p.line, *_padded(p.cells, len(header)), p.kind, reasons_text(model, p.reasons, locale)]
        for p in problems
    )
    return _csv(columns, rows) if fmt == "csv" else _xlsx(columns, rows)


def stored_reasons(reasons: Mapping[str, Sequence[str]]) -> dict[str, list[Any]]:
    """A row's reasons as stored JSON: each message keeps its id and parameters, readable in any language."""
    return {name: [to_json(message) for message in messages] for name, messages in reasons.items()}


def read_reasons(stored: Mapping[str, Sequence[Any]]) -> dict[str, list[str]]:
    """The reasons `stored_reasons` stored (or plain text, as older imports stored it)."""
    return {name: [from_json(message) for message in messages] for name, messages in stored.items()}


def reasons_text(model: ObjectModel, reasons: Mapping[str, Sequence[str]], locale: str = "zh_CN") -> str:
    """Every reason of a row on one line, in `locale`: `客户名称 (name): 为必填项; 联系电话 (phone): …`."""
    parts = []
    for name, messages in reasons.items():
        spec = model.fields.get(name)
        if spec is None:
            where = ""
        else:
            label = spec.label.get(locale) or spec.label.get("en") or name
            where = f"{label} ({name}): " if label != name else f"{name}: "
        parts.append(where + ", ".join(localize(message, locale) for message in messages))
    return "; ".join(parts)


def _padded(cells: Sequence[Any], width: int) -> list[Any]:
    return list(cells[:width]) + [None] * (width - len(cells))


def _safe(value: Any) -> Any:
    return safe_cell(value) if isinstance(value, str) else value


def _csv(columns: list[str], rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if value is None else _safe(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(columns: list[str], rows: Iterable[list[Any]]) -> bytes:
    return workbook_bytes(columns, ([_safe(value) for value in row] for row in rows), "problems")
