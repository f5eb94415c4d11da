"""Exporting an installed package, customisations included, and uninstalling one without losing data."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from engine.base.errors import PackageRefused
from engine.loom import Loom
from engine.packages.export import export_package
from engine.packages.install import CRM_PACKAGE, install_package
from engine.packages.store import installed_packages
from engine.packages.uninstall import uninstall_package
from engine.store.documents import load_documents
from engine.store.system_tables import archived_tables
from tests.engine.package_world import customise, label, mini_crm, write


def stored(loom: Loom) -> dict:
    with loom.read() as conn:
        return {(doc.kind, doc.name): (doc.body, doc.package) for doc in load_documents(conn)}


def test_an_export_of_the_customised_crm_installs_to_identical_metadata(
    loom: Loom, database_url: str, tmp_path: Path
) -> None:
    install_package(loom, CRM_PACKAGE)

    def admin(body: dict) -> None:
        body["fields"].append({"name": "wechat", "type": "text", "label": label("微信", "WeChat")})
        body["label"]["en"] = "Client"

    customise(loom, "customer", admin)
    export_package(loom, "crm", tmp_path / "crm.zip")
    export_package(loom, "crm", tmp_path / "crm_folder")

    other = Loom(f"sqlite:///{tmp_path / 'empty.db'}")
    other.init()
    try:
        install_package(other, tmp_path / "crm.zip")
        assert stored(other) == stored(loom)
        # The export is the package now: installed as it ships, nothing is customised.
        export_package(other, "crm", tmp_path / "again.zip")
    finally:
        other.close()
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "crm.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "crm.zip") as archive:
        files = sorted(archive.namelist())
    folder = sorted(
        p.relative_to(tmp_path / "crm_folder").as_posix() for p in (tmp_path / "crm_folder").rglob("*.json")
    )
    assert files == folder and "forms/customer.json" in files and "package.json" in files


def test_uninstall_refuses_while_records_exist_unless_the_data_is_kept(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    loom.records().create("customer", {"name": "星河"})

    with pytest.raises(PackageRefused, match=r"customer: 1 record\(s\)"):
        uninstall_package(loom, "mini_crm")
    assert loom.registry.has_object("customer")

    plan = uninstall_package(loom, "mini_crm", keep_data=True)

    assert "! drop_table obj_purchase: object removed; table is empty" in plan.lines()
    assert not loom.registry.has_object("customer")
    with loom.read() as conn:
        archive = conn.execute(select(archived_tables)).one()
        tables = set(inspect(conn).get_table_names())
        assert installed_packages(conn) == {}
    assert archive.object == "customer" and archive.rows == 1
    assert archive.table_name in tables and "obj_customer" not in tables and "obj_purchase" not in tables
    assert stored(loom) == {}

    install_package(loom, tmp_path / "v1")  # the names are free again
    # …but not the ids: the archived customer 1 keeps its id, so nothing that named it names a new one.
    assert loom.records().create("customer", {"name": "新"})["id"] == 2


def test_uninstall_plan_writes_nothing(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    plan = uninstall_package(loom, "mini_crm", dry_run=True)
    assert (
        "- object customer" in plan.lines()
        and "! drop_table obj_customer: object removed; table is empty" in plan.lines()
    )
    assert loom.registry.has_object("customer")


def test_export_of_a_package_that_is_not_installed_is_refused(loom: Loom, tmp_path: Path) -> None:
    with pytest.raises(PackageRefused, match="not installed"):
        export_package(loom, "crm", tmp_path / "out")
