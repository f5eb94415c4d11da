"""Upgrading an installed package: a three-way merge of the installed version, the customised current
state and the new version, applied through the same checked, single-transaction path as an install."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import PackageRefused
from engine.packages.install import CheckedPackage, apply_package, package_manifest
from engine.packages.state import current_documents, merged_documents, shipped_documents
from engine.packages.store import base_documents, installed_packages
from engine.schema.changes import ChangePlan
from metadata.loading import read_package
from metadata.merge import Side
from metadata.versions import Version, VersionRange, dependency_problems

if TYPE_CHECKING:
    from engine.loom import Loom


def upgrade_package(
    loom: Loom,
    path: str | Path,
    *,
    resolve: Mapping[str, Side] | None = None,
    force: bool = False,
    dry_run: bool = False,
    actor: Actor = SYSTEM,
) -> tuple[CheckedPackage, ChangePlan]:
    """Merge the new version into the installed, customised package; any conflict left applies nothing.

    `resolve` settles conflicts by path (`objects/customer.json#/fields/@name/label/zh_CN`) with "ours"
    or "theirs". Moving to the same or a lower version needs `force`.
    """
    source = read_package(path)
    manifest = package_manifest(source, loom)
    name, version = manifest["name"], manifest["version"]
    with loom.read() as conn:
        installed = installed_packages(conn)
        base, ours = base_documents(conn, name), current_documents(conn, name)
    if name not in installed:
        raise PackageRefused(f"{name} is not installed; use `loom install` first")
    old = installed[name].version
    if Version.parse(version) <= Version.parse(old) and not force:
        raise PackageRefused(
            f"{name} {old} is installed; {version} is not newer (use --force to install it anyway)"
        )
    versions = {package.name: package.version for package in installed.values()}
    problems = dependency_problems(manifest, versions)
    for other in installed.values():
        wanted = other.depends.get(name)
        if wanted is not None and not VersionRange.parse(wanted).admits(version):
            problems.append(f"{other.name} needs {name} {wanted}, which {version} is not")
    if problems:
        raise PackageRefused("; ".join(problems))
    theirs = shipped_documents(source)
    desired = merged_documents(base, ours, theirs, resolve)
    note = f"upgrade {name} {old} → {version}"
    return apply_package(loom, manifest, desired, shipped=theirs, actor=actor, dry_run=dry_run, note=note)
