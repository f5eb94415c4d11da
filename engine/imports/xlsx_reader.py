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
import itertools
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

from engine.base.messages import Message
from engine.fieldtypes.temporal import from_spreadsheet_serial

READ_BYTES = 256 * 1024
# The shared strings are read on in smaller steps: a header row needs only the table's first few.
STRINGS_READ_BYTES = 16 * 1024
HEAD_BYTES = 64 * 1024
# How far into a part its opening tag is looked for before expat is left to read the part whole.
HEAD_LIMIT = 4 * 2**20
# The most read on for the end of one row or shared string: a larger one is damage (a cell holds
# at most 32,767 characters), not something to gather in memory.
STRETCH_LIMIT = 64 * 2**20
# A worksheet's limits (Excel's): a reference past them is damage, not a place to pad rows out to.
MAX_ROWS = 1_048_576
LAST_COLUMN = 16_383  # XFD, 0-based
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


# Characters XML does not allow (XML 1.0 "Char"). The patterns below match only text without them
# (and without "<"), so a stretch holding one goes to expat, which refuses the file as it always has.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff"
_FORBIDDEN = re.compile(f"[{_CONTROL}]")
_CHARS = f"^<{_CONTROL}"
_SPACE = " \t\r\n"  # XML's whitespace, all that may stand between the elements matched
# A shared string of plain text, as most are: <si><t>客户名称</t></si>.
_SHARED_STRING = re.compile(rf'<si>(?:<t(?: xml:space="preserve")?>([{_CHARS}]*)</t>)?</si>|<si/>')
_TABLE = re.compile(rb"<(\w+:)?sst[\s>/]")
_TABLE_END = re.compile(rb"</sst\s*>")
_UTF8_DECLARED = re.compile(rb"""encoding=["']utf-?8["']""", re.I)


def _utf8(head: bytes) -> bool:
    """Whether an XML part's declaration leaves it in UTF-8 (as every writer saves them)."""
    if not head.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
        return True
    declared = head[: head.find(b"?>")]
    return b"encoding=" not in declared or _UTF8_DECLARED.search(declared) is not None


def _plain_strings(stretch: str) -> list[str] | None:
    """The strings of a stretch of whole <si> items, None unless every one is plain text."""
    parts = _SHARED_STRING.split(stretch)
    if any(gap.strip(_SPACE) for gap in set(parts[0::2])):
        return None
    return [_unescaped(_xml_text(text)) if text else "" for text in parts[1::2]]


