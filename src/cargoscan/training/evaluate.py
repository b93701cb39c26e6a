"""The ``evaluate`` stage: whole wagons of the held-out test split, stitched from tiles.

Outputs (``evaluate.reports_dir``): ``metrics.json`` (DVC metrics), ``roc.csv`` and ``pr.csv`` (DVC plots of
per-wagon detection), ``confusion.csv`` (cargo category, one row per wagon for DVC's confusion template) and
``wagon_scores.csv``. The operating point is chosen on the *validation* split for ``target_far`` false alarms on
clean wagons and then applied, unchanged, to the test split.

The main figures are on synthetic wagons. TIP'd real scans mixed in by ``prepare`` and the real archives
(``evaluate.tip_dir``, ``evaluate.imported_dir``), when present, are reported apart under ``real``: the detection
rate on real backgrounds with projected threats and the false-alarm rate on untouched imported scans, at the
same operating point, leaving out every scan of a train that was used for training or for the operating point.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from cargoscan.archive.io import scan_pitch
from cargoscan.archive.classes import class_names, threat_ids
from cargoscan.data.dataset import WagonDataset
from cargoscan.data.visibility import threat_visibility, visibility_summary, visible_scans
from cargoscan.data.channels import air_channels
from cargoscan.data.tiling import crop, load_weights, pool, stitch, tile_grid
from cargoscan.logs import progress
from cargoscan.scoring import wagon as W
from cargoscan.training import metrics as M
from cargoscan.training.config import EvaluateParams
from cargoscan.training.train import load_module

log = logging.getLogger(__name__)


@torch.no_grad()
def predict_scan(module: Any, x: np.ndarray, mean: np.ndarray, std: np.ndarray, tile: int, overlap: int,
                 batch_size: int = 16, a_high: int | None = None, air: np.ndarray | float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (K, H, W) of a whole scan and its category logits (M,), pooled over tiles as the engine
    pools them (``data.tiling.load_weights``: by the load in each tile; channel ``a_high`` of ``x``, when given).

    Tiles are cut in physical units (padded with ``air``, one value per channel), normalised, run in batches and
    blended back.
    """
    origins = tile_grid(x.shape[1:], tile, overlap)
    device = next(module.parameters()).device
    probs, cats, weights = [], [], []
    for i in range(0, len(origins), batch_size):
        batch = np.stack([crop(x, y, x0, tile, fill=air) for y, x0 in origins[i:i + batch_size]])
        inp = torch.from_numpy(((batch - mean) / std).astype(np.float32)).to(device)
        logits, cat = module(inp)
        probs.append(module.probabilities(logits.float()).cpu().numpy())
        cats.append(cat.float().cpu().numpy())
        weights.append(load_weights(batch[:, a_high]) if a_high is not None else np.ones(len(batch)))
    cats_all = np.concatenate(cats)
    return stitch(np.concatenate(probs), origins, x.shape[1:], overlap), pool(cats_all, np.concatenate(weights))


