"""The operating point of the exported model: calibration and threshold on a validation archive of its own.

The test split of the training archive holds a few dozen wagons: at 1 % false alarms its threshold would rest on
no alarm at all. So export scores a separate validation archive (``bench-synth``'s ``data/bench/val``: its own
seed, hundreds of clean wagons, never trained on) with the exported artifact **through the deployment engine**
(the benchmark's :func:`cargoscan.bench.score.score_archive`: full inspections with the archive's declarations,
the same tiling, channels, wagon score and checks that deployment runs), then

* fits the calibrator of the wagon score (:func:`cargoscan.scoring.calibration.fit_calibrator`: isotonic on
  enough wagons, else Platt), so that a probability of 0.8 means a threat four times in five;
* chooses the wagon threshold for ``target_far`` false alarms on its clean wagons
  (:func:`cargoscan.scoring.wagon.threshold_for_far`);
* fits the mass calibration per category (:mod:`cargoscan.inspect.mass_calibration`) on its clean wagons'
  weighed units, and re-judges every wagon's mass evidence out of fold (five folds, as the fusion below);
* fits the cargo category's fusion of the head and the load's physics (:mod:`cargoscan.inspect.fusion`) on its
  wagons of one true category (``truth.csv``), and gives every wagon its cargo evidence *out of fold* (five folds:
  no wagon judged by a fusion fitted on it), so the budget below sees the evidence deployment will;
* chooses the declaration checks' thresholds **jointly** (:mod:`cargoscan.scoring.budget`), so that honest
  clean wagons sent red for any reason, the threat alarm included, stay within ``export.decision_budget``.

All go into ``config.json``, sealed under the model's hash; the benchmark then measures them on its own test
archive. Without a validation archive the evaluate stage's threshold (training's val split) is kept, and the
config says so.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cargoscan.scoring import fit_calibrator, rate
from cargoscan.scoring.budget import BUDGET_CHECKS, flags, joint_thresholds
from cargoscan.scoring.wagon import threshold_for_far

log = logging.getLogger(__name__)

def _evidence(doc: dict[str, Any], check: str) -> float:
    """A budgeted check's evidence from its block of the inspection (``cargo``, ``mass``, ``material``)."""
    value = (doc.get(check) or {}).get("evidence")
    return float(value) if value is not None else float("nan")


def inspect_archive(artifact: Path, root: Path, inspect_params=None, workers: int = 2) -> pd.DataFrame:
    """Every scan of a validation archive through the deployment engine, with its declarations (the benchmark's
    own :func:`cargoscan.bench.score.score_archive`): one row per wagon with the raw wagon ``score``, the truth
    (``has_threat``, ``honest``, ``clean``) and each budgeted check's ``evidence_<check>``. The artifact's
    decision thresholds play no part: evidence does not depend on them."""
    import tempfile

    from cargoscan.bench.score import score_archive
    from cargoscan.inspect.config import InspectParams

    # No reference library exists yet (it is built from the exported model): its check is advisory anyway.
    params = dataclasses.replace(inspect_params or InspectParams(), references_dir="")
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        df = score_archive(artifact, root, params, workers, tmp, show_progress=True)
        docs = {}
        for sid in df["scan_id"]:
            f = Path(tmp) / f"{sid}.json"
            docs[sid] = json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}
    for check in BUDGET_CHECKS:
        df[f"evidence_{check}"] = [_evidence(docs[s], check) for s in df["scan_id"]]
    df["doc"] = [docs[s] for s in df["scan_id"]]
    return df


#: The fewest units of known true category a fusion is fitted on; fewer: the head decides alone.
MIN_FUSION_UNITS = 60


def _truth_rows(root: Path):
    """(scan_id, unit, true category, true net kg) of each ``truth.csv`` row, the unit named as the engine names
    it (its container number, else the wagon number)."""
    from cargoscan.archive import ArchivePaths, read_table

    for row in read_table(ArchivePaths(root).table("truth.csv")):
        try:
            kg = float(row.get("true_net_weight_kg") or "nan")
        except ValueError:
            kg = float("nan")
        unit = row.get("container_number") or row.get("wagon_number") or ""
        yield row["scan_id"], unit, row.get("true_category") or "", kg


