"""Installed packages: name, version, depends, and each package's documents as it shipped them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from engine.store.system_tables import metadata_documents, package_documents, packages
from metadata.extensions import is_extension

DocKey = tuple[str, str]  # (kind, name); an extension's name is the object it extends


@dataclass(frozen=True)
class PackageDocument:
    """One document of a package: where it lives in the package and its body."""

    kind: str
    name: str
    file: str
    body: dict[str, Any]

    @property
    def key(self) -> DocKey:
        return (self.kind, self.name)

    @property
    def extends(self) -> str | None:
        return self.body["extends"] if is_extension(self.body) else None


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    version: str
    depends: Mapping[str, str]
    manifest: Mapping[str, Any]
    installed_at: datetime
    upgraded_at: datetime | None


def installed_packages(conn: Connection) -> dict[str, InstalledPackage]:
    rows = conn.execute(select(packages).order_by(packages.c.name))
    return {row.name: _installed(row) for row in rows}


def installed_package(conn: Connection, name: str) -> InstalledPackage | None:
    row = conn.execute(select(packages).where(packages.c.name == name)).first()
    return _installed(row) if row else None


def _installed(row: Any) -> InstalledPackage:
    return InstalledPackage(
        row.name, row.version, row.depends or {}, row.manifest, row.installed_at, row.upgraded_at
    )


def base_documents(conn: Connection, package: str) -> dict[DocKey, PackageDocument]:
    """The package's documents as it shipped them (the installed version)."""
    query = select(package_documents).where(package_documents.c.package == package)
    return {
        (row.kind, row.name): PackageDocument(row.kind, row.name, row.file, row.body)
        for row in conn.execute(query.order_by(package_documents.c.kind, package_documents.c.name))
    }


def extensions_of(conn: Connection, kind: str, name: str) -> dict[str, PackageDocument]:
    """Package → its shipped extension of one document, for every installed package extending it."""
    query = select(package_documents).where(
        package_documents.c.kind == kind, package_documents.c.name == name
    )
    return {
        row.package: PackageDocument(row.kind, row.name, row.file, row.body)
        for row in conn.execute(query.order_by(package_documents.c.package))
        if is_extension(row.body)
    }


def owner_of(conn: Connection, kind: str, name: str) -> str | None:
    """The package a stored document belongs to (None when an admin created it)."""
    return conn.execute(
        select(metadata_documents.c.package).where(
            metadata_documents.c.kind == kind, metadata_documents.c.name == name
        )
    ).scalar()


def record_package(
    conn: Connection,
    manifest: Mapping[str, Any],
    documents: Iterable[PackageDocument],
    at: datetime,
) -> None:
    """Remember a package at its new version, with its documents as shipped; mark its documents its own."""
    name = manifest["name"]
    values = {
        "version": manifest["version"],
        "depends": dict(manifest.get("depends", {})),
        "manifest": dict(manifest),
    }
    if installed_package(conn, name) is None:
        conn.execute(insert(packages).values(name=name, installed_at=at, **values))
    else:
        conn.execute(update(packages).where(packages.c.name == name).values(upgraded_at=at, **values))
    conn.execute(delete(package_documents).where(package_documents.c.package == name))
    documents = list(documents)
    if documents:
        conn.execute(
            insert(package_documents),
            [
                {"package": name, "kind": d.kind, "name": d.name, "file": d.file, "body": d.body}
                for d in documents
            ],
        )
    own = [(doc.kind, doc.name) for doc in documents if doc.extends is None] + [("package", name)]
    for kind, document in own:
        conn.execute(
            update(metadata_documents)
            .where(metadata_documents.c.kind == kind, metadata_documents.c.name == document)
            .values(package=name)
        )


def forget_package(conn: Connection, name: str) -> None:
    conn.execute(delete(package_documents).where(package_documents.c.package == name))
    conn.execute(delete(packages).where(packages.c.name == name))
