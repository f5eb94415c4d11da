"""Installing a package of metadata: read it, validate all of it, then apply it in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.actors import SYSTEM, Actor
from engine.errors import InvalidMetadata
from engine.metadata_changes import ChangePlan, apply_objects
from engine.plugin_api import PluginContext
from engine.validation import check_flows, check_objects, check_rules
from metadata.flows import FlowSpec
from metadata.loading import read_package
from metadata.problems import Problem
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec, PackageManifest
from metadata.validation import ValidationResult, validate_package

if TYPE_CHECKING:
    from engine.loom import Loom

CRM_PACKAGE = Path(__file__).resolve().parent.parent / "metadata" / "packages" / "crm"


@dataclass(frozen=True)
class CheckedPackage:
    manifest: PackageManifest
    objects: tuple[ObjectSpec, ...]
    rules: tuple[RuleSpec, ...]
    roles: tuple[RoleSpec, ...]
    files: dict[str, str]  # object name, or "rule:<name>" / "flow:<name>", → the file it came from
    flows: tuple[FlowSpec, ...] = ()


def check_package(
    path: str | Path,
    registries: PluginContext,
    installed: dict[str, ObjectSpec] | None = None,
    installed_rules: dict[str, RuleSpec] | None = None,
) -> CheckedPackage:
    """The checked package, or every problem in it: structure, references, types, actions, expressions."""
    installed = installed or {}
    source = read_package(path)
    result: ValidationResult = validate_package(source, installed=installed)
    files = {doc.body.get("name"): doc.file for doc in source.documents if doc.kind == "object"}
    files |= {f"rule:{doc.body.get('name')}": doc.file for doc in source.documents if doc.kind == "rule"}
    files |= {f"flow:{doc.body.get('name')}": doc.file for doc in source.documents if doc.kind == "flow"}
    flows: tuple[FlowSpec, ...] = tuple(getattr(result, "flows", ()))
    problems: list[Problem] = list(result.problems)
    if not problems:
        objects = {**installed, **{spec.name: spec for spec in result.objects}}
        rules = {**(installed_rules or {}), **{rule.name: rule for rule in result.rules}}
        names = {spec.name for spec in result.objects}
        problems += check_objects(objects, registries.field_types, registries.functions, files, only=names)
        problems += check_rules(
            rules,
            objects,
            registries.actions,
            registries.functions,
            files,
            only={rule.name for rule in result.rules},
        )
        problems += check_flows(
            {flow.name: flow for flow in flows}, objects, registries.actions, registries.functions, files
        )
    if problems or result.manifest is None:
        raise InvalidMetadata(problems)
    return CheckedPackage(
        result.manifest, result.objects, result.rules, getattr(result, "roles", ()), files, flows
    )


def install_package(
    loom: Loom, path: str | Path, *, actor: Actor = SYSTEM, dry_run: bool = False
) -> tuple[CheckedPackage, ChangePlan]:
    """Validate the whole package first, then apply its objects and their tables together."""
    registry = loom.registry
    checked = check_package(
        path, loom.registries, installed=registry.specs(), installed_rules=registry.rule_specs()
    )
    manifest = {"name": checked.manifest.name, "version": checked.manifest.version}
    plan = apply_objects(
        loom,
        checked.objects,
        rules=checked.rules,
        roles=checked.roles,
        flows=checked.flows,
        actor=actor,
        package=checked.manifest.name,
        files=checked.files,
        dry_run=dry_run,
        note=f"package {checked.manifest.name}",
        extra_documents=[("package", manifest)],
    )
    return checked, plan
