"""Exporting an installed package: its documents as they are now, customisations included, written as a
package that installs to the same metadata."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.base.errors import PackageRefused
from engine.packages.state import current_documents
from engine.packages.store import installed_package
from metadata.loading import Document, PackageSource, write_package

if TYPE_CHECKING:
    from engine.loom import Loom


def exported_package(loom: Loom, name: str) -> PackageSource:
    """The installed package `name` as a package: its manifest and its documents as they are now."""
    with loom.read() as conn:
        package = installed_package(conn, name)
        if package is None:
            raise PackageRefused(f"{name} is not installed")
        documents = current_documents(conn, name)
    ordered = sorted(documents.values(), key=lambda doc: doc.file)
    return PackageSource(
        dict(package.manifest), tuple(Document(doc.file, doc.kind, doc.body) for doc in ordered)
    )


def export_package(loom: Loom, name: str, target: str | Path, *, replace: bool = False) -> list[str]:
    """Write the package to a folder or a .zip (byte-stable); return the files written."""
    return write_package(exported_package(loom, name), target, replace=replace)
