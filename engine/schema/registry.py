"""The registry: every object's spec, table and field types, built once per metadata version."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import MetaData, Table

from engine.base.errors import UnknownObject, UnknownReport
from engine.expressions import parse
from engine.fieldtypes.base import FieldType
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.schema.tables import build_table
from engine.store.system_tables import NAMING_CONVENTION
from metadata.dashboards import DashboardSpec
from metadata.extension_layout import ExtensionLayout, extended_columns, extended_form
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import FieldSpec, ObjectSpec


@dataclass(frozen=True)
class ObjectModel:
    """An object ready to run: spec, Core table, and each field's type resolved once."""

    spec: ObjectSpec
    table: Table
    types: Mapping[str, FieldType]
    stored: tuple[FieldSpec, ...]
    formulas: tuple[FieldSpec, ...]  # in dependency order: a formula comes after those it reads
    rollups: tuple[FieldSpec, ...]
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    # What readers and writers derive from the model once (field conversions, JSON writers), by
    # name: built on first use and gone with the model when metadata changes.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def derive(self, key: str, build: Callable[[ObjectModel], Any]) -> Any:
        """What `build` makes of this model, made once."""
        found = self.derived.get(key)
        if found is None:
            found = self.derived[key] = build(self)
        return found

    def field(self, name: str) -> FieldSpec:
        return self.fields[name]


def _formula_order(formulas: list[FieldSpec]) -> tuple[FieldSpec, ...]:
    by_name = {f.name: f for f in formulas}
    ordered: list[FieldSpec] = []
    visiting: set[str] = set()

    def visit(spec: FieldSpec) -> None:
        if spec in ordered or spec.name in visiting:
            return  # a cycle is reported by validation; here we just avoid looping
        visiting.add(spec.name)
        for name in parse(spec.param("expression", "None")).names:
            if name in by_name:
                visit(by_name[name])
        visiting.discard(spec.name)
        ordered.append(spec)

    for spec in formulas:
        visit(spec)
    return tuple(ordered)


def build_model(spec: ObjectSpec, field_types: FieldTypeRegistry, metadata: MetaData) -> ObjectModel:
    types = {f.name: field_types.get(f.type) for f in spec.fields}
    return ObjectModel(
        spec=spec,
        table=build_table(spec, field_types, metadata),
        types=MappingProxyType(types),
        stored=tuple(f for f in spec.fields if types[f.name].stored),
        formulas=_formula_order([f for f in spec.fields if f.type == "formula"]),
        rollups=tuple(f for f in spec.fields if f.type == "rollup"),
        fields=MappingProxyType({f.name: f for f in spec.fields}),
    )


class _Models(Mapping[str, ObjectModel]):
    """The object models of a registry, each built on first use: most work after a metadata change
    touches a few of the objects, and building one (its Core table above all) is most of the cost."""

    def __init__(self, specs: Mapping[str, ObjectSpec], field_types: FieldTypeRegistry, metadata: MetaData):
        self._specs = dict(sorted(specs.items()))
        self._field_types = field_types
        self._metadata = metadata
        self._built: dict[str, ObjectModel] = {}
        # Two requests may ask for the same model at once; a table is added to the MetaData once.
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> ObjectModel:
        model = self._built.get(name)
        if model is None:
            spec = self._specs[name]
            with self._lock:
                model = self._built.get(name)
                if model is None:
                    model = self._built[name] = build_model(spec, self._field_types, self._metadata)
        return model

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def specs(self) -> dict[str, ObjectSpec]:
        return dict(self._specs)


