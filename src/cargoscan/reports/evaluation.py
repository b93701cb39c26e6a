"""The evaluation report: the model against the truth and against the declarations.

Two sources, kept apart on purpose:

* the evaluate stage's ``metrics.json`` (held-out test split, the numbers the model is accepted on);
* the inspection engine's results on the archive joined with ``truth.csv`` and ``declarations.csv`` (what the
  deployed engine actually says: flags, masses, declaration mismatches).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from cargoscan.reports import figures
from cargoscan.reports.sources import THREAT_CLASSES, Archive, Inspections, Metrics, load_scan, scan_truth

#: Decimals of every rate/score printed in the report; the HTML test formats metrics.json the same way.
DECIMALS = 3
MISMATCH_KINDS = ("none", "wrong_goods", "undeclared_goods", "weight_understated", "weight_overstated",
                  "package_count")


def fmt(v: Any) -> str:
    """A number as the report prints it (``—`` for missing)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return f"{float(v):.{DECIMALS}f}"


# --- the evaluate stage (metrics.json) ----------------------------------------------------------------------

def iou_table(m: Metrics) -> pd.DataFrame:
    """Per-class IoU and Dice on the test split, as printed."""
    cols = [c for c in ("iou", "dice") if c in m.per_class]   # a fixed order, whatever the JSON's key order
    df = m.per_class[["class", *cols]].copy()
    for c in cols:
        df[c] = df[c].map(fmt)
    return df.rename(columns={"iou": "IoU", "dice": "Dice"}).set_index("class")


def operating_point_table(m: Metrics) -> pd.DataFrame:
    """The chosen operating point (on validation) and what it gives on the test split."""
    op = m.operating_point
    rows = [("wagon score threshold", fmt(op.get("threshold"))),
            ("target false-alarm rate (chosen on validation)", fmt(op.get("target_far"))),
            ("false-alarm rate on validation", fmt(op.get("val_false_alarm_rate"))),
            ("detection rate, wagons with something to find", fmt(op.get("detection_rate"))),
            ("false-alarm rate, clean wagons", fmt(op.get("false_alarm_rate"))),
            ("ROC AUC", fmt(m.auc)),
            ("cargo-category accuracy", fmt(m.category_accuracy))]
    return pd.DataFrame(rows, columns=["quantity", "value"]).set_index("quantity")


