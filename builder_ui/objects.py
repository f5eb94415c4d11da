"""The object designer: list objects, create one, edit its fields, see the plan, then apply it."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import column, func, select, table
from werkzeug.exceptions import BadRequest, NotFound

from builder_ui import objects_plan
from builder_ui.blueprint import blueprint
from builder_ui.lists import color_choices
from engine.base.errors import LoomError
from engine.expressions.evaluation import evaluate
from engine.schema.checks import check_objects, field_kinds
from engine.store.documents import get_document, load_documents
from engine.store.system_tables import archived_columns
from metadata import validation
from metadata.specs import COMMON_FIELD_KEYS
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, said, said_problem

# The palette's names for the built-in field types; a plugin's type shows its own name.
TYPE_LABELS = {
    "text": "Text",
    "long_text": "Long text",
    "integer": "Integer",
    "decimal": "Decimal",
    "currency": "Currency",
    "percent": "Percent",
    "boolean": "Yes/no",
    "date": "Date",
    "datetime": "Date and time",
    "select": "Single select",
    "multi_select": "Multiple select",
    "email": "E-mail",
    "phone": "Phone",
    "url": "Web address",
    "lookup": "Lookup",
    "user": "User",
    "formula": "Formula",
    "rollup": "Roll-up",
    "autonumber": "Auto number",
    "tags": "Tags",
    "attachment": "Attachment",
}


def _type_label(name: str) -> str:
    return _(TYPE_LABELS[name]) if name in TYPE_LABELS else name


@blueprint.get("/objects")
def objects_list() -> str:
    loom = current_loom()
    with loom.read() as conn:
        documents = {d.name: d for d in load_documents(conn, "object")}
    rows = [
        {
            "name": name,
            "label": label_text(spec.label, name),
            "fields": len(spec.fields),
            "package": documents[name].package if name in documents else None,
            "revision": documents[name].revision if name in documents else None,
        }
        for name, spec in sorted(loom.registry.specs().items())
    ]
    return render_template("builder/objects/list.html", rows=rows)


def _new_document() -> dict[str, Any]:
    orders = [s.extra.get("nav_order") for s in current_loom().registry.specs().values()]
    last = max((o for o in orders if isinstance(o, int)), default=0)
    return {
        "name": "",
        "label": {},
        "icon": "box",
        "nav_order": last + 10,
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "label": {"zh_CN": "名称", "en": "Name"}, "required": True}
        ],
    }


@blueprint.route("/objects/new", methods=["GET", "POST"])
def object_new() -> str | Response:
    if request.method == "GET":
        return _designer(None, _new_document(), [], None)
    return _posted(None)


@blueprint.route("/objects/<name>", methods=["GET", "POST"])
def object_edit(name: str) -> str | Response:
    loom = current_loom()
    with loom.read() as conn:
        stored = get_document(conn, "object", name)
    if stored is None:
        raise NotFound(_("There is no such object"))
    if request.method == "GET":
        return _designer(name, stored.body, [], None)
    return _posted(name)


def _posted(name: str | None) -> str | Response:
    doc = objects_plan.parse_draft(request.form.get("document", ""))
    grants = request.form.getlist("grant")
    if doc is None:
        raise BadRequest(_("The object's draft is not a JSON document"))
    if name is not None and doc.get("name") != name:
        doc["name"] = name  # an object's name never changes
    elif name is None and not doc.get("name"):
        label = doc.get("label") if isinstance(doc.get("label"), dict) else {}
        taken = set(current_loom().registry.objects)
        doc["name"] = objects_plan.safe_name(str(label.get("en") or ""), "object", taken)
    loom, actor = current_loom(), current_actor()
    plan = objects_plan.run(loom, actor, doc, grants, creating=name is None)
    if request.form.get("action") != "apply" or not plan.ok:
        return _designer(name, doc, grants, plan, status=200 if plan.ok else 422)
    if request.form.get("fingerprint") != plan.fingerprint:
        flash(_("The object changed since this plan was made; review the new plan"), "error")
        return _designer(name, doc, grants, plan, status=409)
    applied = objects_plan.run(loom, actor, doc, grants, creating=name is None, dry_run=False)
    if not applied.ok:
        return _designer(name, doc, grants, applied, status=422)
    flash(_("Saved: %(count)s change(s) applied", count=len(applied.lines)), "success")
    return redirect(url_for("builder.object_edit", name=doc["name"]))


def _archived(name: str | None) -> list[dict[str, Any]]:
    """Fields removed from the object whose data is kept, with how many records hold a value."""
    if name is None:
        return []
    loom = current_loom()
    spec = loom.registry.specs().get(name)
    if spec is None:
        return []
    rows = []
    with loom.read() as conn:
        found = conn.execute(
            select(archived_columns)
            .where(archived_columns.c.object == name, archived_columns.c.restored_at.is_(None))
            .order_by(archived_columns.c.id.desc())
        ).all()
        current = {f.name for f in spec.fields}
        for row in found:
            if row.field in current or any(r["field"]["name"] == row.field for r in rows):
                continue
            data = table(spec.table_name, column(row.column_name))
            count = conn.execute(
                select(func.count()).select_from(data).where(column(row.column_name).is_not(None))
            ).scalar()
            rows.append({"field": row.spec, "count": int(count or 0), "at": row.archived_at})
    return rows


def _designer(
    name: str | None,
    doc: dict[str, Any],
    grants: list[str],
    plan: objects_plan.Plan | None,
    status: int = 200,
) -> tuple[str, int]:
    loom = current_loom()
    registry = loom.registry
    palette = [{"name": t, "label": _type_label(t)} for t in loom.field_types.names()]
    targets = [{"name": n, "label": label_text(s.label, n)} for n, s in sorted(registry.specs().items())]
    object_name = doc.get("name") if isinstance(doc.get("name"), str) else ""
    roles = [
        {
            "name": role_name,
            "label": label_text(role.label, role_name) if hasattr(role, "label") else role_name,
            "granted": object_name in getattr(role, "objects", {}),
            "ticked": role_name in grants,
        }
        for role_name, role in sorted(registry.roles.items())
        if not role.admin
    ]
    page = render_template(
        "builder/objects/designer.html",
        texts=_texts(),
        common_keys=sorted(COMMON_FIELD_KEYS),
        path_label=lambda path: _path_label(doc, path),
        said=said,
        said_problem=said_problem,
        name=name,
        doc=doc,
        document_json=json.dumps(doc, ensure_ascii=False, indent=1),
        palette=palette,
        targets=targets,
        related=_related(),
        roles=roles,
        archived=_archived(name),
        plan=plan,
        blocking=_blocking(name, doc, plan),
        grants=grants,
        colors=color_choices(),
    )
    return page, status


def _related() -> list[dict[str, Any]]:
    """Each object's lookups and the fields a roll-up can aggregate, for the roll-up source form."""
    loom = current_loom()
    specs = loom.registry.specs()
    found = []
    for name, spec in sorted(specs.items()):
        kinds = field_kinds(spec, specs, loom.field_types)
        found.append(
            {
                "name": name,
                "label": label_text(spec.label, name),
                "lookups": [
                    {"name": f.name, "label": label_text(f.label, f.name), "target": f.param("target")}
                    for f in spec.fields
                    if f.type == "lookup"
                ],
                "fields": [
                    {"name": f.name, "label": label_text(f.label, f.name), "kind": kinds.get(f.name)}
                    for f in spec.fields
                    if kinds.get(f.name) in {"number", "date", "datetime"}
                ],
            }
        )
    return found


