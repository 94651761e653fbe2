"""The layers stay honest: the engine, the operator layer, the Redis plumbing and the job families
never import the terminal shells (typer, textual, lensops.cli, lensops.tui), the engine never imports
the operator layer, and no two modules import each other in a circle.

Every import counts, also one inside a function: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lensops"
SHELLS = ("typer", "textual", "click", "lensops.cli", "lensops.tui")
# What each layer must not import (prefixes of module names).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "lensops.engine": (*SHELLS, "lensops.ops", "lensops.demo"),
    "lensops.redis": (*SHELLS, "lensops.engine", "lensops.ops", "lensops.demo"),
    "lensops.ops": (*SHELLS, "lensops.demo", "lensops.serve"),
    "lensops.serve": (*SHELLS, "lensops.demo"),
    "lensops.supervisor": (*SHELLS, "lensops.engine", "lensops.ops", "lensops.serve", "lensops.demo"),
    "lensops.config": (*SHELLS, "lensops.engine", "lensops.ops"),
    "lensops.durations": (*SHELLS, "lensops.engine", "lensops.ops"),
    **{
        f"lensops.{family}": (*SHELLS, "lensops.ops", "lensops.demo")
        for family in ("jobs", "email", "pdf", "ai", "notify", "oma", "data")
    },
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every import in the file of module `name`, relative ones resolved."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer):
    offending = [
        f"{MODULES[name].relative_to(PACKAGE.parent)}:{line}: imports {target}"
        for name in MODULES
        if _within(name, layer)
        for line, target in imports_of(MODULES[name])
        if any(_within(target, banned) for banned in FORBIDDEN[layer])
    ]
    assert not offending, "\n".join(offending)


def _local_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _line, target in imports_of(path):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            # importing one's own package (its __init__) is not a circle worth naming
            if target and target != name and not _within(name, target):
                graph[name].add(target)
    return graph


def test_no_import_circles():
    graph = _local_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(circle) for circle in circles)


def test_the_walker_sees_lazy_and_relative_imports(tmp_path):
    # Were the walker blind to these, the tests above would prove nothing.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from lensops.tui.app import DashboardApp\nfrom ..ops import lookup\n", encoding="utf-8"
    )
    found = {target for _line, target in imports_of(probe, "lensops.engine.probe")}
    assert {"lensops.tui.app", "lensops.ops", "lensops.ops.lookup"} <= found
