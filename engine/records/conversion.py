"""Converting a record into others in one transaction (线索转客户), as its object's metadata says.

    "convert": {"status": {"field": "status", "value": "converted"}, "converted_at": "converted_at",
                "targets": [{"object": "customer", "link": "converted_customer", "link_existing": true,
                             "values": {"name": "coalesce(company, name)", "phone": "phone"}},
                            {"object": "contact", "link": "converted_contact", "values": {…}},
                            {"object": "opportunity", "link": "converted_opportunity", "optional": true}]}

Each target's values are expressions over the converted record. A target's lookups to the
converted object, or to an earlier target's object, are filled with the records made (or
linked) before it: the contact gets its customer, the opportunity its customer, contact and
lead. The converted record is marked with the status option, stamped, and linked to each
record it became; once marked it cannot be converted again. The actor needs the right to
change the record and to create every record made; a linked record must be one they can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from engine.base.actors import Actor
from engine.base.errors import ActionRefused, LoomError, RecordInvalid, RecordNotFound
from engine.expressions import evaluate
from engine.identity.permissions import PermissionDenied, access_for, scope_condition
from engine.imports.dedupe import KeyIndex
from engine.schema.registry import ObjectModel, Registry
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from engine.loom import Loom

DUPLICATES_SHOWN = 10


class ConversionRefused(ActionRefused):
    """A conversion could not be done as asked; nothing was changed."""

    code = "conversion_refused"


@dataclass(frozen=True)
class ConvertTarget:
    object: str
    link: str
    values: Mapping[str, str]
    optional: bool = False
    link_existing: bool = False


@dataclass(frozen=True)
class ConvertSettings:
    status_field: str
    status_value: str
    converted_at: str | None
    targets: tuple[ConvertTarget, ...]

    def target(self, object_name: str) -> ConvertTarget | None:
        return next((target for target in self.targets if target.object == object_name), None)


def convert_settings(spec: ObjectSpec) -> ConvertSettings | None:
    """The object's "convert" metadata, or None when its records are not converted into others."""
    doc = spec.extra.get("convert")
    if not doc:
        return None
    return ConvertSettings(
        status_field=doc["status"]["field"],
        status_value=doc["status"]["value"],
        converted_at=doc.get("converted_at"),
        targets=tuple(
            ConvertTarget(
                object=target["object"],
                link=target["link"],
                values=dict(target.get("values") or {}),
                optional=bool(target.get("optional", False)),
                link_existing=bool(target.get("link_existing", False)),
            )
            for target in doc["targets"]
        ),
    )


@dataclass(frozen=True)
class Duplicate:
    """A record that the one about to be made probably duplicates, found by a duplicate rule."""

    id: int
    title: str
    rule: str


@dataclass
class TargetPlan:
    """What converting would make of one target: its proposed values and the duplicates found."""

    target: ConvertTarget
    values: dict[str, Any]
    duplicates: list[Duplicate] = field(default_factory=list)
    hidden_duplicates: int = 0  # duplicates the actor may not read: counted, never named


@dataclass
class Conversion:
    """What a conversion made: the converted record as saved, and each target's record."""

    source: dict[str, Any]
    records: dict[str, dict[str, Any]]
    linked: frozenset[str]


def convertible(loom: Loom, actor: Actor, object_name: str, record: Mapping[str, Any]) -> bool:
    """Whether a page should offer to convert this record; `convert` checks everything again."""
    settings = convert_settings(loom.registry.object(object_name).spec)
    if settings is None or _converted(settings, record):
        return False
    registry = loom.registry
    if not access_for(registry, actor, object_name).allows("update"):
        return False
    return all(
        access_for(registry, actor, target.object).allows("create")
        for target in settings.targets
        if not target.optional and target.object in registry.objects
    )


