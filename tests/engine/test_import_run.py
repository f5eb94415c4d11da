"""Importing customers from real CSV and XLSX files: validation, cleaning, duplicates, keys, permissions."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.base.actors import Actor
from engine.identity.permissions import PermissionDenied
from engine.imports import (
    ImportOptions,
    ImportRefused,
    UnreadableFile,
    bad_rows_report,
    dry_run,
    start_import,
)
from engine.loom import Loom
from tests.engine.workbooks import with_numbers

HEADER = ["客户名称", "主要联系人", "联系电话", "所属区域", "统一社会信用代码", "备注"]


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    lines = [",".join(header)] + [",".join("" if c is None else str(c) for c in row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def customers(loom: Loom) -> list[dict[str, Any]]:
    return loom.queries().find("customer", sort="id", limit=200).records


def test_xlsx_with_chinese_headers_imports_valid_rows_and_reports_each_bad_row_with_every_reason(
    crm: Loom, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "客户.xlsx",
        HEADER,
        [
            ["杭州星河科技有限公司", "王芳", 13800138000, "华东", None, "老客户"],
            [None, "李雷", "12", "火星", None, None],
            ["上海蓝天贸易有限公司", "韩梅梅", "+86 139-0013-9000", "华东", None, None],
        ],
    )
    report = start_import(crm, "customer", path)
    assert (report.rows, report.counts.created, report.counts.invalid) == (3, 2, 1)
    rows = customers(crm)
    assert [(r["name"], r["phone"], r["region"]) for r in rows] == [
        ("杭州星河科技有限公司", "13800138000", "east"),
        ("上海蓝天贸易有限公司", "13900139000", "east"),
    ]
    text = bad_rows_report(crm, report.import_id, "csv").decode("utf-8-sig")
    [header, bad] = text.strip().splitlines()
    assert header.startswith("line,客户名称,主要联系人")
    assert bad.startswith("3,,李雷,12,火星")  # sheet row 3: the file's own row number
    for reason in (
        "客户名称 (name): 为必填项",
        "联系电话 (phone): 必须有 5 到 20 位数字",
        "所属区域 (region): 必须是以下之一：华东、华南",
    ):
        assert reason in bad


def test_gbk_csv_with_full_width_digits_is_cleaned_before_it_is_stored(crm: Loom, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "gbk.csv",
        HEADER,
        [
            [
                "  杭州星河科技有限公司 ",
                "王芳",
                "１３８００１３８０００",
                "华东",
                "９１３３０１０６ＭＡ２ＣＤＥＦＧ１Ｘ",
                "",
            ]
        ],
        encoding="gbk",
    )
    report = start_import(crm, "customer", path)
    assert report.counts.created == 1
    [row] = customers(crm)
    assert (row["name"], row["phone"], row["credit_code"]) == (
        "杭州星河科技有限公司",
        "13800138000",
        "91330106MA2CDEFG1X",
    )


def test_company_suffix_variants_and_phone_spellings_are_duplicates_and_skipped(
    crm: Loom, tmp_path: Path
) -> None:
    crm.records().create(
        "customer", {"name": "杭州星河科技有限公司", "contact_name": "王芳", "phone": "010-62123456"}
    )
    path = write_csv(
        tmp_path / "dups.csv",
        HEADER,
        [
            ["杭州星河科技公司", "王芳", "", "", "", ""],  # same company + contact
            ["另一家公司", "赵六", "+86 10 6212 3456", "", "", ""],  # same phone
            ["宁波海港物流有限公司", "孙七", "13700137000", "", "", ""],
            ["宁波海港物流公司", "孙七", "", "", "", ""],  # duplicates the row above, same batch
        ],
    )
    report = dry_run(crm, "customer", path)
    assert (report.counts.created, report.counts.skipped) == (1, 3)
    assert [(p.line, p.reasons["_record"][0]) for p in report.duplicates] == [
        (2, "duplicates customer 1 already in Loom (same name, contact_name)"),
        (3, "duplicates customer 1 already in Loom (same phone)"),
        (5, "duplicates line 4 of this file (same name, contact_name)"),
    ]
    assert len(customers(crm)) == 1  # a dry run saves nothing
    report = start_import(crm, "customer", path)
    assert (report.counts.created, report.counts.skipped) == (1, 3)
    assert len(customers(crm)) == 2


def test_duplicates_across_batches_are_found_too(crm: Loom, tmp_path: Path) -> None:
    rows = [[f"公司{i}有限公司", "张三", f"1380000{i:04d}", "", "", ""] for i in range(5)]
    rows += [[f"公司{i}公司", "张三", "", "", "", ""] for i in range(5)]
    path = write_csv(tmp_path / "c.csv", HEADER, rows)
    report = start_import(crm, "customer", path, ImportOptions(batch_rows=2))
    assert (report.counts.created, report.counts.skipped) == (5, 5)
    # Each duplicate names the line of the file that created its twin, batches earlier.
    text = bad_rows_report(crm, report.import_id, "csv", locale="en").decode("utf-8-sig")
    for i in range(5):
        assert f"duplicates line {i + 2} of this file (same name, contact_name)" in text


def test_update_overwrites_mapped_fields_and_merge_fills_only_empty_ones(crm: Loom, tmp_path: Path) -> None:
    records = crm.records()
    first = records.create("customer", {"name": "甲有限公司", "phone": "13800000001", "remark": "旧备注"})
    second = records.create("customer", {"name": "乙有限公司", "phone": "13800000002"})
    path = write_csv(
        tmp_path / "u.csv",
        HEADER,
        [
            ["甲有限公司", "新联系人", "138 0000 0001", "华南", "", "新备注"],
            ["乙有限公司", "钱八", "13800000002", "华北", "", "补充备注"],
        ],
    )
    report = start_import(crm, "customer", path, ImportOptions(on_duplicate="update"))
    assert report.counts.updated == 2
    after = records.get("customer", first["id"])
    assert (after["contact_name"], after["region"], after["remark"]) == ("新联系人", "south", "新备注")

    records.update("customer", second["id"], {"remark": "手写备注"})
    again = write_csv(tmp_path / "m.csv", HEADER, [["乙公司", "钱八", "13800000002", "华东", "", "覆盖?"]])
    report = start_import(crm, "customer", again, ImportOptions(on_duplicate="merge"))
    merged = records.get("customer", second["id"])
    assert report.counts.unchanged == 1  # every mapped field already had a value
    assert (merged["region"], merged["remark"]) == ("north", "手写备注")


def test_a_chain_of_duplicates_in_one_batch_updates_one_record_in_file_order(
    crm: Loom, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "chain.csv",
        HEADER,
        [
            ["丙有限公司", "周九", "13900000009", "华东", "", "第一"],
            ["丙公司", "周九", "", "华南", "", "第二"],
            ["丙", "周九", "", "", "", "第三"],
        ],
    )
    report = start_import(crm, "customer", path, ImportOptions(on_duplicate="update"))
    assert (report.counts.created, report.counts.updated) == (1, 2)
    [row] = customers(crm)
    assert (row["region"], row["remark"]) == ("south", "第三")


def test_update_by_key_matches_on_a_unique_field_instead_of_duplicate_rules(
    crm: Loom, tmp_path: Path
) -> None:
    existing = crm.records().create("customer", {"name": "丁有限公司", "credit_code": "91330106MA2CDEFG1X"})
    path = write_csv(
        tmp_path / "k.csv",
        HEADER,
        [
            ["丁集团", "", "", "华中", "91330106MA2CDEFG1X", ""],
            ["戊有限公司", "", "", "", "91330106MA2CDEFG2Y", ""],
        ],
    )
    report = start_import(crm, "customer", path, ImportOptions(on_duplicate="update", key="credit_code"))
    assert (report.counts.updated, report.counts.created) == (1, 1)
    assert crm.records().get("customer", existing["id"])["name"] == "丁集团"


def test_update_by_autonumber_code_reports_codes_that_match_nothing(crm: Loom, tmp_path: Path) -> None:
    existing = crm.records().create("customer", {"name": "己有限公司"})
    path = write_csv(
        tmp_path / "code.csv",
        ["客户编号", "备注"],
        [[existing["code"], "按编号更新"], ["KH-2026-99999", "无"]],
    )
    report = start_import(crm, "customer", path, ImportOptions(on_duplicate="update", key="code"))
    assert (report.counts.updated, report.counts.invalid) == (1, 1)
    assert crm.records().get("customer", existing["id"])["remark"] == "按编号更新"
    assert "no customer has code KH-2026-99999" in bad_rows_report(crm, report.import_id, locale="en").decode(
        "utf-8-sig"
    )


def test_a_unique_value_already_taken_is_a_bad_row_not_a_failed_import(crm: Loom, tmp_path: Path) -> None:
    crm.records().create("customer", {"name": "庚有限公司", "credit_code": "91330106MA2CDEFG1X"})
    path = write_csv(
        tmp_path / "uq.csv",
        HEADER,
        [
            ["辛有限公司", "", "", "", "91330106MA2CDEFG1X", ""],
            ["壬有限公司", "", "", "", "91330106MA2CDEFG3W", ""],
            ["癸有限公司", "", "", "", "91330106MA2CDEFG3W", ""],
        ],
    )
    report = start_import(crm, "customer", path)
    assert (report.counts.created, report.counts.invalid) == (1, 2)
    text = bad_rows_report(crm, report.import_id, "csv", locale="en").decode("utf-8-sig")
    assert "is already used by customer 1" in text and "is also in an earlier row" in text


def test_the_import_runs_as_a_user_and_respects_their_permissions(crm: Loom, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", HEADER, [["子有限公司", "", "13800000011", "", "", ""]])
    rep = Actor.user(7, "rep", {"sales_rep"}, department_id=1, department_path="/1/")
    with pytest.raises(PermissionDenied, match="may not import customer"):
        start_import(crm, "customer", path, actor=rep)
    manager = Actor.user(8, "manager", {"sales_manager"}, department_id=1, department_path="/1/")
    report = start_import(crm, "customer", path, actor=manager)
    assert report.counts.created == 1
    assert customers(crm)[0]["owner"] == 8
    other = crm.records().create("customer", {"name": "丑有限公司", "phone": "13800000022", "owner": 99})
    again = write_csv(tmp_path / "p2.csv", HEADER, [["丑公司", "", "13800000022", "", "", "改"]])
    report = start_import(crm, "customer", again, ImportOptions(on_duplicate="update"), actor=manager)
    assert report.counts.invalid == 1  # owned by someone outside the manager's departments
    assert crm.records().get("customer", other["id"])["remark"] is None


def test_a_mapping_is_checked_before_any_row_is_read(crm: Loom, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["公司", "编号", "天数"], [["寅有限公司", "X", "3"]])
    mapping = {"公司": "name", "编号": "code", "天数": "days_silent", "不存在": "name"}
    with pytest.raises(ImportRefused) as refused:
        start_import(crm, "customer", path, ImportOptions(mapping=mapping))
    problems = " | ".join(refused.value.problems)
    assert "'code' is numbered by the system" in problems
    assert "no field 'days_silent'" in problems
    assert "column '不存在' is not in the file" in problems
    assert "both map to 'name'" in problems
    assert customers(crm) == []


def test_bad_rows_report_as_xlsx_keeps_the_original_row(crm: Loom, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", HEADER, [["", "=cmd()", "12", "", "", ""]])
    report = start_import(crm, "customer", path)
    out = tmp_path / "bad.xlsx"
    out.write_bytes(bad_rows_report(crm, report.import_id, "xlsx", locale="en"))
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("line", "客户名称", "主要联系人")
    assert rows[1][0] == 2 and rows[1][2] == "'=cmd()"  # never a live formula
    assert "is required" in rows[1][-1]


def test_a_number_past_its_bound_is_a_bad_row_of_an_import_that_completes_in_every_crm_object(
    crm: Loom, tmp_path: Path
) -> None:
    """Generated over the installed CRM: every bounded number field, given a value past its bound,
    makes its row invalid with the bound in the reason (an amount below 0 made the import fail)."""
    checked = []
    for object_name, model in sorted(crm.registry.objects.items()):
        for spec in model.spec.fields:
            for bound, step, sign in (("min", -1, "≥"), ("max", 1, "≤")):
                limit = spec.param(bound)
                if limit is None or spec.readonly or spec.name not in model.fields or spec.type == "rollup":
                    continue
                path = write_csv(
                    tmp_path / f"{object_name}_{spec.name}_{bound}.csv", ["值"], [[limit + step]]
                )
                options = ImportOptions(mapping={"值": spec.name})
                report = start_import(crm, object_name, path, options)
                assert (report.status, report.counts.invalid) == ("done", 1), (object_name, spec.name)
                text = bad_rows_report(crm, report.import_id, "csv").decode("utf-8-sig")
                assert f"{sign} {limit}" in text, (object_name, spec.name, text)
                checked.append((object_name, spec.name, bound))
    assert len(checked) >= 10


def test_a_cell_holding_a_nul_character_is_a_bad_row_and_a_header_holding_one_is_refused(
    crm: Loom, tmp_path: Path
) -> None:
    """No database column keeps a NUL (PostgreSQL refuses it outright): the row says so, the rest import."""
    path = write_csv(
        tmp_path / "nul.csv", HEADER, [["星河\x00科技有限公司", "王芳", None, None, None, "备\x00注"]]
    )
    with path.open("a", encoding="utf-8") as more:
        more.write("上海蓝天贸易有限公司,韩梅梅,13900139000,华东,,\n")
    report = start_import(crm, "customer", path)
    assert (report.status, report.counts.created, report.counts.invalid) == ("done", 1, 1)
    text = bad_rows_report(crm, report.import_id, "csv").decode("utf-8-sig")
    assert "客户名称 (name)" in text and "备注 (remark)" in text and "含有空字符" in text
    sheet = openpyxl.load_workbook(io.BytesIO(bad_rows_report(crm, report.import_id, "xlsx"))).active
    assert sheet is not None and "星河" in str(sheet.cell(2, 2).value)
    assert [r["name"] for r in customers(crm)] == ["上海蓝天贸易有限公司"]
    header = write_csv(tmp_path / "nul_header.csv", ["客户\x00名称"], [["星河科技"]])
    with pytest.raises(UnreadableFile, match="NUL"):
        dry_run(crm, "customer", header)


def test_a_number_cell_past_any_number_is_kept_in_the_report_of_an_import_that_completes(
    crm: Loom, tmp_path: Path
) -> None:
    """A sheet can say inf or nan in a number cell (no spreadsheet program writes one): its row
    is reported with the cell as that text, where JSON cannot hold the number itself."""
    path = write_xlsx(
        tmp_path / "far.xlsx",
        ["客户名称", "年采购额"],
        [[None, 111], [None, 222], ["杭州星河科技有限公司", 12]],
    )
    report = start_import(crm, "customer", with_numbers(path, {111: b"1E+999", 222: b"NaN"}))
    assert (report.status, report.counts.created, report.counts.invalid) == ("done", 1, 2)
    text = bad_rows_report(crm, report.import_id, "csv").decode("utf-8-sig")
    assert ",inf," in text and ",nan," in text
