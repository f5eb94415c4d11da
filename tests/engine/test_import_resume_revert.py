"""An import survives a crash without duplicating rows, and can be reverted as a whole."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.imports import (
    ImportOptions,
    ImportRefused,
    RevertRefused,
    bad_rows_report,
    import_report,
    list_imports,
    resume_import,
    revert_import,
    start_import,
)
from engine.loom import Loom
from engine.store.system_tables import imports
from tests.engine.test_import_run import HEADER, customers, write_csv, write_xlsx


class Crash(Exception):
    pass


def crash_after(batches: int):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int) -> None:
        progress.calls += 1  # type: ignore[attr-defined]
        if progress.calls == batches:  # type: ignore[attr-defined]
            raise Crash(f"killed after {done} rows")

    progress.calls = 0  # type: ignore[attr-defined]
    return progress


def ten_rows(tmp_path: Path) -> Path:
    rows = [[f"公司{i}有限公司", f"联系人{i}", f"1390000{i:04d}", "华东", "", ""] for i in range(10)]
    rows.insert(4, ["", "坏行", "1", "", "", ""])
    return write_xlsx(tmp_path / "ten.xlsx", HEADER, rows)


def test_a_crash_keeps_committed_batches_and_resume_imports_the_rest_once(crm: Loom, tmp_path: Path) -> None:
    path = ten_rows(tmp_path)
    options = ImportOptions(batch_rows=3)
    with pytest.raises(Crash):
        start_import(crm, "customer", path, options, progress=crash_after(2))
    [stopped] = list_imports(crm)
    assert (stopped["status"], stopped["rows_done"]) == ("failed", 6)
    assert len(customers(crm)) == 5  # two batches committed: six rows, one of them bad

    report = resume_import(crm, stopped["id"])
    assert (report.status, report.rows) == ("done", 11)
    assert (report.counts.created, report.counts.invalid) == (10, 1)
    names = [row["name"] for row in customers(crm)]
    assert sorted(names) == sorted(f"公司{i}有限公司" for i in range(10))


def test_running_the_same_import_again_continues_it(crm: Loom, tmp_path: Path) -> None:
    path = ten_rows(tmp_path)
    options = ImportOptions(batch_rows=4, on_duplicate="update")
    with pytest.raises(Crash):
        start_import(crm, "customer", path, options, progress=crash_after(1))
    report = start_import(crm, "customer", path, options)
    assert report.counts.created == 10 and report.counts.updated == 0
    assert len(list_imports(crm)) == 1
    assert import_report(crm, report.import_id).status == "done"
    with pytest.raises(ImportRefused, match="only an unfinished import resumes"):
        resume_import(crm, report.import_id)


def test_an_import_that_kept_the_files_day_orders_with_its_options_continues_with_them(
    crm: Loom, tmp_path: Path
) -> None:
    """As imports started by earlier versions did, which read the file's day orders first."""
    rows = [[f"公司{i}有限公司", f"联系人{i}", "", "", "", f"0{i + 1}/04/2026"] for i in range(6)]
    path = write_csv(tmp_path / "dates.csv", [*HEADER[:5], "最近跟进日期"], rows)
    options = ImportOptions(batch_rows=2)
    with pytest.raises(Crash):
        start_import(crm, "customer", path, options, progress=crash_after(1))
    [stopped] = list_imports(crm)
    with crm.begin() as conn:
        kept = {**conn.execute(select(imports.c.options).where(imports.c.id == stopped["id"])).scalar_one()}
        conn.execute(
            update(imports)
            .where(imports.c.id == stopped["id"])
            .values(options={**kept, "date_orders": {"/": "dmy"}})
        )
    report = start_import(crm, "customer", path, options)
    assert (report.import_id, report.counts.created) == (stopped["id"], 4)
    followed = sorted(c["last_followup_at"] for c in customers(crm))
    # The first batch's dates could be read either way and the file settles nothing: refused.
    # After the crash, day first as the import kept: 3 to 6 April, midnight in Beijing, in UTC.
    assert followed == [datetime(2026, 4, day) - timedelta(hours=8) for day in range(3, 7)]


