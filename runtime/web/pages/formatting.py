"""Record values as a page shows them: formatted by field type in the page's language.

Currency with its symbol and thousands separators, dates and moments in the user's locale and
the business time zone, select options by their label (and colour, for badges), lookups by the
linked record's title and users by their display name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import g, url_for
from flask_babel import gettext as _

from engine import identity
from engine.base.actors import Actor
from engine.base.errors import UnknownObject
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.schema.registry import ObjectModel
from metadata.specs import FieldSpec
from runtime.web.i18n import babel_locale, label_text

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥", "GBP": "£"}
EMPTY = "—"
SYSTEM_FIELD_LABELS = {
    "id": ("ID", "ID"),
    "owner": ("负责人", "Owner"),
    "created_at": ("创建时间", "Created"),
    "created_by": ("创建人", "Created by"),
    "updated_at": ("修改时间", "Updated"),
    "updated_by": ("修改人", "Updated by"),
}
SYSTEM_FIELD_TYPES = {
    "id": "integer",
    "owner": "user",
    "created_at": "datetime",
    "created_by": "user",
    "updated_at": "datetime",
    "updated_by": "user",
}


@dataclass(frozen=True)
class Shown:
    """One value ready for a template: text, and a badge colour or a link when it has one."""

    text: str
    color: str | None = None
    href: str | None = None
    items: tuple[Shown, ...] = ()
    multiline: bool = False
    empty: bool = False
    badge: bool = False
    thumbnail: str | None = None  # an image file shown small, linking to itself


def field_spec(model: ObjectModel, name: str) -> FieldSpec:
    """A field of the object, or a system field (owner, created_at …) described like one."""
    if name in model.fields:
        return model.field(name)
    zh, en = SYSTEM_FIELD_LABELS[name]
    return FieldSpec(name=name, type=SYSTEM_FIELD_TYPES[name], label={"zh_CN": zh, "en": en})


def field_label(model: ObjectModel, name: str) -> str:
    return label_text(field_spec(model, name).label, name)


def is_field(model: ObjectModel, name: str) -> bool:
    return name in model.fields or name in SYSTEM_FIELD_TYPES


class ValueFormatter:
    """Formats the values of many records at once: lookup titles and user names in one query each."""

    def __init__(self, loom: Loom, actor: Actor, locale: str) -> None:
        self.loom = loom
        self.actor = actor
        self.locale = locale
        self._babel_locale = babel_locale(locale)
        self.titles: dict[str, dict[int, str]] = defaultdict(dict)

    def prepare(self, model: ObjectModel, records: Iterable[Mapping[str, Any]], names: Iterable[str]) -> None:
        """Fetch the titles of every record the given lookup fields point at."""
        wanted: dict[str, set[int]] = defaultdict(set)
        records = list(records)
        for name in names:
            spec = field_spec(model, name) if is_field(model, name) else None
            if spec is not None and spec.type == "lookup":
                wanted[spec.param("target")].update(r[name] for r in records if r.get(name) is not None)
        queries = self.loom.queries(self.actor)
        for target, ids in wanted.items():
            missing = [i for i in ids if i not in self.titles[target]]
            if not missing:
                continue
            # Shown as a bare number when the reader may not see that object.
            with suppress(PermissionDenied, UnknownObject):
                self.titles[target].update(queries.titles(target, missing))

    def show(self, model: ObjectModel, name: str, record: Mapping[str, Any]) -> Shown:
        spec = field_spec(model, name)
        if spec.type == "attachment" and record.get(name) and record.get("id"):
            return files_shown(model.name, record["id"], name, record[name])
        return self.value(spec, record.get(name))

    def value(self, spec: FieldSpec, value: Any, kind: str | None = None) -> Shown:
        kind = kind or spec.type
        if value is None or value == "" or value == []:
            return Shown(EMPTY, empty=True)
        if kind == "formula":
            return self.value(spec, value, spec.param("result", "text"))
        if kind == "rollup":
            return self.value(spec, value, self._rollup_kind(spec))
        if kind in ("select", "multi_select"):
            shown = tuple(
                self._option(spec, choice) for choice in (value if isinstance(value, list) else [value])
            )
            return shown[0] if kind == "select" else Shown(", ".join(s.text for s in shown), items=shown)
        if kind == "tags":
            return Shown(", ".join(value), items=tuple(Shown(tag, badge=True) for tag in value))
        if kind == "lookup":
            target = spec.param("target")
            title = self.titles[target].get(value)
            if title is None:
                return Shown(f"#{value}")
            return Shown(title, href=url_for("pages.record_detail", object_name=target, record_id=value))
        if kind == "user":
            return Shown(user_names(self.loom).get(value, f"#{value}"))
        if kind == "attachment":
            return Shown(", ".join(str(item.get("name", "")) for item in value))
        if kind == "boolean":
            return Shown(_("Yes") if value else _("No"))
        if kind == "long_text":
            return Shown(str(value), multiline=True)
        return Shown(self.text(kind, value, spec))

    def text(self, kind: str, value: Any, spec: FieldSpec | None = None) -> str:
        """A plain value as text: numbers grouped, money with its symbol, dates in the locale."""
        if kind == "currency":
            code = spec.param("currency", "CNY") if spec else "CNY"
            amount = format_decimal(Decimal(value), format="#,##0.00", locale=self._babel_locale)
            symbol = CURRENCY_SYMBOLS.get(code, code + " ")
            return f"-{symbol}{amount[1:]}" if amount.startswith("-") else f"{symbol}{amount}"
        if kind == "percent":
            return f"{format_decimal(Decimal(value), format='#,##0.##', locale=self._babel_locale)}%"
        if kind in ("integer", "decimal"):
            return format_decimal(value, format="#,##0.########", locale=self._babel_locale)
        if kind in ("date", "datetime") and isinstance(value, str):
            value = _parsed_moment(value, kind)  # a value from the audit log, written as JSON
        if kind == "date" and isinstance(value, date):
            return self.date(value)
        if kind == "datetime" and isinstance(value, datetime):
            return self.moment(value)
        return str(value)

    def date(self, value: date) -> str:
        return format_date(value, "medium", locale=self._babel_locale)

    def moment(self, value: datetime) -> str:
        local = value.replace(tzinfo=UTC).astimezone(self.loom.clock.timezone)
        day = format_date(local, "medium", locale=self._babel_locale)
        return f"{day} {format_time(local, 'HH:mm', locale=self._babel_locale)}"

    def _option(self, spec: FieldSpec, choice: str) -> Shown:
        for option in spec.param("options", ()):
            if option["value"] == choice:
                text = label_text(option.get("label"), choice, self.locale)
                return Shown(text, color=option.get("color"), badge=True)
        return Shown(str(choice), badge=True)

    def _rollup_kind(self, spec: FieldSpec) -> str:
        source = spec.param("source", {})
        if source.get("function") == "count" or not source.get("field"):
            return "integer"
        try:
            return self.loom.registry.object(source["object"]).field(source["field"]).type
        except (UnknownObject, KeyError):
            return "decimal"


def files_shown(object_name: str, record_id: int, field: str, files: list[dict[str, Any]]) -> Shown:
    """A record's files as links to download them; images also as thumbnails."""
    items = []
    for item in files:
        href = url_for(
            "pages.record_file", object_name=object_name, record_id=record_id, field=field, key=item["key"]
        )
        image = str(item.get("content_type", "")).startswith("image/")
        items.append(Shown(str(item["name"]), href=href, thumbnail=href if image else None))
    return Shown(", ".join(i.text for i in items), items=tuple(items))


def user_names(loom: Loom) -> dict[int, str]:
    """Every user's display name by id, read once per request."""
    if "loom_user_names" not in g:
        g.loom_user_names = {user["id"]: user["display_name"] for user in identity.list_users(loom)}
    return g.loom_user_names


def _parsed_moment(text: str, kind: str) -> Any:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if kind == "date":
        return moment.date()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
