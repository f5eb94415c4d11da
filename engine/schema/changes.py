"""Changing object metadata: validate, plan the documents and DDL, then apply both in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import InvalidMetadata
from engine.base.messages import CATALOGUE, Message
from engine.rules.schedules import sync_rule_schedules
from engine.schema.checks import check_flows, check_forms, check_objects, check_reports, check_rules
from engine.schema.registry import Registry
from engine.schema.removal import apply_table_removals, plan_table_removals, removal_problems
from engine.schema.sync import Step, SyncPlan, apply_sync, plan_sync
from engine.store.documents import delete_document, get_document, save_document
from metadata.dashboard_checks import dashboard_problems, home_problems
from metadata.dashboards import DashboardSpec
from metadata.diff import diff_documents
from metadata.flow_checks import flow_problems
from metadata.flows import FlowSpec
from metadata.form_checks import form_problems
from metadata.forms import FormSpec
from metadata.problems import Problem
from metadata.report_checks import report_problems
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from engine.loom import Loom


def _kind(kind: str) -> str:
    """A document kind as each reader says it."""
    return Message(f"kind_{kind}") if f"kind_{kind}" in CATALOGUE else kind


@dataclass
class ChangePlan:
    """What a change would do: metadata documents touched and the DDL steps, destructive ones marked."""

    documents: list[str] = field(default_factory=list)
    sync: SyncPlan = field(default_factory=SyncPlan)
    removals: list[Step] = field(default_factory=list)  # tables of removed objects, archived or dropped

    def lines(self) -> list[str]:
        return self.documents + self.sync.lines() + [str(step) for step in self.removals]

    @property
    def empty(self) -> bool:
        return not self.documents and not self.sync and not self.removals


def apply_objects(
    loom: Loom,
    specs: Sequence[ObjectSpec],
    *,
    rules: Sequence[RuleSpec] = (),
    roles: Sequence[RoleSpec] = (),
    flows: Sequence[FlowSpec] = (),
    forms: Sequence[FormSpec] = (),
    reports: Sequence[ReportSpec] = (),
    dashboards: Sequence[DashboardSpec] = (),
    actor: Actor = SYSTEM,
    package: str | None = None,
    files: Mapping[str, str] | None = None,
    dry_run: bool = False,
    note: str | None = None,
    extra_documents: Sequence[tuple[str, dict]] = (),
    removed: Sequence[tuple[str, str]] = (),
    before_commit: Callable[[Connection], None] | None = None,
) -> ChangePlan:
    """Create or replace objects, rules, roles and flows; bad metadata or a refused schema change applies
    nothing.

    A changed flow applies to instances submitted from now on: running ones keep their version.
    `removed` (kind, name) documents are deleted; a removed object's table is archived, never dropped
    while it holds rows. `before_commit` runs last, inside the transaction.
    """
    files = files or {}
    with loom.begin() as conn:
        registry = loom.registry_for(conn)
        old, old_rules = registry.specs(), registry.rule_specs()
        gone = {kind: {n for k, n in removed if k == kind} for kind in ("object", "rule")}
        new = {n: s for n, s in {**old, **{s.name: s for s in specs}}.items() if n not in gone["object"]}
        new_rules = {**old_rules, **{rule.name: rule for rule in rules}}
        new_rules = {name: rule for name, rule in new_rules.items() if name not in gone["rule"]}
        problems = check_objects(new, loom.field_types, loom.functions, files, only={s.name for s in specs})
        problems += check_rules(
            new_rules,
            new,
            loom.actions,
            loom.functions,
            files,
            only={r.name for r in rules},
            field_types=loom.field_types,
        )
        for flow in flows:  # the graph checks a package install has already run, for flows given directly
            problems += flow_problems(flow, files.get(f"flow:{flow.name}", f"flows/{flow.name}.json"), new)
        problems += check_flows(
            {flow.name: flow for flow in flows},
            new,
            loom.actions,
            loom.functions,
            files,
            field_types=loom.field_types,
        )
        known_roles = set(registry.roles) | {role.name for role in roles}
        problems += _form_and_report_problems(loom, forms, reports, new, files, known_roles)
        problems += _dashboard_problems(registry, dashboards, reports, roles, removed, files)
        if removed:
            problems += removal_problems(registry, new, new_rules, removed)
        if problems:
            raise InvalidMetadata(problems)
        plan = ChangePlan(sync=plan_sync(conn, old, new, loom.field_types, only={s.name for s in specs}))
        plan.removals = plan_table_removals(conn, [old[name] for name in sorted(gone["object"] & set(old))])
        documents = [("object", spec.name, spec.to_json()) for spec in specs]
        documents += [("rule", rule.name, rule.to_json()) for rule in rules]
        documents += [("role", role.name, role.to_json()) for role in roles]
        documents += [("flow", flow.name, flow.to_json()) for flow in flows]
        documents += [("form", form.name, form.to_json()) for form in forms]
        documents += [("report", report.name, report.to_json()) for report in reports]
        documents += [("dashboard", board.name, board.to_json()) for board in dashboards]
        for kind, name, body in documents:
            before = get_document(conn, kind, name)
            if before is None:
                plan.documents.append(Message("plan_document_added", kind=_kind(kind), name=name))
            elif changes := diff_documents(before.body, body):
                said = Message("plan_document_changed", kind=_kind(kind), name=name, count=len(changes))
                plan.documents.append(said)
        plan.documents += [
            Message("plan_document_removed", kind=_kind(kind), name=name)
            for kind, name in removed
            if get_document(conn, kind, name)
        ]
        if dry_run:
            conn.rollback()
            return plan
        now = loom.clock.now()
        for kind, _, body in documents:
            save_document(conn, kind, body, actor=actor, at=now, package=package, note=note)
        for kind, body in extra_documents:
            save_document(conn, kind, body, actor=actor, at=now, package=package, note=note)
        apply_sync(conn, plan.sync, new, loom.field_types, now)
        for kind, name in removed:
            delete_document(conn, kind, name, actor=actor, at=now)
        apply_table_removals(conn, plan.removals, old, now)
        if before_commit is not None:
            before_commit(conn)
        if rules or gone["rule"]:
            # Not cached: this registry describes a transaction that has not committed yet.
            upcoming = Registry(new, loom.field_types, version=-1, rules=new_rules, roles=registry.roles)
            sync_rule_schedules(loom, conn, old_rules, new_rules, upcoming)
    loom.forget_registry()
    return plan


def _form_and_report_problems(
    loom: Loom,
    forms: Sequence[FormSpec],
    reports: Sequence[ReportSpec],
    objects: Mapping[str, ObjectSpec],
    files: Mapping[str, str],
    roles: Collection[str] | None = None,
) -> list[Problem]:
    """Every check of forms and reports, for those given directly as for those of a package."""
    problems: list[Problem] = []
    for form in forms:
        problems += form_problems(form, files.get(f"form:{form.name}", f"forms/{form.name}.json"), objects)
    for report in reports:
        file = files.get(f"report:{report.name}", f"reports/{report.name}.json")
        problems += report_problems(report, file, objects, roles=roles)
    if problems:
        return sorted(set(problems))
    problems += check_forms(
        {form.name: form for form in forms}, objects, loom.functions, files, loom.field_types
    )
    by_name = {report.name: report for report in reports}
    return problems + check_reports(by_name, objects, loom.field_types, loom.functions, files)


def _dashboard_problems(
    registry: Registry,
    dashboards: Sequence[DashboardSpec],
    reports: Sequence[ReportSpec],
    roles: Sequence[RoleSpec],
    removed: Sequence[tuple[str, str]],
    files: Mapping[str, str],
) -> list[Problem]:
    """Each dashboard's reports and roles exist once the change applies, and a role has one home."""
    if not dashboards:
        return []
    gone = set(removed)
    known = {**registry.reports(), **{report.name: report for report in reports}}
    known = {name: report for name, report in known.items() if ("report", name) not in gone}
    role_names = {*registry.roles, *(role.name for role in roles)} - {n for k, n in gone if k == "role"}
    problems: list[Problem] = []
    located = []
    for board in dashboards:
        file = files.get(f"dashboard:{board.name}", f"dashboards/{board.name}.json")
        problems += dashboard_problems(board, file, known, role_names)
        located.append((file, board))
    given = {board.name for board in dashboards}
    others = [
        (f"dashboards/{name}.json", board)
        for name, board in registry.dashboards.items()
        if name not in given and ("dashboard", name) not in gone
    ]
    # Those installed first, so the dashboard given is the one told its role already has a home.
    mine = {file for file, _ in located}
    return problems + [p for p in home_problems(others + located) if p.file in mine]


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
