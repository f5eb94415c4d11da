"""The records a lookup field may point at, found as a person types: by the start of the target's
title or of one of its search fields, in the actor's read scope, linked records first.

Each searched field is read through its own index with its own small LIMIT and the answers are
merged, so a search costs a few index range reads whatever the table's size. A prefix is a range
(`name >= '杭州' and name < '杭州\\U0010ffff'`) on SQLite, whose LIKE cannot use a plain index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select

from engine.actors import Actor
from engine.permissions import access_for, scope_condition
from engine.registry import ObjectModel
from metadata.references import TEXT_TYPES

if TYPE_CHECKING:
    from engine.loom import Loom

MAX_QUERY = 100
MAX_LIMIT = 50
MAX_PAGE = 20
HIGHEST = "\U0010ffff"
PHONE_CHARACTERS = frozenset("0123456789+-() ")


@dataclass(frozen=True)
class Choice:
    """One record a lookup may point at: its id, title, a line that tells it apart, and whether it
    is linked to the records the form already names."""

    id: int
    title: str
    detail: str
    related: bool


@dataclass(frozen=True)
class Choices:
    choices: list[Choice]
    more: bool


def parent_links(source: ObjectModel, field: str, target: ObjectModel) -> dict[str, str]:
    """Which of the form's other lookups narrow this one: form field → target field pointing at the
    same object (a follow-up's `customer` → a contact's `customer`)."""
    links: dict[str, str] = {}
    for spec in source.spec.fields:
        if spec.name == field or spec.type != "lookup":
            continue
        for other in target.spec.fields:
            if other.type == "lookup" and other.param("target") == spec.param("target"):
                links.setdefault(spec.name, other.name)
                break
    return links


def clean_query(text: str) -> str:
    """What was typed, without what no database stores (NUL, lone surrogates), cut to a sane length."""
    text = text.encode("utf-8", "ignore").decode("utf-8").replace("\x00", "")
    return text.strip()[:MAX_QUERY]


class LookupSearch:
    """Finds lookup choices as one actor; reading the target needs the actor's read right on it."""

    def __init__(self, loom: Loom, actor: Actor) -> None:
        self.loom = loom
        self.actor = actor

    def search(
        self,
        object_name: str,
        q: str = "",
        *,
        prefer: Mapping[str, int] | None = None,
        limit: int = 20,
        page: int = 0,
    ) -> Choices:
        """Page `page` of the records whose title or a search field starts with `q` (all, by title,
        when `q` is empty); those whose lookups equal `prefer` ({field: id}) come first."""
        limit = max(1, min(limit, MAX_LIMIT))
        page = max(0, min(page, MAX_PAGE))
        q = clean_query(q)
        with self.loom.read() as conn:
            registry = self.loom.registry_for(conn)
            model = registry.object(object_name)
            access = access_for(registry, self.actor, object_name)
            access.require("read")
            table = model.table
            base: list[ColumnElement] = [table.c.deleted_at.is_(None)]
            if not access.unrestricted:
                scope = scope_condition(model, access, "read", self.actor)
                if scope is not None:
                    # Wrapped so that no index serves the scope: the searched field's index must
                    # drive the query, read in order and stopped at the LIMIT, not a whole owner's rows.
                    base.append(func.coalesce(scope, false()))
            fields = self._searched(model, access.visible)
            title = fields[0] if fields and fields[0] == model.spec.title_field else None
            searched = [name for name in fields if model.field(name).type in TEXT_TYPES]
            linked = [
                table.c[name] == int(value)
                for name, value in (prefer or {}).items()
                if name in model.fields and model.field(name).type == "lookup" and access.visible(name)
            ]
            # The linked records first; the second pass skips those already found.
            tiers = [(or_(*linked), True), (None, False)] if linked else [(None, False)]
            wanted = (page + 1) * limit + 1
            found: dict[int, Choice] = {}
            for tier, related in tiers:
                for field in searched if q else fields[:1] or [None]:
                    if len(found) >= wanted:
                        break
                    if field and not _could_hold(model.field(field).type, q):
                        continue
                    conditions = [*base] if tier is None else [*base, tier]
                    rows = self._rows(conn, model, fields, field, q, conditions, wanted + len(found))
                    for row in rows:
                        if row.id not in found:
                            found[row.id] = _choice(row, title, fields, field, related)
            ordered = list(found.values())
            return Choices(ordered[page * limit : (page + 1) * limit], len(ordered) > (page + 1) * limit)

    def _searched(self, model: ObjectModel, visible: Any) -> list[str]:
        """The title field, then the search fields: stored, text-like and visible to the actor."""
        names = [model.spec.title_field] if model.spec.title_field else []
        names += [n for n in model.spec.search_fields if n not in names]
        return [
            n
            for n in names
            if n in model.fields
            and n in model.table.c
            and visible(n)
            and (model.field(n).type in TEXT_TYPES or n == model.spec.title_field)
        ]

    def _rows(
        self,
        conn: Connection,
        model: ObjectModel,
        fields: list[str],
        field: str | None,
        q: str,
        conditions: list[ColumnElement],
        wanted: int,
    ) -> list[Any]:
        table = model.table
        columns = [table.c.id, *(table.c[name] for name in fields)]
        if field is None:  # no title field: the newest first
            query = select(*columns).where(*conditions).order_by(table.c.id.desc())
            return conn.execute(query.limit(wanted)).all()
        column = table.c[field]
        if not q:
            query = select(*columns).where(*conditions).order_by(column, table.c.id)
            return conn.execute(query.limit(wanted)).all()
        rows: dict[int, Any] = {}
        # A range is case-sensitive: the usual ways of typing a Latin word are each one range read.
        for variant in _variants(q) if conn.dialect.name == "sqlite" else [q]:
            if conn.dialect.name == "sqlite":
                match = and_(column >= variant, column < variant + HIGHEST)
            else:
                match = column.ilike(_escaped(variant) + "%", escape="\\")
            query = select(*columns).where(*conditions, match).order_by(column, table.c.id)
            rows.update((row.id, row) for row in conn.execute(query.limit(wanted)))
        return sorted(rows.values(), key=lambda row: (str(row._mapping[field]), row.id))[:wanted]


def _could_hold(field_type: str, q: str) -> bool:
    """Whether a value of this type could start with `q`: a phone number holds no letters, an
    e-mail address or web address no Chinese, so those fields are not read for them."""
    if field_type == "phone":
        return all(c in PHONE_CHARACTERS for c in q)
    if field_type in ("email", "url"):
        return q.isascii()
    return True


def _variants(q: str) -> list[str]:
    """As typed, in lower case, in capitals and capitalised: one for text without Latin letters."""
    variants = [q, q.lower(), q.upper(), q[:1].upper() + q[1:].lower()]
    return list(dict.fromkeys(variants))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _choice(row: Any, title: str | None, fields: list[str], matched: str | None, related: bool) -> Choice:
    values = row._mapping
    shown = str(values[title]) if title and values[title] not in (None, "") else f"#{row.id}"
    if matched and matched != title and values[matched] not in (None, ""):
        detail = str(values[matched])
    else:
        others = [str(values[n]) for n in fields if n != title and values[n] not in (None, "")]
        detail = " · ".join(others[:2])
    return Choice(row.id, shown, detail, related)
