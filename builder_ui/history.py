"""变更历史: every metadata document's revisions, a readable diff, and reverting to any revision."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from engine.base.errors import InvalidMetadata, LoomError
from engine.schema.changes import ChangePlan
from engine.schema.history import (
    NotRevertible,
    RevisionNotFound,
    get_revision,
    is_revertible,
    list_revisions,
    revert_to,
    revision_kinds,
)
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import said, said_problem

PAGE = 100


@dataclass(frozen=True)
class DiffLine:
    """One change said in words: what (a field with its label, or a setting), how, and the values."""

    op: str  # add, remove, change
    subject: str
    detail: str
    old: str
    new: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _summary(element: Any) -> str:
    """A whole field or option in a few words: its type, or its label."""
    if isinstance(element, dict) and isinstance(element.get("type"), str):
        return _("Type: %(type)s", type=element["type"])
    if isinstance(element, dict) and "label" in element:
        return _label(element["label"], _text(element.get("value")))
    return _text(element)


def _label(label: Any, fallback: str) -> str:
    """A label in the reader's language: {"zh_CN": …, "en": …} or a plain string."""
    if isinstance(label, str):
        return label
    if isinstance(label, dict):
        locale = str(get_locale() or "zh_CN")
        for key in (locale, locale.split("_")[0], "zh_CN", "en"):
            if isinstance(label.get(key), str):
                return label[key]
    return fallback


def _element(body: dict[str, Any] | None, collection: str, key: str) -> dict[str, Any] | None:
    for element in (body or {}).get(collection) or []:
        if isinstance(element, dict) and key in (element.get("name"), element.get("value")):
            return element
    return None


def _setting(segment: str) -> str:
    names = {
        "label": _("Label"),
        "type": _("Type"),
        "required": _("Required"),
        "options": _("Options"),
        "help": _("Help text"),
        "default": _("Default"),
        "params": _("Settings"),
        "fields": _("Fields"),
        "description": _("Description"),
        "zh_CN": _("Chinese"),
        "en": _("English"),
    }
    return names.get(segment, segment)


def _segments(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]] if path else []


def readable_diff(revision: dict[str, Any]) -> list[DiffLine]:
    """The revision's changes in words, fields named by their labels (from the side that has them)."""
    before, after = revision["before"], revision["after"]
    lines: list[DiffLine] = []
    for change in revision["diff"] or []:
        op, parts = change["op"], _segments(change["path"])
        old, new = change.get("old"), change.get("new")
        if not parts:
            subject = _label((after or before or {}).get("label"), revision["name"])
            lines.append(
                DiffLine(op, subject, _("Document created") if op == "add" else _("Document removed"), "", "")
            )
            continue
        if len(parts) >= 2 and parts[1] == "#order":
            lines.append(DiffLine("change", _setting(parts[0]), _("Order changed"), _text(old), _text(new)))
            continue
        if len(parts) >= 2 and parts[1].startswith("@"):
            key = parts[1][1:]
            element = _element(after, parts[0], key) or _element(before, parts[0], key) or {}
            name = _label(element.get("label"), key)
            subject = (
                _("Field %(label)s (%(name)s)", label=name, name=key)
                if parts[0] == "fields"
                else (f"{_setting(parts[0])} · {name} ({key})")
            )
            if len(parts) == 2:
                detail = _("Added") if op == "add" else _("Removed") if op == "remove" else _("Changed")
                lines.append(DiffLine(op, subject, detail, _summary(old), _summary(new)))
            else:
                detail = " › ".join(_setting(part) for part in parts[2:])
                lines.append(DiffLine(op, subject, detail, _text(old), _text(new)))
            continue
        detail = " › ".join(_setting(part) for part in parts)
        lines.append(DiffLine(op, _("Settings"), detail, _text(old), _text(new)))
    return lines


@dataclass(frozen=True)
class PlanLine:
    """One step of a plan in words, with the engine's own text of it and whether it removes something."""

    words: str
    code: str
    destructive: bool
    action: str


DOCUMENT_LINE = re.compile(r"([+~-]) (\w+) (\S+)(?: \((\d+) change\(s\)\))?")


def _step_words(action: str) -> str:
    names = {
        "create_table": _("Create table"),
        "add_column": _("Add column"),
        "restore_column": _("Restore archived column, with its values"),
        "archive_column": _("Archive column"),
        "convert_column": _("Convert column"),
        "alter_column": _("Change column"),
        "create_index": _("Create index"),
        "drop_index": _("Drop index"),
        "archive_table": _("Archive table"),
        "drop_table": _("Drop empty table"),
    }
    return names.get(action, action)


