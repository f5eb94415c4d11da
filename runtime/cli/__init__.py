"""The `loom` command line. Each module adds its commands to the group in runtime/cli/group.py."""

from __future__ import annotations

from runtime.cli import (
    backup,
    core,
    demo,
    flows,
    imports,
    packages,
    people,
    record_actions,
    reports,
    web,
)
from runtime.cli.group import cli

__all__ = [
    "backup",
    "cli",
    "core",
    "demo",
    "flows",
    "imports",
    "main",
    "packages",
    "people",
    "record_actions",
    "reports",
    "web",
]


def main() -> None:
    cli(prog_name="loom")
