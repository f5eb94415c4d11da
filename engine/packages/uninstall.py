"""Uninstalling a package: refused while another package depends on it, while work waits on its objects
(unless that work is cancelled) or its tables hold records (unless the data is kept), then its metadata
removed in one transaction; kept tables are archived."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from engine.base.actors import SYSTEM, Actor
from engine.base.errors import PackageRefused
from engine.packages.install import apply_package
from engine.packages.pending import cancel_work, pending_work
from engine.packages.store import base_documents, installed_package, installed_packages
from engine.schema.changes import ChangePlan
from engine.schema.removal import table_rows

if TYPE_CHECKING:
    from engine.loom import Loom


def uninstall_package(
    loom: Loom,
    name: str,
    *,
    keep_data: bool = False,
    cancel_pending: bool = False,
    dry_run: bool = False,
    actor: Actor = SYSTEM,
) -> ChangePlan:
    """Remove the package's documents and take its extensions out of the objects they extend.

    With `keep_data`, tables holding records are renamed to archive names instead of refusing; with
    `cancel_pending`, running approvals, due work and undelivered messages of the package are cancelled
    (and the plan says so) instead of refusing.
    """
    with loom.read() as conn:
        package = installed_package(conn, name)
        if package is None:
            raise PackageRefused(f"{name} is not installed")
        dependents = [other.name for other in installed_packages(conn).values() if name in other.depends]
        holding = _records_held(conn, name)
        waiting = pending_work(conn, name)
    if dependents:
        raise PackageRefused(f"{', '.join(dependents)} depend(s) on {name}; uninstall them first")
    if waiting and not cancel_pending:
        raise PackageRefused(
            f"work still waits on {name}'s objects: {'; '.join(waiting.parts())}; finish it first, or pass"
            " --cancel-pending to cancel it with the uninstall"
        )
    if holding and not keep_data:
        counts = ", ".join(f"{object_name}: {rows} record(s)" for object_name, rows in holding.items())
        raise PackageRefused(
            f"{name}'s tables hold records ({counts}); delete them first, or pass --keep-data to keep the"
            " tables as archives"
        )
    said = [f"{'would cancel' if dry_run else 'cancelled'} {part}" for part in waiting.parts()]
    note = "; ".join([f"uninstall {name}", *said])
    if waiting and not dry_run:
        # Everything is checked before anything is cancelled: a refused uninstall cancels nothing.
        apply_package(loom, package.manifest, {}, shipped=None, actor=actor, dry_run=True)
        cancel_work(loom, name, waiting)
    _, plan = apply_package(loom, package.manifest, {}, shipped=None, actor=actor, dry_run=dry_run, note=note)
    plan.documents[:0] = said
    return plan


def _records_held(conn: Connection, name: str) -> dict[str, int]:
    """Object → rows in its table (deleted ones included), for the package's own objects holding any."""
    held = {}
    for (kind, object_name), doc in base_documents(conn, name).items():
        if kind == "object" and doc.extends is None:
            rows = table_rows(conn, f"obj_{object_name}")
            if rows:
                held[object_name] = rows
    return held
