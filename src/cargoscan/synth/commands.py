"""CLI: ``cargoscan synth`` (write a synthetic archive) and ``cargoscan preview`` (one scan with its labels)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import typer

log = logging.getLogger(__name__)


def synth(
    n: int = typer.Option(None, "--n", help="Number of scans (default: params.yaml synth.n)."),
    seed: int = typer.Option(None, "--seed", help="Seed (default: synth.seed)."),
    out: Path = typer.Option(Path("data/raw"), "--out", help="Archive root."),
    params: Path = typer.Option(Path("params.yaml"), "--params", help="Parameter file."),
    profile: str = typer.Option(None, "--profile", help="Profile overlay (default: the file's `profile`)."),
    workers: int = typer.Option(None, "--workers", help="Processes (default: synth.workers)."),
    previews: int = typer.Option(None, "--previews", help="Preview PNGs written to <out>/previews."),
    force: bool = typer.Option(False, "--force", help="Replace an existing archive at --out."),
) -> None:
    """Synthesise a scan archive: scans, sidecars, labels, Table 1, declarations, RFID log and truth."""
    from cargoscan.config import ConfigError
    from cargoscan.synth.config import load_synth_params, validate
    from cargoscan.synth.generator import generate

    try:
        p = load_synth_params(params, profile)
        over = {k: v for k, v in {"n": n, "seed": seed, "workers": workers, "previews": previews}.items()
                if v is not None}
        p = dataclasses.replace(p, **over)
        validate(p)
        generate(p, out, force=force)
    except (ConfigError, FileExistsError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def preview(
    scan_id: str = typer.Argument(..., help="Scan ID."),
    archive: Path = typer.Option(Path("data/raw"), "--archive", help="Archive root."),
    out: Path = typer.Option(None, "--out", help="PNG path (default reports/figures/preview_<scan_id>.png)."),
) -> None:
    """Write a PNG of one scan with its label overlay."""
    from cargoscan.archive import ArchiveError
    from cargoscan.synth.preview import write_preview

    out = out or Path("reports/figures") / f"preview_{scan_id}.png"
    try:
        path = write_preview(archive, scan_id, out)
    except ArchiveError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    log.info("wrote %s", path)


def register(app: typer.Typer) -> None:
    """Add ``synth`` and ``preview`` to the CLI."""
    app.command("synth")(synth)
    app.command("preview")(preview)
