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


PACKAGES = ("metadata", "engine", "runtime", "plugins", "builder_ui")


def module_name(file: str) -> str:
    parts = list(Path(file).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def load_time_edges() -> list[tuple[str, str]]:
    """(file, module) for each of our modules a file imports as it loads: not inside functions,
    not under TYPE_CHECKING. Importing a.b.c loads a and a.b too, except the importer's own parents."""
    modules = {
        module_name(str(path.relative_to(ROOT))): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }
    edges = []
    for importer, path in sorted(modules.items()):
        file = str(path.relative_to(ROOT))
        for target in _imported_at_load(ast.parse(path.read_text(encoding="utf-8")).body, modules):
            parts = target.split(".")
            for depth in range(1, len(parts) + 1):
                loaded = ".".join(parts[:depth])
                own_parent = depth < len(parts) and importer.startswith(loaded + ".")
                if loaded in modules and loaded != importer and not own_parent:
                    edges.append((file, loaded))
    return sorted(set(edges))


def _imported_at_load(body: list[ast.stmt], modules: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    for node in body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.ClassDef)):
            inner = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            inner += [stmt for handler in getattr(node, "handlers", []) for stmt in handler.body]
            found |= _imported_at_load(inner, modules)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that reach one another (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while (member := stack.pop()) != module:
                component.append(member)
            component.append(module)
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


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


def test_runtime_does_not_import_the_builder() -> None:
    assert offenders("runtime", ("builder_ui",)) == []


def test_the_web_app_does_not_import_the_command_line() -> None:
    assert [line for line in offenders("runtime/web", ("runtime",)) if ".cli" in line] == []


def test_plugins_import_no_web_framework() -> None:
    assert offenders("plugins", ("flask", "werkzeug", "runtime")) == []


def test_the_demo_generator_is_not_on_the_production_path() -> None:
    production = [
        f"{file} imports {name}" for file, name in load_time_edges() if name.startswith("runtime.demo")
    ]
    assert [
        edge for edge in production if not edge.startswith(("runtime/cli/demo.py", "runtime/demo/"))
    ] == []


def test_no_import_cycle_at_load_time() -> None:
    graph: dict[str, set[str]] = {}
    for file, name in load_time_edges():
        graph.setdefault(module_name(file), set()).add(name)
    cycles = import_cycles(graph)
    assert cycles == [], "modules that import each other as they load: " + "; ".join(
        " -> ".join(cycle) for cycle in cycles
    )


def test_the_cycle_check_finds_a_cycle() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


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
