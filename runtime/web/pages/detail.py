"""A record's 360° page: its fields by the object's form layout, related lists, its approval and one
timeline of follow-ups, changes, approval steps and notifications."""

from __future__ import annotations

from typing import Any

from flask import render_template

from engine.base.errors import LoomError
from engine.identity.permissions import access_for
from engine.records.timeline import timeline
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale
from runtime.web.pages.approval_panel import approval_panel
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import ValueFormatter, field_label, field_spec
from runtime.web.pages.layout import form_sections, hidden_by_form
from runtime.web.pages.list_query import default_columns
from runtime.web.pages.objects import ObjectPage, may_change_record, object_page

RELATED_ROWS = 5
RELATED_COLUMNS = 3
TIMELINE_ROWS = 50


@blueprint.get("/app/<object_name>/<int:record_id>")
def record_detail(object_name: str, record_id: int) -> str:
    page = object_page(object_name)
    loom, actor = current_loom(), current_actor()
    record = loom.records(actor).get(object_name, record_id)
    formatter = ValueFormatter(loom, actor, page_locale())
    sections = form_sections(page, record, hidden_by_form(page, record))
    formatter.prepare(page.model, [record], [name for s in sections for name in s["fields"]])
    related = _related_lists(page, record_id, formatter)
    entries = timeline(loom, object_name, record_id, actor)[:TIMELINE_ROWS]
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
    """For every lookup of another object to this one that the actor may read, its first records."""
    loom, actor = formatter.loom, formatter.actor
    registry = loom.registry
    found = []
    for child in registry.objects.values():
        access = access_for(registry, actor, child.name)
        if not access.allows("read"):
            continue
        for spec in child.spec.fields:
            if spec.type != "lookup" or spec.param("target") != page.name or not access.visible(spec.name):
                continue
            child_page = ObjectPage(child, access)
            try:
                queries = loom.queries(actor)
                rows = queries.related(page.name, record_id, child.name, via=spec.name, limit=RELATED_ROWS)
                count = queries.count(child.name, filter=f"{spec.name} == {int(record_id)}")
            except LoomError:
                continue
            columns = [n for n in default_columns(child_page) if n != spec.name and access.visible(n)]
            columns = columns[: RELATED_COLUMNS + 1]
            formatter.prepare(child, rows.records, columns)
            found.append(
                {
                    "page": child_page,
                    "via": spec.name,
                    "label": child_page.plural
                    if _lookups_to(child, page.name) == 1 and child.name != page.name
                    else f"{child_page.plural} · {label_text(spec.label, spec.name)}",
                    "records": rows.records,
                    "count": count,
                    "columns": columns,
                    "title_field": child.spec.title_field,
                }
            )
    return sorted(found, key=lambda item: -item["count"])


def _lookups_to(child: Any, target: str) -> int:
    return sum(1 for s in child.spec.fields if s.type == "lookup" and s.param("target") == target)
