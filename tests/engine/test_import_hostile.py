"""Hostile cells in every column of every CRM object: each import completes and accounts for every row.

Generated from the installed metadata: a header of each object's field labels, rows of values a
spreadsheet can hold but no form would send (numbers past any bound, inf and nan, NUL and control
characters, dates far out of range, text far past any length). Each such row is created, skipped
or reported with its reasons; none fails the import, and both bad-row reports can be downloaded.
"""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl

from engine.imports import ImportOptions, bad_rows_report, dry_run, start_import
from engine.loom import Loom
from tests.engine.workbooks import with_numbers

# Numbers a sheet holds that no spreadsheet program writes, put in place of these stand-ins.
STAND_INS = {123456781: b"1E+999", 123456782: b"-1E+999", 123456783: b"NaN"}
TYPED: list[Any] = [
    1e308, -1e308, 0, -1, 12.5, 10**20, True, False, *STAND_INS,
    datetime(9999, 12, 31, 23, 59), date(1900, 1, 1), time(13, 30), "", None,
]  # fmt: skip
TEXT = [
    "nan", "inf", "-", "无", "\u3000", "9999-12-31 23:59:59", "0000-01-01", "2026-02-30", "13/13/2026",
    "+86 138 0013 8000", "x" * 5000, "😀", "=1+1", "１２３", "12元", "¥1,234.50", "是", "TRUE",
    "01/15/2026", "2026年13月1日", "-99999999999999999999.5", "[1, 2]", '{"a": 1}',
]  # fmt: skip


def _labels(loom: Loom, object_name: str) -> list[str]:
    fields = loom.registry.object(object_name).spec.fields
    return [(dict(field.label).get("zh_CN") if field.label else None) or field.name for field in fields]


def _xlsx(path: Path, header: list[str], chooser: random.Random) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for _ in range(12):
        sheet.append([chooser.choice(TYPED + TEXT) for _ in header])
    book.save(path)
    return with_numbers(path, STAND_INS)


def _csv(path: Path, header: list[str], chooser: random.Random) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for _ in range(12):
            writer.writerow([chooser.choice([*TEXT, "a\x00b", "a\x01b"]) for _ in header])
    return path


def test_hostile_cells_in_every_column_of_every_crm_object_import_and_account_for_every_row(
    crm: Loom, tmp_path: Path
) -> None:
    imported = 0
    for number, object_name in enumerate(sorted(crm.registry.objects)):
        header = _labels(crm, object_name)
        chooser = random.Random(number)
        for write in (_xlsx, _csv):
            path = write(tmp_path / f"{object_name}{'.xlsx' if write is _xlsx else '.csv'}", header, chooser)
            preview = dry_run(crm, object_name, path, ImportOptions(), sample=12)
            assert preview.rows == 12, object_name
            report = start_import(crm, object_name, path)
            counts = report.counts
            settled = counts.created + counts.updated + counts.merged + counts.unchanged
            assert report.status == "done" and settled + counts.skipped + counts.invalid == 12, object_name
            for fmt in ("csv", "xlsx"):
                assert bad_rows_report(crm, report.import_id, fmt), (object_name, fmt)
            if counts.invalid:
                sheet = openpyxl.load_workbook(io.BytesIO(bad_rows_report(crm, report.import_id, "xlsx")))
                assert (
                    sheet.active is not None and sheet.active.max_row == counts.invalid + counts.skipped + 1
                )
            imported += 1
    assert imported == 2 * len(crm.registry.objects) >= 30
