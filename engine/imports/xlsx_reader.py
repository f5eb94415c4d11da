"""A worksheet of an XLSX file, read row by row in flat memory.

Two readers, chosen by what the file holds (docs/api.md, "Reading XLSX", has the measurements).
Rows stream through python-calamine-plus (Rust) when the workbook's shared-strings table is small:
it is several times faster than any Python parser, but it keeps that table in memory, and a sheet
of unique names and addresses makes the table as large as the sheet. Larger tables, and machines
without the package, take the standard library's reader: expat over the inflated sheet XML, the
shared strings read only as far as the cells asked for need and parked in a temporary file in
blocks, of which only the few that rows are reading from are kept (writers number strings in the
order rows first use them, so rows read blocks in order). Either way cells come back as Python
values: text, int or float, bool, date or datetime for cells with a date format (serials read in
the workbook's 1900 or 1904 system), time for a time of day, a formula's error as its text
(#N/A), and None (or "") for an empty cell.
"""

from __future__ import annotations

import contextlib
import marshal
import posixpath
import re
import tempfile
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from engine.fieldtypes.temporal import from_spreadsheet_serial

READ_BYTES = 256 * 1024
# The shared strings are read on in smaller steps: a header row needs only the table's first few.
STRINGS_READ_BYTES = 16 * 1024
HEAD_BYTES = 64 * 1024
# Shared strings kept in memory before the table is parked on disk, and the size of a parked block.
STRINGS_IN_MEMORY = 50_000
BLOCK_STRINGS = 4_096
BLOCKS_KEPT = 16
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+[0-9]+:)?[A-Z]+([0-9]+)"')
_ROW_START = re.compile(rb"<(?:\w+:)?row[\s>]")
# Built-in number formats that show dates or times (ECMA-376 18.8.30).
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 30, 36, 45, 46, 47, 50, 57})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


class XlsxError(ValueError):
    """The file is not an XLSX workbook this reader understands (the message says why)."""


