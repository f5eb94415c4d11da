"""The form designer: an object's form laid out in sections and columns, with its conditions.

The page edits the form document in the browser; saving validates, plans and applies it through
the engine's metadata services, as a package install would. Conditions are checked as they are
typed, and the preview asks the engine which fields the draft shows, requires and locks.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, render_template, request
from flask_babel import gettext as _

from builder_ui.blueprint import blueprint
from builder_ui.conditions import condition_texts, field_catalogue
from engine.base.errors import InvalidMetadata
from engine.records.forms import evaluate_form
from engine.schema.changes import apply_objects
from engine.schema.registry import Registry
from metadata.problems import Problem
from metadata.validation import validate_form
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, said_problem


def problems_by_path(problems: list[Problem]) -> dict[str, list[str]]:
    """Each problem's message under its JSON path, as the page shows them next to the control."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.path or "/", []).append(said_problem(problem.message))
    return found


def known_object(registry: Registry, name: str) -> None:
    if name not in registry.objects:
        abort(404)


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
        fields=field_catalogue(registry, object_name),
        texts=_texts(),
    )


def _texts() -> dict[str, str]:
    """The words the designer's script shows, in the page's language."""
    return {
        **condition_texts(),
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
        "saved": _("Form saved"),
        "not_saved": _("The form was not saved"),
        "new_section": _("New section"),
        "empty_section": _("Drop fields here"),
        "computed": _("Filled in on saving"),
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
