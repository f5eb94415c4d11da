"""Cells as people write them: dates, option words, record names, phones; and one verdict per row."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.base.errors import RecordInvalid
from engine.base.messages import localize
from engine.imports import ImportOptions, bad_rows_report, dry_run, start_import
from engine.imports.dates import AmbiguousDate, DateReader
from engine.loom import Loom
from tests.engine.test_import_run import write_csv

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-15",
        "2026/1/15",
        "2026.1.15",
        "2026年1月15日",
        "20260115",
        "15.01.2026",
        "01/15/2026",
        "Jan 15, 2026",
        "15-Jan-26",
        "46037",  # a spreadsheet serial number written as text
    ],
)
def test_every_unambiguous_spelling_of_a_date_reads_as_that_date(text: str) -> None:
    assert DateReader(ZONE).read_date(text).isoformat() == "2026-01-15"


def test_a_date_both_ways_possible_is_refused_naming_both_unless_the_order_is_known() -> None:
    with pytest.raises(AmbiguousDate) as refused:
        DateReader(ZONE).read_date("03/04/2026")
    said = localize(refused.value.message, "zh_CN")
    assert "2026-04-03（日在前）" in said and "2026-03-04（月在前）" in said
    assert DateReader(ZONE, "dmy").read_date("03/04/2026").isoformat() == "2026-04-03"
    assert DateReader(ZONE, "auto", {"/": "mdy"}).read_date("03/04/2026").isoformat() == "2026-03-04"
    assert DateReader(ZONE).read_date("03.04.2026").isoformat() == "2026-04-03"  # dots: day first


def test_a_naive_time_is_business_time_and_an_offset_is_kept() -> None:
    reader = DateReader(ZONE)
    assert reader.read_datetime("2026-07-06 20:00").utcoffset().total_seconds() == 8 * 3600
    assert reader.read_datetime("1/15/2026 2:30 PM").hour == 14
    assert reader.read_datetime("2026-07-06T20:00:00Z").utcoffset().total_seconds() == 0


EIGHT_HOURS = timedelta(hours=8)


def _customers(loom: Loom) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in loom.queries().find("customer", limit=100).records}


def test_the_files_own_dates_settle_the_order_and_a_mixed_file_reports_each_ambiguous_row(
    crm: Loom, tmp_path: Path
) -> None:
    header = ["客户名称", "最近跟进日期"]
    us = write_csv(tmp_path / "us.csv", header, [["甲公司", "01/15/2026"], ["乙公司", "03/04/2026 20:00"]])
    report = start_import(crm, "customer", us)
    assert report.counts.created == 2
    # 03/04 reads month first, as 01/15 shows; 20:00 is Beijing time.
    assert _customers(crm)["乙公司"]["last_followup_at"] == datetime(2026, 3, 4, 12, 0)

    mixed = write_csv(
        tmp_path / "mixed.csv",
        header,
        [["丙公司", "01/15/2026"], ["丁公司", "15/01/2026"], ["戊公司", "03/04/2026"]],
    )
    dry = dry_run(crm, "customer", mixed)
    [problem] = dry.invalid
    assert problem.line == 4 and list(problem.reasons) == ["last_followup_at"]
    chosen = dry_run(crm, "customer", mixed, ImportOptions(date_order="dmy"))
    assert chosen.counts.created == 3


def test_dates_after_the_first_that_could_be_read_either_way_still_settle_its_order(
    crm: Loom, tmp_path: Path
) -> None:
    """The file is read for its day order only when a date needs it, and then to its end."""
    header = ["客户名称", "最近跟进日期"]
    rows = [["甲公司", "03/04/2026"], ["乙公司", "2026-02-01"], ["丙公司", "25/12/2026"]]
    report = start_import(crm, "customer", write_csv(tmp_path / "late.csv", header, rows))
    assert report.counts.created == 3
    followed = {name: c["last_followup_at"] for name, c in _customers(crm).items()}
    beijing_midnight = {"甲公司": (4, 3), "乙公司": (2, 1), "丙公司": (12, 25)}  # stored in UTC
    assert followed == {name: datetime(2026, m, d) - EIGHT_HOURS for name, (m, d) in beijing_midnight.items()}


def test_option_words_labels_aliases_and_the_value_map_all_find_their_option(
    crm: Loom, tmp_path: Path
) -> None:
    header = ["客户名称", "客户级别", "所属行业", "所在地区"]
    path = write_csv(
        tmp_path / "words.csv",
        header,
        [
            ["甲公司", "VIP客户", "IT服务", "广东省"],  # a label, an alias, a province
            ["乙公司", "普通", "装备制造", "华东地区"],  # an alias, a label, a label with 地区
            ["丙公司", "KA", "金融", "-"],  # a team word, no such industry, a placeholder
        ],
    )
    dry = dry_run(crm, "customer", path)
    assert dry.unknown_values == {"level": {"KA": 1}, "industry": {"金融": 1}}
    assert dry.counts.invalid == 1

    mapped = ImportOptions(values={"level": {"KA": "key"}, "industry": {"金融": "other"}})
    report = start_import(crm, "customer", path, mapped)
    assert report.counts.created == 3
    found = {name: (c["level"], c["industry"], c["region"]) for name, c in _customers(crm).items()}
    assert found == {
        "甲公司": ("vip", "ict", "south"),
        "乙公司": ("normal", "manufacturing", "east"),
        "丙公司": ("key", "other", None),
    }


def test_a_lookup_names_its_record_by_title_or_is_a_bad_row_saying_why(crm: Loom, tmp_path: Path) -> None:
    records = crm.records()
    parent = records.create("customer", {"name": "星河集团有限公司"})
    records.create("customer", {"name": "重名有限公司"})
    records.create("customer", {"name": "重名有限公司", "contact_name": "另一位"})
    path = write_csv(
        tmp_path / "children.csv",
        ["客户名称", "上级客户"],
        [
            ["星河杭州分公司", "星河集团有限公司"],
            ["无名分公司", "不存在有限公司"],
            ["某分公司", "重名有限公司"],
        ],
    )
    report = start_import(crm, "customer", path)
    assert (report.counts.created, report.counts.invalid) == (1, 2)
    assert _customers(crm)["星河杭州分公司"]["parent_customer"] == parent["id"]
    text = bad_rows_report(crm, report.import_id, "csv").decode("utf-8-sig")
    assert "找不到名为 '不存在有限公司' 的客户" in text and "有 2 条客户名为 '重名有限公司'" in text


@pytest.mark.parametrize(
    ("phone", "accepted"),
    [
        ("13800138000", True),
        ("+86 138-0013-8000", True),
        ("010-62123456", True),
        ("(0571) 8888 1234", True),
        ("400-800-8888", True),
        ("0571-88881234-801", True),  # with an extension
        ("(+86)13800138000", True),
        ("+1 415 555 0100", True),
        ("6212345", False),  # seven digits: no area code
        ("1380013800", False),  # a mobile missing a digit
        ("12345678901", False),  # no mobile starts 12
    ],
)
def test_a_crm_phone_is_a_chinese_mobile_a_landline_with_its_area_code_or_international(
    crm: Loom, phone: str, accepted: bool
) -> None:
    record, errors = None, {}
    try:
        record = crm.records().create("customer", {"name": f"电话{phone}公司", "phone": phone})
    except RecordInvalid as failed:
        errors = failed.fields
    assert (record is not None) == accepted, errors
    if not accepted:
        assert "phone" in errors


def test_a_row_repeating_an_earlier_row_is_a_duplicate_in_any_batch_even_with_a_bad_cell(
    crm: Loom, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "twins.csv",
        ["客户名称", "联系人", "手机", "邮箱"],
        [
            ["甲有限公司", "王芳", "13800138000", "wang@example.cn"],
            ["乙有限公司", "李雷", "13900139000", "li@example.cn"],
            ["丙公司", "赵六", "+86 138 0013 8000", "not-an-email"],  # line 4 repeats line 2 (next batch)
            ["乙公司", "李雷", "", "li@"],  # line 5 repeats line 3, with a bad e-mail too
            ["丁有限公司", "孙七", "13700137000", ""],
            ["丁公司", "孙 七", "", "sun@"],  # line 7 repeats line 6 of its own batch, with a bad e-mail
        ],
    )
    report = start_import(crm, "customer", path, ImportOptions(batch_rows=2))
    assert (report.counts.created, report.counts.skipped, report.counts.invalid) == (3, 3, 0)
    rows = bad_rows_report(crm, report.import_id, "csv").decode("utf-8-sig").strip().splitlines()[1:]
    assert rows[0].startswith("4,") and "与本文件第 2 行重复（联系电话相同）" in rows[0]
    assert rows[1].startswith("5,") and "与本文件第 3 行重复（客户名称、主要联系人相同）" in rows[1]
    assert rows[2].startswith("7,") and "与本文件第 6 行重复" in rows[2]

    again = dry_run(crm, "customer", path)
    assert {p.line: p.kind for p in again.problems} == dict.fromkeys(range(2, 8), "duplicate")
    assert "系统中已有" in localize(again.problems[0].reasons["_record"][0], "zh_CN")
