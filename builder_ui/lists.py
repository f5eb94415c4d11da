"""An object's list, kanban, detail-page and menu settings: columns, default sort, page size, board
field and card fields, related lists, menu place, section and colour.

They live in the object's own document (`list`, `kanban`, `related_lists`, `nav_order`,
`nav_group`, `color`); saving validates, plans and applies the changed document through the
engine's metadata services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from builder_ui.forms import known_object, problems_by_path
from engine.base.errors import InvalidMetadata
from engine.schema.changes import apply_objects
from engine.store.documents import get_document
from metadata.problems import Problem
from metadata.schemas import schema_of
from metadata.validation import validate_object
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text
from runtime.web.pages.formatting import field_label

# System fields a list may show and sort by, besides the object's own.
LIST_SYSTEM_FIELDS = ("owner", "created_at", "updated_at", "created_by", "updated_by")
UNSORTABLE_TYPES = frozenset({"multi_select", "tags", "attachment"})
# The palette's names, in the order the schema lists them.
COLOR_NAMES = {
    "blue": lazy_gettext("Blue"),
    "green": lazy_gettext("Green"),
    "orange": lazy_gettext("Orange"),
    "red": lazy_gettext("Red"),
    "purple": lazy_gettext("Purple"),
    "teal": lazy_gettext("Teal"),
    "gray": lazy_gettext("Gray"),
}
# Keys this page owns in the object's document; the rest is kept as it is.
OWN_KEYS = ("list", "kanban", "nav_order", "nav_group", "color", "related_lists")


def color_choices() -> list[dict[str, str]]:
    """The object palette (metadata's `color` enum), each with its name in the page's language."""
    names = schema_of("object")["properties"]["color"]["enum"]
    return [{"value": name, "label": str(COLOR_NAMES.get(name, name))} for name in names]


@blueprint.route("/lists/<object_name>", methods=["GET", "POST"])
def list_settings(object_name: str) -> tuple[str, int] | Response:
    loom = current_loom()
    known_object(loom.registry, object_name)
    with loom.read() as conn:
        stored = get_document(conn, "object", object_name)
    if stored is None:
        abort(404)
    document = dict(stored.body)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        document = _changed(document)
        problems = _save(object_name, document)
        if not problems:
            flash(_("List and menu settings saved"), "success")
            return redirect(url_for("builder.list_settings", object_name=object_name))  # type: ignore[return-value]
        errors = problems_by_path(problems)
    page = render_template("builder/lists/settings.html", **_view(object_name, document, errors))
    return page, 422 if errors else 200


def _save(object_name: str, document: dict[str, Any]) -> list[Problem]:
    loom, actor = current_loom(), current_actor()
    file = f"objects/{object_name}.json"
    result = validate_object(document, file, known_objects=loom.registry.specs())
    if result.problems:
        return list(result.problems)
    [spec] = result.objects
    try:
        apply_objects(loom, [spec], actor=actor, files={object_name: file})
    except InvalidMetadata as error:
        return list(error.problems)
    return []


def _number(text: str) -> int | str | None:
    # A value that is not a whole number is passed on, so validation names it at its path.
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _changed(document: dict[str, Any]) -> dict[str, Any]:
    """The object's document with the posted list, kanban and menu settings."""
    form = request.form
    listing: dict[str, Any] = dict(document.get("list") or {})
    columns = [name for name in form.getlist("columns") if name]
    listing.pop("columns", None)
    if columns:
        listing["columns"] = columns
    sort_field = form.get("sort_field", "").strip()
    listing.pop("sort", None)
    if sort_field:
        listing["sort"] = [("-" if form.get("sort_direction") == "desc" else "") + sort_field]
    size = _number(form.get("page_size", ""))
    listing.pop("page_size", None)
    if size is not None:
        listing["page_size"] = size
    changed = {key: value for key, value in document.items() if key not in OWN_KEYS}
    if listing:
        changed["list"] = listing
    group_by = form.get("kanban_group_by", "").strip()
    if group_by:
        kanban = {**(document.get("kanban") or {}), "group_by": group_by}
        kanban.pop("card_fields", None)
        cards = [name for name in form.getlist("card_fields") if name]
        if cards:
            kanban["card_fields"] = cards
        changed["kanban"] = kanban
    if form.get("related_custom"):
        changed["related_lists"] = _related_posted(document)
    order = _number(form.get("nav_order", ""))
    if order is not None:
        changed["nav_order"] = order
    group = {
        locale: text
        for locale, text in (
            ("zh_CN", form.get("nav_group_zh", "").strip()),
            ("en", form.get("nav_group_en", "").strip()),
        )
        if text
    }
    if group:
        changed["nav_group"] = group
    color = form.get("color", "").strip()
    if color:
        changed["color"] = color
    return changed


def _related_posted(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The ticked related lists in the posted order, each with its ticked columns; a heading set
    in the document is kept."""
    before = {
        f"{item.get('object')}:{item.get('via')}": item
        for item in document.get("related_lists") or []
        if isinstance(item, Mapping)
    }
    chosen = []
    for key in request.form.getlist("related"):
        child, _sep, via = key.partition(":")
        if not child or not via:
            continue
        item: dict[str, Any] = {"object": child, "via": via}
        if isinstance(before.get(key, {}).get("label"), Mapping):
            item["label"] = dict(before[key]["label"])
        columns = [name for name in request.form.getlist(f"related_columns.{key}") if name]
        if columns:
            item["columns"] = columns
        chosen.append(item)
    return chosen


def _view(object_name: str, document: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    registry = current_loom().registry
    model = registry.object(object_name)
    names = [spec.name for spec in model.spec.fields] + list(LIST_SYSTEM_FIELDS)
    labels = {name: field_label(model, name) for name in names}
    listing = document.get("list") or {}
    chosen = [name for name in listing.get("columns") or [] if isinstance(name, str)]
    others = [name for name in labels if name not in chosen]
    sort = (listing.get("sort") or [""])[0]
    sort = sort if isinstance(sort, str) else ""
    sortable = [
        name
        for name in labels
        if name in LIST_SYSTEM_FIELDS or model.field(name).type not in UNSORTABLE_TYPES
    ]
    order = document.get("nav_order")
    return {
        "object_name": object_name,
        "object_label": label_text(model.spec.label, object_name),
        "columns": [{"name": n, "label": labels.get(n, n), "chosen": True} for n in chosen]
        + [{"name": n, "label": labels[n], "chosen": False} for n in others],
        "sortable": [{"name": n, "label": labels[n]} for n in sortable],
        "sort_field": sort.lstrip("-"),
        "sort_descending": sort.startswith("-"),
        "page_size": listing.get("page_size", ""),
        "kanban_fields": [
            {"name": spec.name, "label": labels[spec.name]}
            for spec in model.spec.fields
            if spec.type == "select"
        ],
        "kanban_group_by": (document.get("kanban") or {}).get("group_by", ""),
        "card_fields": _ordered(labels, (document.get("kanban") or {}).get("card_fields")),
        "related_custom": "related_lists" in document,
        "related": _related_choices(object_name, document),
        "nav_order": "" if order is None else order,
        "nav_group": dict(document["nav_group"]) if isinstance(document.get("nav_group"), Mapping) else {},
        "nav_groups": _groups_in_use(),
        "color": document.get("color", ""),
        "colors": color_choices(),
        "navigation": _navigation(object_name),
        "errors": errors,
    }


def _ordered(labels: dict[str, str], chosen: Any) -> list[dict[str, Any]]:
    """Every field to choose from, the chosen ones first in their order."""
    picked = [name for name in chosen or [] if isinstance(name, str)]
    rest = [name for name in labels if name not in picked]
    return [{"name": n, "label": labels.get(n, n), "chosen": True} for n in picked] + [
        {"name": n, "label": labels[n], "chosen": False} for n in rest
    ]


def _related_choices(object_name: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every lookup of an object to this one, as a list the detail page may show: the document's
    related lists first, in their order, then the others; each with its columns to choose from."""
    registry = current_loom().registry
    candidates = {
        f"{model.name}:{spec.name}": (model, spec)
        for model in registry.objects.values()
        for spec in model.spec.fields
        if spec.type == "lookup" and spec.param("target") == object_name
    }
    configured = [item for item in document.get("related_lists") or [] if isinstance(item, Mapping)]
    keys = [f"{item.get('object')}:{item.get('via')}" for item in configured]
    chosen_columns = {key: item.get("columns") for key, item in zip(keys, configured, strict=True)}
    order = [key for key in keys if key in candidates] + [key for key in candidates if key not in keys]
    choices = []
    for key in order:
        model, via = candidates[key]
        names = [spec.name for spec in model.spec.fields if spec.name != via.name] + list(LIST_SYSTEM_FIELDS)
        labels = {name: field_label(model, name) for name in names}
        plural = label_text(model.spec.extra.get("plural_label")) or label_text(model.spec.label, model.name)
        choices.append(
            {
                "key": key,
                "label": f"{plural} · {label_text(via.label, via.name)}",
                "chosen": key in keys,
                "columns": _ordered(labels, chosen_columns.get(key)),
            }
        )
    return choices


def _groups_in_use() -> list[dict[str, str]]:
    """The menu sections objects already use, for the section fields' suggestions."""
    seen: dict[str, dict[str, str]] = {}
    for spec in current_loom().registry.specs().values():
        group = spec.extra.get("nav_group")
        if isinstance(group, Mapping) and group.get("zh_CN"):
            seen.setdefault(group["zh_CN"], {"zh_CN": group["zh_CN"], "en": group.get("en", "")})
    return list(seen.values())


def _navigation(object_name: str) -> list[dict[str, Any]]:
    """Every object in menu order, to show where this one sits."""
    registry = current_loom().registry

    def position(name: str) -> tuple[float, str]:
        order = registry.object(name).spec.extra.get("nav_order")
        return (order if isinstance(order, int) else float("inf"), name)

    return [
        {
            "name": name,
            "label": label_text(registry.object(name).spec.label, name),
            "order": registry.object(name).spec.extra.get("nav_order"),
            "group": label_text(registry.object(name).spec.extra.get("nav_group")),
            "current": name == object_name,
        }
        for name in sorted(registry.objects, key=position)
    ]
