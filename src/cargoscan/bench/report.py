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
        | {"calibrated": bool(art.get("calibration")), "target_far": (art.get("extra") or {}).get("target_far"),
           "decision": (art.get("extra") or {}).get("decision")},     # the checks' sealed joint operating point
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


# --- issue 15: category, mass, mismatches and the decision budget; issue 14 §2: the scanner shift ------------------
#: The mismatch kinds with an AUROC, the score each is ranked by (the declaration table's column) and its sign.
MISMATCH_SCORES = {"wrong_goods": ("category_score", 1.0), "undeclared_goods": ("category_score", 1.0),
                   "weight_understated": ("difference_rel", 1.0), "weight_overstated": ("difference_rel", -1.0)}
#: Kinds reported by counts only.
COUNT_ONLY = ("package_count",)
NO_PREDICTION = "none"


def _bools(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    df = df.copy()
    for col in cols:
        if col in df:
            df[col] = _flag(df, col)
    return df


def _wagons(decl: pd.DataFrame) -> pd.DataFrame:
    """One row per wagon of a declaration table (the wagon-level columns are the same on each unit's row)."""
    return decl.drop_duplicates("scan_id", keep="first")


def _quantiles(values: pd.Series) -> dict[str, Any]:
    v = values.astype(float)
    v = v[np.isfinite(v)]
    q = {f"p{int(p * 100)}": (float(v.quantile(p)) if len(v) else None) for p in (0.5, 0.9, 0.99)}
    return {"n": int(len(v)), **q}


def _codes(series: pd.Series) -> list[list[str]]:
    return [[c for c in str(s).split(";") if c] for s in series.fillna("")]


def category_report(decl: pd.DataFrame) -> dict[str, Any]:
    """``category``: top-1 accuracy of the engine's cargo category against the truth, with its confusion table.

    Per unit where the inspection judges units, else per wagon (``level``). Counted: rows whose true category is
    one the head knows (a key of the inspections' ``probabilities``); a row the engine gave no category (a failed
    analysis) counts as wrong, predicted ``none``. An empty unit counts only when the head has ``empty``.
    """
    if decl.empty:
        return {"level": None, "accuracy": rate(0, 0, "accuracy"), "confusion": {}, "n_excluded": 0}
    head = {c for cs in decl["head_categories"].fillna("").astype(str) for c in cs.split(";") if c}
    rows = decl[decl["true_category"].fillna("") != ""]
    counted = rows[rows["true_category"].isin(head)] if head else rows.iloc[0:0]
    pred = counted["predicted"].fillna("").replace("", NO_PREDICTION)
    correct = pred == counted["true_category"]
    confusion: dict[str, dict[str, int]] = {}
    for t, p in zip(counted["true_category"], pred):
        confusion.setdefault(t, {})
        confusion[t][p] = confusion[t].get(p, 0) + 1
    return {"level": str(decl["level"].iloc[0]), "accuracy": _rate(correct, "accuracy"),
            "confusion": {t: dict(sorted(v.items())) for t, v in sorted(confusion.items())},
            "per_category": {t: rate(int(v.get(t, 0)), int(sum(v.values())), "accuracy")
                             for t, v in sorted(confusion.items())},
            "n_excluded": int(len(decl) - len(counted)),
            "rule": "top-1 category of the engine (cargo.predicted) = the true category; rows whose true category "
                    "the head does not know are excluded; no prediction counts as wrong"}


def mass_report(decl: pd.DataFrame) -> dict[str, Any]:
    """``mass``: the engine's net mass against ``truth.csv``'s on clean (no threat, honest) loaded units/wagons.

    ``abs_rel_error = |net_kg - true| / true``; ``coverage_2sigma``: the truth within ``net_kg ± 2 sigma_kg``;
    ``n_calibrated`` the units whose mass the artifact's calibration corrected, ``as_read`` the errors before. Rows
    without an estimate (a failed analysis) are counted in ``n_missing`` and left out of the figures.
    """
    d = _bools(decl, ("has_threat", "wagon_honest"))
    pop = d[~d["has_threat"] & d["wagon_honest"] & (d["true_net_kg"].astype(float) > 0)]
    est = pop[np.isfinite(pop["net_kg"].astype(float))]
    true = est["true_net_kg"].astype(float)
    err = (est["net_kg"].astype(float) - true) / true
    within = (est["net_kg"].astype(float) - true).abs() <= 2.0 * est["sigma_kg"].astype(float).fillna(0.0)
    read = ((est["net_read_kg"].astype(float) - true) / true).abs() if "net_read_kg" in est else err.abs()
    calibrated = est["calibrated"].astype(bool) if "calibrated" in est else pd.Series(False, index=est.index)
    return {"level": str(decl["level"].iloc[0]) if len(decl) else None, "n": int(len(est)),
            "n_calibrated": int(calibrated.sum()),
            "as_read": {"median_abs_rel_error": float(read.median()) if len(read) else None,
                        "p90_abs_rel_error": float(read.quantile(0.9)) if len(read) else None},
            "n_missing": int(len(pop) - len(est)),
            "median_abs_rel_error": float(err.abs().median()) if len(err) else None,
            "p90_abs_rel_error": float(err.abs().quantile(0.9)) if len(err) else None,
            "median_rel_error": float(err.median()) if len(err) else None,
            "within_10pct": _rate(err.abs() <= 0.10, "share"),
            "coverage_2sigma": _rate(within, "coverage"),
            "on": "clean loaded units of the test archive (truth.csv true_net_weight_kg)"}


def mismatch_report(decl: pd.DataFrame, understated_min: float = 0.10, n_boot: int = 2000, seed: int = 0
                    ) -> dict[str, Any]:
    """``mismatch``: per injected kind, the AUROC of its score against the honest rows, with a bootstrap interval,
    and how many positives the engine sent red (``detection_rate``), with the reason codes they got.

    Positives of a kind: rows (units, or wagons) holding it; ``weight_understated`` only where the declared net
    mass lies at least ``understated_min`` below the truth. Negatives: honest rows; for the weight kinds only
    loaded ones (an empty unit declares no weight to misstate). Scores: ``1 - P(declared category)`` for wrong and
    undeclared goods, ``mass.difference_rel`` (understated: as it is; overstated: negated). A row without a score
    (a failed analysis) ranks highest, as the engine fails closed. Package counts: counts only.
    """
    d = _bools(decl, ("honest", "suspicious", "failed"))
    out: dict[str, Any] = {"level": str(d["level"].iloc[0]) if len(d) else None,
                           "understated_min": understated_min, "n": int(len(d)),
                           "honest": {"n": int(d["honest"].sum()),
                                      "suspicious_rate": _rate(d.loc[d["honest"], "suspicious"], "red_rate")}}
    kinds = d["mismatch"].fillna("").astype(str).str.split(";")
    for kind in (*MISMATCH_SCORES, *COUNT_ONLY):
        has = kinds.apply(lambda ks, k=kind: k in ks)
        if kind == "weight_understated":
            has &= d["understatement"].astype(float).fillna(0.0) >= understated_min
        pos = d[has]
        reasons = Counter(c for cs in _codes(pos.loc[pos["suspicious"], "reason_codes"]) for c in cs)
        entry: dict[str, Any] = {"n": int(len(pos)), "detection_rate": _rate(pos["suspicious"], "detection_rate"),
                                 "reasons": dict(reasons.most_common())}
        if kind in MISMATCH_SCORES:
            col, sign = MISMATCH_SCORES[kind]
            neg = d[d["honest"]]
            if col == "difference_rel":
                neg = neg[neg["true_net_kg"].astype(float) > 0]
            both = pd.concat([pos, neg])
            score = sign * both[col].astype(float)
            auc, lo, hi = bootstrap_auroc(score.fillna(np.inf).to_numpy(), np.r_[np.ones(len(pos), bool),
                                          np.zeros(len(neg), bool)], n_boot=n_boot, seed=seed)
            entry["auroc"] = {"value": None if math.isnan(auc) else auc, "ci95": [lo, hi], "n_boot": n_boot,
                              "n_positive": int(len(pos)), "n_negative": int(len(neg)),
                              "n_unscored": int(both[col].astype(float).isna().sum()),
                              "score": ("1 - P(declared category)" if col == "category_score" else
                                        ("" if sign > 0 else "-") + "mass.difference_rel")}
        out[kind] = entry
    return out


def decision_extra(decl_test: pd.DataFrame, decl_mismatch: pd.DataFrame | None) -> dict[str, Any]:
    """The decision budget of issue 15: honest clean wagons sent red, per reason and per check; mismatches caught.

    The budget's population is the test archive's clean wagons (no threat; every declaration there is honest)
    whose analysis did not fail; failures (``ANALYSIS_FAILED_*``, or a check that did not run) are counted apart,
    in ``clean_honest_failures``, and stay «под подозрением». ``clean_honest_by_check.<check>``: how many budget
    wagons each check flags (``flagged``) and how many it *alone* sends red (``alone``: no other check flagged
    them, so making that check advisory would clear exactly these).
    """
    from cargoscan.bench.checks import CHECKS

    w = _bools(_wagons(decl_test), ("has_threat", "wagon_honest", "suspicious", "failed"))
    clean = w[~w["has_threat"] & w["wagon_honest"]]
    budget, failed = clean[~clean["failed"]], clean[clean["failed"]]
    n = int(len(budget))
    reasons = Counter(c for cs in _codes(budget.loc[budget["suspicious"], "reason_codes"]) for c in set(cs)
                      if not c.startswith("ANALYSIS_FAILED_"))
    fail_codes = Counter(c for cs in _codes(failed["reason_codes"]) for c in set(cs) if c.startswith("ANALYSIS_FAILED_"))
    flagged = [set(s.split(";")) - {""} for s in budget["flagged_checks"].fillna("").astype(str)]
    by_check = {}
    for check in CHECKS:
        k_any = sum(check in f for f in flagged)
        k_alone = sum(f == {check} for f in flagged)
        by_check[check] = {"flagged": rate(k_any, n, "share"), "alone": rate(k_alone, n, "share")}
    advisory = Counter(c for s in budget.get("advisory_checks", pd.Series(dtype=str)).fillna("").astype(str)
                       for c in set(s.split(";")) - {""})
    out = {"clean_honest_suspicious_rate": _rate(budget["suspicious"], "red_rate"),
           "clean_honest_advisory": {c: rate(k, n, "share") for c, k in advisory.most_common()},
           "clean_honest_by_reason": {c: rate(k, n, "share") for c, k in reasons.most_common()},
           "clean_honest_by_check": by_check,
           "clean_honest_failures": {"rate": rate(int(len(failed)), int(len(clean)), "failure_rate"),
                                     "by_code": dict(fail_codes.most_common())}}
    if decl_mismatch is not None and len(decl_mismatch):
        m = _bools(_wagons(decl_mismatch), ("wagon_honest", "suspicious", "failed"))
        lying = m[~m["wagon_honest"]]
        out["mismatch_detection_rate"] = _rate(lying["suspicious"], "detection_rate")
        # the target counts the lies a check asserts: a wagon whose only lie is a count-only kind (the
        # package count, reported and not asserted) is left out here and still counted in the rate above
        asserted = [bool(set(k) - set(COUNT_ONLY)) for k in _codes(lying["wagon_mismatch"])]
        out["mismatch_detection_rate_asserted"] = _rate(lying.loc[asserted, "suspicious"], "detection_rate")
        out["mismatch_detection_failures"] = int(lying["failed"].sum())
        out["mismatch_honest_suspicious_rate"] = _rate(m.loc[m["wagon_honest"], "suspicious"], "red_rate")
    else:
        out["mismatch_detection_rate"] = rate(0, 0, "detection_rate")
        out["mismatch_detection_rate_asserted"] = rate(0, 0, "detection_rate")
    return out


def shift_report(shift: pd.DataFrame, nominal: pd.DataFrame, scanner: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """``scanner_shift``: clean wagons rendered by another scanner against the test archive's clean wagons.

    ``false_alarm_rate``: the engine's threat decision (``wagon_score.over``) on the shifted clean wagons;
    ``clean_red_rate``: the overall decision (any reason); quantiles of the raw wagon score, shifted and nominal
    (unscored wagons left out and counted in ``n_unscored``).
    """
    s = _bools(shift, ("clean", "over", "suspicious"))
    t = _bools(nominal, ("clean",))
    sc, tc = s[s["clean"]], t[t["clean"]]
    return {"n": int(len(sc)), "n_excluded": int(len(s) - len(sc)),
            "false_alarm_rate": _rate(sc["over"], "false_alarm_rate"),
            "clean_red_rate": _rate(sc["suspicious"], "red_rate"),
            "score_quantiles": _quantiles(sc["score"]), "nominal_score_quantiles": _quantiles(tc["score"]),
            "n_unscored": int(sc["score"].astype(float).isna().sum()),
            "red_reasons": dict(Counter(c for cs in _codes(sc.loc[sc["suspicious"], "reason_codes"])
                                        for c in set(cs)).most_common()),
            "scanner": scanner or {}}


def extend_report(doc: dict[str, Any], decl_test: pd.DataFrame, decl_mismatch: pd.DataFrame | None = None,
                  shift_scores: pd.DataFrame | None = None, nominal_scores: pd.DataFrame | None = None,
                  scanner: dict[str, Any] | None = None, understated_min: float = 0.10, n_boot: int = 2000,
                  seed: int = 0) -> dict[str, Any]:
    """Add issue 15's keys (``category``, ``mass``, ``mismatch``, ``decision.*``) and ``scanner_shift`` to a
    report of :func:`build_report`; the existing keys stay as they are (``decision.clean_red_rate`` included)."""
    doc["category"] = category_report(decl_test)
    doc["mass"] = mass_report(decl_test)
    if decl_mismatch is not None and len(decl_mismatch):
        doc["mismatch"] = mismatch_report(decl_mismatch, understated_min, n_boot, seed)
    doc.setdefault("decision", {}).update(decision_extra(decl_test, decl_mismatch))
    if shift_scores is not None and nominal_scores is not None:
        doc["scanner_shift"] = shift_report(shift_scores, nominal_scores, scanner)
    return doc