# What a damaged zip member or its XML raises while it is read.
_DAMAGED = (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError)


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _parse(source: IO[bytes], start: Any = None, end: Any = None, text: Any = None) -> None:
    """Run expat over a zip member with the given handlers, as it streams."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = READ_BYTES
    if start is not None:
        parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        parser.ParseFile(source)
    except _DAMAGED as error:
        raise XlsxError(f"damaged file: {error}") from None


def is_date_format(code: str) -> bool:
    """Whether a number format shows a date or time: d, m, y, h or s outside quotes and brackets."""
    bare = _QUOTED.sub("", code).lower()
    if bare in ("general", "@"):
        return False
    return any(letter in bare for letter in "dyhs") or ("m" in bare and "0" not in bare)


class SharedStrings:
    """The workbook's shared strings by index: in memory while few, else in blocks on disk.

    The table is read only as far as the cells asked for need (`more` reads on): a header row
    names the first few strings, and rows use them in about the order they were written.
    """

    def __init__(self, more: Callable[[], bool] | None = None) -> None:
        self.strings: list[str] = []  # those not parked: all of them while few, else the newest
        self._parked = 0  # strings parked in blocks, the first ones of the table
        self._more = more  # reads on in the table; False once it is all read
        self._done = more is None
        self._file: IO[bytes] | None = None
        self._blocks: list[tuple[int, int]] = []  # (offset, length) of each parked block
        self._kept: OrderedDict[int, list[str]] = OrderedDict()

    def add(self, text: str) -> None:
        self.strings.append(text)
        if len(self.strings) >= STRINGS_IN_MEMORY and self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 — closed with the sheet
        if self._file is not None and len(self.strings) >= BLOCK_STRINGS:
            self._park()

    def _park(self) -> None:
        assert self._file is not None
        self._file.seek(0, 2)  # reading a block moved the position
        while len(self.strings) >= BLOCK_STRINGS or (self.strings and self._done):
            block, self.strings = self.strings[:BLOCK_STRINGS], self.strings[BLOCK_STRINGS:]
            data = marshal.dumps(block)
            self._blocks.append((self._file.tell(), len(data)))
            self._file.write(data)
            self._parked += len(block)

    def read_all(self) -> None:
        while not self._done:
            self._more()  # type: ignore[misc]

    def finish(self) -> None:
        self._done = True
        if self._file is not None:
            self._park()
            self._file.flush()

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        while not self._done and index >= self._parked + len(self.strings):
            self._more()  # type: ignore[misc]
        if index >= self._parked:
            return self.strings[index - self._parked]  # IndexError for an index past the table
        number, at = divmod(index, BLOCK_STRINGS)
        block = self._kept.get(number)
        if block is None:
            offset, length = self._blocks[number]
            assert self._file is not None
            self._file.seek(offset)
            block = self._kept[number] = marshal.loads(self._file.read(length))
            if len(self._kept) > BLOCKS_KEPT:
                self._kept.popitem(last=False)
        else:
            self._kept.move_to_end(number)
        return block[at]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class XlsxWorkbook:
    """An XLSX file's worksheets, styles and shared strings; close it when done."""

    def __init__(self, path: Path | str) -> None:
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise XlsxError(f"not an XLSX (zip) file: {error}") from None
        self.strings = SharedStrings()  # none until the workbook says where they are
        self._strings_source: IO[bytes] | None = None  # the shared strings, open while read on
        try:
            self._names = set(self.archive.namelist())
            self.sheets, self.date1904 = self._read_workbook()
            self.date_styles = self._read_styles()
            if (part := self.strings_part) is not None:
                self.strings = SharedStrings(self._strings_from(part))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.strings.close()
        if self._strings_source is not None:
            self._strings_source.close()
        self.archive.close()

    def __enter__(self) -> XlsxWorkbook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the workbook's parts -----------------------------------------------------------------------

    def _member(self, name: str) -> IO[bytes] | None:
        return self.archive.open(name) if name in self._names else None

    def _office_document(self) -> str:
        """The workbook part the package names (xl/workbook.xml as Excel saves it)."""
        found = ["xl/workbook.xml"]
        rels = self._member("_rels/.rels")
        if rels is not None:

            def relationship(name: str, attrs: dict[str, str]) -> None:
                if _local(name) == "Relationship" and attrs.get("Type", "").endswith("/officeDocument"):
                    found[0] = attrs.get("Target", "").lstrip("/")

            with rels:
                _parse(rels, start=relationship)
        return found[0]

    def _read_workbook(self) -> tuple[list[tuple[str, str]], bool]:
        """The worksheets as (name, part) in workbook order, and whether dates count from 1904."""
        workbook = self._office_document()
        if workbook not in self._names:
            raise XlsxError("the file has no workbook part")
        targets: dict[str, tuple[str, str]] = {}  # relationship id → (part, type)
        folder = posixpath.dirname(workbook)
        rels = self._member(posixpath.join(folder, "_rels", posixpath.basename(workbook) + ".rels"))
        if rels is not None:

            def relationship(name: str, attrs: dict[str, str]) -> None:
                if _local(name) == "Relationship":
                    target = attrs.get("Target", "")
                    part = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target))
                    )
                    targets[attrs.get("Id", "")] = (part, attrs.get("Type", ""))

            with rels:
                _parse(rels, start=relationship)
        sheets: list[tuple[str, str]] = []
        date1904 = [False]

        def element(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "sheet":
                rid = next((v for k, v in attrs.items() if _local(k) == "id" and k != "sheetId"), "")
                part, kind = targets.get(rid, ("", ""))
                if part in self._names and not kind.endswith("chartsheet"):
                    sheets.append((attrs.get("name", ""), part))
            elif local == "workbookPr":
                date1904[0] = attrs.get("date1904", "0").lower() in ("1", "true")

        with self.archive.open(workbook) as source:
            _parse(source, start=element)
        if not sheets:
            raise XlsxError("the workbook has no worksheet")
        return sheets, date1904[0]

    def _read_styles(self) -> list[bool]:
        """For each cell style (the `s` of a cell), whether its number format shows a date."""
        source = self._member("xl/styles.xml")
        if source is None:
            return []
        custom: dict[int, bool] = {}
        styles: list[bool] = []
        where = {"cellXfs": False}

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "numFmt":
                with contextlib.suppress(ValueError):
                    custom[int(attrs.get("numFmtId", "-1"))] = is_date_format(attrs.get("formatCode", ""))
            elif local == "cellXfs":
                where["cellXfs"] = True
            elif local == "xf" and where["cellXfs"]:
                try:
                    number = int(attrs.get("numFmtId", "0"))
                except ValueError:
                    number = 0
                styles.append(custom.get(number, number in _DATE_FORMAT_IDS))

        def end(name: str) -> None:
            if _local(name) == "cellXfs":
                where["cellXfs"] = False

        with source:
            _parse(source, start=start, end=end)
        return styles

    @property
    def strings_part(self) -> str | None:
        return next((n for n in self._names if n.lower() == "xl/sharedstrings.xml"), None)

    def strings_size(self) -> int:
        """Bytes of the shared-strings XML once inflated (0 without one)."""
        part = self.strings_part
        return 0 if part is None else self.archive.getinfo(part).file_size

    def _strings_from(self, part: str) -> Callable[[], bool]:
        """What reads the next stretch of the shared-strings XML into `self.strings` (False at its end)."""
        parts: list[str] = []
        state = {"in_t": False, "skip": 0}

        def start(name: str, _attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "t":
                state["in_t"] = True
            elif local in ("rPh", "phoneticPr"):  # the reading guide (furigana), not the text
                state["skip"] += 1
            elif local == "si":
                parts.clear()

        def end(name: str) -> None:
            local = _local(name)
            if local == "t":
                state["in_t"] = False
            elif local == "rPh":
                state["skip"] -= 1
            elif local == "si":
                self.strings.add("".join(parts))

        def text(data: str) -> None:
            if state["in_t"] and not state["skip"]:
                parts.append(data)

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = text
        source = self._strings_source = self.archive.open(part)

        def more() -> bool:
            try:
                chunk = source.read(STRINGS_READ_BYTES)
                parser.Parse(chunk, not chunk)
            except _DAMAGED as error:
                raise XlsxError(f"damaged file: {error}") from None
            if chunk:
                return True
            source.close()
            self.strings.finish()
            return False

        return more

    # -- a worksheet ---------------------------------------------------------------------------------

    def sheet_part(self, name: str | None = None) -> str:
        """The part of the named worksheet, or of the first one."""
        if name is None:
            return self.sheets[0][1]
        for sheet_name, part in self.sheets:
            if sheet_name == name:
                return part
        raise XlsxError(f"the workbook has no sheet named {name!r}")

    def rows(
        self, name: str | None = None, columns: tuple[int, int] | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Each row's values from column A, with an empty tuple for each row the sheet leaves out.

        With `columns` (first, last; 0-based) the cells outside are left blank, unread.
        """
        reader = _SheetReader(self, columns)
        with self.archive.open(self.sheet_part(name)) as source:
            parser = expat.ParserCreate()
            parser.buffer_text = True
            parser.buffer_size = READ_BYTES
            parser.StartElementHandler = reader.start
            parser.EndElementHandler = reader.end
            parser.CharacterDataHandler = reader.text
            ready = reader.ready
            try:
                while chunk := source.read(READ_BYTES):
                    parser.Parse(chunk, False)
                    if ready:
                        yield from ready
                        ready.clear()
                parser.Parse(b"", True)
                # A pass over the whole sheet reads the whole table too, so a damaged one is
                # found by the survey that reads the file before its import does.
                self.strings.read_all()
            except _DAMAGED as error:
                raise XlsxError(f"damaged worksheet: {error}") from None
            except XlsxError:
                raise
            except (IndexError, ValueError) as error:  # a string index past the table, a number that is none
                raise XlsxError(f"a cell cannot be read: {error}") from None
            yield from ready

    def estimate_rows(self, name: str | None = None) -> int:
        """Data rows (header excluded): the sheet's stated size, else its size in bytes over the
        bytes per row of its first rows."""
        part = self.sheet_part(name)
        with self.archive.open(part) as source:
            head = source.read(HEAD_BYTES)
        stated = _DIMENSION.search(head)
        if stated is not None and int(stated.group(1)) > 1:
            return int(stated.group(1)) - 1
        rows_in_head = len(_ROW_START.findall(head))
        if not rows_in_head:
            return 0
        total = self.archive.getinfo(part).file_size
        if total <= len(head):
            return max(rows_in_head - 1, 0)
        return int(total / (len(head) / rows_in_head)) - 1


def _column(ref: str) -> int:
    """The 0-based column of a cell reference such as "AB12"."""
    number = 0
    for char in ref:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            number = number * 26 + ord(char) - 96
        else:
            break
    return number - 1


class _SheetReader:
    """expat handlers that turn a worksheet's row elements into tuples of values."""

    def __init__(self, book: XlsxWorkbook, columns: tuple[int, int] | None = None) -> None:
        # Cells outside these columns are skipped as they start: no text kept, no value made.
        self.first, self.last = columns if columns is not None else (0, None)
        self.strings = book.strings
        self.date_styles = book.date_styles
        self.date1904 = book.date1904
        self.ready: list[tuple[Any, ...]] = []
        self.expected = 1  # the next row number
        self.row: list[Any] = []
        self.column = 0
        self.kind = "n"
        self.style = 0
        self.parts: list[str] = []
        self.collect = False
        self.outside = False
        self.skip = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            self.column = column = _column(ref) if ref else len(self.row)
            self.outside = column < self.first or (self.last is not None and column > self.last)
            self.kind = attrs.get("t", "n")
            style = attrs.get("s")
            self.style = int(style) if style else 0
            self.parts = []
        elif (name == "v" or (name == "t" and not self.skip)) and not self.outside:
            self.collect = True
        elif name == "row":
            number = attrs.get("r")
            if number:
                for _ in range(self.expected, int(number)):
                    self.ready.append(())
                self.expected = int(number)
            self.row = []
        elif name == "rPh":
            self.skip += 1

    def end(self, name: str) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "v" or name == "t":
            self.collect = False
        elif name == "c":
            if self.parts:
                value = self._value("".join(self.parts))
                row = self.row
                column = self.column
                if column == len(row):
                    row.append(value)
                elif column > len(row):
                    row.extend([None] * (column - len(row)))
                    row.append(value)
                elif column >= 0:
                    row[column] = value
        elif name == "row":
            row = self.row
            while row and row[-1] is None:
                row.pop()
            self.ready.append(tuple(row))
            self.expected += 1
        elif name == "rPh":
            self.skip -= 1

    def text(self, data: str) -> None:
        if self.collect:
            self.parts.append(data)

    def _value(self, text: str) -> Any:
        kind = self.kind
        if kind == "s":
            return self.strings[int(text)]
        if kind == "n":
            try:
                number = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            except ValueError:  # a number cell holding text: the text, for the field to judge
                return text
            if self.style and self.style < len(self.date_styles) and self.date_styles[self.style]:
                return self._date(number)
            return number
        if kind in ("str", "inlineStr"):
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":  # an ISO 8601 date cell (strict files)
            try:
                moment = datetime.fromisoformat(text.strip().rstrip("Z"))
            except ValueError:
                return text
            return moment.date() if moment.time() == datetime.min.time() else moment
        return text  # "e": a formula's error (#N/A, #DIV/0!), shown as the sheet shows it

    def _date(self, serial: float) -> datetime | date | time | float:
        if 0 <= serial < 1:  # a time of day with no date
            seconds = round(serial * 86400)
            return time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
        moment = from_spreadsheet_serial(serial, date1904=self.date1904)
        if moment is None:  # before 1900 or after 9999: not a date, keep the number
            return serial
        return moment.date() if moment.hour == moment.minute == moment.second == 0 else moment


# Shared-strings XML up to this size goes to the fast reader, which holds the table in memory
# (measured: about 1.8 bytes of memory per byte of that XML, so some 15 MB at most).
FAST_STRINGS_BYTES = 8 * 2**20


class XlsxSheet:
    """One worksheet of a workbook (the first unless named), read row by row; close it when done."""

    def __init__(self, path: Path | str, name: str | None = None) -> None:
        self.path = Path(path)
        self.book = XlsxWorkbook(self.path)
        try:
            self.part = self.book.sheet_part(name)
        except BaseException:
            self.book.close()
            raise
        self.name = next(sheet for sheet, part in self.book.sheets if part == self.part)

    def close(self) -> None:
        self.book.close()

    def reader(self) -> str:
        """Which reader `rows` uses for this file: "calamine" or "stdlib"."""
        if self.book.strings_size() > FAST_STRINGS_BYTES or _calamine() is None:
            return "stdlib"
        return "calamine"

    def rows(self, columns: tuple[int, int] | None = None) -> Iterator[tuple[Any, ...] | list[Any]]:
        """Each row's values from column A; a row the sheet leaves out comes back empty.

        With `columns` (first, last; 0-based) only those need be read: cells outside may be blank.
        """
        if self.reader() == "calamine":
            return _calamine_rows(self.path, self.name, columns)
        return self.book.rows(self.name, columns)

    def estimate_rows(self) -> int:
        return self.book.estimate_rows(self.name)


# A Rust panic surfaces as a BaseException; these alone are not the file's fault.
_STOPS = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _calamine() -> Any:
    try:
        import python_calamine_plus
    except ImportError:  # the standard library's reader does the same, more slowly
        return None
    return python_calamine_plus


def _calamine_rows(path: Path, name: str, columns: tuple[int, int] | None = None) -> Iterator[list[Any]]:
    module = _calamine()
    try:
        book = module.CalamineWorkbook.from_path(str(path))
    except _STOPS:
        raise
    except BaseException as error:  # its own kinds for a damaged file, and a Rust panic's
        raise XlsxError(str(error)) from None
    try:
        first, last = columns or (0, None)
        stream = book.stream_sheet_by_name(name, min_col=first, max_col=last)
        skipped = [""] * first  # the columns left unread, so each cell keeps its position
        while True:
            try:
                row = next(stream)
            except StopIteration:
                return
            except _STOPS:
                raise
            except BaseException as error:
                raise XlsxError(str(error)) from None
            while row and row[-1] == "":  # rows come padded to the sheet's width
                row.pop()
            yield skipped + row if first and row else row
    finally:
        book.close()
