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

from sqlalchemy import ColumnElement, Connection, false, func, or_, select

from engine.base.actors import Actor
from engine.identity.permissions import access_for, scope_condition
from engine.schema.registry import ObjectModel
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
            first: list[tuple[str | None, list[ColumnElement]]] = [(fields[0] if fields else None, [])]
            lists = _lists(model, title, searched, q, conn.dialect.name) if q else first
            for tier, related in tiers:
                for field, match in lists:
                    if len(found) >= wanted:
                        break
                    conditions = [*base, *match] if tier is None else [*base, tier, *match]
                    rows = self._rows(conn, model, fields, field, conditions, wanted + len(found))
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
        conditions: list[ColumnElement],
        wanted: int,
    ) -> list[Any]:
        """The first `wanted` records meeting the conditions in the field's order (the newest first
        when there is no field), read through the field's index."""
        table = model.table
        columns = [table.c.id, *(table.c[name] for name in fields)]
        order = [table.c.id.desc()] if field is None else [table.c[field], table.c.id]
        query = select(*columns).where(*conditions).order_by(*order).limit(wanted)
        return conn.execute(query).all()


def _lists(
    model: ObjectModel, title: str | None, searched: list[str], q: str, dialect: str
) -> list[tuple[str | None, list[ColumnElement]]]:
    """The ordered lists a search reads, each (field, condition): the title first, then the fields
    whose type fits what was typed (a phone field for digits), then the rest; within a field, the
    text as typed before its other cases. Each list is one index range read."""
    fits = [n for n in searched if n != title and _fits(model.field(n).type, q)]
    others = [n for n in searched if n != title and n not in fits]
    ordered = ([title] if title in searched else []) + fits + others
    lists: list[tuple[str | None, list[ColumnElement]]] = []
    for name in ordered:
        if not _could_hold(model.field(name).type, q):
            continue
        column = model.table.c[name]
        if dialect != "sqlite":
            lists.append((name, [column.ilike(_escaped(q) + "%", escape="\\")]))
            continue
        # A range is case-sensitive: the usual ways of typing a Latin word are each one range read.
        lists += [(name, [column >= v, column < v + HIGHEST]) for v in _variants(q)]
    return lists


def _fits(field_type: str, q: str) -> bool:
    """Typed text that looks like this type's values: digits for a phone, an @ for an e-mail."""
    if field_type == "phone":
        return any(c.isdigit() for c in q)
    if field_type == "email":
        return "@" in q or (q.isascii() and q.isalnum() and not q.isdigit())
    return False


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
