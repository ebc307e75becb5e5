"""The modules of `dsl` import one another without a cycle, and nothing of the packages above it.

Every import statement counts, wherever it is written (inside a function, under
`if TYPE_CHECKING:`), so an import moved into a function cannot hide a cycle. The source is read,
not imported: the graph is the one the files spell out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

DSL = Path(__file__).resolve().parents[2] / "dsl"
ABOVE_DSL = ("engine", "api", "playground")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _imported(tree: ast.Module, name: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The absolute names of the modules a module imports; `from p import m` names `p.m` when `m`
    is a module of its own, and `p` otherwise."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else base


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> every module it imports (within the package or not)."""
    modules = _modules(root)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set(_imported(tree, name, path.name == "__init__.py", known))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle among the graph's own nodes (as a path that ends where it starts), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path = [start], {start}
        pending = [iter(sorted(graph[start] & graph.keys()))]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                pending.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif target in on_path:
                return [*path[path.index(target) :], target]
            elif target not in done:
                path.append(target)
                on_path.add(target)
                pending.append(iter(sorted(graph[target] & graph.keys())))
    return None


def _internal(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {module: imported & graph.keys() for module, imported in graph.items()}


def test_dsl_modules_import_each_other_without_a_cycle() -> None:
    graph = _internal(import_graph(DSL))
    assert {"dsl", "dsl.compiler", "dsl.functions.registry"} <= graph.keys()
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_dsl_imports_nothing_above_it() -> None:
    upward = {
        (module, imported)
        for module, names in import_graph(DSL).items()
        for imported in names
        if imported.split(".")[0] in ABOVE_DSL
    }
    assert upward == set()


def test_dsl_imports_no_module_by_name_at_run_time() -> None:
    """`importlib` or `__import__` would make edges the graph above cannot see."""
    dynamic = {
        (name, node.lineno)
        for name, path in _modules(DSL).items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Name | ast.Attribute | ast.alias)
        and {"importlib", "__import__", "import_module"} & {getattr(node, key, None) for key in ("id", "attr", "name")}
    }
    assert dynamic == set()


def test_the_graph_sees_every_import_statement(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from pkg.sub import leaf\n")
    (package / "top.py").write_text("import pkg.sub.leaf\n")
    (package / "sub" / "__init__.py").write_text("from . import leaf\nfrom .. import top\n")
    (package / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..top import thing\n"
        "def late():\n    from . import other\n    from engine import x\n"
    )
    (package / "sub" / "other.py").write_text("")
    assert import_graph(package) == {
        "pkg": {"pkg.sub.leaf"},
        "pkg.top": {"pkg.sub.leaf"},
        "pkg.sub": {"pkg.sub.leaf", "pkg.top"},
        "pkg.sub.leaf": {"typing", "pkg.top", "pkg.sub.other", "engine"},
        "pkg.sub.other": set(),
    }
    assert find_cycle(_internal(import_graph(package))) == ["pkg.sub.leaf", "pkg.top", "pkg.sub.leaf"]


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),  # a diamond is not a cycle
        ({"a": {"a"}}, ["a", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle
