"""The operating point of the exported model: calibration and threshold on a validation archive of its own.

The test split of the training archive holds a few dozen wagons: at 1 % false alarms its threshold would rest on
no alarm at all. So export scores a separate validation archive (``bench-synth``'s ``data/bench/val``: its own
seed, hundreds of clean wagons, never trained on) with the exported artifact **through the engine's code path**
(:meth:`cargoscan.inspect.engine.Inspector.threat_score`: the same tiling, channels and wagon score that
deployment computes), then

* fits the calibrator of the wagon score (:func:`cargoscan.scoring.calibration.fit_calibrator`: isotonic on
  enough wagons, else Platt), so that a probability of 0.8 means a threat four times in five;
* chooses the wagon threshold for ``target_far`` false alarms on its clean wagons
  (:func:`cargoscan.scoring.wagon.threshold_for_far`).

Both go into ``config.json``, sealed under the model's hash; the benchmark then measures them on its own test
archive. Without a validation archive the evaluate stage's threshold (training's val split) is kept, and the
config says so.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.archive import ArchivePaths
from cargoscan.archive.classes import load_classes
from cargoscan.logs import progress
from cargoscan.scoring import fit_calibrator, rate
from cargoscan.scoring.wagon import threshold_for_far

log = logging.getLogger(__name__)

_INSPECTOR = None


def has_threat(root: Path, scan_id: str) -> bool:
    """Whether the scan's labels hold an instance of a threat class."""
    threats = {c.name for c in load_classes() if c.threat}
    doc = json.loads(ArchivePaths(root).label_json(scan_id).read_text(encoding="utf-8"))
    return any(inst.get("class") in threats for inst in doc.get("instances", []))


def _init(artifact: str) -> None:
    global _INSPECTOR
    from cargoscan.inspect.config import InspectParams
    from cargoscan.inspect.engine import Inspector

    _INSPECTOR = Inspector.load(artifact, InspectParams(threads=1, references_dir="", timeout_s=0))


def _score(path: str) -> float:
    try:
        return float(_INSPECTOR.threat_score(path))
    except Exception as exc:      # a wagon that cannot be scored counts as alarming (fail closed)
        log.warning("%s: not scored (%s)", path, exc)
        return float("nan")


def score_archive(artifact: Path, root: Path, workers: int = 2) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw wagon scores and threat truth of every scan of an archive, by the engine in ``workers`` processes."""
    import multiprocessing as mp

    ids = ArchivePaths(root).scan_ids()
    paths = [str(ArchivePaths(root).scan_tiff(s)) for s in ids]
    scores = []
    ctx = mp.get_context("forkserver")
    with ProcessPoolExecutor(max(1, workers), mp_context=ctx, initializer=_init, initargs=(str(artifact),)) as ex, \
            progress() as bar:
        task = bar.add_task(f"calibrate on {root}", total=len(paths))
        for s in ex.map(_score, paths, chunksize=4):
            scores.append(s)
            bar.advance(task)
    truth = np.array([has_threat(root, s) for s in ids])
    return np.asarray(scores, np.float64), truth, ids


def operating_point(scores: np.ndarray, positive: np.ndarray, target_far: float) -> dict[str, Any]:
    """Calibrator and threshold from validation scores, with the rates they give on that archive."""
    ok = np.isfinite(scores)
    s, y = scores[ok], positive[ok]
    threshold = min(1.0, threshold_for_far(s[~y], target_far))
    cal = fit_calibrator(s, y)
    alarm = s >= threshold
    return {"threshold": threshold, "calibration": cal.to_dict(),
            "val": {"n_clean": int((~y).sum()), "n_threat": int(y.sum()), "unscored": int((~ok).sum()),
                    "false_alarm_rate": rate(int(alarm[~y].sum()), int((~y).sum())),
                    "detection_rate": rate(int(alarm[y].sum()), int(y.sum()))}}