def plan_lines(plan: ChangePlan) -> list[PlanLine]:
    """Each line of a plan said in words; removing or archiving steps marked."""
    lines: list[PlanLine] = []
    for line in plan.documents:
        found = DOCUMENT_LINE.fullmatch(line)
        if found is None:
            lines.append(PlanLine(line, "", line.startswith("-"), "document"))
            continue
        op, kind, name, count = found.groups()
        verb = {"+": _("Add"), "~": _("Modify"), "-": _("Remove")}[op]
        code = name if count is None else f"{name} · " + _("%(count)s change(s)", count=count)
        lines.append(PlanLine(f"{verb} {kind_label(kind)}", code, op == "-", f"document {op}"))
    for step in [*plan.sync.steps, *plan.removals]:
        code = f"{step.table}: {said(step.detail)}" if step.detail else step.table
        lines.append(PlanLine(_step_words(step.action), code, step.destructive, step.action))
    return lines


def kind_label(kind: str) -> str:
    names = {
        "object": _("Object"),
        "rule": _("Rule"),
        "role": _("Role"),
        "flow": _("Approval flow"),
        "form": _("Form"),
        "report": _("Report"),
        "dashboard": _("Dashboard"),
        "package": _("Package"),
    }
    return names.get(kind, kind)


def action_label(action: str) -> str:
    names = {"create": _("Created"), "update": _("Changed"), "delete": _("Removed")}
    return names.get(action, action)


@blueprint.context_processor
def history_words() -> dict[str, Any]:
    return {"kind_label": kind_label, "action_label": action_label, "said_problem": said_problem}


def _revision_or_404(revision_id: int) -> dict[str, Any]:
    try:
        return get_revision(current_loom(), revision_id)
    except RevisionNotFound:
        abort(404)


@blueprint.get("/history/")
def history() -> str:
    loom = current_loom()
    kind = request.args.get("kind", "").strip()[:40]
    name = request.args.get("name", "").strip()[:100]
    before = request.args.get("before", type=int)
    rows = list_revisions(loom, kind=kind or None, name=name or None, limit=PAGE + 1, before=before)
    return render_template(
        "builder/history/list.html",
        revisions=rows[:PAGE],
        kinds=revision_kinds(loom),
        kind=kind,
        name=name,
        more=rows[PAGE - 1].id if len(rows) > PAGE else None,
    )


@blueprint.get("/history/<int:revision_id>")
def revision_page(revision_id: int) -> str:
    revision = _revision_or_404(revision_id)
    raw = [
        {"op": c["op"], "path": c["path"] or "/", "old": c.get("old"), "new": c.get("new")}
        for c in revision["diff"] or []
    ]
    return render_template(
        "builder/history/revision.html",
        revision=revision,
        lines=readable_diff(revision),
        raw=json.dumps(raw, ensure_ascii=False, indent=2, sort_keys=True),
        revertible=is_revertible(revision),
    )


@blueprint.route("/history/<int:revision_id>/revert", methods=["GET", "POST"])
def revert(revision_id: int) -> str | Response | tuple[str, int]:
    """GET shows the plan of reapplying the revision's document; POST applies it."""
    revision = _revision_or_404(revision_id)
    loom, actor = current_loom(), current_actor()
    applying = request.method == "POST"
    try:
        plan = revert_to(loom, revision_id, actor=actor, dry_run=not applying)
    except InvalidMetadata as error:
        problems = sorted(error.problems, key=str)
        page = render_template("builder/history/revert.html", revision=revision, plan=None, problems=problems)
        return page, 422
    except NotRevertible:
        message = _("This revision removed the document: revert to an earlier revision to bring it back.")
        page = render_template(
            "builder/history/revert.html", revision=revision, plan=None, problems=[], refused=message
        )
        return page, 409
    except LoomError as error:
        page = render_template(
            "builder/history/revert.html", revision=revision, plan=None, problems=[], refused=error.message
        )
        return page, 409
    if applying:
        if plan.empty:
            flash(_("Nothing to change: the document is already as in this revision."), "info")
        else:
            flash(
                _(
                    "Reverted %(kind)s %(name)s to revision %(id)s.",
                    kind=kind_label(revision["kind"]),
                    name=revision["name"],
                    id=revision_id,
                ),
                "success",
            )
        return redirect(url_for("builder.history", kind=revision["kind"], name=revision["name"]))
    return render_template(
        "builder/history/revert.html", revision=revision, plan=plan_lines(plan), problems=[], empty=plan.empty
    )
