"""The head every object-bound document (rule, flow, form, report) starts with: its name, its
object, and a label and description in each language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from metadata.frozen import Label, freeze, thaw


class Headed(Protocol):
    name: str
    object: str
    label: Label
    description: Label


def heading_from_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The head's constructor arguments, read from a document."""
    return {
        "name": doc["name"],
        "object": doc["object"],
        "label": freeze(doc.get("label", {})),
        "description": freeze(doc.get("description", {})),
    }


def heading_to_json(spec: Headed) -> dict[str, Any]:
    """The head as a document writes it: label and description only when given."""
    doc: dict[str, Any] = {"name": spec.name, "object": spec.object}
    if spec.label:
        doc["label"] = thaw(spec.label)
    if spec.description:
        doc["description"] = thaw(spec.description)
    return doc
