"""The shape of ``cargoscan``'s imports, read with ``ast`` from the sources (nothing is imported).

Two measurements, each held to a ceiling that may only go down:

* **import cycles** between modules: strongly connected components of more than one module in the graph of
  *module-level* imports (the ones run when a module is imported, ``if TYPE_CHECKING:`` blocks excluded).
  Imports inside functions are lazy: they are kept apart and their cycles only reported (``python
  scripts/arch_report.py``), since a lazy import is how such a cycle is usually broken.
* **upward imports**: an import (module-level or lazy) from a subpackage into one *above* it in ``LAYERS``.

Edges are the imports as written: ``from cargoscan.archive import load_sample`` is an edge to the package
``cargoscan.archive`` (its ``__init__``), ``from cargoscan.archive import format`` one to
``cargoscan.archive.format``; the implicit import of a parent package is not added. ``cargoscan.cli`` adds its
command modules with ``importlib.import_module`` (by name, not measured here): it is the top layer anyway.

Run ``python scripts/arch_report.py`` (or ``python -m tests.test_architecture``) for the full report: cycles
with their members, upward edges, the subpackage graph, the longest functions.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "cargoscan"

#: The layering, bottom first: a subpackage (or top-level module) may import from those before it, never from
#: those after it. Chosen from the imports measured on 2026-12-07, as the order with the fewest upward edges
#: (none): the foundations (the root package's ``__version__``, ``config``, ``logs``), the leaf domain
#: packages (``ids`` numbers, ``scoring`` metrics, ``archive`` format), then the synthesiser, threat
#: projection and the prepare stage (``data`` projects TIP threats), the model registry, the deployable engine
#: (``inspect``: models, data, scoring, synth physics), the benchmark (runs the engine), training (its
#: calibration and export run the benchmark's scoring), then the independent services (``ocr``, ``registry``,
#: ``reports``) and the CLI. (Training below inspect, as one might draw it, would make 4 lazy upward edges:
#: training -> bench, training -> inspect.)
LAYERS: list[str] = [
    "cargoscan",  # the root package itself (``__version__``)
    "config",
    "logs",
    "ids",
    "scoring",
    "archive",
    "physics",
    "synth",
    "tip",
    "data",
    "models",
    "inspect",
    "bench",
    "training",
    "ocr",
    "registry",
    "reports",
    "cli",
    "__main__",
]

#: CEILINGS, measured 2026-12-07, to be lowered as the code improves and never raised: a new cycle or a new
#: upward import fails here. Lower the number in the same change that removes one.
MAX_MODULE_CYCLES = 0  # SCCs of > 1 module among module-level imports
MAX_MODULES_IN_CYCLES = 0  # modules inside those SCCs
MAX_UPWARD_EDGES = 0  # module → module imports (module-level or lazy) against LAYERS
MAX_LAZY_CYCLES = 0  # SCCs of > 1 module counting lazy imports too (0 since 2026-12-07: none left to break)


@dataclass(frozen=True)
class Edge:
    src: str  # importing module, e.g. cargoscan.inspect.engine
    dst: str  # imported module or package, e.g. cargoscan.archive
    line: int
    lazy: bool  # inside a function (or a TYPE_CHECKING block): not run at import time

    def __str__(self) -> str:
        kind = "lazy" if self.lazy else "module-level"
        return f"{self.src} -> {self.dst}  ({kind}, line {self.line})"


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Every module of the package by dotted name (a package's ``__init__`` under the package's name)."""
    out = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def subpackage(module: str) -> str:
    """``cargoscan.inspect.engine`` → ``inspect``, ``cargoscan.cli`` → ``cli``, ``cargoscan`` → itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_edges(name: str, path: Path, modules: dict[str, Path]) -> list[Edge]:
    """The imports of one module into the package, module-level or lazy."""
    is_pkg = path.name == "__init__.py"
    edges: list[Edge] = []

    def target(base: str, alias: str) -> str:
        # ``from X import Y``: Y is a module if X.Y is one, else a name in X.
        return f"{base}.{alias}" if f"{base}.{alias}" in modules else base

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.body:
                    handle(sub, True)
                for sub in child.orelse:
                    handle(sub, lazy)
            else:
                handle(child, lazy)

    def handle(child: ast.AST, lazy: bool) -> None:
        if isinstance(child, ast.Import):
            for a in child.names:
                if a.name == PACKAGE or a.name.startswith(PACKAGE + "."):
                    edges.append(Edge(name, a.name, child.lineno, lazy))
        elif isinstance(child, ast.ImportFrom):
            if child.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (child.level - 1)]
                mod = ".".join(base + ([child.module] if child.module else []))
            else:
                mod = child.module or ""
            if mod == PACKAGE or mod.startswith(PACKAGE + "."):
                for dst in sorted({target(mod, a.name) for a in child.names}):
                    edges.append(Edge(name, dst, child.lineno, lazy))
        visit(child, lazy or isinstance(child, FUNCTIONS))

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return [e for e in edges if e.dst != name]


@lru_cache(maxsize=None)
def _edges(src: Path) -> tuple[Edge, ...]:
    modules = module_files(src)
    return tuple(e for name, path in modules.items() for e in module_edges(name, path, modules))


def all_edges(src: Path = SRC) -> list[Edge]:
    """Every import into the package, from every module of it (parsed once per run)."""
    return list(_edges(src))


def strongly_connected(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """Tarjan's components of more than one node, each sorted, largest first."""
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        graph[e.src].add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    for root in nodes:
        if root in index:
            continue
        # Iterative Tarjan (no recursion limit): frames of (node, iterator over its successors).
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out, key=lambda c: (-len(c), c))


