"""What a page needs to know about objects for the signed-in actor: which they may open, what they
may do with them, and what the navigation lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import abort, g, request
from flask_babel import gettext as _

from engine.base.actors import Actor
from engine.base.errors import UnknownObject
from engine.identity.permissions import ObjectAccess, PermissionDenied, access_for
from engine.loom import Loom
from engine.schema.registry import ObjectModel
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, said


@dataclass(frozen=True)
class ObjectPage:
    """One object as the actor sees it: its model, their access, and its labels in the page's language."""

    model: ObjectModel
    access: ObjectAccess

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def label(self) -> str:
        return label_text(self.model.spec.label, self.name)

    @property
    def plural(self) -> str:
        return label_text(self.model.spec.extra.get("plural_label"), self.label)

    @property
    def color(self) -> str:
        """The object's palette colour (metadata `color`), gray when it has none."""
        return object_color(self.model)

    def visible(self, field: str) -> bool:
        return self.access.visible(field)

    def editable(self, field: str) -> bool:
        spec = self.model.fields.get(field)
        return (
            spec is not None
            and self.model.types[field].stored
            and spec.type != "autonumber"
            and not spec.readonly
            and field not in self.access.read_only
            and self.access.visible(field)
        )


def object_page(object_name: str, operation: str = "read") -> ObjectPage:
    """The object for this request, or 404 (unknown) / 403 (the actor may not do `operation`)."""
    loom = current_loom()
    try:
        model = loom.registry.object(object_name)
    except UnknownObject:
        abort(404)
    access = access_for(loom.registry, current_actor(), object_name)
    access.require(operation)
    return ObjectPage(model, access)


def may(actor: Actor, loom: Loom, object_name: str, operation: str) -> bool:
    try:
        return access_for(loom.registry, actor, object_name).allows(operation)
    except UnknownObject:
        return False


def may_change_record(object_name: str, record_id: int, operation: str = "update") -> bool:
    """Whether the actor's scope for `operation` (update, delete) covers this very record."""
    try:
        page = (
            current_loom()
            .queries(current_actor())
            .find(object_name, filter=f"id == {int(record_id)}", operation=operation, limit=1)
        )
    except PermissionDenied:
        return False
    return bool(page.records)


def nav_objects() -> list[dict[str, Any]]:
    """The objects the actor may read, in navigation order."""
    if "loom_nav" in g:
        return g.loom_nav
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    names = sorted(registry.objects, key=lambda name: _nav_position(registry.object(name), name))
    g.loom_nav = [
        {
            "name": name,
            "label": label_text(registry.object(name).spec.extra.get("plural_label"))
            or label_text(registry.object(name).spec.label, name),
            "icon": registry.object(name).spec.extra.get("icon", ""),
            "color": object_color(registry.object(name)),
            "group": label_text(registry.object(name).spec.extra.get("nav_group")),
        }
        for name in names
        if access_for(registry, actor, name).allows("read")
    ]
    return g.loom_nav


def nav_sections() -> list[dict[str, Any]]:
    """The menu's sections: objects grouped by their `nav_group`, each section where its first
    object sits; objects without a group share one section, named Records when it is the only one."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in nav_objects():
        sections.setdefault(item["group"], []).append(item)
    only = len(sections) == 1
    return [
        {"label": group or (_("Records") if only else _("Other")), "items": items}
        for group, items in sections.items()
    ]


def object_color(model: ObjectModel) -> str:
    color = model.spec.extra.get("color")
    return color if isinstance(color, str) and color else "gray"


def _nav_position(model: ObjectModel, name: str) -> tuple[float, str]:
    # The object's nav_order (metadata) first; objects without one follow, by name.
    order = model.spec.extra.get("nav_order")
    return (order if isinstance(order, int) else float("inf"), name)


def safe_next(default: str) -> str:
    """The `next` page to return to, only when it is a path on this site."""
    wanted = request.values.get("next", "")
    parts = urlsplit(wanted)
    if wanted.startswith("/") and not wanted.startswith("//") and not parts.scheme and not parts.netloc:
        return wanted
    return default


def flash_errors(errors: dict[str, list[str]], page: ObjectPage) -> list[str]:
    """Record errors as sentences naming each field by its label (hidden fields are never named)."""
    lines = []
    for field, messages in errors.items():
        name = label_text(page.model.fields[field].label, field) if field in page.model.fields else ""
        lines += [f"{name}: {said(message)}" if name else said(message) for message in messages]
    return lines or [_("The record could not be saved")]
