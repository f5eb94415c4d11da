"""The report builder: the reports by folder, and one report's object, groups, measures, filters,
parameters, chart, folder and sharing edited in the browser with a live preview.

Administrators build any report and choose its sharing; users whose role may build reports build
private ones and change only their own. A saved report is a metadata document applied through the
engine's metadata services, as a package install would, so it runs at /app/reports, in the API and
in `loom report` at once. The preview runs the posted document as the builder, through the engine.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from builder_ui.blueprint import blueprint
from builder_ui.conditions import checked_condition, condition_texts
from builder_ui.forms import problems_by_path
from engine import identity
from engine.base.actors import Actor
from engine.base.errors import ExpressionError, InvalidMetadata, LoomError
from engine.identity.errors import UserNotFound
from engine.identity.permissions import PermissionDenied, access_for, is_administrator
from engine.loom import Loom
from engine.records.report_access import may_manage_report, shared_with
from engine.records.report_parameters import InvalidReportParameter
from engine.records.reports import run_report
from engine.schema.changes import apply_objects
from engine.schema.checks import field_kinds
from engine.schema.registry import Registry
from metadata.problems import Problem
from metadata.report_checks import field_uses
from metadata.reports import BUCKETS, CHARTS, PERIODS, SYSTEM_REPORT_FIELDS, ReportSpec
from metadata.validation import validate_report
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale, said_problem
from runtime.web.pages import report_view

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = frozenset({"new", "save", "preview", "conditions"})
PREVIEW_ROWS = 200


def _readable_objects(registry: Registry, actor: Actor) -> list[str]:
    return [name for name in sorted(registry.objects) if access_for(registry, actor, name).allows("read")]


def palette(registry: Registry, actor: Actor, object_name: str) -> list[dict[str, Any]]:
    """The fields a report over the object may use, as the builder offers them: the object's fields
    the actor may see, then the system columns, each with what a report may do with it."""
    model = registry.object(object_name)
    access = access_for(registry, actor, object_name)
    kinds = field_kinds(model.spec, registry.specs())
    specs = [spec for spec in model.spec.fields if access.visible(spec.name)]
    specs += [spec for name, spec in SYSTEM_REPORT_FIELDS.items() if name not in model.fields]
    found = []
    for spec in specs:
        options = (spec.param("options") or []) if spec.type == "select" else []
        found.append(
            {
                "name": spec.name,
                "label": label_text(spec.label, spec.name),
                "type": spec.type,
                "kind": kinds.get(spec.name, "any"),
                "system": spec.name in SYSTEM_REPORT_FIELDS and spec.name not in model.fields,
                "options": [
                    {"value": o.get("value"), "label": label_text(o.get("label"), str(o.get("value")))}
                    for o in options
                    if isinstance(o, dict)
                ],
                **field_uses(spec),
            }
        )
    return found


def report_rows(registry: Registry, actor: Actor) -> list[dict[str, Any]]:
    """The reports the actor may manage, by folder (as /app/reports lists them), then by label."""
    folders: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(registry.reports()):
        spec = registry.report(name)
        if spec.object not in registry.objects or not may_manage_report(registry, actor, spec):
            continue
        folder = _folder_text(registry, spec)
        folders.setdefault(folder, []).append(
            {
                "name": name,
                "label": label_text(spec.label, name),
                "object": label_text(registry.object(spec.object).spec.label, spec.object),
                "sharing": _sharing_words(registry, spec),
                "runnable": shared_with(registry, actor, spec),
            }
        )
    return [{"label": label, "reports": rows} for label, rows in sorted(folders.items())]


def _folder_text(registry: Registry, spec: ReportSpec) -> str:
    if isinstance(spec.folder, str):
        return spec.folder
    if spec.folder:
        return label_text(spec.folder, spec.object)
    return label_text(registry.object(spec.object).spec.label, spec.object)


def _sharing_words(registry: Registry, spec: ReportSpec) -> str:
    sharing = spec.sharing
    if sharing.with_ == "private":
        return _("Private to %(owner)s", owner=sharing.owner or "")
    if sharing.with_ == "roles":
        names = [label_text(registry.roles[r].label, r) if r in registry.roles else r for r in sharing.roles]
        return _("Shared with %(roles)s", roles="、".join(names))
    return _("Everyone")


@blueprint.get("/reports/")
def reports_index() -> str:
    registry, actor = current_loom().registry, current_actor()
    return render_template(
        "builder/reports/index.html",
        folders=report_rows(registry, actor),
        admin=is_administrator(registry, actor),
    )


def managed_spec(registry: Registry, actor: Actor, name: str) -> ReportSpec:
    """The report if the actor may change it; a 404 otherwise, as for one that does not exist."""
    spec = registry.reports().get(name)
    if spec is None or spec.object not in registry.objects or not may_manage_report(registry, actor, spec):
        abort(404)
    return spec


@blueprint.get("/reports/new")
def report_new() -> str:
    loom, actor = current_loom(), current_actor()
    objects = _readable_objects(loom.registry, actor)
    wanted = request.args.get("object")
    document: dict[str, Any] = {
        "name": "",
        "object": wanted if wanted in objects else (objects[0] if objects else ""),
        "measures": [{"function": "count"}],
        "chart": "bar",
    }
    return _editor(loom, actor, document, None)


@blueprint.get("/reports/<name>")
def report_editor(name: str) -> str:
    loom, actor = current_loom(), current_actor()
    spec = managed_spec(loom.registry, actor, name)
    return _editor(loom, actor, spec.to_json(), name)


def _editor(loom: Loom, actor: Actor, document: dict[str, Any], original: str | None) -> str:
    registry = loom.registry
    admin = is_administrator(registry, actor)
    objects = _readable_objects(registry, actor)
    data = {
        "document": document,
        "original": original,
        "admin": admin,
        "username": actor.username or "",
        "locale": page_locale(),
        "objects": [{"name": o, "label": label_text(registry.object(o).spec.label, o)} for o in objects],
        "fields": {o: palette(registry, actor, o) for o in objects},
        "roles": [
            {"value": r, "label": label_text(registry.roles[r].label, r)} for r in sorted(registry.roles)
        ],
        "charts": [{"value": c, "label": chart_labels()[c]} for c in CHARTS],
        "buckets": [{"value": b, "label": bucket_labels()[b]} for b in BUCKETS],
        "functions": function_labels(),
        "periods": [{"value": p, "label": report_view.period_labels().get(p, p)} for p in PERIODS],
        "texts": {**condition_texts(), **_texts()},
        "urls": {
            "save": url_for("builder.report_save"),
            "preview": url_for("builder.report_preview"),
            "condition": url_for("builder.report_condition_check", object_name="OBJECT"),
            "index": url_for("builder.reports_index"),
            "page": url_for("pages.report_page", name="NAME"),
        },
    }
    title = label_text(document.get("label"), original or "") if original else _("New report")
    return render_template("builder/reports/editor.html", data=data, title=title, original=original)


def chart_labels() -> dict[str, str]:
    return {
        "bar": _("Bar chart"),
        "line": _("Line chart"),
        "pie": _("Pie chart"),
        "funnel": _("Funnel"),
        "number": _("Single number"),
        "table": _("Table only"),
    }


def bucket_labels() -> dict[str, str]:
    return {
        "day": _("By day"),
        "week": _("By week"),
        "month": _("By month"),
        "quarter": _("By quarter"),
        "year": _("By year"),
    }


def function_labels() -> dict[str, str]:
    return {
        "count": _("Record count"),
        "count_distinct": _("Count distinct"),
        "sum": _("Sum"),
        "avg": _("Average"),
        "min": _("Minimum"),
        "max": _("Maximum"),
    }


def _texts() -> dict[str, str]:
    return {
        "basics": _("Basics"),
        "name": _("Name"),
        "name_help": _("Small letters, digits and _; it cannot change once saved."),
        "label": _("Label"),
        "description": _("Description"),
        "object": _("Object"),
        "folder": _("Folder"),
        "folder_help": _("Empty: the folder named after the object."),
        "fields": _("Fields"),
        "fields_help": _("Drag a field into Rows, Columns or Measures, or use its buttons."),
        "rows": _("Rows (group by)"),
        "rows_help": _("Group by these fields, outermost first."),
        "columns": _("Columns (across)"),
        "columns_help": _("A second dimension across (at most one field)."),
        "measures": _("Measures"),
        "measures_help": _("The figures for each row."),
        "to_rows": _("Add %(field)s to rows"),
        "to_columns": _("Add %(field)s to columns"),
        "to_measures": _("Add %(field)s to measures"),
        "record_count": _("Record count"),
        "remove": _("Remove %(field)s"),
        "move_up": _("Move %(field)s up"),
        "bucket": _("Date bucket for %(field)s"),
        "no_bucket": _("Exact value"),
        "function": _("Function for %(field)s"),
        "drop_here": _("Drop fields here"),
        "filter": _("Filter"),
        "filter_when": _("Only records where"),
        "parameters": _("Parameters"),
        "parameters_help": _("Values the reader picks when running the report."),
        "period_param": _("Period"),
        "period_field": _("Period on the date field"),
        "period_default": _("Default period"),
        "all_time": _("All time"),
        "owner_param": _("Owner (me, my team or one user)"),
        "owner_default": _("Default owner"),
        "department_param": _("Department"),
        "anyone": _("Anyone"),
        "me": _("Me"),
        "my_team": _("My team"),
        "display": _("Sort and chart"),
        "sort": _("Sort by"),
        "sort_natural": _("The groups' own order"),
        "descending": _("Largest first"),
        "ascending": _("Smallest first"),
        "limit": _("Top N rows"),
        "limit_help": _("Empty: every row."),
        "chart": _("Chart"),
        "sharing": _("Sharing"),
        "share_everyone": _("Everyone who may read the object"),
        "share_roles": _("Users with these roles"),
        "share_private": _("Only the owner (private)"),
        "private_you": _("Private: only you can run it."),
        "owner": _("Owner"),
        "preview": _("Preview"),
        "preview_help": _("The report as it is on this page, run as you with its default parameters."),
        "previewing": _("Running…"),
        "save": _("Save the report"),
        "saved": _("Report saved"),
        "not_saved": _("The report was not saved"),
        "open": _("Open the report"),
        "problems": _("Problems"),
        "no_preview": _("Fix the problems to see the preview."),
        "column_field": _("%(function)s of %(field)s"),
    }


def posted_document() -> tuple[dict[str, Any], str | None] | tuple[Response, int]:
    """The posted {"document": {...}, "original": name or null}; a 400 answer when it is not JSON."""
    body = request.get_json(silent=True)
    document = body.get("document") if isinstance(body, dict) else None
    if not isinstance(document, dict):
        return jsonify({"error": _("Send the report document as JSON"), "fields": {}}), 400
    original = body.get("original")
    document = {key: value for key, value in document.items() if key != "$schema"}
    return document, original if isinstance(original, str) and original else None


def _fit_sharing(registry: Registry, actor: Actor, document: dict[str, Any]) -> None:
    """A builder who is not an administrator keeps their reports private to themselves."""
    if is_administrator(registry, actor):
        sharing = document.get("sharing")
        if isinstance(sharing, dict) and sharing.get("with") == "private" and not sharing.get("owner"):
            sharing["owner"] = actor.username
        return
    document["sharing"] = {"with": "private", "owner": actor.username or ""}


def report_problems(
    loom: Loom, actor: Actor, document: dict[str, Any], *, new: bool
) -> tuple[ReportSpec | None, list[Problem]]:
    """The report as a spec and its problems: the name's, the schema's, the metadata checks', the
    engine's (expressions, SQL) and the builder's own (objects and fields it may not read)."""
    registry = loom.registry
    name = document.get("name")
    file = f"reports/{name}.json"
    problems: list[Problem] = []
    if not isinstance(name, str) or not NAME.match(name) or name in RESERVED:
        message = _("A name starts with a small letter and has only small letters, digits and _ (at most 63)")
        return None, [Problem(file, "/name", message)]
    if new and name in registry.reports():
        problems.append(Problem(file, "/name", _("%(name)s is taken: choose another name", name=name)))
    object_name = document.get("object")
    readable = isinstance(object_name, str) and object_name in registry.objects
    if readable and not access_for(registry, actor, object_name).allows("read"):
        problems.append(Problem(file, "/object", _("You may not read this object")))
    problems += _owner_problems(loom, document, file)
    result = validate_report(document, file, known_objects=registry.specs(), known_roles=set(registry.roles))
    problems += result.problems
    if problems:
        return None, problems
    [spec] = result.reports
    hidden = _hidden_fields(registry, actor, spec)
    if hidden:
        return spec, hidden
    try:
        apply_objects(loom, [], reports=[spec], dry_run=True, files={f"report:{spec.name}": file})
    except InvalidMetadata as error:
        return spec, list(error.problems)
    return spec, []


def _owner_problems(loom: Loom, document: dict[str, Any], file: str) -> list[Problem]:
    """A private report's owner is a user: named as their username is stored (any case typed)."""
    sharing = document.get("sharing")
    owner = sharing.get("owner") if isinstance(sharing, dict) else None
    if not isinstance(owner, str) or not owner.strip() or len(owner) > 150:
        return []  # the schema and the checks say what is wrong
    try:
        sharing["owner"] = identity.user_by_username(loom, owner)["username"]
    except UserNotFound:
        return [Problem(file, "/sharing/owner", _("There is no user %(name)s", name=owner))]
    return []


