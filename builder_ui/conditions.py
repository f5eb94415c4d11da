"""The condition builder every designer shares: the object's fields as it offers them, its words,
and the live check of a condition over an object's fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, jsonify, request
from flask_babel import gettext as _

from builder_ui.blueprint import blueprint
from engine.expressions import check
from engine.schema.checks import field_kinds
from engine.schema.registry import Registry
from runtime.web.auth import current_loom
from runtime.web.i18n import label_text, said_problem

MAX_CONDITION_LENGTH = 2000


def field_catalogue(registry: Registry, object_name: str) -> list[dict[str, Any]]:
    """What the builder needs to know of each field: its label, type, kind of value and options."""
    model = registry.object(object_name)
    kinds = field_kinds(model.spec, registry.specs())
    fields = []
    for spec in model.spec.fields:
        options = spec.param("options") or []
        fields.append(
            {
                "name": spec.name,
                "label": label_text(spec.label, spec.name),
                "type": spec.type,
                "kind": kinds.get(spec.name, "any"),
                "options": [
                    {"value": o.get("value"), "label": label_text(o.get("label"), str(o.get("value")))}
                    for o in options
                    if isinstance(o, Mapping)
                ],
            }
        )
    return fields


def condition_texts() -> dict[str, str]:
    """The words the condition builder shows, in the page's language."""
    return {
        "builder": _("Condition builder"),
        "raw": _("Expression"),
        "and": _("and"),
        "or": _("or"),
        "all_of": _("All of these"),
        "any_of": _("Any of these"),
        "groups_joined": _("Groups joined by"),
        "add_row": _("Add a condition"),
        "add_group": _("Add a group"),
        "remove_row": _("Remove this condition"),
        "remove_group": _("Remove this group"),
        "clear": _("No condition"),
        "field": _("Field"),
        "operator": _("Operator"),
        "value": _("Value"),
        "op_eq": _("equals"),
        "op_ne": _("does not equal"),
        "op_gt": _("greater than"),
        "op_ge": _("at least"),
        "op_lt": _("less than"),
        "op_le": _("at most"),
        "op_empty": _("is empty"),
        "op_filled": _("is filled in"),
        "yes": _("Yes"),
        "no": _("No"),
        "valid": _("The condition is valid"),
        "checking": _("Checking…"),
        "choose": _("— choose —"),
        "failed": _("The server could not be reached"),
    }


@blueprint.post("/conditions/<object_name>/check")
@blueprint.post("/forms/<object_name>/check")
def condition_check(object_name: str) -> Response:
    """Whether a condition reads as one over this object's fields: {"text"} → {"ok", "problems"}."""
    registry = current_loom().registry
    if object_name not in registry.objects:
        abort(404)
    return checked_condition(field_kinds(registry.object(object_name).spec, registry.specs()))


def checked_condition(kinds: dict[str, str]) -> Response:
    """The posted condition ({"text"}) checked over these fields: {"ok", "problems"}."""
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return jsonify({"ok": False, "problems": [_("Write a condition")]})
    if len(text) > MAX_CONDITION_LENGTH:
        return jsonify({"ok": False, "problems": [_("The condition is too long")]})
    problems = check(text, kinds, current_loom().functions, expect="condition")
    return jsonify({"ok": not problems, "problems": [said_problem(p) for p in problems]})
