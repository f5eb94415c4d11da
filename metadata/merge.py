"""Three-way merge of metadata documents: the installed version (base), the customised current
state (ours) and a new version (theirs).

Paths follow `metadata.diff`: JSON pointers where list elements with a stable key ("name",
else "value") are addressed as `@key` and their sequence as `#order`, so a field keeps its path
wherever it sits. A form's sections are keyed alike by their label and the fields placed in them
by field name, so two sides placing different fields in one section both keep theirs. A change
made on one side only is taken; the same change on both sides is taken once; different changes to
the same place are a conflict, reported with its file and path and the three values. A conflict
is settled by naming its path in `resolve` with "ours" or "theirs"; the side's value is taken
there, its absence included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ORDER = "#order"

Identity = Callable[[Any], "str | None"]


def _named(key: str) -> Identity:
    return lambda item: item.get(key) if isinstance(item, dict) and isinstance(item.get(key), str) else None


def _placed(item: Any) -> str | None:
    """A field placed in a form section: its name, or the `field` of an entry with conditions."""
    return item if isinstance(item, str) else _named("field")(item)


def _labelled(item: Any) -> str | None:
    """A form section: its Chinese label, else its English one."""
    label = item.get("label") if isinstance(item, dict) else None
    found = (label.get("zh_CN") or label.get("en")) if isinstance(label, dict) else None
    return found if isinstance(found, str) else None


# How the elements of a list are told apart, tried in turn; the first that names every element of
# all three sides once wins.
_IDENTITIES: tuple[Identity, ...] = (_named("name"), _named("value"), _placed, _labelled)

Side = Literal["ours", "theirs"]


class _Absent:
    """The value of something that does not exist on one side (a removed key, a missing document)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Conflict:
    """Both sides changed one place differently: `file#path` and the base, ours and theirs values."""

    file: str
    path: str
    base: Any
    ours: Any
    theirs: Any

    @property
    def where(self) -> str:
        return f"{self.file}#{self.path}"

    def lines(self) -> list[str]:
        return [
            self.where,
            f"    base:   {show(self.base)}",
            f"    ours:   {show(self.ours)}",
            f"    theirs: {show(self.theirs)}",
        ]


def show(value: Any, limit: int = 100) -> str:
    """A value as one short line of JSON; ABSENT as (absent)."""
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class MergeResult:
    """Merged documents (a key missing means the document is gone), the conflicts left, and any
    resolutions that matched no conflict."""

    documents: dict[Hashable, dict[str, Any]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)


def merge_documents(
    base: Mapping[Hashable, Any],
    ours: Mapping[Hashable, Any],
    theirs: Mapping[Hashable, Any],
    files: Mapping[Hashable, str],
    resolve: Mapping[str, Side] | None = None,
) -> MergeResult:
    """Merge sets of documents keyed alike (e.g. by kind and name); `files` names each key's file."""
    resolutions = _Resolutions(resolve or {})
    result = MergeResult()
    for key in sorted({*base, *ours, *theirs}, key=repr):
        merged = _Merge(files[key], resolutions, result.conflicts).value(
            base.get(key, ABSENT), ours.get(key, ABSENT), theirs.get(key, ABSENT), ""
        )
        if merged is not ABSENT:
            result.documents[key] = merged
    result.unused = resolutions.unused()
    return result


def merge_document(
    base: Any, ours: Any, theirs: Any, file: str = "", resolve: Mapping[str, Side] | None = None
) -> tuple[Any, list[Conflict]]:
    """Merge one document (ABSENT for a side where it does not exist)."""
    conflicts: list[Conflict] = []
    merged = _Merge(file, _Resolutions(resolve or {}), conflicts).value(base, ours, theirs, "")
    return merged, conflicts


class _Resolutions:
    """`file#path` → side; a path may be written without the `@` of keyed elements."""

    def __init__(self, given: Mapping[str, Side]) -> None:
        self.given = dict(given)
        self.used: set[str] = set()

    def side_for(self, where: str) -> Side | None:
        for candidate in (where, where.replace("/@", "/")):
            if candidate in self.given:
                self.used.add(candidate)
                return self.given[candidate]
        return None

    def unused(self) -> list[str]:
        return [path for path in self.given if path not in self.used]


