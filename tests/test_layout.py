"""The layout's rules, read from the code: which package may import which, no import cycle (imports
inside functions included), the pure core free of storage and web libraries, and every package
importable on its own. docs/architecture.md states the same rules in words."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("dsl", "engine", "api", "playground")

# Each layer and the layers it may import. A module belongs to the longest prefix listed here.
BASE = "engine.base"
ALLOWED: dict[str, set[str]] = {
    "dsl": set(),
    BASE: set(),
    "engine.model": {BASE, "dsl"},
    "engine.rules": {BASE, "dsl", "engine.model"},
    "engine.evaluator": {BASE, "dsl", "engine.model", "engine.rules"},
    "engine.replay": {BASE, "dsl", "engine.model", "engine.rules", "engine.evaluator"},
    "engine.queue": {BASE},
    "engine.store": {BASE, "dsl", "engine.model", "engine.rules", "engine.queue"},
    "engine.webhooks": {BASE, "engine.model", "engine.queue", "engine.store"},
    "engine.worker": {
        BASE,
        "dsl",
        "engine.model",
        "engine.rules",
        "engine.evaluator",
        "engine.replay",
        "engine.queue",
        "engine.store",
        "engine.webhooks",
    },
    "engine": {BASE, "engine.model", "engine.rules", "engine.evaluator"},  # the public surface
    "api": {
        "api",
        BASE,
        "dsl",
        "engine",
        "engine.model",
        "engine.rules",
        "engine.evaluator",
        "engine.replay",
        "engine.queue",
        "engine.store",
        "engine.webhooks",
    },
    "playground": {
        "playground",
        BASE,
        "dsl",
        "engine",
        "engine.model",
        "engine.rules",
        "engine.evaluator",
        "engine.store",
    },
    "engine.cli": {
        BASE,
        "dsl",
        "engine",
        "engine.model",
        "engine.rules",
        "engine.evaluator",
        "engine.replay",
        "engine.queue",
        "engine.store",
        "engine.webhooks",
        "engine.worker",
        "api",
        "playground",
    },
}
LAYER_OF = {"engine.errors": BASE, "engine.limits": BASE, "engine.settings": BASE, "engine.__main__": "engine.cli"}
PURE = ("dsl", BASE, "engine.model", "engine.rules", "engine.evaluator", "engine.replay")
IMPURE_LIBRARIES = ("peewee", "playhouse", "huey", "litestar", "uvicorn", "psycopg", "redis", "httpx", "jinja2")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every module `name` imports, wherever the statement stands (functions, TYPE_CHECKING).
    `from package import module` imports that module (the package is being imported already)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in known else base), node.lineno


def layer(module: str) -> str:
    for prefix, name in LAYER_OF.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    candidates = [key for key in ALLOWED if module == key or module.startswith(key + ".")]
    return max(candidates, key=len)


def first_party_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        graph[name] = {target for target, _ in imports(name, path, known) if target in known and target != name}
    return graph


def test_every_import_points_down_the_layers():
    known = modules()
    wrong = []
    for name, path in known.items():
        source = layer(name)
        for target, line in imports(name, path, known):
            if target not in known or target.split(".")[0] not in PACKAGES:
                continue
            destination = layer(target)
            if destination != source and destination not in ALLOWED[source]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {source} imports {target} ({destination})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_even_through_imports_inside_functions():
    graph = first_party_graph()
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_pure_core_imports_no_storage_queue_or_web_library():
    wrong = []
    known = modules()
    for name, path in known.items():
        if layer(name) not in PURE:
            continue
        for target, line in imports(name, path, known):
            if target.split(".")[0] in IMPURE_LIBRARIES:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not wrong, "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_cycles_and_passes_trees():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_the_layer_rules_catch_an_upward_import(tmp_path):
    assert layer("engine.store.ledger.journal") == "engine.store"
    assert layer("engine.settings") == BASE
    assert "engine.worker" not in ALLOWED["engine.store"]
    assert "api" not in ALLOWED["playground"]


PACKAGE_NAMES = sorted(name for name, path in modules().items() if path.name == "__init__.py")


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGE_NAMES)
def test_each_package_imports_on_its_own(package):
    done = subprocess.run([sys.executable, "-c", f"import {package}"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
