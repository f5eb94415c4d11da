"""Which file column feeds which field: guessed from names, labels, aliases and similar headers, or a file."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from engine.base.messages import Message, named
from engine.fieldtypes.halfwidth import half_width
from engine.identity.permissions import ObjectAccess
from engine.imports.options import ImportRefused
from engine.imports.values import clean_value_map
from engine.schema.registry import ObjectModel

# Field types an import can write; autonumbers may only be matched on (update by key).
NOT_IMPORTABLE = frozenset({"formula", "rollup", "attachment"})
_NOISE = re.compile(r"[\s_\-*:：（）()]+")
_REMARK = re.compile(r"[（(][^）)]*[）)]")  # 客户名称（必填）, 手机(选填)


def _plain(text: str) -> str:
    """A header as compared: half-width, lower case, without spaces, underscores, a star or a remark."""
    text = half_width(text)
    bare = _REMARK.sub("", text)
    return _NOISE.sub("", bare if bare.strip() else text).lower()


def field_named(model: ObjectModel, name: str) -> dict[str, str]:
    """A field as mapping problems name it: quoted in English, by its label in Chinese."""
    spec = model.fields.get(name)
    return named(repr(name), spec.label if spec is not None else None)


def importable_fields(model: ObjectModel, access: ObjectAccess | None = None) -> list[str]:
    """Fields an import may fill (or match on), in declaration order."""
    names = []
    for spec in model.stored:
        if spec.type in NOT_IMPORTABLE:
            continue
        if access is not None and (spec.name in access.hidden or spec.name in access.read_only):
            continue
        names.append(spec.name)
    return names


@dataclass(frozen=True)
class Guess:
    """How the wizard proposes to map one column: the field (None: left out), how it matched, and how sure."""

    column: str
    field: str | None
    how: str  # name, label, alias, similar, none
    confidence: float  # 1.0 for an exact match; a similar header scores between FUZZY_FLOOR and 1


# Below this a header is left out (and listed) rather than risk filling the wrong field: 客户简介 is
# 75 % like 客户简称 yet means something else, and a wrong guess spoils every row.
FUZZY_FLOOR = 0.8
# Spreadsheets say 日期 where a field says 时间 (最近跟进日期 / 最近跟进时间): one word for comparing.
_SAME_WORDS = (("日期", "时间"), ("号码", "号"))


def _fuzzy_form(plain: str) -> str:
    for word, same in _SAME_WORDS:
        plain = plain.replace(word, same)
    return plain


def _similarity(header: str, known: str) -> float:
    """How alike two plain headers are: one inside the other (联系人, 主要联系人) or nearly the same."""
    header, known = _fuzzy_form(header), _fuzzy_form(known)
    if not header or not known:
        return 0.0
    short, long = sorted((header, known), key=len)
    inside = 0.5 + 0.5 * len(short) / len(long) if len(short) >= 3 and short in long else 0.0
    return max(inside, SequenceMatcher(None, header, known).ratio())


def mapping_guesses(
    model: ObjectModel, columns: Sequence[str], access: ObjectAccess | None = None, key: str | None = None
) -> list[Guess]:
    """A guess per column: exact field names and labels first, then declared aliases, then similar headers.

    An autonumber (客户编号) is guessed only as the `key` rows are matched on: the system draws it,
    so mapping it otherwise would refuse the whole import.
    """
    exact: dict[str, tuple[str, str]] = {}
    names = [
        name
        for name in importable_fields(model, access)
        if model.fields[name].type != "autonumber" or name == key
    ]
    for name in names:
        spec = model.fields[name]
        exact.setdefault(_plain(name), (name, "name"))
        for text in spec.label.values():
            exact.setdefault(_plain(text), (name, "label"))
    for name in names:
        for alias in model.fields[name].aliases:
            exact.setdefault(_plain(alias), (name, "alias"))
    found: dict[str, Guess] = {}
    taken: set[str] = set()
    for column in columns:
        hit = exact.get(_plain(column))
        if hit is not None and hit[0] not in taken and column not in found:
            found[column] = Guess(column, hit[0], hit[1], 1.0)
            taken.add(hit[0])
    candidates = []
    for column in columns:
        if column in found or not _plain(column):
            continue
        for text, (name, _) in exact.items():
            if name not in taken:
                score = _similarity(_plain(column), text)
                if score >= FUZZY_FLOOR:
                    candidates.append((score, column, name))
    # The most alike pairs first, so a field goes to the column that resembles it best.
    for score, column, name in sorted(candidates, key=lambda c: -c[0]):
        if column not in found and name not in taken:
            found[column] = Guess(column, name, "similar", round(score, 2))
            taken.add(name)
    return [found.get(column) or Guess(column, None, "none", 0.0) for column in columns]


def auto_mapping(
    model: ObjectModel, columns: Sequence[str], access: ObjectAccess | None = None, key: str | None = None
) -> dict[str, str]:
    """Column → field for each column the guesses above map (every other column is left out)."""
    guesses = mapping_guesses(model, columns, access, key)
    return {g.column: g.field for g in guesses if g.field is not None}


def unmapped_columns(columns: Sequence[str], mapping: Mapping[str, str | None]) -> list[str]:
    """The file's named columns that feed no field: what an import leaves out, to be said, never silent."""
    return [column for column in columns if column and mapping.get(column) is None]


