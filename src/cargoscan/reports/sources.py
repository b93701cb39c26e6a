"""Loaders for everything the reports read from other parts, as pandas DataFrames.

This is the ONLY module of ``cargoscan.reports`` that knows other parts' field names. When a producer
renames a field (the evaluate stage's ``metrics.json``, the inspection JSON of contract B, the archive
tables), the edit belongs here and nowhere else. Missing inputs give empty frames or ``None`` so that a report
still renders and says what is missing, instead of failing a whole shift's report on one absent file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tifffile

from cargoscan.archive import ArchivePaths, read_json, read_table
from cargoscan.archive.classes import load_classes, threat_ids
from cargoscan.archive.format import DECLARATIONS_TABLE, SCANS_TABLE, TRUTH_TABLE

log = logging.getLogger(__name__)

SUSPICIOUS = "Контроль ИДК, под подозрением"
NOT_SUSPICIOUS = "Контроль ИДК, без подозрения"
THREAT_CLASSES = tuple(c.name for c in load_classes() if c.id in threat_ids())


# --- the archive --------------------------------------------------------------------------------------------

@dataclass
class Archive:
    """The archive as frames: one row per scan, per labelled instance, per unit, per consignment."""

    root: Path
    scans: pd.DataFrame                      # scan_id, train_number, wagon_number, wagon_type, direction, ...
    instances: pd.DataFrame = field(default_factory=pd.DataFrame)   # scan_id, class, site, mass_kg, x0..y1
    units: pd.DataFrame = field(default_factory=pd.DataFrame)       # scan_id, kind, number, net_mass_kg
    declarations: pd.DataFrame = field(default_factory=pd.DataFrame)
    truth: pd.DataFrame = field(default_factory=pd.DataFrame)
    table1: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def paths(self) -> ArchivePaths:
        return ArchivePaths(self.root)


def _num(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def read_archive(root: str | Path) -> Archive:
    """Read sidecars, instance labels and tables of an archive (no pixel data).

    Raises:
        FileNotFoundError: when ``root`` has no ``scans/`` directory.
    """
    paths = ArchivePaths(Path(root))
    if not paths.scans.exists():
        raise FileNotFoundError(f"{paths.scans}: no scans directory; is {root} an archive (format 1.0)?")
    rows, inst, units = [], [], []
    for sid in paths.scan_ids():
        meta = read_json(paths.sidecar(sid))
        with tifffile.TiffFile(paths.scan_tiff(sid)) as tif:   # header only: shape without decoding pixels
            h, w = tif.pages[0].shape
        pitch = meta.get("pixel_pitch_mm", {})
        row = {"scan_id": sid, "train_number": meta.get("train_number"),
               "wagon_number": meta.get("wagon_number"),
               "wagon_type": meta.get("wagon_type", "other"), "direction": meta.get("direction"),
               "scanned_at": pd.to_datetime(meta.get("scanned_at"), utc=True),
               "containers": ";".join(meta.get("container_numbers", [])),
               "n_containers": len(meta.get("container_numbers", [])),
               "source": meta.get("source", {}).get("kind"),
               "height": h, "width": w, "pitch_row_mm": pitch.get("row"), "pitch_col_mm": pitch.get("column"),
               "cargo_category": None, "has_labels": paths.label_json(sid).exists()}
        if row["has_labels"]:
            doc = read_json(paths.label_json(sid))
            row["cargo_category"] = doc.get("cargo_category")
            row["wagon_type"] = meta.get("wagon_type") or doc.get("wagon_type", "other")
            for i in doc.get("instances", []):
                x0, y0, x1, y1 = i["bbox"]
                inst.append({"scan_id": sid, "id": i["id"], "class": i["class"], "site": i.get("site"),
                             "material": i.get("material"), "mass_kg": i.get("mass_kg"),
                             "unit": i.get("unit"),
                             "x0": x0, "y0": y0, "x1": x1, "y1": y1, "rle": i["mask"]["rle"]})
            for u in doc.get("units", []):
                units.append({"scan_id": sid, "kind": u.get("kind"), "number": u.get("number"),
                              "cargo_category": u.get("cargo_category"), "net_mass_kg": u.get("net_mass_kg"),
                              "x0": u["x0"], "x1": u["x1"]})
        rows.append(row)
    arc = Archive(paths.root, pd.DataFrame(rows), pd.DataFrame(inst), pd.DataFrame(units))
    for name, attr in ((DECLARATIONS_TABLE, "declarations"), (TRUTH_TABLE, "truth"), (SCANS_TABLE, "table1")):
        if paths.table(name).exists():
            setattr(arc, attr, pd.DataFrame(read_table(paths.table(name))))
    _num(arc.declarations, ["gross_weight_kg", "net_weight_kg", "packages_count"])
    _num(arc.truth, ["true_net_weight_kg", "true_packages_count", "has_threat"])
    return arc


def scan_truth(arc: Archive) -> pd.DataFrame:
    """One row per scan: has_threat, threat classes, mismatch kinds, true and declared net mass, category."""
    t, d = arc.truth, arc.declarations
    out = arc.scans[["scan_id", "train_number", "wagon_number", "wagon_type", "cargo_category"]].copy()
    if not arc.instances.empty:
        thr = arc.instances[arc.instances["class"].isin(THREAT_CLASSES)].groupby("scan_id")["class"]
        out = out.merge(thr.apply(lambda s: ";".join(sorted(set(s)))).rename("threat_classes"), how="left",
                        left_on="scan_id", right_index=True)
    else:
        out["threat_classes"] = None
    out["has_threat"] = out["threat_classes"].fillna("").ne("")
    if not t.empty:
        if not d.empty:
            t = t.merge(d[["pi_number", "net_weight_kg", "goods_description", "hs_code"]], on="pi_number",
                        how="left")
        else:
            t = t.assign(net_weight_kg=np.nan, goods_description=None, hs_code=None)
        kinds = t[t["mismatch"] != "none"].groupby("scan_id")["mismatch"].apply(
            lambda s: ";".join(sorted(set(s))))
        agg = t.groupby("scan_id").agg(true_net_kg=("true_net_weight_kg", "sum"),
                                       declared_net_kg=("net_weight_kg", lambda s: s.sum(min_count=1)),
                                       true_category=("true_category", "first"))
        out = out.merge(agg, how="left", left_on="scan_id", right_index=True)
        out = out.merge(kinds.rename("mismatch"), how="left", left_on="scan_id", right_index=True)
    else:
        out = out.assign(true_net_kg=np.nan, declared_net_kg=np.nan, true_category=None, mismatch=None)
    out["mismatch"] = out["mismatch"].fillna("none")
    return out


def load_scan(arc: Archive, scan_id: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A scan's (2, H, W) image and its label mask (``None`` when unlabelled)."""
    from cargoscan.archive import read_labels, read_scan

    image = read_scan(arc.paths.scan_tiff(scan_id))
    mask = None
    if arc.paths.label_png(scan_id).exists():
        mask, _ = read_labels(arc.root, scan_id, image.shape[1:])
    return image, mask


