"""The folders depend one way: metadata ← engine ← runtime/builder_ui/plugins. These tests hold the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Top-level module names each file of a folder imports, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in imported_modules(folder).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden
    ]


def test_metadata_imports_neither_engine_nor_database_nor_web() -> None:
    assert (
        offenders(
            "metadata", ("engine", "runtime", "builder_ui", "plugins", "sqlalchemy", "alembic", "flask")
        )
        == []
    )


def test_engine_imports_no_web_layer() -> None:
    assert offenders("engine", ("flask", "werkzeug", "runtime", "builder_ui", "plugins")) == []


def test_plugins_use_only_the_engine_plugin_api() -> None:
    reaching = [
        f"{file} imports {name}"
        for file, names in imported_modules("plugins").items()
        for name in sorted(names)
        if name.split(".")[0] in ("engine", "metadata", "runtime", "builder_ui", "sqlalchemy")
        and name != "engine.plugin_api"
    ]
    assert reaching == []


@pytest.mark.parametrize("folder", ["metadata", "engine", "runtime", "plugins"])
def test_the_layer_check_sees_the_folder(folder: str) -> None:
    # Guards the guard: a folder with no Python files would make the checks above pass vacuously.
    assert imported_modules(folder)
