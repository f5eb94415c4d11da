"""Keeping the objects a long-running process starts with out of the garbage collector's way.

Modules, the metadata registry and the app live as long as the process, yet every full
collection walks them all again, and the request or import batch that sets one off pays for
the whole heap. Frozen, they are skipped; objects made later are collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from engine.loom import Loom


def freeze_startup_objects(loom: Loom) -> None:
    """For a server's lifetime: load the metadata, then freeze everything alive.

    A registry frozen here and later replaced by a metadata change may stay in memory, once.
    """
    loom.registry  # noqa: B018 - loaded now, so that it is frozen with the rest
    gc.freeze()


@contextmanager
def startup_objects_frozen(loom: Loom) -> Iterator[None]:
    """For one long task (an import): everything alive is frozen until it ends."""
    loom.registry  # noqa: B018 - loaded now, so that it is frozen with the rest
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
