"""A package's documents three ways: as a package ships them, as they are now (customisations included),
and as they will be stored once a change applies (extensions woven into the objects they extend).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from engine.base.errors import MergeConflicts, PackageRefused
from engine.packages.store import DocKey, PackageDocument, base_documents, extensions_of, owner_of
from engine.store.documents import get_document
from metadata.dashboards import DashboardSpec
from metadata.diff import Change, diff_documents
from metadata.extension_layout import placement_problems
from metadata.extensions import clash_problems, extract, normalised, remap_problem, strip, weave
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.loading import Document, PackageSource
from metadata.merge import Side, merge_documents
from metadata.problems import Problem
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec

# How each kind is written once stored, so a shipped document and the stored one compare equal.
_SPEC_OF_KIND: Mapping[str, Any] = {
    "object": ObjectSpec,
    "rule": RuleSpec,
    "role": RoleSpec,
    "flow": FlowSpec,
    "form": FormSpec,
    "report": ReportSpec,
    "dashboard": DashboardSpec,
}


def shipped_documents(source: PackageSource) -> dict[DocKey, PackageDocument]:
    """A read package's documents, keyed by kind and name and written the way Loom stores them."""
    documents = {}
    for doc in source.documents:
        extends = doc.body.get("extends")
        name = extends if extends is not None else doc.body.get("name")
        if isinstance(name, str):
            documents[(doc.kind, name)] = PackageDocument(
                doc.kind, name, doc.file, stored_form(doc.kind, doc.body)
            )
    return documents