def test_after_a_resume_a_duplicate_still_names_the_line_that_created_its_twin(
    crm: Loom, tmp_path: Path
) -> None:
    rows = [
        ["甲有限公司", "王芳", "13800000001", "", "", ""],
        ["乙有限公司", "李雷", "13800000002", "", "", ""],
    ]
    rows += [["甲公司", "王芳", "", "", "", ""]]  # line 4: the twin of line 2, after the crash
    path = write_csv(tmp_path / "c.csv", HEADER, rows)
    with pytest.raises(Crash):
        start_import(crm, "customer", path, ImportOptions(batch_rows=2), progress=crash_after(1))
    [stopped] = list_imports(crm)
    report = resume_import(crm, stopped["id"])
    assert (report.counts.created, report.counts.skipped) == (2, 1)
    text = bad_rows_report(crm, report.import_id, "csv", locale="en").decode("utf-8-sig")
    assert "duplicates line 2 of this file (same name, contact_name)" in text


def test_resume_refuses_a_file_that_changed(crm: Loom, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", HEADER, [[f"公司{i}", "", "", "", "", ""] for i in range(4)])
    with pytest.raises(Crash):
        start_import(crm, "customer", path, ImportOptions(batch_rows=2), progress=crash_after(1))
    [stopped] = list_imports(crm)
    path.write_text(path.read_text(encoding="utf-8") + "公司9,,,,,\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="changed since import"):
        resume_import(crm, stopped["id"])


def test_revert_deletes_created_records_and_restores_updated_ones(crm: Loom, tmp_path: Path) -> None:
    records = crm.records()
    kept = records.create("customer", {"name": "甲有限公司", "phone": "13800000001", "remark": "原备注"})
    path = write_csv(
        tmp_path / "r.csv",
        HEADER,
        [["甲公司", "", "13800000001", "华南", "", "导入备注"], ["新公司", "", "13800000002", "", "", ""]],
    )
    report = start_import(crm, "customer", path, ImportOptions(on_duplicate="update"))
    assert (report.counts.created, report.counts.updated) == (1, 1)

    result = revert_import(crm, report.import_id)
    assert (result.deleted, result.restored, result.skipped) == (1, 1, [])
    assert [row["id"] for row in customers(crm)] == [kept["id"]]
    restored = records.get("customer", kept["id"])
    assert (restored["remark"], restored["region"]) == ("原备注", None)
    assert import_report(crm, report.import_id).status == "reverted"
    # The reverted record no longer counts as a duplicate: importing again creates it anew.
    assert start_import(crm, "customer", path, ImportOptions(on_duplicate="update")).counts.created == 1


def test_revert_refuses_records_changed_since_unless_told_to_skip_them(crm: Loom, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv", HEADER, [["乙有限公司", "", "", "", "", ""], ["丙有限公司", "", "", "", "", ""]]
    )
    report = start_import(crm, "customer", path)
    first, _second = customers(crm)
    crm.records().update("customer", first["id"], {"remark": "有人改过"})
    with pytest.raises(RevertRefused, match="1 record") as refused:
        revert_import(crm, report.import_id)
    assert refused.value.record_ids == [first["id"]]
    assert len(customers(crm)) == 2  # nothing was reverted

    result = revert_import(crm, report.import_id, skip_changed=True)
    assert (result.deleted, result.skipped) == (1, [first["id"]])
    assert [row["id"] for row in customers(crm)] == [first["id"]]
    with pytest.raises(ImportRefused, match="already reverted"):
        revert_import(crm, report.import_id)


def test_records_saved_elsewhere_are_found_as_duplicates_by_the_next_import(
    crm: Loom, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "a.csv", HEADER, [["丁有限公司", "", "13800000004", "", "", ""]])
    start_import(crm, "customer", first)
    crm.records().create("customer", {"name": "戊有限公司", "phone": "138 0000 0005"})
    second = write_csv(
        tmp_path / "b.csv",
        HEADER,
        [["丁公司", "", "13800000004", "", "", ""], ["戊公司", "", "+86 13800000005", "", "", ""]],
    )
    report = start_import(crm, "customer", second)
    assert (report.counts.created, report.counts.skipped) == (0, 2)
