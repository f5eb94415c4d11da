"""Loom's Python API: open a Loom, act as someone, change metadata, install packages.

Each name is defined by the subsystem that owns it (engine/base, store, schema, records, work,
packages, identity, rules, flows, imports, files); docs/api.md is the guide.
"""

from __future__ import annotations

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.clock import Clock
from engine.base.errors import ConflictError, InvalidMetadata, LoomError, RecordInvalid, RecordNotFound
from engine.base.settings import Settings
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.records import recycle_bin
from engine.schema.changes import apply_objects

__all__ = [
    "CRM_PACKAGE",
    "SYSTEM",
    "Actor",
    "Clock",
    "ConflictError",
    "InvalidMetadata",
    "Loom",
    "LoomError",
    "PermissionDenied",
    "RecordInvalid",
    "RecordNotFound",
    "Settings",
    "apply_objects",
    "identity",
    "install_package",
    "recycle_bin",
]
