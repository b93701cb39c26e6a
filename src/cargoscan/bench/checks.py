"""The declaration side of the benchmark (issue 15): one row per unit, or per wagon, read from the engine's own
inspections beside the archive's truth.

Read from each kept inspection (``<bench.out_dir>/inspections/<archive>/<scan_id>.json``, written by
:func:`cargoscan.bench.score.score_archive`, so exactly what deployment decided):

* ``cargo``: ``predicted``, ``probabilities``, ``declared`` (the declared categories), ``declared_probability``
  (the engine's P(declared), used where recorded);
* ``mass``: ``net_kg``, ``sigma_kg`` (calibrated where the artifact holds a mass calibration: ``calibrated``;
  ``net_read_kg`` as read), ``declared_net_kg``, ``difference_rel`` (``(net - declared) / declared``);
* ``suspicious``, ``complete``, ``reasons`` (codes) and ``checks`` (name and status of each check).

**Per unit where the inspection gives it.** When ``cargo["units"]`` (and ``mass["units"]``) are lists of per-unit
dicts naming their unit (``"unit"``: the container number, or the wagon number), each unit is a row and is compared
with its own truth row; otherwise the inspection judges the wagon as a whole and the row is the wagon's (its true
category is the first loaded unit's, as the label file names it; its true net mass the sum over its units).

Read from the archive (never seen by the engine): ``truth.csv`` (true category, true net mass, ``mismatch``,
threats) joined on ``pi_number`` with ``declarations.csv`` (the declared net mass, for the size of an understated
weight).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from cargoscan.archive import ArchivePaths, read_table
from cargoscan.inspect.result import FAILED_PREFIX

log = logging.getLogger(__name__)

#: The checks whose flags send a wagon red (the others, scan / validity / model, only ever fail).
CHECKS = ("segmentation", "declaration", "cargo", "material", "mass", "references")
HONEST = ("none", "")
COLUMNS = ["archive", "scan_id", "level", "unit", "true_category", "true_categories", "predicted", "head_categories",
           "declared_categories", "p_declared", "category_score", "true_net_kg", "net_kg", "sigma_kg", "net_read_kg",
           "calibrated", "declared_net_kg", "difference_rel", "mismatch", "understatement", "honest", "wagon_mismatch",
           "wagon_honest", "has_threat", "suspicious", "complete", "failed", "reason_codes", "flagged_checks",
           "advisory_checks", "failed_checks", "inspected"]


def _float(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def truth_units(root: str | Path) -> pd.DataFrame:
    """One row per consignment: scan, unit, true category and net mass, mismatch kind, the declared net mass and
    the understatement ``1 - declared / true`` (NaN for an empty unit)."""
    paths = ArchivePaths(Path(root))
    truth = read_table(paths.table("truth.csv"))
    decl_path = paths.table("declarations.csv")
    declared = {r.get("pi_number", ""): _float(r.get("net_weight_kg")) for r in read_table(decl_path)} \
        if decl_path.exists() else {}
    rows = []
    for r in truth:
        true_kg = _float(r.get("true_net_weight_kg"))
        d_kg = declared.get(r.get("pi_number", ""), math.nan)
        rows.append({"scan_id": r["scan_id"], "unit": r.get("container_number") or r.get("wagon_number", ""),
                     "true_category": r.get("true_category") or "empty", "true_net_kg": true_kg,
                     "declared_net_kg": d_kg, "mismatch": r.get("mismatch") or "none",
                     "understatement": 1.0 - d_kg / true_kg if true_kg > 0 and math.isfinite(d_kg) else math.nan,
                     "has_threat": r.get("has_threat") == "1"})
    return pd.DataFrame(rows, columns=["scan_id", "unit", "true_category", "true_net_kg", "declared_net_kg",
                                       "mismatch", "understatement", "has_threat"])


def p_declared(probabilities: dict[str, float] | None, declared: list[str | None] | None) -> float:
    """P(the load is one of the declared categories) under the head: the sum over the distinct declared
    categories (a category the head does not know counts 0), at most 1. NaN without probabilities or without a
    declared category."""
    cats = {c for c in (declared or []) if c}
    if not probabilities or not cats:
        return math.nan
    return min(1.0, sum(float(probabilities.get(c, 0.0)) for c in cats))


def _views(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The inspection's judgements: one per unit when it gives per-unit cargo lists, else one for the wagon."""
    cargo, mass = doc.get("cargo") or {}, doc.get("mass") or {}
    units = cargo.get("units")
    if isinstance(units, list) and units and all(isinstance(u, dict) and u.get("unit") for u in units):
        masses = {m.get("unit"): m for m in (mass.get("units") or []) if isinstance(m, dict)}
        out = []
        for u in units:
            declared = u.get("declared")
            declared = [declared] if isinstance(declared, str) else list(declared or [])
            out.append({"level": "unit", "unit": str(u["unit"]), "predicted": u.get("predicted"),
                        "probabilities": u.get("probabilities") or {}, "declared": declared,
                        "declared_probability": u.get("declared_probability"), "mass": masses.get(u["unit"], {})})
        return out
    return [{"level": "wagon", "unit": "", "predicted": cargo.get("predicted"),
             "probabilities": cargo.get("probabilities") or {}, "declared": list(cargo.get("declared") or []),
             "declared_probability": cargo.get("declared_probability"), "mass": mass}]