def module_cycles(edges: list[Edge], lazy: bool = False) -> list[list[str]]:
    """Cycles among module-level imports (``lazy=True``: among all imports, lazy ones included)."""
    used = [e for e in edges if lazy or not e.lazy]
    nodes = sorted({e.src for e in used} | {e.dst for e in used})
    return strongly_connected(nodes, used)


def upward_edges(edges: list[Edge], layers: list[str] = LAYERS) -> list[Edge]:
    rank = {name: i for i, name in enumerate(layers)}
    return [e for e in edges if rank[subpackage(e.dst)] > rank[subpackage(e.src)]]


def subpackage_graph(edges: list[Edge]) -> dict[tuple[str, str], tuple[int, int]]:
    """(importer, imported) subpackages → (module-level edges, lazy edges)."""
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for e in edges:
        a, b = subpackage(e.src), subpackage(e.dst)
        if a != b:
            out[a, b][e.lazy] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def longest_functions(src: Path = SRC, n: int = 10) -> list[tuple[int, str]]:
    """The ``n`` longest functions (lines from ``def`` to the last line of the body), with qualified names."""
    found: list[tuple[int, str]] = []
    for name, path in module_files(src).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

        def walk(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    qual = f"{prefix}.{child.name}"
                    where = f"{path.relative_to(src.parent)}:{child.lineno}"
                    found.append((child.end_lineno - child.lineno + 1, f"{qual}  ({where})"))
                    walk(child, qual)
                elif isinstance(child, ast.ClassDef):
                    walk(child, f"{prefix}.{child.name}")
                else:
                    walk(child, prefix)

        walk(tree, name)
    return sorted(found, key=lambda t: (-t[0], t[1]))[:n]


# --- the tests ----------------------------------------------------------------------------------------------


def test_every_subpackage_has_a_layer():
    missing = sorted({subpackage(m) for m in module_files()} - set(LAYERS))
    assert not missing, f"add these to LAYERS in {__file__}: {missing}"


def test_module_level_import_cycles_do_not_grow():
    cycles = module_cycles(all_edges())
    members = sum(len(c) for c in cycles)
    listing = "\n".join("  " + " <-> ".join(c) for c in cycles)
    assert len(cycles) <= MAX_MODULE_CYCLES and members <= MAX_MODULES_IN_CYCLES, (
        f"{len(cycles)} module-level import cycles over {members} modules (ceilings {MAX_MODULE_CYCLES}, "
        f"{MAX_MODULES_IN_CYCLES}):\n{listing}"
    )


def test_no_import_cycle_even_through_lazy_imports():
    cycles = module_cycles(all_edges(), lazy=True)
    listing = "\n".join("  " + " <-> ".join(c) for c in cycles)
    assert len(cycles) <= MAX_LAZY_CYCLES, f"{len(cycles)} import cycles counting lazy imports:\n{listing}"


def test_upward_imports_do_not_grow():
    up = upward_edges(all_edges())
    listing = "\n".join(f"  {e}" for e in up)
    assert len(up) <= MAX_UPWARD_EDGES, (
        f"{len(up)} imports against the layering (ceiling {MAX_UPWARD_EDGES}; LAYERS, bottom first: "
        f"{' < '.join(LAYERS)}):\n{listing}"
    )


def engine_closure(edges: list[Edge]) -> set[str]:
    """Every module the inspection engine's package reaches, through module-level and lazy imports alike."""
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        graph[e.src].add(e.dst)
    todo = [m for m in module_files() if subpackage(m) == "inspect"]
    seen = set(todo)
    while todo:
        for dst in graph[todo.pop()] - seen:
            seen.add(dst)
            todo.append(dst)
    return seen


def test_the_deployable_engine_never_imports_the_synthesiser():
    """What a customs post installs to inspect real scans runs no scene code: physics it shares through
    cargoscan.physics, and what it knows of the synthesiser's cargo through a packaged, derived table."""
    closure = engine_closure(all_edges())
    assert "cargoscan.physics.decompose" in closure and "cargoscan.archive.format" in closure   # not vacuous
    reached = sorted(m for m in closure if subpackage(m) in ("synth", "tip", "bench", "training"))
    assert reached == [], f"the inspection engine reaches {reached}"


def test_the_measurement_sees_the_imports():
    """A guard against a silently empty graph: known edges are found, as module-level or lazy."""
    edges = all_edges()
    assert Edge("cargoscan.archive.validate", "cargoscan.archive.format", 12, False) in edges
    assert any(e.src.startswith("cargoscan.cli") and e.lazy for e in edges)
    assert upward_edges([Edge("cargoscan.ids.x", "cargoscan.cli", 1, True)])  # lazy imports count too
    loop = [Edge("a", "b", 1, False), Edge("b", "c", 1, False), Edge("c", "a", 1, False), Edge("c", "d", 1, True)]
    assert module_cycles(loop) == [["a", "b", "c"]] and module_cycles(loop[:2]) == []


# --- the report ---------------------------------------------------------------------------------------------


def report() -> str:
    edges = all_edges()
    lines: list[str] = []
    cycles = module_cycles(edges)
    lines.append(f"module-level import cycles: {len(cycles)} (modules in them: {sum(map(len, cycles))})")
    lines += [f"  {len(c)}: " + ", ".join(c) for c in cycles]
    lazy_cycles = module_cycles(edges, lazy=True)
    lines.append(f"cycles counting lazy imports too: {len(lazy_cycles)} "
                 f"(modules in them: {sum(map(len, lazy_cycles))})")
    lines += [f"  {len(c)}: " + ", ".join(c) for c in lazy_cycles]
    up = upward_edges(edges)
    lines.append(f"upward imports against LAYERS: {len(up)} (module-level {sum(not e.lazy for e in up)}, "
                 f"lazy {sum(e.lazy for e in up)})")
    lines.append("  LAYERS, bottom first: " + " < ".join(LAYERS))
    lines += [f"  {e}" for e in up]
    lines.append("subpackage graph (importer -> imported: module-level edges + lazy edges):")
    lines += [f"  {a} -> {b}: {m} + {lz}" for (a, b), (m, lz) in subpackage_graph(edges).items()]
    lines.append("longest functions (lines):")
    lines += [f"  {n:4d}  {q}" for n, q in longest_functions()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
