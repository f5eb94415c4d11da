"""Which file column feeds which field: guessed from field names and zh_CN/en labels, or a mapping file."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.base.messages import Message, named
from engine.fieldtypes.halfwidth import half_width
from engine.identity.permissions import ObjectAccess
from engine.imports.options import ImportRefused
from engine.schema.registry import ObjectModel

# Field types an import can write; autonumbers may only be matched on (update by key).
NOT_IMPORTABLE = frozenset({"formula", "rollup", "attachment"})
_NOISE = re.compile(r"[\s_\-*:：（）()]+")


def _plain(text: str) -> str:
    """A header as compared: half-width, lower case, without spaces, underscores or a required star."""
    return _NOISE.sub("", half_width(text)).lower()


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


def auto_mapping(
    model: ObjectModel, columns: Sequence[str], access: ObjectAccess | None = None
) -> dict[str, str]:
    """Column → field for each column whose header is a field's name or its zh_CN or en label."""
    known: dict[str, str] = {}
    for name in importable_fields(model, access):
        spec = model.fields[name]
        for text in (name, *spec.label.values()):
            known.setdefault(_plain(text), name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        field = known.get(_plain(column))
        if field is not None and field not in taken:
            mapping[column] = field
            taken.add(field)
    return mapping


def load_mapping_file(path: Path | str) -> dict[str, str | None]:
    """A mapping file: JSON {"column": "field", …}, or the same under a "columns" key; null ignores."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ImportRefused([f"{path.name}: not a readable JSON mapping file ({error})"]) from None
    if isinstance(doc, dict) and isinstance(doc.get("columns"), dict):
        doc = doc["columns"]
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
