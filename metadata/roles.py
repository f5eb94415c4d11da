"""Typed, frozen definitions of roles: what a role may do with each object and see of each field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw

OPERATIONS = ("create", "read", "update", "delete", "import", "export")
# Record scopes from narrowest to widest; `True` in a document means "all", `False` means none.
SCOPES = ("own", "department", "department_and_below", "all")
FIELD_ACCESS = ("hidden", "read_only")


def _scope(value: Any) -> str | None:
    if value is True:  # only `create` is a plain yes/no; the schema enforces that
        return "all"
    if value is False or value is None:
        return None
    return str(value)


@dataclass(frozen=True)
class ObjectGrant:
    """What a role may do with one object: each operation's record scope, or None when not allowed."""

    scopes: Mapping[str, str | None]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ObjectGrant:
        return cls(MappingProxyType({op: _scope(doc.get(op)) for op in OPERATIONS}))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for op in OPERATIONS:
            scope = self.scopes.get(op)
            if scope is not None:
                doc[op] = True if op == "create" else scope
        return doc

    def scope(self, operation: str) -> str | None:
        return self.scopes.get(operation)


@dataclass(frozen=True)
class RoleSpec:
    """A role: per-object grants and per-field restrictions; `admin` roles may do everything, and
    `build_reports` lets its users build their own reports in the builder."""

    name: str
    label: Label
    objects: Mapping[str, ObjectGrant]
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # "object.field" → access
    admin: bool = False
    description: Label = field(default_factory=lambda: MappingProxyType({}))
    build_reports: bool = False

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RoleSpec:
        return cls(
            name=doc["name"],
            label=freeze(doc.get("label", {})),
            objects=MappingProxyType(
                {name: ObjectGrant.from_json(g) for name, g in doc.get("objects", {}).items()}
            ),
            fields=MappingProxyType(dict(doc.get("fields", {}))),
            admin=bool(doc.get("admin", False)),
            description=freeze(doc.get("description", {})),
            build_reports=bool(doc.get("build_reports", False)),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "label": thaw(self.label)}
        if self.description:
            doc["description"] = thaw(self.description)
        if self.admin:
            doc["admin"] = True
        if self.build_reports:
            doc["build_reports"] = True
        doc["objects"] = {name: grant.to_json() for name, grant in self.objects.items()}
        if self.fields:
            doc["fields"] = dict(self.fields)
        return doc
