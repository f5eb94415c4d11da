"""A record's 360° page: its fields by the object's form layout, related lists, its approval and one
timeline of follow-ups, changes, approval steps and notifications."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from flask import render_template

from engine.base.errors import LoomError
from engine.identity.permissions import PermissionDenied, access_for
from engine.records.timeline import timeline
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale
from runtime.web.pages.approval_panel import approval_panel
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import ValueFormatter, field_label, field_spec, is_field
from runtime.web.pages.layout import form_sections, hidden_by_form
from runtime.web.pages.list_query import default_columns
from runtime.web.pages.objects import ObjectPage, may_change_record, object_page

RELATED_ROWS = 5
RELATED_COLUMNS = 3
TIMELINE_ROWS = 50


@blueprint.get("/app/<object_name>/<int:record_id>")
def record_detail(object_name: str, record_id: int) -> str:
    loom, actor = current_loom(), current_actor()
    with suppress(PermissionDenied):  # an approver opens their task's record without reading the object
        object_page(object_name)  # 404 for an object that does not exist
    # The fields shown are those the record is read with: an open task's node may hide some.
    access, record = loom.records(actor).read(object_name, record_id)
    page = ObjectPage(loom.registry.object(object_name), access)
    formatter = ValueFormatter(loom, actor, page_locale())
    sections = form_sections(page, record, hidden_by_form(page, record))
    formatter.prepare(page.model, [record], [name for s in sections for name in s["fields"]])
    related = _related_lists(page, record_id, formatter)
    entries = timeline(loom, object_name, record_id, actor, read=(access, record))[:TIMELINE_ROWS]
    approval = approval_panel(page, record)
    title_field = page.model.spec.title_field
    title = record.get(title_field) if title_field else None
    return render_template(
        "detail.html",
        page=page,
        record=record,
        title=str(title) if title not in (None, "") else f"{page.label} #{record_id}",
        sections=sections,
        highlights=[n for n in default_columns(page) if n != title_field and page.visible(n)][:4],
        related=related,
        timeline=entries,
        formatter=formatter,
        field_label=field_label,
        field_spec=field_spec,
        can_edit=loom.flows.lock_on(object_name, record_id, actor) is None
        and may_change_record(object_name, record_id),
        approval=approval,
    )


def _related_lists(page: ObjectPage, record_id: int, formatter: ValueFormatter) -> list[dict[str, Any]]:
    """The object's related_lists in their order; absent, every lookup of another object to this one,
    most records first. Only lists the actor may read, each with its first records."""
    registry = formatter.loom.registry
    configured = page.model.spec.extra.get("related_lists")
    if configured is None:
        wanted: list[Mapping[str, Any]] = [
            {"object": child.name, "via": spec.name}
            for child in registry.objects.values()
            for spec in child.spec.fields
            if spec.type == "lookup" and spec.param("target") == page.name
        ]
    else:
        wanted = list(configured)
    found = [shown for item in wanted if (shown := _related_list(page, record_id, item, formatter))]
    if configured is None:
        found.sort(key=lambda item: -item["count"])
    return found


def _related_list(
    page: ObjectPage, record_id: int, item: Mapping[str, Any], formatter: ValueFormatter
) -> dict[str, Any] | None:
    """One related list, or None when the actor may not read it or it no longer fits the objects
    (a child or lookup removed since the list was set)."""
    loom, actor = formatter.loom, formatter.actor
    child = loom.registry.objects.get(item["object"])
    via = item["via"]
    spec = child.fields.get(via) if child is not None else None
    if child is None or spec is None or spec.type != "lookup" or spec.param("target") != page.name:
        return None
    access = access_for(loom.registry, actor, child.name)
    if not access.allows("read") or not access.visible(via):
        return None
    child_page = ObjectPage(child, access)
    try:
        queries = loom.queries(actor)
        rows = queries.related(page.name, record_id, child.name, via=via, limit=RELATED_ROWS)
        # A list whose first page holds all its records has counted them: most have a few, and a
        # record page shows a dozen such lists.
        if rows.next_cursor is None:
            count = len(rows.records)
        else:
            count = queries.count(child.name, filter=f"{via} == {int(record_id)}")
    except LoomError:
        return None
    chosen = [n for n in item.get("columns", ()) if is_field(child, n) and access.visible(n)]
    if chosen:
        columns = chosen
    else:
        columns = [n for n in default_columns(child_page) if n != via and access.visible(n)]
        columns = columns[: RELATED_COLUMNS + 1]
    formatter.prepare(child, rows.records, columns)
    if item.get("label"):
        label = label_text(item["label"], child_page.plural)
    elif _lookups_to(child, page.name) == 1 and child.name != page.name:
        label = child_page.plural
    else:
        label = f"{child_page.plural} · {label_text(spec.label, spec.name)}"
    return {
        "page": child_page,
        "via": via,
        "label": label,
        "records": rows.records,
        "count": count,
        "columns": columns,
        "title_field": child.spec.title_field,
    }


def _lookups_to(child: Any, target: str) -> int:
    return sum(1 for s in child.spec.fields if s.type == "lookup" and s.param("target") == target)
