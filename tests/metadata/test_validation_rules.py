"""Validation rules sit in the object document: conditions a saved record must satisfy, and their message."""

from __future__ import annotations

import json
from pathlib import Path

from metadata.loading import read_package
from metadata.specs import ObjectSpec
from metadata.validation import ExpressionSite, expressions_in, validate_package

MANIFEST = {"name": "crm", "version": "1.0.0", "label": {"en": "CRM"}}
AMOUNT_POSITIVE = {
    "name": "amount_positive",
    "condition": "amount > 0",
    "message": {"zh_CN": "金额必须大于0", "en": "Amount must be positive"},
    "fields": ["amount"],
}
WON_NEEDS_CLOSE_DATE = {
    "name": "won_needs_close_date",
    "condition": "not isblank(closed_on)",
    "message": {"zh_CN": "赢单必须填写成交日期", "en": "A won opportunity needs its close date"},
    "fields": ["closed_on"],
    "when": "stage == 'won'",
    "active": False,
}


def opportunity(*validation_rules: dict) -> dict:
    return {
        "name": "opportunity",
        "label": {"zh_CN": "商机", "en": "Opportunity"},
        "fields": [
            {"name": "name", "type": "text"},
            {"name": "amount", "type": "currency"},
            {"name": "stage", "type": "select", "options": [{"value": "proposal"}, {"value": "won"}]},
            {"name": "closed_on", "type": "date"},
        ],
        "validation_rules": list(validation_rules),
    }


def problems(tmp_path: Path, doc: dict) -> dict[str, str]:
    """Write a package holding `doc` to disk, read and validate it: its problems by JSON pointer."""
    folder = tmp_path / "crm"
    (folder / "objects").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    (folder / "objects/opportunity.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return {problem.path: problem.message for problem in validate_package(read_package(folder)).problems}


def test_an_object_with_validation_rules_is_valid_and_its_spec_holds_them(tmp_path):
    assert problems(tmp_path, opportunity(AMOUNT_POSITIVE, WON_NEEDS_CLOSE_DATE)) == {}

    spec = ObjectSpec.from_json(opportunity(AMOUNT_POSITIVE, WON_NEEDS_CLOSE_DATE))
    [positive, won] = spec.validation_rules
    assert (positive.condition, positive.fields, positive.when, positive.active) == (
        "amount > 0",
        ("amount",),
        None,
        True,
    )
    assert (won.when, won.active, won.message["zh_CN"]) == ("stage == 'won'", False, "赢单必须填写成交日期")


def test_validation_rules_round_trip_through_the_object_spec():
    doc = opportunity(AMOUNT_POSITIVE, WON_NEEDS_CLOSE_DATE)

    assert ObjectSpec.from_json(doc).to_json() == doc


def test_a_validation_rule_name_is_unique_within_its_object(tmp_path):
    doc = opportunity(AMOUNT_POSITIVE, WON_NEEDS_CLOSE_DATE, {**AMOUNT_POSITIVE, "condition": "amount >= 0"})

    assert problems(tmp_path, doc) == {
        "/validation_rules/2/name": (
            "validation rule 'amount_positive' is already defined at /validation_rules/0"
        )
    }


def test_the_fields_a_message_is_shown_next_to_must_exist(tmp_path):
    doc = opportunity({**WON_NEEDS_CLOSE_DATE, "fields": ["stage", "closed_at"]})

    assert problems(tmp_path, doc) == {
        "/validation_rules/0/fields/1": (
            "validation rule: object 'opportunity' has no field 'closed_at' (did you mean 'closed_on'?)"
        )
    }


def test_a_validation_rule_needs_a_condition_and_a_message(tmp_path):
    doc = opportunity(
        {"name": "amount_positive", "condition": "amount > 0"}, {"name": "x", "message": {"en": "x"}}
    )

    assert problems(tmp_path, doc) == {
        "/validation_rules/0": "'message' is required",
        "/validation_rules/1": "'condition' is required",
    }


def test_misspelt_validation_rule_key_is_named_with_a_suggestion(tmp_path):
    doc = opportunity({**AMOUNT_POSITIVE, "wehn": "stage == 'won'"})

    assert problems(tmp_path, doc) == {
        "/validation_rules/0/wehn": "unknown key 'wehn' (did you mean 'when'?)"
    }


def test_validation_rule_names_are_identifiers(tmp_path):
    found = problems(tmp_path, opportunity({**AMOUNT_POSITIVE, "name": "Amount positive"}))

    assert list(found) == ["/validation_rules/0/name"]
    assert "lowercase identifiers" in found["/validation_rules/0/name"]


def test_validation_rule_expressions_are_listed_with_the_object_as_scope():
    spec = ObjectSpec.from_json(opportunity(AMOUNT_POSITIVE, WON_NEEDS_CLOSE_DATE))

    assert expressions_in(spec) == [
        ExpressionSite(
            "/validation_rules/0/condition", "amount > 0", "opportunity", "opportunity", "validation"
        ),
        ExpressionSite(
            "/validation_rules/1/condition",
            "not isblank(closed_on)",
            "opportunity",
            "opportunity",
            "validation",
        ),
        ExpressionSite(
            "/validation_rules/1/when", "stage == 'won'", "opportunity", "opportunity", "validation_when"
        ),
    ]
