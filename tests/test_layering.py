"""The package's layering, read from the source with ``ast`` (no import is executed).

* physics and economics (``costlib.<module>``) never import the book's analyses (``costlib.book``) nor the
  presentation helpers (``costlib.present``);
* presentation never imports the book's analyses;
* no import cycle among costlib modules, counting the imports inside functions too (a cycle kept alive by a
  function-local import is still a cycle: it only moves the failure to run time).

The CLI (``costlib.cli``, ``costlib.__main__``) sits on top and may import any layer.
"""
from __future__ import annotations

import ast
from pathlib import Path

import costlib

ROOT = Path(costlib.__file__).resolve().parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py")) if ".ipynb_checkpoints" not in p.parts}


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """costlib modules that ``name`` imports anywhere in its source (top level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node)
            # ``from costlib import memory`` / ``from . import audit`` import submodules
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for t in targets:
            while t and t not in known and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in known and t != name and t.startswith("costlib"):
                out.add(t)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in ("cli", "__main__"):
        return "cli"
    if parts[1] in ("book", "present"):
        return parts[1]
    return "physics"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            # a package's __init__ importing its own submodules (the CLI registering subcommands) is not a cycle
            if w.startswith(v + ".") or v.startswith(w + "."):
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_relative_and_absolute_imports():
    g = import_graph()
    assert "costlib.hardware" in g["costlib.memory"]  # from .hardware import ...
    assert "costlib.book.audit" in g["costlib.cli.audit"]  # from ..book import audit
    assert "costlib.book.audit" in g["costlib.book.slm_vs_llm"]  # from .audit import ...
    assert "costlib.uncertainty" in g["costlib.present.explore"]  # from costlib.uncertainty import Band


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles (module groups that import each other): " + "; ".join(" <-> ".join(c) for c in cycles)


FORBIDDEN = {"physics": ("book", "present", "cli"), "present": ("book", "cli"), "book": ("cli",)}
"""Layer -> the layers above it, which it must not import."""


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [f"{m} imports {t}" for m, targets in sorted(graph.items()) for t in sorted(targets)
            if _layer(t) in FORBIDDEN.get(_layer(m), ())]


def test_layers_are_named_by_package_and_upward_imports_are_found():
    assert [_layer(m) for m in ("costlib.memory", "costlib.book.audit", "costlib.present.explore", "costlib.cli.audit")] == [
        "physics", "book", "present", "cli"]
    graph = {"costlib.memory": {"costlib.book.audit", "costlib.hardware"}, "costlib.present.report": {"costlib.book.claims"},
             "costlib.book.claims": {"costlib.present.report"}, "costlib.cli.audit": {"costlib.book.audit"}}
    assert upward_imports(graph) == ["costlib.memory imports costlib.book.audit",
                                     "costlib.present.report imports costlib.book.claims"]


def test_no_layer_imports_a_layer_above_it():
    bad = upward_imports(import_graph())
    assert not bad, "; ".join(bad)