@dataclass
class _Merge:
    file: str
    resolutions: _Resolutions
    conflicts: list[Conflict]

    def value(self, base: Any, ours: Any, theirs: Any, path: str) -> Any:
        if _same(ours, theirs):
            return ours
        if _same(base, ours):
            return theirs
        if _same(base, theirs):
            return ours
        if isinstance(ours, dict) and isinstance(theirs, dict):
            return self.mapping(base if isinstance(base, dict) else {}, ours, theirs, path)
        if isinstance(ours, list) and isinstance(theirs, list):
            earlier = base if isinstance(base, list) else []
            identity = _identity(earlier, ours, theirs)
            if identity is not None:
                return self.keyed(earlier, ours, theirs, identity, path)
        return self.conflict(base, ours, theirs, path)

    def conflict(self, base: Any, ours: Any, theirs: Any, path: str) -> Any:
        side = self.resolutions.side_for(f"{self.file}#{path}")
        if side is not None:
            return ours if side == "ours" else theirs
        self.conflicts.append(Conflict(self.file, path, base, ours, theirs))
        return ours  # never applied: a merge with conflicts is not used

    def mapping(self, base: dict, ours: dict, theirs: dict, path: str) -> dict:
        merged: dict[str, Any] = {}
        for key in _arrange(list(ours), list(theirs)):
            value = self.value(
                base.get(key, ABSENT),
                ours.get(key, ABSENT),
                theirs.get(key, ABSENT),
                f"{path}/{_escape(key)}",
            )
            if value is not ABSENT:
                merged[key] = value
        return merged

    def keyed(self, base: list, ours: list, theirs: list, identity: Identity, path: str) -> list:
        sides = (base, ours, theirs)
        by_base, by_ours, by_theirs = ({identity(item): item for item in side} for side in sides)
        merged: dict[str, Any] = {}
        for name in dict.fromkeys([*by_ours, *by_theirs, *by_base]):
            value = self.value(
                by_base.get(name, ABSENT),
                by_ours.get(name, ABSENT),
                by_theirs.get(name, ABSENT),
                f"{path}/@{_escape(name)}",
            )
            if value is not ABSENT:
                merged[name] = value
        order = self.order(list(by_base), list(by_ours), list(by_theirs), f"{path}/{ORDER}")
        return [merged[name] for name in order if name in merged]

    def order(self, base: list[str], ours: list[str], theirs: list[str], path: str) -> list[str]:
        """Ours' sequence with theirs' additions, or theirs' when only theirs reordered."""
        common = set(base) & set(ours) & set(theirs)
        base_rel, ours_rel, theirs_rel = ([n for n in side if n in common] for side in (base, ours, theirs))
        if ours_rel == base_rel and theirs_rel != base_rel:
            return _arrange(theirs, ours)
        if theirs_rel in (base_rel, ours_rel):
            return _arrange(ours, theirs)
        chosen = self.conflict(base_rel, ours_rel, theirs_rel, path)
        return _arrange(ours, theirs) if chosen is ours_rel else _arrange(theirs, ours)


def _arrange(primary: Sequence[str], secondary: Sequence[str]) -> list[str]:
    """`primary`'s sequence, with what only `secondary` has placed after its neighbour there."""
    arranged = list(primary)
    previous: str | None = None
    for name in secondary:
        if name not in arranged:
            at = arranged.index(previous) + 1 if previous is not None else 0
            arranged.insert(at, name)
        previous = name
    return arranged


def _identity(*lists: list[Any]) -> Identity | None:
    for identity in _IDENTITIES:
        if all(_told_apart(items, identity) for items in lists):
            return identity
    return None


def _told_apart(items: Iterable[Any], identity: Identity) -> bool:
    names = [identity(item) for item in items]
    return None not in names and len(set(names)) == len(names)


def _same(left: Any, right: Any) -> bool:
    if left is ABSENT or right is ABSENT:
        return left is right
    # Python says True == 1 == 1.0; JSON documents do not, so compare their JSON text.
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
