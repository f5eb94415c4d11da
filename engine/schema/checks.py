"""The metadata checks that need the engine: field types from the registry, expressions against functions."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from engine.base.actors import SYSTEM
from engine.base.errors import ExpressionError
from engine.expressions import FunctionRegistry, SqlContext, check, parse
from engine.expressions.kinds import SYSTEM_KINDS
from engine.fieldtypes import builtin_field_types
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.records.reports import report_sql_problems
from engine.rules.actions import ActionRegistry
from engine.schema.reader_scope import reader_scope_problems
from engine.schema.registry import Registry
from metadata.expression_sites import (
    ExpressionSite,
    flow_expressions_in,
    form_expressions_in,
    report_expressions_in,
)
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.problems import Problem, pointer
from metadata.reports import ReportSpec
from metadata.reserved import SYSTEM_FIELDS
from metadata.rules import ActionSpec, RuleSpec, TriggerSpec
from metadata.specs import ObjectSpec, thaw
from metadata.validation import expressions_in, rule_expressions_in


def check_objects(
    objects: Mapping[str, ObjectSpec],
    field_types: FieldTypeRegistry,
    functions: FunctionRegistry,
    files: Mapping[str, str],
    only: set[str] | None = None,
) -> list[Problem]:
    """Problems in `objects` (all, or those named in `only`), each with its file and JSON pointer."""
    problems: list[Problem] = []
    for name, obj in sorted(objects.items()):
        if only is not None and name not in only:
            continue
        file = files.get(name, f"objects/{name}.json")
        problems += _field_type_problems(obj, objects, field_types, file)
        if not any(p.file == file and p.path.endswith("/type") for p in problems):
            problems += _expression_problems(obj, objects, functions, file, field_types)
            problems += reader_scope_problems(expressions_in(obj), objects, file)
            problems += _formula_cycles(obj, file)
            problems += _validation_read_problems(obj, field_types, file)
    return sorted(set(problems))


# What a new record does not have yet while its validation rules run: the system fields are set when it
# is written (the owner is there, as `owner`), formulas and rollups are computed on read, autonumbers
# are drawn on insert.
NOT_YET_SET = {name: "set when the record is written" for name in SYSTEM_FIELDS - {"owner"}}


def _validation_read_problems(obj: ObjectSpec, field_types: FieldTypeRegistry, file: str) -> list[Problem]:
    """Validation rules may read only what a record has while it is validated, or every create fails."""
    missing = dict(NOT_YET_SET)
    for field in obj.fields:
        if field.type in field_types and not field_types.get(field.type).stored:
            missing[field.name] = f"a {field.type}, computed when the record is read"
        elif field.type == "autonumber":
            missing[field.name] = "an autonumber, drawn when the record is written"
    problems = []
    for index, rule in enumerate(obj.validation_rules):
        for key, text in (("condition", rule.condition), ("when", rule.when)):
            if text is None:
                continue
            try:
                names = parse(text).names
            except ExpressionError:
                continue  # the expression checks report it
            for name in sorted(names & missing.keys()):
                message = (
                    f"validation rule {rule.name!r} reads {name!r} ({missing[name]}), which a record does"
                    " not have yet while it is validated: every new record would fail this rule"
                )
                problems.append(Problem(file, pointer("validation_rules", index, key), message))
    return problems


def _field_type_problems(obj, objects, field_types, file) -> list[Problem]:  # type: ignore[no-untyped-def]
    problems = []
    specs = dict(objects)
    for index, field in enumerate(obj.fields):
        if field.type not in field_types:
            known = ", ".join(field_types.names())
            problems.append(
                Problem(
                    file,
                    pointer("fields", index, "type"),
                    f"unknown field type {field.type!r}; known types: {known}",
                )
            )
            continue
        ftype = field_types.get(field.type)
        if ftype.params_schema:
            validator = Draft202012Validator(ftype.params_schema)
            for error in validator.iter_errors(thaw(field.params)):
                where = pointer("fields", index, *error.absolute_path)
                problems.append(Problem(file, where, error.message))
        for message in ftype.check_spec(field, obj, specs):
            problems.append(Problem(file, pointer("fields", index), message))
    return problems


def _expression_problems(obj, objects, functions, file, field_types) -> list[Problem]:  # type: ignore[no-untyped-def]
    return _site_problems(expressions_in(obj), objects, functions, file, field_types)


# Sites whose expression decides, record by record, whether something holds: true or false only.
CONDITION_ROLES = frozenset(
    {"validation", "validation_when", "condition", "rollup_filter", "related_filter", "pool", "home_filter",
     "submit_when", "branch", "form_condition", "report_filter"}
)  # fmt: skip
_RESULT_KINDS = {"text": "text", "boolean": "boolean", "date": "date", "datetime": "datetime"}


@functools.cache
def _builtin_types() -> FieldTypeRegistry:
    return builtin_field_types()


def field_kinds(
    obj: ObjectSpec, objects: Mapping[str, ObjectSpec], field_types: FieldTypeRegistry | None = None
) -> dict[str, str]:
    """The kind of value (text, number, date, …) each field and system field of an object holds."""
    types = field_types or _builtin_types()
    kinds = {name: SYSTEM_KINDS.get(name, "any") for name in SYSTEM_FIELDS}
    for field in obj.fields:
        kinds[field.name] = (
            types.get(field.type).value_kind_for(field, objects) if field.type in types else "any"
        )
    return kinds


def _expected(site: ExpressionSite, scope: ObjectSpec) -> str | None:
    """What a site's expression must give: a condition, a formula's declared result, or anything."""
    if site.role in CONDITION_ROLES:
        return "condition"
    if site.role == "formula":
        index = int(site.path.split("/")[2])
        result = scope.fields[index].param("result")
        return _RESULT_KINDS.get(result, "number") if isinstance(result, str) else None
    return None


def _site_problems(sites, objects, functions: FunctionRegistry, file: str, field_types=None) -> list[Problem]:  # type: ignore[no-untyped-def]
    """Every expression checked against the fields of the object it reads, their kinds and the functions."""
    problems = []
    for site in sites:
        scope = objects.get(site.scope_object)
        if scope is None:
            continue  # the missing object is reported by the structural checks
        known = field_kinds(scope, objects, field_types) | dict.fromkeys(site.extra_names, "any")
        expect, expected_as = _expected(site, scope), "the declared result"
        if site.role == "default":
            # A default must give what its field holds: 0 for a date field fails on every create.
            field = scope.fields[int(site.path.split("/")[2])]
            expect, expected_as = known.get(field.name, "any"), f"the field {field.name}'s kind"
        for message in check(site.text, known, functions, expect=expect, expected_as=expected_as):
            problems.append(Problem(file, site.path, f"{message} in {site.text!r}"))
    return problems


def _formula_cycles(obj: ObjectSpec, file: str) -> list[Problem]:
    formulas = {f.name: f for f in obj.fields if f.type == "formula"}
    reads: dict[str, set[str]] = {}
    for name, spec in formulas.items():
        try:
            reads[name] = set(parse(spec.param("expression", "None")).names) & set(formulas)
        except ExpressionError:
            reads[name] = set()
    problems = []
    for index, field in enumerate(obj.fields):
        if field.name in formulas and _reaches(field.name, field.name, reads, set()):
            problems.append(
                Problem(
                    file,
                    pointer("fields", index, "expression"),
                    f"formula {field.name!r} depends on itself through other formulas",
                )
            )
    return problems


def _reaches(start: str, target: str, reads: dict[str, set[str]], seen: set[str]) -> bool:
    for name in reads.get(start, ()):
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            if _reaches(name, target, reads, seen):
                return True
    return False


def rule_phase(rule: RuleSpec) -> str:
    """The phase a rule's actions run in, which decides the actions it may use."""
    trigger = rule.trigger.type
    if trigger in ("on_create", "on_update", "on_save"):
        return rule.trigger.phase
    if trigger == "on_delete":
        return "after_save"
    if trigger in ("on_submit", "on_approved", "on_rejected"):
        return "flow"
    return trigger  # schedule, date_offset, inbound


