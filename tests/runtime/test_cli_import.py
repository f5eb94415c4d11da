"""`loom import` as a user runs it: dry run, import with a report, resume after a killed process, revert."""

from __future__ import annotations

import json
import os
import re
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


def test_a_dry_run_lists_left_out_columns_and_unknown_words_and_saves_a_mapping_to_fill_in(
    crm_database_url: str, tmp_path: Path
) -> None:
    database = crm_database_url
    path = tmp_path / "客户.csv"
    path.write_text(
        "客户名称,联系人,手机,客户级别,所在地区,最近跟进日期,微信\n"
        "杭州星河科技有限公司,陈明,138-0013-8000,KA,浙江省,01/15/2026 20:00,wx_chen\n"
        "苏州远航贸易有限公司,刘洋,6212345,重要,华东地区,2026年1月16日,wx_liu\n",
        encoding="utf-8",
    )
    saved = tmp_path / "mapping.json"
    dry = run(database, "--lang", "zh_CN", "import", "customer", str(path), "--save-mapping", str(saved))
    assert dry.exit_code == 0, dry.output
    assert "以下列没有对应的字段，不会导入：'微信'" in dry.output
    assert "客户级别：不是选项的词（行数）：KA (1)" in dry.output
    assert "必须是 11 位手机号码" in dry.output  # the 7-digit phone, in the reader's language
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["columns"]["微信"] is None and document["columns"]["手机"] == "phone"
    assert document["values"] == {"level": {"KA": ""}}

    document["values"]["level"]["KA"] = "key"
    saved.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    done = run(database, "import", "customer", str(path), "--mapping", str(saved))
    assert done.exit_code == 0, done.output
    assert "1 created" in done.output and "1 invalid" in done.output
    assert "columns not imported (no field takes them): '微信'" in done.output


def test_an_import_on_a_terminal_shows_rows_done_of_the_total_and_the_rate(tmp_path: Path) -> None:
    import pty

    database = crm_database(f"sqlite:///{tmp_path / 'loom.db'}")
    path = tmp_path / "five_thousand.csv"
    rows = "".join(f"公司{i}有限公司,联系人{i},139{i:08d},华东\n" for i in range(5_000))
    path.write_text(HEADER + rows, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "COLUMNS": "120"}
    entry = "from runtime.cli import main; main()"
    command = [sys.executable, "-c", entry, "--database", database, "import", "customer", str(path)]
    terminal, other_end = pty.openpty()  # a real terminal: the bar draws only on one
    process = subprocess.Popen(command, env=env, stdin=other_end, stdout=other_end, stderr=other_end)
    os.close(other_end)
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the process ended and closed its side
            break
        if not chunk:
            break
        shown += chunk
    os.close(terminal)
    assert process.wait(timeout=300) == 0, shown.decode(errors="replace")
    text = shown.decode(errors="replace")
    assert "importing five_thousand.csv" in text
    assert "5000/5000" in text  # rows done of the file's rows, at the end
    assert re.search(r"\d[\d,]* rows/s", text), text  # the rate, once a second batch is in
    assert "import 1: 5000 row(s): 5000 created" in text


def test_an_import_off_a_terminal_prints_no_bar(crm_database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "甲有限公司,王芳,13800138000,华东\n", encoding="utf-8")
    done = run(crm_database_url, "import", "customer", str(path))
    assert done.exit_code == 0 and "rows/s" not in done.output and "[#" not in done.output
