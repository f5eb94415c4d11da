"""The rule builder: every automation rule; one rule's trigger, condition and actions edited in the browser.

The page edits the rule document. Saving validates it and applies it through the engine's
metadata services, as a package install would; a draft is kept without validation until then.
The actions offered, and the inputs for their settings, come from the engine's action registry
(plugins' actions too) and each action's JSON schema.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Connection

from builder_ui.blueprint import blueprint
from builder_ui.conditions import condition_texts, field_catalogue
from builder_ui.cron_words import cron_words
from builder_ui.forms import problems_by_path
from engine.base.errors import InvalidMetadata
from engine.loom import Loom
from engine.rules.explain import business_time
from engine.rules.runlog import runs_for_rule
from engine.schema.changes import apply_objects
from engine.store.documents import get_document
from engine.store.drafts import delete_draft, get_draft, list_drafts, save_draft
from metadata.expression_sites import ACTION_EXPRESSIONS
from metadata.problems import Problem
from metadata.rules import TRIGGER_TYPES
from metadata.validation import validate_rule
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_LABEL = 200
RESERVED = frozenset({"new", "cron"})


def trigger_labels() -> dict[str, str]:
    return {
        "on_create": _("When a record is created"),
        "on_update": _("When a record is changed"),
        "on_save": _("When a record is created or changed"),
        "on_delete": _("When a record is deleted"),
        "on_submit": _("When a record is submitted for approval"),
        "on_approved": _("When an approval is approved"),
        "on_rejected": _("When an approval is rejected"),
        "schedule": _("On a schedule"),
        "date_offset": _("Days before or after a date field"),
        "inbound": _("When an outside system calls in (webhook)"),
    }


def action_labels() -> dict[str, str]:
    return {
        "set_field": _("Set a field"),
        "update_related": _("Update related records"),
        "create_record": _("Create a record"),
        "add_tag": _("Add a tag"),
        "assign_owner": _("Assign an owner"),
        "notify": _("Notify users"),
        "send_email": _("Send an e-mail"),
        "call_webhook": _("Call a webhook"),
        "move_to_pool": _("Move to the pool"),
        "start_flow": _("Start an approval"),
        "reject": _("Refuse the save"),
    }


def param_labels() -> dict[str, str]:
    """Words for the settings the built-in actions share; a plugin's own settings show their names."""
    return {
        "field": _("Field"),
        "value": _("Value"),
        "values": _("Field values"),
        "object": _("Object"),
        "lookup": _("Lookup field"),
        "related": _("Related records"),
        "via": _("Pointing here through"),
        "filter": _("Only when"),
        "strategy": _("Strategy"),
        "users": _("Users"),
        "role": _("Role"),
        "map": _("Value → user"),
        "default": _("Otherwise"),
        "tag": _("Tag"),
        "to": _("To"),
        "title": _("Title"),
        "body": _("Text"),
        "subject": _("Subject"),
        "url": _("Address"),
        "payload": _("Payload"),
        "secret": _("Signing secret"),
        "flag": _("In-pool field"),
        "entered_at": _("Entered-at field"),
        "reason": _("Reason"),
        "flow": _("Approval flow"),
        "message": _("Message"),
        "fields": _("Fields"),
        "round_robin": _("Take turns"),
        "least_loaded": _("Fewest records"),
        "by_field": _("By a field's value"),
    }


def rule_title(document: dict[str, Any], name: str) -> str:
    label = document.get("label")
    return label_text(label if isinstance(label, dict) else None, name)


def trigger_words(trigger: Any, object_name: Any = None) -> str:
    """A rule's trigger in a short line of the page's language."""
    if not isinstance(trigger, dict):
        return ""
    kind = trigger.get("type")
    said = trigger_labels().get(kind, str(kind))
    if kind == "schedule" and isinstance(trigger.get("cron"), str):
        return cron_words(trigger["cron"], page_locale()) or trigger["cron"]
    if kind == "date_offset" and isinstance(trigger.get("days"), int):
        days, field = trigger["days"], _field_label(object_name, trigger.get("field"))
        at = trigger.get("at", "09:00")
        if days < 0:
            return _("%(days)s days before %(field)s, at %(at)s", days=-days, field=field, at=at)
        return _("%(days)s days after %(field)s, at %(at)s", days=days, field=field, at=at)
    if kind in ("on_update", "on_save") and isinstance(trigger.get("fields"), list):
        names = ", ".join(_field_label(object_name, name) for name in trigger["fields"])
        return said + _(" (%(fields)s)", fields=names)
    return said


def _field_label(object_name: Any, name: Any) -> str:
    registry = current_loom().registry
    model = registry.objects.get(object_name) if isinstance(object_name, str) else None
    if model is None or not isinstance(name, str) or name not in model.fields:
        return str(name)
    return label_text(model.field(name).label, name)


