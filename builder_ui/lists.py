"""An object's list, kanban and menu settings: columns, default sort, page size, board field, menu place.

They live in the object's own document (`list`, `kanban`, `nav_order`); saving validates, plans
and applies the changed document through the engine's metadata services.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from builder_ui.forms import known_object, problems_by_path
from engine.base.errors import InvalidMetadata
from engine.schema.changes import apply_objects
from engine.store.documents import get_document
from metadata.problems import Problem
from metadata.validation import validate_object
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text
from runtime.web.pages.formatting import field_label

# System fields a list may show and sort by, besides the object's own.
LIST_SYSTEM_FIELDS = ("owner", "created_at", "updated_at", "created_by", "updated_by")
UNSORTABLE_TYPES = frozenset({"multi_select", "tags", "attachment"})


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
    changed = {key: value for key, value in document.items() if key not in ("list", "kanban", "nav_order")}
    if listing:
        changed["list"] = listing
    group_by = form.get("kanban_group_by", "").strip()
    if group_by:
        changed["kanban"] = {**(document.get("kanban") or {}), "group_by": group_by}
    order = _number(form.get("nav_order", ""))
    if order is not None:
        changed["nav_order"] = order
    return changed


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
        "nav_order": "" if order is None else order,
        "navigation": _navigation(object_name),
        "errors": errors,
    }


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
            "current": name == object_name,
        }
        for name in sorted(registry.objects, key=position)
    ]
