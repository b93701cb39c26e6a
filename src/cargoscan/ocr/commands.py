"""CLI: ``cargoscan frames``, ``identify``, ``ocr-train``, ``ocr-eval``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

log = logging.getLogger(__name__)


def _params(path: Path, profile: str | None):
    from cargoscan.config import load_section
    from cargoscan.ocr.config import OcrParams

    return load_section(OcrParams, "ocr", path, profile)


def frames_cmd(
    root: Path = typer.Argument(..., help="The archive root (data/raw): sidecars and rfid.csv are read."),
    out: Path = typer.Option(None, help="Frames folder; default ROOT/frames."),
    seed: int = typer.Option(6346, help="Seed of the rendering."),
    params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
    profile: str = typer.Option(None, help="Parameter profile."),
) -> None:
    """Render camera frames (wagon sides, container doors) of every archive scan, with ground truth."""
    import numpy as np

    from cargoscan.ocr.frames import FRAMES_DIR, archive_units, write_frames

    p = _params(params, profile)
    write_frames(out or root / FRAMES_DIR, archive_units(root), np.random.default_rng(seed), p.frames)


def identify_cmd(
    frames: Path = typer.Option(..., help="Frames folder (<train>/<position>_<view>.png)."),
    rfid: Path = typer.Option(None, help="RFID log (rfid.csv); omitted: cameras alone."),
    out: Path = typer.Option(Path("identifications.jsonl"), help="Output JSON lines (contract C)."),
    model: Path = typer.Option(None, help="OCR model folder; default ocr.model_dir."),
    params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
    profile: str = typer.Option(None, help="Parameter profile."),
) -> None:
    """Identify each wagon and its containers from camera frames and RFID reads."""
    from cargoscan.ocr.identify import identify

    p = _params(params, profile)
    identify(frames, rfid, out, model or Path(p.model_dir), p)


def train_cmd(
    out: Path = typer.Option(None, help="Model folder; default ocr.model_dir."),
    params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
    profile: str = typer.Option(None, help="Parameter profile."),
) -> None:
    """Train the text detector and the CRNN recogniser on rendered frames; export both to ONNX."""
    from cargoscan.ocr.train import train_ocr

    p = _params(params, profile)
    train_ocr(p, out or Path(p.model_dir))


def scenes_cmd(
    out: Path = typer.Option(Path("data/ocr/scenes"), help="Folder of the frozen sets, one per geometry."),
    wagons: int = typer.Option(None, help="Wagons per set; default ocr.eval.scene_wagons."),
    params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
    profile: str = typer.Option(None, help="Parameter profile."),
) -> None:
    """Render the frozen scene sets (portal cameras, hand-held photos) that the OCR is benchmarked on."""
    from cargoscan.ocr.scenes import list_geometries
    from cargoscan.ocr.scenesets import write_scene_set

    p = _params(params, profile)
    for geometry in list_geometries():
        write_scene_set(out / geometry, geometry, wagons or p.eval.scene_wagons, p.eval.scene_seed,
                        p_rfid_missing=p.eval.p_rfid_missing, p_rfid_corrupt=p.eval.p_rfid_corrupt)


def eval_cmd(
    frames: Path = typer.Option(None, help="Held-out frames with frames.csv; default: render data/ocr/heldout."),
    rfid: Path = typer.Option(None, help="Their RFID log."),
    out: Path = typer.Option(Path("reports/ocr_metrics.json"), help="Metrics JSON."),
    model: Path = typer.Option(None, help="OCR model folder; default ocr.model_dir."),
    baseline: int = typer.Option(None, help="Frames also read by the packaged OCR; default ocr.eval."),
    scenes: Path = typer.Option(None, help="Frozen scene sets (`cargoscan ocr-scenes`), benchmarked too."),
    params: Path = typer.Option(Path("params.yaml"), help="Parameter file."),
    profile: str = typer.Option(None, help="Parameter profile."),
) -> None:
    """Accuracy of OCR alone, after RFID fusion and of the packaged baseline on a held-out split."""
    from cargoscan.ocr.evaluate import evaluate, evaluate_scene_sets, make_heldout

    p = _params(params, profile)
    if frames is None:
        frames, rfid = make_heldout(Path("data/ocr/heldout"), p)
    n_base = p.eval.baseline_frames if baseline is None else baseline
    metrics = evaluate(frames, rfid, model or Path(p.model_dir), p, n_base)
    if scenes is not None:
        metrics["scenes"] = evaluate_scene_sets(scenes, model or Path(p.model_dir), p)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("OCR metrics -> %s: %s", out, metrics)


def register(app: typer.Typer) -> None:
    """Add the identification commands to the ``cargoscan`` app."""
    app.command("frames")(frames_cmd)
    app.command("identify")(identify_cmd)
    app.command("ocr-train")(train_cmd)
    app.command("ocr-scenes")(scenes_cmd)
    app.command("ocr-eval")(eval_cmd)
