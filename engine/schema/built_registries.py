"""Registries kept by the metadata they were built from, for a process that opens many databases
holding the same documents (a tenant each, a test each): each registry is built once, not per database."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from engine.fieldtypes.registry import FieldTypeRegistry
from engine.schema.registry import Registry
from engine.store.documents import StoredDocument


class BuiltRegistries:
    """The last `size` registries built, by store version, documents' content and field types."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._built: OrderedDict[tuple, Registry] = OrderedDict()
        self._lock = threading.Lock()

    def registry(
        self,
        version: int,
        documents: Sequence[StoredDocument],
        field_types: FieldTypeRegistry,
        build: Callable[[], Registry],
    ) -> Registry:
        """The registry of these documents, built by `build` the first time they are seen."""
        # A registry's models hold field types, so the kinds each name stands for are part of the
        # key; types are told apart by class (each Loom registers instances of its own).
        kinds = tuple((name, type(field_types.get(name))) for name in field_types)
        key = (version, kinds, _content(documents))
        with self._lock:
            if key in self._built:
                self._built.move_to_end(key)
                return self._built[key]
        registry = build()
        with self._lock:
            self._built[key] = registry
            while len(self._built) > self._size:
                self._built.popitem(last=False)
        return registry


def _content(documents: Sequence[StoredDocument]) -> str:
    text = repr([(doc.kind, doc.name, doc.package, doc.body) for doc in documents])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
