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

from cargoscan.reports import figures
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
    return figures.roc(curves, point, f"Per-wagon detection ({len(both)} benchmark wagons)")


# --- issue 15's keys and the scanner shift ---------------------------------------------------------------------
#: Rows of the declaration table: (label, path of a rate dict in benchmark.json).
DECLARATION_RATES = (
    ("cargo category accuracy (top-1)", ("category", "accuracy")),
    ("mass: truth within ±2σ, clean loaded", ("mass", "coverage_2sigma")),
    ("mass: within ±10 % of the truth, clean loaded", ("mass", "within_10pct")),
    ("honest clean wagons «под подозрением» (budget; failures apart)", ("decision", "clean_honest_suspicious_rate")),
    ("honest clean wagons whose analysis failed", ("decision", "clean_honest_failures", "rate")),
    ("mismatch archive: lying declarations «под подозрением»", ("decision", "mismatch_detection_rate")),
    ("mismatch archive: lying declarations «под подозрением», package-count-only lies apart",
     ("decision", "mismatch_detection_rate_asserted")),
    ("mismatch archive: honest declarations «под подозрением»", ("decision", "mismatch_honest_suspicious_rate")),
)
MISMATCH_KINDS = ("wrong_goods", "undeclared_goods", "weight_understated", "weight_overstated", "package_count")


def _plain(label: str, value: Any) -> dict[str, Any]:
    return {"quantity": label, "value": fmt(value), "k / n": "", "95 % interval": ""}


def declaration_summary(doc: dict[str, Any]) -> pd.DataFrame:
    """Category, mass and the decision budget (issue 15): rates with k / n and Wilson intervals, mass errors."""
    mass = doc.get("mass") or {}
    if not (doc.get("category") or mass or "clean_honest_suspicious_rate" in (doc.get("decision") or {})):
        return pd.DataFrame()
    level = (doc.get("category") or {}).get("level") or mass.get("level") or "wagon"
    rows = [_row(f"{label} (per {level})" if keys[0] in ("category", "mass") else label, _get(doc, keys))
            for label, keys in DECLARATION_RATES if _get(doc, keys) is not None]
    rows += [_plain(f"mass: median |Δ| / truth ({mass.get('n', '—')} clean loaded, {mass.get('n_missing', 0)} "
                    "without an estimate)", mass.get("median_abs_rel_error")),
             _plain("mass: 90th percentile |Δ| / truth", mass.get("p90_abs_rel_error")),
             _plain("mass: median signed Δ / truth (bias)", mass.get("median_rel_error"))]
    return pd.DataFrame(rows).set_index("quantity")


def confusion_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Cargo category confusion: true category (rows) × the engine's category (columns), counts."""
    conf = _get(doc, ("category", "confusion")) or {}
    if not conf:
        return pd.DataFrame()
    cols = sorted({p for row in conf.values() for p in row})
    table = pd.DataFrame([[conf[t].get(p, 0) for p in cols] for t in sorted(conf)], index=sorted(conf),
                         columns=cols)
    table.index.name, table.columns.name = "true", "predicted"
    return table


def mismatch_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Per injected mismatch kind: positives, AUROC with its bootstrap interval, share sent red."""
    mm = doc.get("mismatch") or {}
    rows = []
    for kind in MISMATCH_KINDS:
        e = mm.get(kind)
        if not isinstance(e, dict):
            continue
        auc = e.get("auroc") or {}
        det = e.get("detection_rate") or {}
        rows.append({"kind": kind, "positives": e.get("n"),
                     "AUROC": fmt(auc.get("value")) if auc else "counts only",
                     "AUROC 95 % interval": _interval(auc.get("ci95")) if auc else "",
                     "score": auc.get("score", ""), "«под подозрением» k / n": f"{det.get('k', '—')} / {det.get('n', '—')}",
                     "rate": fmt(rate_value(det)), "95 % interval": _interval(det.get("ci95"))})
    return pd.DataFrame(rows).set_index("kind") if rows else pd.DataFrame()


def budget_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Honest clean wagons sent red, per check: how many it flags and how many it *alone* sends red (making it
    advisory would clear exactly those), with the budget's size."""
    by = _get(doc, ("decision", "clean_honest_by_check")) or {}
    rows = []
    for check, e in by.items():
        f, a = e.get("flagged") or {}, e.get("alone") or {}
        rows.append({"check": check, "flags k / n": f"{f.get('k', '—')} / {f.get('n', '—')}",
                     "flags share": fmt(rate_value(f)), "alone k / n": f"{a.get('k', '—')} / {a.get('n', '—')}",
                     "alone share": fmt(rate_value(a)), "alone 95 % interval": _interval(a.get("ci95"))})
    return pd.DataFrame(rows).set_index("check") if rows else pd.DataFrame()


def budget_reasons_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Honest clean wagons sent red, per reason code (a wagon counts under each of its codes); failures apart."""
    by = _get(doc, ("decision", "clean_honest_by_reason")) or {}
    rows = [{k: v for k, v in _row(code, r).items()} for code, r in by.items()]
    fails = _get(doc, ("decision", "clean_honest_failures", "by_code")) or {}
    rows += [{"quantity": f"{code} (failure, outside the budget)", "value": "", "k / n": f"{k} / —",
              "95 % interval": ""} for code, k in fails.items()]
    return pd.DataFrame(rows).rename(columns={"quantity": "reason"}).set_index("reason") if rows else pd.DataFrame()


def shift_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Clean wagons rendered by another scanner (``scanner_shift``) against the test archive's clean wagons."""
    s = doc.get("scanner_shift") or {}
    if not s:
        return pd.DataFrame()
    q, nq = s.get("score_quantiles") or {}, s.get("nominal_score_quantiles") or {}
    rows = [_row(f"false-alarm rate (threat decision), {s.get('n')} shifted clean wagons", s.get("false_alarm_rate")),
            _row("«под подозрением» (any reason), shifted clean wagons", s.get("clean_red_rate"))]
    rows += [_plain(f"wagon score {p}: shifted / nominal ({q.get('n', '—')} / {nq.get('n', '—')} wagons)",
                    None) | {"value": f"{fmt(q.get(p))} / {fmt(nq.get(p))}"} for p in ("p50", "p90", "p99")]
    outside = [f"{k} {v.get('shift')} (training {v.get('training')})" for k, v in (s.get("scanner") or {}).items()]
    if outside:
        rows.append(_plain("scanner ranges: " + "; ".join(outside), None) | {"value": ""})
    return pd.DataFrame(rows).set_index("quantity")