class _StringsParser:
    """expat handlers that collect each <si>'s text, leaving out phonetic guides (furigana)."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self._parts: list[str] = []
        self._in_text = False
        self._skip = 0
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text

    def feed(self, data: bytes, final: bool) -> None:
        self._parser.Parse(data, final)

    def take(self) -> list[str]:
        """The strings found since the last take."""
        found, self.found = self.found, []
        return found

    def read(self, stretch: str) -> list[str]:
        """The strings of a stretch of whole <si> items."""
        self._parser.Parse(f"<sst>{stretch}</sst>", True)
        return self.found

    def _start(self, name: str, _attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "t":
            self._in_text = True
        elif local in ("rPh", "phoneticPr"):
            self._skip += 1
        elif local == "si":
            self._parts.clear()

    def _end(self, name: str) -> None:
        local = _local(name)
        if local == "t":
            self._in_text = False
        elif local in ("rPh", "phoneticPr"):
            self._skip -= 1
        elif local == "si":
            self.found.append(_unescaped("".join(self._parts)))

    def _text(self, data: str) -> None:
        if self._in_text and not self._skip:
            self._parts.append(data)


class _TableReader:
    """The shared-strings XML read on a stretch at a time (`more`) into the workbook's table:
    split on `_SHARED_STRING` where every item is plain text, else (or whole) read by expat."""

    def __init__(self, source: IO[bytes], book: XlsxWorkbook) -> None:
        self.source, self.book = source, book
        self.stretches = _stretches(source, STRINGS_READ_BYTES, _TABLE, b"</si>", _TABLE_END)
        self.whole: _StringsParser | None = None  # expat over the whole table, when it is not plain

    def more(self) -> bool:
        try:
            if self.whole is not None:
                chunk = self.source.read(STRINGS_READ_BYTES)
                self.whole.feed(chunk, not chunk)
                self._add(self.whole.take())
                if chunk:
                    return True
            elif (stretch := next(self.stretches, None)) is not None:
                if isinstance(stretch, bytes):  # the table's opening: expat reads it, then the rest
                    self.whole = _StringsParser()
                    self.whole.feed(stretch, False)
                else:
                    texts = _plain_strings(stretch)
                    self._add(_StringsParser().read(stretch) if texts is None else texts)
                return True
        except _DAMAGED as error:
            raise XlsxError(f"damaged file: {error}") from None
        self.source.close()
        self.book.strings.finish()
        return False

    def _add(self, texts: list[str]) -> None:
        add = self.book.strings.add
        for text in texts:
            add(text)


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
        source = self._strings_source = self.archive.open(part)
        return _TableReader(source, self).more

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
            try:
                yield from _sheet_rows(source, reader)
                # A pass over the whole sheet reads the whole table too, so a damaged one is
                # found by the survey that reads the file before its import does.
                self.strings.read_all()
            except _DAMAGED as error:
                raise XlsxError(f"damaged worksheet: {error}") from None
            except XlsxError:
                raise
            except (IndexError, ValueError) as error:  # a string index past the table, a number that is none
                raise XlsxError(f"a cell cannot be read: {error}") from None

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


# Rows and cells in the shapes spreadsheet programs write them (Excel, WPS, openpyxl, xlsxwriter):
# <row r="2" …>, then cells such as <c r="B2" s="1" t="s"><v>7</v></c>, <c r="C2"/>, an inline
# string <c r="D2" t="inlineStr"><is><t>…</t></is></c>, or a formula and its value. Splitting a
# stretch of rows on this leaves between the matches only what no match took: whitespace and
# </row> when every element had such a shape, else the stretch is read by expat instead.
_ATTRIBUTES = rf'(?: [\w:]+="[{_CHARS}"&]*")*'
_ROW_OR_CELL = re.compile(
    rf'<row r="(\d+)"{_ATTRIBUTES}(/?)>'
    rf'|<c r="([A-Z]+)\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?: s="(\d+)")?{_ATTRIBUTES}'
    rf"(?:/>|>(?:<f{_ATTRIBUTES}(?:/>|>(?:[{_CHARS}&]|&(?:amp|lt|gt|quot|apos);)*</f>))?"
    rf'(?:<v>([{_CHARS}]*)</v>|<is><t(?: xml:space="preserve")?>([{_CHARS}]*)</t></is>)?</c>)'
)
_GROUPS = 8
_COLUMNS: dict[str, int] = {}  # column letters and their 0-based numbers, as met
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData[\s>/]")
_SHEET_DATA_END = re.compile(rb"</sheetData\s*>")
_ROW_END = b"</row>"
_REFERENCE = re.compile(r"&(?:(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);)?|\r\n?")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# A character Excel cannot write as itself in a string, written as _xHHHH_ (ECMA-376 ST_Xstring).
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _xml_text(text: str) -> str:
    """Character data as an XML parser gives it: references resolved, line ends as \\n."""

    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            if match.group(0) == "&":
                raise XlsxError(Message("xlsx_bad_character", reference="&"))
            return "\n"
        if name[0] != "#":
            if name not in _ENTITIES:
                raise XlsxError(Message("xlsx_bad_character", reference=f"&{name};"))
            return _ENTITIES[name]
        try:
            character = chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        except (ValueError, OverflowError):
            character = "\x00"
        if _FORBIDDEN.match(character):
            raise XlsxError(Message("xlsx_bad_character", reference=f"&{name};"))
        return character

    return _REFERENCE.sub(resolve, text) if "&" in text or "\r" in text else text


def _unescaped(text: str) -> str:
    """Text with Excel's escapes read: _x000D_ is a carriage return, _x005F_ an underscore."""
    return _EXCEL_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text) if "_x" in text else text