def group_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Wagons and detection rate per group (threat class or concealment site), as printed."""
    if df.empty:
        return df
    out = df.rename(columns={"group": name}).set_index(name)
    for c in ("detection_rate", "class_detection_rate"):
        if c in out:
            out[c] = out[c].map(fmt)
    return out.rename(columns={"detection_rate": "detection rate",
                               "class_detection_rate": "detection rate, own class threshold"})


def visibility_table(m: Metrics) -> pd.DataFrame:
    """Per threat class of the test split: how many labelled regions the image shows at the model pitch (CNR > 1
    against their surroundings, :mod:`cargoscan.data.visibility`), as printed. Empty for older metrics."""
    per = (m.raw.get("visibility") or {}).get("per_class") or {}
    rows = [{"threat class": k, "regions": v.get("regions"), "median pixels": fmt(v.get("median_pixels")),
             "median CNR, A_high": fmt(v.get("median_cnr_a_high")), "median CNR, ratio": fmt(v.get("median_cnr_ratio")),
             "visible share": fmt(v.get("visible_share"))} for k, v in sorted(per.items())]
    return pd.DataFrame(rows).set_index("threat class") if rows else pd.DataFrame()


def roc_figure(m: Metrics) -> plt.Figure:
    """Per-wagon detection ROC from the test split, with the operating point."""
    op = m.operating_point
    point = (op["false_alarm_rate"], op["detection_rate"]) if {"false_alarm_rate",
                                                               "detection_rate"} <= set(op) \
        else None
    curves = {f"test split (AUC {fmt(m.auc)})": (m.roc["fpr"], m.roc["tpr"])} if not m.roc.empty else {}
    return figures.roc(curves, point, "Per-wagon detection (test split)")


# --- the inspection engine against truth and declarations ---------------------------------------------------

def joined(arc: Archive, insp: Inspections) -> pd.DataFrame:
    """One row per completed inspection: the truth, the declaration and what the engine said.

    Failed analyses (fail-closed, always «под подозрением») carry no findings to score; the
    summary counts them.
    """
    truth = scan_truth(arc)
    done = insp.scans[insp.scans["complete"].astype(bool)]
    j = truth.merge(done, on="scan_id", how="inner", suffixes=("", "_insp"))
    # the engine's own declared mass when it reports one, else the declarations table
    j["declared_kg"] = j["declared_net_kg_insp"].fillna(j["declared_net_kg"]) if "declared_net_kg_insp" in j \
        else j["declared_net_kg"]
    # the engine's threat alarm: its wagon score at the operating point sealed in the model
    j["flagged"] = j["threat_alarm"].astype(bool)
    j["mass_vs_declared"] = (j["estimated_net_kg"] - j["declared_kg"]) / j["declared_kg"]
    j["mass_vs_true"] = (j["estimated_net_kg"] - j["true_net_kg"]) / j["true_net_kg"]
    return j


def headline(j: pd.DataFrame, m: Metrics | None, insp: Inspections | None = None) -> pd.DataFrame:
    """The four reviewer questions, answered in one table (inspection rows over completed analyses)."""
    thr, clean = j[j["has_threat"]], j[~j["has_threat"]]
    err = j["mass_vs_declared"].abs().dropna()
    rows = [
        ("What does it find? (wagons with a threat flagged)",
         f"{int(thr['flagged'].sum())} of {len(thr)} ({fmt(thr['flagged'].mean() if len(thr) else None)})"),
        ("What does it miss? (wagons with a threat not flagged)",
         f"{int((~thr['flagged']).sum())} of {len(thr)}"),
        ("How often does it cry wolf? (clean wagons flagged)",
         f"{int(clean['flagged'].sum())} of {len(clean)} "
         f"({fmt(clean['flagged'].mean() if len(clean) else None)})"),
        ("…and clean wagons «под подозрением» for any reason",
         f"{int(clean['suspicious'].sum())} of {len(clean)}"),
        ("How far do mass estimates stray from declarations? (median |Δ|/declared)",
         fmt(err.median() if len(err) else None)),
    ]
    if insp is not None and not insp.scans.empty:
        rows.append(("Analyses failed (fail-closed: «под подозрением», not scored above)",
                     f"{int((~insp.scans['complete']).sum())} of {len(insp.scans)}"))
    if m is not None:
        op = m.operating_point
        rows.insert(0, ("Test split at the operating point: detection / false alarms",
                        f"{fmt(op.get('detection_rate'))} / {fmt(op.get('false_alarm_rate'))}"))
    return pd.DataFrame(rows, columns=["question", "answer"]).set_index("question")


def detection_by(j: pd.DataFrame, col: str) -> pd.DataFrame:
    """Per value of ``col``: wagons with a threat, how many were flagged, clean wagons and false alarms."""
    rows = []
    for key, g in j.assign(**{col: j[col].fillna("—")}).groupby(col):
        thr, clean = g[g["has_threat"]], g[~g["has_threat"]]
        rows.append({col: key, "threat wagons": len(thr), "detected": int(thr["flagged"].sum()),
                     "detection rate": fmt(thr["flagged"].mean() if len(thr) else None),
                     "clean wagons": len(clean), "false alarms": int(clean["flagged"].sum()),
                     "false-alarm rate": fmt(clean["flagged"].mean() if len(clean) else None)})
    return pd.DataFrame(rows).set_index(col) if rows else pd.DataFrame()


def instance_detection(arc: Archive, insp: Inspections) -> pd.DataFrame:
    """Each labelled threat instance of an inspected scan, found when a threat risk area overlaps its box."""
    inst = arc.instances
    if inst.empty or insp.scans.empty:
        return pd.DataFrame(columns=["scan_id", "class", "site", "found"])
    thr = inst[inst["class"].isin(THREAT_CLASSES) & inst["scan_id"].isin(insp.scans["scan_id"])].copy()
    areas = insp.areas[insp.areas["class"].isin(THREAT_CLASSES)]
    found = []
    for r in thr.itertuples():
        a = areas[areas["scan_id"] == r.scan_id]
        overlap = (a["x0"] < r.x1) & (a["x1"] > r.x0) & (a["y0"] < r.y1) & (a["y1"] > r.y0)
        found.append(bool(overlap.any()))
    thr["found"] = found
    return thr[["scan_id", "class", "site", "found"]]


def instance_rates(inst: pd.DataFrame, col: str) -> pd.DataFrame:
    """Found / total / rate of threat instances per ``col`` (class or site)."""
    if inst.empty:
        return pd.DataFrame()
    g = inst.groupby(col)["found"]
    out = pd.DataFrame({"found": g.sum().astype(int), "total": g.size()})
    out["rate"] = (out["found"] / out["total"]).map(fmt)
    return out


def mass_summary(j: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """How far estimated net masses are from the declared and from the true net masses."""
    rows = []
    for name, col in (("estimated vs declared", "mass_vs_declared"), ("estimated vs true", "mass_vs_true")):
        v = j[col].dropna()
        rows.append({"comparison": name, "scans": len(v),
                     "median Δ, %": f"{100 * v.median():.1f}" if len(v) else "—",
                     "median |Δ|, %": f"{100 * v.abs().median():.1f}" if len(v) else "—",
                     "90th pct |Δ|, %": f"{100 * v.abs().quantile(0.9):.1f}" if len(v) else "—",
                     f"within ±{100 * tolerance:g} %": fmt((v.abs() <= tolerance).mean()
                                                            if len(v) else None)})
    return pd.DataFrame(rows).set_index("comparison")


def mass_figures(j: pd.DataFrame, tolerance: float) -> tuple[plt.Figure, plt.Figure]:
    """Declared vs estimated net mass (scatter, ±1σ bars) and the relative error distribution."""
    d = j.dropna(subset=["declared_kg", "estimated_net_kg"])
    scatter = figures.mass_scatter(d, "declared_kg", "estimated_net_kg", "mismatch", "declared net weight, kg",
                             "estimated net mass, kg", "Declared vs estimated mass",
                             yerr="estimated_net_sigma_kg")
    hist = figures.histogram(100 * j["mass_vs_declared"].to_numpy(dtype=float),
                       "(estimated − declared) / declared, %",
                       "Mass error against the declaration", lines=(-100 * tolerance, 100 * tolerance))
    return scatter, hist


def _kind(row: pd.Series) -> str:
    for k in MISMATCH_KINDS[1:]:
        if k in str(row["mismatch"]).split(";"):
            return k
    return "none"


def _flag(row: pd.Series) -> str:
    if row.get("category_mismatch") is True:
        return "wrong_goods"
    if row["weight_flag"]:
        return "weight_understated" if row["mass_vs_declared"] > 0 else "weight_overstated"
    return "none"


def mismatch_confusion(j: pd.DataFrame) -> pd.DataFrame:
    """True declaration mismatch (rows) against the engine's flag (columns), in scans."""
    if j.empty:
        return pd.DataFrame()
    t = pd.Categorical(j.apply(_kind, axis=1), categories=MISMATCH_KINDS)
    p = pd.Categorical(j.apply(_flag, axis=1), categories=["none", "wrong_goods", "weight_understated",
                                                           "weight_overstated"])
    return pd.crosstab(t, p, dropna=False).rename_axis(index="true", columns="flagged")