def _path_label(doc: dict[str, Any], path: str) -> str:
    """A problem's JSON path as the admin knows it: the field's label, or the object's."""
    parts = path.strip("/").split("/")
    fields = doc.get("fields") if isinstance(doc.get("fields"), list) else []
    if len(parts) >= 2 and parts[0] == "fields" and parts[1].isdigit() and int(parts[1]) < len(fields):
        item = fields[int(parts[1])]
        if isinstance(item, dict):
            label = item.get("label") if isinstance(item.get("label"), dict) else {}
            return _("Field %(label)s:", label=label_text(label, str(item.get("name", ""))))
    return _("Object:")


def _blocking(name: str | None, doc: dict[str, Any], plan: objects_plan.Plan | None) -> list[dict[str, Any]]:
    """The records that block a type change, each with its title and the value that would not convert."""
    if plan is None or not plan.refusal or name is None:
        return []
    loom = current_loom()
    model = loom.registry.specs().get(name)
    changed = _changed_types(model, doc)
    found = []
    for record_id in plan.blocking_ids:
        row: dict[str, Any] = {"id": record_id, "title": "", "value": None}
        try:
            record = loom.records(current_actor()).get(name, int(record_id))
        except LoomError:  # a record the admin cannot read is still named by its id
            record = {}
        if model is not None and model.title_field:
            row["title"] = record.get(model.title_field) or ""
        values = [record.get(field) for field in changed if record.get(field) is not None]
        row["value"] = values[0] if values else None
        found.append(row)
    return found


