"""Automation rules: one document per rule, checked against the objects it names, its expressions listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metadata.loading import read_package, write_package
from metadata.problems import Problem
from metadata.rules import RuleSpec
from metadata.schemas import schema_of
from metadata.specs import ObjectSpec, PackageManifest
from metadata.validation import (
    ExpressionSite,
    ValidationResult,
    rule_expressions_in,
    validate_package,
    validate_rule,
)

MANIFEST = {"name": "crm", "version": "1.0.0", "label": {"en": "CRM"}}
REGIONS = [{"value": "east"}, {"value": "south"}]
CUSTOMER = {
    "name": "customer",
    "label": {"zh_CN": "客户", "en": "Customer"},
    "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "level", "type": "select", "options": [{"value": "vip"}, {"value": "normal"}]},
        {"name": "region", "type": "select", "options": REGIONS},
        {"name": "code", "type": "autonumber", "pattern": "KH-{0000}"},
        {"name": "last_followup_at", "type": "datetime"},
        {
            "name": "days_silent",
            "type": "formula",
            "expression": "days_since(last_followup_at)",
            "result": "integer",
        },
        {"name": "interests", "type": "multi_select", "options": [{"value": "hardware"}]},
        {"name": "tags", "type": "tags"},
        {"name": "in_pool", "type": "boolean", "default": "False"},
        {"name": "pool_entered_at", "type": "datetime"},
        {"name": "notes", "type": "long_text"},
    ],
}
TASK = {
    "name": "task",
    "label": {"zh_CN": "任务", "en": "Task"},
    "fields": [
        {"name": "subject", "type": "text", "required": True},
        {
            "name": "category",
            "type": "select",
            "options": [{"value": "followup"}],
            "required": True,
            "default": "'followup'",
        },
        {"name": "customer", "type": "lookup", "target": "customer"},
        {"name": "contract", "type": "lookup", "target": "contract"},
        {"name": "due_date", "type": "date"},
        {"name": "status", "type": "select", "options": [{"value": "open"}, {"value": "done"}]},
    ],
}
CONTRACT = {
    "name": "contract",
    "label": {"zh_CN": "合同", "en": "Contract"},
    "fields": [
        {"name": "name", "type": "text"},
        {"name": "customer", "type": "lookup", "target": "customer"},
        {"name": "amount", "type": "currency"},
        {"name": "end_date", "type": "date"},
        {"name": "status", "type": "select", "options": [{"value": "active"}, {"value": "expired"}]},
    ],
}
OBJECTS = (CUSTOMER, TASK, CONTRACT)

VIP_FOLLOWUP = {
    "$schema": "../../../schema/rule.schema.json",
    "name": "vip_followup_overdue",
    "object": "customer",
    "label": {"zh_CN": "VIP客户超过15天未跟进", "en": "VIP customer not followed up for 15 days"},
    "trigger": {"type": "schedule", "cron": "0 9 * * *"},
    "condition": "level == 'vip' and days_since(last_followup_at) > 15",
    "fire": "once_per_episode",
    "actions": [
        {
            "type": "create_record",
            "object": "task",
            "values": {"subject": "'请立即跟进VIP客户'", "owner": "owner", "customer": "id"},
        }
    ],
}


def rule(name: str = "r", *, object: str = "customer", trigger: dict | None = None, **keys) -> dict:
    """A small rule document; with no actions given it notifies the owner."""
    return {
        "name": name,
        "object": object,
        "trigger": trigger or {"type": "on_save"},
        "actions": [{"type": "notify", "to": "owner", "title": "'hello'"}],
        **keys,
    }


def write_files(root: Path, files: dict[str, dict]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return root


def validated(
    tmp_path: Path, *rules: dict, objects=OBJECTS, files: dict | None = None, **options
) -> ValidationResult:
    """Write a package of `objects` and `rules` (plus any other `files`) to disk, read it and validate it."""
    documents = {"package.json": MANIFEST}
    documents |= {f"objects/{doc['name']}.json": doc for doc in objects}
    documents |= {f"rules/{doc['name']}.json": doc for doc in rules}
    documents |= files or {}
    return validate_package(read_package(write_files(tmp_path / "crm", documents)), **options)


def problems(tmp_path: Path, *rules: dict, **options) -> dict[str, str]:
    """Problems in rules/ documents by JSON pointer, for tests of one rule."""
    found = validated(tmp_path, *rules, **options).problems
    return {problem.path: problem.message for problem in found if problem.file.startswith("rules/")}


def with_action(action: dict, **keys) -> dict:
    return rule(actions=[action], **keys)


def related(child: str, via: str, values: dict | None = None, **filter: str) -> dict:
    """An update_related action over the `child` records whose lookup `via` points at the rule's record."""
    return {
        "type": "update_related",
        "related": {"object": child, "via": via, **filter},
        "values": values or {"status": "1"},
    }


