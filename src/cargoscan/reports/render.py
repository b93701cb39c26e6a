"""Render the report notebooks: papermill executes them, nbconvert writes HTML without code cells.

The kernel runs the same ``cargoscan`` as the caller (its source directory is put first on the kernel's
``PYTHONPATH``), so a worktree, an editable install and CI all render with the code under test.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cargoscan
from cargoscan.reports.config import ReportParams

log = logging.getLogger(__name__)

TITLES = {"dataset": "cargoscan — dataset report", "evaluation": "cargoscan — model evaluation",
          "batch": "cargoscan — batch report"}


def ensure_kernel(name: str = "python3") -> str:
    """Make sure a Jupyter kernel called ``name`` exists; install one from this interpreter if not.

    The kernel spec goes into ``sys.prefix`` (the venv's ``share/jupyter``), so nothing outside the
    environment changes. Returns the kernel's resource directory.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec(name).resource_dir
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        log.info("installing Jupyter kernel %r into %s", name, sys.prefix)
        return install(kernel_name=name, prefix=sys.prefix)


@contextlib.contextmanager
def kernel_env() -> Iterator[None]:
    """Put this process's ``cargoscan`` source directory first on the kernel's PYTHONPATH; headless plots."""
    src = str(Path(cargoscan.__file__).resolve().parents[1])
    old = {k: os.environ.get(k) for k in ("PYTHONPATH", "MPLBACKEND")}
    parts = [src] + [p for p in (old["PYTHONPATH"] or "").split(os.pathsep) if p and p != src]
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    os.environ["MPLBACKEND"] = "Agg"
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(notebook: str | Path, output: str | Path, parameters: dict[str, Any], kernel: str = "python3",
            timeout_s: int = 900, cwd: str | Path | None = None) -> Path:
    """Execute ``notebook`` with papermill into ``output``, injecting ``parameters``."""
    import papermill as pm

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with kernel_env():
        pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name=kernel,
                            cwd=str(cwd or Path.cwd()), progress_bar=False, log_output=False,
                            execution_timeout=timeout_s)
    return output


def to_html(executed: str | Path, html: str | Path, title: str = "") -> Path:
    """Write an executed notebook as standalone HTML without code cells, prompts or stderr (log) output."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or Path(html).stem}})
    # the lab template ignores an image's "alt" metadata and writes a placeholder: put the figure names back
    placeholder = 'alt="No description has been provided for this image"'
    outputs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    for o in outputs:
        alt = o.get("metadata", {}).get("image/png", {}).get("alt") or "figure"
        body = body.replace(placeholder, f'alt="{alt}"', 1)
    html = Path(html)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body, encoding="utf-8")
    return html


def _render_one(params: ReportParams, name: str, cwd: str | Path | None) -> Path:
    t0 = time.perf_counter()
    for stale in Path(params.figures_dir).glob(f"{name}_*.png"):
        stale.unlink()   # a section that no longer draws must not leave its old figure behind
    src = Path(params.notebooks_dir) / f"{name}.ipynb"
    executed = execute(src, Path(params.work_dir) / f"{name}.ipynb", params.notebook_parameters(name),
                       params.kernel, params.cell_timeout_s, cwd)
    html = to_html(executed, Path(params.out_dir) / f"{name}.html", TITLES.get(name, name))
    log.info("%s: %.0f kB in %.1f s", html, html.stat().st_size / 1024, time.perf_counter() - t0)
    return html


def render(params: ReportParams, names: tuple[str, ...] | None = None, cwd: str | Path | None = None
           ) -> dict[str, Path]:
    """Execute and convert the report notebooks; returns ``{name: html_path}``.

    With ``params.jobs > 1`` the notebooks run in parallel worker processes (each kernel spends most of its
    time starting and importing, so two cores render three notebooks in about half the time).

    Raises:
        FileNotFoundError: when a notebook named in ``params.notebooks`` does not exist.
        papermill.PapermillExecutionError: when a notebook cell fails (the executed notebook is kept in
            ``params.work_dir`` with the traceback for inspection).
    """
    names = tuple(names or params.notebooks)
    for name in names:
        if not (Path(params.notebooks_dir) / f"{name}.ipynb").exists():
            raise FileNotFoundError(f"{Path(params.notebooks_dir) / name}.ipynb: report notebook not found")
    ensure_kernel(params.kernel)
    if params.jobs <= 1 or len(names) == 1:
        return {name: _render_one(params, name, cwd) for name in names}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the parent may hold threads (rich, zmq) that a forked child would inherit half-done
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(params.jobs, len(names)), mp_context=spawn) as ex:
        futures = {name: ex.submit(_render_one, params, name, cwd) for name in names}
        return {name: f.result() for name, f in futures.items()}
