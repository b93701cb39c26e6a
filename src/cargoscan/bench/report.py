"""``reports/benchmark.json``: the benchmark's rates, each with its count and Wilson 95 % interval.

Populations: *threat* wagons hold a labelled threat instance; *clean* wagons hold none and every declaration of
theirs is honest (``truth.csv``); any other wagon (no threat, a dishonest declaration) is counted in
``n_excluded`` and nowhere else. The wagon's threat decision is the engine's ``wagon_score.over`` at the operating
point sealed into the artifact; the overall decision is ``suspicious`` («под подозрением»).

Every rate has one shape, that of :func:`cargoscan.scoring.intervals.rate`: ``{"n", "k", "<name>", "ci95"}``
where ``<name>`` is the rate's name (``detection_rate``, ``false_alarm_rate``, ``hit_rate``, ...) and ``ci95`` the
Wilson interval. A group of wagons (``detection.per_class.drugs``, ``detection.visible``) *is* such a dict; a key
named for a rate (``detection.operating_point.detection_rate``, ``localisation.hit_rate``) *holds* one. The AUROC
is computed on the raw wagon score (calibration is monotone, and isotonic steps would only add ties), with a
stratified bootstrap interval; calibration (ECE and the reliability table) on the calibrated probability.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cargoscan.scoring.calibration import expected_calibration_error
from cargoscan.scoring.intervals import bootstrap_auroc, rate, wilson

#: Wagon columns whose ";"-joined values each form a group.
LIST_COLUMNS = ("threat_classes", "sites")


def _flag(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype(str).str.lower().isin(("true", "1")) if df[col].dtype == object else df[col].astype(bool)


def _rate(flags: pd.Series, key: str) -> dict[str, Any]:
    return rate(int(flags.sum()), int(len(flags)), key)


def group_rates(df: pd.DataFrame, col: str, flag: str, key: str) -> dict[str, dict[str, Any]]:
    """``{group: rate}`` of ``flag`` among ``df``'s wagons per value of ``col`` (each value of a ";" list)."""
    if df.empty:
        return {}
    values = df[col].fillna("").astype(str)
    groups = values.str.split(";").explode() if col in LIST_COLUMNS else values
    out = {}
    for name in sorted(set(groups) - {""}):
        members = groups[groups == name].index.unique()
        out[name] = _rate(df.loc[members, flag], key)
    return out


def reliability(prob: np.ndarray, positive: np.ndarray, bins: int) -> list[dict[str, Any]]:
    """Per equal-width probability bin: wagons, mean probability, observed threat share with its Wilson interval."""
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        sel = idx == b
        n, k = int(sel.sum()), int(positive[sel].sum())
        rows.append({"bin": [b / bins, (b + 1) / bins], "n": n, "k": k,
                     "mean_probability": float(prob[sel].mean()) if n else None,
                     "observed_rate": k / n if n else None, "ci95": list(wilson(k, n))})
    return rows


def timing(df: pd.DataFrame, wall_s: float | None, workers: int) -> dict[str, Any]:
    """Seconds per wagon: measured now for the wagons inspected in this run, else the stored engine timings."""
    fresh = df.loc[df["status"] == "inspected", "seconds"].astype(float).dropna()
    sec = fresh if len(fresh) else df["seconds"].astype(float).dropna()
    out = {"source": "this run" if len(fresh) else "stored engine timings", "n": int(len(sec)),
           "mean": float(sec.mean()) if len(sec) else None, "median": float(sec.median()) if len(sec) else None,
           "p95": float(sec.quantile(0.95)) if len(sec) else None, "workers": workers, "wall_s": wall_s}
    if wall_s and len(fresh):
        out["wall_s_per_wagon"] = wall_s / len(fresh)
    return out