# A valid rule of every trigger type and every built-in action.

TRIGGERS = [
    {"type": "on_create"},
    {"type": "on_create", "phase": "before_save"},
    {"type": "on_update", "fields": ["level", "owner"]},
    {"type": "on_save", "fields": ["region"], "phase": "before_save"},
    {"type": "on_delete"},
    {"type": "on_submit"},
    {"type": "on_approved"},
    {"type": "on_rejected"},
    {"type": "schedule", "cron": "*/30 8-18 * * 1-5"},
    {"type": "date_offset", "field": "last_followup_at", "days": 15, "at": "08:30"},
    {"type": "inbound"},
]


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: f"{t['type']}-{len(t)}")
def test_a_rule_of_every_trigger_type_is_valid(tmp_path, trigger):
    result = validated(tmp_path, rule(trigger=trigger))

    assert result.problems == []
    assert result.rules[0].trigger.type == trigger["type"]


BEFORE_SAVE = {"type": "on_save", "phase": "before_save"}
ACTIONS = [
    {"type": "set_field", "field": "level", "value": "'vip'"},
    related("task", "customer", {"status": "'done'"}, filter="status == 'open'"),
    {"type": "create_record", "object": "task", "values": {"subject": "'回访' + name", "owner": "owner"}},
    {"type": "assign_owner", "strategy": "round_robin", "users": ["zhang.wei", "li.na"]},
    {"type": "assign_owner", "strategy": "least_loaded", "users": ["zhang.wei"]},
    {"type": "assign_owner", "strategy": "by_field", "field": "region", "map": {"east": "zhang.wei"},
     "default": "li.na"},
    {"type": "add_tag", "field": "tags", "tag": "'大客户'"},
    {"type": "notify", "to": "owner", "title": "'VIP客户：' + name", "body": "'请跟进'"},
    {"type": "send_email", "to": "'sales@example.com'", "subject": "'新客户'", "body": "name"},
    {"type": "call_webhook", "url": "https://erp.example.com/hooks/customer", "payload": {"name": "name"},
     "secret": "erp"},
    {"type": "move_to_pool"},
    {"type": "move_to_pool", "flag": "in_pool", "entered_at": "last_followup_at"},
    {"type": "start_flow", "flow": "customer_upgrade"},
    {"type": "reject", "message": {"zh_CN": "VIP客户必须填写区域", "en": "VIP customers need a region"},
     "fields": ["region"]},
]  # fmt: skip


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a["type"])
def test_a_rule_with_each_built_in_action_is_valid(tmp_path, action):
    result = validated(tmp_path, with_action(action, trigger=BEFORE_SAVE))

    assert result.problems == []
    assert result.rules[0].actions[0].type == action["type"]


def test_update_related_may_follow_a_lookup_of_the_rule_object(tmp_path):
    action = {"type": "update_related", "lookup": "customer", "values": {"last_followup_at": "now()"}}

    assert validated(tmp_path, with_action(action, object="task")).problems == []


