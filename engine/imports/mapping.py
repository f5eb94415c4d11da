"""Which file column feeds which field: guessed from field names and zh_CN/en labels, or a mapping file."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.fieldtypes.halfwidth import half_width
from engine.imports.options import ImportRefused
from engine.permissions import ObjectAccess
from engine.registry import ObjectModel

# Field types an import can write; autonumbers may only be matched on (update by key).
NOT_IMPORTABLE = frozenset({"formula", "rollup", "attachment"})
_NOISE = re.compile(r"[\s_\-*:：（）()]+")


def _plain(text: str) -> str:
    """A header as compared: half-width, lower case, without spaces, underscores or a required star."""
    return _NOISE.sub("", half_width(text)).lower()


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
    problems = []
    importable = set(importable_fields(model))
    used: dict[str, str] = {}
    for column, field in mapping.items():
        if field is None:
            continue
        if column not in columns:
            problems.append(f"column {column!r} is not in the file (its columns: {', '.join(columns)})")
        spec = model.fields.get(field)
        if spec is None or field not in importable or field in access.hidden:
            problems.append(f"column {column!r}: {model.name} has no field {field!r} that can be imported")
        elif field in access.read_only and field != key:
            problems.append(f"column {column!r}: field {field!r} is read-only for you")
        elif spec.type == "autonumber" and field != key:
            problems.append(f"column {column!r}: {field!r} is numbered by the system; use it only as --key")
        if field in used:
            problems.append(f"columns {used[field]!r} and {column!r} both map to {field!r}")
        used[field] = column
    if key is not None and key not in used:
        problems.append(f"the key field {key!r} is not mapped to any column")
    if not used:
        problems.append(f"no column maps to a field of {model.name}")
    if problems:
        raise ImportRefused(problems)
    return {column: field for column, field in mapping.items() if field is not None}
