"""The flow designer: an approval flow drawn as DingTalk draws it, edited in the browser as the flow
document itself, laid out and checked by the server, saved as a draft, simulated and published.

The page changes the document (insert, delete, branches, a node's settings) and posts it to /check,
which answers with the layout tree, each node's card and the problems found by the same validation
as `loom validate` and a package install, each under the node its JSON path names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from builder_ui.blueprint import blueprint
from builder_ui.conditions import field_catalogue
from builder_ui.flows_cards import Org, cards
from builder_ui.flows_layout import lay_out, node_of_path
from builder_ui.flows_texts import designer_texts
from engine.base.errors import InvalidMetadata, LoomError
from engine.expressions import check
from engine.flows.simulation import path_of, simulate_flow
from engine.flows.versions import flow_versions
from engine.identity import actor_for
from engine.identity.departments import list_departments
from engine.identity.users import list_users
from engine.records.lookup_search import LookupSearch
from engine.schema.changes import apply_objects
from engine.schema.checks import field_kinds
from engine.store.drafts import delete_draft, get_draft, list_drafts, save_draft
from engine.store.system_tables import flow_instances
from metadata.flow_checks import flow_problems
from metadata.flows import FlowSpec
from metadata.problems import Problem
from metadata.validation import validate_flow
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, said_problem

MAX_DOCUMENT = 200_000  # characters of JSON: far more than any flow a person draws
MAX_EXPRESSION = 2000
MAX_NODES = 200  # a flow people approve along has tens of steps; the layout recurses per nesting
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _document(name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The flow's draft body (if any) and its published document (if any)."""
    loom = current_loom()
    with loom.read() as conn:
        draft = get_draft(conn, "flow", name)
    published = loom.registry.flows.get(name)
    return (draft.body if draft else None), (published.to_json() if published else None)


def _org(object_name: str | None) -> Org:
    loom = current_loom()
    registry = loom.registry
    org = Org()
    org.users = {u["username"]: u["display_name"] or u["username"] for u in list_users(loom)}
    org.roles = {name: label_text(role.label, name) for name, role in registry.roles.items()}
    org.departments = {d["name"]: d["name"] for d in list_departments(loom)}
    if object_name in registry.objects:
        model = registry.object(object_name)
        org.fields = {f.name: label_text(f.label, f.name) for f in model.spec.fields}
    return org


def _catalogue(object_name: str) -> dict[str, Any]:
    """What the side panel offers: users, roles, departments, the object's fields and objects."""
    loom = current_loom()
    registry = loom.registry
    fields = field_catalogue(registry, object_name) if object_name in registry.objects else []
    return {
        "users": [
            {"value": u["username"], "label": u["display_name"] or u["username"]}
            for u in list_users(loom, include_disabled=False)
        ],
        "roles": [
            {"value": name, "label": label_text(role.label, name)}
            for name, role in sorted(registry.roles.items())
        ],
        "departments": [{"value": d["name"], "label": d["name"]} for d in list_departments(loom)],
        "fields": fields,
        "objects": [
            {"value": name, "label": label_text(registry.object(name).spec.label, name)}
            for name in sorted(registry.objects)
        ],
    }


def problems_of(doc: Any) -> list[Problem]:
    """The flow's problems as `loom validate` and a package install find them (nothing is written)."""
    loom = current_loom()
    name = doc.get("name") if isinstance(doc, dict) and isinstance(doc.get("name"), str) else "flow"
    file = f"flows/{name}.json"
    known = loom.registry.specs()
    result = validate_flow(doc, file, known_objects=known)
    if result.problems:
        return list(result.problems) + _graph_problems(doc, file, known, result.problems)
    try:
        apply_objects(loom, [], flows=list(result.flows), actor=current_actor(), dry_run=True)
    except InvalidMetadata as error:
        return list(error.problems)
    return []


def _graph_problems(doc: Any, file: str, known: Mapping[str, Any], found: list[Problem]) -> list[Problem]:
    """The graph's problems (unreachable steps …) of a draft the schema already refuses, when it can be
    read as a flow: a step without approvers should not hide that another one is unreachable."""
    try:
        flow = FlowSpec.from_json(doc)
        more = flow_problems(flow, file, known)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError):
        return []
    seen = {problem.path for problem in found}
    return [problem for problem in more if problem.path not in seen]


BRANCH_PATH = re.compile(r"^/nodes/([^/]+)/branches/(\d+)(?:/|$)")


