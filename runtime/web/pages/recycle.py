"""Deleting a record from its page, and the recycle bin (回收站): the deleted records a person may
restore, across objects or for one, restoring them and — for administrators — purging them.

Each action goes through the engine as the signed-in actor: the delete scope of their roles
decides what they may delete, see in the bin and restore, exactly as in the API.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.base.errors import LoomError, RecordNotFound
from engine.identity.permissions import PermissionDenied, access_for
from engine.records.queries import InvalidQuery
from engine.records.recycle_bin import deleted_records, may_purge, purge
from metadata.specs import FieldSpec
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import error_text
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import ObjectPage, may_change_record, nav_objects, object_page

PER_OBJECT = 20
PAGE_SIZE = 50


@blueprint.app_template_global()
def may_delete_record(object_name: str, record_id: int) -> bool:
    """Whether the signed-in actor's delete scope covers this record (the page shows 删除 then)."""
    return may_change_record(object_name, record_id, "delete")


@blueprint.post("/app/<object_name>/<int:record_id>/delete")
def record_delete(object_name: str, record_id: int) -> Response:
    page = object_page(object_name, "delete")
    version = request.form.get("_version", type=int)
    try:
        current_loom().records(current_actor()).delete(page.name, record_id, version=version)
    except (RecordNotFound, PermissionDenied):
        raise  # the error page: not found (404) or not allowed (403)
    except LoomError as error:  # locked in an approval, changed meanwhile: say so on the record's page
        flash(_("The record was not deleted: %(reason)s", reason=error_text(error)), "error")
        return redirect(url_for(".record_detail", object_name=page.name, record_id=record_id))  # type: ignore[return-value]
    flash(_("Moved to the recycle bin; it can be restored from there"), "success")
    return redirect(url_for(".record_list", object_name=page.name))  # type: ignore[return-value]


@blueprint.get("/recycle-bin")
def recycle_bin() -> str:
    """Deleted records the actor may restore: a few of every object, or one object page by page."""
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    objects = [
        ObjectPage(registry.object(item["name"]), access_for(registry, actor, item["name"]))
        for item in nav_objects()
    ]
    objects = [page for page in objects if page.access.allows("delete")]
    chosen = request.args.get("object") or None
    sections = []
    for page in objects:
        if chosen and page.name != chosen:
            continue
        limit = PAGE_SIZE if chosen else PER_OBJECT
        try:
            found = deleted_records(loom, actor, page.name, limit=limit, cursor=request.args.get("cursor"))
        except InvalidQuery:  # a cursor this server did not make: start from the first page
            found = deleted_records(loom, actor, page.name, limit=limit)
        if found.records or chosen:
            sections.append(_section(page, found.records, found.next_cursor))
    return render_template(
        "recycle_bin.html",
        objects=objects,
        chosen=chosen,
        sections=sections,
        user_field=FieldSpec(name="updated_by", type="user"),
        per_object=PER_OBJECT,
    )


def _section(page: ObjectPage, records: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    title_field = page.model.spec.title_field
    rows = [
        {
            "id": record["id"],
            "title": str(record.get(title_field) or "") if title_field else "",
            "deleted_at": record["deleted_at"],
            "deleted_by": record.get("updated_by"),  # deleting is the record's last change
        }
        for record in records
    ]
    for row in rows:
        row["title"] = row["title"] or f"{page.label} #{row['id']}"
    return {
        "page": page,
        "rows": rows,
        "next_cursor": next_cursor,
        "may_purge": may_purge(current_loom(), current_actor(), page.name),
    }


@blueprint.post("/recycle-bin/<object_name>/<int:record_id>/restore")
def recycle_restore(object_name: str, record_id: int) -> Response:
    page = object_page(object_name, "delete")
    current_loom().records(current_actor()).restore(page.name, record_id)
    flash(_("Restored"), "success")
    return redirect(url_for(".record_detail", object_name=page.name, record_id=record_id))  # type: ignore[return-value]


@blueprint.post("/recycle-bin/<object_name>/<int:record_id>/purge")
def recycle_purge(object_name: str, record_id: int) -> Response:
    page = object_page(object_name, "delete")
    purge(current_loom(), current_actor(), page.name, record_id)
    flash(_("Deleted for good"), "success")
    return redirect(url_for(".recycle_bin", object=request.form.get("back_to") or None))  # type: ignore[return-value]
