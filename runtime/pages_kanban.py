"""The kanban board: an object's records in one column per option of a select field; moving a card
changes that field through the engine, so the object's rules, validation and permissions apply."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import ConflictError, LoomError, RecordInvalid
from engine.permissions import PermissionDenied
from runtime.auth import current_actor, current_loom
from runtime.i18n import error_text, label_text, page_locale
from runtime.pages import blueprint
from runtime.pages_format import ValueFormatter, field_label
from runtime.pages_list_query import ListQuery, default_columns
from runtime.pages_objects import ObjectPage, flash_errors, object_page

CARDS_PER_COLUMN = 30
CARD_FIELDS = 3


def kanban_field(page: ObjectPage, wanted: str | None = None) -> str | None:
    """The select field the board groups by: the one asked for, else the object's kanban default."""
    selects = [s.name for s in page.model.spec.fields if s.type == "select" and page.visible(s.name)]
    default = page.model.spec.extra.get("kanban", {}).get("group_by")
    for name in (wanted, default):
        if name in selects:
            return name
    return None


@blueprint.get("/app/<object_name>/kanban")
def kanban(object_name: str) -> str:
    page = object_page(object_name)
    by = kanban_field(page, request.args.get("by"))
    if by is None:
        abort(404)
    loom, actor = current_loom(), current_actor()
    query = ListQuery.from_args(request.args)
    base = query.expression(page)
    spec = page.model.field(by)
    queries = loom.queries(actor)
    title = page.model.spec.title_field
    shown = [n for n in default_columns(page) if n not in (by, title) and page.visible(n)][:CARD_FIELDS]
    formatter = ValueFormatter(loom, actor, page_locale())
    columns: list[dict[str, Any]] = []
    problem = None
    for option in spec.param("options", ()):
        condition = f"{by} == {option['value']!r}"
        expression = f"({base}) and {condition}" if base else condition
        try:
            found = queries.find(
                object_name, filter=expression, sort=query.sort or None, limit=CARDS_PER_COLUMN
            )
            count = queries.count(object_name, filter=expression)
        except PermissionDenied:
            raise
        except LoomError as error:
            problem, found, count = error_text(error), None, 0
        records = found.records if found else []
        formatter.prepare(page.model, records, shown)
        columns.append(
            {
                "value": option["value"],
                "label": label_text(option.get("label"), option["value"]),
                "color": option.get("color") or "#94a3b8",
                "records": records,
                "count": count,
            }
        )
    others = [s for s in page.model.spec.fields if s.type == "select" and page.visible(s.name)]
    return render_template(
        "kanban.html",
        page=page,
        by=by,
        by_label=field_label(page.model, by),
        group_fields=others,
        columns=columns,
        shown=shown,
        title_field=title,
        formatter=formatter,
        field_label=field_label,
        query=query,
        problem=problem,
        can_move=page.editable(by) and page.access.allows("update"),
    )


@blueprint.post("/app/<object_name>/<int:record_id>/move")
def move_card(object_name: str, record_id: int) -> Response:
    """Set the board's field of one record; JSON for the board's script, a redirect for a plain form."""
    page = object_page(object_name, "update")
    wants_json = request.is_json
    data = request.get_json(silent=True) if wants_json else request.form
    data = data or {}
    field, value = str(data.get("field", "")), str(data.get("value", ""))
    version = data.get("version")
    back = url_for(".kanban", object_name=object_name, by=field)
    errors: list[str] = []
    if not page.editable(field):
        errors = [_("This field cannot be changed here")]
    else:
        try:
            version_number = int(version) if str(version or "").isdigit() else None
            record = (
                current_loom()
                .records(current_actor())
                .update(object_name, record_id, {field: value}, version=version_number, source="form")
            )
        except RecordInvalid as error:
            errors = flash_errors(error.fields, page)
        except ConflictError:
            errors = [_("Someone else changed this record meanwhile: reload the board and try again")]
        except (PermissionDenied, LoomError) as error:
            errors = [error_text(error)]
    if wants_json:
        # A refused move is an answer for the board's script (200, ok false), not a failed request.
        if errors:
            return jsonify({"ok": False, "errors": errors})
        return jsonify({"ok": True, "version": record["version"]})
    for line in errors:
        flash(line, "error")
    if not errors:
        flash(_("Moved"), "success")
    return redirect(back)  # type: ignore[return-value]
