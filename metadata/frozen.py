"""Deep-frozen JSON values: what every spec holds instead of mutable dicts and lists."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

Label = Mapping[str, str]


def freeze(value: Any) -> Any:
    """Deep-freeze JSON data: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """Turn frozen data back into plain JSON data (dicts and lists)."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value
