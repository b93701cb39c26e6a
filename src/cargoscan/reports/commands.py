"""``cargoscan report``: render the reviewer reports (the DVC ``report`` stage)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import typer

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the CLI."""

    @app.command("report")
    def report(
        only: list[str] | None = typer.Option(None, "--only", help="Render only these notebooks "
                                                 "(dataset, evaluation, batch); repeatable."),
        params_file: Path = typer.Option(Path("params.yaml"), "--params", help="Parameter file."),
        archive: str | None = typer.Option(None, help="Override report.archive."),
        inspections: str | None = typer.Option(None, help="Override report.inspections."),
        out_dir: str | None = typer.Option(None, "--out", help="Override report.out_dir (HTML)."),
    ) -> None:
        """Execute the report notebooks with papermill and write reports/*.html and reports/figures/*.png."""
        from cargoscan.config import load_section
        from cargoscan.reports.config import ReportParams
        from cargoscan.reports.render import render

        params = load_section(ReportParams, "report", params_file)
        overrides = {k: v for k, v in {"archive": archive, "inspections": inspections,
                                       "out_dir": out_dir}.items()
                     if v is not None}
        params = dataclasses.replace(params, **overrides)
        unknown = set(only or ()) - set(params.notebooks)
        if unknown:
            raise typer.BadParameter(f"unknown notebooks {sorted(unknown)}; known: {list(params.notebooks)}")
        for name, html in render(params, tuple(only) if only else None).items():
            typer.echo(f"{name}: {html} ({html.stat().st_size / 1024:.0f} kB)")
