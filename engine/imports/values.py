"""Cell text to option values and record ids, as people write them in spreadsheets.

A select cell names its option by value, by label (any language), by one of the option's declared
aliases, or by a word the import's value map assigns; failing those, a word that one option alone
contains or is contained in (普通 → 普通客户, 华东地区 → 华东) is taken as that option and listed
as guessed. The table is built once per import and each distinct text is looked up once.

A lookup cell may hold the record's id, its title (客户名称) or the value of one of its unique
fields; titles are looked up per batch, one query for all of a batch's distinct texts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from engine.base.messages import Message, named
from engine.fieldtypes.halfwidth import half_width
from engine.fieldtypes.lists import LIST_SEPARATORS
from engine.schema.registry import ObjectModel, Registry

CHOICE_TYPES = ("select", "multi_select")
# Written in a cell to mean "nothing": the field stays empty instead of refusing the row.
PLACEHOLDERS = frozenset({"-", "--", "—", "/", "无", "暂无", "n/a", "na", "null", "none", "空"})
# Words a label or a cell often carries around the option itself (普通客户, 华东地区, 广东省).
_SUFFIXES = ("地区", "客户", "行业", "类", "级", "省", "市", "区")
_SPACE = re.compile(r"\s+")
UNKNOWN = object()
_MISSING = object()


def text_key(text: str) -> str:
    """A cell or option word as compared: half-width, case-folded, without spaces."""
    return _SPACE.sub("", half_width(text)).casefold()


def _bare(key: str) -> str:
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


class ChoiceTable:
    """One select field's words → option values, with the guesses and unknown words seen so far."""

    def __init__(self, options: Iterable[Mapping[str, Any]], value_map: Mapping[str, str | None]) -> None:
        self.values = [option["value"] for option in options]
        self.words: dict[str, str | None] = {}
        for option in options:
            self.words.setdefault(text_key(option["value"]), option["value"])
        for option in options:
            for label in (option.get("label") or {}).values():
                self.words.setdefault(text_key(label), option["value"])
        for option in options:
            for alias in option.get("aliases") or ():
                self.words.setdefault(text_key(alias), option["value"])
        known = set(self.values)
        for word, value in value_map.items():
            if value is None or value in known:
                self.words[text_key(word)] = value  # the person's choice wins over any label
        self._by_option = [(value, [k for k, v in self.words.items() if v == value]) for value in self.values]
        self.guessed: dict[str, str] = {}  # text as written → the option it was taken for
        self.unknown: Counter[str] = Counter()
        self.seen: dict[str, Any] = {}  # each text as written → its answer: most cells cost one lookup

    def resolve(self, text: str) -> Any:
        """The option value for a cell's text; None for a placeholder; UNKNOWN when nothing fits."""
        found = self.seen.get(text, _MISSING)
        if found is _MISSING:
            found = self.seen[text] = self._resolve(text)
        if found is UNKNOWN:
            self.unknown[text.strip()] += 1
        return found

    def _resolve(self, text: str) -> Any:
        key = text_key(text)
        if not key:
            return None
        found = self.words.get(key, UNKNOWN)
        if found is UNKNOWN:
            found = self._guess(key)
            self.words[key] = found  # each distinct text is worked out once
            if found is not UNKNOWN and found is not None:
                self.guessed[text.strip()] = found
        return found

    def _guess(self, key: str) -> Any:
        if key in PLACEHOLDERS:
            return None
        bare = _bare(key)
        if bare != key and bare in self.words:
            return self.words[bare]
        if len(bare) < 2:
            return UNKNOWN
        hits = {
            value
            for value, words in self._by_option
            if any(len(word) >= 2 and (bare in word or _bare(word) in bare) for word in words)
        }
        return hits.pop() if len(hits) == 1 else UNKNOWN


