"""Reading XLSX files as spreadsheet programs save them, through both readers the import picks between."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest

from engine.base.messages import localize
from engine.imports import UnreadableFile, inspect_file, xlsx_reader
from engine.imports.sources import open_rows
from engine.imports.xlsx_reader import XlsxSheet
from tests.engine.workbooks import SHEET, STRINGS, with_parts

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.fixture(params=["calamine", "stdlib"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs through the fast reader and through the standard library's."""
    if request.param == "stdlib":
        monkeypatch.setattr(xlsx_reader, "FAST_STRINGS_BYTES", -1)
    return request.param


def workbook(
    path: Path,
    sheets: dict[str, str],
    strings: list[str] | None = None,
    *,
    date1904: bool = False,
    prefix: str = "",
) -> Path:
    """An XLSX file with the given sheets' <sheetData> bodies, a shared-strings table of raw <si>
    contents, and styles 1 = date (numFmt 14), 2 = date and time (22), 3 = a custom date format."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        entries = "".join(
            f'<{p}sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, name in enumerate(sheets)
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<{p}workbook {xmlns} xmlns:r="{RELS}"><{p}workbookPr date1904="{int(date1904)}"/>'
            f"<{p}sheets>{entries}</{p}sheets></{p}workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="{RELS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(sheets))
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}<Relationship Id="rS" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rT" Type="{RELS}/styles" Target="styles.xml"/></Relationships>',
        )
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(len(sheets))
            )
            + '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        )
        archive.writestr(
            "xl/styles.xml",
            f'<{p}styleSheet {xmlns}><{p}numFmts count="1"><{p}numFmt numFmtId="164" '
            f'formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></{p}numFmts>'
            f'<{p}cellXfs count="4"><{p}xf numFmtId="0"/><{p}xf numFmtId="14"/><{p}xf numFmtId="22"/>'
            f'<{p}xf numFmtId="164"/></{p}cellXfs></{p}styleSheet>',
        )
        table = "".join(f"<{p}si>{si}</{p}si>" for si in strings or [])
        archive.writestr("xl/sharedStrings.xml", f"<{p}sst {xmlns}>{table}</{p}sst>")
        for i, body in enumerate(sheets.values()):
            archive.writestr(
                f"xl/worksheets/sheet{i + 1}.xml",
                f"<{p}worksheet {xmlns}><{p}sheetData>{body}</{p}sheetData></{p}worksheet>",
            )
    return path


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def read(path: Path) -> list[list[object]]:
    """The rows as the import reads them: blanks as None, trailing blanks dropped."""
    sheet = XlsxSheet(path)
    try:
        rows = []
        for row in sheet.rows():
            cells = [None if cell == "" else cell for cell in row]
            while cells and cells[-1] is None:
                cells.pop()
            rows.append(cells)
        return rows
    finally:
        sheet.close()


def imported(path: Path) -> tuple[list[str], list[list[object]]]:
    """The header and each data row's cells, as an import reads them."""
    with open_rows(path) as (header, rows):
        return header, [row.cells for row in rows]


def test_values_of_every_kind(tmp_path: Path, reader: str) -> None:
    strings = [
        "客户名称",
        "<t>杭州&amp;星河</t>",
        '<r><t>富</t></r><r><rPr><b/></rPr><t xml:space="preserve">文本 </t></r>',
    ]
    body = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>12</v></c><c r="C2"><v>-1.5</v></c>'
        '<c r="D2" s="1"><v>46037</v></c><c r="E2" s="2"><v>46209.833333333336</v></c>'
        '<c r="F2" t="b"><v>1</v></c><c r="G2" t="b"><v>0</v></c><c r="H2" s="3"><v>46037</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>行内 &lt;文本&gt;</t></is></c><c r="B3" t="s"><v>2</v></c>'
        '<c r="C3" t="e"><v>#N/A</v></c><c r="D3" t="str"><f>A1</f><v>公式结果</v></c>'
        '<c r="E3" s="2"><v>0.5</v></c><c r="F3"><v>1.5E3</v></c></row>'
    )
    path = workbook(tmp_path / "kinds.xlsx", {"客户": body}, [f"<t>{strings[0]}</t>", *strings[1:]])
    assert read(path) == [
        ["客户名称"],
        [
            "杭州&星河", 12, -1.5, date(2026, 1, 15), datetime(2026, 7, 6, 20, 0), True, False,
            date(2026, 1, 15),
        ],
        ["行内 <文本>", "富文本 ", "#N/A", "公式结果", time(12, 0), 1500],
    ]  # fmt: skip