def test_validation_gives_the_rules_with_the_objects(tmp_path):
    result = validated(tmp_path, VIP_FOLLOWUP)

    assert result.ok
    assert [spec.name for spec in result.objects] == ["contract", "customer", "task"]
    [vip] = result.rules
    assert (vip.object, vip.trigger.cron, vip.fire) == ("customer", "0 9 * * *", "once_per_episode")


def test_unknown_action_types_pass_with_their_own_settings(tmp_path):
    action = {"type": "wecom.send_card", "card": {"title": "name"}, "to_group": "sales"}

    assert validated(tmp_path, with_action(action)).problems == []


def test_a_rule_may_watch_an_installed_object(tmp_path):
    installed = {name: ObjectSpec.from_json(doc) for name, doc in (("customer", CUSTOMER), ("task", TASK))}

    result = validated(tmp_path, VIP_FOLLOWUP, objects=(), installed=installed)

    assert result.problems == []


# Round trips.

NORMALISED = [
    {k: v for k, v in VIP_FOLLOWUP.items() if k != "$schema"},
    {
        "name": "contract_expiry_reminder",
        "object": "contract",
        "description": {"en": "Thirty days before the end date"},
        "active": False,
        "order": 10,
        "trigger": {"type": "date_offset", "field": "end_date", "days": -30, "at": "09:00"},
        "condition": "status == 'active'",
        "actions": [{"type": "notify", "to": "owner", "title": "'合同即将到期：' + name"}],
    },
    rule(trigger={"type": "on_update", "fields": ["level"], "phase": "before_save"}, actions=ACTIONS),
    rule(trigger={"type": "inbound"}, actions=[{"type": "erp.sync", "mapping": {"a": ["b", 1]}}]),
]


@pytest.mark.parametrize("doc", NORMALISED, ids=lambda doc: doc["name"])
def test_rules_round_trip_through_their_spec(doc):
    assert RuleSpec.from_json(doc).to_json() == doc


def test_written_rules_read_back_the_same(tmp_path):
    manifest = PackageManifest.from_json(MANIFEST)
    specs = [ObjectSpec.from_json(doc) for doc in OBJECTS] + [RuleSpec.from_json(VIP_FOLLOWUP)]

    written = write_package((manifest, specs), tmp_path / "out")

    assert "rules/vip_followup_overdue.json" in written
    result = validate_package(read_package(tmp_path / "out"))
    assert result.ok
    assert result.rules == (RuleSpec.from_json(VIP_FOLLOWUP),)


# Mistakes, each reported at its own place.


def test_file_must_be_named_after_the_rule(tmp_path):
    result = validated(tmp_path, files={"rules/vip.json": VIP_FOLLOWUP})

    assert result.problems == [
        Problem(
            "rules/vip.json",
            "/name",
            "rule 'vip_followup_overdue' must be in a file named vip_followup_overdue.json",
        )
    ]


def test_a_rule_defined_in_two_files_is_reported_at_the_second(tmp_path):
    result = validated(tmp_path, VIP_FOLLOWUP, files={"rules/zz_copy.json": VIP_FOLLOWUP})

    assert [(p.file, p.path, p.message) for p in result.problems] == [
        (
            "rules/zz_copy.json",
            "/name",
            "rule 'vip_followup_overdue' must be in a file named vip_followup_overdue.json",
        ),
        (
            "rules/zz_copy.json",
            "/name",
            "rule 'vip_followup_overdue' is already defined in rules/vip_followup_overdue.json",
        ),
    ]


def test_the_watched_object_must_exist(tmp_path):
    assert problems(tmp_path, rule(object="custmer")) == {
        "/object": "rule 'r' watches object 'custmer', which is neither in this package nor installed"
        " (did you mean 'customer'?)"
    }