def _said(problems: list[Problem]) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """Problems under the node their path names (a condition's branch as "<node>#<index>"); the
    others (the flow's own) with their path."""
    on_nodes: dict[str, list[str]] = {}
    general: list[dict[str, str]] = []
    for problem in problems:
        node = node_of_path(problem.path)
        branch = BRANCH_PATH.match(problem.path)
        if branch is not None:
            node = f"{branch.group(1)}#{branch.group(2)}"
        if node is not None:
            on_nodes.setdefault(node, []).append(said_problem(problem.message))
        else:
            general.append({"path": problem.path or "/", "message": said_problem(problem.message)})
    return on_nodes, general


def _view(doc: dict[str, Any]) -> dict[str, Any]:
    """What the page draws for a document: the layout, the cards and the problems."""
    on_nodes, general = _said(problems_of(doc))
    object_name = doc.get("object") if isinstance(doc.get("object"), str) else None
    drawn = cards(doc, _org(object_name))
    for node in [node for node in on_nodes if node.split("#")[0] not in drawn]:
        # A problem about a step that has no card (a malformed one) is shown above the drawing.
        general += [{"path": f"/nodes/{node}", "message": message} for message in on_nodes.pop(node)]
    return {
        "layout": lay_out(doc),
        "cards": drawn,
        "problems": on_nodes,
        "general": general,
        "valid": not on_nodes and not general,
    }