class Registry:
    """Immutable view of all objects at one metadata version; a change builds a new Registry."""

    def __init__(
        self,
        objects: Mapping[str, ObjectSpec],
        field_types: FieldTypeRegistry,
        version: int,
        rules: Mapping[str, RuleSpec] | None = None,
        roles: Mapping[str, RoleSpec] | None = None,
        flows: Mapping[str, FlowSpec] | None = None,
        forms: Mapping[str, FormSpec] | None = None,
        reports: Mapping[str, ReportSpec] | None = None,
        layouts: Mapping[str, tuple[ExtensionLayout, ...]] | None = None,
        dashboards: Mapping[str, DashboardSpec] | None = None,
    ) -> None:
        self.version = version
        # Where packages extending an object place their fields on its form and list, by object.
        self.layouts: Mapping[str, tuple[ExtensionLayout, ...]] = MappingProxyType(dict(layouts or {}))
        self._forms: Mapping[str, FormSpec] = MappingProxyType(dict(forms or {}))
        self._reports: Mapping[str, ReportSpec] = MappingProxyType(dict(reports or {}))
        boards = sorted((dashboards or {}).items())
        self.dashboards: Mapping[str, DashboardSpec] = MappingProxyType(dict(boards))
        # An object's form: the one named after it, else the first bound to it by name.
        self._own_form: dict[str, FormSpec] = {}
        for _, form in sorted(self._forms.items()):
            if form.name == form.object or form.object not in self._own_form:
                self._own_form[form.object] = form
        self._form_of: dict[str, FormSpec] = {}
        self.roles: Mapping[str, RoleSpec] = MappingProxyType(dict(roles or {}))
        self.flows: Mapping[str, FlowSpec] = MappingProxyType(dict(flows or {}))
        by_object: dict[str, list[FlowSpec]] = defaultdict(list)
        for _, flow in sorted(self.flows.items()):
            by_object[flow.object].append(flow)
        self._flows_by_object = {name: tuple(found) for name, found in by_object.items()}
        # Resolved permissions per (actor kind, roles, object); filled by engine.identity.permissions.
        self.access_cache: dict[tuple, object] = {}
        # Select columns and built SELECTs per object, dialect and time zone; filled by engine.records.sql.
        self.select_cache: dict[tuple, object] = {}
        self.metadata = MetaData(naming_convention=NAMING_CONVENTION)
        self._models = _Models(objects, field_types, self.metadata)
        self.rules: Mapping[str, RuleSpec] = MappingProxyType(dict(rules or {}))
        # Rules indexed by (object, trigger type) so a save looks at only the rules that can apply.
        index: dict[tuple[str, str], list[RuleSpec]] = defaultdict(list)
        for rule in self.rules.values():
            if rule.active:
                index[(rule.object, rule.trigger.type)].append(rule)
        self._rules_by_trigger = {
            key: tuple(sorted(found, key=lambda r: (r.order, r.name))) for key, found in index.items()
        }
        # The same for several trigger types at once (every save asks for two), merged on first use.
        self._rules_merged: dict[tuple[str, ...], tuple[RuleSpec, ...]] = {}

    def rules_for(self, object_name: str, *trigger_types: str) -> tuple[RuleSpec, ...]:
        """Active rules of an object with any of the trigger types, in run order (order, then name)."""
        if len(trigger_types) == 1:
            return self._rules_by_trigger.get((object_name, trigger_types[0]), ())
        key = (object_name, *trigger_types)
        merged = self._rules_merged.get(key)
        if merged is None:
            found = [rule for t in trigger_types for rule in self._rules_by_trigger.get((object_name, t), ())]
            merged = self._rules_merged[key] = tuple(sorted(found, key=lambda r: (r.order, r.name)))
        return merged

    def object(self, name: str) -> ObjectModel:
        # Asked before the model is built: a KeyError while building it is not an unknown object.
        if name not in self._models:
            raise UnknownObject(name)
        return self._models[name]

    def has_object(self, name: str) -> bool:
        return name in self._models

    @property
    def objects(self) -> Mapping[str, ObjectModel]:
        return self._models

    def flows_for(self, object_name: str) -> tuple[FlowSpec, ...]:
        """The flows bound to an object (active or not), by name."""
        return self._flows_by_object.get(object_name, ())

    def forms(self) -> Mapping[str, FormSpec]:
        return self._forms

    def reports(self) -> Mapping[str, ReportSpec]:
        return self._reports

    def report(self, name: str) -> ReportSpec:
        try:
            return self._reports[name]
        except KeyError:
            raise UnknownReport(name) from None

    def home_dashboard(self, roles: Iterable[str]) -> DashboardSpec | None:
        """The first dashboard (by name) that is the home page of one of these roles."""
        held = set(roles)
        return next((board for board in self.dashboards.values() if held & set(board.home_for)), None)

    def form_for(self, object_name: str) -> FormSpec:
        """The object's form: the one named after it, else the first bound to it, else a generated one;
        with the fields of the packages extending the object placed as they say (never left out)."""
        form = self._form_of.get(object_name)
        if form is None:
            spec = self.object(object_name).spec
            own = self._own_form.get(object_name)
            form = extended_form(own, spec, self.layouts.get(object_name, ()))
            self._form_of[object_name] = form
        return form

    def list_columns(self, object_name: str) -> list[str] | None:
        """The list's columns as the object names them, with the extending packages' columns after them;
        None when the object names none."""
        spec = self.object(object_name).spec
        named = spec.extra.get("list", {}).get("columns")
        if not named:
            return None
        return extended_columns(named, spec, self.layouts.get(object_name, ()))

    def role_specs(self) -> dict[str, RoleSpec]:
        return dict(self.roles)

    def rule_specs(self) -> dict[str, RuleSpec]:
        return dict(self.rules)

    def specs(self) -> dict[str, ObjectSpec]:
        return self._models.specs()