def test_empty_cells_and_rows_keep_every_value_in_its_column_and_line(tmp_path: Path, reader: str) -> None:
    body = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c>'
        '<c r="D1" t="inlineStr"><is><t>电话</t></is></c></row>'
        '<row r="2"><c r="B2" t="inlineStr"><is><t>乙</t></is></c><c r="D2"><v>138</v></c></row>'
        '<row r="5"><c r="A5" t="inlineStr"><is><t>跳过两行</t></is></c><c r="C5" s="1"/></row>'
    )
    path = workbook(tmp_path / "sparse.xlsx", {"Sheet1": body})
    rows = read(path)
    assert rows[0] == ["名称", None, None, "电话"]
    assert rows[1] == [None, "乙", None, 138]
    assert rows[2] == rows[3] == []  # the rows the sheet leaves out, so lines stay the sheet's
    assert rows[4] == ["跳过两行"]
    with open_rows(path) as (header, data):
        found = [(row.line, row.cells[:4]) for row in data]
    assert header == ["名称", "", "", "电话"]
    assert [line for line, _ in found] == [2, 5]


def test_reading_some_columns_keeps_theirs_in_place_and_leaves_the_others_blank(
    tmp_path: Path, reader: str
) -> None:
    """As the import's survey of its date columns reads a wide sheet."""
    header = "".join(
        text_cell(f"{column}1", word)
        for column, word in zip("ABCD", ["名称", "日期", "金额", "备注"], strict=True)
    )
    values = (
        text_cell("A2", "甲")
        + text_cell("B2", "15/01/2026")
        + '<c r="C2"><v>12.5</v></c>'
        + text_cell("D2", "无")
    )
    path = workbook(tmp_path / "wide.xlsx", {"Sheet1": f'<row r="1">{header}</row><row r="2">{values}</row>'})
    sheet = XlsxSheet(path)
    try:
        rows = [list(row) for row in sheet.rows((1, 2))]
    finally:
        sheet.close()
    assert [cell or None for cell in rows[1]] == [None, "15/01/2026", 12.5]


def test_a_named_sheet_that_is_not_the_first(tmp_path: Path, reader: str) -> None:
    path = workbook(
        tmp_path / "two.xlsx",
        {
            "说明": '<row r="1"><c r="A1" t="inlineStr"><is><t>请看第二页</t></is></c></row>',
            "客户": (
                '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
            ),
        },
        ["<t>客户名称</t>", "<t>甲公司</t>"],
    )
    sheet = XlsxSheet(path, "客户")
    try:
        assert [list(row)[:1] for row in sheet.rows()] == [["客户名称"], ["甲公司"]]
        assert sheet.estimate_rows() == 1
    finally:
        sheet.close()
    assert read(path) == [["请看第二页"]]  # without a name, the first worksheet, as the import reads it
    with pytest.raises(xlsx_reader.XlsxError, match="no sheet named"):
        XlsxSheet(path, "没有这页")


def test_dates_in_a_1904_workbook_and_prefixed_xml(tmp_path: Path, reader: str) -> None:
    body = '<x:row r="1"><x:c r="A1" s="1"><x:v>44575</x:v></x:c><x:c r="B1" t="s"><x:v>0</x:v></x:c></x:row>'
    path = workbook(tmp_path / "mac.xlsx", {"S": body}, ["<x:t>前缀</x:t>"], date1904=True, prefix="x")
    assert read(path) == [[date(2026, 1, 15), "前缀"]]


