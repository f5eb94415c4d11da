"""Planning an object change from the designer's draft: validate, dry-run, fingerprint, then apply.

The draft is the object document itself (as in a package file). Roles ticked in the designer get
a grant on the object in the same change, through the same engine call, so the new object appears
in their navigation at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from engine.base.actors import Actor
from engine.base.errors import InvalidMetadata, SchemaChangeRefused
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.documents import get_document, load_documents
from metadata import validation
from metadata.forms import FormSpec
from metadata.problems import Problem
from metadata.roles import RoleSpec
from metadata.specs import ObjectSpec

#: What a ticked role may do with an object it is granted in the designer: every rep adds records
#: and sees them all, and changes only their own.
NEW_GRANT: dict[str, Any] = {"create": True, "read": "all", "update": "own"}


@dataclass
class PlanLine:
    text: str
    destructive: bool = False


@dataclass
class Plan:
    """What saving the draft would do, or why it cannot."""

    lines: list[PlanLine] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # JSON path → messages
    refusal: str = ""
    blocking_ids: list[Any] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.refusal

    @property
    def destructive(self) -> bool:
        return any(line.destructive for line in self.lines)


def safe_name(text: str, fallback: str, taken: Collection[str] = (), limit: int = 58) -> str:
    """A lowercase identifier from a label (letters and digits only; no transliteration)."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit]
    if not base or not base[0].isalpha():
        base = fallback
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def parse_draft(text: str) -> dict[str, Any] | None:
    """The posted draft document, or None when it is not a JSON object."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _problems_by_path(problems: list[Problem], file: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in problems:
        key = (problem.path or "/") if problem.file == file else f"{problem.file}:{problem.path or '/'}"
        found.setdefault(key, []).append(problem.message)
    return found


def _role_specs(loom: Loom, conn: Any, name: str, grants: list[str], spec: ObjectSpec) -> list[RoleSpec]:
    roles = []
    known = {**loom.registry.specs(), spec.name: spec}
    for role in sorted(set(grants)):
        stored = get_document(conn, "role", role)
        if stored is None:
            continue
        body = json.loads(json.dumps(stored.body))
        objects = body.setdefault("objects", {})
        if name in objects:
            continue
        objects[name] = dict(NEW_GRANT)
        result = validation.validate_role(body, f"roles/{role}.json", known_objects=known)
        if result.problems:
            raise InvalidMetadata(result.problems)
        roles.extend(result.roles)
    return roles


def _field_names(doc: dict[str, Any] | None) -> list[str]:
    fields = doc.get("fields") if isinstance(doc, dict) else None
    if not isinstance(fields, list):
        return []
    return [f["name"] for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)]


def forget_removed(doc: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """The draft without the object's own references to fields it removed (search, list, keys, cards)."""
    gone = set(_field_names(before)) - set(_field_names(doc))
    if not gone:
        return doc
    doc = json.loads(json.dumps(doc))
    if isinstance(doc.get("search_fields"), list):
        doc["search_fields"] = [f for f in doc["search_fields"] if f not in gone]
    if isinstance(doc.get("unique_keys"), list):
        doc["unique_keys"] = [k for k in doc["unique_keys"] if not (isinstance(k, list) and gone & set(k))]
    shown = doc.get("list")
    if isinstance(shown, dict):
        if isinstance(shown.get("columns"), list):
            shown["columns"] = [c for c in shown["columns"] if c not in gone]
        if isinstance(shown.get("sort"), list):
            shown["sort"] = [c for c in shown["sort"] if not (isinstance(c, str) and c.lstrip("-") in gone)]
    board = doc.get("kanban")
    if isinstance(board, dict) and isinstance(board.get("card_fields"), list):
        board["card_fields"] = [c for c in board["card_fields"] if c not in gone]
    return doc


def _placed(entry: Any) -> str | None:
    return entry if isinstance(entry, str) else entry.get("field") if isinstance(entry, dict) else None


def _form_specs(
    conn: Any,
    known: dict[str, ObjectSpec],
    before: dict[str, Any] | None,
    doc: dict[str, Any],
    spec: ObjectSpec,
) -> list[FormSpec]:
    """The object's forms with removed fields taken out and new fields added to the first section.

    A public form is only ever narrowed: a new field is not offered to visitors unasked.
    """
    if before is None:
        return []
    old, new = set(_field_names(before)), _field_names(doc)
    gone, added = old - set(new), [f for f in new if f not in old]
    if not gone and not added:
        return []
    forms = []
    name = spec.name
    for stored in load_documents(conn, "form"):
        body = json.loads(json.dumps(stored.body))
        if body.get("object") != name or not isinstance(body.get("sections"), list):
            continue
        for section in body["sections"]:
            if isinstance(section, dict) and isinstance(section.get("fields"), list):
                section["fields"] = [e for e in section["fields"] if _placed(e) not in gone]
        first = next(
            (s for s in body["sections"] if isinstance(s, dict) and isinstance(s.get("fields"), list)), None
        )
        if added and first is not None and not body.get("public"):
            first["fields"] += added
        if body == stored.body:
            continue
        result = validation.validate_form(body, f"forms/{stored.name}.json", known_objects=known)
        if result.problems:
            raise InvalidMetadata(result.problems)
        forms.extend(result.forms)
    return forms


def _fingerprint(doc: dict[str, Any], grants: list[str], lines: list[PlanLine], revision: int | None) -> str:
    payload = json.dumps(
        [doc, sorted(set(grants)), [line.text for line in lines], revision],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def run(
    loom: Loom,
    actor: Actor,
    doc: dict[str, Any],
    grants: list[str],
    *,
    creating: bool,
    dry_run: bool = True,
) -> Plan:
    """Dry-run (or apply) the draft through the engine's metadata change, with the ticked roles' grants."""
    plan = Plan()
    name = doc.get("name") if isinstance(doc.get("name"), str) else ""
    file = f"objects/{name or 'new'}.json"
    registry = loom.registry
    if creating and name in registry.objects:
        plan.problems["/name"] = [f"an object named {name!r} exists already"]
        return plan
    with loom.read() as conn:
        stored = get_document(conn, "object", name) if name else None
    before = stored.body if stored is not None else None
    doc = forget_removed(doc, before)
    result = validation.validate_object(doc, file, known_objects=registry.specs())
    if result.problems:
        plan.problems = _problems_by_path(result.problems, file)
        return plan
    [spec] = result.objects
    with loom.read() as conn:
        try:
            roles = _role_specs(loom, conn, name, grants, spec)
            forms = _form_specs(conn, {**registry.specs(), name: spec}, before, doc, spec)
        except InvalidMetadata as error:
            plan.problems = _problems_by_path(error.problems, file)
            return plan
    try:
        change = apply_objects(
            loom,
            [spec],
            roles=roles,
            forms=forms,
            actor=actor,
            files={name: file},
            dry_run=dry_run,
            note="builder",
        )
    except InvalidMetadata as error:
        plan.problems = _problems_by_path(error.problems, file)
        return plan
    except SchemaChangeRefused as error:
        plan.refusal = str(error)
        plan.blocking_ids = error.record_ids
        return plan
    plan.lines = [PlanLine(text) for text in change.documents]
    plan.lines += [PlanLine(str(step), step.destructive) for step in change.sync.steps]
    plan.lines += [PlanLine(str(step), step.destructive) for step in change.removals]
    plan.fingerprint = _fingerprint(doc, grants, plan.lines, stored.revision if stored else None)
    return plan