def _changed_types(model: Any, doc: dict[str, Any]) -> list[str]:
    if model is None:
        return []
    before = {f.name: f.type for f in model.fields}
    fields = doc.get("fields") if isinstance(doc.get("fields"), list) else []
    return [
        f["name"]
        for f in fields
        if isinstance(f, dict) and f.get("name") in before and before[f["name"]] != f.get("type")
    ]


def _texts() -> dict[str, str]:
    """The words the designer's script shows, in the page's language."""
    return {
        "label_zh": _("Label (Chinese)"),
        "label_en": _("Label (English)"),
        "api_name": _("API name"),
        "type": _("Type"),
        "required": _("Required"),
        "unique": _("Unique"),
        "default": _("Default (expression)"),
        "help_zh": _("Help text (Chinese)"),
        "help_en": _("Help text (English)"),
        "options": _("Options"),
        "option_value": _("Value"),
        "option_color": _("Colour"),
        "add_option": _("Add an option"),
        "target": _("Lookup target"),
        "expression": _("Formula"),
        "result": _("Result type"),
        "source": _("Roll-up source"),
        "child": _("Related object"),
        "via": _("Linked by"),
        "function": _("Function"),
        "fn_count": _("Count"),
        "fn_sum": _("Sum"),
        "fn_min": _("Minimum"),
        "fn_max": _("Maximum"),
        "fn_avg": _("Average"),
        "aggregated": _("Field to aggregate"),
        "filter": _("Only records where (optional)"),
        "scope": _("Whose records"),
        "scope_all": _("All related records"),
        "scope_reader": _("Only those the reader may open"),
        "no_children": _("No object looks up this one yet: add a lookup to it on the related object first."),
        "choose": _("Choose…"),
        "valid_filter": _("The expression is valid"),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "remove": _("Remove from the object"),
        "edit": _("Edit"),
        "checking": _("Checking…"),
        "no_problems": _("No problems found"),
        "new_field": _("New field"),
        "removed": _("Removed; its data is archived when you apply"),
        "added": _("Added"),
        "moved": _("Moved"),
        "bad_json": _("Not valid JSON"),
        "preview": _("Preview"),
    }


@blueprint.post("/objects/check")
def object_check() -> Response:
    """The live check of a draft: every problem by JSON path, expressions included."""
    body = request.get_json(silent=True)
    doc = body.get("document") if isinstance(body, dict) else None
    if not isinstance(doc, dict):
        raise BadRequest(_("The object's draft is not a JSON document"))
    loom = current_loom()
    name = doc.get("name") if isinstance(doc.get("name"), str) and doc.get("name") else "draft"
    doc = {**doc, "name": name}
    file = f"objects/{name}.json"
    known = loom.registry.specs()
    result = validation.validate_object(doc, file, known_objects=known)
    problems = result.problems
    if not problems:
        [spec] = result.objects
        problems = check_objects(
            {**known, name: spec}, loom.field_types, loom.functions, {name: file}, only={name}
        )
    found: dict[str, list[str]] = {}
    for problem in problems:
        if problem.file == file:
            found.setdefault(problem.path or "/", []).append(said_problem(problem.message))
    index = body.get("field")
    preview = None
    if isinstance(index, int) and not any(p.startswith(f"/fields/{index}") for p in found):
        preview = _preview(name, doc, index)
    return jsonify({"problems": found, "preview": preview})


def _preview(name: str, doc: dict[str, Any], index: int) -> dict[str, Any] | None:
    """A field's default or formula computed on the newest record the admin can read, if any."""
    fields = doc.get("fields") if isinstance(doc.get("fields"), list) else []
    if not 0 <= index < len(fields) or not isinstance(fields[index], dict):
        return None
    item = fields[index]
    text = item.get("expression") if item.get("type") == "formula" else item.get("default")
    loom, actor = current_loom(), current_actor()
    if not isinstance(text, str) or not text.strip() or name not in loom.registry.objects:
        return None
    try:
        records = loom.queries(actor).find(name, sort="-id", limit=1).records
        if not records:
            return None
        value = evaluate(text, records[0], loom.contexts(actor)[0])
    except LoomError:
        return None
    spec = loom.registry.specs()[name]
    title = records[0].get(spec.title_field) if spec.title_field else None
    shown = "" if value is None else str(value)
    return {"record": records[0]["id"], "title": str(title or ""), "value": shown}
