"""`loom import` as a user runs it: dry run, import with a report, resume after a killed process, revert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from engine.imports import list_imports
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from runtime.cli.group import cli

HEADER = "客户名称,主要联系人,联系电话,所属区域\n"


def run(database: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--database", database, *args], catch_exceptions=False)


def crm_database(database_url: str) -> str:
    loom = Loom(database_url)
    loom.init()
    install_package(loom, CRM_PACKAGE)
    loom.close()
    return database_url


def test_dry_run_then_import_with_a_report_then_revert(crm_database_url: str, tmp_path: Path) -> None:
    database = crm_database_url
    path = tmp_path / "customers.csv"
    path.write_text(
        HEADER + "杭州星河科技有限公司,王芳,+86 138-0013-8000,华东\n,李雷,12,火星\n杭州星河科技公司,王芳,,\n",
        encoding="utf-8",
    )
    dry = run(database, "import", "customer", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "nothing was saved" in dry.output and "1 created" in dry.output
    assert "line 3 invalid" in dry.output

    report = tmp_path / "bad.csv"
    done = run(database, "import", "customer", str(path), "--report", str(report))
    assert done.exit_code == 0, done.output
    assert (
        "import 1: 3 row(s): 1 created" in done.output and "1 duplicate(s) skipped, 1 invalid" in done.output
    )
    assert "is required" in report.read_text(encoding="utf-8-sig")

    listed = run(database, "import", "list")
    assert "customer" in listed.output and "done" in listed.output
    reverted = run(database, "import", "revert", "1")
    assert reverted.exit_code == 0 and "1 deleted" in reverted.output


def test_an_import_without_the_permission_fails_with_a_clear_error(
    crm_database_url: str, tmp_path: Path
) -> None:
    database = crm_database_url
    assert (
        run(
            database, "user", "create", "rep", "--name", "Rep", "--no-password", "--role", "sales_rep"
        ).exit_code
        == 0
    )
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "甲有限公司,,,\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--database", database, "import", "customer", str(path), "--as", "rep"])
    assert result.exit_code == 1
    assert "you may not import customer records" in result.output


def test_a_killed_import_resumes_and_imports_the_rest_once(tmp_path: Path) -> None:
    database = crm_database(f"sqlite:///{tmp_path / 'loom.db'}")
    path = tmp_path / "big.csv"
    rows = "".join(f"公司{i}有限公司,联系人{i},139{i:08d},华东\n" for i in range(20_000))
    path.write_text(HEADER + rows, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    entry = "from runtime.cli import main; main()"
    command = [sys.executable, "-c", entry, "--database", database, "import", "customer", str(path)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loom = Loom(database)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            imports = list_imports(loom)
            if imports and 0 < imports[0]["rows_done"] < 20_000:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        [stopped] = list_imports(loom)
        assert stopped["rows_done"] < 20_000, "the import finished before it could be killed"
        resumed = run(database, "import", "resume", str(stopped["id"]))
        assert resumed.exit_code == 0, resumed.output
        assert loom.queries().count("customer") == 20_000
    finally:
        loom.close()
