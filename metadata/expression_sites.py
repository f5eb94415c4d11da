"""Where the expressions of objects, rules and flows are: each with its JSON pointer and the object
whose fields its names refer to.

The metadata layer does not parse expressions; the engine checks every site listed here against
its function registry and reports problems at the site's pointer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from metadata.flows import FlowSpec
from metadata.forms import CONDITIONS, FormSpec
from metadata.problems import pointer
from metadata.reports import ReportSpec
from metadata.rules import ActionSpec, RuleSpec
from metadata.specs import ObjectSpec

_NO_OBJECTS: Mapping[str, ObjectSpec] = MappingProxyType({})

Parts = tuple[str | int, ...]
SiteRole = Literal[
    "default",
    "formula",
    "rollup_filter",
    "validation",
    "validation_when",
    "condition",
    "action",
    "related_filter",
    "pool",
    "home_filter",
    "submit_when",
    "branch",
    "form_condition",
    "report_filter",
    "report_measure",
]


@dataclass(frozen=True)
class ExpressionSite:
    """One expression in an object, rule or flow document, for the engine to check against its functions.

    The names an expression may use are the fields of `scope_object`, the system fields, and
    `extra_names` (an inbound rule's actions also read the call's `payload`).
    """

    path: str  # JSON pointer within the document, e.g. /fields/3/default or /actions/0/value
    text: str
    object: str  # the object whose document holds the expression, or the object a rule or flow is bound to
    scope_object: str  # the object whose fields the expression's names refer to
    role: SiteRole
    extra_names: frozenset[str] = frozenset()


def expressions_in(obj: ObjectSpec) -> list[ExpressionSite]:
    """Every expression in an object's fields and validation rules, with its pointer and scope object."""
    sites = []
    for index, field in enumerate(obj.fields):
        at = ("fields", index)
        if field.default is not None:
            path = pointer(*at, "default")
            sites.append(ExpressionSite(path, field.default, obj.name, obj.name, "default"))
        if field.type == "formula" and isinstance(field.param("expression"), str):
            text = field.param("expression")
            sites.append(ExpressionSite(pointer(*at, "expression"), text, obj.name, obj.name, "formula"))
        source = field.param("source")
        if field.type == "rollup" and isinstance(source, Mapping) and isinstance(source.get("filter"), str):
            path = pointer(*at, "source", "filter")
            sites.append(ExpressionSite(path, source["filter"], obj.name, source["object"], "rollup_filter"))
    for index, rule in enumerate(obj.validation_rules):
        at = ("validation_rules", index)
        sites.append(
            ExpressionSite(pointer(*at, "condition"), rule.condition, obj.name, obj.name, "validation")
        )
        if rule.when is not None:
            path = pointer(*at, "when")
            sites.append(ExpressionSite(path, rule.when, obj.name, obj.name, "validation_when"))
    pool = obj.extra.get("pool")
    if isinstance(pool, Mapping) and isinstance(pool.get("cap_filter"), str):
        sites.append(
            ExpressionSite(pointer("pool", "cap_filter"), pool["cap_filter"], obj.name, obj.name, "pool")
        )
    convert = obj.extra.get("convert")
    for index, target in enumerate(convert.get("targets", ()) if isinstance(convert, Mapping) else ()):
        for name, text in (target.get("values") or {}).items() if isinstance(target, Mapping) else ():
            if isinstance(text, str):
                path = pointer("convert", "targets", index, "values", name)
                sites.append(ExpressionSite(path, text, obj.name, obj.name, "convert_value"))
    home = obj.extra.get("home")
    if isinstance(home, Mapping) and isinstance(home.get("filter"), str):
        sites.append(
            ExpressionSite(pointer("home", "filter"), home["filter"], obj.name, obj.name, "home_filter")
        )
    return sites


# The settings of each built-in action that hold expressions over the triggering record: a text is
# one expression, a mapping (values, payload) one per key. A plugin action's settings are the engine's.
ACTION_EXPRESSIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "set_field": ("value",),
        "update_related": ("values",),
        "create_record": ("values",),
        "add_tag": ("tag",),
        "notify": ("to", "title", "body"),
        "send_email": ("to", "subject", "body"),
        "call_webhook": ("payload",),
    }
)
INBOUND_NAMES = frozenset({"payload"})