@blueprint.get("/rules/")
def rules_index() -> str:
    loom = current_loom()
    registry = loom.registry
    timezone = str(loom.clock.timezone)
    with loom.read() as conn:
        drafts = {d.name: d for d in list_drafts(conn, "rule")}
        rows = []
        for rule in sorted(registry.rules.values(), key=lambda r: (r.object, r.order, r.name)):
            runs = [
                {"status": run["status"], "at": business_time(run["at"], timezone)[5:16]}
                for run in runs_for_rule(conn, rule.name, 3)
            ]
            rows.append(_row(registry, rule.to_json(), rule.name, runs, rule.name in drafts))
        for name, draft in sorted(drafts.items()):
            if name not in registry.rules:
                rows.append(_row(registry, draft.body, name, [], True, only_draft=True))
    return render_template("builder/rules/index.html", rows=rows)


def _row(registry, document, name, runs, drafted, only_draft=False):  # type: ignore[no-untyped-def]
    object_name = document.get("object")
    object_label = (
        label_text(registry.object(object_name).spec.label, object_name)
        if isinstance(object_name, str) and object_name in registry.objects
        else str(object_name or "")
    )
    return {
        "name": name,
        "label": rule_title(document, name),
        "object": object_label,
        "trigger": trigger_words(document.get("trigger"), object_name),
        "active": document.get("active", True),
        "order": document.get("order", 100),
        "runs": runs,
        "draft": drafted,
        "only_draft": only_draft,
    }


@blueprint.get("/rules/new")
def rule_new() -> str:
    return _new_page({}, {})