def _on_known_objects(
    kind: str,
    documents: Mapping[str, Any],
    objects: Mapping[str, ObjectSpec],
    files: Mapping[str, str],
    only: set[str] | None,
    problems: list[Problem],
) -> Iterator[tuple[Any, str]]:
    """Each document of `kind` (those named in `only`, if given) with the file it came from; one
    whose object does not exist is reported in `problems` and skipped, as nothing else can be checked."""
    for name, document in sorted(documents.items()):
        if only is not None and name not in only:
            continue
        file = files.get(f"{kind}:{name}", f"{kind}s/{name}.json")
        if document.object not in objects:
            problems.append(Problem(file, "/object", f"there is no object named {document.object!r}"))
            continue
        yield document, file


def check_rules(
    rules: Mapping[str, RuleSpec],
    objects: Mapping[str, ObjectSpec],
    actions: ActionRegistry,
    functions: FunctionRegistry,
    files: Mapping[str, str],
    only: set[str] | None = None,
    field_types: FieldTypeRegistry | None = None,
) -> list[Problem]:
    """Problems with rules that need the engine: action types and parameters, phases, expressions."""
    problems: list[Problem] = []
    for rule, file in _on_known_objects("rule", rules, objects, files, only, problems):
        problems += _action_problems(rule, objects, actions, file)
        sites = rule_expressions_in(rule, objects)
        problems += _site_problems(sites, objects, functions, file, field_types)
        if rule_phase(rule) == "before_save":
            # A before-save rule reads the record as its writer sees it, not as the system does.
            problems += reader_scope_problems(sites, objects, file)
    return sorted(set(problems))


