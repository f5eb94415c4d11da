"""The form designer: an object's form laid out in sections and columns, with its conditions.

The page edits the form document in the browser; saving validates, plans and applies it through
the engine's metadata services, as a package install would. Conditions are checked as they are
typed, and the preview asks the engine which fields the draft shows, requires and locks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, jsonify, render_template, request
from flask_babel import gettext as _

from builder_ui.blueprint import blueprint
from engine.base.errors import InvalidMetadata
from engine.expressions import check
from engine.records.forms import evaluate_form
from engine.schema.changes import apply_objects
from engine.schema.checks import field_kinds
from engine.schema.registry import Registry
from metadata.problems import Problem
from metadata.validation import validate_form
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, said_problem

MAX_CONDITION_LENGTH = 2000


def problems_by_path(problems: list[Problem]) -> dict[str, list[str]]:
    """Each problem's message under its JSON path, as the page shows them next to the control."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.path or "/", []).append(said_problem(problem.message))
    return found


def known_object(registry: Registry, name: str) -> None:
    if name not in registry.objects:
        abort(404)


def _field_catalogue(registry: Registry, object_name: str) -> list[dict[str, Any]]:
    """What the page needs to know of each field: its label, type, kind of value and options."""
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


@blueprint.get("/forms/")
def forms_index() -> str:
    registry = current_loom().registry
    objects = [
        {"name": name, "label": label_text(registry.object(name).spec.label, name)}
        for name in sorted(registry.objects)
    ]
    return render_template("builder/forms/index.html", objects=objects)


@blueprint.get("/forms/<object_name>")
def form_designer(object_name: str) -> str:
    registry = current_loom().registry
    known_object(registry, object_name)
    form = registry.form_for(object_name)
    return render_template(
        "builder/forms/designer.html",
        object_name=object_name,
        object_label=label_text(registry.object(object_name).spec.label, object_name),
        document=form.to_json(),
        fields=_field_catalogue(registry, object_name),
        texts=_texts(),
    )


def _texts() -> dict[str, str]:
    """The words the designer's script shows, in the page's language."""
    return {
        "section": _("Section"),
        "title_zh": _("Title (Chinese)"),
        "title_en": _("Title (English)"),
        "columns": _("Columns"),
        "move_up": _("Move %(name)s up"),
        "move_down": _("Move %(name)s down"),
        "move_to": _("Move %(name)s to"),
        "not_on_form": _("Not on the form"),
        "remove_section": _("Remove the section"),
        "section_up": _("Move the section up"),
        "section_down": _("Move the section down"),
        "conditions": _("Conditions"),
        "visible_if": _("Shown when"),
        "required_if": _("Required when"),
        "readonly_if": _("Read-only when"),
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
        "saved": _("Form saved"),
        "not_saved": _("The form was not saved"),
        "new_section": _("New section"),
        "empty_section": _("Drop fields here"),
        "computed": _("Filled in on saving"),
        "choose": _("— choose —"),
        "failed": _("The server could not be reached"),
    }


@blueprint.post("/forms/<object_name>")
def form_save(object_name: str) -> tuple[Response, int] | Response:
    """Validate, plan and apply the posted form document: {"document": {...}}; 422 with paths when refused."""
    loom, actor = current_loom(), current_actor()
    known_object(loom.registry, object_name)
    document = _posted_document(object_name)
    if isinstance(document, tuple):
        return document
    file = f"forms/{document['name']}.json"
    result = validate_form(document, file, known_objects=loom.registry.specs())
    if result.problems:
        return _refused(result.problems)
    [form] = result.forms
    try:
        plan = apply_objects(loom, [], forms=[form], actor=actor, files={f"form:{form.name}": file})
    except InvalidMetadata as error:
        return _refused(error.problems)
    return jsonify({"saved": True, "changes": plan.lines(), "message": _("Form saved")})


@blueprint.post("/forms/<object_name>/check")
def condition_check(object_name: str) -> Response:
    """Whether a condition reads as one over this object's fields: {"text"} → {"ok", "problems"}."""
    loom = current_loom()
    registry = loom.registry
    known_object(registry, object_name)
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return jsonify({"ok": False, "problems": [_("Write a condition")]})
    if len(text) > MAX_CONDITION_LENGTH:
        return jsonify({"ok": False, "problems": [_("The condition is too long")]})
    kinds = field_kinds(registry.object(object_name).spec, registry.specs())
    problems = check(text, kinds, loom.functions, expect="condition")
    return jsonify({"ok": not problems, "problems": [said_problem(p) for p in problems]})


@blueprint.post("/forms/<object_name>/preview")
def form_preview(object_name: str) -> tuple[Response, int] | Response:
    """The draft form's state for sample values: which sections and fields show, are required, locked."""
    loom, actor = current_loom(), current_actor()
    known_object(loom.registry, object_name)
    document = _posted_document(object_name)
    if isinstance(document, tuple):
        return document
    body = request.get_json(silent=True) or {}
    values = body.get("values") if isinstance(body.get("values"), dict) else {}
    # A draft is previewed while it is being made: an empty section or title is not yet a mistake.
    sections = document.get("sections") if isinstance(document.get("sections"), list) else []
    kept = [i for i, section in enumerate(sections) if isinstance(section, dict) and section.get("fields")]
    document["sections"] = [{"label": {"zh_CN": "-"}, **sections[i]} for i in kept]
    for section in document["sections"]:
        section["label"] = section["label"] or {"zh_CN": "-"}
    result = validate_form(document, f"forms/{document['name']}.json", known_objects=loom.registry.specs())
    if result.problems:
        return jsonify({"problems": problems_by_path(result.problems)})
    [form] = result.forms
    model = loom.registry.object(object_name)
    typed = {k: v for k, v in values.items() if k in model.fields and isinstance(v, str | bool | None)}
    state = evaluate_form(loom, form, typed, actor, source="form")
    shown = dict(zip(kept, state.sections, strict=True))
    return jsonify(
        {
            "sections": [shown.get(i, True) for i in range(len(sections))],
            "fields": {
                name: {"visible": s.visible, "required": s.required, "readonly": s.readonly}
                for name, s in state.fields.items()
            },
        }
    )


def _posted_document(object_name: str) -> dict[str, Any] | tuple[Response, int]:
    body = request.get_json(silent=True)
    document = body.get("document") if isinstance(body, dict) else None
    if not isinstance(document, dict):
        return jsonify({"error": _("Send the form document as JSON"), "fields": {}}), 400
    document = dict(document)
    if document.get("object") != object_name:
        problem = Problem("", "/object", _("The form must be for %(name)s", name=object_name))
        return _refused([problem])
    # The designer edits the object's own form, whatever name the browser sends.
    document["name"] = current_loom().registry.form_for(object_name).name
    return document


def _refused(problems: list[Problem]) -> tuple[Response, int]:
    return jsonify({"error": _("The form was not saved"), "fields": problems_by_path(problems)}), 422