# --- the evaluate stage's metrics.json ----------------------------------------------------------------------

@dataclass
class Metrics:
    """The evaluate stage's outputs (``metrics.json`` and its sibling CSVs) as frames.

    ``metrics.json`` (cargoscan.training.evaluate): ``segmentation.{iou,dice}`` per class; ``detection``
    (``auroc``, ``ap``, ``threshold``, ``target_far``, ``detection_rate``, ``false_alarm_rate``,
    ``val_false_alarm_rate``, ``per_class``/``per_site`` with ``n`` and ``detection_rate``);
    ``category.accuracy``.
    Siblings: ``roc.csv`` (fpr, tpr), ``confusion.csv`` (actual, predicted per wagon), ``wagon_scores.csv``
    (scan_id, split, has_threat, score, ...).
    """

    raw: dict[str, Any]
    per_class: pd.DataFrame          # class, iou, dice
    roc: pd.DataFrame                # fpr, tpr (per-wagon detection, test split)
    auc: float | None
    operating_point: dict[str, Any]  # threshold, target_far, detection_rate, false_alarm_rate, ...
    per_threat_class: pd.DataFrame   # group, wagons, detection_rate[, class_detection_rate]
    per_site: pd.DataFrame
    category_accuracy: float | None
    category_confusion: pd.DataFrame  # rows true, columns predicted (wagons)
    wagon_scores: pd.DataFrame        # test-split wagons: has_threat, score


