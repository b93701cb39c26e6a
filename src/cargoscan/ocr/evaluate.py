"""The held-out benchmark: accuracy of OCR alone, after RFID fusion, and of the packaged baseline.

Ground truth comes from ``frames.csv`` (contract E). Figures, per identifier (a wagon number or a container
code, read from all the frames the portal's cameras took of it):

- ``ocr_accuracy``: the OCR's accepted number equals the truth (unaccepted readings count as failures);
- ``frame_accuracy``: the same for each frame read alone (one camera);
- ``fused_accuracy_rfid_present``: over wagons with at least one RFID read, the fused number equals the truth;
- ``wrong_accepted``: accepted numbers (OCR alone or fused) that differ from the truth — the target is 0;
  ``wrong_cases`` lists each one (scope, frame file, view, layout, truth, reading) for a reviewer to look at;
- the status counts of the fused records, and frames/s of the OCR;
- ``rates``: each accuracy again with its count and Wilson 95 % interval, and per layout on the scene sets.

The frozen scene sets (:mod:`cargoscan.ocr.scenesets`: portal and hand-held geometry) are read the same way by
:func:`evaluate_scene_sets`.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections import Counter
from pathlib import Path

import numpy as np

from cargoscan.ocr.config import OcrParams
from cargoscan.scoring.intervals import rate

log = logging.getLogger(__name__)


def simulate_rfid(units: list[dict], rng: np.random.Generator, p_missing: float, p_corrupt: float) -> list[dict]:
    """RFID reader events for wagons: some tags unread, some payloads corrupted (one digit changed)."""
    rows = []
    for u in units:
        if not u.get("wagon_number") or rng.random() < p_missing:
            continue
        payload = u["wagon_number"]
        if rng.random() < p_corrupt:
            i = int(rng.integers(len(payload)))
            payload = payload[:i] + str((int(payload[i]) + int(rng.integers(1, 10))) % 10) + payload[i + 1:]
        rows.append({"read_at": "2025-02-18T17:47:02+06:00", "reader_id": "RFID-1",
                     "train_number": u["train_number"], "position": str(u["position"]), "tag_payload": payload})
    return rows


def write_rfid(path: Path, rows: list[dict]) -> None:
    """Write RFID events with the archive's column order."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["read_at", "reader_id", "train_number", "position", "tag_payload"])
        w.writeheader()
        w.writerows(rows)


