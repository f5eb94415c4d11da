"""The spreadsheets Loom writes (exports, reports, import reports): text shown, never run."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from typing import Any

# What a spreadsheet program would read as the start of a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters a workbook's XML cannot hold. A form keeps a stray control character (a paste from
# another program); written as is, it failed the whole workbook.
_NOT_IN_WORKBOOKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def safe_cell(text: str) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def workbook_text(text: str) -> str:
    """Text a workbook can hold: each character it cannot shows as �."""
    return _NOT_IN_WORKBOOKS.sub("\ufffd", text)


def workbook_bytes(header: list[str], rows: Iterable[list[Any]], sheet_name: str | None = None) -> bytes:
    """A one-sheet workbook of a header and rows: text as text, numbers as numbers."""
    from openpyxl import Workbook  # only here: most processes never write a workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    sheet.append([workbook_text(text) for text in header])
    for row in rows:
        sheet.append([workbook_text(value) if isinstance(value, str) else value for value in row])
    with tempfile.TemporaryFile() as out:  # the zip is written to disk, not held twice in memory
        book.save(out)
        out.seek(0)
        return out.read()
