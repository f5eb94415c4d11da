"""Turning raw input into rows: coercion, defaults, required and validation checks, references, autonumbers.

A writer is made per call and reused for every row of a bulk create, so the per-object
lookups happen once and the per-row loop only does what each row needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Row, Select, Table, false, func, select, text, update
from sqlalchemy import column as light_column
from sqlalchemy import table as light_table

from engine.base.actors import Actor
from engine.base.clock import utc_offset
from engine.base.errors import ConflictError, ExpressionError, FieldValueError
from engine.base.events import RecordEvent
from engine.base.messages import Message, named
from engine.expressions import EvalContext, evaluate, parse
from engine.fieldtypes.autonumber import autonumber_frame, autonumber_period, format_autonumber
from engine.fieldtypes.base import FieldType, Source
from engine.fieldtypes.messages import shown
from engine.fieldtypes.temporal import written_moment
from engine.identity.permissions import access_for, scope_condition
from engine.records.new_rows import NewRows, new_rows
from engine.records.uniqueness import UniqueValues
from engine.schema.registry import ObjectModel, Registry
from engine.schema.tables import SYSTEM_COLUMNS
from engine.store.audit import audit_row, insert_created_record, write_audit, write_creation_audit
from engine.store.bulk import insert_rows
from engine.store.counters import Numbering, reserve_numbers
from engine.store.system_tables import users
from engine.store.writes import writes_seen
from metadata.specs import FieldSpec

if TYPE_CHECKING:
    from engine.loom import Loom

Errors = dict[str, list[str]]

# Functions whose value cannot change within one call, so an expression built only from them
# and literals is evaluated once per bulk call instead of once per row.
STABLE_FUNCTIONS = frozenset(
    {
        "today",
        "now",
        "add_days",
        "user",
        "has_role",
        "coalesce",
        "round",
        "abs",
        "lower",
        "upper",
        "min",
        "max",
        "year",
        "month",
        "day",
    }
)


def _is_constant(text: str) -> bool:
    expression = parse(text)
    return not expression.names and expression.functions <= STABLE_FUNCTIONS


# Built once per table: building it costs more than running it.
_LAST_ID: WeakKeyDictionary[Table, Select] = WeakKeyDictionary()


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """Ids for `count` new rows, so a bulk insert is one executemany with no per-row RETURNING.

    PostgreSQL draws them from the table's sequence. SQLite continues past the largest id the table
    ever gave (its AUTOINCREMENT sequence): every write transaction there holds the database's
    write lock (BEGIN IMMEDIATE), so no other writer can take the same ids.
    """
    if conn.dialect.name == "postgresql":
        sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
        drawn = conn.execute(text(f"SELECT nextval({sequence}) FROM generate_series(1, :n)"), {"n": count})
        return [row[0] for row in drawn]
    query = _LAST_ID.get(table)
    if query is None:
        query = _last_id_query(conn, table)
        if query is not None:
            _LAST_ID[table] = query
        else:
            query = select(func.coalesce(func.max(table.c.id), 0))
    start = conn.execute(query).scalar_one() + 1
    return list(range(start, start + count))


def _last_id_query(conn: Connection, table: Table) -> Select | None:
    """The largest id the table gave, kept in sqlite_sequence for AUTOINCREMENT tables (a purged
    record's id among them); None while the database has no such table, so nothing to cache."""
    if not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
        return None
    sequence = light_table("sqlite_sequence", light_column("name"), light_column("seq"))
    seq = select(sequence.c.seq).where(sequence.c.name == table.name).scalar_subquery()
    return select(func.max(func.coalesce(func.max(table.c.id), 0), func.coalesce(seq, 0)))


def _bound(coerce: Callable[[Any, Any, Source], Any], spec: Any, source: Source) -> Callable[[Any], Any]:
    return lambda value: coerce(value, spec, source)


def _in_business_time(coerce: Callable[[Any], Any], zone: tzinfo) -> Callable[[Any], Any]:
    """A datetime coercion that reads text without an offset as business time, as people mean it.

    One rule for every way in: the record form, the API, rules writing text and imports all store
    `2026-07-06 20:00` typed in Beijing as 12:00 UTC; text with an offset means what it says.
    """

    def read(value: Any) -> Any:
        if type(value) is str and (moment := written_moment(value)) is not None:
            return coerce(moment.replace(tzinfo=zone))
        return coerce(value)

    return read


@dataclass(frozen=True)
class WriterShape:
    """What a writer needs to know of its object, worked out once per model rather than per call."""

    settable: dict[str, tuple[FieldSpec, FieldType]]
    defaults: list[tuple[FieldSpec, FieldType]]
    required: list[tuple[str, FieldType]]
    autonumbers: list[FieldSpec]
    references: list[FieldSpec]
    validation_rules: list[Any]
    unique: UniqueValues
    to_db: list[tuple[str, FieldSpec, FieldType]]
    validators: list[tuple[str, Callable[[Any], Any]]]

    @classmethod
    def of(cls, model: ObjectModel) -> WriterShape:
        stored, types = model.stored, model.types
        settable = {f.name: (f, types[f.name]) for f in stored if f.type != "autonumber"}
        return cls(
            settable=settable,
            defaults=[(f, types[f.name]) for f in stored if f.default is not None],
            required=[(f.name, types[f.name]) for f in stored if f.required],
            autonumbers=[f for f in stored if f.type == "autonumber"],
            references=[f for f in stored if f.type in ("lookup", "user")],
            validation_rules=[rule for rule in model.spec.validation_rules if rule.active],
            unique=UniqueValues(model),
            to_db=[(f.name, f, types[f.name]) for f in stored],
            validators=[
                (name, check)
                for name, (spec, ftype) in settable.items()
                if (check := ftype.validator(spec)) is not None
            ],
        )


class RecordWriter:
    """Prepares and writes rows of one object within one transaction."""

    def __init__(
        self,
        loom: Loom,
        conn: Connection,
        registry: Registry,
        model: ObjectModel,
        actor: Actor,
        ectx: EvalContext,
    ) -> None:
        self.loom, self.conn, self.registry, self.model, self.actor, self.ectx = (
            loom,
            conn,
            registry,
            model,
            actor,
            ectx,
        )
        self.now = ectx.now
        # People read validation messages in their own language; system actors write logs, in English.
        self.locale = "en" if actor.is_system else actor.locale
        shape = model.derive("writer_shape", WriterShape.of)
        self.settable, self.defaults, self.required = shape.settable, shape.defaults, shape.required
        self.autonumbers, self.references = shape.autonumbers, shape.references
        self.validation_rules, self.unique = shape.validation_rules, shape.unique
        self.to_db, self.validators = shape.to_db, shape.validators
        # A default that reads no field (today(), 'normal', 0) has one value for the whole call.
        self.constant_defaults: dict[str, Any] = {}
        # Resolved once per call: the per-row loops below skip the base class's no-op methods.
        self._coercers: dict[str, dict[str, Callable[[Any], Any]]] = {}
        # The row a single create's INSERT returned (PostgreSQL), while nothing written since
        # can have changed what reading the record back would give.
        self.inserted_row: Row | None = None
        self.before_save = loom.events.handlers_for("before_save", registry, model.name)
        self.after_save = loom.events.handlers_for("after_save", registry, model.name)

    # -- preparing ---------------------------------------------------------------------------------

    def prepare_new(
        self, values: Mapping[str, Any], source: Source, *, check_references: bool = True
    ) -> tuple[dict[str, Any], Errors]:
        """Coerce, default and validate one new record; returns its values and every error found.

        Bulk callers pass check_references=False and call `reference_errors` once per batch.
        """
        errors: Errors = {}
        record: dict[str, Any] = dict.fromkeys(self.settable)
        record["owner"] = self.actor.user_id
        self._coerce_into(record, values, source, errors)
        self._apply_defaults(record, values, errors)
        if self.before_save:
            event = RecordEvent(self.model.name, record, None, self.actor, self.conn, registry=self.registry)
            for handler in self.before_save:
                handler(event)
        self._check(record, None, errors)
        self._check_rules(record, None, errors)
        if check_references and not errors and self.references:
            errors.update(self.reference_errors([record]).get(0, {}))
        if check_references and not errors and self.unique.keys:
            errors.update(self.unique.clashes(self.conn, [(record, None)]).get(0, {}))
        return record, errors

    def defaults_for(self, values: Mapping[str, Any], source: Source) -> dict[str, Any]:
        """The defaults a new record with `values` would get, as `prepare_new` applies them.

        A default that fails for these values (an expression over a field still empty) is left out.
        """
        record: dict[str, Any] = dict.fromkeys(self.settable)
        record["owner"] = self.actor.user_id
        self._coerce_into(record, values, source, {})
        errors: Errors = {}
        self._apply_defaults(record, values, errors)
        return {
            spec.name: record[spec.name]
            for spec, _ in self.defaults
            if spec.name not in values and spec.name not in errors
        }

    def prepare_change(
        self, old: Mapping[str, Any], changes: Mapping[str, Any], source: Source
    ) -> tuple[dict[str, Any], Errors]:
        errors: Errors = {}
        record = {name: old[name] for name in self.settable}
        record["owner"] = old["owner"]
        for name in changes:
            spec = self.model.fields.get(name)
            if spec is not None and spec.readonly and not self.actor.is_system:
                errors[name] = [Message("read_only")]
        self._coerce_into(record, changes, source, errors)
        if self.before_save:
            # The owner is no settable field, yet a rule may watch it (a claim, a transfer).
            changed = frozenset(n for n in (*self.settable, "owner") if record[n] != old[n])
            event = RecordEvent(self.model.name, record, old, self.actor, self.conn, changed, self.registry)
            for handler in self.before_save:
                handler(event)
        changed_names = [name for name in record if name in self.settable and record[name] != old.get(name)]
        self._check(record, changed_names, errors)
        self._check_rules(record, old, errors)
        if not errors and self.references:
            errors.update(self.reference_errors([record], only=set(changed_names)).get(0, {}))
        if not errors and any(set(key) & set(changed_names) for key in self.unique.keys):
            errors.update(self.unique.clashes(self.conn, [(record, old["id"])]).get(0, {}))
        return record, errors

    def _coerce_into(
        self, record: dict[str, Any], values: Mapping[str, Any], source: Source, errors: Errors
    ) -> None:
        coercers = self._coercers.get(source) or self._coercers_for(source)
        for name, raw in values.items():
            coerce = coercers.get(name)
            if coerce is not None:
                try:
                    record[name] = coerce(raw)
                except FieldValueError as error:
                    errors.setdefault(name, []).append(str(error))
            elif name == "owner":
                record["owner"] = self._owner(raw, errors)
            else:
                errors.setdefault(name, []).append(self._why_not_settable(name))

    def _coercers_for(self, source: Source) -> dict[str, Callable[[Any], Any]]:
        """Each settable field's coercion from one source, resolved once per model and time zone."""
        zone = self.loom.clock.timezone
        settable = self.settable

        def resolve(_model: ObjectModel) -> dict[str, Callable[[Any], Any]]:
            coercers = {}
            for name, (spec, ftype) in settable.items():
                coercers[name] = ftype.coercer(spec, source) or _bound(ftype.coerce, spec, source)
                if spec.type == "datetime":
                    coercers[name] = _in_business_time(coercers[name], zone)
            return coercers

        coercers = self._coercers[source] = self.model.derive(f"coercers:{source}:{zone}", resolve)
        return coercers

    def _why_not_settable(self, name: str) -> str:
        if name in SYSTEM_COLUMNS:
            return Message("set_by_system")
        if name in self.model.fields:
            return Message("computed")
        return Message("not_a_field", object=named(self.model.name, self.model.spec.label))

    def _owner(self, raw: Any, errors: Errors) -> int | None:
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except (TypeError, ValueError):
            errors.setdefault("owner", []).append(Message("not_user_id", got=shown(raw)))
            return None

    def _apply_defaults(self, record: dict[str, Any], given: Mapping[str, Any], errors: Errors) -> None:
        constants = self.constant_defaults
        for spec, ftype in self.defaults:
            if spec.name in given:
                continue
            if spec.name in constants:
                record[spec.name] = constants[spec.name]
                continue
            try:
                value = ftype.coerce(evaluate(spec.default, record, self.ectx), spec, "json")
            except (ExpressionError, FieldValueError) as error:
                failed = Message("default_failed", default=repr(spec.default), error=str(error))
                errors.setdefault(spec.name, []).append(failed)
                continue
            record[spec.name] = value
            if _is_constant(spec.default):
                constants[spec.name] = value

    def _check(self, record: dict[str, Any], names: Any, errors: Errors) -> None:
        """Required fields, then each named field's own checks (every field when `names` is None)."""
        for name, ftype in self.required:
            if ftype.is_empty(record.get(name)) and name not in errors:
                errors[name] = [Message("required")]
        if names is None:
            self._check_all(record, errors)
            return
        settable = self.settable
        for name in names:
            entry = settable.get(name)
            if entry is None or name in errors:
                continue
            value = record[name]
            if value is None:
                continue
            spec, ftype = entry
            try:
                ftype.validate(value, spec)
            except FieldValueError as error:
                errors.setdefault(name, []).append(str(error))

    def _check_all(self, record: dict[str, Any], errors: Errors) -> None:
        """Every field's own checks on a new record; fields of a type with no checks are skipped."""
        for name, check in self.validators:
            value = record[name]
            if value is None or name in errors:
                continue
            try:
                check(value)
            except FieldValueError as error:
                errors.setdefault(name, []).append(str(error))

    def _check_rules(self, record: dict[str, Any], old: Mapping[str, Any] | None, errors: Errors) -> None:
        """Validation rules: each condition must hold; a broken one reports its message at its fields.

        A rule reading a field that already has an error is skipped, so one bad value is not
        reported twice in two different words.
        """
        if not self.validation_rules:
            return
        ectx = self.ectx if old is None else replace(self.ectx, old=old)
        names = record if old is None else {**old, **record}
        for rule in self.validation_rules:
            if errors.keys() & parse(rule.condition).names:
                continue
            try:
                applies = rule.when is None or bool(evaluate(rule.when, names, ectx))
                holds = not applies or bool(evaluate(rule.condition, names, ectx))
            except ExpressionError:
                holds = False
            if not holds:
                message = rule.message.get(self.locale) or rule.message.get("en")
                message = message or next(iter(rule.message.values()), rule.name)
                for field in rule.fields or ("_record",):
                    errors.setdefault(field, []).append(message)

    def reference_errors(
        self, records: Sequence[Mapping[str, Any]], only: set[str] | None = None
    ) -> dict[int, Errors]:
        """Lookups and users must point at existing records: one query per field for the whole batch."""
        found: dict[int, Errors] = {}
        for spec in self.references:
            if only is not None and spec.name not in only:
                continue
            wanted = {r[spec.name] for r in records if r.get(spec.name) is not None}
            if not wanted:
                continue
            if spec.type == "lookup":
                query = self._readable_targets(spec.param("target"), wanted)
                what = named(spec.param("target"), self.registry.object(spec.param("target")).spec.label)
            else:
                query = select(users.c.id).where(users.c.id.in_(wanted))
                what = {"en": "user", "zh_CN": "用户"}
            existing = set(self.conn.execute(query).scalars())
            for index, record in enumerate(records):
                value = record.get(spec.name)
                if value is not None and value not in existing:
                    found.setdefault(index, {}).setdefault(spec.name, []).append(
                        Message("reference_missing", what=what, id=value)
                    )
        return found

    def _readable_targets(self, target_name: str, wanted: set[Any]) -> Select:
        """The wanted ids of live records the writer may read: a record out of their scope is
        refused exactly like a missing one, so the refusal tells them nothing about it."""
        target = self.registry.object(target_name)
        table = target.table
        query = select(table.c.id).where(table.c.id.in_(wanted), table.c.deleted_at.is_(None))
        if self.actor.is_system:
            return query
        access = access_for(self.registry, self.actor, target_name)
        if not access.allows("read"):
            return query.where(false())
        scope = scope_condition(target, access, "read", self.actor)
        return query if scope is None else query.where(scope)

    # -- writing -----------------------------------------------------------------------------------

    def insert(self, records: Sequence[dict[str, Any]]) -> list[int]:
        """Insert prepared records with their system columns and audit rows; returns the new ids."""
        if not records:
            return []
        plan = new_rows(self.model, self.conn.dialect)
        table, actor = self.model.table.name, self.actor
        stored: Row | None = None
        if len(records) == 1:
            record_id, stored = self._insert_one(plan, records[0])
            ids = [record_id]
        else:
            self._assign_autonumbers(records)
            values = plan.values(records)
            changes = plan.creation_changes(records, values)
            ids = allocate_ids(self.conn, self.model.table, len(records))
            insert_rows(
                self.conn, table, plan.columns, plan.rows(ids, records, values, self.now, actor.user_id)
            )
            write_creation_audit(
                self.conn, actor, self.now, self.model.name, list(zip(ids, changes, strict=True))
            )
        for record_id, record in zip(ids, records, strict=True):
            record["id"] = record_id
        written = writes_seen(self.conn)
        for record in records if self.after_save else ():
            event = RecordEvent(self.model.name, record, None, self.actor, self.conn, registry=self.registry)
            for handler in self.after_save:
                handler(event)
        # What the INSERT returned is the record as stored, unless the handlers wrote after it.
        self.inserted_row = stored if writes_seen(self.conn) == written else None
        return ids

    def _insert_one(self, plan: NewRows, record: dict[str, Any]) -> tuple[int, Row | None]:
        # On PostgreSQL the INSERT takes the autonumbers itself: a statement fewer per create, and
        # the counter rows, locked until commit, are locked for one statement less.
        numbered = self._numbering() if self.conn.dialect.name == "postgresql" else []
        if not numbered:
            self._assign_autonumbers([record])
        names = [numbering.field for numbering in numbered]
        record.update(dict.fromkeys(names))
        values = plan.values([record])
        changes = plan.creation_pieces(record, values, names)
        [row] = plan.rows([0], [record], values, self.now, self.actor.user_id)
        kept = [index for index, name in enumerate(plan.columns) if index and name not in names]
        record_id, stored = insert_created_record(
            self.conn,
            self.actor,
            self.now,
            self.model.name,
            self.model.table.name,
            [plan.columns[index] for index in kept],
            [row[index] for index in kept],
            changes,
            numbered,
        )
        if stored is not None:
            record.update((name, stored._mapping[name]) for name in names)
        return record_id, stored

    def _numbering(self) -> list[Numbering]:
        """The object's autonumbers as an INSERT takes them: counter and text around the number."""
        local = self.now + utc_offset(self.now, self.loom.clock.timezone)
        numbered = []
        for spec in self.autonumbers:
            pattern = spec.param("pattern")
            before, width, after = autonumber_frame(pattern, local)
            numbered.append(
                Numbering(self.model.name, spec.name, autonumber_period(pattern, local), before, width, after)
            )
        return numbered

    def _assign_autonumbers(self, records: Sequence[dict[str, Any]]) -> None:
        # Date parts follow the business calendar: a contract made at 07:00 in Beijing is today's.
        local = self.now + utc_offset(self.now, self.loom.clock.timezone)
        for spec in self.autonumbers:
            pattern = spec.param("pattern")
            period = autonumber_period(pattern, local)
            numbers = reserve_numbers(self.conn, self.model.name, spec.name, period, len(records))
            for record, number in zip(records, numbers, strict=True):
                record[spec.name] = format_autonumber(pattern, local, number)

    def update(self, old: Mapping[str, Any], new: dict[str, Any]) -> bool:
        """Write the changed columns if the version still matches; returns False when nothing changed."""
        changes = {}
        values: dict[str, Any] = {}
        for name, spec, ftype in self.to_db:
            if name in self.settable and new[name] != old[name]:
                changes[name] = [
                    ftype.to_json(old[name], spec) if old[name] is not None else None,
                    ftype.to_json(new[name], spec) if new[name] is not None else None,
                ]
                values[name] = ftype.to_db(new[name], spec)
        if new["owner"] != old["owner"]:
            changes["owner"] = [old["owner"], new["owner"]]
            values["owner_id"] = new["owner"]
        if not changes:
            return False
        table = self.model.table
        values.update(version=old["version"] + 1, updated_at=self.now, updated_by=self.actor.user_id)
        result = self.conn.execute(
            update(table).where(table.c.id == old["id"], table.c.version == old["version"]).values(values)
        )
        if result.rowcount != 1:
            raise ConflictError(self.model.name, old["id"], old["version"], None)
        write_audit(
            self.conn, [audit_row(self.actor, self.now, self.model.name, old["id"], "update", changes)]
        )
        if self.after_save:
            record = {**new, "id": old["id"], "version": old["version"] + 1}
            event = RecordEvent(
                self.model.name, record, old, self.actor, self.conn, frozenset(changes), self.registry
            )
            for handler in self.after_save:
                handler(event)
        return True
