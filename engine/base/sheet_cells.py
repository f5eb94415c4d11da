"""Text as it goes into a spreadsheet Loom writes (exports, import reports): shown, never run."""

from __future__ import annotations

import re

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