def _stretches(
    source: IO[bytes],
    read_bytes: int,
    opening: re.Pattern[bytes],
    item_end: bytes,
    closing: re.Pattern[bytes],
) -> Iterator[str | bytes]:
    """A part's items (rows of a sheet, strings of the table) in stretches of whole ones, as text.

    A part that is not plain UTF-8 without prefixes (or holds no items, <sheetData/>) comes back
    once as the bytes read so far, for expat to read them with the rest of `source`. Around the
    items the part goes through expat all the same, so damage there is refused as a parser would.
    """
    head, found, opened = b"", None, -1
    while opened < 0 and len(head) < HEAD_LIMIT and (chunk := source.read(read_bytes)):
        head += chunk
        found = opening.search(head)
        opened = -1 if found is None else head.find(b">", found.start())
    if found is None or opened < 1 or found.group(1) or head[opened - 1] == ord("/") or not _utf8(head):
        yield head
        return
    frame = expat.ParserCreate()
    frame.Parse(head[: opened + 1], False)
    buffer = head[opened + 1 :]
    while True:
        chunk = source.read(read_bytes)
        buffer += chunk
        closed = closing.search(buffer)
        if closed is not None:
            stretch, buffer = buffer[: closed.start()], buffer[closed.start() :]
        elif not chunk:
            raise XlsxError(Message("xlsx_ends_early"))
        else:
            cut = buffer.rfind(item_end)
            if cut < 0:
                if len(buffer) > STRETCH_LIMIT:
                    raise XlsxError(Message("xlsx_too_large"))
                continue
            cut += len(item_end)
            stretch, buffer = buffer[:cut], buffer[cut:]
        if stretch.strip(_SPACE.encode()):
            yield stretch.decode()
        if closed is not None:
            frame.Parse(buffer, False)
            while chunk := source.read(read_bytes):
                frame.Parse(chunk, False)
            frame.Parse(b"", True)
            return


