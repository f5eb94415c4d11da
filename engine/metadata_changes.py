"""Changing object metadata: validate, plan the documents and DDL, then apply both in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.actors import SYSTEM, Actor
from engine.errors import InvalidMetadata
from engine.metadata_store import get_document, save_document
from engine.registry import Registry
from engine.rules.schedules import sync_rule_schedules
from engine.schema_sync import SyncPlan, apply_sync, plan_sync
from engine.validation import check_flows, check_objects, check_rules
from metadata.diff import diff_documents
from metadata.flow_checks import flow_problems
from metadata.flows import FlowSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from engine.loom import Loom


@dataclass
class ChangePlan:
    """What a change would do: metadata documents touched and the DDL steps, destructive ones marked."""

    documents: list[str] = field(default_factory=list)
    sync: SyncPlan = field(default_factory=SyncPlan)

    def lines(self) -> list[str]:
        return self.documents + self.sync.lines()

    @property
    def empty(self) -> bool:
        return not self.documents and not self.sync


def apply_objects(
    loom: Loom,
    specs: Sequence[ObjectSpec],
    *,
    rules: Sequence[RuleSpec] = (),
    roles: Sequence[RoleSpec] = (),
    flows: Sequence[FlowSpec] = (),
    actor: Actor = SYSTEM,
    package: str | None = None,
    files: Mapping[str, str] | None = None,
    dry_run: bool = False,
    note: str | None = None,
    extra_documents: Sequence[tuple[str, dict]] = (),
) -> ChangePlan:
    """Create or replace objects, rules, roles and flows; bad metadata or a refused schema change applies
    nothing.

    A changed flow applies to instances submitted from now on: running ones keep their version.
    """
    files = files or {}
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        old, old_rules = registry.specs(), registry.rule_specs()
        new = {**old, **{spec.name: spec for spec in specs}}
        new_rules = {**old_rules, **{rule.name: rule for rule in rules}}
        problems = check_objects(new, loom.field_types, loom.functions, files, only={s.name for s in specs})
        problems += check_rules(
            new_rules, new, loom.actions, loom.functions, files, only={r.name for r in rules}
        )
        for flow in flows:  # the graph checks a package install has already run, for flows given directly
            problems += flow_problems(flow, files.get(f"flow:{flow.name}", f"flows/{flow.name}.json"), new)
        problems += check_flows({flow.name: flow for flow in flows}, new, loom.actions, loom.functions, files)
        if problems:
            raise InvalidMetadata(problems)
        plan = ChangePlan(sync=plan_sync(conn, old, new, loom.field_types))
        documents = [("object", spec.name, spec.to_json()) for spec in specs]
        documents += [("rule", rule.name, rule.to_json()) for rule in rules]
        documents += [("role", role.name, role.to_json()) for role in roles]
        documents += [("flow", flow.name, flow.to_json()) for flow in flows]
        for kind, name, body in documents:
            before = get_document(conn, kind, name)
            if before is None:
                plan.documents.append(f"+ {kind} {name}")
            elif changes := diff_documents(before.body, body):
                plan.documents.append(f"~ {kind} {name} ({len(changes)} change(s))")
        if dry_run:
            conn.rollback()
            return plan
        now = loom.clock.now()
        for kind, _, body in documents:
            save_document(conn, kind, body, actor=actor, at=now, package=package, note=note)
        for kind, body in extra_documents:
            save_document(conn, kind, body, actor=actor, at=now, package=package, note=note)
        apply_sync(conn, plan.sync, new, loom.field_types, now)
        if rules:
            # Not cached: this registry describes a transaction that has not committed yet.
            upcoming = Registry(new, loom.field_types, version=-1, rules=new_rules, roles=registry.roles)
            sync_rule_schedules(loom, conn, old_rules, new_rules, upcoming)
    loom.forget_registry()
    return plan


def sync_all(loom: Loom, *, dry_run: bool = False) -> SyncPlan:
    """Bring every table in line with the stored metadata (`loom migrate`)."""
    with loom.begin() as conn:
        specs = loom.registry_for(conn).specs()
        plan = plan_sync(conn, specs, specs, loom.field_types)
        if dry_run:
            conn.rollback()
            return plan
        apply_sync(conn, plan, specs, loom.field_types, loom.clock.now())
    return plan