def stored_form(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The document as the metadata store will hold it; left as it is when it does not parse (validation
    reports why)."""
    try:
        if "extends" in body:
            return normalised(body)
        if kind in _SPEC_OF_KIND:
            return _SPEC_OF_KIND[kind].from_json(body).to_json()
    except (KeyError, TypeError, ValueError, AttributeError):
        return body
    return {key: value for key, value in body.items() if key != "$schema"}


def current_documents(conn: Connection, package: str) -> dict[DocKey, PackageDocument]:
    """The package's documents as they are now: admins' changes included, other packages' extensions
    left out. A document an admin deleted is missing."""
    current = {}
    for key, base in base_documents(conn, package).items():
        target = base.extends
        stored = get_document(conn, "object", target) if target else get_document(conn, *key)
        if stored is None:
            continue
        if target:
            body = extract(stored.body, base.body)
        else:
            body = stored.body
            for other, extension in extensions_of(conn, *key).items():
                if other != package:
                    body = strip(body, extension.body)
        current[key] = PackageDocument(base.kind, base.name, base.file, body)
    return current


def merged_documents(
    base: Mapping[DocKey, PackageDocument],
    ours: Mapping[DocKey, PackageDocument],
    theirs: Mapping[DocKey, PackageDocument],
    resolve: Mapping[str, Side] | None = None,
) -> dict[DocKey, PackageDocument]:
    """The three-way merge of installed (base), current (ours) and new (theirs) documents; raises
    MergeConflicts while any conflict is left unsettled by `resolve`."""
    files = {key: doc.file for docs in (base, ours, theirs) for key, doc in docs.items()}
    merged = merge_documents(
        {key: doc.body for key, doc in base.items()},
        {key: doc.body for key, doc in ours.items()},
        {key: doc.body for key, doc in theirs.items()},
        files,
        resolve,
    )
    if merged.unused:
        raise PackageRefused(
            f"no conflict at {', '.join(merged.unused)}; give paths as the conflicts list them"
        )
    if merged.conflicts:
        raise MergeConflicts(merged.conflicts)
    return {
        key: PackageDocument(key[0], key[1], files[key], body)  # type: ignore[index]
        for key, body in merged.documents.items()
    }


@dataclass(frozen=True)
class Customisation:
    """A document an admin changed after it was installed: the changes that make the customisation layer."""

    file: str
    changes: list[Change]


def customisations(conn: Connection, package: str) -> list[Customisation]:
    """Every document of the package that differs from the version installed, with its changes."""
    now = current_documents(conn, package)
    found = []
    for key, base in base_documents(conn, package).items():
        current = now.get(key)
        changes = diff_documents(base.body, current.body if current else None)
        if changes:
            found.append(Customisation(base.file, changes))
    return found


@dataclass
class StagedPackage:
    """What the store will hold after a change: the documents to validate and write, those to remove."""

    source: PackageSource
    removed: list[DocKey] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Extension file → the object before the extension was woven in, to point problems at the extension.
    woven_into: dict[str, dict[str, Any]] = field(default_factory=dict)

    def located(self, problems: list[Problem]) -> list[Problem]:
        return [
            remap_problem(p, self.woven_into[p.file], p.file) if p.file in self.woven_into else p
            for p in problems
        ]


def stage(
    conn: Connection,
    manifest: Mapping[str, Any] | None,
    package: str,
    desired: Mapping[DocKey, PackageDocument],
) -> StagedPackage:
    """The documents to store so that `package` consists of `desired` (empty to uninstall it).

    Objects extended by other packages keep those extensions; this package's extensions are woven into
    their targets in place of the ones it had; documents it had and no longer has are removed.
    """
    staged = StagedPackage(PackageSource(dict(manifest) if manifest else None))
    depends = set((manifest or {}).get("depends", {}))
    old = base_documents(conn, package)
    documents: list[Document] = []
    for key, doc in sorted(desired.items()):
        if doc.extends is None:
            body = _own_document(conn, package, doc, staged.problems)
            documents.append(Document(doc.file, doc.kind, body))
            continue
        stored = get_document(conn, "object", doc.extends)
        owner = owner_of(conn, "object", doc.extends) if stored else None
        if stored is None or owner not in depends:
            staged.problems.append(Problem(doc.file, "/extends", _unextendable(doc.extends, owner, stored)))
            continue
        before = strip(stored.body, old[key].body) if key in old else stored.body
        clashes = clash_problems(doc.body, doc.file, before)
        woven = weave(before, doc.body)
        staged.problems += clashes or _placement_problems(conn, doc, woven)
        staged.woven_into[doc.file] = before
        documents.append(Document(doc.file, "object", woven))
    for key, doc in old.items():
        if key in desired:
            continue
        if doc.extends is not None:
            stored = get_document(conn, "object", doc.extends)
            if stored is not None:
                documents.append(Document(doc.file, "object", strip(stored.body, doc.body)))
            continue
        extenders = sorted(other for other in extensions_of(conn, *key) if other != package)
        if extenders:
            message = (
                f"{key[0]} {key[1]!r} is extended by package(s) {', '.join(extenders)}; remove them first"
            )
            staged.problems.append(Problem(doc.file, "", message))
        if get_document(conn, *key) is not None:
            staged.removed.append(key)
    staged.source = PackageSource(staged.source.manifest, tuple(documents))
    return staged


def _placement_problems(conn: Connection, doc: PackageDocument, woven: dict[str, Any]) -> list[Problem]:
    """Where the extension places fields on the object's form and list, checked against the object."""
    if not doc.body.get("form") and not doc.body.get("list"):
        return []
    try:
        obj = ObjectSpec.from_json(woven)
    except (KeyError, TypeError, ValueError, AttributeError):
        return []  # the woven object's own checks report what is wrong with it
    stored = get_document(conn, "form", doc.body["extends"])
    form = FormSpec.from_json(stored.body) if stored is not None else None
    return placement_problems(doc.body, doc.file, obj, form)


def _unextendable(target: str, owner: str | None, stored: object) -> str:
    if stored is None:
        return f"extends {target!r}, which is not installed; install the package that defines it first"
    if owner is None:
        return f"extends {target!r}, which no package defines (an admin created it); only packages' objects"
    return f"extends {target!r} of package {owner}; add {owner} to depends in package.json"


def _own_document(conn: Connection, package: str, doc: PackageDocument, problems: list[Problem]) -> dict:
    """The package's own document, with the extensions other packages made to it woven back in."""
    owner = owner_of(conn, doc.kind, doc.name)
    if owner is not None and owner != package:
        problems.append(Problem(doc.file, "/name", f"{doc.kind} {doc.name!r} belongs to package {owner}"))
    body = doc.body
    stored = get_document(conn, doc.kind, doc.name)
    for other, extension in extensions_of(conn, doc.kind, doc.name).items():
        if other != package and stored is not None:
            body = weave(body, extract(stored.body, extension.body))
    return body
