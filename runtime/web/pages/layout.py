"""An object's form layout as a page lays it out: sections of the fields the actor may see, in the
form's order, with the fields a condition hides left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.records.forms import evaluate_form
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text
from runtime.web.pages.objects import ObjectPage


def form_sections(
    page: ObjectPage, record: Mapping[str, Any], hidden_by_form: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """[{label, columns, fields}] for the object's form; a section left with no fields is dropped."""
    form = current_loom().registry.form_for(page.name)
    sections = []
    for index, section in enumerate(form.sections):
        names = [
            entry.field
            for entry in section.fields
            if entry.field in page.model.fields
            and page.visible(entry.field)
            and entry.field not in hidden_by_form
        ]
        if names:
            sections.append(
                {
                    "index": index,
                    "label": label_text(section.label, ""),
                    "columns": max(1, min(section.columns, 3)),
                    "fields": names,
                }
            )
    return sections


def hidden_by_form(page: ObjectPage, record: Mapping[str, Any]) -> frozenset[str]:
    """The fields the form's conditions hide for these values (a section hidden hides its fields)."""
    loom = current_loom()
    values = {name: value for name, value in record.items() if name in page.model.fields}
    state = evaluate_form(loom, loom.registry.form_for(page.name), values, current_actor())
    return frozenset(name for name, field in state.fields.items() if not field.visible)
