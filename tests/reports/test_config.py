import ast
from pathlib import Path

import nbformat
import pytest

from cargoscan.config import ConfigError, from_dict, load_section
from cargoscan.reports.config import NOTEBOOKS, ReportParams

ROOT = Path(__file__).resolve().parents[2]


def parameters_cell(name: str) -> dict:
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{name}: exactly one cell tagged 'parameters'"
    values: dict = {}
    exec(compile(ast.parse(cells[0].source), name, "exec"), {}, values)
    return values


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_injected_parameters_are_declared_by_the_notebook(name):
    declared = parameters_cell(name)
    injected = ReportParams().notebook_parameters(name)
    assert set(injected) == set(declared)
    # the notebook's defaults are the params.yaml defaults, so running it by hand gives the same report
    assert {k: declared[k] for k in injected} == injected


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_thin_and_stripped(name):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert path.stat().st_size < 100_000
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert all(len(c.source.splitlines()) <= 12 for c in nb.cells if c.cell_type == "code")


def test_params_yaml_section_loads():
    assert isinstance(load_section(ReportParams, "report", ROOT / "params.yaml"), ReportParams)
    with pytest.raises(ConfigError, match="unknown keys"):
        from_dict(ReportParams, {"dpl": 10}, "report")
    with pytest.raises(KeyError):
        ReportParams().notebook_parameters("nope")
