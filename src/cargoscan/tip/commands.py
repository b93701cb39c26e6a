"""``cargoscan import`` (real scans into the archive) and ``cargoscan tip`` (threat image projection)."""

from __future__ import annotations

import csv
import logging
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

log = logging.getLogger(__name__)


def _parse_pair(text: str, what: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{what}: expected two numbers 'A,B', got {text!r}") from None
    return a, b


def _meta_from_row(row: dict[str, str]):
    from cargoscan.tip.importer import ImportRefused, ScanMeta

    need = ["post_code", "device_id", "scanned_at", "train_number", "direction", "speed_kmh", "energies_mev"]
    missing = [k for k in need if not (row.get(k) or "").strip()]
    if missing:
        raise ImportRefused(
            f"metadata lacks {missing}: pass --post --device --scanned-at --train --direction "
            "--speed-kmh --energies-mev, or give them as CSV columns of --meta"
        )
    try:
        scanned = datetime.fromisoformat(row["scanned_at"])
    except ValueError:
        raise ImportRefused(
            f"scanned_at {row['scanned_at']!r} is not ISO 8601 (2025-02-18T17:47:02+05:00)"
        ) from None
    containers = tuple(c for c in (row.get("container_numbers") or "").replace(";", " ").split() if c)
    return ScanMeta(
        post_code=row["post_code"],
        device_id=row["device_id"],
        scanned_at=scanned,
        train_number=row["train_number"],
        direction=row["direction"],  # type: ignore[arg-type]
        speed_kmh=float(row["speed_kmh"]),
        energies_mev=_parse_pair(row["energies_mev"], "energies"),
        wagon_number=(row.get("wagon_number") or None),
        container_numbers=containers,
        wagon_type=(row.get("wagon_type") or None),
        seq=int(row.get("seq") or 0),
    )


def import_command(
    sources: list[Path] = typer.Argument(
        None, help="One 2-channel file (.npy/.npz/.tif) or two TIFFs (one per energy); omit with --meta"
    ),
    high_channel: int = typer.Option(
        ..., help="Index (0/1) of the HIGH-energy channel in the source's order."
    ),
    air_value: float = typer.Option(..., help="Raw value of the open beam (full transmission)."),
    rail_at_bottom: bool = typer.Option(
        ..., "--rail-at-bottom/--rail-at-top", help="Where the rail is in the image as stored."
    ),
    pitch_row_mm: float = typer.Option(..., help="Pixel pitch across rows (vertical), mm."),
    pitch_column_mm: float = typer.Option(..., help="Pixel pitch along the train, mm."),
    layout: str = typer.Option(
        "auto", help="Channel axis of a single array: auto, hwc (H×W×2), chw (2×H×W)."
    ),
    encoding: str = typer.Option(
        "transmission", help="transmission | inverted (air − T) | attenuation (−ln T)."
    ),
    attenuation_scale: Optional[float] = typer.Option(
        None, help="Counts per unit of −ln T (with attenuation)."
    ),
    transpose: bool = typer.Option(False, help="Rows run along the train as stored."),
    key: Optional[str] = typer.Option(None, help="Array name inside an .npz holding several."),
    force: list[str] = typer.Option([], help="Skip a named check deliberately (recorded in the sidecar)."),
    meta: Optional[Path] = typer.Option(
        None,
        help="CSV of metadata, one row per scan, with a 'file' column "
        "(paths relative to the CSV; two TIFFs joined by ';').",
    ),
    post: Optional[str] = typer.Option(None, help="5-digit post code."),
    device: Optional[str] = typer.Option(None, help="Scanner id, RFnn."),
    scanned_at: Optional[str] = typer.Option(None, help="ISO 8601 with timezone."),
    seq: int = typer.Option(0, help="Sequence digit of the scan ID."),
    train: Optional[str] = typer.Option(None, help="Train number."),
    wagon: Optional[str] = typer.Option(None, help="8-digit wagon number, if known."),
    container: list[str] = typer.Option([], help="ISO 6346 container number(s)."),
    direction: Optional[str] = typer.Option(None, help="import | export | transit."),
    speed_kmh: Optional[float] = typer.Option(None, help="Train speed through the portal."),
    energies_mev: Optional[str] = typer.Option(None, help="Nominal endpoints 'HIGH,LOW', e.g. 6,4."),
    wagon_type: Optional[str] = typer.Option(None, help="covered | flat | gondola | tank | other."),
    out: Path = typer.Option(Path("data/imported"), help="Archive root to write into."),
) -> None:
    """Import real scans into the archive format, refusing any that fail validation."""
    from cargoscan.tip.importer import ImportOptions

    opts = ImportOptions(
        high_channel=high_channel,
        air_value=air_value,
        rail_at_bottom=rail_at_bottom,
        pitch_mm=(pitch_row_mm, pitch_column_mm),
        layout=layout,  # type: ignore[arg-type]
        encoding=encoding,
        attenuation_scale=attenuation_scale,  # type: ignore[arg-type]
        transpose=transpose,
        force=tuple(force),
    )
    if meta is not None:
        jobs = _jobs_from_csv(meta)
    else:
        row = {"post_code": post, "device_id": device, "scanned_at": scanned_at, "seq": str(seq),
               "train_number": train, "wagon_number": wagon, "container_numbers": " ".join(container),
               "direction": direction, "speed_kmh": None if speed_kmh is None else str(speed_kmh),
               "energies_mev": energies_mev, "wagon_type": wagon_type}
        jobs = [(list(sources or []), {k: v for k, v in row.items() if v is not None})]
    if _import_all(jobs, opts, out, key):
        raise typer.Exit(code=1)


def _jobs_from_csv(meta: Path) -> list[tuple[list[Path], dict[str, str]]]:
    """(files, metadata row) per row of a metadata CSV; files relative to it, two TIFFs joined by ';'."""
    jobs = []
    with meta.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            files = [meta.parent / f.strip() for f in (row.get("file") or "").split(";") if f.strip()]
            jobs.append((files, row))
    return jobs


def _import_all(jobs: list[tuple[list[Path], dict[str, str]]], opts, out: Path, key: str | None) -> int:
    """Import each job, logging each refusal with its reason (the others still import); returns the refusals."""
    from cargoscan.tip.importer import ImportRefused, import_scan

    failed = 0
    for files, row in jobs:
        try:
            tiff = import_scan(files, opts, _meta_from_row(row), out, key)
            log.info("imported %s → %s", ", ".join(map(str, files)), tiff)
        except ImportRefused as exc:
            failed += 1
            log.error("%s: %s", ", ".join(map(str, files)) or "(no file)", exc)
    return failed


def tip_command(
    src: Path = typer.Argument(
        Path("data/imported"), help="Archive of background scans (imported or synthetic)."
    ),
    out: Path = typer.Option(Path("data/tip"), help="Archive root for the TIP'd scans."),
    variants: int = typer.Option(1, help="TIP'd versions per background scan (at most 9)."),
    seed: Optional[int] = typer.Option(None, help="Overrides tip.seed."),
    params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
    profile: Optional[str] = typer.Option(None, help="Parameter profile."),
) -> None:
    """Project synthetic threats into real scans through the scanner's polyenergetic physics."""
    import numpy as np

    from cargoscan.archive import ArchiveError, ArchivePaths
    from cargoscan.config import load_section
    from cargoscan.logs import progress
    from cargoscan.tip.config import TipParams
    from cargoscan.tip.insertion import tip_scan

    p = load_section(TipParams, "tip", params, profile)
    rng = np.random.default_rng(p.seed if seed is None else seed)
    ids = [s for s in ArchivePaths(src).scan_ids()]
    if not ids:
        log.error("%s: no scans to project into", src)
        raise typer.Exit(code=1)
    written, failed = 0, 0
    with progress() as bar:
        task = bar.add_task("tip", total=len(ids) * variants)
        for scan_id in ids:
            for v in range(variants):
                try:
                    written += tip_scan(src, out, scan_id, v, None, rng, p) is not None
                except (ArchiveError, ValueError) as exc:
                    failed += 1
                    log.error("%s: %s", scan_id, exc)
                bar.advance(task)
    log.info("wrote %d TIP'd scans into %s (%d failed)", written, out, failed)
    if failed:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``tip`` to the ``cargoscan`` app."""
    app.command("import")(import_command)
    app.command("tip")(tip_command)
