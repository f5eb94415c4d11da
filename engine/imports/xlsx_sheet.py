"""The first worksheet of an XLSX file, read row by row in flat memory.

openpyxl's read-only worksheet has two costs that grow with the file: loading it looks for the
sheet's size, and a file from a streaming writer (Loom's own exports, many reporting tools)
states none, so openpyxl parses the whole sheet to find it; and reading rows clears each row
element but leaves it in the tree, some 80 bytes a row. Here the size is never searched for and
each row leaves the tree once read. Cells are still openpyxl's: shared strings, date styles,
the cached values of formulas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import DATA_TAG, ROW_TAG, WorkSheetParser

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+[0-9]+:)?[A-Z]+([0-9]+)"')
HEAD_BYTES = 64 * 1024


class XlsxSheet:
    """The first worksheet of a workbook; close it when done."""

    def __init__(self, path: Path) -> None:
        reader = ExcelReader(path, read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        self.book = reader.wb
        self.archive = reader.archive
        self.shared_strings = reader.shared_strings
        targets = [
            rel.target
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        if not targets:
            self.close()
            raise ValueError("the workbook has no worksheet")
        self.part = targets[0]

    def close(self) -> None:
        self.archive.close()

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Each row's values from column A, and an empty tuple for each row the sheet leaves out."""
        book = self.book
        with self.archive.open(self.part) as source:
            cells = WorkSheetParser(
                source,
                self.shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            expected = 1
            sheet_data: Element | None = None
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    if element.tag == DATA_TAG:
                        sheet_data = element
                    continue
                if element.tag != ROW_TAG:
                    continue
                number, row = cells.parse_row(element)
                if sheet_data is not None:
                    sheet_data.clear()  # the rows read so far, this one included
                for _ in range(expected, number):
                    yield ()
                expected = number + 1
                yield _values(row)

    def estimate_rows(self) -> int:
        """Data rows (header excluded): the sheet's stated size, else its size in bytes over the
        bytes per row of its first rows."""
        with self.archive.open(self.part) as source:
            head = source.read(HEAD_BYTES)
        stated = _DIMENSION.search(head)
        if stated is not None:
            return max(int(stated.group(1)) - 1, 0)
        rows_in_head = head.count(b"<row ") + head.count(b"<x:row ")
        if not rows_in_head:
            return 0
        total = self.archive.getinfo(self.part).file_size
        if total <= len(head):
            return max(rows_in_head - 1, 0)
        return int(total / (len(head) / rows_in_head)) - 1


def _values(row: list[dict[str, Any]]) -> tuple[Any, ...]:
    if not row:
        return ()
    values: list[Any] = [None] * max(cell["column"] for cell in row)
    for cell in row:
        values[cell["column"] - 1] = cell["value"]
    return tuple(values)