def _hidden_fields(registry: Registry, actor: Actor, spec: ReportSpec) -> list[Problem]:
    """Problems at each place the report uses a field hidden from the actor."""
    access = access_for(registry, actor, spec.object)
    file = f"reports/{spec.name}.json"
    used: list[tuple[str, str]] = []
    for index, group in enumerate(spec.group_by):
        used.append((f"/group_by/{index}", group.field))
    for index, measure in enumerate(spec.measures):
        if measure.field:
            used.append((f"/measures/{index}/field", measure.field))
    for index, parameter in enumerate(spec.parameters):
        used.append((f"/parameters/{index}/field", parameter.field))
    message = _("You may not see this field")
    return [Problem(file, at, message) for at, name in used if not access.visible(name)]


def refused(problems: list[Problem], status: int = 422) -> tuple[Response, int]:
    return jsonify({"error": _("The report was not saved"), "fields": problems_by_path(problems)}), status


@blueprint.post("/reports/preview")
def report_preview() -> Response | tuple[Response, int]:
    """Run the posted document as the builder: its problems by JSON path, or the table and chart."""
    loom, actor = current_loom(), current_actor()
    posted = posted_document()
    if isinstance(posted[0], Response):
        return posted  # type: ignore[return-value]
    document, original = posted  # type: ignore[misc]
    if not isinstance(document.get("name"), str) or not NAME.match(document["name"]):
        document["name"] = original or "preview"
    _fit_sharing(loom.registry, actor, document)
    spec, problems = report_problems(loom, actor, document, new=False)
    if problems or spec is None:
        return jsonify({"fields": problems_by_path(problems), "html": None})
    # The preview shows the first rows: enough to judge the report, not a whole table of names.
    shown = replace(spec, limit=min(spec.limit or PREVIEW_ROWS, PREVIEW_ROWS))
    try:
        result = run_report(loom, shown, actor)
    except (PermissionDenied, InvalidReportParameter, ExpressionError) as error:
        return jsonify({"fields": {"/": [str(said_problem(str(error)))]}, "html": None})
    title = label_text(spec.label, spec.name)
    html = render_template(
        "builder/reports/_preview.html",
        title=title,
        table=report_view.table(result),
        chart=report_view.chart_data(result),
        period=result.period,
    )
    return jsonify({"fields": {}, "html": html, "rows": len(result.rows)})


