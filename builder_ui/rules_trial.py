"""Trying a rule in the builder, and what it did after: a dry run on one record, its run log, and
why it did or did not fire for a record.

The dry run is the engine's own (engine/rules/trial.py): the rule runs for real in a transaction
that is always rolled back, so the page shows what saving would do, and nothing is kept.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from builder_ui.blueprint import blueprint
from builder_ui.rules import posted_rule, refused, rule_document, rule_problems, rule_title, trigger_words
from engine.base.errors import LoomError, RecordNotFound
from engine.loom import Loom
from engine.records.lookup_search import LookupSearch
from engine.rules.explain import business_time, created_records, explain
from engine.rules.runlog import runs_for_rule
from engine.rules.trial import try_rule
from engine.schema.registry import Registry
from engine.store.system_tables import users
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import error_text, label_text, page_locale
from runtime.web.pages.formatting import ValueFormatter, field_label, field_spec, is_field

MAX_ID = 2**53


def _record_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 < value < MAX_ID else None


@blueprint.post("/rules/<name>/try")
def rule_try(name: str) -> Response | tuple[Response, int]:
    """Run the posted (unsaved) rule on one record, rolled back: {"document", "record_id"} → the trial."""
    loom = current_loom()
    document = posted_rule(name)
    if isinstance(document, tuple):
        return document
    body = request.get_json(silent=True) or {}
    record_id = _record_id(body.get("record_id"))
    rule, problems = rule_problems(loom, document)
    if problems:
        return refused(problems)
    inbound = rule.trigger.type == "inbound"
    if record_id is None and not inbound:
        return jsonify({"error": _("Choose a record first"), "fields": {}}), 400
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    try:
        trial = try_rule(loom, rule, None if inbound else record_id, payload=payload if inbound else None)
    except RecordNotFound:
        return jsonify({"error": _("There is no such record"), "fields": {}}), 404
    except LoomError as error:
        return jsonify({"error": error_text(error), "fields": {}}), 422
    return jsonify(_trial_json(loom, trial))


def _trial_json(loom: Loom, trial: Any) -> dict[str, Any]:
    registry = loom.registry
    people = {n["user_id"] for n in trial.notifications} | {t["assignee_id"] for t in trial.tasks}
    names = _user_names(loom, {user_id for user_id in people if user_id is not None})
    effects: list[dict[str, Any]] = []
    for change in trial.changes:
        object_name = change["object"]
        values = change.get("changes") or {}
        shown = {
            _field_label(registry, object_name, field): pair[1] if isinstance(pair, list) else pair
            for field, pair in values.items()
            if field not in ("created_at", "updated_at", "created_by", "updated_by", "version", "id")
        }
        kind = "create" if change["action"] == "create" else "update"
        effects.append(
            {
                "kind": kind,
                "object": _object_label(registry, object_name),
                "id": change["record_id"],
                "values": shown,
            }
        )
    for note in trial.notifications:
        effects.append(
            {
                "kind": "notify",
                "user": names.get(note["user_id"], str(note["user_id"])),
                "title": note["title"],
                "body": note["body"],
            }
        )
    for message in trial.messages:
        effects.append({"kind": "message", "channel": message["channel"], "message": message["message"]})
    for task in trial.tasks:
        assignee = task["assignee_id"]
        effects.append({"kind": "approval", "node": task["node"], "user": names.get(assignee, str(assignee))})
    for run in trial.runs:
        effects.append({"kind": "rule", "rule": run["rule"], "status": run["status"], "id": run["record_id"]})
    return {
        "record_id": trial.record_id,
        "would_fire": trial.would_fire,
        "condition": trial.condition,
        "condition_value": trial.condition_value,
        "inputs": _inputs(loom, trial),
        "actions": trial.actions,
        "record_changes": {
            _field_label(registry, trial.object, name): pair for name, pair in trial.record_changes.items()
        },
        "effects": effects,
        "error": trial.error,
    }


def _inputs(loom: Loom, trial: Any) -> dict[str, dict[str, Any]]:
    """Each value the condition read, labelled and written as the record page writes it (business
    time, options by label, money with its symbol), with the raw value beside it."""
    model = loom.registry.objects.get(trial.object)
    formatter = ValueFormatter(loom, current_actor(), page_locale())
    found = {}
    for name, value in trial.inputs.items():
        if model is None or not is_field(model, name):
            found[name] = {"label": name, "value": value}
            continue
        shown = formatter.value(field_spec(model, name), value)
        found[name] = {"label": field_label(model, name), "value": value, "shown": shown.text}
    return found


def _created(registry: Registry, run: dict[str, Any]) -> list[tuple[str, int]]:
    return [(_object_label(registry, name), record_id) for name, record_id in created_records(run)]


def _user_names(loom: Loom, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with loom.read() as conn:
        rows = conn.execute(select(users.c.id, users.c.display_name).where(users.c.id.in_(ids)))
        return {row.id: row.display_name for row in rows}


def _object_label(registry: Registry, name: str) -> str:
    return label_text(registry.object(name).spec.label, name) if name in registry.objects else name


def _field_label(registry: Registry, object_name: str, name: str) -> str:
    model = registry.objects.get(object_name)
    if model is None or not is_field(model, name):  # system fields (创建时间) are fields here too
        return name
    return field_label(model, name)


@blueprint.get("/rules/records")
def rule_records() -> Response:
    """Records of an object to try a rule on: ?object=&q= → [{id, title, detail}] (a number finds that id)."""
    loom = current_loom()
    object_name = request.args.get("object", "")
    if object_name not in loom.registry.objects:
        abort(404)
    q = (request.args.get("q") or "")[:100]
    found = []
    record_id = _record_id(q)
    if record_id is not None:
        try:
            record = loom.records(current_actor()).get(object_name, record_id)
        except LoomError:
            record = None
        if record is not None:
            title_field = loom.registry.object(object_name).spec.title_field
            title = record.get(title_field) if title_field else None
            found.append({"id": record_id, "title": str(title or f"#{record_id}"), "detail": ""})
    try:
        choices = LookupSearch(loom, current_actor()).search(object_name, q, limit=10).choices
    except LoomError:
        choices = []
    found += [{"id": c.id, "title": c.title, "detail": c.detail} for c in choices if c.id != record_id]
    return jsonify({"records": found})


@blueprint.get("/rules/<name>/runs")
def rule_runs(name: str) -> str:
    """The rule's newest runs: when, on which record, the condition's value, what each action did."""
    loom = current_loom()
    document, _draft, is_saved = rule_document(loom, name)
    timezone = str(loom.clock.timezone)
    with loom.read() as conn:
        runs = runs_for_rule(conn, name, 100)
    rows = [
        {
            "at": business_time(run["at"], timezone),
            "record_id": run["record_id"],
            "status": run["status"],
            "condition_value": run["condition_value"],
            "inputs": run["inputs"] or {},
            "actions": run["actions"] or [],
            "created": _created(loom.registry, run),
            "error": run["error"],
        }
        for run in runs
    ]
    return render_template(
        "builder/rules/runs.html",
        name=name,
        title=rule_title(document, name),
        object_name=document.get("object"),
        trigger=trigger_words(document.get("trigger"), document.get("object")),
        rows=rows,
        is_saved=is_saved,
    )


@blueprint.get("/rules/<name>/explain")
def rule_explain(name: str) -> str | tuple[str, int]:
    """Why the saved rule did or did not fire for record ?record=N of its object."""
    loom = current_loom()
    document, _draft, is_saved = rule_document(loom, name)
    object_name = document.get("object")
    record_id = _record_id(request.args.get("record"))
    item, problem = None, None
    if request.args.get("record") is not None and record_id is None:
        problem = _("Give a record number")
    elif record_id is not None and is_saved and isinstance(object_name, str):
        try:
            found = [e for e in explain(loom, object_name, record_id) if e.rule == name]
        except RecordNotFound:
            problem = _("There is no such record")
        except LoomError as error:
            problem = error_text(error)
        else:
            item = _explained(loom, found[0]) if found else None
    page = render_template(
        "builder/rules/explain.html",
        name=name,
        title=rule_title(document, name),
        object_name=object_name,
        record_id=record_id,
        item=item,
        problem=problem,
        is_saved=is_saved,
    )
    return (page, 404 if problem == _("There is no such record") else 422) if problem else page


def _explained(loom: Loom, item: Any) -> dict[str, Any]:
    registry = loom.registry
    rule = registry.rules[item.rule]
    verdict = item.verdict
    if not rule.active:
        said = _("The rule is switched off")
    elif verdict.startswith("condition cannot be evaluated"):
        said = _("The condition cannot be evaluated on this record")
    elif not item.condition_value:
        said = _("The condition is false now, so the rule does not fire")
    elif "already fired in this episode" in verdict:
        said = _(
            "The condition is true, but the rule already fired for this record; "
            "it fires again after the condition has been false"
        )
    elif rule.trigger.type == "schedule":
        said = _("The condition is true now: the rule fires at its next scheduled run")
    elif rule.trigger.type == "date_offset":
        said = _("The condition is true now: the rule fires on its due date")
    else:
        said = _("The condition is true now: the rule fires when its trigger happens")
    return {
        "verdict": said,
        "condition": item.condition,
        "condition_value": item.condition_value,
        "inputs": {
            **{_field_label(registry, rule.object, k): v for k, v in item.inputs.items()},
            **item.computed,
        },
        "next_due": business_time(item.next_due, item.timezone) if item.next_due else None,
        "runs": [
            {
                "at": business_time(run["at"], item.timezone),
                "trigger": run["trigger"],
                "status": run["status"],
                "created": _created(registry, run),
                "error": run["error"],
            }
            for run in item.runs
        ],
    }
