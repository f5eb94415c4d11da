"""Installing and upgrading packages: dependencies, the customisation layer, merges and conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.base.errors import InvalidMetadata, MergeConflicts, PackageRefused
from engine.loom import Loom
from engine.packages.install import install_package
from engine.packages.state import customisations
from engine.packages.store import installed_packages
from engine.packages.upgrade import upgrade_package
from engine.store.documents import get_document
from tests.engine.package_world import customise, field_of, industry, label, mini_crm, mini_crm_v2, write


def admin_adds_a_field_and_relabels_the_name(body: dict) -> None:
    body["fields"].append({"name": "wechat", "type": "text", "label": label("微信", "WeChat")})
    body["fields"][0]["label"]["en"] = "Company"


def test_upgrade_keeps_the_admins_changes_and_brings_the_new_versions(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    customise(loom, "customer", admin_adds_a_field_and_relabels_the_name)

    upgrade_package(loom, write(tmp_path / "v2", mini_crm_v2()))

    customer = loom.registry.object("customer")
    assert [f.name for f in customer.spec.fields] == ["name", "level", "phone", "email", "wechat"]
    assert field_of(loom, "customer", "name")["label"] == label("客户名称", "Company")
    assert field_of(loom, "customer", "phone")["label"] == label("联系电话", "Phone")
    assert {"email", "wechat"} <= set(customer.table.c.keys())
    record = loom.records().create("customer", {"name": "星河", "email": "a@b.cn", "wechat": "xinghe"})
    assert record["wechat"] == "xinghe"
    with loom.read() as conn:
        assert installed_packages(conn)["mini_crm"].version == "2.0.0"
        # The new version is the base now: what remains customised is the admin's part only.
        [changed] = customisations(conn, "mini_crm")
    assert changed.file == "objects/customer.json"
    assert sorted(c.path for c in changed.changes) == ["/fields/@name/label/en", "/fields/@wechat"]


def test_a_conflicting_label_is_reported_with_its_path_and_nothing_is_applied(
    loom: Loom, tmp_path: Path
) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    customise(loom, "customer", lambda body: body["fields"][2]["label"].update(zh_CN="手机"))
    new = write(tmp_path / "v2", mini_crm_v2())

    with pytest.raises(MergeConflicts) as raised:
        upgrade_package(loom, new)

    [conflict] = raised.value.conflicts
    assert conflict.where == "objects/customer.json#/fields/@phone/label/zh_CN"
    assert (conflict.base, conflict.ours, conflict.theirs) == ("电话", "手机", "联系电话")
    assert not loom.registry.object("customer").spec.has_field("email")  # the rest did not apply either
    with loom.read() as conn:
        assert installed_packages(conn)["mini_crm"].version == "1.0.0"

    upgrade_package(loom, new, resolve={conflict.where: "ours"})
    assert field_of(loom, "customer", "phone")["label"]["zh_CN"] == "手机"
    assert loom.registry.object("customer").spec.has_field("email")


def test_upgrade_plan_writes_nothing(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    _, plan = upgrade_package(loom, write(tmp_path / "v2", mini_crm_v2()), dry_run=True)
    assert "+ add_column obj_customer: email (email)" in plan.lines()
    assert "~ object customer (2 change(s))" in plan.lines()
    assert not loom.registry.object("customer").spec.has_field("email")
    with loom.read() as conn:
        assert installed_packages(conn)["mini_crm"].version == "1.0.0"


def test_upgrading_to_the_same_or_a_lower_version_needs_force(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    with pytest.raises(PackageRefused, match="not newer"):
        upgrade_package(loom, write(tmp_path / "again", mini_crm()))
    _, plan = upgrade_package(loom, tmp_path / "again", force=True)
    assert plan.empty


def test_an_upgrade_that_drops_an_object_archives_its_records(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    customer = loom.records().create("customer", {"name": "星河"})
    loom.records().create("purchase", {"customer": customer["id"], "amount": 10})
    files = mini_crm_v2()
    del files["objects/purchase.json"], files["rules/vip_big_order.json"]

    _, plan = upgrade_package(loom, write(tmp_path / "v2", files))

    assert "- object purchase" in plan.lines()
    assert any(line.startswith("! archive_table obj_purchase") for line in plan.lines())
    assert not loom.registry.has_object("purchase")
    with loom.read() as conn:
        assert get_document(conn, "rule", "vip_big_order") is None


def test_install_refuses_a_missing_or_out_of_range_dependency(loom: Loom, tmp_path: Path) -> None:
    with pytest.raises(PackageRefused, match=r"factory needs mini_crm >=1\.0,<3, which is not installed"):
        install_package(loom, write(tmp_path / "factory", industry()))
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    with pytest.raises(PackageRefused, match=r"but mini_crm 1\.0\.0 is installed"):
        install_package(loom, write(tmp_path / "factory2", industry(depends=">=2")))
    assert not loom.registry.has_object("machine")


def test_an_upgrade_outside_a_dependents_range_is_refused(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    install_package(loom, write(tmp_path / "factory", industry(depends="^1")))
    with pytest.raises(PackageRefused, match=r"factory needs mini_crm \^1, which 2.0.0 is not"):
        upgrade_package(loom, write(tmp_path / "v2", mini_crm_v2()))


def test_installing_the_same_version_again_merges_and_keeps_customisations(
    loom: Loom, tmp_path: Path
) -> None:
    files = mini_crm()
    package = write(tmp_path / "v1", files)
    install_package(loom, package)
    customise(loom, "customer", admin_adds_a_field_and_relabels_the_name)
    _, plan = install_package(loom, package)
    assert plan.empty
    assert loom.registry.object("customer").spec.has_field("wechat")

    # A package being written is installed again after each edit, at the same version.
    files["objects/customer.json"]["fields"].append(
        {"name": "fax", "type": "phone", "label": label("传真", "Fax")}
    )
    install_package(loom, write(package, files))
    assert {"fax", "wechat"} <= {f.name for f in loom.registry.object("customer").spec.fields}
    assert field_of(loom, "customer", "name")["label"]["en"] == "Company"
    with pytest.raises(PackageRefused, match="loom upgrade"):
        install_package(loom, write(tmp_path / "v2", mini_crm_v2()))


def test_a_bad_document_in_an_upgrade_is_reported_and_nothing_applies(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "v1", mini_crm()))
    files = mini_crm_v2()
    files["objects/customer.json"]["title_field"] = "nickname"
    with pytest.raises(InvalidMetadata) as raised:
        upgrade_package(loom, write(tmp_path / "v2", files))
    assert [(p.file, p.path) for p in raised.value.problems] == [("objects/customer.json", "/title_field")]
    assert not loom.registry.object("customer").spec.has_field("email")