@blueprint.post("/reports/save")
def report_save() -> Response | tuple[Response, int]:
    """Validate and apply the posted report; a new one may not take a name in use."""
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    posted = posted_document()
    if isinstance(posted[0], Response):
        return posted  # type: ignore[return-value]
    document, original = posted  # type: ignore[misc]
    if original is not None:
        managed_spec(registry, actor, original)
        document["name"] = original  # a saved report keeps its name
    _fit_sharing(registry, actor, document)
    spec, problems = report_problems(loom, actor, document, new=original is None)
    if problems or spec is None:
        return refused(problems)
    try:
        plan = apply_objects(
            loom, [], reports=[spec], actor=actor, files={f"report:{spec.name}": f"reports/{spec.name}.json"}
        )
    except InvalidMetadata as error:
        return refused(error.problems)
    return jsonify(
        {
            "saved": True,
            "message": _("Report saved"),
            "name": spec.name,
            "changes": [str(line) for line in plan.lines()],
            "editor": url_for("builder.report_editor", name=spec.name),
            "page": url_for("pages.report_page", name=spec.name),
        }
    )


@blueprint.post("/reports/<name>/delete")
def report_delete(name: str) -> Response | tuple[str, int]:
    """Remove a report the actor may manage; it leaves /app/reports, the API and the command."""
    loom, actor = current_loom(), current_actor()
    spec = managed_spec(loom.registry, actor, name)
    try:
        apply_objects(loom, [], actor=actor, removed=[("report", spec.name)])
    except LoomError as error:
        message = said_problem(str(error))
        return render_template("error.html", status=422, message=message), 422
    return redirect(url_for("builder.reports_index"), code=303)  # type: ignore[return-value]


@blueprint.post("/reports/conditions/<object_name>/check")
def report_condition_check(object_name: str) -> Response:
    """Whether a filter reads as a condition over the fields of the object the actor may see."""
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    if object_name not in registry.objects or not access_for(registry, actor, object_name).allows("read"):
        abort(404)
    access = access_for(registry, actor, object_name)
    kinds = field_kinds(registry.object(object_name).spec, registry.specs())
    return checked_condition({name: kind for name, kind in kinds.items() if access.visible(name)})
