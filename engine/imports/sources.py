"""Reading import files one row at a time: CSV in any common encoding, and XLSX (engine.imports.xlsx_reader).

Nothing here holds more than one row (and a small sample) in memory, so a file of any size
imports in flat memory. Each row carries its line: the CSV line it starts on, or the sheet row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from engine.base.errors import LoomError
from engine.base.messages import Message

SNIFF_BYTES = 64 * 1024
SAMPLE_ROWS = 20


class UnreadableFile(LoomError):
    """The file is not a CSV or XLSX file Loom can read."""

    code = "invalid_import_file"


class SourceRow(NamedTuple):
    line: int  # the line (CSV) or sheet row (XLSX) a person finds the row at
    cells: list[Any]


@dataclass(frozen=True)
class FileInfo:
    """What the import wizard shows before anything is mapped."""

    columns: list[str]
    sample_rows: list[list[Any]]
    row_count_estimate: int
    encoding: str | None = None  # CSV only
    kind: str = "csv"


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise UnreadableFile(Message("file_not_csv_xlsx", file=path.name))


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (a superset of GBK and GB2312)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # The sample may end inside a character; an incremental decoder forgives only that.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def open_rows(
    path: Path, columns: tuple[int, int] | None = None
) -> Iterator[tuple[list[str], Iterator[SourceRow]]]:
    """The header (column names) and an iterator over the data rows, skipping blank rows.

    With `columns` (first, last; 0-based) a reader that can skips the rest: the header and the
    cells outside those columns may then be blank, and rows blank within them are skipped.
    """
    if not path.exists():
        raise UnreadableFile(Message("file_missing", file=str(path)))
    if file_kind(path) == "xlsx":
        with _xlsx_rows(path, columns) as opened:
            yield opened
    else:
        with _csv_rows(path) as opened:
            yield opened


@contextmanager
def _csv_rows(path: Path) -> Iterator[tuple[list[str], Iterator[SourceRow]]]:
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
    encoding = sniff_encoding(head)
    with path.open(encoding=encoding, newline="", errors="strict") as handle:
        reader = csv.reader(handle, dialect=_dialect(head, encoding))
        try:
            header = [name.strip() for name in next(reader, [])]
        except (UnicodeDecodeError, csv.Error) as error:
            raise UnreadableFile(
                Message("file_header_unreadable", file=path.name, error=str(error))
            ) from None
        if not any(header):
            raise UnreadableFile(Message("file_no_header", file=path.name))
        if any("\x00" in name for name in header):
            raise UnreadableFile(
                Message("file_header_unreadable", file=path.name, error=Message("holds_nul"))
            )

        def rows() -> Iterator[SourceRow]:
            line = reader.line_num + 1
            try:
                for cells in reader:
                    if "".join(cells).strip():  # any cell with more than blanks
                        yield SourceRow(line, cells)
                    line = reader.line_num + 1
            except (UnicodeDecodeError, csv.Error) as error:
                raise UnreadableFile(
                    Message("file_line_unreadable", file=path.name, line=line, error=str(error))
                ) from None

        yield header, rows()


def _dialect(head: bytes, encoding: str) -> type[csv.Dialect] | csv.Dialect:
    text = head.decode(encoding, errors="ignore")
    first = text.splitlines()[0] if text else ""
    # Tabs or semicolons only when the header clearly uses them: a comma file is the usual case.
    for delimiter in ("\t", ";"):
        if first.count(delimiter) > first.count(","):
            return _with_delimiter(delimiter)
    return csv.excel


def _with_delimiter(delimiter: str) -> type[csv.Dialect]:
    return type("ImportDialect", (csv.excel,), {"delimiter": delimiter})


@contextmanager
def _xlsx_rows(
    path: Path, columns: tuple[int, int] | None = None
) -> Iterator[tuple[list[str], Iterator[SourceRow]]]:
    from engine.imports.xlsx_reader import LAST_COLUMN, XlsxError

    sheet = _open_sheet(path)
    try:
        try:
            # The header as far as a sheet goes; then each row as far as the header, because a
            # cell no column names is never imported, and a row read to a stray cell far to the
            # right (or past the sheet's last column, XFD) is that much slower to read.
            values = sheet.rows(columns or (0, LAST_COLUMN))
            header = [_header_text(value) for value in next(values, ())]
            while header and not header[-1]:
                header.pop()
            if columns is None:
                values.close()
                values = sheet.rows((0, max(len(header) - 1, 0)))
                next(values, ())
        except XlsxError as error:
            raise UnreadableFile(Message("file_not_xlsx", file=path.name, error=str(error))) from None
        if not any(header):
            raise UnreadableFile(Message("file_no_header", file=path.name))

        def rows() -> Iterator[SourceRow]:
            line = 1
            try:
                for line, cells in enumerate(values, start=2):
                    # An empty cell is "" from one reader and None from the other; both are blank.
                    if any(cell is not None and cell != "" for cell in cells):
                        yield SourceRow(line, cells if type(cells) is list else list(cells))
            except XlsxError as error:
                raise UnreadableFile(
                    Message("file_line_unreadable", file=path.name, line=line + 1, error=str(error))
                ) from None

        yield header, rows()
    finally:
        sheet.close()


def _open_sheet(path: Path) -> Any:
    from engine.imports.xlsx_reader import XlsxError, XlsxSheet

    try:
        return XlsxSheet(path)
    except XlsxError as error:
        raise UnreadableFile(Message("file_not_xlsx", file=path.name, error=str(error))) from None


def _header_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def inspect_file(path: Path | str, sample: int = SAMPLE_ROWS) -> FileInfo:
    """The columns, the first rows and an estimate of the row count, read without loading the file."""
    path = Path(path)
    kind = file_kind(path)
    with open_rows(path) as (header, rows):
        sample_rows = [row.cells for _, row in zip(range(sample), rows, strict=False)]
        estimate = _xlsx_estimate(path) if kind == "xlsx" else _csv_estimate(path, len(sample_rows))
    encoding = None
    if kind == "csv":
        with path.open("rb") as handle:
            encoding = sniff_encoding(handle.read(SNIFF_BYTES))
    return FileInfo(header, sample_rows, estimate, encoding, kind)


def estimate_rows(path: Path | str) -> int:
    """An estimate of the data rows of a file, read from its first bytes only (for progress)."""
    path = Path(path)
    if file_kind(path) == "xlsx":
        return _xlsx_estimate(path)
    return _csv_estimate(path, 0)


def _csv_estimate(path: Path, sampled: int) -> int:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    lines = max(head.count(b"\n"), 1)
    if len(head) >= size:
        return max(lines - 1, sampled)
    return int(size / (len(head) / lines)) - 1


def _xlsx_estimate(path: Path) -> int:
    sheet = _open_sheet(path)
    try:
        return sheet.estimate_rows()
    finally:
        sheet.close()