def true_units(root: Path) -> dict[tuple[str, str], str]:
    """(scan_id, unit) → the unit's one true category; and (scan_id, "") → the wagon's, for an inspection that
    judged the wagon as one unit, where all its units share one. A unit whose rows disagree is left out."""
    cats: dict[tuple[str, str], set[str]] = {}
    for scan_id, unit, cat, _ in _truth_rows(root):
        cats.setdefault((scan_id, unit), set()).add(cat)
        cats.setdefault((scan_id, ""), set()).add(cat)
    return {k: c.pop() for k, c in cats.items() if len(c) == 1 and "" not in c}


def wagon_folds(n: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Each of ``n`` wagons' fold for an out-of-fold fit: by wagon, so a wagon's units share one (the category
    fusion and the mass calibration draw the same folds)."""
    return np.random.default_rng(seed).integers(0, folds, n)


def category_fusion(df: pd.DataFrame, root: Path, head: list[str], p_rule: float, folds: int = 5, seed: int = 0
                    ) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """The fusion fitted on every unit of known true category (inspect.units.unit_records: the blocks the engine
    fuses per unit; its record for config.json), and each wagon's cargo evidence — its strongest unit's, as the
    engine takes it — from a fusion fitted without the wagon's fold; (None, None) when too few units or
    categories."""
    from cargoscan.inspect.declared import cargo_evidence
    from cargoscan.inspect.fusion import fit_fusion
    from cargoscan.inspect.units import judges_goods, unit_records

    truth = true_units(root)
    units = [(i, rec, declared, truth.get((df["scan_id"].iloc[i], name)))
             for i, doc in enumerate(df["doc"]) for name, rec, declared in unit_records(doc)]
    known = [k for k, u in enumerate(units) if u[3] is not None]
    if len(known) < MIN_FUSION_UNITS or len({units[k][3] for k in known}) < 2 or not head:
        log.warning("category fusion not fitted: %d units of known category (need %d, two categories)",
                    len(known), MIN_FUSION_UNITS)
        return None, None
    fold = wagon_folds(len(df), folds, seed)

    def fit(idx: list[int]):
        return fit_fusion([units[k][1] for k in idx], [units[k][3] for k in idx], head)

    full = fit(known)
    # a wagon the material check did not measure keeps the head's evidence, as the engine keeps the head for it
    evidence = (df["evidence_cargo"].to_numpy(np.float64).copy() if "evidence_cargo" in df
                else np.full(len(df), np.nan))
    fused: dict[int, list[float]] = {}
    for f in range(folds):
        model = fit([k for k in known if fold[units[k][0]] != f])
        for k, (i, rec, declared, true) in enumerate(units):
            if fold[i] != f:
                continue
            probs = (model if true is not None else full).probabilities(rec)
            mine = [c for c in set(declared) if c in probs]
            if mine and judges_goods(declared):      # as the engine: a unit declared empty raises none
                fused.setdefault(i, []).append(cargo_evidence(sum(probs[c] for c in mine), p_rule))
    for i, e in fused.items():
        evidence[i] = max(e)
    log.info("category fusion fitted on %d units of %d wagons (C = %g)", len(known),
             len({units[k][0] for k in known}), full.c)
    return {**full.to_dict(), "fitted_on": str(root), "n_units": len(known)}, evidence


def true_weights(root: Path) -> dict[tuple[str, str], tuple[str, float]]:
    """(scan_id, unit) → the unit's one true category and its true net weight (the sum of its rows); a unit whose
    rows disagree on the category, or without a weight, is left out."""
    rows: dict[tuple[str, str], tuple[set[str], float]] = {}
    for scan_id, unit, cat, kg in _truth_rows(root):
        cats, total = rows.get((scan_id, unit), (set(), 0.0))
        rows[(scan_id, unit)] = (cats | {cat}, total + kg)
    return {k: (c.pop(), kg) for k, (c, kg) in rows.items() if len(c) == 1 and "" not in c and np.isfinite(kg)}


def _unit_blocks(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [u for u in ((doc.get("mass") or {}).get("units") or []) if "net_read_kg" in u]


def mass_calibration(df: pd.DataFrame, root: Path, params, folds: int = 5, seed: int = 0
                     ) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """The mass calibration (:mod:`cargoscan.inspect.mass_calibration`) fitted on the clean wagons' weighed units
    of known true category (its record for config.json), and each wagon's mass evidence re-judged by a
    calibration fitted without the wagon's fold, as the engine will judge it; (None, None) when no category has
    enough units."""
    from cargoscan.inspect.mass_calibration import MassCalibration

    truth = true_weights(root)
    clean = df["clean"].to_numpy(bool) if "clean" in df else np.zeros(len(df), bool)
    keyed = [(i, (df["scan_id"].iloc[i], str(u.get("unit"))), u)
             for i, doc in enumerate(df["doc"]) if clean[i] for u in _unit_blocks(doc)]
    units = [(i, truth[key], u) for i, key, u in keyed if key in truth]

    def fit(keep) -> MassCalibration:
        return MassCalibration.fit((cat, u["net_read_kg"], u["sigma_measured_kg"], u["lower_bound_kg"], kg)
                                   for i, (cat, kg), u in units if keep(i))

    full = fit(lambda i: True)
    if not full.beta:
        log.warning("mass calibration not fitted: no category with enough clean units read at the dark level")
        return None, None
    fold = wagon_folds(len(df), folds, seed)
    evidence = (df["evidence_mass"].to_numpy(np.float64).copy() if "evidence_mass" in df
                else np.full(len(df), np.nan))
    for f in range(folds):
        cal = fit(lambda i: fold[i] != f)
        for i in np.flatnonzero(fold == f):
            evidence[i] = _judged_evidence(df["doc"].iloc[i], params, cal, evidence[i])
    log.info("mass calibration fitted on %s units: %s", sum(full.n.values()),
             {c: (full.beta[c], full.spread[c]) for c in full.beta})
    return {**full.to_dict(), "fitted_on": str(root)}, evidence


def _judged_evidence(doc: dict[str, Any], params, calibration, default: float) -> float:
    """A wagon's mass evidence with its blocks re-judged under ``calibration``: its strongest unit's where its
    units decided, else the wagon's own block's (as :meth:`DeclaredChecks._unit_material` takes it)."""
    from cargoscan.inspect.material import judge_mass, strongest_evidence

    mass = doc.get("mass") or {}
    blocks = [dict(b) for b in (_unit_blocks(doc) if mass.get("decided_by") == "units"
                                else [mass] if "net_read_kg" in mass else [])]
    for b in blocks:
        judge_mass(b, params, 1.0, calibration)
    e = strongest_evidence(blocks)
    return default if e is None else e


def decision_point(df: pd.DataFrame, threshold: float, budget: float, confidence: float | None = 0.95
                   ) -> dict[str, Any]:
    """The declaration checks' joint thresholds (:func:`cargoscan.scoring.budget.joint_thresholds`) for at most
    ``budget`` honest clean wagons red for any reason, the threat alarm's included, with one-sided
    ``confidence`` (the union's Wilson upper bound on these wagons; None: its observed rate)."""
    from statistics import NormalDist

    clean = df[df["clean"].astype(bool)]
    threat = (clean["score"].fillna(np.inf) >= threshold).to_numpy()
    evidence = {c: clean[f"evidence_{c}"].to_numpy(np.float64) for c in BUDGET_CHECKS}
    z = None if confidence is None else NormalDist().inv_cdf(confidence)
    jt = joint_thresholds(evidence, budget, already=threat, z=z)
    alarm = threat | flags(evidence, jt["thresholds"])
    return {**jt, "budget_total": budget, "confidence": confidence,
            "threat_false_alarm_rate": float(threat.mean()) if len(clean) else 0.0,
            "honest_clean_red_rate": rate(int(alarm.sum()), len(clean))}


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