def test_a_rule_of_a_broken_object_is_reported_only_in_the_object(tmp_path):
    broken = {**CUSTOMER, "label": "Customer"}

    result = validated(
        tmp_path,
        rule(actions=[{"type": "set_field", "field": "nope", "value": "1"}]),
        objects=(broken, TASK, CONTRACT),
    )

    assert [(p.file, p.path) for p in result.problems] == [("objects/customer.json", "/label")]


def test_schema_problems_stop_the_semantic_checks_of_that_rule(tmp_path):
    doc = rule(object="nowhere", trigger={"type": "on_save", "fields": "level"})

    assert problems(tmp_path, doc) == {"/trigger/fields": "must be a list, not a string"}


@pytest.mark.parametrize(
    ("trigger", "path", "message"),
    [
        ({"type": "on_update", "fields": ["levle"]}, "/trigger/fields/0",
         "trigger: object 'customer' has no field 'levle' (did you mean 'level'?)"),
        ({"type": "on_save", "fields": ["days_silent"]}, "/trigger/fields/0",
         "trigger: 'days_silent' is a formula field, computed when read, so no save changes it;"
         " list the fields it is computed from"),
        ({"type": "on_create", "fields": ["level"]}, "/trigger/fields",
         "only on_update and on_save triggers take fields: a new record has no earlier values to compare"),
        ({"type": "on_delete", "fields": ["level"]}, "/trigger/fields",
         "only on_update and on_save triggers take fields: a delete changes no field"),
        ({"type": "on_delete", "phase": "before_save"}, "/trigger/phase",
         "an on_delete rule runs after the record is deleted;"
         " before_save is for on_create, on_update and on_save"),
        ({"type": "on_approved", "phase": "after_save"}, "/trigger/phase",
         "unknown key 'phase'; an on_approved trigger takes no other keys"),
        ({"type": "date_offset", "field": "notes", "days": -30}, "/trigger/field",
         "date_offset: needs a date or datetime field; 'notes' is a long_text field"),
        ({"type": "date_offset", "field": "end_date", "days": -30}, "/trigger/field",
         "date_offset: object 'customer' has no field 'end_date'"),
        ({"type": "date_offset", "field": "last_followup_at"}, "/trigger", "'days' is required"),
        ({"type": "date_offset", "field": "last_followup_at", "days": 1, "at": "9:00"}, "/trigger/at",
         '"9:00" is not valid: times are written HH:MM on a 24-hour clock, e.g. 09:00'),
        ({"type": "schedule", "cron": "0 9 * *"}, "/trigger/cron",
         '"0 9 * *" is not valid: a cron schedule has five fields: minute hour day month weekday,'
         " e.g. 0 9 * * 1-5"),
        ({"type": "on_sav"}, "/trigger/type",
         '"on_sav" is not one of "on_create", "on_update", "on_save", "on_delete", "on_submit",'
         ' "on_approved", "on_rejected", "schedule", "date_offset", "inbound" (did you mean \'on_save\'?)'),
    ],
)  # fmt: skip
def test_trigger_mistakes_are_reported_at_their_place(tmp_path, trigger, path, message):
    assert problems(tmp_path, rule(trigger=trigger)) == {path: message}


