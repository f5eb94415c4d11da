"""The template gallery: rules and flows taken from everyday CRM scenarios, started as drafts.

Each template is a JSON file under builder_ui/gallery/: its kind (rule or flow), a title and a
description per locale, and the document itself. Using one asks only for a name and a label and
saves the document as a draft of that kind, which the rule builder or flow designer then opens.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Connection

from builder_ui.blueprint import blueprint
from engine.store.documents import get_document
from engine.store.drafts import get_draft, save_draft
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import label_text, page_locale

GALLERY = Path(__file__).parent / "gallery"
KINDS = ("rule", "flow")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_LABEL = 200


@dataclass(frozen=True)
class Template:
    """One template: `key` is its file's name, `order` its place in the gallery; `document` a rule or flow."""

    key: str
    order: int
    kind: str
    title: dict[str, str]
    description: dict[str, str]
    document: dict[str, Any]


@cache
def templates() -> tuple[Template, ...]:
    """Every template of the gallery, rules first, each kind in its templates' order."""
    found = []
    for path in sorted(GALLERY.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        title, description = doc["title"], doc["description"]
        found.append(
            Template(path.stem, doc.get("order", 100), doc["kind"], title, description, doc["document"])
        )
    return tuple(sorted(found, key=lambda t: (KINDS.index(t.kind), t.order, t.key)))


def template(key: str) -> Template | None:
    return next((t for t in templates() if t.key == key), None)


def name_taken(conn: Connection, kind: str, name: str) -> bool:
    """Whether a saved document or a draft of this kind already has the name."""
    return get_document(conn, kind, name) is not None or get_draft(conn, kind, name) is not None


def fresh_name(conn: Connection, kind: str, base: str) -> str:
    """`base`, or base_2, base_3, … : the first name no document or draft of the kind has."""
    name, number = base, 1
    while name_taken(conn, kind, name):
        number += 1
        name = f"{base[:58]}_{number}"
    return name


def editor_url(kind: str, name: str) -> str:
    if kind == "rule":
        return url_for("builder.rule_editor", name=name)
    # The flow designer lives in its own module; its address is fixed by the issue.
    return f"{url_for('builder.home')}flows/{name}"


@blueprint.get("/gallery")
def gallery() -> str:
    kind = request.args.get("kind")
    return _page(kind if kind in KINDS else None, {}, {})


def _page(kind: str | None, errors: dict[str, str], typed: dict[str, dict[str, str]], status: int = 200):  # type: ignore[no-untyped-def]
    loom = current_loom()
    locale = page_locale()
    cards = []
    with loom.read() as conn:
        for item in templates():
            if kind and item.kind != kind:
                continue
            document = item.document
            name = typed.get(item.key, {}).get("name") or fresh_name(conn, item.kind, document["name"])
            label = typed.get(item.key, {}).get("label") or label_text(document.get("label"), name, locale)
            cards.append(
                {
                    "key": item.key,
                    "kind": item.kind,
                    "title": label_text(item.title, item.key, locale),
                    "description": label_text(item.description, "", locale),
                    "object": _object_label(document.get("object")),
                    "name": name,
                    "label": label,
                    "error": errors.get(item.key),
                }
            )
    page = render_template("builder/gallery/index.html", cards=cards, kind=kind)
    return (page, status) if status != 200 else page


def _object_label(name: Any) -> str:
    registry = current_loom().registry
    if isinstance(name, str) and name in registry.objects:
        return label_text(registry.object(name).spec.label, name)
    return str(name)


@blueprint.post("/gallery/<key>")
def gallery_use(key: str) -> Response | tuple[str, int]:
    """Save the template as a draft under the name given, then open it in its designer."""
    item = template(key)
    if item is None:
        abort(404)
    loom, actor = current_loom(), current_actor()
    name = (request.form.get("name") or "").strip()
    label = " ".join((request.form.get("label") or "").split())
    back = request.form.get("kind") if request.form.get("kind") in KINDS else None
    error = None
    if not NAME.match(name):
        error = _("A name starts with a small letter and has only small letters, digits and _ (at most 63)")
    elif not label or len(label) > MAX_LABEL:
        error = _("Give a label of at most %(count)s characters", count=MAX_LABEL)
    with loom.begin() as conn:
        if error is None and name_taken(conn, item.kind, name):
            error = _("%(name)s is taken: choose another name", name=name)
        if error is None:
            document = json.loads(json.dumps(item.document))
            document["name"] = name
            document["label"] = {**document.get("label", {}), page_locale(): label}
            save_draft(conn, item.kind, name, document, actor=actor, at=loom.clock.now())
    if error is not None:
        return _page(back, {key: error}, {key: {"name": name, "label": label}}, 422)
    return redirect(editor_url(item.kind, name), code=303)
