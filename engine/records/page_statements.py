"""First pages of lists kept as built SELECTs, per registry: a list opened again with the same filter
and sort (a saved view, an integration's usual query) runs a statement SQLAlchemy has already keyed
and compiled, instead of one built and walked afresh on every request."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select

from engine.base.actors import Actor
from engine.base.errors import ExpressionError
from engine.expressions import SqlContext
from engine.identity.permissions import ObjectAccess
from engine.records.sql import columns_key, expression_fixed
from engine.schema.registry import ObjectModel, Registry

# Enough for every list view of a large CRM and its frequent filters; bounded because the API takes
# any filter text.
KEPT = 256


class PageStatements:
    """The last `KEPT` first-page SELECTs built with one registry, by what they were built from."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple, Select] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Select | None:
        with self._lock:
            query = self._kept.get(key)
            if query is not None:
                self._kept.move_to_end(key)
            return query

    def put(self, key: tuple, query: Select) -> None:
        with self._lock:
            self._kept[key] = query
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)


def page_statements(registry: Registry) -> PageStatements:
    kept = registry.select_cache.get(_KEY)
    if kept is None:
        kept = registry.select_cache.setdefault(_KEY, PageStatements())
    return kept  # type: ignore[return-value]


_KEY = ("page_statements",)


def first_page_key(
    model: ObjectModel,
    registry: Registry,
    sctx: SqlContext,
    access: ObjectAccess,
    operation: str,
    filter: str | None,
    sort_names: Sequence[str],
    shape: tuple[Any, ...],
) -> tuple | None:
    """What a first page's SELECT is built from; None when it must be built anew because its filter or
    sort reads the clock or the actor (today(), user()). `shape`: the rest the caller asked for."""
    columns = columns_key(model, registry, sctx)
    if columns is None or not _fixed(model, registry, filter, sort_names):
        return None
    reader = _reader(sctx.actor, access, operation)
    return ("first_page", columns, sctx.timezone, operation, filter, tuple(sort_names), shape, reader)


def _fixed(model: ObjectModel, registry: Registry, filter: str | None, sort_names: Sequence[str]) -> bool:
    # What cannot be read (a filter with a mistake, an unknown sort field) is built afresh, so the
    # caller is told what is wrong with it exactly as when nothing is kept.
    if any(name not in model.fields for name in sort_names):
        return False
    try:
        texts = [filter, *sort_names] if filter else sort_names
        return all(expression_fixed(text, model, registry) for text in texts)
    except ExpressionError:
        return False


def _reader(actor: Actor, access: ObjectAccess, operation: str) -> tuple:
    """What of the actor the statement depends on: their roles (grants, hidden fields) and, unless
    they may see every record, who and where they are (their scope)."""
    if access.unrestricted or access.scopes.get(operation) == "all":
        return (actor.is_system, actor.roles)
    return (actor.is_system, actor.roles, actor.user_id, actor.department_id, actor.department_path)
