"""Installing a package of metadata: read it, validate all of it, then apply it in one transaction.

`apply_package` is the one path every package change takes (install, upgrade, uninstall): stage the
documents the package will consist of, check them whole, apply them with their tables and record the
package as installed, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import InvalidMetadata, PackageRefused
from engine.packages.state import current_documents, merged_documents, shipped_documents, stage
from engine.packages.store import (
    DocKey,
    PackageDocument,
    base_documents,
    forget_package,
    installed_packages,
    record_package,
)
from engine.plugin_api import PluginContext
from engine.schema.changes import ChangePlan, apply_objects
from engine.schema.checks import check_flows, check_forms, check_objects, check_reports, check_rules
from metadata.dashboards import DashboardSpec
from metadata.extension_layout import condition_form, condition_path, layout_json
from metadata.extensions import is_extension, shape_problems
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.loading import PackageSource, read_package
from metadata.problems import Problem
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec, PackageManifest
from metadata.validation import ValidationResult, unsupported_problems, validate_package
from metadata.versions import dependency_problems

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from engine.loom import Loom

FORMS_REPORTS = ("form", "report", "dashboard")
# The standard CRM ships inside the metadata package, so it is found wherever Loom is installed.
CRM_PACKAGE = Path(str(files("metadata").joinpath("packages", "crm")))


@dataclass(frozen=True)
class CheckedPackage:
    manifest: PackageManifest
    objects: tuple[ObjectSpec, ...]
    rules: tuple[RuleSpec, ...]
    roles: tuple[RoleSpec, ...]
    files: dict[str, str]  # object name, or "rule:<name>" / "flow:<name>", → the file it came from
    flows: tuple[FlowSpec, ...] = ()
    forms: tuple[FormSpec, ...] = ()
    reports: tuple[ReportSpec, ...] = ()
    dashboards: tuple[DashboardSpec, ...] = ()


def check_package(
    path: str | Path | PackageSource,
    registries: PluginContext,
    installed: dict[str, ObjectSpec] | None = None,
    installed_rules: dict[str, RuleSpec] | None = None,
    installed_reports: Mapping[str, ReportSpec] | None = None,
    installed_roles: Collection[str] = (),
) -> CheckedPackage:
    """The checked package, or every problem in it: structure, references, types, actions, expressions.

    Extension documents are checked for their shape only: their targets are checked once woven in at install.
    """
    installed = installed or {}
    source = path if isinstance(path, PackageSource) else read_package(path)
    extensions = [doc for doc in source.documents if doc.kind == "object" and is_extension(doc.body)]
    if extensions:
        kept = tuple(doc for doc in source.documents if doc not in extensions)
        source = PackageSource(source.manifest, kept, source.problems)
    result: ValidationResult = validate_package(
        source,
        installed=installed,
        installed_reports=installed_reports or {},
        installed_roles=installed_roles,
    )
    files = {doc.body.get("name"): doc.file for doc in source.documents if doc.kind == "object"}
    files |= {f"rule:{doc.body.get('name')}": doc.file for doc in source.documents if doc.kind == "rule"}
    files |= {f"flow:{doc.body.get('name')}": doc.file for doc in source.documents if doc.kind == "flow"}
    files |= {f"{d.kind}:{d.body.get('name')}": d.file for d in source.documents if d.kind in FORMS_REPORTS}
    flows: tuple[FlowSpec, ...] = tuple(getattr(result, "flows", ()))
    problems: list[Problem] = list(result.problems)
    problems += [problem for doc in extensions for problem in shape_problems(doc.body, doc.file)]
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
            field_types=registries.field_types,
        )
        problems += check_flows(
            {flow.name: flow for flow in flows},
            objects,
            registries.actions,
            registries.functions,
            files,
            field_types=registries.field_types,
        )
        forms = {form.name: form for form in result.forms}
        problems += check_forms(forms, objects, registries.functions, files, registries.field_types)
        reports = {report.name: report for report in result.reports}
        problems += check_reports(reports, objects, registries.field_types, registries.functions, files)
    if problems or result.manifest is None:
        raise InvalidMetadata(problems)
    return CheckedPackage(
        result.manifest,
        result.objects,
        result.rules,
        getattr(result, "roles", ()),
        files,
        flows,
        forms=result.forms,
        reports=result.reports,
        dashboards=result.dashboards,
    )


def install_package(
    loom: Loom, path: str | Path, *, actor: Actor = SYSTEM, dry_run: bool = False
) -> tuple[CheckedPackage, ChangePlan]:
    """Validate the whole package first (its dependencies, documents and extensions), then apply its
    metadata and tables together and record it as installed."""
    source = read_package(path)
    manifest = package_manifest(source, loom)
    name = manifest["name"]
    shipped = shipped_documents(source)
    with loom.read() as conn:
        versions = {package.name: package.version for package in installed_packages(conn).values()}
        base, current = base_documents(conn, name), current_documents(conn, name)
    if name in versions:
        if versions[name] != manifest["version"]:
            raise PackageRefused(
                f"{name} {versions[name]} is installed; use `loom upgrade` to install {manifest['version']}"
                " over it (admins' changes are kept)"
            )
        # The same version again (a package being written, installed after each edit): merged like an
        # upgrade, so the admins' changes stay.
        desired = merged_documents(base, current, shipped)
        return apply_package(loom, manifest, desired, shipped=shipped, actor=actor, dry_run=dry_run)
    if problems := dependency_problems(manifest, versions):
        raise PackageRefused("; ".join(problems))
    return apply_package(loom, manifest, shipped, shipped=shipped, actor=actor, dry_run=dry_run)


def package_manifest(source: PackageSource, loom: Loom) -> dict[str, Any]:
    """The package's manifest as stored; a package whose manifest is wrong is reported whole, and one
    carrying documents of a kind Loom does not read yet is refused as `loom validate` reports them."""
    manifest = source.manifest
    if unsupported := unsupported_problems(source):
        raise InvalidMetadata(unsupported)
    if source.problems or not isinstance(manifest, dict) or check_manifest(manifest):
        check_package(source, loom.registries)  # raises with every problem of the package
        raise InvalidMetadata([Problem("package.json", "", "not a valid package manifest")])
    return {key: value for key, value in manifest.items() if key != "$schema"}


def check_manifest(manifest: Mapping[str, Any]) -> list[Problem]:
    return validate_package(PackageSource(dict(manifest))).problems


def package_document(
    manifest: Mapping[str, Any], desired: Mapping[DocKey, PackageDocument]
) -> dict[str, Any]:
    """The package as the metadata store holds it: name, version, label and where its extensions place
    their fields on the pages of the objects they extend (read back by the registry)."""
    doc: dict[str, Any] = {"name": manifest["name"], "version": manifest["version"]}
    layouts = {d.extends: layout_json(d.body) for d in desired.values() if d.extends}
    if layouts:
        doc["label"] = dict(manifest.get("label") or {})
        doc["layouts"] = layouts
    return doc


def layout_condition_problems(
    loom: Loom, desired: Mapping[DocKey, PackageDocument], checked: CheckedPackage
) -> list[Problem]:
    """The conditions of fields and sections that extensions place on forms, checked like a form's."""
    objects = {**loom.registry.specs(), **{spec.name: spec for spec in checked.objects}}
    problems: list[Problem] = []
    for doc in desired.values():
        if not doc.extends or not doc.body.get("form"):
            continue
        probe = condition_form(doc.extends, doc.body)
        found = check_forms({probe.name: probe}, objects, loom.functions, {f"form:{probe.name}": doc.file})
        problems += [Problem(p.file, condition_path(p.path, doc.body), p.message) for p in found]
    return problems


