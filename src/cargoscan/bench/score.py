"""Score an archive through the deployment engine: one row per wagon, the truth beside what the engine said.

Every scan goes through exactly what deployment runs, ``Inspector.load(artifact_dir, params)`` then
``inspector.inspect(scan_path, declaration_rows)`` with the archive's own ``declarations.csv`` (read as
``cargoscan inspect-archive`` reads it), in ``workers`` processes with one engine thread each; the engine batches
the tiles itself. Each inspection is kept as ``<out_dir>/<scan_id>.json``; a rerun skips a scan whose stored
inspection is complete and matches the scan's and the model's hashes (the rule of :mod:`cargoscan.inspect.batch`).

Read from the inspection (``Inspection.to_dict()``): ``wagon_score`` — ``score`` (raw), ``probability``
(calibrated; the raw score for an artifact without calibration), ``threshold`` and ``over``, the wagon's threat
decision at the sealed operating point — the overall decision ``suspicious`` with its reason codes, and the risk
areas (class, score, ``bbox_px``). An analysis that failed has no wagon score: it counts as over the threshold
with probability 1, as the engine treats a score it could not compute (fail closed).

Read from the labels (never seen by the engine): wagon type, cargo category, the threat instances' classes, sites
and boxes, and how visible each threat region is at the scanner's own pitch (:func:`max_cnr`).
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from cargoscan.archive import ArchivePaths, read_json, read_labels, read_scan, read_table
from cargoscan.archive.classes import class_names, threat_ids
from cargoscan.inspect.config import InspectParams

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["scan_id", "wagon_type", "category", "has_threat", "honest", "clean", "threat_classes", "sites",
                 "score", "probability", "threshold", "over", "suspicious", "complete", "reason_codes",
                 "risk_areas", "n_risk_areas", "hit", "max_cnr", "cnr_a_high", "cnr_ratio", "seconds", "status"]
#: Width of the band around a threat region its contrast is measured against (as :mod:`cargoscan.data.visibility`).
RING_PX = 4

_STATE: dict[str, Any] = {}


class BenchError(RuntimeError):
    """The benchmark cannot measure anything: e.g. the model artifact does not load (every wagon would fail closed)."""


def max_cnr(image: np.ndarray, mask: np.ndarray, ring_px: int = RING_PX) -> tuple[float, float]:
    """The highest contrast-to-noise of any threat region of a scan, in A_high and in the dual-energy ratio.

    Measured at the scanner's native pitch: the channels of :func:`cargoscan.data.channels.input_channels` without
    resampling, each connected region of a threat class against the band around it, by
    :func:`cargoscan.data.visibility.region_contrast`. NaN where no region can be measured.
    """
    from scipy import ndimage as ndi

    from cargoscan.data.channels import input_channels
    from cargoscan.data.visibility import region_contrast

    best = [math.nan, math.nan]
    present = [c for c in threat_ids() if (mask == c).any()]
    if not present:
        return best[0], best[1]
    chans = input_channels(image, names=("a_high", "ratio"))
    for c in present:
        labels, _ = ndi.label(mask == c)
        for i, box in enumerate(ndi.find_objects(labels), start=1):
            win = tuple(slice(max(0, b.start - ring_px - 2), b.stop + ring_px + 2) for b in box)
            cnr = region_contrast(chans[(slice(None), *win)], mask[win], labels[win] == i, [0, 1], ring_px)
            if cnr is not None:
                best = [v if math.isnan(b) else max(b, v) for b, v in zip(best, cnr)]
    return best[0], best[1]


def overlaps(box: list[int], other: list[int]) -> bool:
    """Whether two ``[x0, y0, x1, y1]`` boxes (exclusive ends) share a pixel."""
    return box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]


def label_truth(root: Path, scan_id: str, with_mask: bool) -> tuple[dict[str, Any], list[list[int]], Any]:
    """A wagon's truth from its label file: type, category, threat classes and sites; the threat boxes; the mask."""
    paths = ArchivePaths(root)
    if with_mask:
        mask, doc = read_labels(root, scan_id)
    else:
        mask, doc = None, read_json(paths.label_json(scan_id))
    names = {class_names()[i] for i in threat_ids()}
    inst = [i for i in doc.get("instances", []) if i["class"] in names]
    truth = {"scan_id": scan_id, "wagon_type": doc.get("wagon_type") or "", "category": doc.get("cargo_category")
             or "empty", "has_threat": bool(inst), "threat_classes": ";".join(sorted({i["class"] for i in inst})),
             "sites": ";".join(sorted({i["site"] for i in inst}))}
    return truth, [list(i["bbox"]) for i in inst], mask


def wagon_row(doc: dict[str, Any], truth: dict[str, Any], boxes: list[list[int]], cnr: tuple[float, float],
              seconds: float, status: str) -> dict[str, Any]:
    """One row of the score table from an inspection document and the wagon's truth."""
    ws = doc.get("wagon_score") or {}
    scored = ws.get("score") is not None
    score = float(ws["score"]) if scored else math.nan
    prob = float(ws.get("probability", score)) if scored else 1.0        # fail closed: never scored is over
    areas = [{"class": a.get("class"), "score": a.get("score"), "bbox_px": a.get("bbox_px")}
             for a in doc.get("risk_areas") or []]
    hit = any(overlaps(a["bbox_px"], b) for a in areas if a["bbox_px"] for b in boxes)
    return {**truth, "score": score, "probability": prob, "threshold": ws.get("threshold", math.nan),
            "over": bool(ws.get("over", True)) if scored else True, "suspicious": bool(doc.get("suspicious", True)),
            "complete": bool(doc.get("complete", False)),
            "reason_codes": ";".join(r.get("code", "") for r in doc.get("reasons") or []),
            "risk_areas": json.dumps(areas, ensure_ascii=False), "n_risk_areas": len(areas), "hit": hit,
            "max_cnr": max((v for v in cnr if not math.isnan(v)), default=math.nan), "cnr_a_high": cnr[0],
            "cnr_ratio": cnr[1], "seconds": seconds, "status": status}