def build_report(scores: pd.DataFrame, artifact: dict[str, Any] | None = None, target_far: float = 0.01,
                 cnr_visible: float = 2.0, n_boot: int = 2000, bins: int = 10, seed: int = 0,
                 wall_s: float | None = None, workers: int = 1) -> dict[str, Any]:
    """The benchmark's metrics from the per-wagon score table of :func:`cargoscan.bench.score.score_archive`."""
    df = scores.reset_index(drop=True).copy()
    for col in ("has_threat", "clean", "over", "suspicious", "complete", "hit"):
        df[col] = _flag(df, col)
    threat, clean = df[df["has_threat"]], df[df["clean"]]
    both = df[df["has_threat"] | df["clean"]]
    raw = both["score"].astype(float).fillna(np.inf).to_numpy()         # never scored: ranked as the highest
    auc, lo, hi = bootstrap_auroc(raw, both["has_threat"].to_numpy(), n_boot=n_boot, seed=seed)
    thresholds = sorted({float(t) for t in df["threshold"].astype(float).dropna()})
    visible = threat[threat["max_cnr"].astype(float) >= cnr_visible]
    detected = threat[threat["over"]]
    prob = both["probability"].astype(float).to_numpy()
    reasons = Counter(c for codes in clean.loc[clean["suspicious"], "reason_codes"].fillna("")
                      for c in str(codes).split(";") if c)
    art = artifact or {}
    return {
        "n_wagons": int(len(df)), "n_clean": int(len(clean)), "n_threat": int(len(threat)),
        "n_excluded": int(len(df) - len(both)), "n_incomplete": int((~df["complete"]).sum()),
        "n_unscored": int(df["score"].astype(float).isna().sum()),
        "artifact": {k: art.get(k) for k in ("name", "version", "wagon_threshold")}
        | {"calibrated": bool(art.get("calibration")), "target_far": (art.get("extra") or {}).get("target_far")},
        "detection": {
            "auroc": {"value": None if math.isnan(auc) else auc, "ci95": [lo, hi], "n_boot": n_boot,
                      "on": "raw wagon score", "n_threat": int(len(threat)), "n_clean": int(len(clean))},
            "operating_point": {
                "threshold": thresholds[0] if len(thresholds) == 1 else thresholds or None,
                "target_far": target_far,
                "detection_rate": _rate(threat["over"], "detection_rate"),
                "false_alarm_rate": _rate(clean["over"], "false_alarm_rate")},
            "visible": _rate(visible["over"], "detection_rate"),
            "per_class": group_rates(threat, "threat_classes", "over", "detection_rate"),
            "per_site": group_rates(threat, "sites", "over", "detection_rate"),
            "per_wagon_type": group_rates(threat, "wagon_type", "over", "detection_rate"),
            "per_category": group_rates(threat, "category", "over", "detection_rate")},
        "false_alarms": {
            "rate": _rate(clean["over"], "false_alarm_rate"),
            "per_wagon_type": group_rates(clean, "wagon_type", "over", "false_alarm_rate"),
            "per_category": group_rates(clean, "category", "over", "false_alarm_rate")},
        "visibility": {
            "cnr_visible": cnr_visible, "measured": int(threat["max_cnr"].astype(float).notna().sum()),
            "visible_share": _rate(threat["max_cnr"].astype(float) >= cnr_visible, "visible_share"),
            "per_class": group_rates(threat.assign(visible=threat["max_cnr"].astype(float) >= cnr_visible),
                                     "threat_classes", "visible", "visible_share")},
        "localisation": {"hit_rate": _rate(detected["hit"], "hit_rate"),
                         "rule": "a risk area's bbox_px overlaps a labelled threat instance's bbox"},
        "calibration": {"ece": expected_calibration_error(prob, both["has_threat"].to_numpy(), bins) if len(both)
                        else None, "bins": bins, "calibrated": bool(art.get("calibration")),
                        "reliability": reliability(prob, both["has_threat"].to_numpy(), bins)},
        "decision": {"clean_red_rate": _rate(clean["suspicious"], "red_rate"),
                     "threat_red_rate": _rate(threat["suspicious"], "red_rate"),
                     "clean_red_reasons": dict(reasons.most_common())},
        "seconds_per_wagon": timing(df, wall_s, workers)["mean"],
        "timing": timing(df, wall_s, workers),
    }


def artifact_config(artifact_dir: str | Path) -> dict[str, Any] | None:
    """The exported model's ``config.json`` as a dict (None when absent)."""
    path = Path(artifact_dir) / "config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_report(report: dict[str, Any], scores: pd.DataFrame, json_path: str | Path, csv_path: str | Path
                 ) -> tuple[Path, Path]:
    """Write the metrics JSON (NaN as null) and the per-wagon CSV."""
    json_path, csv_path = Path(json_path), Path(csv_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path.parent.mkdir(parents=True, exist_ok=True)

    def clean_nan(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean_nan(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean_nan(x) for x in v]
        if isinstance(v, (float, np.floating)):
            return None if not math.isfinite(float(v)) else float(v)
        if isinstance(v, np.integer):
            return int(v)
        return v

    json_path.write_text(json.dumps(clean_nan(report), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    scores.to_csv(csv_path, index=False, float_format="%.6g")
    return json_path, csv_path
