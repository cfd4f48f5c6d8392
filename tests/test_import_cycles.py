"""No import circle inside any package (static: every module read with ``ast``, nothing imported).

Two graphs, both within one package. ``from pkg import name`` is an edge to ``pkg.name`` when
that is a module, else to ``pkg`` (its ``__init__``).

- **Import time** (``test_no_import_circle_at_import_time``): ``a -> b`` when ``a`` imports ``b``
  while ``a`` itself is being imported: at module level, in a class body, or under a
  module-level ``if``/``try``; not inside a function (run later) nor under
  ``if TYPE_CHECKING:`` (never run). A circle here makes the import order matter and breaks as
  soon as someone moves a line. None is allowed.
- **Dependency** (``test_no_dependency_circle``): every import, also those deferred into a
  function or kept under ``TYPE_CHECKING``. A circle here is two modules that need each other
  and hide it by deferring one import (issue 16 found three: the training loop and its sample
  writer, the sampler and its cost planner, the scheduler base and its implementations). Circles
  not yet untangled are listed in ``KNOWN_DEPENDENCY_CIRCLES`` with their owner; the test fails
  on a new one and on a listed one that is gone (so the list only shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_SOURCES = sorted(
    path
    for path in (REPO / "packages").glob("*/src/*")
    if path.is_dir() and (path / "__init__.py").is_file()
)


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of a package."""
    modules = {}
    root = package_dir.parent
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def every_import(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of the module, wherever it is."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def import_time_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)
            else:
                for name in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(node, name, None)
                    if isinstance(children, list):
                        visit([c for c in children if isinstance(c, ast.stmt)])
                for handler in getattr(node, "handlers", []) or []:
                    visit(handler.body)
                for case in getattr(node, "cases", []) or []:
                    visit(case.body)

    visit(tree.body)
    return found


def import_graph(package_dir: Path, *, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (at import time, or at all)."""
    modules = module_files(package_dir)
    top = package_dir.name
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in (every_import if deferred else import_time_imports)(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base_parts = name.split(".")
                    if not is_package:
                        base_parts = base_parts[:-1]
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append(submodule if submodule in modules else base)
            for target in targets:
                if target.split(".")[0] != top:
                    continue
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module, each as one circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return [_one_circle(graph, component) for component in components]


def _one_circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A concrete circle through the component's first module (breadth-first, shortest)."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component


def test_the_checker_finds_a_circle_and_skips_function_and_type_checking_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("from pkg import b\n", encoding="utf-8")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.c import X\n"
        "def f():\n    from pkg import c\n"
        "from . import c\n",
        encoding="utf-8",
    )
    (package / "c.py").write_text("try:\n    import pkg.a\nexcept ImportError:\n    pass\n")
    (package / "d.py").write_text("def g():\n    from pkg import a\n", encoding="utf-8")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg.a"} and graph["pkg.d"] == set()
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (package / "c.py").write_text("def h():\n    import pkg.a\n", encoding="utf-8")
    assert find_cycles(import_graph(package)) == []
    # The same deferred import is a dependency circle, and so is a TYPE_CHECKING one.
    assert find_cycles(import_graph(package, deferred=True)) == [
        ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    ]
    (package / "c.py").write_text("", encoding="utf-8")
    (package / "d.py").write_text("from pkg.sub import e\n", encoding="utf-8")
    (package / "sub").mkdir()
    (package / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (package / "sub" / "e.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..d import X\n",
        encoding="utf-8",
    )
    assert find_cycles(import_graph(package)) == []
    assert find_cycles(import_graph(package, deferred=True)) == [["pkg.d", "pkg.sub.e", "pkg.d"]]


#: Dependency circles still to be untangled, per package, each as the set of its modules, with
#: who owns the fix. Remove an entry when its circle is gone (the test says so).
KNOWN_DEPENDENCY_CIRCLES: dict[str, list[frozenset[str]]] = {}


def _listing(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("package_dir", PACKAGE_SOURCES, ids=lambda path: path.name)
def test_no_import_circle_at_import_time(package_dir):
    cycles = find_cycles(import_graph(package_dir))
    assert not cycles, f"import circles in {package_dir.name}:\n{_listing(cycles)}"


@pytest.mark.parametrize("package_dir", PACKAGE_SOURCES, ids=lambda path: path.name)
def test_no_dependency_circle(package_dir):
    cycles = find_cycles(import_graph(package_dir, deferred=True))
    known = KNOWN_DEPENDENCY_CIRCLES.get(package_dir.name, [])
    new = [cycle for cycle in cycles if frozenset(cycle) not in known]
    assert not new, (
        f"dependency circles in {package_dir.name} (an import deferred into a function or "
        f"under TYPE_CHECKING closes each):\n{_listing(new)}"
    )
    gone = [sorted(circle) for circle in known if circle not in {frozenset(c) for c in cycles}]
    assert not gone, f"remove from KNOWN_DEPENDENCY_CIRCLES, they are gone: {gone}"