def _groups(d: dict[str, Any] | None) -> pd.DataFrame:
    rows = [{"group": k, **v} for k, v in (d or {}).items()]
    cols = ["group", "wagons", "detection_rate"]
    return pd.DataFrame(rows).rename(columns={"n": "wagons"}) if rows else pd.DataFrame(columns=cols)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def read_metrics(path: str | Path) -> Metrics | None:
    """Read the evaluate stage's metrics and plot CSVs; ``None`` when ``metrics.json`` does not exist yet."""
    path = Path(path)
    if not path.exists():
        log.warning("%s not found: the evaluation report shows no test-split metrics", path)
        return None
    m = json.loads(path.read_text(encoding="utf-8"))
    seg, det, cat = m.get("segmentation", {}), m.get("detection", {}), m.get("category", {})
    per_class = pd.DataFrame({"class": list(seg.get("iou", {})), "iou": list(seg.get("iou", {}).values()),
                              "dice": [seg.get("dice", {}).get(k) for k in seg.get("iou", {})]})
    op = {k: det.get(k) for k in ("threshold", "target_far", "detection_rate", "false_alarm_rate",
                                  "val_false_alarm_rate", "n_positive", "n_negative")}
    conf = _csv(path.with_name("confusion.csv"))
    confusion = pd.crosstab(conf["actual"], conf["predicted"]) if {"actual", "predicted"} <= set(conf) \
        else pd.DataFrame()
    if not confusion.empty:   # square, same order on both axes, so the diagonal is the correct answers
        labels = sorted(set(confusion.index) | set(confusion.columns))
        confusion = confusion.reindex(index=labels, columns=labels, fill_value=0)
    scores = _csv(path.with_name("wagon_scores.csv"))
    if "split" in scores:
        scores = scores[scores["split"] == "test"]
    return Metrics(raw=m, per_class=per_class, roc=_csv(path.with_name("roc.csv")), auc=det.get("auroc"),
                   operating_point=op, per_threat_class=_groups(det.get("per_class")),
                   per_site=_groups(det.get("per_site")), category_accuracy=cat.get("accuracy"),
                   category_confusion=confusion, wagon_scores=scores)


# --- inspections (contract B) -------------------------------------------------------------------------------

@dataclass
class Inspections:
    """Inspection results: one row per scan, one per risk area, one per reason."""

    scans: pd.DataFrame
    areas: pd.DataFrame
    reasons: pd.DataFrame
    errors: list[str]                # unreadable files: shown in the report, never dropped silently


def _inspection_row(doc: dict[str, Any]) -> dict[str, Any]:
    """One inspection (cargoscan.inspect.result.Inspection.to_dict) as a flat row."""
    cargo, mass, mat = doc.get("cargo") or {}, doc.get("mass") or {}, doc.get("material") or {}
    prov, refs, meta = doc.get("provenance") or {}, doc.get("references") or {}, doc.get("meta") or {}
    timings = prov.get("timings_ms") or {}
    areas = doc.get("risk_areas") or []
    wagon = doc.get("wagon_score") or {}     # the engine's one wagon score (cargoscan.scoring.wagon) and decision
    declared = cargo.get("declared") or []
    declared = [declared] if isinstance(declared, str) else [c for c in declared if c]
    match, probs = cargo.get("match"), cargo.get("probabilities") or {}
    # how strongly the scan contradicts the declared goods: 1 − P(the most likely declared category)
    mismatch_score = 1.0 - max((probs.get(c, 0.0) for c in declared), default=0.0) if probs and declared \
        else None
    model = prov.get("model") or {}
    return {
        "scan_id": doc["scan_id"], "decision": doc.get("decision"),
        "suspicious": bool(doc.get("suspicious", True)), "complete": bool(doc.get("complete", False)),
        "failed": any(r.get("code", "").startswith("ANALYSIS_FAILED_") for r in doc.get("reasons") or []),
        "train_number_insp": meta.get("train_number"),
        "n_areas": len(areas), "wagon_score": float(wagon.get("score", float("nan"))),
        "threat_probability": wagon.get("probability"), "threat_alarm": bool(wagon.get("over", False)),
        "area_classes": ";".join(sorted({a.get("class") for a in areas})),
        "reason_codes": ";".join(r.get("code", "") for r in doc.get("reasons") or []),
        "reason_texts": "; ".join(r.get("text", "") for r in doc.get("reasons") or []),
        "predicted_category": cargo.get("predicted"), "declared_category": ";".join(declared) or None,
        "category_confidence": cargo.get("confidence"),
        "category_mismatch": None if match is None else not match,
        "category_mismatch_score": mismatch_score,
        "estimated_net_kg": mass.get("net_kg"), "estimated_net_sigma_kg": mass.get("sigma_kg"),
        "declared_net_kg": mass.get("declared_net_kg"), "weight_flag": bool(mass.get("flag", False)),
        "density_flag": bool(mat.get("density_flag", False)),
        "reference_similarity": refs.get("similarity_declared"),
        "model": f"{model.get('name', '?')} {model.get('version', '?')}",
        "total_ms": timings.get("total", sum(v for v in timings.values() if isinstance(v, (int,
                                                                                           float))) or None),
        "inspected_at": pd.to_datetime(doc.get("inspected_at"), utc=True, errors="coerce"),
    }