def mismatch_scores(j: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per mismatch kind (vs honest declarations): truth labels and the engine's score for that kind.

    Wrong goods are scored by the category-mismatch score; undeclared goods and understated weight by the
    relative excess of the estimated over the declared mass (both add mass the declaration does not cover).
    """
    kinds = j.apply(_kind, axis=1)
    scores = {"wrong_goods": j["category_mismatch_score"].astype(float),
              "undeclared_goods": j["mass_vs_declared"].astype(float),
              "weight_understated": j["mass_vs_declared"].astype(float)}
    out = {}
    for k, s in scores.items():
        keep = kinds.isin(["none", k]) & s.notna()
        v = s[keep].to_numpy(dtype=float)
        # A unit declared empty (0 kg) that carries goods has an infinite excess: the strongest possible signal.
        # ROC needs finite scores and only their order, so it ranks just above the largest finite score.
        finite = v[np.isfinite(v)]
        top = (finite.max() if finite.size else 0.0) + 1.0
        v = np.where(np.isposinf(v), top, np.where(np.isneginf(v), -top, v))
        out[k] = ((kinds[keep] == k).to_numpy(), v)
    return out


def mismatch_roc(j: pd.DataFrame) -> tuple[pd.DataFrame, plt.Figure]:
    """ROC per mismatch kind (AUC table and curves); kinds without both classes are listed with no curve."""
    rows, curves = [], {}
    for k, (y, s) in mismatch_scores(j).items():
        both = y.any() and (~y).any()
        auc = roc_auc_score(y, s) if both else None
        rows.append({"mismatch": k, "positives": int(y.sum()), "honest": int((~y).sum()),
                     "ROC AUC": fmt(auc)})
        if both:
            fpr, tpr, _ = roc_curve(y, s)
            curves[f"{k} (AUC {fmt(auc)})"] = (fpr, tpr)
    return pd.DataFrame(rows).set_index("mismatch"), figures.roc(curves, None, "Declaration mismatch detection")


def calibration(j: pd.DataFrame, bins: int, m: Metrics | None = None) -> tuple[pd.DataFrame,
                                                                               plt.Figure | None]:
    """Reliability of the per-wagon score as a probability of a threat: diagram, Brier score and ECE.

    Uses the evaluate stage's test-split wagon scores when there are any, else the inspections' wagon scores
    (the highest threat-area score, 0 without an area).
    """
    if m is not None and {"has_threat", "score"} <= set(m.wagon_scores):
        y, p, source = m.wagon_scores["has_threat"], m.wagon_scores["score"], "test split (evaluate stage)"
    else:
        y, p, source = j["has_threat"], j["wagon_score"], "inspections"
    y, p = y.to_numpy(dtype=int), p.clip(0, 1).to_numpy(dtype=float)
    if len(y) == 0 or y.min() == y.max():
        return pd.DataFrame({"value": ["needs wagons with and without threats"]}, index=["calibration"]), None
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    edges = np.linspace(0, 1, bins + 1)
    counts = np.bincount(np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1), minlength=bins)
    counts = counts[counts > 0]
    ece = float(np.sum(counts / counts.sum() * np.abs(prob_true - prob_pred)))
    table = pd.DataFrame({"value": [source, fmt(brier_score_loss(y, p)), fmt(ece), str(len(y))]},
                         index=["scores from", "Brier score", "expected calibration error", "wagons"])
    return table, figures.reliability(prob_pred, prob_true, counts, "Reliability of the wagon score")


def worst(arc: Archive, insp: Inspections, j: pd.DataFrame, n: int, kind: str) -> list[dict[str, Any]]:
    """Gallery items: the ``n`` worst misses (threat wagons, lowest score) or false alarms (clean, top)."""
    if kind == "misses":
        sel = j[j["has_threat"] & ~j["flagged"]].sort_values("wagon_score").head(n)
    else:
        sel = j[~j["has_threat"] & j["flagged"]].sort_values("wagon_score", ascending=False).head(n)
    items = []
    for r in sel.itertuples():
        image, mask = load_scan(arc, r.scan_id)
        what = r.threat_classes if kind == "misses" else r.area_classes
        items.append({"image": image, "mask": mask, "boxes": insp.areas[insp.areas["scan_id"] == r.scan_id],
                      "title": f"{r.scan_id} · {r.wagon_type} · {what} · score {r.wagon_score:.2f}"})
    return items


def model_card(card: str | None, config: dict[str, Any] | None) -> str:
    """The exported model's card as Markdown nested under this report's headings, with its key settings."""
    if card is None and config is None:
        return "*No exported model yet: run the export stage.*"
    parts = []
    if config:
        parts.append(f"**{config.get('name', '?')}** version {config.get('version', '?')}: "
                     f"{config.get('arch', '?')} / {config.get('encoder', '?')}, input "
                     f"{', '.join(config.get('in_channels', []))} at {config.get('pitch_mm')} mm; "
                     f"wagon threshold {fmt(config.get('wagon_threshold'))}, "
                     f"thresholds version {config.get('thresholds_version', '?')}.")
    if card:
        # the card's own headings sit below this report's "Model card" section
        parts.append("\n".join("##" + line if line.startswith("#") else line for line in card.splitlines()))
    return "\n\n".join(parts)