@pytest.mark.parametrize(
    ("action", "path", "message"),
    [
        ({"type": "set_field", "field": "levle", "value": "'vip'"}, "/actions/0/field",
         "set_field: object 'customer' has no field 'levle' (did you mean 'level'?)"),
        ({"type": "set_field", "field": "days_silent", "value": "0"}, "/actions/0/field",
         "set_field: 'days_silent' is a formula field; Loom gives its value, so a rule cannot set it"),
        ({"type": "set_field", "field": "code", "value": "'KH-1'"}, "/actions/0/field",
         "set_field: 'code' is a autonumber field; Loom gives its value, so a rule cannot set it"),
        ({"type": "set_field", "field": "level"}, "/actions/0", "'value' is required"),
        ({"type": "add_tag", "field": "notes", "tag": "'vip'"}, "/actions/0/field",
         "add_tag: needs a tags field; 'notes' is a long_text field"),
        ({"type": "update_related", "lookup": "name", "values": {"x": "1"}}, "/actions/0/lookup",
         "update_related: needs a lookup field; 'name' is a text field"),
        (related("tsak", "customer"), "/actions/0/related/object",
         "update_related reads object 'tsak', which is neither in this package nor installed"
         " (did you mean 'task'?)"),
        (related("task", "subject"), "/actions/0/related/via", "task.subject is a text field, not a lookup"),
        (related("task", "contract"), "/actions/0/related/via",
         "task.contract looks up 'contract', not 'customer', so it does not link task records to the customer"
         " that fired the rule"),
        (related("task", "customer", values={"stauts": "1"}), "/actions/0/values/stauts",
         "update_related: object 'task' has no field 'stauts' (did you mean 'status'?)"),
        ({**related("task", "customer"), "lookup": "customer"}, "/actions/0",
         "update_related needs either lookup (the record this one points at) or related (the records that"
         " point at this one), not both"),
        ({"type": "create_record", "object": "tasks", "values": {"subject": "name"}}, "/actions/0/object",
         "create_record makes a record of object 'tasks', which is neither in this package nor installed"
         " (did you mean 'task'?)"),
        ({"type": "create_record", "object": "task", "values": {"subject": "name", "assignee": "owner"}},
         "/actions/0/values/assignee", "create_record: object 'task' has no field 'assignee'"),
        ({"type": "create_record", "object": "task", "values": {"due_date": "today()"}}, "/actions/0/values",
         "task.subject is required and has no default: give it a value"),
        ({"type": "assign_owner", "strategy": "round_robin"}, "/actions/0", "'users' is required"),
        ({"type": "assign_owner", "strategy": "by_field", "field": "region", "map": {"est": "zhang.wei"}},
         "/actions/0/map/est", "'est' is not an option of customer.region (did you mean 'east'?)"),
        ({"type": "assign_owner", "strategy": "by_field", "field": "interests", "map": {"hardware": "li.na"}},
         "/actions/0/field",
         "by_field: needs a field holding one value; 'interests' is a multi_select field"),
        ({"type": "move_to_pool", "flag": "level"}, "/actions/0/flag",
         "move_to_pool: needs a boolean field; 'level' is a select field"),
        ({"type": "call_webhook", "url": "ftp://erp.example.com"}, "/actions/0/url",
         '"ftp://erp.example.com" is not valid: webhook addresses are http:// or https:// URLs'),
        ({"type": "notify", "title": "'hi'", "to": "owner", "colour": "red"}, "/actions/0/colour",
         "unknown key 'colour'; a notify action takes to, title, body"),
        ({"type": "reject", "message": {"en": "No"}}, "/actions/0/type",
         "reject refuses a save, so it belongs in a before_save rule: an on_create, on_update or on_save"
         ' trigger with "phase": "before_save"'),
    ],
)  # fmt: skip
def test_action_mistakes_are_reported_at_their_place(tmp_path, action, path, message):
    assert problems(tmp_path, with_action(action)) == {path: message}


def test_misspelt_action_setting_is_named_with_a_suggestion(tmp_path):
    action = {"type": "set_field", "field": "level", "value": "'vip'", "valeu": "'vip'"}

    assert problems(tmp_path, with_action(action)) == {
        "/actions/0/valeu": (
            "unknown key 'valeu' (did you mean 'value'?); a set_field action takes field, value"
        )
    }


