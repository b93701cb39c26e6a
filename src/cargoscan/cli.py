"""The one ``cargoscan`` command.

Each part of the system contributes its subcommands from its own ``commands`` module through
``register(app)``; heavy imports (torch, Lightning, MLflow) happen inside the commands, so that
``cargoscan --help`` and the inspection path stay light.

A failure prints one line on standard error, ``cargoscan: error: <what> (<file>)``, never a traceback, and exits
non-zero: :data:`EXIT_ERROR` for the project's own errors (any exception class defined in ``cargoscan``, such as
``ArchiveError``) and ordinary OS errors (a missing file, a permission), :data:`EXIT_INTERNAL` for anything else,
with a hint to rerun with ``--debug``, which shows the traceback. Usage errors keep click's own message and code 2.
"""

from __future__ import annotations

import importlib
import logging
import os

import typer
from rich.logging import RichHandler
from typer.core import TyperGroup

#: Exit codes: a clear error (bad input, missing file), click's usage error, and an unexpected exception.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
_DEBUG = "cargoscan.debug"

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
    "cargoscan.bench.commands",      # bench-synth, benchmark
)


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_line(exc: BaseException) -> tuple[str, int]:
    """The line a failure prints, and the exit code: clear for the project's and OS errors, else internal."""
    from cargoscan.archive.format import ArchiveError

    if isinstance(exc, ArchiveError):
        return f"cargoscan: error: {_one_line(exc.reason)} ({exc.path})", EXIT_ERROR
    if isinstance(exc, OSError) and exc.strerror:
        files = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
        where = f" ({', '.join(files)})" if files else ""
        return f"cargoscan: error: {_one_line(exc.strerror)}{where}", EXIT_ERROR
    if type(exc).__module__.split(".")[0] == "cargoscan":
        return f"cargoscan: error: {_one_line(exc)}", EXIT_ERROR
    what = _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return f"cargoscan: internal error: {what} (rerun with --debug for the traceback)", EXIT_INTERNAL


class _Group(TyperGroup):
    """The root group: turns any exception from a command into one line and an exit code (see the module)."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.exceptions.TyperException, typer.Exit, typer.Abort):   # usage errors and chosen exits
            raise
        except Exception as exc:
            if ctx.meta.get(_DEBUG):
                raise
            line, code = error_line(exc)
            logging.getLogger("cargoscan").debug("command failed", exc_info=True)
            typer.echo(line, err=True)
            ctx.exit(code)


app = typer.Typer(
    name="cargoscan",
    help="Dual-energy rail-cargo X-ray inspection: synthesise, prepare, train, inspect, register, audit.",
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


@app.callback()
def _root(ctx: typer.Context,
          verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
          debug: bool = typer.Option(False, "--debug", help="Show the traceback of a failure.")) -> None:
    ctx.meta[_DEBUG] = debug
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