class ChoiceCells:
    """Turns the select and multi-select cells of one import into option values."""

    def __init__(
        self, model: ObjectModel, fields: Iterable[str], value_map: Mapping[str, Mapping[str, str | None]]
    ) -> None:
        self.tables = {
            name: ChoiceTable(model.fields[name].params.get("options", ()), value_map.get(name, {}))
            for name in fields
            if model.fields[name].type in CHOICE_TYPES
        }
        self.multi = {name for name in self.tables if model.fields[name].type == "multi_select"}

    def read(self, field: str, text: str) -> Any:
        """The cell as its field takes it: an option value (or list), None, or the text when unknown."""
        table = self.tables[field]
        if field in self.multi:
            chosen = []
            for item in LIST_SEPARATORS.split(text):
                if item.strip():
                    found = table.resolve(item)
                    if found is not None:
                        chosen.append(item.strip() if found is UNKNOWN else found)
            return chosen or None
        found = table.resolve(text)
        return text if found is UNKNOWN else found

    def reader(self, field: str) -> Callable[[str], Any]:
        """`read` for one field, each text already resolved taken from the table at once."""
        if field in self.multi:
            return lambda text: self.read(field, text)
        table = self.tables[field]
        seen, resolve = table.seen, table.resolve

        def read(text: str) -> Any:
            found = seen.get(text, UNKNOWN)
            if found is UNKNOWN:  # not seen yet, or seen and unknown (resolve counts it again)
                found = resolve(text)
            return text if found is UNKNOWN else found

        return read

    def unknown(self) -> dict[str, dict[str, int]]:
        return {name: dict(t.unknown.most_common()) for name, t in self.tables.items() if t.unknown}

    def guessed(self) -> dict[str, dict[str, str]]:
        return {name: dict(t.guessed) for name, t in self.tables.items() if t.guessed}


def clean_value_map(raw: Any) -> dict[str, dict[str, str | None]]:
    """A value map as given ({"field": {"text": "option or null"}}); anything else is dropped."""
    if not isinstance(raw, Mapping):
        return {}
    found: dict[str, dict[str, str | None]] = {}
    for name, words in raw.items():
        if isinstance(name, str) and isinstance(words, Mapping):
            kept = {w: v for w, v in words.items() if isinstance(w, str) and isinstance(v, str | None)}
            if kept:
                found[name] = kept
    return found


class LookupCells:
    """Finds the records that lookup cells name by title or by a unique field, a batch at a time."""

    def __init__(self, registry: Registry, model: ObjectModel, fields: Iterable[str]) -> None:
        self.registry = registry
        self.targets: dict[str, ObjectModel] = {}
        for name in fields:
            spec = model.fields[name]
            if spec.type == "lookup":
                self.targets[name] = registry.object(spec.params["target"])
        self.found: dict[tuple[str, str], int | Message] = {}

    def wanted(self, field: str, value: Any) -> bool:
        """Whether a cell names its record by text rather than by id."""
        if field not in self.targets or not isinstance(value, str):
            return False
        text = value.strip()
        return bool(text) and not text.lstrip("+-").isdigit()

    def resolve(self, conn: Connection, texts: Mapping[str, set[str]]) -> None:
        """Look up every text not seen before: one query per field and searchable column."""
        for field, wanted in texts.items():
            target = self.targets[field]
            # A name not found is asked again: an earlier batch may have created the record since.
            todo = {t for t in wanted if not isinstance(self.found.get((target.name, t)), int)}
            if not todo:
                continue
            hits: dict[str, set[int]] = {}
            for column in _name_columns(target):
                table = target.table
                query = select(table.c[column], table.c.id).where(
                    table.c[column].in_(sorted(todo)), table.c.deleted_at.is_(None)
                )
                for text, record_id in conn.execute(query):
                    hits.setdefault(str(text), set()).add(record_id)
            for text in todo:
                ids = hits.get(text, set())
                what = named(target.name, target.spec.label)
                if len(ids) == 1:
                    self.found[(target.name, text)] = next(iter(ids))
                elif ids:
                    self.found[(target.name, text)] = Message(
                        "lookup_ambiguous", object=what, got=repr(text), count=len(ids)
                    )
                else:
                    self.found[(target.name, text)] = Message("lookup_not_found", object=what, got=repr(text))

    def answer(self, field: str, text: str) -> int | Message:
        return self.found[(self.targets[field].name, text.strip())]


def _name_columns(target: ObjectModel) -> list[str]:
    """The columns a lookup cell may name a record by: its title field, then its unique text fields."""
    columns = []
    if target.spec.title_field and target.spec.title_field in target.table.c:
        columns.append(target.spec.title_field)
    for spec in target.stored:
        unique = spec.unique or spec.type == "autonumber" or (spec.name,) in target.spec.unique_keys
        if unique and spec.type in ("text", "autonumber", "email", "phone") and spec.name not in columns:
            columns.append(spec.name)
    return columns
