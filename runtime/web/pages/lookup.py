"""The lookup picker's search: GET /app/<object>/lookup/<field>?q=…&parent.<field>=<id>&page=N answers
the records the field may point at as JSON, found by the engine in the actor's read scope."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from engine.base.errors import UnknownObject
from engine.records.lookup_search import LookupSearch, parent_links
from runtime.web.auth import current_actor, current_loom
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import object_page

PAGE_SIZE = 20
PARENT_PREFIX = "parent."


@blueprint.get("/app/<object_name>/lookup/<field>")
def lookup_search(object_name: str, field: str) -> Response:
    """{"results": [{id, title, detail, related}], "more": bool}; the form's other lookups, sent as
    parent.<field>=<id>, bring the records linked to them first."""
    page = object_page(object_name)
    if field not in page.model.fields or page.model.field(field).type != "lookup" or not page.visible(field):
        abort(404)
    loom = current_loom()
    try:
        target = loom.registry.object(page.model.field(field).param("target"))
    except UnknownObject:
        abort(404)
    prefer = {}
    for form_field, target_field in parent_links(page.model, field, target).items():
        value = _number(request.args.get(PARENT_PREFIX + form_field))
        if value is not None and page.visible(form_field):
            prefer[target_field] = value
    found = LookupSearch(loom, current_actor()).search(
        target.name,
        request.args.get("q", ""),
        prefer=prefer,
        limit=PAGE_SIZE,
        page=_number(request.args.get("page")) or 0,
    )
    results = [
        {"id": c.id, "title": c.title, "detail": c.detail, "related": c.related} for c in found.choices
    ]
    return jsonify({"results": results, "more": found.more})


def _number(text: str | None) -> int | None:
    """A record id or page number as typed in a URL; None for anything else (never an error)."""
    if text and text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None
