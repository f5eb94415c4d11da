"""An extension places the fields it adds on the extended object's form and list; none is left out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.packages.export import export_package
from engine.packages.install import install_package
from engine.packages.uninstall import uninstall_package
from engine.packages.upgrade import upgrade_package
from tests.engine.package_world import industry, label, mini_crm, write

BASICS = label("基本信息", "Basics")


def crm_with_form() -> dict[str, dict[str, Any]]:
    files = mini_crm()
    files["forms/customer.json"] = {
        "name": "customer",
        "object": "customer",
        "sections": [
            {"label": BASICS, "fields": ["name", "level"]},
            {"label": label("联系", "Contact"), "fields": ["phone"]},
        ],
    }
    return files


def factory(version: str = "1.0.0", **extension: Any) -> dict[str, dict[str, Any]]:
    files = industry(version)
    body = files["objects/customer.json"]
    body["fields"] += [
        {"name": "main_equipment", "type": "text", "label": label("主要设备", "Main equipment")},
        {"name": "iso_certified", "type": "boolean", "label": label("ISO认证", "ISO certified")},
    ]
    body.update(extension)
    return files


def sections(loom: Loom) -> list[tuple[str, list[str]]]:
    form = loom.registry.form_for("customer")
    return [(section.label["zh_CN"], [entry.field for entry in section.fields]) for section in form.sections]


def install(loom: Loom, tmp_path: Path, crm: dict, extension: dict) -> None:
    install_package(loom, write(tmp_path / "mini_crm", crm))
    install_package(loom, write(tmp_path / "factory", extension))


def test_sections_and_fields_into_a_section_join_the_objects_form(loom: Loom, tmp_path: Path) -> None:
    form = {
        "into": [{"section": "Basics", "fields": ["plant_count"]}],
        "sections": [
            {
                "label": label("设备", "Equipment"),
                "fields": ["main_equipment", {"field": "iso_certified", "visible_if": "plant_count > 0"}],
            }
        ],
    }
    install(loom, tmp_path, crm_with_form(), factory(form=form, list={"columns": ["plant_count"]}))
    assert sections(loom) == [
        ("基本信息", ["name", "level", "plant_count"]),
        ("联系", ["phone"]),
        ("设备", ["main_equipment", "iso_certified"]),
    ]
    placed = loom.registry.form_for("customer").sections[2].fields[1]
    assert placed.visible_if == "plant_count > 0"


def test_fields_placed_nowhere_get_a_section_named_after_the_package(loom: Loom, tmp_path: Path) -> None:
    form = {"sections": [{"label": label("设备", "Equipment"), "fields": ["main_equipment"]}]}
    install(loom, tmp_path, crm_with_form(), factory(form=form))
    assert sections(loom)[-2:] == [("设备", ["main_equipment"]), ("制造业", ["plant_count", "iso_certified"])]


def test_an_extension_without_placements_still_shows_its_fields(loom: Loom, tmp_path: Path) -> None:
    install(loom, tmp_path, crm_with_form(), factory())
    assert sections(loom)[-1] == ("制造业", ["plant_count", "main_equipment", "iso_certified"])


def test_an_object_without_a_form_keeps_its_own_fields_first(loom: Loom, tmp_path: Path) -> None:
    form = {"sections": [{"label": label("设备", "Equipment"), "fields": ["main_equipment", "plant_count"]}]}
    install(loom, tmp_path, mini_crm(), factory(form=form))
    assert sections(loom) == [
        ("基本信息", ["name", "level", "phone"]),
        ("设备", ["main_equipment", "plant_count"]),
        ("制造业", ["iso_certified"]),
    ]


def test_list_columns_are_appended_and_leave_with_the_package(loom: Loom, tmp_path: Path) -> None:
    crm = crm_with_form()
    crm["objects/customer.json"]["list"] = {"columns": ["name", "level"]}
    install(loom, tmp_path, crm, factory(list={"columns": ["plant_count", "created_at"]}))
    assert loom.registry.list_columns("customer") == ["name", "level", "plant_count", "created_at"]
    uninstall_package(loom, "factory")
    assert loom.registry.list_columns("customer") == ["name", "level"]
    assert sections(loom) == [("基本信息", ["name", "level"]), ("联系", ["phone"])]


def test_an_upgrade_that_moves_fields_shows_them_where_they_went(loom: Loom, tmp_path: Path) -> None:
    install(loom, tmp_path, crm_with_form(), factory())
    moved = {"into": [{"section": "联系", "fields": ["main_equipment"]}]}
    upgrade_package(loom, write(tmp_path / "factory_v2", factory("1.1.0", form=moved)))
    assert sections(loom)[1] == ("联系", ["phone", "main_equipment"])


def test_placements_travel_with_the_exported_extension(loom: Loom, tmp_path: Path) -> None:
    form = {"sections": [{"label": label("设备", "Equipment"), "columns": 1, "fields": ["main_equipment"]}]}
    install(loom, tmp_path, crm_with_form(), factory(form=form, list={"columns": ["plant_count"]}))
    export_package(loom, "factory", tmp_path / "out")
    exported = json.loads((tmp_path / "out" / "objects" / "customer.json").read_text("utf-8"))
    assert exported["form"] == form and exported["list"] == {"columns": ["plant_count"]}


@pytest.mark.parametrize(
    ("extension", "path", "message"),
    [
        (
            {"form": {"sections": [{"label": BASICS, "columns": 9, "fields": ["plant_count"]}]}},
            "/form/sections/0/columns",
            "9",
        ),
        ({"form": {"sections": [{"fields": ["plant_count"]}]}}, "/form/sections/0", "label"),
        ({"form": {"into": [{"fields": ["plant_count"]}]}}, "/form/into/0/section", "label"),
        ({"form": {"into": [{"section": "Basics", "fields": ["Plant Count"]}]}}, "/form/into/0/fields/0", ""),
        ({"form": {"rows": []}}, "/form/rows", "rows"),
        ({"list": {"columns": "plant_count"}}, "/list/columns", "field names"),
    ],
)
def test_a_misshapen_placement_is_refused_at_its_path(
    loom: Loom, tmp_path: Path, extension: dict, path: str, message: str
) -> None:
    install_package(loom, write(tmp_path / "mini_crm", crm_with_form()))
    with pytest.raises(InvalidMetadata) as raised:
        install_package(loom, write(tmp_path / "factory", factory(**extension)))
    found = {p.path: p.message for p in raised.value.problems if p.file == "objects/customer.json"}
    assert path in found and message in found[path]
    assert not loom.registry.object("customer").spec.has_field("plant_count")


@pytest.mark.parametrize(
    ("extension", "path", "message"),
    [
        (
            {"form": {"sections": [{"label": BASICS, "fields": ["plant_cnt"]}]}},
            "/form/sections/0/fields/0",
            "no field 'plant_cnt'",
        ),
        (
            {"form": {"sections": [{"label": BASICS, "fields": ["phone"]}]}},
            "/form/sections/0/fields/0",
            "already placed",
        ),
        (
            {"form": {"sections": [{"label": BASICS, "fields": ["plant_count", "plant_count"]}]}},
            "/form/sections/0/fields/1",
            "already placed",
        ),
        (
            {"form": {"into": [{"section": "Misc", "fields": ["plant_count"]}]}},
            "/form/into/0/section",
            "基本信息",
        ),
        (
            {
                "form": {
                    "sections": [
                        {"label": BASICS, "fields": [{"field": "plant_count", "visible_if": "plants > 1"}]}
                    ]
                }
            },
            "/form/sections/0/fields/0/visible_if",
            "plants",
        ),
        (
            {
                "form": {
                    "into": [
                        {
                            "section": "Basics",
                            "fields": [{"field": "plant_count", "required_if": "levle == 'vip'"}],
                        }
                    ]
                }
            },
            "/form/into/0/fields/0/required_if",
            "levle",
        ),
        ({"list": {"columns": ["plants"]}}, "/list/columns/0", "no field 'plants'"),
    ],
)
def test_a_placement_that_does_not_fit_the_object_is_refused_at_its_path(
    loom: Loom, tmp_path: Path, extension: dict, path: str, message: str
) -> None:
    install_package(loom, write(tmp_path / "mini_crm", crm_with_form()))
    with pytest.raises(InvalidMetadata) as raised:
        install_package(loom, write(tmp_path / "factory", factory(**extension)))
    found = {p.path: p.message for p in raised.value.problems if p.file == "objects/customer.json"}
    assert path in found and message in found[path], raised.value.problems
    assert not loom.registry.object("customer").spec.has_field("plant_count")
