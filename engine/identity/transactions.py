"""Join the caller's transaction when one is passed, else open one, so identity calls compose."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from engine.loom import Loom


@contextmanager
def writing(loom: Loom, conn: Connection | None = None) -> Iterator[Connection]:
    if conn is not None:
        yield conn
    else:
        with loom.begin() as fresh:
            yield fresh


@contextmanager
def reading(loom: Loom, conn: Connection | None = None) -> Iterator[Connection]:
    if conn is not None:
        yield conn
    else:
        with loom.read() as fresh:
            yield fresh