def test_phonetic_guides_are_not_part_of_the_text(tmp_path: Path, reader: str) -> None:
    """Nor of the strings after them: Excel closes each guided string with its <phoneticPr/>."""
    strings = [
        '<t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/>',
        "<t>大阪</t>",
    ]
    body = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    path = workbook(tmp_path / "ruby.xlsx", {"S": body}, strings)
    assert read(path) == [["東京", "大阪"]]


def test_a_large_shared_strings_table_is_read_from_disk_with_the_same_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_reader, "FAST_STRINGS_BYTES", -1)
    monkeypatch.setattr(xlsx_reader, "STRINGS_IN_MEMORY", 10)
    monkeypatch.setattr(xlsx_reader, "BLOCK_STRINGS", 7)
    monkeypatch.setattr(xlsx_reader, "BLOCKS_KEPT", 2)
    count = 200
    strings = [f"<t>客户{i}</t>" for i in range(count)]
    # Rows read the table forwards, then jump back to its start, as a repeated word does.
    body = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c><c r="B{i + 1}" t="s"><v>{i % 3}</v></c></row>'
        for i in range(count)
    )
    path = workbook(tmp_path / "many.xlsx", {"S": body}, strings)
    assert read(path) == [[f"客户{i}", f"客户{i % 3}"] for i in range(count)]


def test_shared_strings_read_as_far_as_rows_need_give_every_row_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table is read on in small steps as cells ask for strings further in: rows going forwards,
    back to words parked on disk while the rest is still unread, on to the end, and back again."""
    monkeypatch.setattr(xlsx_reader, "FAST_STRINGS_BYTES", -1)
    monkeypatch.setattr(xlsx_reader, "STRINGS_READ_BYTES", 64)
    monkeypatch.setattr(xlsx_reader, "STRINGS_IN_MEMORY", 10)
    monkeypatch.setattr(xlsx_reader, "BLOCK_STRINGS", 7)
    monkeypatch.setattr(xlsx_reader, "BLOCKS_KEPT", 2)
    count = 120
    strings = [f"<t>客户{i}</t>" for i in range(count)]
    order = [*range(60), 2, 9, *range(60, count), *range(count - 1, -1, -5)]
    body = "".join(
        f'<row r="{n + 1}"><c r="A{n + 1}" t="s"><v>{i}</v></c></row>' for n, i in enumerate(order)
    )
    path = workbook(tmp_path / "late.xlsx", {"S": body}, strings)
    assert read(path) == [[f"客户{i}"] for i in order]
    with open_rows(path) as (header, _rows):
        assert header == ["客户0"]


def test_an_openpyxl_workbook_reads_the_same_through_both_readers(tmp_path: Path, reader: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "日期", "金额", "是否"])
    sheet.append(["甲", date(2026, 3, 1), 12.5, True])
    sheet.append(["乙", datetime(2026, 3, 2, 9, 30), None, False])
    path = tmp_path / "openpyxl.xlsx"
    book.save(path)
    assert read(path) == [
        ["名称", "日期", "金额", "是否"],
        ["甲", date(2026, 3, 1), 12.5, True],
        ["乙", datetime(2026, 3, 2, 9, 30), None, False],
    ]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"PK\x03\x04 not really a zip", "not a readable XLSX file"),
        (b"name,phone\n", "not a readable XLSX file"),
    ],
)
def test_a_file_that_is_not_an_xlsx_is_refused_with_the_reason(
    tmp_path: Path, reader: str, content: bytes, why: str
) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=why):
        inspect_file(path)


def test_a_zip_without_a_workbook_or_with_a_damaged_sheet_is_refused(tmp_path: Path, reader: str) -> None:
    empty = tmp_path / "empty.xlsx"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnreadableFile, match="no workbook"):
        inspect_file(empty)
    body = '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row><row r="2"><c r="A2"'
    damaged = workbook(tmp_path / "damaged.xlsx", {"S": body})
    with pytest.raises(UnreadableFile), open_rows(damaged) as (_, rows):
        list(rows)
    cut = with_parts(
        damaged,
        tmp_path / "cut.xlsx",
        {SHEET: lambda sheet: sheet[: sheet.index(b"</row>") + 6]},  # cut after a whole row
    )
    if reader == "stdlib":  # calamine reads on as far as the rows go
        with pytest.raises(UnreadableFile, match="ends early"), open_rows(cut) as (_, rows):
            list(rows)


def test_a_damaged_shared_strings_table_is_refused_by_a_pass_over_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when no row names the strings past the damage: the survey of a file's date columns
    reads it through before any row is imported."""
    monkeypatch.setattr(xlsx_reader, "FAST_STRINGS_BYTES", -1)
    monkeypatch.setattr(xlsx_reader, "STRINGS_READ_BYTES", 64)
    strings = [f"<t>客户{i}</t>" for i in range(50)] + ["<t>未闭合"]
    body = '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
    path = workbook(tmp_path / "torn.xlsx", {"S": body}, strings)
    with open_rows(path) as (header, _rows):
        assert header == ["客户0"]
    with pytest.raises(UnreadableFile, match="damaged"), open_rows(path) as (_, rows):
        list(rows)


