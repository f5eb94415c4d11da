"""The documentation stays true: every complete rule, object and role example in docs/packages.md is valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.plugin_api import loaded_registries
from engine.validation import check_rules
from metadata.loading import read_package
from metadata.rules import RuleSpec
from metadata.schemas import structural_problems
from metadata.validation import validate_package, validate_role, validate_rule

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "packages.md"
CRM = validate_package(read_package(ROOT / "metadata" / "packages" / "crm"))
CRM_OBJECTS = {spec.name: spec for spec in CRM.objects}


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
        if (kind, True) in {("rule", is_rule), ("object", is_object), ("role", is_role)}:
            found.append((text[: match.start()].count("\n") + 1, doc))
    return found


def test_the_doc_has_examples_to_check() -> None:
    assert len(json_examples("rule")) >= 10
    assert len(json_examples("object")) >= 1
    assert len(json_examples("role")) >= 2


@pytest.mark.parametrize(
    ("line", "doc"), json_examples("rule"), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_every_rule_example_is_valid_against_the_crm(line: int, doc: dict) -> None:
    where = f"docs/packages.md:{line}"
    result = validate_rule(doc, where, known_objects=CRM_OBJECTS)
    assert result.problems == []
    registries = loaded_registries()
    rule = RuleSpec.from_json(doc)
    problems = check_rules(
        {rule.name: rule}, CRM_OBJECTS, registries.actions, registries.functions, {f"rule:{rule.name}": where}
    )
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
    result = validate_role(doc, f"docs/packages.md:{line}", known_objects=CRM_OBJECTS)
    assert result.problems == []