def plan(loom: Loom, actor: Actor, object_name: str, record_id: int) -> list[TargetPlan]:
    """What converting the record would make, target by target, with likely duplicates to link instead."""
    with loom.begin() as conn:  # catching up the duplicate keys writes
        registry = loom.registry_for(conn)
        model, settings = _model_and_settings(registry, object_name)
        record = _convertible_record(loom, conn, registry, model, settings, actor, record_id)
        plans = []
        for target in settings.targets:
            target_model = registry.object(target.object)
            values = _mapped_values(loom, actor, target, record)
            found = TargetPlan(target, values)
            if target.link_existing and target_model.spec.duplicate_rules:
                found.duplicates, found.hidden_duplicates = _duplicates(
                    loom, conn, actor, target_model, values
                )
            plans.append(found)
        return plans


def convert(
    loom: Loom,
    actor: Actor,
    object_name: str,
    record_id: int,
    *,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    existing: Mapping[str, int] | None = None,
    include: Iterable[str] = (),
) -> Conversion:
    """Convert the record: make (or link, per `existing`) each target, all in one transaction.

    `values` overrides the mapped values per target object; optional targets are made only when
    named in `include` (or given values); `existing` maps a target object to a record to link.
    """
    values, existing, wanted = dict(values or {}), dict(existing or {}), set(include)
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        model, settings = _model_and_settings(registry, object_name)
        unknown = sorted(name for name in {*values, *existing, *wanted} if settings.target(name) is None)
        if unknown:
            raise ConversionRefused(
                f"a {model.name} is not converted into {', '.join(unknown)}",
                "unknown_target",
                objects=unknown,
            )
        for name in existing:
            target = settings.target(name)
            if target is not None and not target.link_existing:
                raise ConversionRefused(
                    f"a {model.name} is converted into a new {name}; it cannot be linked to an existing one",
                    "no_linking",
                    object=name,
                )
        record = _convertible_record(loom, conn, registry, model, settings, actor, record_id)
        chosen = [
            target
            for target in settings.targets
            if not target.optional
            or target.object in wanted
            or target.object in values
            or target.object in existing
        ]
        for target in chosen:
            if target.object not in existing:
                access_for(registry, actor, target.object).require("create")
        made: dict[str, dict[str, Any]] = {}
        records = loom.records(actor, conn)
        for target in chosen:
            if target.object in existing:
                made[target.object] = _linked(records, model, target, existing[target.object])
                continue
            target_model = registry.object(target.object)
            proposed = {k: v for k, v in _mapped_values(loom, actor, target, record).items() if v is not None}
            proposed.update(_links(target_model, object_name, record_id, made))
            proposed.setdefault("owner", record.get("owner") or actor.user_id)
            proposed.update(values.get(target.object) or {})
            try:
                made[target.object] = records.create(target.object, proposed)
            except RecordInvalid as error:
                fields = {f"{target.object}.{name}": messages for name, messages in error.fields.items()}
                raise RecordInvalid(object_name, fields) from None
        marks: dict[str, Any] = {settings.status_field: settings.status_value}
        if settings.converted_at:
            marks[settings.converted_at] = loom.clock.now()
        for target in chosen:
            marks[target.link] = made[target.object]["id"]
        # The links and the converted status are the conversion's to set, not the actor's to edit.
        source = loom.records(replace(actor, is_system=True), conn).update(object_name, record_id, marks)
        return Conversion(source, made, frozenset(existing))


# -- the parts -----------------------------------------------------------------------------------


def _model_and_settings(registry: Registry, object_name: str) -> tuple[ObjectModel, ConvertSettings]:
    model = registry.object(object_name)
    settings = convert_settings(model.spec)
    if settings is None:
        raise ConversionRefused(f"{object_name} records are not converted into others", "not_convertible")
    return model, settings


def _converted(settings: ConvertSettings, record: Mapping[str, Any]) -> bool:
    return record.get(settings.status_field) == settings.status_value or any(
        record.get(target.link) is not None for target in settings.targets
    )


