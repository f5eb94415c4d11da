"""An object's list: columns, search, filters, saved views, sort, keyset pages and bulk changes."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _

from engine import identity
from engine.base.errors import ConflictError, LoomError, RecordInvalid, RecordNotFound
from engine.identity.permissions import PermissionDenied
from engine.records import views as saved_views
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import error_text, label_text, page_locale
from runtime.web.pages import export
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.formatting import ValueFormatter, field_label, field_spec
from runtime.web.pages.list_query import ListQuery, default_sort, filter_fields, page_size
from runtime.web.pages.objects import ObjectPage, flash_errors, object_page

BULK_TYPES = ("select", "boolean")


@blueprint.get("/app/<object_name>")
def record_list(object_name: str) -> str | Response:
    page = object_page(object_name)
    loom, actor = current_loom(), current_actor()
    views = saved_views.views_for(loom, actor, object_name)
    view_id = request.args.get("view", type=int)
    args: dict[str, Any] = request.args
    chosen = next((view for view in views if view["id"] == view_id), None)
    if chosen is not None:
        args = {**chosen["query"], **{k: v for k, v in request.args.items() if k in ("cursor",)}}
    query = ListQuery.from_args(args)
    columns = query.shown_columns(page)
    expression = query.expression(page)
    sort = query.sort or default_sort(page)
    problem = None
    records: list[dict[str, Any]] = []
    next_cursor = None
    total = 0
    try:
        found = loom.queries(actor).find(
            object_name,
            filter=expression,
            sort=sort,
            limit=page_size(page),
            cursor=request.args.get("cursor"),
        )
        records, next_cursor = found.records, found.next_cursor
        total = loom.queries(actor).count(object_name, filter=expression)
    except PermissionDenied:
        raise
    except LoomError as error:
        problem = error_text(error)  # a bad expression or an unknown sort field: say so above the table
    formatter = ValueFormatter(loom, actor, page_locale())
    formatter.prepare(page.model, records, columns)
    return render_template(
        "list.html",
        page=page,
        query=query,
        columns=columns,
        records=records,
        formatter=formatter,
        total=total,
        next_cursor=next_cursor,
        first_page=request.args.get("cursor") is not None,
        sort=sort,
        problem=problem,
        views=views,
        view=chosen,
        filters=[field_spec(page.model, name) for name in filter_fields(page)],
        bulk_choices=_bulk_choices(page) if page.access.allows("update") else [],
        field_label=field_label,
        xlsx_limit=format_number(export.XLSX_LIMIT),
    )


@blueprint.post("/app/<object_name>/bulk")
def bulk_update(object_name: str) -> Response:
    """Set one field to one value on every chosen record; each record the actor may not change is reported."""
    page = object_page(object_name, "update")
    loom, actor = current_loom(), current_actor()
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
    field, _sep, value = request.form.get("change", "").partition("=")
    back = request.form.get("back") or url_for(".record_list", object_name=object_name)
    if not ids or not (page.editable(field) or field == "owner"):
        flash(_("Choose records and a change first"), "error")
        return redirect(back)  # type: ignore[return-value]
    records = loom.records(actor)
    changed, refused = 0, []
    for record_id in ids:
        try:
            records.update(object_name, record_id, {field: value}, source="form")
            changed += 1
        except RecordInvalid as error:
            refused.append(f"#{record_id}: " + "; ".join(flash_errors(error.fields, page)))
        except (PermissionDenied, RecordNotFound, ConflictError) as error:
            refused.append(f"#{record_id}: {error_text(error)}")
    flash(_("%(count)d records changed", count=changed), "success")
    for line in refused:
        flash(line, "error")
    return redirect(back)  # type: ignore[return-value]


@blueprint.post("/app/<object_name>/views")
def save_view(object_name: str) -> Response:
    object_page(object_name)
    query = ListQuery.from_args(request.form)
    view = saved_views.save_view(
        current_loom(), current_actor(), object_name, request.form.get("name", ""), query.to_args()
    )
    flash(_("View saved"), "success")
    return redirect(url_for(".record_list", object_name=object_name, view=view["id"]))  # type: ignore[return-value]


@blueprint.post("/app/<object_name>/views/<int:view_id>/delete")
def delete_view(object_name: str, view_id: int) -> Response:
    object_page(object_name)
    saved_views.delete_view(current_loom(), current_actor(), view_id)
    flash(_("View deleted"), "success")
    return redirect(url_for(".record_list", object_name=object_name))  # type: ignore[return-value]


def _bulk_choices(page: ObjectPage) -> list[dict[str, str]]:
    """Every "field = value" a bulk change offers: each option of the editable choice fields, and owners."""
    choices = []
    for spec in page.model.spec.fields:
        if spec.type not in BULK_TYPES or not page.editable(spec.name):
            continue
        name = label_text(spec.label, spec.name)
        if spec.type == "boolean":
            options = [("true", _("Yes")), ("false", _("No"))]
        else:
            options = [
                (o["value"], label_text(o.get("label"), o["value"])) for o in spec.param("options", ())
            ]
        choices += [{"value": f"{spec.name}={value}", "text": f"{name} → {text}"} for value, text in options]
    if "owner" not in page.access.read_only:
        owner = _("Owner")
        for user in identity.list_users(current_loom(), include_disabled=False):
            choices.append({"value": f"owner={user['id']}", "text": f"{owner} → {user['display_name']}"})
    return choices
