"""CLI: ``cargoscan inspect``, ``cargoscan inspect-archive`` and ``cargoscan references``.

Heavy imports stay inside the commands so that ``cargoscan --help`` is quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

DEFAULT_ARTIFACT = Path("data/models/export")


def _params(params_file: Path, **overrides):
    import dataclasses

    from cargoscan.inspect.config import load_inspect_params

    params = load_inspect_params(str(params_file))
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(params, **changes) if changes else params


def inspect_cmd(
    scan: Path = typer.Argument(..., help="Scan TIFF (<scan_id>.tiff; its sidecar JSON beside it)."),
    declaration: Optional[Path] = typer.Option(None, "--declaration", help="decl.json: one row or a list."),
    declarations: Optional[Path] = typer.Option(None, "--declarations",
                                                help="declarations.csv to match in (default: the archive's)."),
    artifact: Path = typer.Option(DEFAULT_ARTIFACT, "--artifact", help="Exported model directory."),
    out: Path = typer.Option(Path("data/inspections"), "--out", help="Output directory."),
    references: Optional[Path] = typer.Option(None, "--references", help="Reference library directory."),
    backend: Optional[str] = typer.Option(None, "--backend", help="onnx (CPU) or torch."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or cuda (torch backend)."),
    params_file: Path = typer.Option(Path("params.yaml"), "--params", help="Parameter file."),
) -> None:
    """Inspect one scan: decision, risk areas, findings; writes JSON, HTML and PDF conclusions."""
    import logging

    from cargoscan.inspect.conclusion import write_conclusion
    from cargoscan.inspect.declarations import read_declaration_file
    from cargoscan.inspect.engine import Inspector

    params = _params(params_file, backend=backend, device=device,
                     references_dir=str(references) if references else None)
    rows = None
    src = declaration or declarations
    if declaration and declarations:
        raise typer.BadParameter("give --declaration or --declarations, not both")
    if src is None:  # a scan from an archive: its declarations.csv sits at the archive root
        guess = scan.resolve().parent.parent / "declarations.csv"
        if scan.resolve().parent.name == "scans" and guess.exists():
            src = guess
            logging.getLogger("cargoscan.inspect").info("declarations: %s", guess)
    if src is not None:
        rows = read_declaration_file(src)
    inspector = Inspector.load(artifact, params)
    result = inspector.inspect(scan, rows)
    paths = write_conclusion(result, out, scan, params.conclusion_template or None, params.overlay_width_px)
    log = logging.getLogger("cargoscan.inspect")
    log.info("%s: %s", result.scan_id, result.decision)
    for r in result.reasons:
        log.info("  %s: %s", r.code, r.text)
    for kind, path in paths.items():
        log.info("  %s → %s", kind, path)


def inspect_archive_cmd(
    root: Path = typer.Argument(Path("data/raw"), help="Archive root (scans/, declarations.csv)."),
    out: Path = typer.Option(Path("data/inspections"), "--out", help="Output directory."),
    artifact: Path = typer.Option(DEFAULT_ARTIFACT, "--artifact", help="Exported model directory."),
    references: Optional[Path] = typer.Option(None, "--references", help="Reference library directory."),
    declarations: Optional[Path] = typer.Option(None, "--declarations",
                                                help="Defaults to ROOT/declarations.csv."),
    conclusions: bool = typer.Option(False, "--conclusions/--no-conclusions", help="Also write HTML+PDF."),
    limit: int = typer.Option(0, "--limit", help="Only the first N scans (0 = all)."),
    split: Optional[str] = typer.Option(None, "--split", help="Only scans of this split (train/val/test)."),
    index: Path = typer.Option(Path("data/prepared/index.csv"), "--index",
                               help="The prepare stage's index (scan_id, split), read with --split."),
    backend: Optional[str] = typer.Option(None, "--backend"),
    device: Optional[str] = typer.Option(None, "--device"),
    params_file: Path = typer.Option(Path("params.yaml"), "--params"),
) -> None:
    """Inspect every scan of an archive; resumable; one JSON per scan and summary.csv."""
    import csv

    from cargoscan.archive import ArchiveError, ArchivePaths
    from cargoscan.inspect.batch import inspect_archive

    if not ArchivePaths(root).scans.is_dir():      # else "0 inspected" and exit 0 for a mistyped path
        raise ArchiveError(root, "not a scan archive (no scans/ folder)")
    only = None
    if split:
        if not index.exists():
            raise typer.BadParameter(f"{index} not found (run `cargoscan prepare` first)", param_hint="--index")
        with index.open(newline="", encoding="utf-8") as fh:
            only = {r["scan_id"] for r in csv.DictReader(fh) if r.get("split") == split}
        if not only:
            raise typer.BadParameter(f"no scan of split {split!r} in {index}", param_hint="--split")

    params = _params(params_file, backend=backend, device=device,
                     references_dir=str(references) if references else None)
    summary = inspect_archive(root, out, artifact, params, declarations, conclusions, limit, only=only)
    typer.echo(f"{summary['inspected']} inspected, {summary['skipped']} up to date, "
               f"{summary['suspicious']} suspicious, {summary['failed']} incomplete → {out}/summary.csv")


def references_cmd(
    root: Path = typer.Argument(Path("data/raw"), help="Archive root with truth.csv."),
    artifact: Path = typer.Option(DEFAULT_ARTIFACT, "--artifact", help="Exported model directory."),
    out: Path = typer.Option(Path("data/references"), "--out", help="Library directory."),
    split_file: Optional[Path] = typer.Option(None, "--split", help="Training split (csv scan_id,split / txt)."),
    per_category: int = typer.Option(0, "--per-category", help="References per category (0 = params)."),
    params_file: Path = typer.Option(Path("params.yaml"), "--params"),
) -> None:
    """Build the reference library of typical images per cargo category (encoder embeddings)."""
    from cargoscan.inspect.engine import Inspector
    from cargoscan.inspect.references import build_library

    params = _params(params_file)
    inspector = Inspector.load(artifact, params)
    if inspector.backend is None:
        raise typer.BadParameter(f"model not loaded: {inspector.load_error}")
    split = str(split_file) if split_file else (params.references_split or None)
    if split and not Path(split).exists():
        raise typer.BadParameter(f"split file {split} not found")
    lib = build_library(root, inspector, split, per_category or params.references_per_category)
    lib.save(out)
    typer.echo(f"{len(lib.scan_ids)} references in {len(lib.info['counts'])} categories → {out}")


def register(app: typer.Typer) -> None:
    """Add the inspection commands to the ``cargoscan`` app."""
    app.command("inspect")(inspect_cmd)
    app.command("inspect-archive")(inspect_archive_cmd)
    app.command("references")(references_cmd)