def _load_inspector(artifact_dir: str, params: InspectParams):
    from cargoscan.inspect.engine import Inspector

    return Inspector.load(artifact_dir, params)


def _init(root: str, out_dir: str, artifact_dir: str, params: InspectParams, factory: Callable | None) -> None:
    """Worker set-up: one engine (one thread) and the archive's declaration rows, as ``inspect-archive`` reads them."""
    from cargoscan.inspect.declarations import read_declaration_file

    decl = ArchivePaths(Path(root)).table("declarations.csv")
    _STATE.update(root=Path(root), out=Path(out_dir), rows=read_declaration_file(decl) if decl.exists() else None,
                  inspector=(factory or _load_inspector)(artifact_dir, params))


def _score_one(scan_id: str) -> dict[str, Any]:
    """Inspect one scan (or reuse its finished inspection) and build its row (run in a worker)."""
    from cargoscan.inspect.batch import finished

    root, inspector = _STATE["root"], _STATE["inspector"]
    scan, target = ArchivePaths(root).scan_tiff(scan_id), _STATE["out"] / f"{scan_id}.json"
    doc = finished(scan, target, inspector.model_sha)
    if doc is not None:
        status = "skipped"
        seconds = sum(((doc.get("provenance") or {}).get("timings_ms") or {}).values()) / 1000.0 or math.nan
    else:
        t0 = time.perf_counter()
        result = inspector.inspect(scan, _STATE["rows"])          # never raises: fails closed
        seconds, status = time.perf_counter() - t0, "inspected"
        target.write_text(result.to_json(), encoding="utf-8")
        doc = result.to_dict()
    truth, boxes, mask = label_truth(root, scan_id, with_mask=True)
    cnr = max_cnr(read_scan(scan), mask) if truth["has_threat"] else (math.nan, math.nan)
    return wagon_row(doc, truth, boxes, cnr, seconds, status)


def honesty(root: Path) -> dict[str, bool]:
    """Per scan: every consignment's declaration honest (``truth.csv`` mismatch ``none``); empty without truth."""
    path = ArchivePaths(root).table("truth.csv")
    if not path.exists():
        return {}
    out: dict[str, bool] = {}
    for r in read_table(path):
        out[r["scan_id"]] = out.get(r["scan_id"], True) and r.get("mismatch", "none") in ("none", "")
    return out


def score_archive(artifact_dir: str | Path, archive_root: str | Path, inspect_params: InspectParams,
                  workers: int = 2, out_dir: str | Path | None = None, limit: int = 0,
                  inspector_factory: Callable | None = None, show_progress: bool = True) -> pd.DataFrame:
    """Run the deployment engine over every scan of an archive; one row per wagon (:data:`SCORE_COLUMNS`).

    Args:
        artifact_dir: the exported model.
        archive_root: the archive (``scans/``, ``labels/``, ``declarations.csv``, ``truth.csv``).
        inspect_params: the ``inspect:`` parameters; each worker's engine runs one thread.
        workers: processes (1: in this process).
        out_dir: where each inspection JSON is kept (default ``<archive_root>/inspections``).
        limit: only the first N scans (0 = all).
        inspector_factory: ``(artifact_dir, params) -> inspector`` (tests); default ``Inspector.load``.
    """
    from cargoscan.logs import progress

    root = Path(archive_root)
    out = Path(out_dir) if out_dir else root / "inspections"
    out.mkdir(parents=True, exist_ok=True)
    ids = ArchivePaths(root).scan_ids()[: limit or None]
    params = replace(inspect_params, threads=1)
    init = (str(root), str(out), str(artifact_dir), params, inspector_factory)
    rows: list[dict[str, Any]] = []
    log.info("scoring %d scans of %s with %s (%d worker(s))", len(ids), root, artifact_dir, workers)
    with progress() as bar:
        task = bar.add_task("benchmark", total=len(ids), visible=show_progress)
        if workers <= 1:
            _init(*init)
            for sid in ids:
                rows.append(_score_one(sid))
                bar.advance(task)
        else:
            # forkserver: workers never inherit the progress bar's thread (or a lock it holds) through fork
            ctx = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init, initargs=init) as ex:
                for row in ex.map(_score_one, ids, chunksize=2):
                    rows.append(row)
                    bar.advance(task)
    df = pd.DataFrame(rows, columns=[c for c in SCORE_COLUMNS if c not in ("honest", "clean")])
    honest = honesty(root)         # no truth.csv: nothing says a declaration lies
    df["honest"] = [honest.get(s, True) for s in df["scan_id"]]
    df["clean"] = ~df["has_threat"].astype(bool) & df["honest"]
    return df[SCORE_COLUMNS]
