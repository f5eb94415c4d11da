"""An industry package extending the objects of the package it depends on, and taking its part back out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.base.errors import InvalidMetadata, PackageRefused, RecordInvalid
from engine.loom import Loom
from engine.packages.export import export_package
from engine.packages.install import CRM_PACKAGE, install_package
from engine.packages.uninstall import uninstall_package
from engine.packages.upgrade import upgrade_package
from engine.plugin_api import loaded_registries
from engine.schema.checks import check_objects
from metadata.extensions import clash_problems, normalised, shape_problems, weave
from metadata.loading import read_package
from metadata.specs import ObjectSpec
from metadata.validation import validate_object, validate_package
from tests.engine.package_world import customise, field_of, industry, label, mini_crm, mini_crm_v2, write


@pytest.fixture
def factory(loom: Loom, tmp_path: Path) -> Loom:
    install_package(loom, write(tmp_path / "mini_crm", mini_crm()))
    install_package(loom, write(tmp_path / "factory", industry()))
    return loom


def test_an_extension_adds_fields_rules_and_options_to_the_object_it_extends(factory: Loom) -> None:
    customer = factory.registry.object("customer")
    assert [f.name for f in customer.spec.fields] == ["name", "level", "phone", "plant_count"]
    assert [o["value"] for o in field_of(factory, "customer", "level")["options"]] == [
        "normal",
        "vip",
        "strategic",
    ]
    record = factory.records().create("customer", {"name": "星河", "plant_count": 3, "level": "strategic"})
    assert record["plant_count"] == 3
    with pytest.raises(RecordInvalid):
        factory.records().create("customer", {"name": "负数", "plant_count": -1})
    assert factory.registry.object("machine").spec.field("owner_customer").param("target") == "customer"


def test_each_package_exports_its_own_part(factory: Loom, tmp_path: Path) -> None:
    export_package(factory, "mini_crm", tmp_path / "crm_out")
    export_package(factory, "factory", tmp_path / "factory_out")
    crm_customer = json.loads((tmp_path / "crm_out" / "objects" / "customer.json").read_text("utf-8"))
    extension = json.loads((tmp_path / "factory_out" / "objects" / "customer.json").read_text("utf-8"))
    assert [f["name"] for f in crm_customer["fields"]] == ["name", "level", "phone"]
    assert [o["value"] for o in crm_customer["fields"][1]["options"]] == ["normal", "vip"]
    assert extension["extends"] == "customer"
    assert [f["name"] for f in extension["fields"]] == ["plant_count"]
    assert extension["options"] == {"level": [{"value": "strategic", "label": label("战略", "Strategic")}]}


def test_upgrading_the_base_package_keeps_the_extension(factory: Loom, tmp_path: Path) -> None:
    upgrade_package(factory, write(tmp_path / "v2", mini_crm_v2()))
    names = [f.name for f in factory.registry.object("customer").spec.fields]
    assert names == ["name", "level", "phone", "email", "plant_count"]


def test_uninstalling_the_extension_removes_only_its_part_and_archives_its_data(factory: Loom) -> None:
    factory.records().create("customer", {"name": "星河", "plant_count": 4})
    with pytest.raises(PackageRefused, match="factory depend"):
        uninstall_package(factory, "mini_crm")

    plan = uninstall_package(factory, "factory")

    assert "! archive_column obj_customer: plant_count (field removed; data kept, restorable)" in plan.lines()
    assert [f.name for f in factory.registry.object("customer").spec.fields] == ["name", "level", "phone"]
    assert [o["value"] for o in field_of(factory, "customer", "level")["options"]] == ["normal", "vip"]
    assert not factory.registry.has_object("machine")
    assert factory.registry.object("customer").spec.validation_rules == ()


def test_an_extension_must_target_a_dependency_and_add_new_names(loom: Loom, tmp_path: Path) -> None:
    install_package(loom, write(tmp_path / "mini_crm", mini_crm()))
    files = industry()
    files["objects/customer.json"]["fields"].append(
        {"name": "phone", "type": "text", "label": label("电话", "Phone")}
    )
    files["objects/lead.json"] = {"extends": "lead", "fields": []}
    with pytest.raises(InvalidMetadata) as raised:
        install_package(loom, write(tmp_path / "factory", files))
    found = {(p.file, p.path): p.message for p in raised.value.problems}
    assert "already has a field 'phone'" in found[("objects/customer.json", "/fields/1/name")]
    assert "not installed" in found[("objects/lead.json", "/extends")]
    assert not loom.registry.object("customer").spec.has_field("plant_count")


def test_admin_changes_to_extension_fields_travel_with_the_extension(factory: Loom, tmp_path: Path) -> None:
    customise(factory, "customer", lambda body: body["fields"][3]["label"].update(en="Factories"))
    export_package(factory, "factory", tmp_path / "out")
    extension = json.loads((tmp_path / "out" / "objects" / "customer.json").read_text("utf-8"))
    assert extension["fields"][0]["label"]["en"] == "Factories"
    new = industry("1.1.0")
    new["objects/customer.json"]["fields"][0]["help"] = label("在产工厂", "Plants in production")
    upgrade_package(factory, write(tmp_path / "factory_v2", new))
    plants = field_of(factory, "customer", "plant_count")
    assert plants["label"]["en"] == "Factories" and plants["help"]["en"] == "Plants in production"


def test_the_documented_extension_extends_the_standard_crm_customer() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "packages.md").read_text(encoding="utf-8")
    examples = [
        json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S) if '"extends"' in block
    ]
    crm = validate_package(read_package(CRM_PACKAGE))
    customer = next(spec for spec in crm.objects if spec.name == "customer").to_json()
    assert len(examples) == 1
    for example in examples:
        file = f"objects/{example['extends']}.json"
        assert shape_problems(example, file) == []
        assert clash_problems(example, file, customer) == []
        woven = ObjectSpec.from_json(weave(customer, normalised(example)))
        objects = {**{spec.name: spec for spec in crm.objects}, "customer": woven}
        assert validate_object(woven.to_json(), file, known_objects=objects).problems == []
        registries = loaded_registries()
        assert (
            check_objects(objects, registries.field_types, registries.functions, {}, only={"customer"}) == []
        )


def test_a_problem_in_an_added_field_is_reported_at_its_place_in_the_extension(
    loom: Loom, tmp_path: Path
) -> None:
    install_package(loom, write(tmp_path / "mini_crm", mini_crm()))
    files = industry()
    files["objects/customer.json"]["fields"].append(
        {"name": "plants_x2", "type": "formula", "result": "integer", "expression": "plants * 2"}
    )
    with pytest.raises(InvalidMetadata) as raised:
        install_package(loom, write(tmp_path / "factory", files))
    assert [(p.file, p.path) for p in raised.value.problems] == [
        ("objects/customer.json", "/fields/1/expression")
    ]