def _convertible_record(
    loom: Loom,
    conn: Connection,
    registry: Registry,
    model: ObjectModel,
    settings: ConvertSettings,
    actor: Actor,
    record_id: int,
) -> dict[str, Any]:
    """The record as the actor reads it, locked, once sure they may change it and it is not converted."""
    record = loom.records(actor, conn).get(model.name, record_id)  # RecordNotFound when unreadable
    access = access_for(registry, actor, model.name)
    table = model.table
    query = select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_(None))
    if access.allows("update") and (scope := scope_condition(model, access, "update", actor)) is not None:
        query = query.where(scope)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=table)
    if not access.allows("update") or conn.execute(query).first() is None:
        raise PermissionDenied(f"you may see this {model.name} but not change it")
    record = loom.records(actor, conn).get(model.name, record_id)  # read again under the lock
    if _converted(settings, record):
        made = [f"{t.object} {record[t.link]}" for t in settings.targets if record.get(t.link) is not None]
        into = f" (into {', '.join(made)})" if made else ""
        raise ConversionRefused(
            f"{model.name} {record_id} is already converted{into}; it cannot be converted twice",
            "already_converted",
            id=record_id,
        )
    return record


def _mapped_values(
    loom: Loom, actor: Actor, target: ConvertTarget, record: Mapping[str, Any]
) -> dict[str, Any]:
    ectx, _ = loom.contexts(actor)
    names = {**record, **{k: None for k in target.values if k not in record}}
    found = {}
    for name, text in target.values.items():
        try:
            found[name] = evaluate(text, names, ectx)
        except LoomError as error:
            raise ConversionRefused(
                f"the conversion's value for {target.object}.{name} ({text!r}) failed: {error.message}",
                "bad_mapping",
                object=target.object,
                field=name,
            ) from None
    return found


def _links(
    model: ObjectModel, source: str, source_id: int, made: Mapping[str, Mapping[str, Any]]
) -> dict[str, int]:
    """The target's lookups to the converted object and to the records made before it."""
    links = {}
    for spec in model.spec.fields:
        if spec.type != "lookup":
            continue
        wanted = spec.param("target")
        if wanted in made:
            links[spec.name] = made[wanted]["id"]
        elif wanted == source:
            links[spec.name] = source_id
    return links


def _linked(records: Any, model: ObjectModel, target: ConvertTarget, target_id: Any) -> dict[str, Any]:
    if type(target_id) is not int or target_id < 1:
        raise ConversionRefused(
            f"the {target.object} to link must be given by its id", "not_linkable", object=target.object
        )
    try:
        return records.get(target.object, target_id)
    except (RecordNotFound, PermissionDenied):
        raise ConversionRefused(
            f"{target.object} {target_id} does not exist or you may not see it; "
            f"the {model.name} cannot be linked to it",
            "not_linkable",
            object=target.object,
            id=target_id,
        ) from None


def _duplicates(
    loom: Loom, conn: Connection, actor: Actor, model: ObjectModel, values: Mapping[str, Any]
) -> tuple[list[Duplicate], int]:
    """Records the new one would likely duplicate by the object's duplicate rules: those the actor
    may read, and how many others there are."""
    index = KeyIndex(model)
    index.catch_up(conn, loom.clock.now())
    keys = index.keys(values)
    holders = index.lookup(conn, keys)
    rules = {record_id: rule for (rule, _), record_id in sorted(holders.items(), key=lambda item: item[1])}
    if not rules:
        return [], 0
    ids = sorted(rules)[:DUPLICATES_SHOWN]
    page = loom.queries(actor, conn).find(model.name, filter=f"id in {ids}", limit=len(ids))
    title_field = model.spec.title_field
    readable = [
        Duplicate(row["id"], str(row.get(title_field) or f"{model.name} {row['id']}"), rules[row["id"]])
        for row in page.records
    ]
    return readable, len(rules) - len(readable)


__all__ = [
    "Conversion",
    "ConversionRefused",
    "ConvertSettings",
    "ConvertTarget",
    "Duplicate",
    "TargetPlan",
    "convert",
    "convert_settings",
    "convertible",
    "plan",
]