def apply_package(
    loom: Loom,
    manifest: Mapping[str, Any],
    desired: Mapping[DocKey, PackageDocument],
    *,
    shipped: Mapping[DocKey, PackageDocument] | None,
    actor: Actor = SYSTEM,
    dry_run: bool = False,
    note: str | None = None,
) -> tuple[CheckedPackage, ChangePlan]:
    """Make the package consist of `desired` and remember `shipped` as its installed version (None
    uninstalls it): everything checked first, then applied in one transaction."""
    name = manifest["name"]
    shapes = [p for doc in desired.values() if doc.extends for p in shape_problems(doc.body, doc.file)]
    if shapes:
        raise InvalidMetadata(shapes)
    with loom.read() as conn:
        staged = stage(conn, manifest, name, desired)
    if staged.problems:  # an extension that cannot be woven in: the woven object would only repeat them
        raise InvalidMetadata(staged.problems)
    registry = loom.registry
    gone = set(staged.removed)
    try:
        checked = check_package(
            staged.source,
            loom.registries,
            installed=registry.specs(),
            installed_rules=registry.rule_specs(),
            installed_reports={n: r for n, r in registry.reports().items() if ("report", n) not in gone},
            installed_roles={name for name in registry.roles if ("role", name) not in gone},
        )
    except InvalidMetadata as error:
        raise InvalidMetadata(staged.located(error.problems)) from None
    if problems := layout_condition_problems(loom, desired, checked):
        raise InvalidMetadata(problems)
    removed: list[tuple[str, str]] = list(staged.removed)
    extra: list[tuple[str, dict]] = []
    if shipped is None:
        removed.append(("package", name))
    else:
        extra.append(("package", package_document(manifest, desired)))

    def record(conn: Connection) -> None:
        if shipped is None:
            forget_package(conn, name)
        else:
            record_package(conn, manifest, shipped.values(), loom.clock.now())

    plan = apply_objects(
        loom,
        checked.objects,
        rules=checked.rules,
        roles=checked.roles,
        flows=checked.flows,
        forms=checked.forms,
        reports=checked.reports,
        dashboards=checked.dashboards,
        actor=actor,
        files=checked.files,
        dry_run=dry_run,
        note=note or f"package {name}",
        extra_documents=extra,
        removed=removed,
        before_commit=record,
    )
    return checked, plan
