"""The one ``cargoscan`` command.

Each part of the system contributes its subcommands from its own ``commands`` module through
``register(app)``; heavy imports (torch, Lightning, MLflow) happen inside the commands, so that
``cargoscan --help`` and the inspection path stay light.
"""

from __future__ import annotations

import importlib
import logging
import os

import typer
from rich.logging import RichHandler

#: The modules that add subcommands, in help order.
COMMAND_MODULES = (
    "cargoscan.synth.commands",      # synth, preview
    "cargoscan.data.commands",       # prepare
    "cargoscan.training.commands",   # train, evaluate, export, references
    "cargoscan.inspect.commands",    # inspect, inspect-archive
    "cargoscan.registry.commands",   # registry, audit, serve
    "cargoscan.ocr.commands",        # frames, identify, ocr-*
    "cargoscan.reports.commands",    # report
    "cargoscan.tip.commands",        # import, tip
)

app = typer.Typer(
    name="cargoscan",
    help="Dual-energy rail-cargo X-ray inspection: synthesise, prepare, train, inspect, register, audit.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(rich_tracebacks=False, show_path=False)],
        force=True,
    )


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only tolerate the command module (or its subpackage) being absent, never a broken import inside it.
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            continue
        module.register(app)


_register_all()


def main() -> None:
    """Entry point of the ``cargoscan`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()
