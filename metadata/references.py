"""How documents refer to objects and fields: the field types a reference may need, and the words
for a reference that points nowhere.

Objects and rules are checked by different modules; both name fields and objects the same way and
say the same thing, with the same "did you mean" hint, when a name is wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping

from metadata.specs import ObjectSpec

BUILTIN_TYPES = frozenset(
    {"text", "long_text", "integer", "decimal", "currency", "percent", "boolean", "date", "datetime",
     "select", "multi_select", "email", "phone", "url", "lookup", "user", "formula", "rollup",
     "autonumber", "tags", "attachment"}
)  # fmt: skip
TEXT_TYPES = frozenset({"text", "long_text", "email", "phone", "url", "autonumber"})
NUMBER_TYPES = frozenset({"integer", "decimal", "currency", "percent"})
DATE_TYPES = frozenset({"date", "datetime"})
COMPUTED_TYPES = frozenset({"formula", "rollup"})  # no column: computed when read
GENERATED_TYPES = COMPUTED_TYPES | {"autonumber"}  # Loom gives the value; nothing may set it
MULTI_VALUE_TYPES = frozenset({"multi_select", "tags", "attachment"})


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def no_field(obj: ObjectSpec, name: str) -> str:
    names = [spec.name for spec in obj.fields]
    return f"object {obj.name!r} has no field {name!r}{did_you_mean(name, names)}"


def missing_object(name: str, known: Mapping[str, ObjectSpec], broken: Iterable[str]) -> str | None:
    """Why `name` cannot be referred to, or None when it exists (or was already reported as `broken`)."""
    if name in known or name in broken:
        return None
    return f"object {name!r}, which is neither in this package nor installed{did_you_mean(name, known)}"


def repeats(keys: Iterable[str]) -> Iterator[tuple[int, int]]:
    """(index, index of the first occurrence) for every key seen before."""
    first_at: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in first_at:
            yield index, first_at[key]
        else:
            first_at[key] = index