def _body() -> Any:
    """The request's JSON, or None when it is none (or nested deeper than the parser goes)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _posted(name: str) -> dict[str, Any] | tuple[Response, int]:
    """The posted flow document, or a 400 when there is none; its name is the page's flow."""
    if (request.content_length or 0) > MAX_DOCUMENT * 4:
        return jsonify({"error": _("The flow is too large")}), 400
    body = _body()
    document = body.get("document") if isinstance(body, dict) else None
    if not isinstance(document, dict):
        return jsonify({"error": _("Send the flow document as JSON")}), 400
    try:
        size = len(json.dumps(document, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return jsonify({"error": _("Send the flow document as JSON")}), 400
    nodes = document.get("nodes")
    if size > MAX_DOCUMENT or (isinstance(nodes, dict) and len(nodes) > MAX_NODES):
        return jsonify({"error": _("The flow is too large")}), 400
    document = dict(document)
    document["name"] = name  # the page edits this flow, whatever name the browser sends
    return document


def _known(name: str) -> tuple[dict[str, Any], bool]:
    """The document the designer opens (the draft, else the published flow) and whether it is a draft."""
    if not NAME.match(name):
        abort(404)
    draft, published = _document(name)
    if draft is None and published is None:
        abort(404)
    return (draft, True) if draft is not None else (published, False)  # type: ignore[return-value]


def _running_counts() -> dict[str, int]:
    loom = current_loom()
    with loom.read() as conn:
        rows = conn.execute(
            select(flow_instances.c.flow, func.count())
            .where(flow_instances.c.status == "running")
            .group_by(flow_instances.c.flow)
        ).all()
    return {flow: count for flow, count in rows}


@blueprint.get("/flows/")
def flows_index() -> str:
    loom = current_loom()
    registry = loom.registry
    with loom.read() as conn:
        drafts = {d.name: d for d in list_drafts(conn, "flow")}
    running = _running_counts()
    with loom.read() as conn:
        versions = {name: len(flow_versions(conn, name)) for name in registry.flows}
    rows = []
    for name in sorted(set(registry.flows) | set(drafts)):
        flow = registry.flows.get(name)
        body = drafts[name].body if name in drafts else {}
        object_name = flow.object if flow else body.get("object")
        label = flow.label if flow else (body.get("label") if isinstance(body.get("label"), dict) else None)
        rows.append(
            {
                "name": name,
                "label": label_text(label, name),
                "object": label_text(registry.object(object_name).spec.label, object_name)
                if object_name in registry.objects
                else str(object_name or ""),
                "active": flow.active if flow else None,
                "published": flow is not None,
                "versions": versions.get(name, 1 if flow else 0),
                "running": running.get(name, 0),
                "draft": name in drafts,
            }
        )
    objects = [
        {"name": name, "label": label_text(registry.object(name).spec.label, name)}
        for name in sorted(registry.objects)
    ]
    return render_template("builder/flows/index.html", flows=rows, objects=objects, error=None)


def new_flow_document(name: str, object_name: str, label_zh: str, label_en: str) -> dict[str, Any]:
    """A new flow as the designer starts it: the submitter's manager approves, then it ends."""
    label = {"zh_CN": label_zh} | ({"en": label_en} if label_en else {})
    return {
        "name": name,
        "object": object_name,
        "label": label,
        "start": "manager",
        "nodes": {
            "manager": {
                "type": "approval",
                "label": {"zh_CN": "上级审批", "en": "Manager"},
                "approvers": [{"manager_of": "submitter"}],
                "next": "approved",
            },
            "approved": {"type": "end", "label": {"zh_CN": "审批通过", "en": "Approved"}},
        },
    }


@blueprint.post("/flows/")
def flow_create() -> WerkzeugResponse | tuple[str, int]:
    loom, actor = current_loom(), current_actor()
    registry = loom.registry
    name = (request.form.get("name") or "").strip()
    object_name = request.form.get("object") or ""
    label_zh = (request.form.get("label_zh") or "").strip()[:200]
    label_en = (request.form.get("label_en") or "").strip()[:200]
    error = None
    with loom.read() as conn:
        taken = name in registry.flows or get_draft(conn, "flow", name[:63]) is not None
    if not NAME.match(name):
        error = _("The name is a lowercase identifier: a letter a-z, then letters, digits or _")
    elif taken:
        error = _("A flow named %(name)s exists already", name=name)
    elif object_name not in registry.objects:
        error = _("Choose the object whose records the flow approves")
    elif not label_zh:
        error = _("Give the flow a name in Chinese")
    if error:
        objects = [
            {"name": n, "label": label_text(registry.object(n).spec.label, n)}
            for n in sorted(registry.objects)
        ]
        page = render_template("builder/flows/index.html", flows=[], objects=objects, error=error)
        return page, 422
    with loom.begin() as conn:
        save_draft(
            conn,
            "flow",
            name,
            new_flow_document(name, object_name, label_zh, label_en),
            actor=actor,
            at=loom.clock.now(),
        )
    return redirect(url_for("builder.flow_designer", name=name))


@blueprint.get("/flows/<name>")
def flow_designer(name: str) -> str:
    document, is_draft = _known(name)
    object_name = document.get("object") if isinstance(document.get("object"), str) else ""
    published = current_loom().registry.flows.get(name)
    return render_template(
        "builder/flows/designer.html",
        name=name,
        title=label_text(document.get("label") if isinstance(document.get("label"), dict) else None, name),
        document=document,
        is_draft=is_draft,
        published=published is not None,
        catalogue=_catalogue(object_name),
        texts=designer_texts(),
    )


@blueprint.post("/flows/<name>/check")
def flow_check(name: str) -> tuple[Response, int] | Response:
    """The layout, cards and problems of the posted document; nothing is saved."""
    _known(name)
    document = _posted(name)
    if isinstance(document, tuple):
        return document
    return jsonify(_view(document))


@blueprint.post("/flows/<name>/draft")
def flow_save_draft(name: str) -> tuple[Response, int] | Response:
    """Keep the posted document as the flow's draft, valid or not."""
    _known(name)
    document = _posted(name)
    if isinstance(document, tuple):
        return document
    loom, actor = current_loom(), current_actor()
    try:
        with loom.begin() as conn:
            save_draft(conn, "flow", name, document, actor=actor, at=loom.clock.now())
    except InvalidMetadata:
        return jsonify({"error": _("Send the flow document as JSON")}), 400
    return jsonify({"saved": True, "message": _("Draft saved")})


@blueprint.post("/flows/<name>/draft/discard")
def flow_discard_draft(name: str) -> WerkzeugResponse:
    """Forget the draft: back to the published flow, or to the list when it was never published."""
    if not NAME.match(name):
        abort(404)
    loom = current_loom()
    with loom.begin() as conn:
        if get_draft(conn, "flow", name) is None:
            abort(404)
        delete_draft(conn, "flow", name)
    published = name in loom.registry.flows
    target = url_for("builder.flow_designer", name=name) if published else url_for("builder.flows_index")
    return redirect(target, code=303)


@blueprint.post("/flows/<name>/publish")
def flow_publish(name: str) -> tuple[Response, int] | Response:
    """Publish the posted document as the flow's new version and forget the draft; 422 with the problems."""
    _known(name)
    document = _posted(name)
    if isinstance(document, tuple):
        return document
    loom, actor = current_loom(), current_actor()
    file = f"flows/{name}.json"
    result = validate_flow(document, file, known_objects=loom.registry.specs())
    problems = list(result.problems)
    if not problems:
        try:
            apply_objects(
                loom,
                [],
                flows=list(result.flows),
                actor=actor,
                files={f"flow:{name}": file},
                before_commit=lambda conn: delete_draft(conn, "flow", name),
            )
        except InvalidMetadata as error:
            problems = list(error.problems)
    if problems:
        on_nodes, general = _said(problems)
        message = _("The flow was not published: fix the problems shown")
        return jsonify({"error": message, "problems": on_nodes, "general": general}), 422
    return jsonify({"published": True, "message": _("Published: new submissions follow this version")})


@blueprint.get("/flows/<name>/versions")
def flow_version_list(name: str) -> Response:
    """Each published version: when, by whom, and how many approvals run or ran on it."""
    _known(name)
    loom = current_loom()
    with loom.read() as conn:
        versions = flow_versions(conn, name)
    users = {u["id"]: u["display_name"] or u["username"] for u in list_users(loom)}
    return jsonify(
        {
            "versions": [
                {
                    "revision": v.revision,
                    "at": v.saved_at.strftime("%Y-%m-%d %H:%M") if v.saved_at else "",
                    "by": users.get(v.saved_by, _("the system")) if v.saved_by else _("the system"),
                    "current": v.current,
                    "running": v.running,
                    "finished": v.finished,
                }
                for v in versions
            ]
        }
    )


@blueprint.get("/flows/<name>/records")
def flow_records(name: str) -> Response:
    """Records of the flow's object to simulate on, found by the start of their title."""
    document, _draft = _known(name)
    object_name = document.get("object")
    loom = current_loom()
    if object_name not in loom.registry.objects:
        return jsonify({"records": []})
    q = request.args.get("q", "")[:100].strip()
    records = []
    number = q.lstrip("#")
    title = loom.registry.object(object_name).spec.title_field or "name"
    if number.isdigit() and 0 < int(number) < 2**63:
        # A record's id typed as it is shown (#12) finds that record, whatever its title.
        try:
            record = loom.records(current_actor()).get(object_name, int(number))
            records.append({"id": record["id"], "title": str(record.get(title) or ""), "detail": ""})
        except LoomError:
            pass
    try:
        found = LookupSearch(loom, current_actor()).search(object_name, q)
    except LoomError:
        return jsonify({"records": records})
    records += [
        {"id": c.id, "title": c.title, "detail": c.detail}
        for c in found.choices
        if c.id not in {r["id"] for r in records}
    ]
    return jsonify({"records": records})


@blueprint.post("/flows/<name>/simulate")
def flow_simulate(name: str) -> tuple[Response, int] | Response:
    """The path the posted document would take for a record and a submitter, and who would be asked."""
    _known(name)
    document = _posted(name)
    if isinstance(document, tuple):
        return document
    body = _body() or {}
    loom = current_loom()
    record_id, submitter = body.get("record_id"), body.get("submitter")
    if isinstance(record_id, str) and record_id.strip().isdigit():
        record_id = int(record_id)
    if not isinstance(record_id, int) or isinstance(record_id, bool) or not 0 < record_id < 2**63:
        return jsonify({"error": _("Choose a record")}), 400
    users = {u["username"]: u for u in list_users(loom, include_disabled=False)}
    if not isinstance(submitter, str) or submitter not in users:
        return jsonify({"error": _("Choose the submitter")}), 400
    result = validate_flow(document, f"flows/{name}.json", known_objects=loom.registry.specs())
    if result.problems:
        on_nodes, general = _said(list(result.problems))
        return jsonify(
            {"error": _("Fix the flow's problems first"), "problems": on_nodes, "general": general}
        ), 422
    [flow] = result.flows
    simulation = simulate_flow(loom, flow, record_id, actor_for(loom, users[submitter]["id"]))
    if simulation.error:
        return jsonify({"error": said_problem(simulation.error)}), 422
    outcomes = {"approved": _("Approved"), "rejected": _("Rejected")}
    return jsonify(
        {
            "path": path_of(simulation),
            "outcome": outcomes.get(simulation.outcome, _("Still waiting")),
        }
    )


@blueprint.post("/flows/<name>/expression")
def flow_expression(name: str) -> Response:
    """Whether an action's value expression reads over the flow's object: {"text"} → {"ok", "problems"}."""
    document, _draft = _known(name)
    loom = current_loom()
    body = _body()
    text = body.get("text") if isinstance(body, dict) else None
    object_name = document.get("object")
    if not isinstance(text, str) or not text.strip():
        return jsonify({"ok": False, "problems": [_("Write an expression")]})
    if len(text) > MAX_EXPRESSION:
        return jsonify({"ok": False, "problems": [_("The expression is too long")]})
    if object_name not in loom.registry.objects:
        return jsonify({"ok": False, "problems": [_("The flow's object does not exist")]})
    kinds = field_kinds(loom.registry.object(object_name).spec, loom.registry.specs())
    problems = check(text, kinds, loom.functions)
    return jsonify({"ok": not problems, "problems": [said_problem(p) for p in problems]})
