"""registry's modules import each other in layers: no module-level import circle.

A circle (a imports b imports a) works only while neither uses the other at
import time, and breaks on the next innocent change.  The shared piece belongs
one floor lower.  Imports inside a function run at call time and are allowed
(that is how commands avoid loading the web stack); imports under
``if TYPE_CHECKING:`` never run.
"""
from __future__ import annotations

import ast
from pathlib import Path

import registry

ROOT = Path(registry.__file__).parent


def module_name(path: Path) -> str:
    parts = ("registry",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def _with_parents(name: str) -> list[str]:
    """Importing ``registry.a.b`` runs ``registry.a`` first, then ``registry.a.b``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts) + 1) if ".".join(parts[:i]) in MODULES]


def _top_level(body: list[ast.stmt]):
    """The statements that run on import: not function bodies, not ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _top_level(node.orelse)
            continue
        yield node
        if isinstance(node, ast.ClassDef):
            yield from _top_level(node.body)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, field, []) or [])
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def module_imports(name: str, *, lazy: bool = False) -> set[str]:
    """The registry modules ``name`` imports when it is imported (``lazy``: in its functions too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in (ast.walk(tree) if lazy else _top_level(tree.body)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_with_parents(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.update(_with_parents(base))
            for alias in node.names:  # ``from registry.web import core``: a module, not a name
                found.update(_with_parents(f"{base}.{alias.name}") if f"{base}.{alias.name}" in MODULES else [])
    found.discard(name)
    return {module for module in found if module.startswith("registry")}


def import_graph() -> dict[str, set[str]]:
    return {name: module_imports(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_registry_has_no_module_level_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_graph_sees_imports_and_the_check_finds_circles():
    graph = import_graph()
    assert "registry.errors" in graph["registry.api.core"]  # a module-level import is an edge
    assert "registry.database.base" in graph["registry.extensions"]
    assert "registry.database.engine" not in graph["registry.errors"]  # imported inside functions only
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_api_core_errors_extensions_circle_stays_broken_even_lazily():
    """The circle the house had: api.core -> errors -> extensions -> api.core (the last two inside functions)."""
    lazy = {name: module_imports(name, lazy=True) for name in ("registry.api.core", "registry.errors",
                                                                 "registry.extensions")}
    assert "registry.errors" in lazy["registry.api.core"] and "registry.extensions" in lazy["registry.errors"]
    assert not any(name.startswith("registry.api") for name in lazy["registry.extensions"])
    assert find_cycle({name: imports & set(lazy) for name, imports in lazy.items()}) is None