def _joined(values) -> str:
    return ";".join(sorted({v for v in values if v}))


def inspection_rows(doc: dict[str, Any], truth: pd.DataFrame, archive: str, scan_id: str) -> list[dict[str, Any]]:
    """The rows of one scan (:data:`COLUMNS`) from its inspection document and its truth rows."""
    codes = [str(r.get("code", "")) for r in doc.get("reasons") or []]
    checks = [c for c in doc.get("checks") or [] if isinstance(c, dict)]
    flagged = _joined(c.get("name") for c in checks if c.get("status") == "flagged")
    advisory = _joined(c.get("name") for c in checks if c.get("status") == "advisory")   # shown, not deciding
    failed_checks = _joined(c.get("name") for c in checks
                            if c.get("status") not in ("passed", "flagged", "advisory"))
    kinds = [m for m in truth["mismatch"] if m not in HONEST]
    wagon = {"archive": archive, "scan_id": scan_id, "wagon_mismatch": _joined(kinds), "wagon_honest": not kinds,
             "has_threat": bool(truth["has_threat"].any()), "suspicious": bool(doc.get("suspicious", True)),
             "complete": bool(doc.get("complete", False)),
             "failed": not doc or any(c.startswith(FAILED_PREFIX) for c in codes) or bool(failed_checks),
             "reason_codes": ";".join(codes), "flagged_checks": flagged, "advisory_checks": advisory,
             "failed_checks": failed_checks,
             "inspected": bool(doc)}
    rows = []
    for v in _views(doc):
        if v["level"] == "unit":
            mine = truth[truth["unit"] == v["unit"]]
            if mine.empty:
                log.warning("%s: the inspection names unit %s, which the truth does not hold", scan_id, v["unit"])
        else:
            mine = truth
        mine_loaded = mine[mine["true_category"] != "empty"]
        true_cat = (mine_loaded["true_category"].iloc[0] if len(mine_loaded) else "empty") if len(mine) else ""
        m = v["mass"] or {}
        # the engine's own P(declared) where it records one (it counts the forms a declared code may take)
        p = _float(v["declared_probability"])
        p = p if math.isfinite(p) else p_declared(v["probabilities"], v["declared"])
        unit_kinds = [k for k in mine["mismatch"] if k not in HONEST]
        rows.append({**wagon, "level": v["level"], "unit": v["unit"], "true_category": true_cat,
                     "true_categories": _joined(mine["true_category"]), "predicted": v["predicted"] or "",
                     "head_categories": ";".join(sorted(v["probabilities"])),
                     "declared_categories": _joined(c for c in v["declared"] if c), "p_declared": p,
                     "category_score": 1.0 - p if math.isfinite(p) else math.nan,
                     "true_net_kg": float(mine["true_net_kg"].sum()) if len(mine) else math.nan,
                     "net_kg": _float(m.get("net_kg")), "sigma_kg": _float(m.get("sigma_kg")),
                     "net_read_kg": _float(m.get("net_read_kg", m.get("net_kg"))),
                     "calibrated": bool(m.get("calibrated", False)),
                     "declared_net_kg": _float(m.get("declared_net_kg")),
                     "difference_rel": _float(m.get("difference_rel")), "mismatch": _joined(unit_kinds),
                     "understatement": float(mine.loc[mine["mismatch"] == "weight_understated",
                                                      "understatement"].max())
                     if (mine["mismatch"] == "weight_understated").any() else math.nan,
                     "honest": not unit_kinds})
    return rows


def declaration_table(archive_root: str | Path, inspections_dir: str | Path, archive: str,
                      scan_ids: list[str] | None = None) -> pd.DataFrame:
    """The rows of every scan of an archive (or of ``scan_ids``) from its kept inspections; a scan without a
    readable inspection is one row that failed (``inspected`` false, suspicious, no scores)."""
    root, out = Path(archive_root), Path(inspections_dir)
    truth = truth_units(root)
    ids = scan_ids if scan_ids is not None else ArchivePaths(root).scan_ids()
    by_scan = {sid: g for sid, g in truth.groupby("scan_id", sort=False)}
    empty = truth.iloc[0:0]
    rows: list[dict[str, Any]] = []
    for sid in ids:
        try:
            doc = json.loads((out / f"{sid}.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            log.warning("%s: no readable inspection in %s", sid, out)
            doc = {}
        rows.extend(inspection_rows(doc, by_scan.get(sid, empty), archive, sid))
    return pd.DataFrame(rows, columns=COLUMNS)
