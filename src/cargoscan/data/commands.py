"""``cargoscan prepare``: the first DVC stage."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add ``prepare`` to the CLI."""

    @app.command("prepare")
    def prepare_cmd(
        params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
        profile: str = typer.Option(None, help="Profile overlay (default: the file's `profile`)."),
        raw_dir: str = typer.Option(None, help="Override prepare.raw_dir."),
        out_dir: str = typer.Option(None, help="Override prepare.out_dir."),
    ) -> None:
        """Validate the raw archive, resample to the model pitch, tile, split by train; quarantine bad input.

        TIP'd real scans under ``prepare.extra_dirs`` (``data/tip``), when present, are mixed in at
        ``tip.mix_ratio``."""
        import dataclasses

        from cargoscan.config import load_section
        from cargoscan.data.config import PrepareParams
        from cargoscan.data.prepare import prepare

        from cargoscan.tip.config import TipParams

        p = load_section(PrepareParams, "prepare", params, profile)
        mix_ratio = load_section(TipParams, "tip", params, profile).mix_ratio
        over = {k: v for k, v in {"raw_dir": raw_dir, "out_dir": out_dir}.items() if v}
        prepare(dataclasses.replace(p, **over), mix_ratio=mix_ratio)
