"""Validating packages, objects, rules, roles and flows: the JSON Schema first, then what a schema cannot say.

Semantic checks (names that must exist, be unique, or not be reserved) run only on
documents that passed the schema, so one mistake is reported once, at its own path.
Field types and action types the core does not know (a plugin's) pass every kind check
here; the engine judges them against its registries, and checks every expression listed
by `expressions_in`, `rule_expressions_in` and `flow_expressions_in` against its functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from metadata.dashboard_checks import dashboard_problems, home_problems
from metadata.dashboards import DashboardSpec
from metadata.expression_sites import (
    ACTION_EXPRESSIONS,
    INBOUND_NAMES,
    ExpressionSite,
    expressions_in,
    flow_expressions_in,
    form_expressions_in,
    report_expressions_in,
    rule_expressions_in,
)
from metadata.flow_checks import flow_problems
from metadata.flows import FlowSpec
from metadata.form_checks import form_problems
from metadata.forms import FormSpec
from metadata.loading import FOLDER_OF_KIND, MANIFEST_FILE, PackageSource
from metadata.problems import Problem, pointer
from metadata.references import (
    BUILTIN_TYPES,
    COMPUTED_TYPES,
    MULTI_VALUE_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    missing_object,
    no_field,
    repeats,
)
from metadata.report_checks import report_problems
from metadata.reports import ReportSpec
from metadata.reserved import SYSTEM_FIELDS, field_name_reserved, object_name_reserved
from metadata.role_checks import role_problems
from metadata.roles import RoleSpec
from metadata.rule_checks import rule_problems
from metadata.rules import RuleSpec
from metadata.schemas import structural_problems
from metadata.specs import FieldSpec, ObjectSpec, PackageManifest

_COUNTER = re.compile(r"\{0{1,12}\}")
_NO_OBJECTS: Mapping[str, ObjectSpec] = MappingProxyType({})
_NO_REPORTS: Mapping[str, ReportSpec] = MappingProxyType({})


@dataclass(frozen=True)
class ValidationResult:
    """What validation built and what it found; install only when `problems` is empty."""

    manifest: PackageManifest | None
    objects: tuple[ObjectSpec, ...]  # every object whose document passed the schema
    problems: list[Problem]
    rules: tuple[RuleSpec, ...] = ()  # every rule whose document passed the schema
    roles: tuple[RoleSpec, ...] = ()  # every role whose document passed the schema
    flows: tuple[FlowSpec, ...] = ()  # every flow whose document passed the schema
    forms: tuple[FormSpec, ...] = ()  # every form whose document passed the schema
    reports: tuple[ReportSpec, ...] = ()  # every report whose document passed the schema
    dashboards: tuple[DashboardSpec, ...] = ()  # every dashboard whose document passed the schema

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_package(
    source: PackageSource,
    *,
    installed: Mapping[str, ObjectSpec] = _NO_OBJECTS,
    installed_reports: Mapping[str, ReportSpec] = _NO_REPORTS,
    installed_roles: Collection[str] = (),
) -> ValidationResult:
    """Validate a read package; lookups, rollups, rules, roles and flows may also name `installed` objects,
    dashboards `installed_reports` and `installed_roles`."""
    problems = list(source.problems)
    manifest = _manifest(source, problems)
    objects: list[tuple[str, ObjectSpec]] = []
    rules: list[tuple[str, RuleSpec]] = []
    roles: list[tuple[str, RoleSpec]] = []
    flows: list[tuple[str, FlowSpec]] = []
    forms: list[tuple[str, FormSpec]] = []
    reports: list[tuple[str, ReportSpec]] = []
    dashboards: list[tuple[str, DashboardSpec]] = []
    # The kinds validated today, each with the files that define its names.
    defined_in: dict[str, dict[str, str]] = {
        "object": {}, "rule": {}, "role": {}, "flow": {}, "form": {}, "report": {}, "dashboard": {}
    }  # fmt: skip
    for doc in source.documents:
        if doc.kind not in defined_in:
            problems += unsupported_problems(PackageSource(None, (doc,)))
            continue
        structural = structural_problems(doc.kind, doc.body, doc.file)
        problems += structural
        if isinstance(doc.body.get("name"), str):
            problems += _placement_problems(doc.kind, doc.body["name"], doc.file, defined_in[doc.kind])
        if structural:
            continue
        if doc.kind == "object":
            objects.append((doc.file, ObjectSpec.from_json(doc.body)))
        elif doc.kind == "rule":
            rules.append((doc.file, RuleSpec.from_json(doc.body)))
        elif doc.kind == "role":
            roles.append((doc.file, RoleSpec.from_json(doc.body)))
        elif doc.kind == "form":
            forms.append((doc.file, FormSpec.from_json(doc.body)))
        elif doc.kind == "report":
            reports.append((doc.file, ReportSpec.from_json(doc.body)))
        elif doc.kind == "dashboard":
            dashboards.append((doc.file, DashboardSpec.from_json(doc.body)))
        else:
            flows.append((doc.file, FlowSpec.from_json(doc.body)))

    known = {**installed, **{spec.name: spec for _, spec in objects}}
    broken = set(defined_in["object"]) - set(known)
    for file, spec in objects:
        problems += object_problems(spec, file, known, broken)
    for file, rule in rules:
        problems += rule_problems(rule, file, known, broken)
    for file, role in roles:
        problems += role_problems(role, file, known, broken)
    for file, flow in flows:
        problems += flow_problems(flow, file, known, broken)
    for file, form in forms:
        problems += form_problems(form, file, known, broken)
    for file, report in reports:
        problems += report_problems(report, file, known, broken)
    known_reports = {**installed_reports, **{report.name: report for _, report in reports}}
    broken_reports = set(defined_in["report"]) - {report.name for _, report in reports}
    known_roles = {*installed_roles, *(role.name for _, role in roles)}
    for file, dashboard in dashboards:
        problems += dashboard_problems(dashboard, file, known_reports, known_roles, broken_reports)
    problems += home_problems(dashboards)
    return ValidationResult(
        manifest,
        tuple(spec for _, spec in objects),
        _reading_order(problems),
        tuple(rule for _, rule in rules),
        tuple(role for _, role in roles),
        tuple(flow for _, flow in flows),
        tuple(form for _, form in forms),
        tuple(report for _, report in reports),
        tuple(dashboard for _, dashboard in dashboards),
    )


def _reading_order(problems: list[Problem]) -> list[Problem]:
    """By file, then as the file reads: /fields/2 before /fields/10."""

    def key(problem: Problem) -> tuple[str, list[tuple[int, int, str]]]:
        parts = problem.path.split("/")[1:]
        return problem.file, [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]

    return sorted(problems, key=key)


def _manifest(source: PackageSource, problems: list[Problem]) -> PackageManifest | None:
    if source.manifest is None:
        if not any(problem.file == MANIFEST_FILE for problem in problems):
            problems.append(Problem(MANIFEST_FILE, "", "missing: every package needs a package.json"))
        return None
    found = structural_problems("package", source.manifest, MANIFEST_FILE)
    if not found and source.manifest["name"] in source.manifest.get("depends", {}):
        where = pointer("depends", source.manifest["name"])
        found.append(Problem(MANIFEST_FILE, where, "a package cannot depend on itself"))
    problems += found
    return None if found else PackageManifest.from_json(source.manifest)


def _placement_problems(kind: str, name: str, file: str, defined_in: dict[str, str]) -> list[Problem]:
    """The file is named for its object (rule, role, flow), and no two files define the same one."""
    problems = []
    if PurePosixPath(file).stem != name:
        problems.append(Problem(file, "/name", f"{kind} {name!r} must be in a file named {name}.json"))
    if name in defined_in:
        problems.append(Problem(file, "/name", f"{kind} {name!r} is already defined in {defined_in[name]}"))
    else:
        defined_in[name] = file
    return problems


def validate_object(
    doc: Any, file: str, *, known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> ValidationResult:
    """Validate one object document against the schema and the objects it may refer to."""
    problems = structural_problems("object", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    spec = ObjectSpec.from_json(doc)
    known = {**known_objects, spec.name: spec}
    return ValidationResult(None, (spec,), object_problems(spec, file, known))


def validate_rule(
    doc: Any, file: str, *, known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> ValidationResult:
    """Validate one rule document against the schema and the objects it may refer to."""
    problems = structural_problems("rule", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    rule = RuleSpec.from_json(doc)
    return ValidationResult(None, (), rule_problems(rule, file, known_objects), (rule,))


def validate_role(
    doc: Any, file: str, *, known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> ValidationResult:
    """Validate one role document against the schema and the objects it grants access to."""
    problems = structural_problems("role", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    role = RoleSpec.from_json(doc)
    return ValidationResult(None, (), role_problems(role, file, known_objects), roles=(role,))


def validate_flow(
    doc: Any, file: str, *, known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> ValidationResult:
    """Validate one flow document against the schema, its own graph and the object it is bound to."""
    problems = structural_problems("flow", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    flow = FlowSpec.from_json(doc)
    return ValidationResult(None, (), flow_problems(flow, file, known_objects), flows=(flow,))


def validate_form(
    doc: Any, file: str, *, known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> ValidationResult:
    """Validate one form document against the schema and the object it lays out."""
    problems = structural_problems("form", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    form = FormSpec.from_json(doc)
    return ValidationResult(None, (), form_problems(form, file, known_objects), forms=(form,))


def validate_report(
    doc: Any,
    file: str,
    *,
    known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS,
    known_roles: Collection[str] | None = None,
) -> ValidationResult:
    """Validate one report document against the schema, the object it counts and the roles it names."""
    problems = structural_problems("report", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    report = ReportSpec.from_json(doc)
    found = report_problems(report, file, known_objects, roles=known_roles)
    return ValidationResult(None, (), found, reports=(report,))


def validate_dashboard(
    doc: Any,
    file: str,
    *,
    known_objects: Mapping[str, ObjectSpec] = _NO_OBJECTS,
    known_reports: Mapping[str, ReportSpec] | None = None,
    known_roles: Collection[str] = (),
) -> ValidationResult:
    """Validate one dashboard document against the schema and, when `known_reports` is given, the reports
    it runs and the roles it is home for (`known_objects` is taken as by every validator, and unused)."""
    problems = structural_problems("dashboard", doc, file)
    if problems:
        return ValidationResult(None, (), problems)
    dashboard = DashboardSpec.from_json(doc)
    found = [] if known_reports is None else dashboard_problems(dashboard, file, known_reports, known_roles)
    return ValidationResult(None, (), found, dashboards=(dashboard,))


def object_problems(
    obj: ObjectSpec, file: str, known: Mapping[str, ObjectSpec], broken: Iterable[str] = ()
) -> list[Problem]:
    """Semantic problems of a schema-valid object; `broken` names objects already reported as invalid."""
    checks = _ObjectChecks(obj, file, known, frozenset(broken))
    problems = [
        *checks.names(),
        *checks.views(),
        *checks.related_lists(),
        *checks.keys(),
        *checks.validation_rules(),
        *checks.pool(),
        *checks.convert(),
    ]
    for index, field in enumerate(obj.fields):
        problems += checks.field(index, field)
    return problems


Parts = tuple[str | int, ...]


class _ObjectChecks:
    """One object under check and the objects it may refer to; each method covers one concern."""

    def __init__(self, obj: ObjectSpec, file: str, known: Mapping[str, ObjectSpec], broken: frozenset[str]):
        self.obj = obj
        self.file = file
        self.known = known
        self.broken = broken
        self.fields = {spec.name: spec for spec in reversed(obj.fields)}  # the first definition wins

    def problem(self, message: str, *parts: str | int) -> Problem:
        return Problem(self.file, pointer(*parts), message)

    def names(self) -> Iterator[Problem]:
        reason = object_name_reserved(self.obj.name)
        if reason:
            yield self.problem(f"{reason}; choose another object name", "name")
        for index, field in enumerate(self.obj.fields):
            reason = field_name_reserved(field.name)
            if reason:
                yield self.problem(f"{reason}; choose another field name", "fields", index, "name")
        for index, first in repeats(field.name for field in self.obj.fields):
            message = f"field {self.obj.fields[index].name!r} is already defined at /fields/{first}"
            yield self.problem(message, "fields", index, "name")

    def refer(
        self, name: str, purpose: str, unsuitable: Iterable[str], *parts: str | int
    ) -> Iterator[Problem]:
        """The field `name` exists on this object and its type is not one of `unsuitable`."""
        field = self.fields.get(name)
        if field is None:
            yield self.problem(f"{purpose}: {no_field(self.obj, name)}", *parts)
        elif field.type in unsuitable:
            message = f"{purpose}: {name!r} is a {field.type} field, which cannot be used here"
            yield self.problem(message, *parts)

    def views(self) -> Iterator[Problem]:
        obj = self.obj
        if obj.title_field:
            unsuitable = {"boolean", "long_text"} | MULTI_VALUE_TYPES
            yield from self.refer(obj.title_field, "title field", unsuitable, "title_field")
        not_text = (BUILTIN_TYPES - TEXT_TYPES) | COMPUTED_TYPES
        for index, name in enumerate(obj.search_fields):
            yield from self.refer(name, "search field", not_text, "search_fields", index)
        kanban = obj.extra.get("kanban", {})
        if "group_by" in kanban:
            not_select = BUILTIN_TYPES - {"select"}
            yield from self.refer(kanban["group_by"], "kanban group", not_select, "kanban", "group_by")
        yield from self.view("kanban", "card_fields", "kanban card field")
        yield from self.view("list", "columns", "list column")
        yield from self.view("home", "fields", "home field")

    def view(self, section: str, shown: str, what: str) -> Iterator[Problem]:
        """A view's shown fields and sort keys name fields of the object; like every list, it may
        also show and sort by the system fields every record has (created_at, owner, …)."""
        view = self.obj.extra.get(section, {})
        for index, name in enumerate(view.get(shown, ())):
            if name not in SYSTEM_FIELDS:
                yield from self.refer(name, what, (), section, shown, index)
        for index, key in enumerate(view.get("sort", ())):
            name = key.removeprefix("-")
            if name not in SYSTEM_FIELDS:
                yield from self.refer(name, f"{section} sort", MULTI_VALUE_TYPES, section, "sort", index)

    def related_lists(self) -> Iterator[Problem]:
        """Each related list names an object whose `via` lookup points here, shown once, with
        columns among that object's fields (or the system fields every record has)."""
        lists = self.obj.extra.get("related_lists", ())
        for i, first in repeats(f"{item['object']}.{item['via']}" for item in lists):
            message = f"{lists[i]['object']}.{lists[i]['via']} is already listed at /related_lists/{first}"
            yield self.problem(message, "related_lists", i, "via")
        for i, item in enumerate(lists):
            at = ("related_lists", i)
            name, via = item["object"], item["via"]
            child = self.known.get(name)
            if child is None:
                missing = self.missing_object(name)
                if missing:
                    yield self.problem(f"related list shows {missing}", *at, "object")
                continue
            if not child.has_field(via):
                yield self.problem(f"related list: {no_field(child, via)}", *at, "via")
                continue
            lookup = child.field(via)
            if lookup.type != "lookup":
                yield self.problem(
                    f"related list: {name}.{via} is a {lookup.type} field, not a lookup", *at, "via"
                )
            elif lookup.param("target") != self.obj.name:
                message = (
                    f"related list: {name}.{via} looks up {lookup.param('target')!r}, not {self.obj.name!r}"
                )
                yield self.problem(message, *at, "via")
            for j, column in enumerate(item.get("columns", ())):
                if column not in SYSTEM_FIELDS and not child.has_field(column):
                    yield self.problem(f"related list column: {no_field(child, column)}", *at, "columns", j)

    def pool(self) -> Iterator[Problem]:
        """The pool's flag is a boolean field and its entry time a datetime field (named or by default)."""
        pool = self.obj.extra.get("pool")
        if pool is None:
            return
        for key, default, wanted in (
            ("flag", "in_pool", "boolean"),
            ("entered_at", "pool_entered_at", "datetime"),
        ):
            at = ("pool", key) if key in pool else ("pool",)
            yield from self.refer(pool.get(key, default), f"pool {key}", BUILTIN_TYPES - {wanted}, *at)
        for key, wanted in (("last_owner", "user"), ("return_reason", "text")):
            if key in pool:
                unsuitable = BUILTIN_TYPES - ({"text", "long_text"} if wanted == "text" else {wanted})
                yield from self.refer(pool[key], f"pool {key}", unsuitable, "pool", key)
        for key, needs in (("reclaim_cooldown_days", "last_owner"), ("reason_required", "return_reason")):
            if pool.get(key) and needs not in pool:
                yield self.problem(f"{key} needs {needs}: name the field that records it", "pool", key)

    def convert(self) -> Iterator[Problem]:
        """The converted status is an option of a select field; each target's link is a lookup to it,
        and the fields it maps to exist on the target object."""
        convert = self.obj.extra.get("convert")
        if convert is None:
            return
        status = convert["status"]
        yield from self.refer(
            status["field"], "convert status", BUILTIN_TYPES - {"select"}, "convert", "status"
        )
        field = self.fields.get(status["field"])
        if field is not None and field.type == "select":
            values = [option.get("value") for option in field.param("options", ())]
            if status["value"] not in values:
                message = f"convert status: {status['value']!r} is not an option of {status['field']!r}"
                yield self.problem(message, "convert", "status", "value")
        if "converted_at" in convert:
            unsuitable = BUILTIN_TYPES - {"datetime"}
            yield from self.refer(
                convert["converted_at"], "convert converted_at", unsuitable, "convert", "converted_at"
            )
        for i, first in repeats(target["object"] for target in convert["targets"]):
            message = f"{convert['targets'][i]['object']!r} is already a target at /convert/targets/{first}"
            yield self.problem(message, "convert", "targets", i, "object")
        for i, target in enumerate(convert["targets"]):
            at = ("convert", "targets", i)
            name = target["object"]
            link = self.fields.get(target["link"])
            yield from self.refer(target["link"], "convert link", BUILTIN_TYPES - {"lookup"}, *at, "link")
            if link is not None and link.type == "lookup" and link.param("target") != name:
                message = f"convert link {target['link']!r} looks up {link.param('target')!r}, not {name!r}"
                yield self.problem(message, *at, "link")
            other = self.known.get(name)
            if other is None:
                if name != self.obj.name and name not in self.broken:
                    yield self.problem(f"convert target: there is no object named {name!r}", *at, "object")
                continue
            names = {spec.name for spec in other.fields}
            for field_name in target.get("values", {}):
                if field_name not in names:
                    message = f"convert values: {name} has no field {field_name!r}"
                    yield self.problem(message, *at, "values", field_name)

    def keys(self) -> Iterator[Problem]:
        unindexable = COMPUTED_TYPES | MULTI_VALUE_TYPES | {"long_text"}
        for i, key in enumerate(self.obj.unique_keys):
            for j, name in enumerate(key):
                yield from self.refer(name, "unique key", unindexable, "unique_keys", i, j)
        rules = self.obj.duplicate_rules
        for i, first in repeats(rule["name"] for rule in rules):
            message = f"duplicate rule {rules[i]['name']!r} is already defined at /duplicate_rules/{first}"
            yield self.problem(message, "duplicate_rules", i, "name")
        for i, rule in enumerate(rules):
            for j, name in enumerate(rule["match"]):
                yield from self.refer(
                    name, "duplicate rule", COMPUTED_TYPES, "duplicate_rules", i, "match", j
                )
            for name in rule.get("normalize", {}):
                if name not in rule["match"]:
                    message = f"normalizes {name!r}, which the rule does not match on; add it to match"
                    yield self.problem(message, "duplicate_rules", i, "normalize", name)

    def validation_rules(self) -> Iterator[Problem]:
        rules = self.obj.validation_rules
        for i, first in repeats(rule.name for rule in rules):
            message = f"validation rule {rules[i].name!r} is already defined at /validation_rules/{first}"
            yield self.problem(message, "validation_rules", i, "name")
        for i, rule in enumerate(rules):
            for j, name in enumerate(rule.fields):
                yield from self.refer(name, "validation rule", (), "validation_rules", i, "fields", j)

    def field(self, index: int, field: FieldSpec) -> Iterator[Problem]:
        at: Parts = ("fields", index)
        if field.type == "lookup":
            yield from self.lookup_target(field, at)
        elif field.type == "rollup":
            yield from self.rollup_source(field, at)
        elif field.type in {"select", "multi_select"}:
            options = field.param("options", ())
            for i, first in repeats(option["value"] for option in options):
                message = f"option value {options[i]['value']!r} is already used by option {first}"
                yield self.problem(message, *at, "options", i, "value")
        elif field.type == "autonumber":
            counters = len(_COUNTER.findall(field.param("pattern")))
            if counters != 1:
                message = f"needs exactly one counter token such as {{0000}}, found {counters or 'none'}"
                yield self.problem(message, *at, "pattern")
        if field.type == "decimal" and field.param("scale", 6) > field.param("precision", 18):
            where = "scale" if "scale" in field.params else "precision"
            yield self.problem("scale (6 unless set) cannot exceed precision (18 unless set)", *at, where)
        low, high = field.param("min"), field.param("max")
        if field.type in NUMBER_TYPES and low is not None and high is not None and low > high:
            yield self.problem(f"max {high} is below min {low}", *at, "max")

    def missing_object(self, name: str) -> str | None:
        """Why `name` cannot be referred to, or None when it exists (or was already reported)."""
        return missing_object(name, self.known, self.broken)

    def lookup_target(self, field: FieldSpec, at: Parts) -> Iterator[Problem]:
        missing = self.missing_object(field.param("target"))
        if missing:
            yield self.problem(f"field {field.name!r} looks up {missing}", *at, "target")

    def rollup_source(self, field: FieldSpec, at: Parts) -> Iterator[Problem]:
        source = field.param("source")
        missing = self.missing_object(source["object"])
        if missing:
            yield self.problem(f"rollup {field.name!r} reads {missing}", *at, "source", "object")
        related = self.known.get(source["object"])
        if related is None:
            return
        yield from self.rollup_via(field, related, source["via"], (*at, "source", "via"))
        if "field" in source and source["function"] != "count":
            yield from self.rollup_field(
                related, source["field"], source["function"], (*at, "source", "field")
            )

    def rollup_via(self, field: FieldSpec, related: ObjectSpec, via: str, where: Parts) -> Iterator[Problem]:
        if not related.has_field(via):
            yield self.problem(no_field(related, via), *where)
            return
        lookup = related.field(via)
        if lookup.type != "lookup":
            yield self.problem(f"{related.name}.{via} is a {lookup.type} field, not a lookup", *where)
        elif lookup.param("target") != self.obj.name:
            message = (
                f"{related.name}.{via} looks up {lookup.param('target')!r}, not {self.obj.name!r},"
                f" so rollup {field.name!r} cannot follow it back here"
            )
            yield self.problem(message, *where)

    def rollup_field(self, related: ObjectSpec, name: str, function: str, where: Parts) -> Iterator[Problem]:
        if not related.has_field(name):
            yield self.problem(no_field(related, name), *where)
            return
        source_field = related.field(name)
        kind = _value_kind(source_field)
        allowed = {"number"} if function in {"sum", "avg"} else {"number", "date"}
        if kind is not None and kind not in allowed:
            what = "numbers" if function in {"sum", "avg"} else "numbers or dates"
            message = f"{function} needs {what}, but {related.name}.{name} is a {source_field.type} field"
            yield self.problem(message, *where)


