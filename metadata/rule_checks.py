"""What a schema cannot say about an automation rule: the objects and fields it names exist and fit.

A rule is checked against the objects of its package and those already installed. Action types
the core does not know (a plugin's) pass here: the engine checks them against its action
registry, as it checks every expression against its functions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from metadata.problems import Problem, pointer
from metadata.references import (
    COMPUTED_TYPES,
    DATE_TYPES,
    GENERATED_TYPES,
    MULTI_VALUE_TYPES,
    did_you_mean,
    missing_object,
    no_field,
)
from metadata.rules import ActionSpec, RuleSpec, TriggerSpec
from metadata.specs import FieldSpec, ObjectSpec

BEFORE_SAVE_TRIGGERS = frozenset({"on_create", "on_update", "on_save"})
OWNER = "owner"  # the system field a new record's values may set and an update may change

Parts = tuple[str | int, ...]
Complaint = Callable[[FieldSpec], str | None]  # why a field does not fit, or None when it does


def rule_problems(
    rule: RuleSpec, file: str, known: Mapping[str, ObjectSpec], broken: Iterable[str] = ()
) -> list[Problem]:
    """Semantic problems of a schema-valid rule; `broken` names objects already reported as invalid."""
    checks = _RuleChecks(rule, file, known, frozenset(broken))
    problems = [*checks.watched_object(), *checks.trigger()]
    return problems + _actions(
        checks, ((action, ("actions", index)) for index, action in enumerate(rule.actions))
    )


def action_problems(
    object_name: str,
    actions: Iterable[tuple[ActionSpec, Parts]],
    file: str,
    known: Mapping[str, ObjectSpec],
    broken: Iterable[str] = (),
) -> list[Problem]:
    """Problems of rule actions that run outside a rule, on records of `object_name`, each at its place.

    A flow's actions run as an approval moves on, like those of an on_approved rule, and are
    checked the same way; the caller has already reported an object that is missing.
    """
    bound = RuleSpec(name="", object=object_name, trigger=TriggerSpec("on_approved"), actions=())
    return _actions(_RuleChecks(bound, file, known, frozenset(broken)), actions)


def _actions(checks: _RuleChecks, actions: Iterable[tuple[ActionSpec, Parts]]) -> list[Problem]:
    problems: list[Problem] = []
    for action, at in actions:
        check = _ACTION_CHECKS.get(action.type)
        if check is not None:
            problems += check(checks, action, at)
    return problems


def _settable(field: FieldSpec) -> str | None:
    if field.type in GENERATED_TYPES:
        return f"{field.name!r} is a {field.type} field; Loom gives its value, so a rule cannot set it"
    return None


def _changes_in_a_save(field: FieldSpec) -> str | None:
    if field.type in COMPUTED_TYPES:
        return (
            f"{field.name!r} is a {field.type} field, computed when read, so no save changes it;"
            " list the fields it is computed from"
        )
    return None


def _single_value(field: FieldSpec) -> str | None:
    if field.type in MULTI_VALUE_TYPES:
        return f"needs a field holding one value; {field.name!r} is a {field.type} field"
    return None


def _one_of(types: Collection[str], wanted: str) -> Complaint:
    def complaint(field: FieldSpec) -> str | None:
        if field.type in types:
            return None
        return f"needs {wanted} field; {field.name!r} is a {field.type} field"

    return complaint


class _RuleChecks:
    """One rule under check and the objects it may refer to; each method covers one concern.

    Fields of the rule's own object are not checked when that object is missing or broken:
    that is reported once, at /object.
    """

    def __init__(self, rule: RuleSpec, file: str, known: Mapping[str, ObjectSpec], broken: frozenset[str]):
        self.rule = rule
        self.file = file
        self.known = known
        self.broken = broken
        self.obj = known.get(rule.object)

    def problem(self, message: str, *parts: str | int) -> Problem:
        return Problem(self.file, pointer(*parts), message)

    def refer(
        self, obj: ObjectSpec | None, name: str, purpose: str, complaint: Complaint | None, *parts: str | int
    ) -> Iterator[Problem]:
        """The field `name` exists on `obj` (when `obj` is known) and `complaint` has nothing to say."""
        field = _field(obj, name)
        if obj is not None and field is None:
            yield self.problem(f"{purpose}: {no_field(obj, name)}", *parts)
        elif field is not None and complaint is not None:
            message = complaint(field)
            if message:
                yield self.problem(f"{purpose}: {message}", *parts)

    def other_object(self, name: str, purpose: str, *parts: str | int) -> Iterator[Problem]:
        missing = missing_object(name, self.known, self.broken)
        if missing:
            yield self.problem(f"{purpose} {missing}", *parts)

    def watched_object(self) -> Iterator[Problem]:
        yield from self.other_object(self.rule.object, f"rule {self.rule.name!r} watches", "object")

    def trigger(self) -> Iterator[Problem]:
        trigger = self.rule.trigger
        for index, name in enumerate(trigger.fields):
            if name != OWNER:
                at = ("trigger", "fields", index)
                yield from self.refer(self.obj, name, "trigger", _changes_in_a_save, *at)
        if trigger.type == "date_offset" and trigger.field is not None:
            dates = _one_of(DATE_TYPES, "a date or datetime")
            yield from self.refer(self.obj, trigger.field, "date_offset", dates, "trigger", "field")

    def values(self, obj: ObjectSpec | None, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        """The keys of the action's values are fields of `obj` a rule may set; a new record's also owner."""
        for name in action.param("values"):
            if not (action.type == "create_record" and name == OWNER):
                yield from self.refer(obj, name, action.type, _settable, *at, "values", name)

    def set_field(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        yield from self.refer(self.obj, action.param("field"), "set_field", _settable, *at, "field")

    def update_related(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        if "lookup" in action.params:
            name = action.param("lookup")
            lookups = _one_of({"lookup"}, "a lookup")
            yield from self.refer(self.obj, name, "update_related", lookups, *at, "lookup")
            lookup = _field(self.obj, name)
            if lookup is not None and lookup.type == "lookup":
                # A target that does not exist is reported in the object that declares the lookup.
                yield from self.values(self.known.get(lookup.param("target")), action, at)
            return
        if "filter" in action.params:
            message = "with related, the filter goes inside related, as related.filter"
            yield self.problem(f"update_related: {message}", *at, "filter")
        related = action.param("related")
        child = self.known.get(related["object"])
        yield from self.other_object(related["object"], "update_related reads", *at, "related", "object")
        if child is not None:
            yield from self.lookup_back(child, related["via"], (*at, "related", "via"))
            yield from self.values(child, action, at)

    def lookup_back(self, child: ObjectSpec, via: str, at: Parts) -> Iterator[Problem]:
        """`via` is a lookup on `child` pointing at the rule's object."""
        lookup = _field(child, via)
        if lookup is None:
            yield self.problem(no_field(child, via), *at)
        elif lookup.type != "lookup":
            yield self.problem(f"{child.name}.{via} is a {lookup.type} field, not a lookup", *at)
        elif lookup.param("target") != self.rule.object:
            message = (
                f"{child.name}.{via} looks up {lookup.param('target')!r}, not {self.rule.object!r},"
                f" so it does not link {child.name} records to the {self.rule.object} that fired the rule"
            )
            yield self.problem(message, *at)

    def create_record(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        name, values = action.param("object"), action.param("values")
        yield from self.other_object(name, "create_record makes a record of", *at, "object")
        target = self.known.get(name)
        if target is None:
            return
        yield from self.values(target, action, at)
        for field in target.fields:
            if field.required and field.default is None and field.name not in values:
                message = f"{name}.{field.name} is required and has no default: give it a value"
                yield self.problem(message, *at, "values")

    def assign_owner(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        if action.param("strategy") != "by_field":
            return
        name = action.param("field")
        yield from self.refer(self.obj, name, "by_field", _single_value, *at, "field")
        field = _field(self.obj, name)
        if field is not None and field.type == "select":
            options = [option["value"] for option in field.param("options", ())]
            for value in action.param("map"):
                if value not in options:
                    hint = did_you_mean(value, options)
                    message = f"{value!r} is not an option of {self.rule.object}.{name}{hint}"
                    yield self.problem(message, *at, "map", value)

    def add_tag(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        tags = _one_of({"tags"}, "a tags")
        yield from self.refer(self.obj, action.param("field"), "add_tag", tags, *at, "field")

    def move_to_pool(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        # The object's own pool settings name its fields first; the action may name others.
        pool = self.obj.extra.get("pool", {}) if self.obj is not None else {}
        settings = (
            ("flag", pool.get("flag", "in_pool"), "boolean"),
            ("entered_at", pool.get("entered_at", "pool_entered_at"), "datetime"),
        )
        for key, default, wanted in settings:
            kind = _one_of({wanted}, f"a {wanted}")
            if key in action.params:
                yield from self.refer(self.obj, action.param(key), "move_to_pool", kind, *at, key)
            elif self.obj is not None and _field(self.obj, default) is None:
                message = (
                    f"move_to_pool uses the {wanted} field {default!r} unless {key!r} names another one,"
                    f" but object {self.rule.object!r} has no field {default!r}"
                )
                yield self.problem(message, *at)
            else:
                yield from self.refer(self.obj, default, "move_to_pool", kind, *at)

    def reject(self, action: ActionSpec, at: Parts) -> Iterator[Problem]:
        trigger = self.rule.trigger
        if trigger.type not in BEFORE_SAVE_TRIGGERS or trigger.phase != "before_save":
            message = (
                "reject refuses a save, so it belongs in a before_save rule: an on_create, on_update"
                ' or on_save trigger with "phase": "before_save"'
            )
            yield self.problem(message, *at, "type")
        for index, name in enumerate(action.param("fields", ())):
            yield from self.refer(self.obj, name, "reject", None, *at, "fields", index)


def _field(obj: ObjectSpec | None, name: str) -> FieldSpec | None:
    """The first field called `name` (a repeated field is reported in the object), or None."""
    if obj is None:
        return None
    return next((field for field in obj.fields if field.name == name), None)


# Checks of the built-in actions' settings; notify, send_email, call_webhook and start_flow
# name no fields. A plugin action's settings are checked by the engine.
_ACTION_CHECKS: Mapping[str, Callable[[_RuleChecks, ActionSpec, Parts], Iterator[Problem]]] = {
    "set_field": _RuleChecks.set_field,
    "update_related": _RuleChecks.update_related,
    "create_record": _RuleChecks.create_record,
    "assign_owner": _RuleChecks.assign_owner,
    "add_tag": _RuleChecks.add_tag,
    "move_to_pool": _RuleChecks.move_to_pool,
    "reject": _RuleChecks.reject,
}