def rule_expressions_in(
    rule: RuleSpec, objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> list[ExpressionSite]:
    """Every expression of a rule, with its JSON pointer and the object its names refer to.

    The condition and the actions' settings read the triggering record, a record of the rule's
    object (an inbound rule's also read `payload`). The filters of update_related read the
    records it updates: `related.filter` those of `related.object`; `filter` next to `lookup`
    the record the lookup points at, whose object is found in `objects` (no site when the
    rule's object or the lookup is unknown: validation reports that).
    """
    extra = INBOUND_NAMES if rule.trigger.type == "inbound" else frozenset()
    sites = []
    if rule.condition is not None:
        sites.append(
            ExpressionSite("/condition", rule.condition, rule.object, rule.object, "condition", extra)
        )
    return sites + action_expressions_in(rule.object, rule.actions, ("actions",), objects, extra)


def flow_expressions_in(
    flow: FlowSpec, objects: Mapping[str, ObjectSpec] = _NO_OBJECTS
) -> list[ExpressionSite]:
    """Every expression of a flow, in document order: `submit_when`, each condition branch's `when`,
    and the settings of the actions of action and end nodes and of `on_reject`.

    All of them read the record going through the flow, a record of the flow's object; the
    filters of update_related read the records it updates, as in a rule.
    """
    obj = flow.object
    sites = []
    if flow.submit_when is not None:
        sites.append(ExpressionSite("/submit_when", flow.submit_when, obj, obj, "submit_when"))
    for name, node in flow.nodes.items():
        at = ("nodes", name)
        if node.type == "condition":
            for index, branch in enumerate(node.branches):
                path = pointer(*at, "branches", index, "when")
                sites.append(ExpressionSite(path, branch.when, obj, obj, "branch"))
        sites += action_expressions_in(obj, node.actions, (*at, "actions"), objects)
    return sites + action_expressions_in(obj, flow.reject_actions, ("on_reject", "actions"), objects)


def form_expressions_in(form: FormSpec) -> list[ExpressionSite]:
    """Every condition of a form, sections first then their fields, each over the values being typed."""
    obj = form.object
    sites = []
    for i, section in enumerate(form.sections):
        if section.visible_if is not None:
            path = pointer("sections", i, "visible_if")
            sites.append(ExpressionSite(path, section.visible_if, obj, obj, "form_condition"))
        for j, entry in enumerate(section.fields):
            for key in CONDITIONS:
                text = getattr(entry, key)
                if text is not None:
                    path = pointer("sections", i, "fields", j, key)
                    sites.append(ExpressionSite(path, text, obj, obj, "form_condition"))
    return sites


def report_expressions_in(report: ReportSpec) -> list[ExpressionSite]:
    """A report's filter and its measures' filters and expressions, over the records of its object."""
    sites = []
    if report.filter is not None:
        sites.append(ExpressionSite("/filter", report.filter, report.object, report.object, "report_filter"))
    for index, measure in enumerate(report.measures):
        if measure.filter is not None:
            at = pointer("measures", index, "filter")
            sites.append(ExpressionSite(at, measure.filter, report.object, report.object, "report_filter"))
        if measure.expression is not None:
            at = pointer("measures", index, "expression")
            sites.append(
                ExpressionSite(at, measure.expression, report.object, report.object, "report_measure")
            )
    return sites


def action_expressions_in(
    object_name: str,
    actions: Sequence[ActionSpec],
    at: Parts,
    objects: Mapping[str, ObjectSpec] = _NO_OBJECTS,
    extra: frozenset[str] = frozenset(),
) -> list[ExpressionSite]:
    """The expressions of a list of rule actions found at `at`, run on records of `object_name`."""
    sites = []
    for index, action in enumerate(actions):
        where = (*at, index)
        for key in ACTION_EXPRESSIONS.get(action.type, ()):
            value = action.param(key)
            if isinstance(value, str):
                sites.append(
                    ExpressionSite(pointer(*where, key), value, object_name, object_name, "action", extra)
                )
            elif isinstance(value, Mapping):
                sites += [
                    ExpressionSite(
                        pointer(*where, key, name), text, object_name, object_name, "action", extra
                    )
                    for name, text in value.items()
                ]
        if action.type == "update_related":
            sites += _update_filters(object_name, action, where, objects)
    return sites


def _update_filters(
    object_name: str, action: ActionSpec, where: Parts, objects: Mapping[str, ObjectSpec]
) -> list[ExpressionSite]:
    related = action.param("related")
    if isinstance(related, Mapping):
        if not isinstance(related.get("filter"), str):
            return []
        path = pointer(*where, "related", "filter")
        return [ExpressionSite(path, related["filter"], object_name, related["object"], "related_filter")]
    obj, lookup, text = objects.get(object_name), action.param("lookup"), action.param("filter")
    if obj is None or not isinstance(text, str) or not obj.has_field(lookup):
        return []
    target = obj.field(lookup).param("target")  # None when the field is not a lookup
    if target is None:
        return []
    return [ExpressionSite(pointer(*where, "filter"), text, object_name, target, "related_filter")]