def _new_page(typed: dict[str, str], errors: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    registry = current_loom().registry
    objects = [
        {"name": name, "label": label_text(registry.object(name).spec.label, name)}
        for name in sorted(registry.objects)
    ]
    page = render_template("builder/rules/new.html", objects=objects, typed=typed, errors=errors)
    return (page, status) if status != 200 else page


@blueprint.post("/rules/new")
def rule_create() -> Response | tuple[str, int]:
    """Start a rule as a draft: a label, a name and an object are all it needs to open the builder."""
    loom, actor = current_loom(), current_actor()
    typed = {key: " ".join((request.form.get(key) or "").split()) for key in ("label", "name", "object")}
    errors = {}
    if not typed["label"] or len(typed["label"]) > MAX_LABEL:
        errors["label"] = _("Give a label of at most %(count)s characters", count=MAX_LABEL)
    if not NAME.match(typed["name"]) or typed["name"] in RESERVED:
        errors["name"] = _(
            "A name starts with a small letter and has only small letters, digits and _ (at most 63)"
        )
    if typed["object"] not in loom.registry.objects:
        errors["object"] = _("Choose an object")
    with loom.begin() as conn:
        if not errors and _taken(conn, typed["name"]):
            errors["name"] = _("%(name)s is taken: choose another name", name=typed["name"])
        if not errors:
            document = {
                "name": typed["name"],
                "object": typed["object"],
                "label": {page_locale(): typed["label"]},
                "trigger": {"type": "on_create"},
                "actions": [],
            }
            save_draft(conn, "rule", typed["name"], document, actor=actor, at=loom.clock.now())
    if errors:
        return _new_page(typed, errors, 422)
    return redirect(url_for("builder.rule_editor", name=typed["name"]), code=303)


def _taken(conn: Connection, name: str) -> bool:
    return get_document(conn, "rule", name) is not None or get_draft(conn, "rule", name) is not None


def rule_document(loom: Loom, name: str) -> tuple[dict[str, Any], bool, bool]:
    """The document the builder edits (its draft if any), whether that is a draft, whether it is saved."""
    with loom.read() as conn:
        draft = get_draft(conn, "rule", name)
        saved = get_document(conn, "rule", name)
    if draft is None and saved is None:
        abort(404)
    if draft is not None:
        return dict(draft.body), True, saved is not None
    assert saved is not None
    return dict(saved.body), False, True


@blueprint.get("/rules/<name>")
def rule_editor(name: str) -> str:
    loom = current_loom()
    registry = loom.registry
    document, is_draft, is_saved = rule_document(loom, name)
    document.pop("$schema", None)
    objects = [
        {"name": o, "label": label_text(registry.object(o).spec.label, o)} for o in sorted(registry.objects)
    ]
    data = {
        "name": name,
        "document": document,
        "draft": is_draft,
        "saved": is_saved,
        "locale": page_locale(),
        "objects": objects,
        "fields": {o: field_catalogue(registry, o) for o in sorted(registry.objects)},
        "triggers": [{"type": t, "label": trigger_labels()[t]} for t in TRIGGER_TYPES],
        "actions": _action_catalogue(loom),
        "params": param_labels(),
        "flows": [
            {"value": f, "label": label_text(registry.flows[f].label, f)} for f in sorted(registry.flows)
        ],
        "lookups": {
            f"{o}.{f.name}": f.param("target")
            for o in sorted(registry.objects)
            for f in registry.object(o).spec.fields
            if f.type == "lookup"
        },
        "roles": [
            {"value": r, "label": label_text(registry.roles[r].label, r)} for r in sorted(registry.roles)
        ],
        "texts": {**condition_texts(), **_texts()},
        "urls": {
            "save": url_for("builder.rule_save", name=name),
            "draft": url_for("builder.rule_save_draft", name=name),
            "check": url_for("builder.rule_check", name=name),
            "cron": url_for("builder.rule_cron"),
            "condition": url_for("builder.condition_check", object_name="OBJECT"),
            "try": url_for("builder.rule_try", name=name),
            "records": url_for("builder.rule_records"),
            "explain": url_for("builder.rule_explain", name=name),
        },
    }
    return render_template(
        "builder/rules/editor.html",
        name=name,
        title=rule_title(document, name),
        data=data,
        is_draft=is_draft,
        is_saved=is_saved,
    )


def _action_catalogue(loom: Loom) -> list[dict[str, Any]]:
    """Every registered action with its settings' JSON schema and which settings are expressions."""
    labels = action_labels()
    found = []
    for type_name in sorted(loom.actions, key=lambda n: (n not in labels, n)):
        action = loom.actions.get(type_name)
        found.append(
            {
                "type": type_name,
                "label": labels.get(type_name, type_name),
                "schema": _ordered(action.params_schema or {"type": "object"}),
                "expressions": list(ACTION_EXPRESSIONS.get(type_name, ())),
                "phases": sorted(action.phases),
            }
        )
    return found


def _ordered(schema: Any) -> Any:
    """The schema with each object's property order spelled out: the page's JSON sorts keys."""
    if isinstance(schema, dict):
        found = {key: _ordered(value) for key, value in schema.items()}
        if isinstance(schema.get("properties"), dict):
            found["x-order"] = list(schema["properties"])
        return found
    if isinstance(schema, list):
        return [_ordered(item) for item in schema]
    return schema


def _texts() -> dict[str, str]:
    return {
        "basics": _("Basics"),
        "trigger": _("Trigger"),
        "condition": _("Condition"),
        "actions_title": _("Actions"),
        "label": _("Label"),
        "object": _("Object"),
        "order": _("Order"),
        "order_help": _("Rules fired by the same event run from the smallest order up."),
        "active": _("Switched on"),
        "trigger_type": _("Fires"),
        "condition_when": _("Only when"),
        "fire": _("How often"),
        "every_time": _("Every time the trigger finds the condition true"),
        "once_per_episode": _("Once, until the condition has been false again"),
        "action_type": _("Action"),
        "expression_help": _("An expression over the record, e.g. 'text' + name or add_days(today(), 1)"),
        "draft_state": _("A draft: it does not run until you save it."),
        "section": _("Group"),
        "owner": _("Owner"),
        "saved": _("Rule saved"),
        "not_saved": _("The rule was not saved"),
        "draft_saved": _("Draft saved"),
        "problems": _("Problems"),
        "no_problems": _("No problems found"),
        "add_action": _("Add the action"),
        "remove": _("Remove"),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "action_n": _("Action %(n)s"),
        "add_value": _("Add a value"),
        "key": _("Name"),
        "none": _("(none)"),
        "before": _("before"),
        "after": _("after"),
        "days": _("Days"),
        "at": _("At"),
        "date_field": _("Date field"),
        "changed_fields": _("Only when these fields change (none: any change)"),
        "phase": _("When it runs"),
        "after_save": _("After the record is saved"),
        "before_save": _("Before the record is saved (may change or refuse it)"),
        "cron": _("Cron (minute hour day month weekday)"),
        "cron_raw": _("Runs at: %(cron)s (as written)"),
        "inbound_help": _("Outside systems call POST /api/v1/hooks/%(name)s with the rule's key."),
        "flow_help": _("Runs when an approval of this object moves."),
        "comma_list": _("Separate with commas"),
        "try_needs_record": _("Choose a record first"),
        "would_fire": _("The condition is true: the rule would fire"),
        "would_not_fire": _("The condition is false: the rule would not fire"),
        "would_fail": _("The rule would fail"),
        "condition_value": _("Condition value"),
        "inputs": _("Inputs it read"),
        "effects": _("What it would do"),
        "would_create": _("Would create %(object)s"),
        "would_update": _("Would change %(object)s #%(id)s"),
        "would_notify": _("Would notify %(user)s"),
        "would_send": _("Would send by %(channel)s"),
        "would_ask": _("Would ask %(user)s to approve (%(node)s)"),
        "would_trigger": _("Would trigger rule %(rule)s"),
        "nothing_written": _("Nothing was saved."),
        "no_effects": _("It would change nothing"),
        "true": _("true"),
        "false": _("false"),
        "empty": _("(empty)"),
        "searching": _("Searching…"),
        "no_records": _("No records found"),
        "explain_record": _("Explain for record #%(id)s"),
        "payload_bad": _("The sample call body is not JSON"),
        "fired": _("fired"),
        "skipped": _("skipped"),
        "failed_run": _("failed"),
        "stopped": _("stopped"),
    }


@blueprint.post("/rules/cron")
def rule_cron() -> Response:
    """A cron schedule in words: {"cron"} → {"words"} (null when not a common shape)."""
    body = request.get_json(silent=True)
    cron = body.get("cron") if isinstance(body, dict) else None
    if not isinstance(cron, str) or len(cron) > 200:
        return jsonify({"words": None})
    return jsonify({"words": cron_words(cron, page_locale())})


def posted_rule(name: str) -> dict[str, Any] | tuple[Response, int]:
    """The posted {"document": {...}}, named as its address says; a 400 answer when it is not JSON."""
    body = request.get_json(silent=True)
    document = body.get("document") if isinstance(body, dict) else None
    if not isinstance(document, dict):
        return jsonify({"error": _("Send the rule document as JSON"), "fields": {}}), 400
    document = dict(document)
    document["name"] = name
    document.pop("$schema", None)
    return document


def rule_problems(loom: Loom, document: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """The rule as a spec and its problems: the schema's, the metadata checks' and the engine's."""
    file = f"rules/{document['name']}.json"
    result = validate_rule(document, file, known_objects=loom.registry.specs())
    if result.problems:
        return None, list(result.problems)
    [rule] = result.rules
    try:
        apply_objects(loom, [], rules=[rule], dry_run=True, files={f"rule:{rule.name}": file})
    except InvalidMetadata as error:
        return rule, list(error.problems)
    return rule, []


def refused(problems: list[Problem]) -> tuple[Response, int]:
    return jsonify({"error": _("The rule was not saved"), "fields": problems_by_path(problems)}), 422


@blueprint.post("/rules/<name>/check")
def rule_check(name: str) -> Response | tuple[Response, int]:
    """The posted document's problems by JSON path, as the page shows them next to the controls."""
    document = posted_rule(name)
    if isinstance(document, tuple):
        return document
    problems = rule_problems(current_loom(), document)[1]
    return jsonify({"fields": problems_by_path(problems)})


@blueprint.post("/rules/<name>")
def rule_save(name: str) -> Response | tuple[Response, int]:
    """Validate and apply the posted rule; its draft, if any, goes in the same transaction."""
    loom, actor = current_loom(), current_actor()
    document = posted_rule(name)
    if isinstance(document, tuple):
        return document
    if not NAME.match(name):
        abort(404)
    rule, problems = rule_problems(loom, document)
    if problems:
        return refused(problems)
    file = f"rules/{name}.json"
    try:
        plan = apply_objects(
            loom,
            [],
            rules=[rule],
            actor=actor,
            files={f"rule:{name}": file},
            before_commit=lambda conn: delete_draft(conn, "rule", name),
        )
    except InvalidMetadata as error:
        return refused(error.problems)
    return jsonify(
        {
            "saved": True,
            "message": _("Rule saved"),
            "changes": [str(line) for line in plan.lines()],
            "runs": url_for("builder.rule_runs", name=name),
            "explain": url_for("builder.rule_explain", name=name),
        }
    )


@blueprint.post("/rules/<name>/draft")
def rule_save_draft(name: str) -> Response | tuple[Response, int]:
    """Keep the rule as it is, valid or not, without changing what runs."""
    loom, actor = current_loom(), current_actor()
    if not NAME.match(name):
        abort(404)
    document = posted_rule(name)
    if isinstance(document, tuple):
        return document
    try:
        with loom.begin() as conn:
            save_draft(conn, "rule", name, document, actor=actor, at=loom.clock.now())
    except InvalidMetadata as error:
        return refused(error.problems)
    return jsonify({"saved": True, "message": _("Draft saved")})


@blueprint.post("/rules/<name>/draft/discard")
def rule_discard_draft(name: str) -> Response:
    """Forget the draft: back to the saved rule, or to the list when the rule was never saved."""
    loom = current_loom()
    with loom.begin() as conn:
        if get_draft(conn, "rule", name) is None:
            abort(404)
        delete_draft(conn, "rule", name)
        saved = get_document(conn, "rule", name) is not None
    target = url_for("builder.rule_editor", name=name) if saved else url_for("builder.rules_index")
    return redirect(target, code=303)
