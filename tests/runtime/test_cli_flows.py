"""`loom flow submit|inbox|approve|reject|history` as people run them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from engine.loom import Loom
from runtime.cli.group import cli
from tests.engine.flow_world import World, build_world


@pytest.fixture
def world(crm_database_url: str) -> Iterator[World]:
    loom = Loom(crm_database_url)
    loom.init()
    yield build_world(loom)
    loom.close()


def run(world: World, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--database", world.loom.database_url, *args], catch_exceptions=False)


def test_submit_inbox_approve_and_history(world: World) -> None:
    contract = world.contract(500_000)
    submitted = run(
        world, "flow", "submit", "contract", str(contract), "--as", "wang.fang", "--comment", "请审批"
    )
    assert submitted.exit_code == 0, submitted.output
    assert f"submitted contract {contract} to contract_approval" in submitted.output
    assert "waiting for 张经理 (manager, task 1)" in submitted.output

    inbox = run(world, "flow", "inbox", "zhang.jingli")
    assert inbox.exit_code == 0 and "task 1" in inbox.output and "合同审批" in inbox.output
    assert "设备采购合同" in inbox.output and "from 王芳" in inbox.output

    approved = run(world, "flow", "approve", "1", "--as", "zhang.jingli", "--comment", "同意")
    assert approved.exit_code == 0, approved.output
    assert "waiting for" in approved.output and "legal" in approved.output and "finance" in approved.output

    finance_task = world.task_of(world.loom.flows.instance_of("contract", contract).id, "sun.caiwu")
    rejected = run(
        world, "flow", "reject", str(finance_task.id), "--as", "sun.caiwu", "--comment", "回款条件不清"
    )
    assert rejected.exit_code == 0, rejected.output
    assert "returned to the submitter" in rejected.output and "rejected" in rejected.output

    history = run(world, "flow", "history", "contract", str(contract))
    assert history.exit_code == 0
    lines = history.output.splitlines()
    assert lines[0] == "approval 1 (contract_approval): rejected"
    assert any("王芳" in line and "submit" in line and "“请审批”" in line for line in lines)
    assert any("孙财务" in line and "reject [finance]" in line and "回款条件不清" in line for line in lines)


def test_errors_are_reported_with_their_reason(world: World) -> None:
    contract = world.contract(500_000)
    run(world, "flow", "submit", "contract", str(contract), "--as", "wang.fang")
    not_theirs = run(world, "flow", "approve", "1", "--as", "sun.caiwu")
    assert not_theirs.exit_code == 1 and "error: task 1 is not yours to decide" in not_theirs.output
    no_reason = CliRunner().invoke(
        cli, ["--database", world.loom.database_url, "flow", "reject", "1", "--as", "zhang.jingli"]
    )
    assert no_reason.exit_code == 2 and "--comment" in no_reason.output
    again = run(world, "flow", "submit", "contract", str(contract), "--as", "wang.fang")
    assert again.exit_code == 1 and "already being approved" in again.output
    assert "nothing waits for wu.yi" in run(world, "flow", "inbox", "wu.yi").output
    assert "never been submitted" in run(world, "flow", "history", "contract", "999").output