@dataclass(frozen=True)
class MappingFile:
    """A saved mapping: columns → fields, the value map of select fields, and the date order."""

    columns: dict[str, str | None]
    values: dict[str, dict[str, str | None]]
    date_order: str | None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"columns": self.columns, "values": self.values}
        if self.date_order:
            doc["date_order"] = self.date_order
        return doc


def load_mapping_document(path: Path | str) -> MappingFile:
    """A mapping file with its value map and date order (see `load_mapping_file` for the columns)."""
    columns = load_mapping_file(path)
    doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    values = doc.get("values") if isinstance(doc, dict) else None
    order = doc.get("date_order") if isinstance(doc, dict) else None
    return MappingFile(columns, clean_value_map(values), order if isinstance(order, str) else None)


def load_mapping_file(path: Path | str) -> dict[str, str | None]:
    """A mapping file: JSON {"column": "field", …}, or the same under a "columns" key; null ignores."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ImportRefused([f"{path.name}: not a readable JSON mapping file ({error})"]) from None
    if isinstance(doc, dict) and isinstance(doc.get("columns"), dict):
        doc = doc["columns"]
    elif isinstance(doc, dict) and ("values" in doc or "date_order" in doc):
        doc = {k: v for k, v in doc.items() if k not in ("values", "date_order")}
    if not isinstance(doc, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in doc.items()
    ):
        raise ImportRefused([f'{path.name}: expected {{"column": "field name or null", …}}'])
    return doc


def checked_mapping(
    model: ObjectModel,
    access: ObjectAccess,
    columns: Sequence[str],
    mapping: Mapping[str, str | None],
    key: str | None,
) -> dict[str, str]:
    """The mapping without ignored columns, or ImportRefused naming every problem at once."""
    problems: list[str] = []
    what = named(model.name, model.spec.label)
    importable = set(importable_fields(model))
    used: dict[str, str] = {}
    for column, field in mapping.items():
        if field is None:
            continue
        if column not in columns:
            problems.append(Message("column_not_in_file", column=repr(column), columns=list(columns)))
        spec = model.fields.get(field)
        named_field = field_named(model, field)
        if spec is None or field not in importable or field in access.hidden:
            problems.append(Message("column_no_field", column=repr(column), object=what, field=repr(field)))
        elif field in access.read_only and field != key:
            problems.append(Message("column_read_only", column=repr(column), field=named_field))
        elif spec.type == "autonumber" and field != key:
            problems.append(Message("column_autonumbered", column=repr(column), field=named_field))
        if field in used:
            twice = {"first": repr(used[field]), "column": repr(column), "field": named_field}
            problems.append(Message("columns_same_field", **twice))
        used[field] = column
    if key is not None and key not in used:
        problems.append(Message("key_not_mapped", field=field_named(model, key)))
    if not used:
        problems.append(Message("no_column_mapped", object=what))
    if problems:
        raise ImportRefused(problems)
    return {column: field for column, field in mapping.items() if field is not None}
