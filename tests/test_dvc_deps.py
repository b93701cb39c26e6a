"""Every DVC stage depends on the code it runs: no edit can leave an output stale while ``dvc status`` is clean.

A stage's command is one ``cargoscan`` subcommand. The code it may run is the **import closure** of the function
that implements it, read with ``ast`` (``tests.test_architecture``): module-level and lazy imports alike,
followed transitively, with the parent packages each import also runs. The closure over-approximates (a lazy
import in a function the stage never calls still counts): a stage may rerun when it did not need to, never
the other way round. Every source file of the closure must lie under one of the stage's ``deps``.

Run ``python -m tests.test_dvc_deps`` to print each stage's missing deps, ``python -m tests.test_dvc_deps --write``
to rewrite the ``src/`` deps of every stage in dvc.yaml (folders where a whole folder is used, else files).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from tests.test_architecture import SRC, all_edges, module_files

ROOT = SRC.parent
DVC_YAML = ROOT / "dvc.yaml"


@lru_cache(maxsize=None)
def commands() -> dict[str, tuple[str, frozenset[str]]]:
    """``{subcommand: (command module, the modules its function imports)}`` for every ``cargoscan`` subcommand.

    A subcommand's function is the one under ``@app.command("x")`` or passed to ``app.command("x")(fn)``; its
    imports are its own, those of the module's functions it calls (followed within the module) and the command
    module's module-level ones. Taking the whole command module instead would make ``bench-synth`` depend on
    the inspection engine that ``benchmark``, registered beside it, runs.
    """
    modules = module_files()
    out = {}
    for name, path in modules.items():
        if not name.endswith(".commands"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        top_level = {e.dst for e in all_edges() if e.src == name and not e.lazy}
        for node in ast.walk(tree):
            sub, fn = _registered(node)
            if sub is not None and fn in functions:
                out[sub] = (name, frozenset(top_level | _imports(functions[fn], functions, name, modules)))
    return out


def _registered(node: ast.AST) -> tuple[str | None, str | None]:
    """(subcommand, function name) when ``node`` registers one, else (None, None)."""
    def command_name(call: ast.AST) -> str | None:
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "command"
                and call.args and isinstance(call.args[0], ast.Constant)):
            return str(call.args[0].value)
        return None

    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for d in node.decorator_list:
            if command_name(d):
                return command_name(d), node.name
    if isinstance(node, ast.Call) and command_name(node.func) and node.args and isinstance(node.args[0], ast.Name):
        return command_name(node.func), node.args[0].id
    return None, None


def _imports(fn: ast.AST, functions: dict[str, ast.AST], module: str, modules: dict[str, Path]) -> set[str]:
    """Package modules imported inside ``fn`` and inside the module's functions it calls, transitively."""
    found, seen, todo = set(), set(), [fn]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child in ast.walk(node):
            if isinstance(child, ast.ImportFrom) and child.module and child.module.split(".")[0] == "cargoscan":
                for a in child.names:
                    full = f"{child.module}.{a.name}"
                    found.add(full if full in modules else child.module)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.split(".")[0] == "cargoscan")
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in functions:
                todo.append(functions[child.func.id])
    return found


def closure(roots: set[str]) -> set[str]:
    """Modules of the package that importing ``roots`` (and calling anything in them) may run."""
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for e in all_edges():
        graph.setdefault(e.src, set()).add(e.dst)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        m = todo.pop()
        if m in seen or m not in modules:
            continue
        seen.add(m)
        parts = m.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages' __init__
        todo.extend(graph.get(m, ()))
    return seen


def stages() -> dict[str, dict]:
    return yaml.safe_load(DVC_YAML.read_text(encoding="utf-8"))["stages"]


def subcommand(cmd: str) -> str:
    words = cmd.split()
    assert words[0] == "cargoscan", f"not a cargoscan command: {cmd!r}"
    return words[1]


