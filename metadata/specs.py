"""Typed, frozen definitions built once from validated metadata JSON.

The engine reads these, never raw dicts. Type-specific field settings (max_length,
options, target, expression, pattern …) stay in `FieldSpec.params` so a plugin's
field type can carry settings the core does not know about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw
from metadata.rules import ValidationRuleSpec

# Keys every field may carry; everything else in a field document is a type parameter.
COMMON_FIELD_KEYS = frozenset(
    {
        "name",
        "type",
        "label",
        "help",
        "required",
        "default",
        "unique",
        "indexed",
        "readonly",
        "description",
        "aliases",
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """One field of an object: its stable API name, type and settings."""

    name: str
    type: str
    label: Label = field(default_factory=lambda: MappingProxyType({}))
    help: Label = field(default_factory=lambda: MappingProxyType({}))
    required: bool = False
    default: str | None = None  # an expression
    unique: bool = False
    indexed: bool = False
    readonly: bool = False
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    aliases: tuple[str, ...] = ()  # other column headers an import maps to this field

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FieldSpec:
        params = {key: value for key, value in doc.items() if key not in COMMON_FIELD_KEYS}
        return cls(
            name=doc["name"],
            type=doc["type"],
            label=freeze(doc.get("label", {})),
            help=freeze(doc.get("help", {})),
            required=bool(doc.get("required", False)),
            default=doc.get("default"),
            unique=bool(doc.get("unique", False)),
            indexed=bool(doc.get("indexed", False)),
            readonly=bool(doc.get("readonly", False)),
            params=freeze(params),
            aliases=tuple(doc.get("aliases", ())),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.label:
            doc["label"] = thaw(self.label)
        if self.help:
            doc["help"] = thaw(self.help)
        for key in ("required", "unique", "indexed", "readonly"):
            if getattr(self, key):
                doc[key] = True
        if self.default is not None:
            doc["default"] = self.default
        if self.aliases:
            doc["aliases"] = list(self.aliases)
        doc.update(thaw(self.params))
        return doc

    def param(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass(frozen=True)
class ObjectSpec:
    """A business object: one table, its fields and how people find its records."""

    name: str
    label: Label
    fields: tuple[FieldSpec, ...]
    title_field: str | None = None
    search_fields: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    duplicate_rules: tuple[Mapping[str, Any], ...] = ()
    sharing: str = "private"
    validation_rules: tuple[ValidationRuleSpec, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ObjectSpec:
        known = {
            "$schema",
            "name",
            "label",
            "fields",
            "title_field",
            "search_fields",
            "unique_keys",
            "duplicate_rules",
            "sharing",
            "validation_rules",
        }
        return cls(
            name=doc["name"],
            label=freeze(doc.get("label", {})),
            fields=tuple(FieldSpec.from_json(f) for f in doc.get("fields", [])),
            title_field=doc.get("title_field"),
            search_fields=tuple(doc.get("search_fields", ())),
            unique_keys=tuple(tuple(key) for key in doc.get("unique_keys", ())),
            duplicate_rules=freeze(list(doc.get("duplicate_rules", ()))),
            sharing=doc.get("sharing", "private"),
            validation_rules=tuple(ValidationRuleSpec.from_json(v) for v in doc.get("validation_rules", ())),
            extra=freeze({key: value for key, value in doc.items() if key not in known}),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "label": thaw(self.label)}
        if self.title_field:
            doc["title_field"] = self.title_field
        if self.search_fields:
            doc["search_fields"] = list(self.search_fields)
        if self.unique_keys:
            doc["unique_keys"] = [list(key) for key in self.unique_keys]
        if self.duplicate_rules:
            doc["duplicate_rules"] = thaw(self.duplicate_rules)
        if self.sharing != "private":
            doc["sharing"] = self.sharing
        doc.update(thaw(self.extra))
        doc["fields"] = [f.to_json() for f in self.fields]
        if self.validation_rules:
            doc["validation_rules"] = [rule.to_json() for rule in self.validation_rules]
        return doc

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def has_field(self, name: str) -> bool:
        return any(spec.name == name for spec in self.fields)

    @property
    def table_name(self) -> str:
        return f"obj_{self.name}"


@dataclass(frozen=True)
class PackageManifest:
    """`package.json`: what a package is and what it needs."""

    name: str
    version: str
    label: Label
    depends: Mapping[str, str]
    description: Label = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PackageManifest:
        return cls(
            name=doc["name"],
            version=doc["version"],
            label=freeze(doc.get("label", {})),
            depends=freeze(doc.get("depends", {})),
            description=freeze(doc.get("description", {})),
        )