def read_inspections(directory: str | Path) -> Inspections:
    """Read every ``*.json`` inspection under ``directory`` (contract B; summary files are skipped)."""
    directory = Path(directory)
    rows, areas, reasons, errors = [], [], [], []
    files = sorted(directory.glob("*.json")) if directory.exists() else []
    if not files:
        log.warning("%s: no inspection results", directory)
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
            if "scan_id" not in doc or "decision" not in doc:
                continue  # not an inspection (e.g. a batch summary)
            rows.append(_inspection_row(doc))
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
            errors.append(f"{f.name}: {exc}")
            continue
        for a in doc.get("risk_areas") or []:
            x0, y0, x1, y1 = a.get("bbox_px", [0, 0, 0, 0])
            areas.append({"scan_id": doc["scan_id"], "id": a.get("id"), "class": a.get("class"),
                          "score": a.get("score"), "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                          "area_m2": a.get("area_m2"), "unit": a.get("unit")})
        for r in doc.get("reasons") or []:
            reasons.append({"scan_id": doc["scan_id"], "code": r.get("code"), "text": r.get("text")})
    area_cols = ["scan_id", "id", "class", "score", "x0", "y0", "x1", "y1", "area_m2", "unit"]
    scan_cols = list(_inspection_row({"scan_id": ""}))   # an empty batch still has every column
    return Inspections(pd.DataFrame(rows, columns=scan_cols), pd.DataFrame(areas, columns=area_cols),
                       pd.DataFrame(reasons, columns=["scan_id", "code", "text"]), errors)


# --- the exported model -------------------------------------------------------------------------------------

def read_model_card(model_dir: str | Path) -> str | None:
    """The model card's Markdown, or ``None`` when no model has been exported yet."""
    p = Path(model_dir) / "model_card.md"
    return p.read_text(encoding="utf-8") if p.exists() else None


def read_model_config(model_dir: str | Path) -> dict[str, Any] | None:
    """The artifact's ``config.json`` (``cargoscan.models.artifact.ArtifactConfig``) as a dict, if present."""
    p = Path(model_dir) / "config.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


# --- realism (the physics part) -----------------------------------------------------------------------------

#: (label, path in realism_stats' result, path in realism_targets.json, path of the targets' bands or None)
REALISM_PAIRS = (
    ("zero-pixel fraction, high", "zero_fraction.high", "zero_pixel_fraction.high", None),
    ("zero-pixel fraction, low", "zero_fraction.low", "zero_pixel_fraction.low", None),
    ("saturated fraction, high", "saturated_fraction.high", "saturated_pixel_fraction.high", None),
    ("median R = A_low / A_high", "median_r", "dual_energy_ratio_R.median_per_scan", None),
    ("noise σ of A_high", "sigma_a_high", "noise_sigma_of_A_high.sigma", "noise_sigma_of_A_high.bands"),
)


def realism_function() -> Callable[[np.ndarray], dict] | None:
    """``cargoscan.synth.realism.realism_stats`` when the physics part is installed, else ``None``."""
    try:
        from cargoscan.synth.realism import realism_stats
    except ImportError:
        return None
    return realism_stats


def read_realism_targets() -> dict[str, Any] | None:
    """The packaged real-scanner targets (``cargoscan/synth/data/realism_targets.json``), if present."""
    try:
        text = resources.files("cargoscan.synth").joinpath("data", "realism_targets.json").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
    return json.loads(text)
