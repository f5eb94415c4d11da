"""Choice field types: select (one option), multi_select (several options) and free tags."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import String
from sqlalchemy.types import TypeEngine

from engine.base.errors import FieldValueError
from engine.base.messages import Message, named
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.lists import LIST_SEPARATORS, ListValuedType
from engine.fieldtypes.messages import not_one_of, shown
from metadata.specs import FieldSpec, ObjectSpec

_LABEL = {
    "type": "object",
    "patternProperties": {"^[a-z]{2}(_[A-Z]{2})?$": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
_OPTIONS_SCHEMA = {
    "type": "object",
    "properties": {
        "options": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["value"],
                "properties": {
                    "value": {"type": "string", "pattern": "^[A-Za-z0-9_\\-]{1,64}$"},
                    "label": _LABEL,
                    "color": {"type": "string", "pattern": "^#(?:[0-9a-fA-F]{3}){1,2}$"},
                    "aliases": {"type": "array", "items": {"type": "string", "minLength": 1}},
                },
            },
        }
    },
    "required": ["options"],
    "additionalProperties": False,
}
_CACHE_LIMIT = 1024


class _Options:
    """An option list prepared for lookups: values in order, and value or label text → value."""

    __slots__ = ("by_text", "named", "position", "values")

    def __init__(self, options: Sequence[Mapping[str, Any]]) -> None:
        self.values = [option["value"] for option in options]
        self.named = [named(option["value"], option.get("label")) for option in options]
        self.position = {value: index for index, value in enumerate(self.values)}
        self.by_text: dict[str, str] = {}
        for value in self.values:
            self.by_text.setdefault(value.casefold(), value)
        # Values first, so a label never hides another option's value; labels before other words for it.
        for option in options:
            for label in (option.get("label") or {}).values():
                self.by_text.setdefault(label.strip().casefold(), option["value"])
        for option in options:
            for alias in option.get("aliases") or ():
                self.by_text.setdefault(alias.strip().casefold(), option["value"])

    def resolve(self, text: str, source: Source) -> str:
        """The option value `text` names; unknown text is returned as is for `validate` to refuse."""
        if text in self.position or source == "json":
            return text
        return self.by_text.get(text.casefold(), text)


class _ChoiceType(FieldType):
    """Shared by select and multi_select: the field's options, prepared once per field definition."""

    params_schema = _OPTIONS_SCHEMA

    def __init__(self) -> None:
        # Keyed by the identity of the (immutable) options tuple; holding it keeps the id from being reused.
        self._prepared: dict[int, tuple[Any, _Options]] = {}

    def options(self, field: FieldSpec) -> _Options:
        raw = field.params.get("options", ())
        entry = self._prepared.get(id(raw))
        if entry is None or entry[0] is not raw:
            if len(self._prepared) >= _CACHE_LIMIT:
                self._prepared.clear()
            entry = self._prepared[id(raw)] = (raw, _Options(raw))
        return entry[1]

    def item_text(self, item: Any) -> str | None:
        if type(item) is str:
            return item.strip()
        if type(item) is int or (type(item) is float and item.is_integer()):
            # Spreadsheets turn an option value such as "1" into the number 1.
            return str(int(item))
        return None

    def refuse(self, field: FieldSpec, got: Any) -> FieldValueError:
        return FieldValueError(not_one_of(self.options(field).named, got))

    def check_spec(self, field: FieldSpec, obj: ObjectSpec, objects: dict[str, ObjectSpec]) -> list[str]:
        options = field.params.get("options") or ()
        if not options:
            return ["needs at least one option"]
        seen: set[str] = set()
        problems = []
        for option in options:
            value = option.get("value")
            if value in seen:
                problems.append(f"option value {value!r} appears more than once")
            seen.add(value)
        return problems


class SelectType(_ChoiceType):
    """One value out of a fixed list of options; forms and imports may give an option's label or alias."""

    name = "select"
    value_kind = "text"

    def column_type(self, field: FieldSpec) -> TypeEngine:
        return String(64)

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if value is None:
            return None
        text = self.item_text(value)
        if text is None:
            raise self.refuse(field, value)
        if not text:
            return None
        return self.options(field).resolve(text, source)

    def coercer(self, field: FieldSpec, source: Source) -> Callable[[Any], Any] | None:
        if type(self).coerce is not SelectType.coerce:
            return None
        options, coerce = self.options(field), self.coerce

        def chosen(value: Any) -> Any:
            if type(value) is str:
                text = value.strip()
                return options.resolve(text, source) if text else None
            return coerce(value, field, source)

        return chosen

    def validator(self, field: FieldSpec) -> Callable[[Any], None] | None:
        if type(self).validate is not SelectType.validate:
            return super().validator(field)
        position = self.options(field).position

        def check(value: Any) -> None:
            if value not in position:
                raise self.refuse(field, value)

        return check

    def validate(self, value: Any, field: FieldSpec) -> None:
        if value not in self.options(field).position:
            raise self.refuse(field, value)


class MultiSelectType(_ChoiceType, ListValuedType):
    """Several options, stored in the options' order without duplicates."""

    name = "multi_select"

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if value is None:
            return None
        items = LIST_SEPARATORS.split(value) if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise self.refuse(field, value)
        options = self.options(field)
        chosen: dict[str, None] = {}
        for item in items:
            text = self.item_text(item)
            if text is None:
                raise self.refuse(field, item)
            if text:
                chosen[options.resolve(text, source)] = None
        if not chosen:
            return None
        last = len(options.values)
        # Unknown values sort last, in the order given, so `validate` names the first of them.
        return sorted(chosen, key=lambda choice: options.position.get(choice, last))

    def validate(self, value: Any, field: FieldSpec) -> None:
        position = self.options(field).position
        for choice in value:
            if choice not in position:
                raise self.refuse(field, choice)


class TagsType(ListValuedType):
    """Free-form labels: trimmed, unique regardless of case, at most 50 of at most 64 characters each."""

    name = "tags"
    max_tags = 50
    max_tag_length = 64
    params_schema = {
        "type": "object",
        "properties": {"suggestions": {"type": "array", "items": {"type": "string", "minLength": 1}}},
        "additionalProperties": False,
    }

    def coerce(self, value: Any, field: FieldSpec, source: Source = "json") -> Any:
        if value is None:
            return None
        items = LIST_SEPARATORS.split(value) if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise FieldValueError(Message("tags_not_list", got=shown(value)))
        tags: dict[str, str] = {}
        for item in items:
            if type(item) is not str:
                if isinstance(item, bool) or not isinstance(item, int | float):
                    raise FieldValueError(Message("tag_not_text", got=shown(item)))
                item = str(item)
            tag = item.strip()
            if tag:
                # "VIP" and "vip" are one tag; the first spelling given wins.
                tags.setdefault(tag.casefold(), tag)
        return list(tags.values()) or None

    def validate(self, value: Any, field: FieldSpec) -> None:
        if len(value) > self.max_tags:
            raise FieldValueError(Message("too_many_tags", limit=self.max_tags, count=len(value)))
        for tag in value:
            if len(tag) > self.max_tag_length:
                limit = self.max_tag_length
                raise FieldValueError(Message("tag_too_long", limit=limit, length=len(tag), got=shown(tag)))
