"""Reading import files and guessing the mapping: encodings, Chinese headers, XLSX cells, normalisers."""

from __future__ import annotations

import json
import tracemalloc
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from engine.imports import ImportRefused, UnreadableFile, auto_mapping, inspect_file, load_mapping_file
from engine.imports.normalise import cell_cleaner, company_key, phone_key
from engine.imports.sources import open_rows
from engine.loom import Loom


def test_gbk_and_utf8_bom_csv_read_the_same(tmp_path: Path) -> None:
    text = "客户名称,联系电话\n杭州星河科技有限公司,13800138000\n"
    for name, encoding in (("gbk.csv", "gbk"), ("bom.csv", "utf-8-sig"), ("plain.csv", "utf-8")):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        info = inspect_file(path)
        assert info.columns == ["客户名称", "联系电话"]
        assert info.sample_rows == [["杭州星河科技有限公司", "13800138000"]]


def test_tab_separated_files_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "tabs.csv"
    path.write_text("name\tphone\nA\t1\n\t\nB\t2\n", encoding="utf-8")
    info = inspect_file(path)
    assert info.columns == ["name", "phone"]
    assert info.sample_rows == [["A", "1"], ["B", "2"]]


def test_xlsx_header_and_rows_come_from_the_first_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户名称", "联系电话", None])
    sheet.append(["杭州星河科技有限公司", 13800138000, None])
    path = tmp_path / "c.xlsx"
    book.save(path)
    info = inspect_file(path)
    assert info.columns == ["客户名称", "联系电话"]
    assert info.sample_rows[0][:2] == ["杭州星河科技有限公司", 13800138000]
    assert info.row_count_estimate == 1


def test_xlsx_from_a_streaming_writer_keeps_dates_numbers_and_sheet_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook(write_only=True)  # states no sheet size, as streaming writers do
    sheet = book.create_sheet()
    sheet.append(["名称", "签约日期", "金额"])
    sheet.append(["甲", date(2026, 3, 1), 12.5])
    sheet.append([])
    sheet.append(["乙", datetime(2026, 3, 2, 9, 30)])
    path = tmp_path / "streamed.xlsx"
    book.save(path)
    with open_rows(path) as (header, rows):
        read = [(row.line, row.cells) for row in rows]
    assert header == ["名称", "签约日期", "金额"]
    assert read == [(2, ["甲", date(2026, 3, 1), 12.5]), (4, ["乙", datetime(2026, 3, 2, 9, 30)])]
    assert inspect_file(path).row_count_estimate == 3


def test_reading_a_large_xlsx_holds_no_more_memory_than_a_small_one(tmp_path: Path) -> None:
    def peak_reading(rows: int) -> int:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["名称", "电话"])
        for i in range(rows):
            sheet.append([f"客户{i}", f"138{i:08d}"])
        path = tmp_path / f"{rows}.xlsx"
        book.save(path)
        tracemalloc.start()
        try:
            inspect_file(path, sample=0)
            with open_rows(path) as (_, read):
                assert sum(1 for _ in read) == rows
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak_reading(30_000) < 1.5 * peak_reading(3_000)


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(UnreadableFile, match=r"expected a \.csv or \.xlsx file"):
        inspect_file(path)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UnreadableFile, match="not a readable XLSX file"):
        inspect_file(broken)


def test_headers_map_by_field_name_chinese_or_english_label(crm: Loom) -> None:
    model = crm.registry.object("customer")
    columns = ["客户名称", "Main contact", "phone", "所属区域*", "无关的列", "客户名称"]
    assert auto_mapping(model, columns) == {
        "客户名称": "name",
        "Main contact": "contact_name",
        "phone": "phone",
        "所属区域*": "region",
    }


def test_a_mapping_file_maps_columns_and_null_ignores_one(tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"columns": {"公司": "name", "备注": None}}), encoding="utf-8")
    assert load_mapping_file(path) == {"公司": "name", "备注": None}
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ImportRefused, match="expected"):
        load_mapping_file(path)


@pytest.mark.parametrize(
    "spelling",
    ["13800138000", "+86 138-0013-8000", "0086 13800138000", "86-138 0013 8000", "１３８００１３８０００"],
)
def test_mobile_number_spellings_share_one_key(spelling: str) -> None:
    assert phone_key(spelling) == "13800138000"
    assert cell_cleaner("phone")(spelling) == "13800138000"


def test_landline_spellings_share_one_key() -> None:
    assert phone_key("+86 10 6212 3456") == phone_key("010-62123456") == "01062123456"
    assert cell_cleaner("phone")("010-6212 3456") == "010-6212 3456"  # landlines stay as typed


@pytest.mark.parametrize(
    "name",
    [
        "杭州星河科技有限公司",
        "杭州星河科技公司",
        "杭州星河科技",
        " 杭州星河科技股份有限公司 ",
        "杭州星河科技有限责任公司",
    ],
)
def test_company_name_variants_share_one_key(name: str) -> None:
    assert company_key(name) == "杭州星河科技"


def test_cleaning_makes_full_width_digits_and_letters_half_width_but_keeps_chinese_punctuation() -> None:
    assert cell_cleaner("text")("  ＡＢＣ１２３ ") == "ABC123"
    assert cell_cleaner("long_text")("你好，世界（测试）") == "你好，世界（测试）"