def test_a_lookup_update_may_be_filtered_but_related_records_are_filtered_inside_related(tmp_path):
    by_lookup = {
        "type": "update_related",
        "lookup": "customer",
        "filter": "level == 'vip'",
        "values": {"level": "1"},
    }
    by_related = {**related("task", "customer"), "filter": "status == 'open'"}

    assert problems(tmp_path, with_action(by_lookup, object="task")) == {}
    assert problems(tmp_path, with_action(by_related)) == {
        "/actions/0/filter": "update_related: with related, the filter goes inside related, as related.filter"
    }


def test_reject_names_fields_of_the_rule_object(tmp_path):
    action = {"type": "reject", "message": {"en": "No"}, "fields": ["region", "regoin"]}

    assert problems(tmp_path, with_action(action, trigger=BEFORE_SAVE)) == {
        "/actions/0/fields/1": "reject: object 'customer' has no field 'regoin' (did you mean 'region'?)"
    }


def test_move_to_pool_needs_the_pool_fields_it_uses_by_default(tmp_path):
    result = validated(tmp_path, with_action({"type": "move_to_pool"}, object="task"))

    assert [str(problem) for problem in result.problems] == [
        "rules/r.json: /actions/0: move_to_pool uses the boolean field 'in_pool' unless 'flag' names another"
        " one, but object 'task' has no field 'in_pool'",
        "rules/r.json: /actions/0: move_to_pool uses the datetime field 'pool_entered_at' unless 'entered_at'"
        " names another one, but object 'task' has no field 'pool_entered_at'",
    ]


def test_a_missing_object_is_reported_once_not_again_for_each_field(tmp_path):
    doc = rule(
        object="ticket",
        trigger={"type": "on_update", "fields": ["status"]},
        actions=[{"type": "set_field", "field": "status", "value": "'closed'"}],
    )

    assert list(problems(tmp_path, doc)) == ["/object"]


def test_every_mistake_of_a_rule_is_reported_in_reading_order(tmp_path):
    doc = rule(
        trigger={"type": "on_update", "fields": ["levle"]},
        actions=[
            {"type": "set_field", "field": "days_silent", "value": "0"},
            {"type": "notify", "to": "owner", "title": "'x'"},
            {"type": "add_tag", "field": "notes", "tag": "'x'"},
        ],
    )

    assert [p.path for p in validated(tmp_path, doc).problems] == [
        "/actions/0/field",
        "/actions/2/field",
        "/trigger/fields/0",
    ]


def test_validate_rule_checks_one_document_against_known_objects():
    known = {"customer": ObjectSpec.from_json(CUSTOMER), "task": ObjectSpec.from_json(TASK)}

    assert validate_rule(VIP_FOLLOWUP, "rules/vip_followup_overdue.json", known_objects=known).ok
    assert [p.path for p in validate_rule(VIP_FOLLOWUP, "rules/vip_followup_overdue.json").problems] == [
        "/object",
        "/actions/0/object",
    ]
    assert validate_rule({"name": "x"}, "draft").rules == ()


# Expression sites.


def test_every_expression_of_a_rule_is_listed_with_its_pointer_and_scope():
    doc = rule(
        trigger=BEFORE_SAVE,
        condition="level == 'vip'",
        actions=[
            {"type": "set_field", "field": "level", "value": "'normal'"},
            related("task", "customer", {"due_date": "today()"}, filter="status == 'open'"),
            {"type": "notify", "to": "owner", "title": "'VIP'", "body": "name"},
            {"type": "call_webhook", "url": "https://erp.example.com", "payload": {"name/short": "name"}},
            {"type": "reject", "message": {"en": "No"}},
            {"type": "wecom.send_card", "title": "name"},
        ],
    )  # fmt: skip

    sites = rule_expressions_in(RuleSpec.from_json(doc), {})

    def site(path: str, text: str, role: str, scope: str = "customer") -> ExpressionSite:
        return ExpressionSite(path, text, "customer", scope, role)

    assert sites == [
        site("/condition", "level == 'vip'", "condition"),
        site("/actions/0/value", "'normal'", "action"),
        site("/actions/1/values/due_date", "today()", "action"),
        site("/actions/1/related/filter", "status == 'open'", "related_filter", scope="task"),
        site("/actions/2/to", "owner", "action"),
        site("/actions/2/title", "'VIP'", "action"),
        site("/actions/2/body", "name", "action"),
        site("/actions/3/payload/name~1short", "name", "action"),
    ]