def test_a_string_past_the_table_is_a_clear_error_and_a_number_cell_of_text_reads_as_text(
    tmp_path: Path, reader: str
) -> None:
    head = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = workbook(
        tmp_path / "bad.xlsx", {"S": head + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>'}, ["<t>名称</t>"]
    )
    with pytest.raises(UnreadableFile), open_rows(path) as (_, rows):
        list(rows)
    path = workbook(
        tmp_path / "text.xlsx", {"S": head + '<row r="2"><c r="A2"><v>12 元</v></c></row>'}, ["<t>名称</t>"]
    )
    assert read(path) == [["名称"], ["12 元"]]


# Cells and shared strings in the shapes writers give them, and in shapes only some do (rich text,
# references, comments, attributes in another order, whitespace between elements).
CELL_SHAPES = [
    '<c r="{ref}" t="s"><v>{n}</v></c>',
    '<c r="{ref}" s="1" t="s"><v>{n}</v></c>',
    '<c r="{ref}" t="s" s="3"><v>{n}</v></c>',
    '<c r="{ref}"><v>{n}.25</v></c>',
    '<c r="{ref}" s="2"><v>46209.5</v></c>',
    '<c r="{ref}" s="1"><v>46037</v></c>',
    '<c r="{ref}" s="1"/>',
    '<c r="{ref}" t="b"><v>1</v></c>',
    '<c r="{ref}" t="e"><v>#DIV/0!</v></c>',
    '<c r="{ref}" t="str"><f>A1&amp;"x"</f><v>公式 {n}</v></c>',
    '<c r="{ref}"><f t="shared" si="0"/><v>{n}</v></c>',
    '<c r="{ref}" t="inlineStr"><is><t>行内 {n}</t></is></c>',
    '<c r="{ref}" t="inlineStr"><is><t xml:space="preserve"> 空格 {n} </t></is></c>',
    '<c r="{ref}" t="inlineStr"><is><t>A&amp;B &lt;{n}&gt; &#x4E2D;&#25991;</t></is></c>',
    '<c r="{ref}" t="inlineStr"><is><r><t>富</t></r><r><rPr><b/><color rgb="FF0000"/></rPr>'
    "<t>文本</t></r></is></c>",
    '<c r="{ref}" t="inlineStr"><is><t>两行\r\n文本</t></is></c>',
    '<c r="{ref}" t="str" cm="1"><v>{n}</v></c>',
    '<c r="{ref}" t="s">\n  <v>{n}</v>\n</c>',
    '<c r="{ref}" t="s"><v>{n}</v></c><!-- 注释 -->',
    "<c r='{ref}' t='s'><v>{n}</v></c>",
    '<c t="s"><v>{n}</v></c>',
]
STRING_SHAPES = [
    "<t>客户{n}</t>",
    '<t xml:space="preserve"> 客户{n} </t>',
    "<t>杭州&amp;星河 {n}</t>",
    '<t>東京{n}</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/>',
    "<r><t>富</t></r><r><rPr><b/></rPr><t>文本{n}</t></r>",
    "",
]


def random_workbook(path: Path, seed: int, shapes: list[str], string_shapes: list[str]) -> Path:
    import random

    chooser = random.Random(seed)
    strings = [chooser.choice(string_shapes).format(n=n) for n in range(60)]
    rows, number = [], 0
    for _ in range(40):
        number += chooser.choice([1, 1, 1, 2, 5])
        if chooser.random() < 0.05:
            rows.append(f'<row r="{number}"/>')
            continue
        cells, column = [], 0
        for _ in range(chooser.randint(0, 8)):
            column += chooser.choice([1, 1, 2, 4])
            ref = f"{chr(64 + column) if column <= 26 else 'A' + chr(64 + column - 26)}{number}"
            cells.append(chooser.choice(shapes).format(ref=ref, n=chooser.randrange(60)))
        spacing = chooser.choice(["", "", "\n  "])
        attrs = chooser.choice(["", ' spans="1:9"', ' spans="1:9" ht="20" customHeight="1"'])
        rows.append(f'<row r="{number}"{attrs}>{spacing}{spacing.join(cells)}{spacing}</row>')
    return workbook(path, {"S": "".join(rows)}, strings)


@pytest.mark.parametrize("seed", range(24))
def test_a_sheet_of_any_shapes_reads_the_same_split_as_through_expat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Stretches of plain rows and strings are split on patterns, the rest parsed: the values
    are the same as expat's over the whole file, wherever the stretches are cut."""
    monkeypatch.setattr(xlsx_reader, "FAST_STRINGS_BYTES", -1)
    monkeypatch.setattr(xlsx_reader, "READ_BYTES", 97 + seed * 31)
    monkeypatch.setattr(xlsx_reader, "STRINGS_READ_BYTES", 40 + seed * 7)
    path = random_workbook(tmp_path / "any.xlsx", seed, CELL_SHAPES, STRING_SHAPES)
    split = read(path)
    with monkeypatch.context() as stretches_by_expat:
        stretches_by_expat.setattr(xlsx_reader._SheetReader, "plain", lambda self, stretch: False)
        stretches_by_expat.setattr(xlsx_reader, "_plain_strings", lambda stretch: None)
        assert read(path) == split
    with monkeypatch.context() as whole_by_expat:
        whole_by_expat.setattr(xlsx_reader, "_SHEET_DATA", re.compile(b"(?!)"))
        whole_by_expat.setattr(xlsx_reader, "_TABLE", re.compile(b"(?!)"))
        assert read(path) == split
    assert sum(len(row) for row in split) > 40


@pytest.mark.parametrize("seed", range(6))
def test_a_sheet_as_spreadsheet_programs_write_it_is_read_without_expat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setattr(xlsx_reader, "FAST_STRINGS_BYTES", -1)
    monkeypatch.setattr(xlsx_reader, "READ_BYTES", 150)
    monkeypatch.setattr(xlsx_reader, "STRINGS_READ_BYTES", 60)
    shapes = CELL_SHAPES[:14]
    path = random_workbook(tmp_path / "plain.xlsx", seed, shapes, STRING_SHAPES[:3])
    expected = read(path)

    def refuse(*_: object) -> None:
        raise AssertionError("read by expat")

    monkeypatch.setattr(xlsx_reader._SheetReader, "parse", refuse)
    monkeypatch.setattr(xlsx_reader._StringsParser, "read", refuse)
    assert read(path) == expected


def test_an_empty_sheet_and_an_empty_strings_table_read_as_nothing(tmp_path: Path, reader: str) -> None:
    path = workbook(tmp_path / "empty.xlsx", {"S": ""})
    no_strings = f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"/>'.encode()

    def sheet(data: str) -> Path:
        return with_parts(
            path,
            tmp_path / "changed.xlsx",
            {
                SHEET: lambda _: f'<worksheet xmlns="{MAIN}">{data}</worksheet>'.encode(),
                STRINGS: lambda _: no_strings,
            },
        )

    assert read(sheet("<sheetData/>")) == []
    assert read(sheet(f'<sheetData><row r="2">{text_cell("B2", "行内")}</row></sheetData>')) == [
        [],
        [None, "行内"],
    ]


def test_a_row_past_the_last_a_sheet_can_have_is_refused_not_padded_out(tmp_path: Path, reader: str) -> None:
    """Excel's sheets end at row 1,048,576: a row numbered past it is damage, not a billion blank rows."""
    far = '<row r="900000000000"><c r="A900000000000"><v>1</v></c></row>'
    path = workbook(tmp_path / "far.xlsx", {"S": f'<row r="1">{text_cell("A1", "名称")}</row>{far}'})
    with pytest.raises(UnreadableFile, match="1,048,576") as refused, open_rows(path) as (_, rows):
        list(rows)
    assert "超出了工作表的最大行数" in localize(refused.value.message, "zh_CN")


def test_a_cell_past_the_last_column_is_refused_or_left_unread(tmp_path: Path, reader: str) -> None:
    """Past XFD, where no sheet goes: the standard library's reader refuses the file, calamine (which
    would abort the process reading it) is never asked past the header's last column."""
    cells = text_cell("A1", "名称") + '<c r="ZZZZZZZZ1"><v>1</v></c>'
    path = workbook(
        tmp_path / "wide.xlsx",
        {"S": f'<row r="1">{cells}</row><row r="2"><c r="ZZZZZZZZ2"><v>1</v></c></row>'},
    )
    if reader == "stdlib":
        with pytest.raises(UnreadableFile, match="XFD"), open_rows(path) as (_, rows):
            list(rows)
    else:
        with open_rows(path) as (header, rows):
            assert (header, list(rows)) == (["名称"], [])


def test_each_row_is_read_as_far_as_the_header(tmp_path: Path, reader: str) -> None:
    """A stray cell far to the right is in no column, and rows are not read out to it."""
    body = (
        f'<row r="1">{text_cell("A1", "名称")}{text_cell("B1", "电话")}</row>'
        f'<row r="2">{text_cell("A2", "甲")}<c r="XFD2"><v>1</v></c></row>'
        f'<row r="3">{text_cell("A3", "乙")}<c r="B3"><v>138</v></c></row>'
    )
    assert imported(workbook(tmp_path / "stray.xlsx", {"S": body})) == (
        ["名称", "电话"],
        [["甲"], ["乙", 138]],
    )


def test_a_sheet_damaged_before_its_first_row_is_refused_with_the_reason(tmp_path: Path, reader: str) -> None:
    path = workbook(tmp_path / "torn.xlsx", {"S": f'<row r="1">{text_cell("A1", "名称")}</row>'})
    path = with_parts(
        path, tmp_path / "torn2.xlsx", {SHEET: lambda sheet: sheet.replace(b'xmlns="', b"xmlns", 1)}
    )
    with pytest.raises(UnreadableFile, match=r"not.*closed|not well-formed"), open_rows(path) as (_, rows):
        list(rows)


@pytest.mark.parametrize("seed", range(0, 400, 20))
def test_a_damaged_file_is_read_or_refused_never_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str, seed: int
) -> None:
    """Bytes cut, added or changed anywhere in a sheet or its strings: the rows, or UnreadableFile."""
    import random

    monkeypatch.setattr(xlsx_reader, "READ_BYTES", 200)
    monkeypatch.setattr(xlsx_reader, "STRINGS_READ_BYTES", 80)
    chooser = random.Random(seed)
    path = random_workbook(tmp_path / "any.xlsx", seed, CELL_SHAPES, STRING_SHAPES)
    insertions = [
        b"<",
        b">",
        b"&",
        b"/",
        b'"',
        b"</row>",
        b'<row r="3">',
        b'<c r="B1">',
        b"\xe4",
        b"&#0;",
        b"\x01",
    ]

    def damage(original: bytes) -> bytes:
        data = bytearray(original)
        for _ in range(chooser.randint(1, 3)):
            at = chooser.randrange(len(data))
            if chooser.random() < 0.4:
                del data[at : at + chooser.randint(1, 6)]
            elif chooser.random() < 0.7:
                data[at:at] = chooser.choice(insertions)
            else:
                data[at] = chooser.randrange(256)
        return bytes(data)

    for damaged in range(20):
        part = chooser.choice([SHEET, STRINGS])
        copy = with_parts(path, tmp_path / f"damaged{damaged}.xlsx", {part: damage})
        try:
            with open_rows(copy) as (header, rows):
                assert isinstance(header, list) and all(isinstance(row.cells, list) for row in rows)
        except UnreadableFile:
            pass


