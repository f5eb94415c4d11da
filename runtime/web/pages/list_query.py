"""A list page's query as the URL carries it — search, field filters, an expression, sort, columns —
and the filter expression it stands for, written in the engine's own expression language.

Values a user picks or types become string literals (`repr`), never expression text, so a search
for `') or True or ('` searches for exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metadata.extension_layout import extended_columns
from runtime.web.auth import current_loom
from runtime.web.pages.formatting import is_field
from runtime.web.pages.objects import ObjectPage

FILTER_PREFIX = "f_"
FILTER_TYPES = ("select", "multi_select", "boolean", "tags")
TEXT_TYPES = ("text", "long_text", "email", "phone", "url", "autonumber")
MAX_FILTERS = 4


@dataclass(frozen=True)
class ListQuery:
    q: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    mine: bool = False
    where: str = ""
    sort: str = ""
    columns: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ListQuery:
        filters = {
            key[len(FILTER_PREFIX) :]: str(value)
            for key, value in args.items()
            if key.startswith(FILTER_PREFIX) and value not in (None, "")
        }
        columns = tuple(name for name in str(args.get("cols", "")).split(",") if name)
        return cls(
            q=str(args.get("q", "")).strip(),
            filters=filters,
            mine=str(args.get("mine", "")) in ("1", "true", "on"),
            where=str(args.get("where", "")).strip(),
            sort=str(args.get("sort", "")).strip(),
            columns=columns,
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """The query as URL parameters (for links that keep it), with some parameters changed."""
        args = {f"{FILTER_PREFIX}{name}": value for name, value in self.filters.items()}
        args.update(q=self.q, where=self.where, sort=self.sort, cols=",".join(self.columns))
        if self.mine:
            args["mine"] = "1"
        args.update({key: value for key, value in changes.items() if value is not None})
        return {key: value for key, value in args.items() if value not in ("", None)}

    def expression(self, page: ObjectPage) -> str | None:
        """The filter expression: every condition must hold."""
        parts = []
        if self.q:
            searched = [name for name in search_fields(page) if page.visible(name)]
            if searched:
                parts.append(" or ".join(f"contains({name}, {self.q!r})" for name in searched))
        for name, value in self.filters.items():
            condition = _field_condition(page, name, value)
            if condition:
                parts.append(condition)
        if self.mine:
            parts.append("owner == user()")
        if self.where:
            parts.append(self.where)
        if not parts:
            return None
        return " and ".join(f"({part})" for part in parts) if len(parts) > 1 else parts[0]

    def shown_columns(self, page: ObjectPage) -> list[str]:
        wanted = self.columns or default_columns(page)
        return [name for name in wanted if is_field(page.model, name) and page.visible(name)]


def default_columns(page: ObjectPage) -> list[str]:
    listed = current_loom().registry.list_columns(page.name)
    if listed:
        return listed
    title = page.model.spec.title_field
    names = [title] if title else []
    generated = names + [spec.name for spec in page.model.spec.fields if spec.name != title][:6]
    return extended_columns(generated, page.model.spec, current_loom().registry.layouts.get(page.name, ()))


def default_sort(page: ObjectPage) -> str:
    return ",".join(page.model.spec.extra.get("list", {}).get("sort", ["-created_at"]))


def page_size(page: ObjectPage) -> int:
    return int(page.model.spec.extra.get("list", {}).get("page_size", 50))


def search_fields(page: ObjectPage) -> list[str]:
    named = list(page.model.spec.search_fields)
    if not named and page.model.spec.title_field:
        named = [page.model.spec.title_field]
    return [name for name in named if name in page.model.fields and page.model.field(name).type in TEXT_TYPES]


def filter_fields(page: ObjectPage) -> list[str]:
    """Fields offered as filters: the choice fields among the columns first, then the others."""
    columns = default_columns(page)
    choices = [
        spec.name
        for spec in page.model.spec.fields
        if spec.type in FILTER_TYPES and page.visible(spec.name) and spec.type != "tags"
    ]
    return sorted(
        choices, key=lambda name: (name not in columns, columns.index(name) if name in columns else 0)
    )[:MAX_FILTERS]


def _field_condition(page: ObjectPage, name: str, value: str) -> str | None:
    if name not in page.model.fields or not page.visible(name):
        return None
    spec = page.model.field(name)
    if spec.type == "boolean":
        return f"{name} == {value in ('1', 'true')}"
    if spec.type == "select":
        return f"{name} == {value!r}"
    if spec.type in ("multi_select", "tags"):
        return f"contains({name}, {value!r})"
    return None
