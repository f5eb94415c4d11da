"""Typed, frozen definitions of forms: an object's fields laid out in sections and columns, with conditions.

A form entry is either a field name or an object naming the field with its `visible_if`,
`required_if` and `readonly_if` expressions; an entry written as a plain name is written back
as one, so a package exports as it was written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as spec_field
from types import MappingProxyType
from typing import Any

from metadata.frozen import Label, freeze, thaw
from metadata.heading import heading_from_json, heading_to_json
from metadata.specs import ObjectSpec

CONDITIONS = ("visible_if", "required_if", "readonly_if")
DEFAULT_COLUMNS = 2


@dataclass(frozen=True)
class FormField:
    """One field placed on a form, with the expressions that show, require or lock it."""

    field: str
    visible_if: str | None = None
    required_if: str | None = None
    readonly_if: str | None = None
    # Written as a plain name in its document; only decides how to_json writes a field without conditions.
    short: bool = spec_field(default=True, compare=False)

    @classmethod
    def from_json(cls, doc: str | Mapping[str, Any]) -> FormField:
        if isinstance(doc, str):
            return cls(doc)
        return cls(
            field=doc["field"],
            visible_if=doc.get("visible_if"),
            required_if=doc.get("required_if"),
            readonly_if=doc.get("readonly_if"),
            short=False,
        )

    def to_json(self) -> str | dict[str, Any]:
        conditions = {key: getattr(self, key) for key in CONDITIONS if getattr(self, key) is not None}
        if self.short and not conditions:
            return self.field
        return {"field": self.field, **conditions}


@dataclass(frozen=True)
class FormSection:
    """A titled group of fields shown in `columns` columns; hidden as a whole when `visible_if` is false."""

    label: Label
    fields: tuple[FormField, ...]
    columns: int = DEFAULT_COLUMNS
    visible_if: str | None = None
    # Whether the document spelled out the default column count, so it is written back the same way.
    columns_written: bool = spec_field(default=False, compare=False)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FormSection:
        return cls(
            label=freeze(doc.get("label", {})),
            fields=tuple(FormField.from_json(entry) for entry in doc.get("fields", ())),
            columns=int(doc.get("columns", DEFAULT_COLUMNS)),
            visible_if=doc.get("visible_if"),
            columns_written="columns" in doc,
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"label": thaw(self.label)}
        if self.columns != DEFAULT_COLUMNS or self.columns_written:
            doc["columns"] = self.columns
        if self.visible_if is not None:
            doc["visible_if"] = self.visible_if
        doc["fields"] = [entry.to_json() for entry in self.fields]
        return doc


PUBLIC_LIMITS: Mapping[str, int] = MappingProxyType(
    {"per_address": 5, "per_form": 200, "window_minutes": 10, "min_fill_seconds": 3}
)


@dataclass(frozen=True)
class PublicForm:
    """A form anyone may fill in without signing in: its page's texts, the values every record it
    creates gets, and the limits that keep bots and floods out."""

    title: Label
    intro: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    consent: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    thanks: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    values: Mapping[str, Any] = spec_field(default_factory=lambda: MappingProxyType({}))
    limits: Mapping[str, int] = spec_field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PublicForm:
        return cls(
            title=freeze(doc.get("title", {})),
            intro=freeze(doc.get("intro", {})),
            consent=freeze(doc.get("consent", {})),
            thanks=freeze(doc.get("thanks", {})),
            values=freeze(doc.get("values", {})),
            limits=freeze(doc.get("limits", {})),
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"title": thaw(self.title)}
        for key in ("intro", "consent", "thanks", "values", "limits"):
            if getattr(self, key):
                doc[key] = thaw(getattr(self, key))
        return doc

    def limit(self, name: str) -> int:
        """One of the limits, as the form sets it or by default (PUBLIC_LIMITS)."""
        return int(self.limits.get(name, PUBLIC_LIMITS[name]))


@dataclass(frozen=True)
class FormSpec:
    """A form: how the records of one object are entered and edited."""

    name: str
    object: str
    sections: tuple[FormSection, ...]
    label: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    description: Label = spec_field(default_factory=lambda: MappingProxyType({}))
    public: PublicForm | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FormSpec:
        return cls(
            **heading_from_json(doc),
            sections=tuple(FormSection.from_json(section) for section in doc.get("sections", ())),
            public=PublicForm.from_json(doc["public"]) if doc.get("public") is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        doc = heading_to_json(self)
        doc["sections"] = [section.to_json() for section in self.sections]
        if self.public is not None:
            doc["public"] = self.public.to_json()
        return doc

    def placed(self) -> Iterator[tuple[int, int, FormSection, FormField]]:
        """(section index, field index, section, field) for every field on the form, in reading order."""
        for i, section in enumerate(self.sections):
            for j, entry in enumerate(section.fields):
                yield i, j, section, entry

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(entry.field for _, _, _, entry in self.placed())


DEFAULT_SECTION_LABEL: Label = MappingProxyType({"zh_CN": "基本信息", "en": "Details"})
_COMPUTED_TYPES = frozenset({"formula", "rollup"})


def default_form(obj: ObjectSpec) -> FormSpec:
    """The form of an object its package gives none: every field in one section, computed ones last."""
    entered = [spec.name for spec in obj.fields if spec.type not in _COMPUTED_TYPES]
    computed = [spec.name for spec in obj.fields if spec.type in _COMPUTED_TYPES]
    section = FormSection(DEFAULT_SECTION_LABEL, tuple(FormField(name) for name in entered + computed))
    return FormSpec(obj.name, obj.name, (section,), label=obj.label)