def test_a_row_or_string_larger_than_a_sheet_holds_is_refused_not_gathered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row (or shared string) that never ends, as a zip of a few kilobytes can inflate to."""
    for name, value in {"FAST_STRINGS_BYTES": -1, "READ_BYTES": 1024, "STRINGS_READ_BYTES": 1024}.items():
        monkeypatch.setattr(xlsx_reader, name, value)
    monkeypatch.setattr(xlsx_reader, "STRETCH_LIMIT", 64 * 1024)
    endless = text_cell("B2", "长" * 100_000)
    path = workbook(
        tmp_path / "row.xlsx", {"S": f'<row r="1">{text_cell("A1", "名称")}</row><row r="2">{endless}</row>'}
    )
    with pytest.raises(UnreadableFile, match="larger"), open_rows(path) as (_, rows):
        list(rows)
    path = workbook(
        tmp_path / "string.xlsx",
        {"S": '<row r="1"><c r="A1" t="s"><v>1</v></c></row>'},
        ["<t>名称</t>", "<t>" + "长" * 100_000 + "</t>"],
    )
    with pytest.raises(UnreadableFile, match="larger"), open_rows(path) as (_, rows):
        list(rows)


def test_a_date_cell_past_any_date_reads_as_its_number_through_either_reader(
    tmp_path: Path, reader: str
) -> None:
    """Excel keeps -1E+308 in a date-formatted cell (and shows #####): calamine cannot read the
    rows from there, so the standard library's reader reads on from that row."""
    body = (
        f'<row r="1">{text_cell("A1", "名称")}{text_cell("B1", "日期")}</row>'
        f'<row r="2">{text_cell("A2", "甲")}<c r="B2" s="1"><v>46037</v></c></row>'
        f'<row r="3">{text_cell("A3", "乙")}<c r="B3" s="1"><v>-1E+308</v></c></row>'
        f'<row r="4">{text_cell("A4", "丙")}<c r="B4" s="2"><v>46209.5</v></c></row>'
    )
    assert imported(workbook(tmp_path / "far.xlsx", {"S": body})) == (
        ["名称", "日期"],
        [["甲", date(2026, 1, 15)], ["乙", -1e308], ["丙", datetime(2026, 7, 6, 12, 0)]],
    )


def test_characters_escaped_as_excel_writes_them_read_as_the_characters(tmp_path: Path, reader: str) -> None:
    """Excel writes a carriage return (text pasted from another program) as _x000D_, and an
    underscore that would start such an escape as _x005F_."""
    inline = '<c r="B1" t="inlineStr"><is><t>乙_x000D_\n丙_x005F_x0041_</t></is></c>'
    body = f'<row r="1"><c r="A1" t="s"><v>0</v></c>{inline}</row>'
    path = workbook(tmp_path / "escaped.xlsx", {"S": body}, ["<t>甲_x000D_\n第二行_x0009_完</t>"])
    assert read(path) == [["甲\r\n第二行\t完", "乙\r\n丙_x0041_"]]
