"""Installing a package of metadata: read it, validate all of it, then apply it in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.actors import SYSTEM, Actor
from engine.errors import InvalidMetadata
from engine.expressions import FunctionRegistry
from engine.fieldtypes.registry import FieldTypeRegistry
from engine.metadata_changes import ChangePlan, apply_objects
from engine.validation import check_objects
from metadata.loading import read_package
from metadata.problems import Problem
from metadata.specs import ObjectSpec, PackageManifest
from metadata.validation import ValidationResult, validate_package

if TYPE_CHECKING:
    from engine.loom import Loom

CRM_PACKAGE = Path(__file__).resolve().parent.parent / "metadata" / "packages" / "crm"


@dataclass(frozen=True)
class CheckedPackage:
    manifest: PackageManifest
    objects: tuple[ObjectSpec, ...]
    files: dict[str, str]


def check_package(
    path: str | Path,
    field_types: FieldTypeRegistry,
    functions: FunctionRegistry,
    installed: dict[str, ObjectSpec] | None = None,
) -> CheckedPackage:
    """The checked package, or every problem in it: structure, references, field types, expressions."""
    installed = installed or {}
    source = read_package(path)
    result: ValidationResult = validate_package(source, installed=installed)
    files = {doc.body.get("name"): doc.file for doc in source.documents if doc.kind == "object"}
    problems: list[Problem] = list(result.problems)
    if not problems:
        objects = {**installed, **{spec.name: spec for spec in result.objects}}
        names = {spec.name for spec in result.objects}
        problems += check_objects(objects, field_types, functions, files, only=names)
    if problems or result.manifest is None:
        raise InvalidMetadata(problems)
    return CheckedPackage(result.manifest, result.objects, files)


def install_package(
    loom: Loom, path: str | Path, *, actor: Actor = SYSTEM, dry_run: bool = False
) -> tuple[CheckedPackage, ChangePlan]:
    """Validate the whole package first, then apply its objects and their tables together."""
    checked = check_package(path, loom.field_types, loom.functions, installed=_installed(loom, path))
    manifest = {"name": checked.manifest.name, "version": checked.manifest.version}
    plan = apply_objects(
        loom,
        checked.objects,
        actor=actor,
        package=checked.manifest.name,
        files=checked.files,
        dry_run=dry_run,
        note=f"package {checked.manifest.name}",
        extra_documents=[("package", manifest)],
    )
    return checked, plan


def _installed(loom: Loom, path: str | Path) -> dict[str, ObjectSpec]:
    """Objects already in the database that the package may refer to (its dependencies' objects)."""
    return loom.registry.specs()
