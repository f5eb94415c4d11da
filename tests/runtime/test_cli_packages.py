"""`loom upgrade`, `export`, `uninstall` and `packages` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from engine.base.actors import SYSTEM
from engine.identity import create_user
from engine.loom import Loom
from runtime.cli.group import cli
from tests.engine.package_world import customise, industry, mini_crm, mini_crm_v2, write
from tests.engine.test_package_uninstall_safety import requests_package

CONFLICT = "objects/customer.json#/fields/@phone/label/zh_CN"


def run(database: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--database", database, *args], catch_exceptions=False)


def test_upgrade_lists_conflicts_then_applies_once_they_are_settled(
    database_url: str, tmp_path: Path
) -> None:
    assert run(database_url, "install", str(write(tmp_path / "v1", mini_crm()))).exit_code == 0
    loom = Loom(database_url)
    customise(loom, "customer", lambda body: body["fields"][2]["label"].update(zh_CN="手机"))
    loom.close()
    new = str(write(tmp_path / "v2", mini_crm_v2()))

    conflicted = run(database_url, "upgrade", new)
    assert conflicted.exit_code == 1
    assert CONFLICT in conflicted.output
    assert 'base:   "电话"' in conflicted.output and 'theirs: "联系电话"' in conflicted.output
    assert "mini_crm 1.0.0" in run(database_url, "packages").output

    planned = run(database_url, "upgrade", "--plan", "--theirs", CONFLICT, new)
    assert planned.exit_code == 0, planned.output
    assert (
        "would upgrade to mini_crm 2.0.0" in planned.output
        and "add_column obj_customer: email" in planned.output
    )
    assert "mini_crm 1.0.0" in run(database_url, "packages").output

    done = run(database_url, "upgrade", "--theirs", CONFLICT, new)
    assert done.exit_code == 0, done.output
    listing = run(database_url, "packages").output
    assert "mini_crm 2.0.0" in listing and "customised" not in listing


def test_packages_export_and_uninstall(database_url: str, tmp_path: Path) -> None:
    run(database_url, "install", str(write(tmp_path / "v1", mini_crm())))
    run(database_url, "install", str(write(tmp_path / "factory", industry())))
    loom = Loom(database_url)
    customise(loom, "customer", lambda body: body["label"].update(en="Client"))
    loom.close()

    listing = run(database_url, "packages").output
    assert "factory 1.0.0  (depends on mini_crm >=1.0,<3)" in listing
    assert "customised objects/customer.json: 1 change(s)" in listing

    exported = run(database_url, "export", "mini_crm", "-o", str(tmp_path / "out.zip"))
    assert exported.exit_code == 0 and "5 files" in exported.output
    assert run(database_url, "export", "mini_crm", "-o", str(tmp_path / "out.zip")).exit_code == 1

    refused = run(database_url, "uninstall", "mini_crm")
    assert refused.exit_code == 1 and "factory depend(s) on mini_crm" in refused.output
    planned = run(database_url, "uninstall", "--plan", "factory")
    assert (
        "would uninstall factory" in planned.output
        and "! archive_column obj_customer: plant_count" in planned.output
    )
    assert run(database_url, "uninstall", "factory").exit_code == 0
    assert "factory" not in run(database_url, "packages").output


def test_uninstall_names_the_running_approval_and_cancels_it_only_when_told(
    database_url: str, tmp_path: Path
) -> None:
    assert run(database_url, "install", str(write(tmp_path / "req", requests_package()))).exit_code == 0
    loom = Loom(database_url)
    try:
        create_user(loom, "boss", "老板", actor=SYSTEM)
        record = loom.records().create("request", {"title": "十台电脑"})
        instance = loom.flows.submit("request", record["id"], actor=SYSTEM)
    finally:
        loom.close()

    refused = run(database_url, "uninstall", "--keep-data", "requests")
    assert refused.exit_code == 1
    assert "1 running approval(s) (request approval on request 1)" in refused.output
    assert "--cancel-pending" in refused.output

    done = run(database_url, "uninstall", "--keep-data", "--cancel-pending", "requests")
    assert done.exit_code == 0, done.output
    assert "cancelled 1 running approval(s) (request approval on request 1)" in done.output
    loom = Loom(database_url)
    try:
        assert loom.flows.get(instance.id).status == "withdrawn"
    finally:
        loom.close()
