"""Install refuses what would fail later: documents of a kind Loom does not read yet (as `loom validate`
reports them), and validation rules that read what a record does not have while it is validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.base.errors import InvalidMetadata, RecordInvalid
from engine.loom import Loom
from engine.packages.install import check_package, install_package
from engine.packages.store import installed_packages
from metadata.problems import Problem
from runtime.cli.group import cli
from tests.engine.package_world import label, mini_crm, write


def with_seed_data() -> dict:
    files = mini_crm()
    files["data/customer.json"] = {"object": "customer", "records": [{"name": "星河"}]}
    return files


def test_install_refuses_seed_data_exactly_as_validate_reports_it(loom: Loom, tmp_path: Path) -> None:
    package = write(tmp_path / "seeded", with_seed_data())
    with pytest.raises(InvalidMetadata) as validated:
        check_package(package, loom.registries)

    with pytest.raises(InvalidMetadata) as installed:
        install_package(loom, package)

    expected = [Problem("data/customer.json", "", "data/ documents are not supported yet")]
    assert installed.value.problems == validated.value.problems == expected
    assert not loom.registry.has_object("customer")
    with loom.read() as conn:
        assert installed_packages(conn) == {}


def test_loom_install_prints_what_loom_validate_prints_for_seed_data(
    database_url: str, tmp_path: Path
) -> None:
    package = str(write(tmp_path / "seeded", with_seed_data()))
    runner = CliRunner()
    validated = runner.invoke(cli, ["validate", package])
    installed = runner.invoke(cli, ["--database", database_url, "install", package])

    assert validated.exit_code == installed.exit_code == 1
    line = "data/customer.json: /: data/ documents are not supported yet"
    assert line in validated.output and line in installed.output


def with_rule(condition: str, when: str | None = None) -> dict:
    """mini_crm whose customer counts its orders (a rollup), shouts its name (a formula) and checks
    `condition`."""
    files = mini_crm()
    customer = files["objects/customer.json"]
    customer["fields"] += [
        {
            "name": "orders",
            "type": "rollup",
            "label": label("订单数", "Orders"),
            "source": {"object": "purchase", "via": "customer", "function": "count"},
        },
        {
            "name": "loud_name",
            "type": "formula",
            "label": label("大写名称", "Loud name"),
            "result": "text",
            "expression": "upper(name)",
        },
    ]
    rule = {"name": "checked", "condition": condition, "message": label("不通过", "Refused")}
    if when is not None:
        rule["when"] = when
    customer["validation_rules"] = [rule]
    return files


@pytest.mark.parametrize(
    ("condition", "when", "name", "what"),
    [
        ("orders <= 100", None, "orders", "a rollup"),
        ("len(loud_name) < 50", None, "loud_name", "a formula"),
        ("name != 'x'", "id > 10", "id", "set when the record is written"),
    ],
)
def test_install_refuses_a_validation_rule_reading_what_a_new_record_does_not_have(
    loom: Loom, tmp_path: Path, condition: str, when: str | None, name: str, what: str
) -> None:
    with pytest.raises(InvalidMetadata) as refused:
        install_package(loom, write(tmp_path / "p", with_rule(condition, when)))

    (problem,) = refused.value.problems
    key = "when" if when else "condition"
    assert (problem.file, problem.path) == ("objects/customer.json", f"/validation_rules/0/{key}")
    assert f"reads {name!r} ({what}" in problem.message and "every new record would fail" in problem.message
    assert not loom.registry.has_object("customer")


def test_a_validation_rule_reading_stored_fields_installs_and_checks_creates(
    loom: Loom, tmp_path: Path
) -> None:
    install_package(loom, write(tmp_path / "p", with_rule("name != 'x'", "owner != 0")))
    assert loom.records().create("customer", {"name": "星河"})["id"] == 1
    with pytest.raises(RecordInvalid, match="_record: Refused"):
        loom.records().create("customer", {"name": "x"})
