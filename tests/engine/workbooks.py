"""Workbooks changed after they were written: what a sheet can hold that no writer produces."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

SHEET, STRINGS = "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"


def with_parts(path: Path, target: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A copy of the workbook at `target` (which may be `path`), each part in `changes` changed."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    for part, change in changes.items():
        parts[part] = change(parts[part])
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return target


def with_numbers(path: Path, numbers: dict[int, bytes]) -> Path:
    """The workbook with each stand-in number cell's value written as the given text (1E+999, NaN)."""

    def replaced(sheet: bytes) -> bytes:
        for stand_in, number in numbers.items():
            sheet = sheet.replace(f"<v>{stand_in}</v>".encode(), b"<v>" + number + b"</v>")
        return sheet

    return with_parts(path, path, {SHEET: replaced})