@pytest.mark.parametrize(
    ("action", "paths"),
    [
        ({"type": "create_record", "object": "task", "values": {"subject": "name", "owner": "owner"}},
         ["/actions/0/values/subject", "/actions/0/values/owner"]),
        ({"type": "add_tag", "field": "tags", "tag": "'大客户'"}, ["/actions/0/tag"]),
        ({"type": "send_email", "to": "'a@example.com'", "subject": "name", "body": "name"},
         ["/actions/0/to", "/actions/0/subject", "/actions/0/body"]),
        ({"type": "update_related", "lookup": "customer", "values": {"level": "'vip'"}},
         ["/actions/0/values/level"]),
        ({"type": "assign_owner", "strategy": "round_robin", "users": ["li.na"]}, []),
        ({"type": "move_to_pool"}, []),
        ({"type": "start_flow", "flow": "contract_approval"}, []),
    ],
)  # fmt: skip
def test_action_settings_that_hold_expressions_are_listed(action, paths):
    sites = rule_expressions_in(RuleSpec.from_json(rule(actions=[action])), {})

    assert [site.path for site in sites] == paths
    assert {site.scope_object for site in sites} <= {"customer"}


def test_the_filter_of_a_lookup_update_reads_the_record_the_lookup_points_at():
    action = {
        "type": "update_related",
        "lookup": "customer",
        "filter": "level == 'vip'",
        "values": {"level": "'vip'"},
    }
    rule_spec = RuleSpec.from_json(rule(object="task", actions=[action]))
    objects = {"task": ObjectSpec.from_json(TASK)}

    sites = rule_expressions_in(rule_spec, objects)

    assert sites[-1] == ExpressionSite(
        "/actions/0/filter", "level == 'vip'", "task", "customer", "related_filter"
    )
    assert [site.path for site in rule_expressions_in(rule_spec, {})] == ["/actions/0/values/level"]


def test_expressions_of_an_inbound_rule_may_read_the_payload():
    doc = rule(
        object="task",
        trigger={"type": "inbound"},
        condition="payload is not None",
        actions=[{"type": "set_field", "field": "subject", "value": "coalesce(payload, subject)"}],
    )

    sites = rule_expressions_in(RuleSpec.from_json(doc), {})

    assert [(site.path, site.extra_names) for site in sites] == [
        ("/condition", frozenset({"payload"})),
        ("/actions/0/value", frozenset({"payload"})),
    ]
    assert rule_expressions_in(RuleSpec.from_json(rule(condition="True")), {})[0].extra_names == frozenset()


# The schema, for editors.


def _described(schema: dict, node: object, where: str) -> list[str]:
    """Properties without a description (their own or their $ref's), outside if-clauses and refusals."""
    missing: list[str] = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            missing += _described(schema, item, f"{where}/{index}")
    if not isinstance(node, dict):
        return missing
    for name, prop in node.get("properties", {}).items():
        target = prop
        if prop.get("$ref", "").startswith("#/$defs/"):
            target = schema["$defs"][prop["$ref"].removeprefix("#/$defs/")]
        if not (prop.get("description") or target.get("description") or "errorMessage" in prop):
            missing.append(f"{where}/properties/{name}")
    for key, value in node.items():
        if key != "if":
            missing += _described(schema, value, f"{where}/{key}")
    return missing


@pytest.mark.parametrize("kind", ["rule", "validation_rule"])
def test_every_property_of_the_rule_schemas_is_described(kind):
    schema = schema_of(kind)

    assert _described(schema, schema, "") == []
