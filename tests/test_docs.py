"""The documentation stays true: every complete rule, object, role and flow example in the docs is valid."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from engine.expressions import check
from engine.plugin_api import loaded_registries
from engine.schema.checks import check_forms, check_reports, check_rules
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.loading import read_package
from metadata.reports import ReportSpec
from metadata.reserved import SYSTEM_FIELDS
from metadata.rules import RuleSpec
from metadata.schemas import structural_problems
from metadata.specs import ObjectSpec
from metadata.validation import (
    flow_expressions_in,
    validate_flow,
    validate_form,
    validate_package,
    validate_report,
    validate_role,
    validate_rule,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "packages.md"
CRM_PACKAGE = ROOT / "metadata" / "packages" / "crm"


@cache
def crm_objects() -> dict[str, ObjectSpec]:
    """The CRM's objects, validated once by the process that runs a test needing them."""
    return {spec.name: spec for spec in validate_package(read_package(CRM_PACKAGE)).objects}


def json_examples(kind: str) -> list[tuple[int, dict]]:
    """Complete documents of one kind in the doc's ```json blocks, with their line numbers."""
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"```json\n(.*?)```", text, re.S):
        try:
            doc = json.loads(match.group(1))
        except ValueError:
            continue  # a fragment (one field, one action) rather than a whole document
        if not isinstance(doc, dict) or "name" not in doc:
            continue
        is_rule = "trigger" in doc and "actions" in doc
        # An object's "fields" is a list; a role's is a mapping of field restrictions, next to "objects".
        is_role = "objects" in doc and not isinstance(doc.get("fields"), list) and not is_rule
        is_object = isinstance(doc.get("fields"), list) and "label" in doc and not is_rule
        is_flow = "nodes" in doc and "start" in doc
        is_form = "sections" in doc and "object" in doc
        is_report = "measures" in doc and "object" in doc
        kinds = {("rule", is_rule), ("object", is_object), ("role", is_role), ("flow", is_flow)}
        kinds |= {("form", is_form), ("report", is_report)}
        if (kind, True) in kinds:
            found.append((text[: match.start()].count("\n") + 1, doc))
    return found


def test_the_doc_has_examples_to_check() -> None:
    assert len(json_examples("rule")) >= 10
    assert len(json_examples("object")) >= 1
    assert len(json_examples("role")) >= 2
    assert len(json_examples("flow")) >= 3
    assert len(json_examples("form")) >= 1
    assert len(json_examples("report")) >= 1


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("rule"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_rule_example_is_valid_against_the_crm(line: int, doc: dict) -> None:
    where = f"docs/packages.md:{line}"
    result = validate_rule(doc, where, known_objects=crm_objects())
    assert result.problems == []
    registries = loaded_registries()
    rule = RuleSpec.from_json(doc)
    objects, origins = crm_objects(), {f"rule:{rule.name}": where}
    problems = check_rules({rule.name: rule}, objects, registries.actions, registries.functions, origins)
    assert problems == []


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("object"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_object_example_matches_the_object_schema(line: int, doc: dict) -> None:
    # Object examples are abridged (a customer with two of its fields), so only their shape is checked.
    assert structural_problems("object", doc, f"docs/packages.md:{line}") == []


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("role"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_role_example_is_valid_against_the_crm(line: int, doc: dict) -> None:
    result = validate_role(doc, f"docs/packages.md:{line}", known_objects=crm_objects())
    assert result.problems == []


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("flow"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_flow_example_is_valid_against_the_crm(line: int, doc: dict) -> None:
    where = f"docs/packages.md:{line}"
    result = validate_flow(doc, where, known_objects=crm_objects())
    assert result.problems == []
    registries = loaded_registries()
    flow = FlowSpec.from_json(doc)
    action_types = [action.type for node in flow.nodes.values() for action in node.actions]
    assert [name for name in action_types if name not in registries.actions] == []
    objects = crm_objects()
    for site in flow_expressions_in(flow, objects):
        known = {field.name for field in objects[site.scope_object].fields} | set(SYSTEM_FIELDS)
        assert check(site.text, known, registries.functions) == [], f"{where}: {site.path}"


def test_the_contract_approval_example_is_the_crm_flow() -> None:
    crm = json.loads((CRM_PACKAGE / "flows" / "contract_approval.json").read_text(encoding="utf-8"))

    assert [doc for _, doc in json_examples("flow") if doc["name"] == "contract_approval"] == [crm]


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("form"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_form_example_is_valid_against_the_crm(line: int, doc: dict) -> None:
    where = f"docs/packages.md:{line}"
    assert validate_form(doc, where, known_objects=crm_objects()).problems == []
    registries = loaded_registries()
    problems = check_forms({doc["name"]: FormSpec.from_json(doc)}, crm_objects(), registries.functions, {})
    assert problems == []


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("report"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_report_example_is_valid_against_the_crm(line: int, doc: dict) -> None:
    where = f"docs/packages.md:{line}"
    assert validate_report(doc, where, known_objects=crm_objects()).problems == []
    registries = loaded_registries()
    report = ReportSpec.from_json(doc)
    problems = check_reports(
        {report.name: report}, crm_objects(), registries.field_types, registries.functions, {}
    )
    assert problems == []


def test_the_funnel_example_is_the_crm_report() -> None:
    crm = json.loads((CRM_PACKAGE / "reports" / "opportunity_funnel.json").read_text(encoding="utf-8"))

    assert [doc for _, doc in json_examples("report") if doc["name"] == "opportunity_funnel"] == [crm]