def load_truth(frames_dir: Path) -> list[dict]:
    """The rows of ``frames.csv`` (one per frame)."""
    with (frames_dir / "frames.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _wrong(scope: str, row: dict, target: str, read: str) -> dict:
    """One wrong number accepted: where (one ``frame``, the ``ocr`` of all views, or ``fused`` with RFID), the
    frame it came from, the truth and the reading."""
    return {"scope": scope, "file": row["file"], "view": row["view"], "layout": row.get("layout", ""),
            "truth": target, "read": read}


def evaluate(frames_dir: str | Path, rfid_csv: str | Path | None, model_dir: str | Path,
             params: OcrParams = OcrParams(), baseline_frames: int = 0) -> dict:
    """Benchmark the OCR (and optionally the baseline) on a frames folder with ground truth.

    Args:
        frames_dir: frames and ``frames.csv``.
        rfid_csv: the RFID log of the same wagons (or None).
        model_dir: the exported OCR model.
        params: the ``ocr:`` parameters.
        baseline_frames: how many frames (the first ones) the packaged OCR also reads; 0 skips it.
    """
    import torch

    from cargoscan.ocr.fusion import OcrResult
    from cargoscan.ocr.identify import build_records, create_reader, read_frames, read_rfid

    torch.set_num_threads(2)
    frames_dir = Path(frames_dir)
    truth = load_truth(frames_dir)
    engine = create_reader(params.reader, model_dir, params)
    t0 = time.perf_counter()
    readings = read_frames(engine, frames_dir)
    fps = len(truth) / max(1e-9, time.perf_counter() - t0)   # frames read, all cameras
    rfid = read_rfid(rfid_csv)
    fused = {(r["train_number"], r["position"]): r for r in build_records(readings, rfid, {}, params.fusion)}

    ocr_ok, wrong_ocr, n = Counter(), Counter(), Counter()          # per identifier (all its views combined)
    frame_ok, wrong_frame, n_frame = Counter(), Counter(), Counter()  # per frame (one camera)
    fused_ok = fused_n = wrong_fused = 0
    statuses = Counter()
    layout_ok, by_layout = Counter(), Counter()                     # per frame, scene sets only
    wrong_cases: list[dict] = []                                    # every wrong number accepted, for review
    seen = set()
    for row in truth:
        key = (row["train_number"], int(row["position"]))
        kind = "wagon" if row["view"] == "side" else "container"
        target = row["wagon_number"] if kind == "wagon" else row["container_number"]
        r = readings.get(key, {})
        single = r.get("views", {}).get((row["view"], int(row.get("camera") or 1)))
        n_frame[kind] += 1
        frame_ok[kind] += bool(single and single.number == target)
        if single and single.number is not None and single.number != target:
            wrong_frame[kind] += 1
            wrong_cases.append(_wrong("frame", row, target, single.number))
        if row.get("layout"):
            by_layout[row["layout"]] += 1
            layout_ok[row["layout"]] += bool(single and single.number == target)
        if (key, row["view"]) in seen:
            continue
        seen.add((key, row["view"]))
        res: OcrResult | None = r.get("wagon") if kind == "wagon" else r.get("containers", {}).get(int(row["view"][4:]))
        n[kind] += 1
        number = res.number if res else None
        ocr_ok[kind] += number == target
        if number is not None and number != target:
            wrong_ocr[kind] += 1
            wrong_cases.append(_wrong("ocr", row, target, number))
        if kind == "wagon":
            rec = fused[key]["wagon"]
            statuses[rec["status"]] += 1
            if rec["number"] is not None and rec["number"] != target:
                wrong_fused += 1
                wrong_cases.append(_wrong("fused", row, target, rec["number"]))
            if any(p.strip() for p in rfid.get(key, [])):
                fused_n += 1
                fused_ok += rec["number"] == target
    total, frames = sum(n.values()), sum(n_frame.values())
    metrics = {
        "frames": frames, "identifiers": total, "frames_per_s": round(fps, 1),
        "cameras": max((int(r.get("camera") or 1) for r in truth), default=0),
        "ocr_accuracy": round(sum(ocr_ok.values()) / max(1, total), 4),
        "ocr_accuracy_wagon": round(ocr_ok["wagon"] / max(1, n["wagon"]), 4),
        "ocr_accuracy_container": round(ocr_ok["container"] / max(1, n["container"]), 4),
        "frame_accuracy_wagon": round(frame_ok["wagon"] / max(1, n_frame["wagon"]), 4),
        "frame_accuracy_container": round(frame_ok["container"] / max(1, n_frame["container"]), 4),
        "fused_accuracy_rfid_present": round(fused_ok / max(1, fused_n), 4), "wagons_with_rfid": fused_n,
        "wrong_accepted_ocr": int(sum(wrong_ocr.values())), "wrong_accepted_fused": int(wrong_fused),
        "wrong_accepted_frames": int(sum(wrong_frame.values())),
        "wagon_status": dict(statuses), "wrong_cases": wrong_cases,
    }
    metrics["reader"] = params.reader
    metrics["rates"] = {
        **{f"ocr_{kind}": rate(ocr_ok[kind], n[kind], "accuracy") for kind in n},
        **{f"frame_{kind}": rate(frame_ok[kind], n_frame[kind], "accuracy") for kind in n_frame},
        "fused_wagon_rfid_present": rate(fused_ok, fused_n, "accuracy"),
        **{f"frame_layout_{lay}": rate(k, by_layout[lay], "accuracy") for lay, k in layout_ok.items()},
    }
    if baseline_frames:
        metrics["baseline"] = evaluate_baseline(frames_dir, truth[:baseline_frames], readings)
    return metrics


def evaluate_scene_sets(sets_dir: str | Path, model_dir: str | Path, params: OcrParams = OcrParams()) -> dict:
    """:func:`evaluate` on each frozen scene set under ``sets_dir`` (one folder per geometry), with its identity."""
    out = {}
    for folder in sorted(p for p in Path(sets_dir).iterdir() if (p / "version.json").exists()):
        metrics = evaluate(folder, folder / "rfid.csv", model_dir, params)
        metrics["set"] = json.loads((folder / "version.json").read_text(encoding="utf-8"))
        out[folder.name] = metrics
    if not out:
        raise FileNotFoundError(f"{sets_dir}: no scene sets (run `cargoscan ocr-scenes`)")
    return out


def evaluate_baseline(frames_dir: Path, rows: list[dict], readings: dict) -> dict:
    """The packaged OCR and ours on the same frames."""
    from cargoscan.ocr.baseline import BaselineOcr
    from cargoscan.ocr.identify import load_frame

    try:
        base = BaselineOcr()
    except RuntimeError as exc:   # the optional extra is not installed: say so in the metrics, don't fail
        log.warning("baseline skipped: %s", exc)
        return {"skipped": str(exc)}
    ok, ours, n = Counter(), Counter(), Counter()
    wrong = 0
    t0 = time.perf_counter()
    for row in rows:
        kind = "wagon" if row["view"] == "side" else "container"
        target = row["wagon_number"] if kind == "wagon" else row["container_number"]
        res = base.read(load_frame(frames_dir / row["file"]), kind)
        n[kind] += 1
        ok[kind] += res.number == target
        wrong += res.number is not None and res.number != target
        key = (row["train_number"], int(row["position"]))
        mine = readings.get(key, {}).get("views", {}).get((row["view"], int(row.get("camera") or 1)))
        ours[kind] += bool(mine and mine.number == target)   # frame for frame: one camera, as the baseline reads
    out = {"frames": len(rows), "accuracy": round(sum(ok.values()) / max(1, len(rows)), 4), "wrong_accepted": wrong,
           "ours_accuracy_same_frames": round(sum(ours.values()) / max(1, len(rows)), 4),
           "frames_per_s": round(len(rows) / max(1e-9, time.perf_counter() - t0), 2)}
    for kind in n:
        out[f"accuracy_{kind}"] = round(ok[kind] / n[kind], 4)
        out[f"ours_accuracy_{kind}"] = round(ours[kind] / n[kind], 4)
    return out


def make_heldout(out_dir: str | Path, params: OcrParams = OcrParams()) -> tuple[Path, Path]:
    """Render a held-out frames folder and its RFID log from identities of the eval seed (no archive needed)."""
    from cargoscan.ocr.frames import synthetic_units, write_frames

    out_dir = Path(out_dir)
    rng = np.random.default_rng(params.eval.seed)
    units = synthetic_units(params.eval.n_wagons, rng)
    frames = out_dir / "frames"
    write_frames(frames, units, rng, params.frames)
    rfid = out_dir / "rfid.csv"
    write_rfid(rfid, simulate_rfid(units, rng, params.eval.p_rfid_missing, params.eval.p_rfid_corrupt))
    return frames, rfid
