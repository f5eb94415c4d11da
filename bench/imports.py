"""CSV/XLSX import of CRM customers with validation and dedupe, against a raw Core insert of the same rows.

The file has 5% invalid rows (a bad phone, a missing name or an unknown region) and 10%
duplicates of earlier rows, spelled differently (+86 phone formats, 公司 for 有限公司). The
CRM customer is used as it ships (two duplicate rules, unique keys, an autonumber, 40 fields,
rollups, a pool); the simple `prospect` object has the same duplicate rules and the imported
fields only, to show what the import costs apart from the object.

The XLSX figures are the 40-column customer sheet of bench.customer_sheet, saved both as
streaming writers save it (inline strings) and as Excel saves it (a shared-strings table),
imported end to end (reading the file included) and compared with a raw Core insert of the
records it creates. Peak memory is the resident size of a `loom import` process at 10k and
100k rows.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bench.customer_sheet import created_rows, write_sheet
from bench.setup import POSTGRES_URL, databases, fresh_loom, postgres_schema, scaled
from engine.imports import ImportOptions, start_import
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from metadata.specs import ObjectSpec
from runtime.heap import startup_objects_frozen

# The customer's import-relevant shape without the rest of the CRM (40 fields, rollups, autonumber,
# pool, flows): what the import itself costs, apart from what a rich object costs to write.
PROSPECT = ObjectSpec.from_json(
    {
        "name": "prospect",
        "label": {"zh_CN": "意向客户", "en": "Prospect"},
        "title_field": "name",
        "duplicate_rules": [
            {"name": "same_phone", "match": ["phone"], "normalize": {"phone": "phone"}},
            {
                "name": "same_company_and_contact",
                "match": ["name", "contact_name"],
                "normalize": {"name": "company_name", "contact_name": "trim"},
            },
        ],
        "fields": [
            {
                "name": "name",
                "type": "text",
                "label": {"zh_CN": "客户名称"},
                "required": True,
                "max_length": 200,
            },
            {"name": "contact_name", "type": "text", "label": {"zh_CN": "主要联系人"}, "max_length": 50},
            {"name": "phone", "type": "phone", "label": {"zh_CN": "联系电话"}},
            {
                "name": "region",
                "type": "select",
                "label": {"zh_CN": "所属区域"},
                "options": [
                    {"value": v, "label": {"zh_CN": z}}
                    for v, z in zip(
                        ["east", "south", "north", "central", "southwest"],
                        ["华东", "华南", "华北", "华中", "西南"],
                        strict=True,
                    )
                ],
            },
            {
                "name": "level",
                "type": "select",
                "label": {"zh_CN": "客户级别"},
                "default": "'normal'",
                "options": [
                    {"value": v, "label": {"zh_CN": z}}
                    for v, z in zip(
                        ["normal", "key", "vip"], ["普通客户", "重点客户", "VIP客户"], strict=True
                    )
                ],
            },
            {"name": "email", "type": "email", "label": {"zh_CN": "电子邮箱"}},
            {"name": "remark", "type": "long_text", "label": {"zh_CN": "备注"}},
        ],
    }
)

HEADER = ["客户名称", "主要联系人", "联系电话", "所属区域", "客户级别", "电子邮箱", "备注"]
REGIONS = ["华东", "华南", "华北", "华中", "西南"]
LEVELS = ["普通客户", "重点客户", "VIP客户"]


def customer_rows(n: int) -> list[list[str]]:
    """n rows: every 20th invalid, every 10th (otherwise) a re-spelled duplicate of an earlier row."""
    rows = []
    for i in range(n):
        if i % 20 == 7:
            rows.append(["", f"联系人{i}", "12", "火星", "", "", ""])  # three reasons at once
        elif i % 10 == 3 and i > 100:
            j = i - 97  # an earlier valid, unique row
            rows.append(
                [
                    f"星河{j}科技公司",
                    f"联系人{j}",
                    f"+86 138-{j // 10000:04d}-{j % 10000:04d}",
                    "",
                    "",
                    "",
                    "",
                ]
            )
        else:
            rows.append(
                [
                    f"星河{i}科技有限公司",
                    f"联系人{i}",
                    f"138{i // 10000:04d}{i % 10000:04d}",
                    REGIONS[i % 5],
                    LEVELS[i % 3],
                    f"buyer{i}@example.com",
                    "批量导入",
                ]
            )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _raw_rows(rows: list[list[str]], now) -> list[dict]:  # type: ignore[no-untyped-def]
    """The rows that would be created, in database form, as a hand-written loader would insert them."""
    region = dict(zip(REGIONS, ["east", "south", "north", "central", "southwest"], strict=True))
    level = dict(zip(LEVELS, ["normal", "key", "vip"], strict=True))
    return [
        {
            "code": f"KH-2026-{i:05d}",
            "name": name,
            "contact_name": contact,
            "phone": phone,
            "region": region[reg],
            "level": level[lev],
            "email": email,
            "remark": remark,
            "lifecycle": "lead",
            "in_pool": False,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for i, (name, contact, phone, reg, lev, email, remark) in enumerate(rows)
        if name.endswith("有限公司")
    ]


def _csv_result(kind: str, n: int, folder: Path, object_name: str) -> dict:
    rows = customer_rows(n)
    path = write_csv(folder / f"{object_name}_{kind}.csv", rows)
    # Each side starts from its own empty database, so neither inherits the other's pages.
    with _loom_with(kind, object_name) as loom:
        table = loom.registry.object(object_name).table
        raw = _raw_rows(rows, loom.clock.now())
        if object_name != "customer":
            raw = [{k: v for k, v in row.items() if k not in ("code", "lifecycle", "in_pool")} for row in raw]
        started = time.perf_counter()
        with loom.begin() as conn:
            conn.execute(table.insert(), raw)
        baseline = time.perf_counter() - started
    created = len(raw)
    # The import reads the file: the rows held here would only give the garbage collector more to scan.
    del rows, raw
    with _loom_with(kind, object_name) as loom, startup_objects_frozen(loom):  # as `loom import` runs
        started = time.perf_counter()
        report = start_import(loom, object_name, path, ImportOptions())
        engine = time.perf_counter() - started
    counts = report.counts
    what = "CRM customer" if object_name == "customer" else "simple prospect object"
    return {
        "name": f"CSV import {n:,} rows into {what}, validation + dedupe ({kind})",
        "value": n / engine,
        "unit": "rows/s",
        "baseline_name": f"Core executemany of the {created:,} rows created",
        "baseline": n / baseline,
        "ratio": engine / baseline,
        "target": "≥ 20,000 rows/s on SQLite",
        "note": f"{counts.created:,} created, {counts.skipped:,} duplicates skipped, {counts.invalid:,} bad",
    }


@contextmanager
def _loom_with(kind: str, object_name: str) -> Iterator[Loom]:
    with fresh_loom(kind, PROSPECT) as loom:
        if object_name == "customer":
            install_package(loom, CRM_PACKAGE)
        yield loom


def _sheet_result(kind: str, n: int, folder: Path, *, shared: bool) -> dict:
    """`start_import` of the 40-column customer sheet, against a Core insert of the records it makes."""
    path = write_sheet(folder / f"customers_{n}_{'shared' if shared else 'inline'}.xlsx", n, shared=shared)
    with _loom_with(kind, "customer") as loom:
        raw = created_rows(n, loom.clock.now())
        started = time.perf_counter()
        with loom.begin() as conn:
            conn.execute(loom.registry.object("customer").table.insert(), raw)
        baseline = time.perf_counter() - started
    created = len(raw)
    del raw
    with _loom_with(kind, "customer") as loom, startup_objects_frozen(loom):
        started = time.perf_counter()
        report = start_import(loom, "customer", path, ImportOptions())
        engine = time.perf_counter() - started
    counts = report.counts
    strings = "shared strings, as Excel saves" if shared else "inline strings, as streaming writers save"
    return {
        "name": f"XLSX import {n:,} rows × 40 columns into CRM customer, end to end ({strings}; {kind})",
        "value": n / engine,
        "unit": "rows/s",
        "baseline_name": f"Core executemany of the {created:,} rows created",
        "baseline": n / baseline,
        "ratio": engine / baseline,
        "target": f"≥ {'15,000' if kind == 'sqlite' else '10,000'} rows/s",
        "note": f"{counts.created:,} created, {counts.skipped:,} duplicates skipped, {counts.invalid:,} bad",
    }


# The peak is the process's own (VmHWM): ru_maxrss would keep the bench's size from before exec.
_MEASURED_IMPORT = """
import atexit, re, sys
peak = lambda: re.search(r"VmHWM:\\s*(\\d+)", open("/proc/self/status").read()).group(1)
atexit.register(lambda: print("peak-rss-kib", peak(), file=sys.stderr))
from runtime.cli import main
sys.argv = ["loom", "--database", sys.argv[1], "import", "customer", sys.argv[2]]
main()
"""


def _cli_peak(kind: str, n: int, folder: Path, *, shared: bool) -> tuple[float, float]:
    """Peak resident MiB and seconds of a `loom import customer` process reading an n-row sheet."""
    path = write_sheet(folder / f"rss_{n}_{shared}.xlsx", n, shared=shared)
    with _database_for_cli(kind, folder) as url:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED_IMPORT, url, str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
            check=True,
        )
        seconds = time.perf_counter() - started
    kib = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("peak-rss-kib"))
    return kib / 1024, seconds


@contextmanager
def _database_for_cli(kind: str, folder: Path) -> Iterator[str]:
    """An empty CRM database for a command-line import: a new SQLite file or PostgreSQL schema."""
    with (
        postgres_schema(POSTGRES_URL or "")
        if kind == "postgresql"
        else nullcontext(f"sqlite:///{folder}/cli_{time.monotonic_ns()}.db")
    ) as url:
        loom = Loom(url)
        loom.init()
        install_package(loom, CRM_PACKAGE)
        loom.close()
        yield url


def _peak_result(kind: str, small: int, large: int, folder: Path, *, shared: bool) -> dict:
    small_peak, _ = _cli_peak(kind, small, folder, shared=shared)
    large_peak, seconds = _cli_peak(kind, large, folder, shared=shared)
    strings = "shared strings" if shared else "inline strings"
    note = f"{large / seconds:,.0f} rows/s for the whole process, start-up included"
    if kind == "sqlite":
        # SQLite's page cache lives in the importing process and grows with the database up to
        # its cap (cache_size, 16 MiB a connection): on PostgreSQL the cache is the server's.
        note += "; includes SQLite's page cache (up to 16 MiB a connection) as the database grows"
    return {
        "name": f"`loom import customer` peak RSS, {large:,}-row XLSX ({strings}, {kind})",
        "value": large_peak,
        "unit": "MiB",
        "baseline_name": f"the same import of {small:,} rows",
        "baseline": small_peak,
        "ratio": large_peak / small_peak,
        "target": "≤ 1.2× (flat)",
        "note": note,
    }


def run() -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in databases():
            for object_name in ("prospect", "customer"):
                results.append(_csv_result(kind, scaled(100_000), folder, object_name))
        for kind in databases():
            results.append(_sheet_result(kind, scaled(100_000), folder, shared=False))
        results.append(_sheet_result("sqlite", scaled(100_000), folder, shared=True))
        for kind in databases():
            for shared in (False, True):
                results.append(_peak_result(kind, scaled(10_000), scaled(100_000), folder, shared=shared))
    return results