def _value_kind(field: FieldSpec) -> str | None:
    """'number', 'date' or 'other' for built-in types; None when only the engine can tell."""
    if field.type == "rollup":
        # count, sum and avg give numbers; min and max give whatever they read.
        return "number" if field.param("source", {}).get("function") in {"count", "sum", "avg"} else None
    field_type = field.param("result") if field.type == "formula" else field.type
    if field_type in NUMBER_TYPES:
        return "number"
    if field_type in {"date", "datetime"}:
        return "date"
    return "other" if field_type in BUILTIN_TYPES else None


__all__ = [
    "ACTION_EXPRESSIONS",
    "INBOUND_NAMES",
    "ExpressionSite",
    "ValidationResult",
    "expressions_in",
    "flow_expressions_in",
    "form_expressions_in",
    "object_problems",
    "report_expressions_in",
    "rule_expressions_in",
    "validate_dashboard",
    "validate_flow",
    "validate_form",
    "validate_object",
    "validate_package",
    "validate_report",
    "validate_role",
    "validate_rule",
]


SUPPORTED_KINDS = ("object", "rule", "role", "flow", "form", "report", "dashboard")


def unsupported_problems(source: PackageSource) -> list[Problem]:
    """One problem per document of a kind Loom does not read yet (`data/`, `i18n/`): validate reports
    them and install refuses them, rather than leave them out unsaid."""
    return [
        Problem(doc.file, "", f"{FOLDER_OF_KIND.get(doc.kind, doc.kind)}/ documents are not supported yet")
        for doc in source.documents
        if doc.kind not in SUPPORTED_KINDS
    ]