def code_of(stage: dict) -> list[str]:
    """Files (relative to the repository) a stage's command may run or read: the modules of its closure, and the
    data files beside them (the class table, the HS categories, fonts, templates: a folder's files that are not
    modules, and its subfolders that are not packages)."""
    modules = module_files()
    module, roots = commands()[subcommand(stage["cmd"])]
    parts = module.split(".")
    # The command module itself and its packages, but only the imports of this command's function.
    found = closure(set(roots)) | {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    files = {modules[m].relative_to(ROOT).as_posix() for m in found}
    for folder in {modules[m].parent for m in found}:
        for extra in folder.iterdir():
            if extra.name == "__pycache__" or extra.suffix == ".py" or (extra / "__init__.py").exists():
                continue
            if folder == SRC / "cargoscan" and extra.is_dir():
                continue  # the package root's subfolders are subpackages
            files.add(extra.relative_to(ROOT).as_posix())
    return sorted(files)


def uncovered(stage: dict) -> list[str]:
    deps = [str(d).rstrip("/") for d in stage.get("deps", [])]
    return [f for f in code_of(stage) if not any(f == d or f.startswith(d + "/") for d in deps)]


@pytest.mark.parametrize("name", sorted(stages()))
def test_stage_depends_on_the_code_it_runs(name):
    missing = uncovered(stages()[name])
    assert not missing, (f"dvc.yaml stage {name!r} runs code it does not depend on (add these folders): "
                         f"{sorted({str(Path(f).parent) if Path(f).name != '__init__.py' else f for f in missing})}")


def test_every_stage_command_is_found():
    """Not vacuous: each stage's subcommand is registered, and its closure holds its own command module."""
    for name, stage in stages().items():
        sub = subcommand(stage["cmd"])
        assert sub in commands(), (name, sub)
        assert any(f.endswith("/commands.py") for f in code_of(stage)), name


def test_a_missing_dependency_is_caught():
    """The check fails for a stage whose deps leave out part of what it imports."""
    stage = {"cmd": "cargoscan prepare", "deps": ["data/raw", "src/cargoscan/data"]}
    missing = uncovered(stage)
    assert missing and all(not f.startswith("src/cargoscan/data/") for f in missing)


def covering(files: list[str]) -> list[str]:
    """The shortest list of deps that covers ``files``: a folder when all its entries are among them."""
    by_folder: dict[str, set[str]] = {}
    for f in files:
        by_folder.setdefault(str(Path(f).parent), set()).add(f)
    out = []
    for folder, inside in sorted(by_folder.items()):
        entries = {e.relative_to(ROOT).as_posix() for e in (ROOT / folder).iterdir() if e.name != "__pycache__"
                   and not (e.is_dir() and (e / "__init__.py").exists())}
        out.extend([folder] if inside >= entries and folder != "src/cargoscan" else sorted(inside))
    return out


def write_deps() -> None:
    """Rewrite every stage's ``src/`` deps in dvc.yaml as :func:`covering` gives them (comments kept)."""
    from ruamel.yaml import YAML

    y = YAML()
    y.width = 120
    y.indent(mapping=2, sequence=4, offset=2)
    doc = y.load(DVC_YAML.read_text(encoding="utf-8"))
    for stage in doc["stages"].values():
        deps = stage.get("deps", [])
        for i in reversed(range(len(deps))):  # the data deps stay, with their comments
            if str(deps[i]).startswith("src/"):
                del deps[i]
        deps.extend(covering(code_of(stage)))
    with DVC_YAML.open("w", encoding="utf-8") as fh:
        y.dump(doc, fh)


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv:
        write_deps()
    for name, stage in stages().items():
        missing = uncovered(stage)
        folders = sorted({str(Path(f).parent) if Path(f).name != "__init__.py" else f for f in missing})
        print(f"{name}: {len(code_of(stage))} files, {len(missing)} not covered: {folders}")
