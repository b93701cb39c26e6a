"""The batch report: a shift's trains, as a reviewer reads them afterwards.

Corridors follow the registry's routing rule, applied here per wagon and per train:

* red        – any completed analysis «под подозрением»;
* held       – otherwise, any scan whose analysis is missing or failed (fail-closed results never go green);
* not held   – every scan analysed and «без подозрения».
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cargoscan.reports import figures
from cargoscan.reports.sources import NOT_SUSPICIOUS, SUSPICIOUS, Archive, Inspections

RED, HELD, NOT_HELD = "red", "held", "not held"


def corridor(suspicious: pd.Series, complete: pd.Series, inspected: pd.Series) -> str:
    """The corridor of a group of scans (see the module docstring)."""
    done = inspected & complete
    if (suspicious & done).any():
        return RED
    if (~done).any():
        return HELD
    return NOT_HELD


def wagons(arc: Archive | None, insp: Inspections) -> pd.DataFrame:
    """One row per scan of the archive (or per inspection without one), in train order."""
    s = insp.scans
    if arc is not None:
        base = arc.scans[["scan_id", "train_number", "wagon_number", "containers", "scanned_at"]]
        w = base.merge(s, on="scan_id", how="outer", indicator=True)
        w["inspected"] = w["_merge"] != "left_only"
        w = w.drop(columns="_merge")
    else:
        w = s.assign(train_number=None, wagon_number=None, containers="", scanned_at=pd.NaT, inspected=True)
    # the inspection carries the sidecar too: use its train number for scans the archive does not list
    if "train_number_insp" in w:
        w["train_number"] = w["train_number"].fillna(w["train_number_insp"])
    w["train_number"] = w["train_number"].fillna("(unknown)")
    # a missing analysis is never «без подозрения»
    w["suspicious"] = w["suspicious"].fillna(True).astype(bool)
    w["complete"] = w["complete"].fillna(False).astype(bool)
    w = w.sort_values(["train_number", "scanned_at", "scan_id"]).reset_index(drop=True)
    w["position"] = w.groupby("train_number").cumcount() + 1
    w["corridor"] = [corridor(pd.Series([a]), pd.Series([b]), pd.Series([c]))
                     for a, b, c in zip(w["suspicious"], w["complete"], w["inspected"])]
    w["status"] = np.select([~w["inspected"], ~w["complete"]], ["analysis missing", "analysis failed"],
                            default=w["decision"].fillna("").astype(str))
    areas = insp.areas.sort_values(["scan_id", "id"])
    text = areas.groupby("scan_id").apply(
        lambda g: "; ".join(f"#{int(i)} {c} {sc:.2f}" for i, c, sc in zip(g["id"], g["class"], g["score"])),
        include_groups=False) if len(areas) else pd.Series(dtype=str)
    w["risk areas"] = w["scan_id"].map(text).fillna("")
    return w


def trains(w: pd.DataFrame) -> pd.DataFrame:
    """One row per train: decisions, the corridor, risk areas and timings."""
    rows = []
    for train, g in w.groupby("train_number", sort=True):
        t = g["total_ms"].dropna()
        rows.append({
            "train": train,
            "first scan": f"{g['scanned_at'].min():%Y-%m-%d %H:%M}" if g["scanned_at"].notna().any() else "—",
            "wagons": len(g),
            "под подозрением": int((g["decision"] == SUSPICIOUS).sum()),
            "без подозрения": int((g["decision"] == NOT_SUSPICIOUS).sum()),
            "failed": int((g["inspected"] & ~g["complete"]).sum()),
            "missing": int((~g["inspected"]).sum()),
            "risk areas": int(g["n_areas"].fillna(0).sum()),
            "corridor": corridor(g["suspicious"], g["complete"], g["inspected"]),
            "median time, s": f"{np.median(t) / 1000:.2f}" if len(t) else "—",
            "max time, s": f"{t.max() / 1000:.2f}" if len(t) else "—",
        })
    return pd.DataFrame(rows).set_index("train")


def attention(w: pd.DataFrame) -> pd.DataFrame:
    """The wagons a reviewer must look at: red or held, with the reasons and the areas to open."""
    cols = ["train_number", "position", "wagon_number", "containers", "scan_id", "corridor", "status",
            "reason_texts", "risk areas"]
    sel = w[w["corridor"] != NOT_HELD][cols].fillna({"reason_texts": "", "risk areas": ""})
    return sel.rename(columns={"train_number": "train", "wagon_number": "wagon", "reason_texts": "reasons"}
                      ).set_index(["train", "position"])


def decision_counts(w: pd.DataFrame) -> pd.DataFrame:
    """Scans per status and corridor over the whole batch."""
    return pd.crosstab(w["status"], w["corridor"], margins=True, margins_name="total")


def area_classes(insp: Inspections) -> pd.DataFrame:
    """Risk areas per class: count and median score."""
    a = insp.areas
    if a.empty:
        return pd.DataFrame(columns=["areas", "median score"])
    g = a.groupby("class")["score"]
    return pd.DataFrame({"areas": g.size(), "median score": g.median().map(lambda v: f"{v:.2f}")})


def timings_figure(w: pd.DataFrame) -> plt.Figure:
    """Distribution of the time per inspection (seconds)."""
    return figures.histogram(w["total_ms"].dropna().to_numpy(dtype=float) / 1000.0, "time per inspection, s",
                       "Inspection times", bins=20)
