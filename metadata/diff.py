"""Differences between two versions of a metadata document, addressed by stable names.

Paths are JSON pointers (RFC 6901, `~0` for `~` and `~1` for `/`) with two additions
for lists whose elements carry a stable key — "name" (fields, duplicate rules) or,
failing that, "value" (select options):

- `@key` addresses the element whose key is `key`: `/fields/@phone/label/en`,
  `/fields/@level/options/@vip/color`. A field moved to another position keeps its path.
- `#order` holds the sequence of keys: a change at `/fields/#order` means elements were
  reordered (or inserted other than at the end); old and new are the lists of keys.

Because the parent decides how a segment is read (a list takes `@key` or `#order`, an
object takes a literal key), an object key that happens to start with `@` stays unambiguous.
Lists without such keys (search_fields, unique_keys, …) are compared whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from metadata.specs import thaw

ORDER = "#order"
_LIST_KEYS = ("name", "value")


@dataclass(frozen=True)
class Change:
    """One difference: something added, removed or changed at `path` (see the module docstring)."""

    op: Literal["add", "remove", "change"]
    path: str
    old: Any = None
    new: Any = None


def diff_documents(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Change]:
    """The changes that turn `old` into `new`; None stands for a document that does not exist.

    Keyed list elements are matched by key, not position: `/fields/@phone/label/en`, and
    `/fields/#order` when the sequence of keys changed. A missing document is an add or
    remove at path "".
    """
    if old is None and new is None:
        return []
    if old is None:
        return [Change("add", "", None, thaw(new))]
    if new is None:
        return [Change("remove", "", thaw(old), None)]
    changes: list[Change] = []
    _diff(thaw(old), thaw(new), "", changes)
    return changes


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            here = f"{path}/{_escape(key)}"
            if key not in new:
                out.append(Change("remove", here, value, None))
            else:
                _diff(value, new[key], here, out)
        out.extend(
            Change("add", f"{path}/{_escape(key)}", None, value)
            for key, value in new.items()
            if key not in old
        )
    elif isinstance(old, list) and isinstance(new, list) and (key := _list_key(old, new)):
        _diff_keyed(old, new, key, path, out)
    elif not _same(old, new):
        out.append(Change("change", path, old, new))


def _diff_keyed(old: list[dict], new: list[dict], key: str, path: str, out: list[Change]) -> None:
    old_by = {item[key]: item for item in old}
    new_by = {item[key]: item for item in new}
    for name, item in old_by.items():
        here = f"{path}/@{_escape(name)}"
        if name not in new_by:
            out.append(Change("remove", here, item, None))
        else:
            _diff(item, new_by[name], here, out)
    for name, item in new_by.items():
        if name not in old_by:
            out.append(Change("add", f"{path}/@{_escape(name)}", None, item))
    # Appending new elements is implied by the adds; anything else is a reordering worth a change.
    expected = [name for name in old_by if name in new_by] + [name for name in new_by if name not in old_by]
    if expected != list(new_by):
        out.append(Change("change", f"{path}/{ORDER}", list(old_by), list(new_by)))


def _list_key(old: list[Any], new: list[Any]) -> str | None:
    """The key both lists' elements are identified by, or None to compare the lists whole."""
    for key in _LIST_KEYS:
        if _keyed_by(old, key) and _keyed_by(new, key):
            return key
    return None


def _keyed_by(items: Sequence[Any], key: str) -> bool:
    if not all(isinstance(item, dict) and isinstance(item.get(key), str) for item in items):
        return False
    return len({item[key] for item in items}) == len(items)


def _same(old: Any, new: Any) -> bool:
    # Python says True == 1 == 1.0; JSON documents do not, so compare their JSON text.
    return json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)


def _escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def value_at(doc: Any, path: str) -> Any:
    """The value a diff path points at in `doc`; raises KeyError when there is none."""
    if path == "":
        return doc
    value = doc
    for segment in path.split("/")[1:]:
        value = _step(value, _unescape(segment), path)
    return value


def _step(value: Any, segment: str, path: str) -> Any:
    if isinstance(value, Mapping):
        if segment in value:
            return value[segment]
    elif isinstance(value, list):
        key = _list_key(value, value)
        if segment == ORDER and key:
            return [item[key] for item in value]
        if segment.startswith("@") and key:
            for item in value:
                if item[key] == segment[1:]:
                    return item
        elif segment.isdigit() and int(segment) < len(value):
            return value[int(segment)]
    raise KeyError(f"{path}: nothing at {segment!r}")
