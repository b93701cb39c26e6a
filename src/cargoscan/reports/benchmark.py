"""The evaluation report's benchmark section: ``reports/benchmark.json`` and ``benchmark_scores.csv`` as tables.

The benchmark stage (:mod:`cargoscan.bench.report`) writes every rate as ``{"n", "k", "<name>", "ci95"}``;
this module reads that shape, and only this module of the reports knows the benchmark's key names (as
:mod:`cargoscan.reports.sources` does for the other producers). Absent files give ``None``, and the notebook
says so instead of failing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from cargoscan.reports import figures as F
from cargoscan.reports.evaluation import fmt

log = logging.getLogger(__name__)

#: Rows of the headline table: (label, path of a rate dict in benchmark.json).
HEADLINE = (
    ("detection rate at the operating point, threat wagons", ("detection", "operating_point", "detection_rate")),
    ("false-alarm rate at the operating point, clean wagons", ("detection", "operating_point", "false_alarm_rate")),
    ("detection rate, wagons with a visible threat", ("detection", "visible")),
    ("localisation hit rate, detected threat wagons", ("localisation", "hit_rate")),
    ("clean wagons «под подозрением» (any reason)", ("decision", "clean_red_rate")),
    ("threat wagons «под подозрением» (any reason)", ("decision", "threat_red_rate")),
)


def read_benchmark(path: str | Path) -> dict[str, Any] | None:
    """``benchmark.json`` as a dict; None when absent or unreadable (logged)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("%s: unreadable (%s)", path, exc)
        return None
    return doc if isinstance(doc, dict) else None


def read_scores(path: str | Path) -> pd.DataFrame | None:
    """``benchmark_scores.csv`` (one row per wagon); None when absent."""
    path = Path(path)
    return pd.read_csv(path) if path.exists() else None


def _get(doc: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        doc = (doc or {}).get(k) if isinstance(doc, dict) else None
    return doc


def rate_value(r: dict[str, Any] | None) -> float | None:
    """The rate of a ``{n, k, <name>, ci95}`` dict, whatever its name."""
    if not isinstance(r, dict):
        return None
    names = [k for k in r if k not in ("n", "k", "ci95")]
    return r.get(names[0]) if names else None


def _interval(ci: Any) -> str:
    return f"{fmt(ci[0])} – {fmt(ci[1])}" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "—"


def _row(label: str, r: dict[str, Any] | None) -> dict[str, Any]:
    r = r if isinstance(r, dict) else {}
    return {"quantity": label, "value": fmt(rate_value(r)), "k / n": f"{r.get('k', '—')} / {r.get('n', '—')}",
            "95 % interval": _interval(r.get("ci95"))}


def summary_table(doc: dict[str, Any]) -> pd.DataFrame:
    """The headline rates with counts and Wilson intervals, the AUROC with its bootstrap interval, the ECE."""
    auc = _get(doc, ("detection", "auroc")) or {}
    rows = [{"quantity": "wagons: clean / with a threat / excluded",
             "value": f"{doc.get('n_clean')} / {doc.get('n_threat')} / {doc.get('n_excluded', 0)}",
             "k / n": f"— / {doc.get('n_wagons')}", "95 % interval": ""},
            {"quantity": f"per-wagon AUROC, {auc.get('n_threat', '—')} threat against {auc.get('n_clean', '—')} "
                         "clean wagons (bootstrap interval)", "value": fmt(auc.get("value")), "k / n": "",
             "95 % interval": _interval(auc.get("ci95"))},
            {"quantity": "operating point: wagon score threshold (sealed in the artifact)",
             "value": fmt(_get(doc, ("detection", "operating_point", "threshold"))), "k / n": "",
             "95 % interval": ""}]
    rows += [_row(label, _get(doc, keys)) for label, keys in HEADLINE]
    rows += [{"quantity": "calibration: expected calibration error",
              "value": fmt(_get(doc, ("calibration", "ece"))), "k / n": "", "95 % interval": ""},
             {"quantity": "seconds per wagon (one engine thread)", "value": fmt(doc.get("seconds_per_wagon")),
              "k / n": "", "95 % interval": ""}]
    return pd.DataFrame(rows).set_index("quantity")


def group_table(doc: dict[str, Any], keys: tuple[str, ...], name: str) -> pd.DataFrame:
    """Per group (threat class, site, wagon type, category): k / n, the rate and its Wilson interval."""
    groups = _get(doc, keys) or {}
    rows = [{name: g, **{k: v for k, v in _row(g, r).items() if k != "quantity"}} for g, r in sorted(groups.items())]
    return pd.DataFrame(rows).set_index(name) if rows else pd.DataFrame()


def reasons_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Why clean wagons were «под подозрением»: reason code and how many clean wagons carry it."""
    reasons = _get(doc, ("decision", "clean_red_reasons")) or {}
    rows = [{"reason": k, "clean wagons": v} for k, v in reasons.items()]
    return pd.DataFrame(rows).set_index("reason") if rows else pd.DataFrame()


def roc_figure(scores: pd.DataFrame, doc: dict[str, Any] | None) -> plt.Figure:
    """The per-wagon ROC of the benchmark (threat against clean wagons, raw score) with the operating point."""
    from sklearn.metrics import roc_curve

    flag = {"True": True, "False": False, True: True, False: False, 1: True, 0: False}
    threat = scores["has_threat"].map(flag).fillna(False).astype(bool)
    clean = scores["clean"].map(flag).fillna(False).astype(bool)
    both = scores[threat | clean]
    curves = {}
    if threat.any() and clean.any():
        score = both["score"].astype(float)
        score = score.fillna(score.max() + 1.0 if score.notna().any() else 1.0)   # never scored: the highest
        fpr, tpr, _ = roc_curve(threat[threat | clean], score)
        auc = _get(doc or {}, ("detection", "auroc", "value"))
        curves[f"benchmark (AUC {fmt(auc)})"] = (fpr, tpr)
    op = _get(doc or {}, ("detection", "operating_point")) or {}
    fa, det = rate_value(op.get("false_alarm_rate")), rate_value(op.get("detection_rate"))
    point = (fa, det) if fa is not None and det is not None else None
    return F.roc(curves, point, f"Per-wagon detection ({len(both)} benchmark wagons)")
