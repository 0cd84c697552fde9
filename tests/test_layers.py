"""The arrows run one way: no import cycle anywhere in academy/, and no import that climbs the
layer list written in docs/architecture.md (the test reads the list from there, so the page and
the code cannot drift apart). Every import counts, also those inside functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from academy import FEATURES, ROOT
from academy.core.catalogues import feature_packages

PACKAGE = ROOT / "academy"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The academy modules `name` imports (a `from package import name` counts as the module
    when there is one, else as the package)."""
    path = MODULES[name]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("academy") and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def layers() -> list[list[str]]:
    """The fenced `layers` block of docs/architecture.md: lowest first, one layer a line;
    a module imports its own line and the lines before it."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    return [line.split() for line in block.group(1).splitlines() if line.strip()]


def unit_of(module: str) -> str:
    """The layer-list name a module belongs to: `academy.quizzes.gift` -> `quizzes`; the
    package's own __init__ (the app factory) is `academy`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "academy"


def test_every_module_has_a_layer():
    listed = {unit for layer in layers() for unit in layer}
    unplaced = sorted({unit_of(m) for m in MODULES} - listed)
    assert not unplaced, f"not in the layer list of docs/architecture.md: {unplaced}"


def test_no_import_climbs_the_layers():
    rank = {unit: i for i, layer in enumerate(layers()) for unit in layer}
    climbing = sorted(
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        for target in targets
        if unit_of(source) != unit_of(target)
        and rank.get(unit_of(target), 0) > rank.get(unit_of(source), 0)
    )
    assert not climbing, "imports that climb the layers:\n" + "\n".join(climbing)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_app_registers_every_feature_package():
    # create_app's FEATURES tuple gives the order; the folders are the truth the Makefile and
    # the translation catalogues read, so the two must name the same packages.
    assert sorted(FEATURES) == feature_packages()
