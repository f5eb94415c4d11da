"""Uninstalling and reinstalling a package never lets old work act on new records: uninstall refuses
while approvals, due work or outbox messages wait on the package's objects (or cancels them when told
to), and a table made again over an archived one continues its ids."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from engine.backup import restore_backup, take_backup
from engine.base.actors import SYSTEM
from engine.base.clock import Clock
from engine.base.errors import PackageRefused
from engine.flows.errors import FlowConflict
from engine.identity import actor_for, create_user
from engine.loom import Loom
from engine.packages.install import install_package
from engine.packages.uninstall import uninstall_package
from engine.store.system_tables import flow_history, outbox
from engine.work.outbox import enqueue
from tests.engine.backup_world import another_loom
from tests.engine.package_world import label, write


def requests_package() -> dict[str, dict[str, Any]]:
    """Package `requests`: purchase requests approved by the user `boss`."""
    return {
        "package.json": {"name": "requests", "version": "1.0.0", "label": label("申请", "Requests")},
        "objects/request.json": {
            "name": "request",
            "label": label("采购申请", "Purchase request"),
            "title_field": "title",
            "fields": [
                {"name": "title", "type": "text", "label": label("标题", "Title"), "required": True},
                {
                    "name": "status",
                    "type": "select",
                    "label": label("状态", "Status"),
                    "default": "'draft'",
                    "options": [
                        {"value": "draft", "label": label("草稿", "Draft")},
                        {"value": "approved", "label": label("已批准", "Approved")},
                        {"value": "rejected", "label": label("已驳回", "Rejected")},
                    ],
                },
            ],
        },
        "rules/request_notice.json": {
            "name": "request_notice",
            "object": "request",
            "label": label("新申请提醒", "New request notice"),
            "trigger": {"type": "on_create"},
            "actions": [{"type": "notify", "to": "owner", "title": "'新申请'"}],
        },
        "flows/request_approval.json": {
            "name": "request_approval",
            "object": "request",
            "label": label("申请审批", "Request approval"),
            "start": "boss",
            "nodes": {
                "boss": {"type": "approval", "approvers": [{"user": "boss"}], "next": "done"},
                "done": {
                    "type": "end",
                    "actions": [{"type": "set_field", "field": "status", "value": "'approved'"}],
                },
            },
            "on_reject": {"actions": [{"type": "set_field", "field": "status", "value": "'rejected'"}]},
        },
    }


def submitted_request(loom: Loom, tmp_path: Path) -> tuple[int, int, int]:
    """The package installed, request 1 sent for approval: (boss's user id, the instance, boss's task)."""
    install_package(loom, write(tmp_path / "requests", requests_package()))
    boss = create_user(loom, "boss", "老板", actor=SYSTEM)["id"]
    record = loom.records().create("request", {"title": "旧申请：十台电脑"})
    instance = loom.flows.submit("request", record["id"], actor=SYSTEM)
    (task,) = [task for task in loom.flows.tasks(instance.id) if task.status == "pending"]
    return boss, instance.id, task.id


def test_uninstall_refuses_while_an_approval_is_running(loom: Loom, tmp_path: Path) -> None:
    submitted_request(loom, tmp_path)

    with pytest.raises(PackageRefused, match=r"request approval.*request 1.*--cancel-pending") as refused:
        uninstall_package(loom, "requests", keep_data=True)

    assert "1 running approval" in str(refused.value)
    assert loom.registry.has_object("request") and loom.registry.flows.get("request_approval")


def test_approval_cancelled_by_uninstall_cannot_approve_a_record_made_after_reinstalling(
    loom: Loom, tmp_path: Path
) -> None:
    boss, instance_id, task_id = submitted_request(loom, tmp_path)

    plan = uninstall_package(loom, "requests", keep_data=True, cancel_pending=True)

    assert any("cancelled 1 running approval" in line for line in plan.lines())
    assert loom.flows.get(instance_id).status == "withdrawn"
    with loom.read() as conn:
        notes = conn.execute(select(flow_history).where(flow_history.c.instance_id == instance_id)).all()
    assert notes[-1].action == "withdraw" and notes[-1].detail["package"] == "requests"

    install_package(loom, tmp_path / "requests")
    draft = loom.records().create("request", {"title": "新草稿，没人提交"})
    assert draft["id"] == 2  # the archived table used id 1: a new record never gets an old id

    with pytest.raises(FlowConflict):
        loom.flows.approve(task_id, actor=actor_for(loom, boss))
    assert loom.records().get("request", draft["id"])["status"] == "draft"


def test_reinstalling_over_an_archived_table_continues_its_ids(loom: Loom, tmp_path: Path) -> None:
    package = write(tmp_path / "requests", requests_package())
    install_package(loom, package)
    for n in range(3):
        loom.records().create("request", {"title": f"申请{n}"})
    uninstall_package(loom, "requests", keep_data=True)
    install_package(loom, package)
    assert loom.records().create("request", {"title": "再装后"})["id"] == 4
    loom.records().create("request", {"title": "再一条"})
    uninstall_package(loom, "requests", keep_data=True)  # archived a second time
    install_package(loom, package)
    assert loom.records().create("request", {"title": "第三次"})["id"] == 6


def test_uninstall_refuses_while_the_packages_messages_wait_in_the_outbox(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "requests", requests_package()))
    with loom.begin() as conn:
        enqueue(conn, "webhook", {"url": "http://x"}, "k1", loom.clock.now(), source="rule:someone_elses")
    # A message from a rule the package does not have is none of its business.
    uninstall_package(loom, "requests", dry_run=True)

    with loom.begin() as conn:
        enqueue(conn, "webhook", {"url": "http://x"}, "k2", loom.clock.now(), source="rule:request_notice")
    with pytest.raises(PackageRefused, match="1 outbox message"):
        uninstall_package(loom, "requests")

    plan = uninstall_package(loom, "requests", cancel_pending=True)
    assert any("cancelled 1 outbox message" in line for line in plan.lines())
    with loom.read() as conn:
        statuses = dict(conn.execute(select(outbox.c.key, outbox.c.status)).all())
    assert statuses == {"k1": "pending", "k2": "failed"}


def test_an_approval_left_running_over_a_record_made_later_refuses_to_decide(
    loom: Loom, tmp_path: Path
) -> None:
    """What an earlier Loom left behind: a running approval whose record id now names a record made
    after the approval started (the table was made again and gave the id again)."""
    boss, instance_id, task_id = submitted_request(loom, tmp_path)
    table = loom.registry.object("request").table
    with loom.begin() as conn:
        conn.execute(update(table).values(created_at=loom.clock.now() + timedelta(days=1), title="新草稿"))

    with pytest.raises(FlowConflict, match="not the record this approval was started on"):
        loom.flows.approve(task_id, actor=actor_for(loom, boss))
    assert loom.records().get("request", 1)["status"] == "draft"
    assert loom.flows.get(instance_id).status == "running"


def test_a_restored_backup_keeps_the_ids_an_archive_used(
    loom: Loom, another_database_url: str, clock: Clock, tmp_path: Path
) -> None:
    package = write(tmp_path / "requests", requests_package())
    install_package(loom, package)
    for n in range(3):
        loom.records().create("request", {"title": f"申请{n}"})
    uninstall_package(loom, "requests", keep_data=True)
    install_package(loom, package)  # the new table is still empty
    take_backup(loom, tmp_path / "backup.zip")

    restored = another_loom(another_database_url, clock, tmp_path / "restored-files")
    try:
        assert restore_backup(restored, tmp_path / "backup.zip").report.ok
        assert restored.records().create("request", {"title": "恢复后"})["id"] == 4
    finally:
        restored.close()