def _sheet_rows(source: IO[bytes], reader: _SheetReader) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows: each stretch split on `_ROW_OR_CELL` where it allows, else read by expat."""
    ready = reader.ready
    for stretch in _stretches(source, READ_BYTES, _SHEET_DATA, _ROW_END, _SHEET_DATA_END):
        if isinstance(stretch, bytes):
            yield from _expat_rows(stretch, source, reader)
            return
        if not reader.plain(stretch):
            reader.parse(stretch)
        yield from ready
        ready.clear()


def _expat_rows(head: bytes, source: IO[bytes], reader: _SheetReader) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows through one expat parser over the whole sheet XML."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = READ_BYTES
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    ready = reader.ready
    chunk = head
    while chunk:
        parser.Parse(chunk, False)
        if ready:
            yield from ready
            ready.clear()
        chunk = source.read(READ_BYTES)
    parser.Parse(b"", True)
    yield from ready
    ready.clear()


def _row_number(number: str) -> int:
    if int(number) > MAX_ROWS:
        raise XlsxError(Message("xlsx_row_limit", row=number, limit=f"{MAX_ROWS:,}"))
    return int(number)


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
            if column > LAST_COLUMN:
                raise XlsxError(Message("xlsx_column_limit", cell=ref, last="XFD"))
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
                self.ready += [()] * (_row_number(number) - self.expected)
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
                value = self._value(self.kind, self.style, "".join(self.parts))
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

    def parse(self, stretch: str) -> None:
        """Read a stretch of whole rows with expat, as the handlers read the whole sheet."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = self.start, self.end
        parser.CharacterDataHandler = self.text
        parser.Parse(f"<rows>{stretch}</rows>", True)

    def plain(self, stretch: str) -> bool:
        """Read a stretch of whole rows split on `_ROW_OR_CELL`, as `parse` would read it; False
        (and nothing read) when anything in it has another shape."""
        parts = _ROW_OR_CELL.split(stretch)
        if parts[0].strip(_SPACE):
            return False
        rows: list[tuple[Any, ...]] = []
        expected, row = self.expected, None
        first, last = self.first, self.last
        columns, strings, value = _COLUMNS, self.strings, self._value
        pieces = iter(parts)
        next(pieces)
        cells = zip(*[pieces] * (_GROUPS + 1), strict=True)
        for number, empty, letters, style, kind, style_after, v, inline, gap in cells:
            if number:
                if row is not None:
                    return False
                # As the handlers do: rows the sheet leaves out are empty, and numbers only go on.
                rows.extend([()] * (_row_number(number) - expected))
                expected, row = int(number), []
                if empty:  # <row r="7" ht="30"/>: a row with a height and no cells
                    rows.append(())
                    expected, row = expected + 1, None
            elif row is None:
                return False
            else:
                column = columns.get(letters)
                if column is None:
                    column = _column(letters)
                    if column > LAST_COLUMN:
                        raise XlsxError(Message("xlsx_column_limit", cell=letters, last="XFD"))
                    columns[letters] = column
                text = v or inline
                if text and (column < first or (last is not None and column > last)):
                    _xml_text(text)  # unread, but damage in it refuses the file all the same
                elif text:
                    if kind == "s":
                        cell = strings[int(text)]
                    else:
                        cell = value(kind or "n", int(style or style_after or 0), _xml_text(text))
                    if column == len(row):
                        row.append(cell)
                    elif column > len(row):
                        row.extend([None] * (column - len(row)))
                        row.append(cell)
                    else:
                        row[column] = cell
            if gap:
                between = gap.strip(_SPACE)
                if between == "</row>" and row is not None:
                    while row and row[-1] is None:
                        row.pop()
                    rows.append(tuple(row))
                    expected, row = expected + 1, None
                elif between:
                    return False
        if row is not None:
            return False
        self.ready += rows
        self.expected = expected
        return True

    def _value(self, kind: str, style: int, text: str) -> Any:
        if kind == "s":
            return self.strings[int(text)]
        if kind == "n":
            try:
                number = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            except ValueError:  # a number cell holding text: the text, for the field to judge
                return text
            if style and style < len(self.date_styles) and self.date_styles[style]:
                return self._date(number)
            return number
        if kind in ("str", "inlineStr"):
            return _unescaped(text)
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
            return self._calamine_then_stdlib(columns)
        return self.book.rows(self.name, columns)

    def _calamine_then_stdlib(self, columns: tuple[int, int] | None) -> Iterator[tuple[Any, ...] | list[Any]]:
        """calamine's rows; where it cannot read on (a date cell of -1E+308 panics it), the
        standard library's reader reads the rest, and refuses the file if it is damaged."""
        done = 0
        try:
            for row in _calamine_rows(self.path, self.name, columns):
                yield row
                done += 1
        except XlsxError:
            yield from itertools.islice(self.book.rows(self.name, columns), done, None)

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
    book = _calamine_call(lambda: module.CalamineWorkbook.from_path(str(path)))
    try:
        first, last = columns or (0, None)
        # Rows come padded to the widest column met so far (to `last` when given), and a column
        # past XFD aborts the process: files from outside are read with their columns given.
        width = None if last is None else min(last, LAST_COLUMN)
        stream = _calamine_call(lambda: book.stream_sheet_by_name(name, min_col=first, max_col=width))
        skipped = [""] * first  # the columns left unread, so each cell keeps its position
        for _ in range(MAX_ROWS):
            row = _calamine_call(lambda: next(stream, None))
            if row is None:
                return
            while row and row[-1] == "":
                row.pop()
            yield skipped + row if first and row else row
        if _calamine_call(lambda: next(stream, None)) is not None:
            raise XlsxError(Message("xlsx_row_limit", row=f"{MAX_ROWS + 1:,}", limit=f"{MAX_ROWS:,}"))
    finally:
        book.close()


def _calamine_call(call: Callable[[], Any]) -> Any:
    """What calamine answers; its own kinds of error for a damaged file, and a Rust panic's
    (a BaseException), as XlsxError."""
    try:
        return call()
    except _STOPS:
        raise
    except BaseException as error:
        raise XlsxError(str(error)) from None