def score_split(module: Any, root: str, split: str, p: EvaluateParams, multilabel: bool,
                keep_confusion: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-wagon scores of one split, and (optionally) the pixel confusion over it."""
    ds = WagonDataset(root, split)
    stats = ds.data.stats
    mean, std = ds.data.mean, ds.data.std
    names, threats = class_names(), threat_ids()
    channels = list(stats["channels"])
    a_high = channels.index("a_high") if "a_high" in channels else None
    air = air_channels(tuple(channels))
    k = len(names)
    confusion = np.zeros((k, k), dtype=np.int64)
    rows = []
    with progress() as bar:
        task = bar.add_task(f"evaluate {split}", total=len(ds))
        for i in range(len(ds)):
            s = ds[i]
            probs, cat = predict_scan(module, s["image"], mean, std, int(stats["tile"]), int(stats["overlap"]),
                                      p.batch_size, a_high, air)
            if keep_confusion:
                confusion += M.pixel_confusion(probs.argmax(0), s["mask"], k)
            row = {"scan_id": s["meta"]["scan_id"], "split": split, "source": s["meta"].get("source", "synthetic"),
                   "has_threat": int(s["meta"]["has_threat"]),
                   "threat_classes": s["meta"]["threat_classes"], "sites": s["meta"]["sites"],
                   "category": s["meta"]["category"], "category_pred": ds.data.categories[int(cat.argmax())],
                   **wagon_scores(probs, threats, names, multilabel, p.score_top_k)}
            rows.append(row)
            bar.advance(task)
    return pd.DataFrame(rows), confusion


def wagon_scores(probs: np.ndarray, threats: list[int], names: list[str], multilabel: bool, k: int
                 ) -> dict[str, float]:
    """The wagon's ``score`` (:func:`cargoscan.scoring.wagon.wagon_score`) and one ``score_<class>`` per threat
    class."""
    return {"score": W.wagon_score(W.threat_probability(probs, threats, multilabel), k),
            **W.class_scores(probs, threats, names, k)}


def _clean(v: Any) -> Any:
    """NaN → None so metrics.json stays valid JSON."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 6)
    return v


def evaluate(p: EvaluateParams) -> dict[str, Any]:
    """Run the stage; returns the metrics written to ``metrics.json``."""
    module, record = load_module(p.model_dir, "cuda" if p.accelerator in ("gpu", "cuda") else "cpu")
    multilabel = bool(record.get("multilabel", False))
    names, threats = class_names(), threat_ids()
    val_all, _ = score_split(module, p.prepared_dir, "val", p, multilabel)
    test_all, confusion = score_split(module, p.prepared_dir, "test", p, multilabel, keep_confusion=True)
    val, test = val_all[val_all["source"] != "tip"], test_all[test_all["source"] != "tip"]

    # Operating point on validation: overall and per threat class, for target_far on clean wagons.
    clean_val = val.loc[val["has_threat"] == 0]
    threshold = W.threshold_for_far(clean_val["score"].to_numpy(), p.target_far)
    class_thresholds = {names[c]: W.threshold_for_far(clean_val[f"score_{names[c]}"].to_numpy(), p.target_far)
                        for c in threats}
    if clean_val.empty:
        log.warning("no clean wagons in the validation split: operating point defaults to %.2f", threshold)

    iou, dice = M.segmentation_scores(confusion)
    pos = test["has_threat"].to_numpy().astype(bool)
    cur = M.curves(test["score"].to_numpy(), pos)
    at_op = M.rates(test["score"].to_numpy(), pos, threshold)
    per_class, per_site = {}, {}
    for c in threats:
        name = names[c]
        has = test["threat_classes"].str.split(";").apply(lambda xs, n=name: n in xs).to_numpy()
        if has.any():
            per_class[name] = {"n": int(has.sum()),
                               "detection_rate": float((test["score"].to_numpy()[has] >= threshold).mean()),
                               "class_detection_rate": float((test[f"score_{name}"].to_numpy()[has]
                                                              >= class_thresholds[name]).mean())}
    for site in sorted({s for v in test["sites"] for s in str(v).split(";") if s}):
        has = test["sites"].str.split(";").apply(lambda xs, s=site: s in xs).to_numpy()
        per_site[site] = {"n": int(has.sum()),
                          "detection_rate": float((test["score"].to_numpy()[has] >= threshold).mean())}
    known = test_all[test_all["category"] != ""]  # TIP'd real scans have no cargo category
    cat_acc = float((known["category"] == known["category_pred"]).mean()) if len(known) else float("nan")

    metrics = {
        "segmentation": {"iou": dict(zip(names, map(float, iou))), "dice": dict(zip(names, map(float, dice))),
                         "miou": float(np.nanmean(iou)),
                         "threat_miou": float(np.nanmean(iou[threats])) if np.isfinite(iou[threats]).any()
                         else float("nan")},
        "detection": {"auroc": cur["auroc"], "ap": cur["ap"], "threshold": threshold,
                      "target_far": p.target_far, **at_op,
                      "val_false_alarm_rate": M.rates(val["score"].to_numpy(), val["has_threat"].to_numpy() == 1,
                                                      threshold)["false_alarm_rate"],
                      "per_class": per_class, "per_site": per_site},
        "operating_point": {"wagon_threshold": threshold, "class_thresholds": class_thresholds,
                            "score_top_k": p.score_top_k, "chosen_on": "val", "target_far": p.target_far},
        "category": {"accuracy": cat_acc, "n": int(len(known))},
        "wagons": {"val": int(len(val)), "test": int(len(test)), "test_with_threat": int(pos.sum())},
    }
    # Which of the test split's threats does the image show at the model pitch? Detection among those apart.
    regions = threat_visibility(p.prepared_dir, "test")
    seen = test["scan_id"].isin(visible_scans(regions)).to_numpy()
    metrics["visibility"] = {"per_class": visibility_summary(regions), "wagons_visible": int(seen.sum()),
                             "detection_rate_visible": float((test["score"].to_numpy()[seen] >= threshold).mean())
                             if seen.any() else float("nan")}
    real, real_rows = real_backgrounds(module, p, record, threshold, multilabel, test_all)
    if real:
        metrics["real"] = real
    metrics = _clean(metrics)
    out = Path(p.reports_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    pd.DataFrame({"fpr": cur["fpr"], "tpr": cur["tpr"]}).to_csv(out / "roc.csv", index=False, float_format="%.6g")
    pd.DataFrame({"recall": cur["recall"], "precision": cur["precision"]}).to_csv(out / "pr.csv", index=False,
                                                                                 float_format="%.6g")
    known[["category", "category_pred"]].rename(columns={"category": "actual", "category_pred": "predicted"}).to_csv(
        out / "confusion.csv", index=False)
    regions.to_csv(out / "visibility.csv", index=False, float_format="%.4g")
    pd.concat([val_all, test_all, real_rows]).to_csv(out / "wagon_scores.csv", index=False, float_format="%.6g")
    _log_to_mlflow(record, metrics, out)
    log.info("test: AUROC %s, detection %s at FAR %s (threshold %.4f from val), mIoU %s, category acc %s",
             metrics["detection"]["auroc"], metrics["detection"]["detection_rate"],
             metrics["detection"]["false_alarm_rate"], threshold, metrics["segmentation"]["miou"], cat_acc)
    return metrics


def real_backgrounds(module: Any, p: EvaluateParams, record: dict[str, Any], threshold: float, multilabel: bool,
                     test_all: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """Detection on TIP'd real scans and false alarms on untouched imported ones (empty when neither exists).

    Scans of trains in the prepared train or val split are left out: the model or its threshold has seen them.
    TIP'd scans already scored in the test split keep their scores; the rest are read from the archives and
    turned into channels exactly as ``prepare`` does.
    """
    tip_dir, imp_dir = Path(p.tip_dir), Path(p.imported_dir)
    if not (tip_dir.is_dir() or imp_dir.is_dir()):
        return {}, pd.DataFrame()
    from cargoscan.archive import load_sample
    from cargoscan.data.channels import input_channels
    from cargoscan.data.dataset import Prepared
    from cargoscan.data.mix import real_background_rates, real_sets

    data = Prepared(p.prepared_dir)
    stats = data.stats
    seen = set(data.index.loc[data.index["split"].isin(["train", "val"]), "train_number"].astype(str))
    sets = real_sets(tip_dir, imp_dir)
    scored = dict(zip(test_all["scan_id"], test_all["score"]))
    names, threats = class_names(), threat_ids()
    rows, kept = [], {"tip": [], "clean": []}
    for kind, pairs in sets.items():
        for root, sid in pairs:
            sample = load_sample(root, sid)
            if str(sample["meta"]["train_number"]) in seen:
                continue
            kept[kind].append((root, sid))
            if sid in scored:
                score = float(scored[sid])
            else:
                meta = sample["meta"]
                src = scan_pitch(meta)
                x = input_channels(sample["image"], src, tuple(stats["pitch_mm"]), tuple(stats["channels"]))
                probs, _ = predict_scan(module, x, data.mean, data.std, int(stats["tile"]), int(stats["overlap"]),
                                        p.batch_size)
                score = wagon_scores(probs, threats, names, multilabel, p.score_top_k)["score"]
            rows.append({"scan_id": sid, "split": f"real_{kind}", "source": kind, "has_threat": int(kind == "tip"),
                         "score": score})
    df = pd.DataFrame(rows)
    suspicious = {r["scan_id"]: r["score"] >= threshold for r in rows}
    out: dict[str, Any] = {**real_background_rates(suspicious, kept), "threshold": threshold,
                           "left_out_seen_trains": sum(len(v) for v in sets.values()) - len(rows)}
    if len(df):
        out["auroc"] = M.curves(df["score"].to_numpy(), df["has_threat"].to_numpy() == 1)["auroc"]
    log.info("real backgrounds: detection %s on %d TIP'd scans, false alarms %s on %d clean imported scans",
             out["real_detection_rate"], out["real_tip_n"], out["real_false_alarm_rate"], out["real_clean_n"])
    return out, df


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The scalar metrics under MLflow names (``test_wagon_auroc``, ``test_iou_drugs``, ...)."""
    d, s = metrics["detection"], metrics["segmentation"]
    out = {"test_wagon_auroc": d["auroc"], "test_wagon_ap": d["ap"], "test_detection_rate": d["detection_rate"],
           "test_false_alarm_rate": d["false_alarm_rate"], "test_miou": s["miou"],
           "test_category_acc": metrics["category"]["accuracy"], "wagon_threshold": d["threshold"]}
    out.update({f"test_iou_{k}": v for k, v in s["iou"].items()})
    for k in ("real_detection_rate", "real_false_alarm_rate"):
        if metrics.get("real", {}).get(k) is not None:
            out[k] = metrics["real"][k]
    return {k: float(v) for k, v in out.items() if v is not None}


def _log_to_mlflow(record: dict[str, Any], metrics: dict[str, Any], reports: Path) -> None:
    run_id = record.get("run_id")
    if not run_id:
        return
    from mlflow.tracking import MlflowClient

    from cargoscan.training.tracking import tracking_uri_of

    client = MlflowClient(tracking_uri_of(record))
    for k, v in flat_metrics(metrics).items():
        client.log_metric(run_id, k, v)
    for f in ("metrics.json", "roc.csv", "pr.csv", "confusion.csv"):
        client.log_artifact(run_id, str(reports / f), "reports")
