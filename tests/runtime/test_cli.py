"""The `loom` command as a user runs it: validate, install, migrate, objects, demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.cli.group import cli
from tests.conftest import FIXTURES

PACKAGES = FIXTURES / "packages"
CRM = Path(__file__).resolve().parents[2] / "metadata" / "packages" / "crm"


def run(*args: str, database: str | None = None):  # type: ignore[no-untyped-def]
    prefix = ["--database", database] if database else []
    return CliRunner().invoke(cli, [*prefix, *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("fixture", "file", "pointer"),
    [
        ("bad_identifier", "objects/widget.json", "/fields/1/name"),
        ("unknown_lookup", "objects/widget.json", "/fields/1/target"),
        ("missing_field_expression", "objects/invoice.json", "/fields/2/expression"),
        ("dunder_expression", "objects/widget.json", "/fields/1/expression"),
        ("bad_dashboard", "dashboards/board.json", "/widgets/0/measure"),
    ],
)
def test_validate_and_install_name_the_file_and_json_path(
    fixture: str, file: str, pointer: str, database_url: str
) -> None:
    for args in (["validate", str(PACKAGES / fixture)], ["install", str(PACKAGES / fixture)]):
        result = run(*args, database=database_url)
        assert result.exit_code == 1, result.output
        assert f"{file}: {pointer}:" in result.output
    objects = run("objects", database=database_url)
    assert objects.exit_code == 0
    assert "widget" not in objects.output and "invoice" not in objects.output  # nothing applied


def test_validate_reports_every_problem_of_a_package() -> None:
    result = run("validate", str(PACKAGES / "five_problems"))
    assert result.exit_code == 1
    assert "5 problem(s)" in result.output
    for where in (
        "package.json: /version",
        "objects/ticket.json: /title_field",
        "/kanban/group_by",
        "/fields/1/name",
        "/fields/2/options/2/value",
    ):
        assert where in result.output


def test_install_plan_writes_nothing_then_install_creates_tables(database_url: str) -> None:
    planned = run("install", "--plan", str(CRM), database=database_url)
    assert planned.exit_code == 0, planned.output
    assert "create_table obj_customer" in planned.output
    assert "customer" not in run("objects", database=database_url).output

    installed = run("install", str(CRM), database=database_url)
    assert installed.exit_code == 0, installed.output
    listing = run("objects", database=database_url).output
    assert "obj_customer" in listing and "obj_service_ticket" in listing

    again = run("install", str(CRM), database=database_url)
    assert "nothing to change" in again.output
    assert "tables already match" in run("migrate", database=database_url).output


def test_the_console_script_runs_against_the_env_database(tmp_path: Path) -> None:
    env = {**os.environ, "LOOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    loom = Path(sys.executable).parent / "loom"
    demo = [str(loom), "demo", "--no-serve", "--customers", "5", "--password", "s3cret-demo"]
    done = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "demo data loaded (seed 7): 5 customer" in done.stdout
    assert "manager1   s3cret-demo    sales_manager" in done.stdout
    again = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "demo data not loaded: the database already holds data (5 customers" in again.stdout
    assert "manager1   s3cret-demo    sales_manager" in again.stdout  # the sign-ins are shown again
    bad = subprocess.run(
        [str(loom), "validate", str(PACKAGES / "bad_identifier")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "objects/widget.json: /fields/1/name" in bad.stderr


def test_rules_explain_tells_a_user_why_a_rule_fired_or_not(database_url: str) -> None:
    from engine.loom import Loom

    assert run("install", str(CRM), database=database_url).exit_code == 0
    loom = Loom(database_url)
    customer = loom.records().create("customer", {"name": "上海云杉科技", "level": "normal"})
    loom.close()
    listing = run("rules", "list", database=database_url)
    assert "vip_followup_overdue" in listing.output and "schedule" in listing.output
    result = run("rules", "explain", "customer", str(customer["id"]), database=database_url)
    assert result.exit_code == 0, result.output
    assert "vip_followup_overdue [schedule]: condition is false now" in result.output
    assert "level = 'normal'" in result.output
    missing = run("rules", "explain", "customer", "999999", database=database_url)
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_rules_try_shows_what_a_rule_would_do_and_saves_nothing(database_url: str) -> None:
    from datetime import timedelta

    from engine.loom import Loom

    assert run("install", str(CRM), database=database_url).exit_code == 0
    loom = Loom(database_url)
    silent = loom.clock.now() - timedelta(days=20)
    customer = loom.records().create(
        "customer", {"name": "深圳云帆", "level": "vip", "last_followup_at": silent}
    )
    tasks_before = loom.queries().count("task")
    result = run("rules", "try", "vip_followup_overdue", str(customer["id"]), database=database_url)
    assert result.exit_code == 0, result.output
    assert (
        f"vip_followup_overdue on customer {customer['id']}: would fire (nothing was saved)" in result.output
    )
    assert "level = 'vip'" in result.output
    assert "would create task" in result.output and "请立即跟进VIP客户：深圳云帆" in result.output
    assert loom.queries().count("task") == tasks_before
    loom.close()
    unknown = run("rules", "try", "no_such_rule", "1", database=database_url)
    assert unknown.exit_code == 1 and "no rule named 'no_such_rule'" in unknown.output


def test_worker_once_reports_failed_rule_actions_and_explain_shows_computed_inputs(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timedelta

    from engine.loom import Loom
    from engine.schema.changes import apply_objects
    from tests.runtime.test_worker import TICKET, failing_rules

    t0 = datetime(2026, 11, 26, 1, 0)  # 09:00 in Beijing
    monkeypatch.setenv("LOOM_NOW", t0.isoformat())
    assert run("install", str(CRM), database=database_url).exit_code == 0
    loom = Loom(database_url)
    loom.init()
    apply_objects(loom, [TICKET], rules=failing_rules())
    ticket = loom.records().create("ticket", {"subject": "打印机卡纸"})
    customer = loom.records().create(
        "customer", {"name": "上海云杉科技", "level": "vip", "last_followup_at": t0 - timedelta(days=15)}
    )
    loom.close()
    monkeypatch.setenv("LOOM_NOW", (t0 + timedelta(days=1)).isoformat())
    result = run("worker", "--once", database=database_url)
    explained = run("rules", "explain", "customer", str(customer["id"]), database=database_url)
    assert result.exit_code == 0, result.output
    assert "rules_failed: 1" in result.output
    assert f"rule ticket_makes_blank_ticket failed on ticket {ticket['id']}" in result.output
    assert explained.exit_code == 0, explained.output
    assert "days_since(coalesce(last_followup_at, created_at)) = 16" in explained.output
    assert "created task " in explained.output
    assert "2026-11-27 09:00 Asia/Shanghai" in explained.output
    assert "UTC" not in explained.output