def _action_problems(rule: RuleSpec, objects, actions: ActionRegistry, file: str) -> list[Problem]:  # type: ignore[no-untyped-def]
    found = [(spec, ("actions", index)) for index, spec in enumerate(rule.actions)]
    phase = rule_phase(rule)
    return _actions_problems(
        found, phase, f"a rule that runs {phase.replace('_', ' ')}", rule, objects, actions, file
    )


def _actions_problems(
    found: list[tuple[ActionSpec, tuple[str | int, ...]]],
    phase: str,
    where: str,
    rule: RuleSpec,
    objects,  # type: ignore[no-untyped-def]
    actions: ActionRegistry,
    file: str,
) -> list[Problem]:
    problems = []
    for spec, at in found:
        if spec.type not in actions:
            known = ", ".join(actions.names())
            problems.append(
                Problem(
                    file,
                    pointer(*at, "type"),
                    f"unknown action type {spec.type!r}; known actions: {known}",
                )
            )
            continue
        action = actions.get(spec.type)
        if phase not in action.phases:
            problems.append(
                Problem(
                    file,
                    pointer(*at, "type"),
                    f"{spec.type} cannot run in {where}",
                )
            )
        if action.params_schema:
            for error in Draft202012Validator(action.params_schema).iter_errors(thaw(spec.params)):
                problems.append(Problem(file, pointer(*at, *error.absolute_path), error.message))
        for message in action.check(spec, rule, objects):
            problems.append(Problem(file, pointer(*at), message))
    return problems


def flow_rule(flow: FlowSpec, actions: tuple[ActionSpec, ...] = ()) -> RuleSpec:
    """A flow's actions seen as a rule fired by the flow's outcome, so rule actions run and check as usual."""
    return RuleSpec(
        name=flow.name,
        object=flow.object,
        trigger=TriggerSpec("on_approved"),
        actions=actions,
        label=flow.label,
    )


def check_flows(
    flows: Mapping[str, FlowSpec],
    objects: Mapping[str, ObjectSpec],
    actions: ActionRegistry,
    functions: FunctionRegistry,
    files: Mapping[str, str],
    only: set[str] | None = None,
    field_types: FieldTypeRegistry | None = None,
) -> list[Problem]:
    """Problems with flows that need the engine: action types and parameters, and every expression."""
    problems: list[Problem] = []
    for flow, file in _on_known_objects("flow", flows, objects, files, only, problems):
        found = [
            (spec, ("nodes", node.name, "actions", index))
            for node in flow.nodes.values()
            for index, spec in enumerate(node.actions)
        ]
        found += [(spec, ("on_reject", "actions", index)) for index, spec in enumerate(flow.reject_actions)]
        problems += _actions_problems(found, "flow", "a flow", flow_rule(flow), objects, actions, file)
        problems += _site_problems(flow_expressions_in(flow, objects), objects, functions, file, field_types)
    return sorted(set(problems))


def check_forms(
    forms: Mapping[str, FormSpec],
    objects: Mapping[str, ObjectSpec],
    functions: FunctionRegistry,
    files: Mapping[str, str],
    field_types: FieldTypeRegistry | None = None,
) -> list[Problem]:
    """Problems with forms that need the engine: every condition against the functions and fields."""
    problems: list[Problem] = []
    for form, file in _on_known_objects("form", forms, objects, files, None, problems):
        problems += _site_problems(form_expressions_in(form), objects, functions, file, field_types)
    return sorted(set(problems))


def check_reports(
    reports: Mapping[str, ReportSpec],
    objects: Mapping[str, ObjectSpec],
    field_types: FieldTypeRegistry,
    functions: FunctionRegistry,
    files: Mapping[str, str],
) -> list[Problem]:
    """Problems with reports that need the engine: the filter is a condition over known fields and
    functions, and every part of the report compiles to SQL on both databases."""
    problems: list[Problem] = []
    registry: Registry | None = None
    for report, file in _on_known_objects("report", reports, objects, files, None, problems):
        obj = objects[report.object]
        found = _site_problems(report_expressions_in(report), objects, functions, file, field_types)
        probe = SqlContext(datetime(2000, 1, 1), SYSTEM, functions, "sqlite")
        if not found and _fields_exist(report, obj):
            registry = registry or Registry(dict(objects), field_types, version=-1)
            for dialect in ("sqlite", "postgresql"):
                sctx = SqlContext(probe.now, SYSTEM, functions, dialect)  # type: ignore[arg-type]
                sql_problems = report_sql_problems(report, registry, sctx)
                found += [Problem(file, at, message) for at, message in sql_problems]
        problems += found
    return sorted(set(problems))


def _fields_exist(report: ReportSpec, obj: ObjectSpec) -> bool:
    """Whether the fields a report names exist (those that do not are reported by the metadata checks)."""
    named = [group.field for group in report.group_by] + [m.field for m in report.measures if m.field]
    return all(obj.has_field(name) for name in named)
