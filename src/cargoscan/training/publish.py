"""The ``export`` stage: the deployable artifact, then an MLflow pyfunc model registered under the alias
``champion`` when it beats the current champion on the evaluate metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import mlflow
import numpy as np

from cargoscan.models.artifact import ArtifactConfig
from cargoscan.training.config import ExportParams
from cargoscan.training.tracking import CHAMPION, file_sha256, tracking_uri_of

log = logging.getLogger(__name__)


class OnnxSegmenter(mlflow.pyfunc.PythonModel):
    """pyfunc over the exported ONNX graph: normalised (N, C, H, W) float32 in, ``mask`` and ``label`` logits out."""

    def load_context(self, context: Any) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(context.artifacts["onnx"], providers=["CPUExecutionProvider"])

    def predict(self, context: Any, model_input: np.ndarray, params: dict | None = None) -> dict[str, np.ndarray]:
        mask, label = self.session.run(["mask", "label"], {"image": np.asarray(model_input, dtype=np.float32)})
        return {"mask": mask, "label": label}


def register(cfg: ArtifactConfig, out: Path, run_id: str, tracking_uri: str, metric: str) -> dict[str, Any]:
    """Log the pyfunc into the training run, register a new version, and move ``champion`` to it if it wins."""
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient

    import onnxruntime as ort

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    example = np.zeros((1, len(cfg.in_channels), cfg.tile, cfg.tile), dtype=np.float32)
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    mask, label = sess.run(["mask", "label"], {"image": example})
    signature = infer_signature(example, {"mask": mask, "label": label})
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name="model", python_model=OnnxSegmenter(), signature=signature, input_example=example,
            artifacts={"onnx": str(out / "model.onnx"), "config": str(out / "config.json")},
            registered_model_name=cfg.name)
        for f in ("config.json", "model_card.md"):
            mlflow.log_artifact(str(out / f), "export")
    version = str(info.registered_model_version)
    mine = client.get_run(run_id).data.metrics.get(metric)
    try:
        champ = client.get_model_version_by_alias(cfg.name, CHAMPION)
        theirs = client.get_run(champ.run_id).data.metrics.get(metric) if champ.run_id else None
    except mlflow.exceptions.MlflowException:
        champ, theirs = None, None
    wins = champ is None or theirs is None or (mine is not None and mine > theirs)
    if wins:
        client.set_registered_model_alias(cfg.name, CHAMPION, version)
    log.info("registered %s version %s (%s=%s vs champion %s) → %s", cfg.name, version, metric, mine, theirs,
             "champion" if wins else "not champion")
    return {"name": cfg.name, "version": version, "champion": wins, "metric": metric, "value": mine,
            "champion_value": theirs, "run_id": run_id, "model_uri": info.model_uri}


def export(p: ExportParams, bench=None, inspect_params=None) -> dict[str, Any]:
    """Run the stage. Returns the written config and registration record.

    Args:
        p: the ``export`` section.
        bench: the ``bench`` section (:class:`cargoscan.bench.config.BenchParams`): its validation archive
            (``<out_dir>/val``) and ``target_far``, with ``p.decision_budget``, give the operating point
            (:mod:`cargoscan.training.calibrate`).
        inspect_params: the ``inspect`` section the validation inspections run with (defaults when None).
    """
    from cargoscan.models.export import write_artifact
    from cargoscan.training.train import load_module

    module, record = load_module(p.model_dir)
    metrics = json.loads((Path(p.reports_dir) / "metrics.json").read_text(encoding="utf-8"))
    stats = record["stats"]
    op = metrics["operating_point"]
    cfg = ArtifactConfig(
        name=p.name, version="", arch=record["arch"], encoder=record["encoder"],
        in_channels=tuple(stats["channels"]), classes=tuple(stats["classes"]), categories=tuple(stats["categories"]),
        pitch_mm=tuple(stats["pitch_mm"]), norm_mean=tuple(stats["norm_mean"]), norm_std=tuple(stats["norm_std"]),
        tile=int(stats["tile"]), overlap=int(stats["overlap"]), multilabel=bool(record.get("multilabel", False)),
        thresholds=dict(op["class_thresholds"]), wagon_threshold=float(op["wagon_threshold"]),
        thresholds_version=file_sha256(Path(p.reports_dir) / "metrics.json")[:12],
        extra={"model_kwargs": record.get("model_kwargs") or {}, "score_top_k": op["score_top_k"],
               "target_far": op["target_far"], "run_id": record.get("run_id"),
               "dvc_lock_sha256": file_sha256("dvc.lock"), "score": "top-k mean of P(any threat class)"})
    out = Path(p.out_dir)
    data = {k: stats.get(k) for k in ("scans", "tiles", "channels")}
    cfg = write_artifact(module.model, cfg, out, metrics, data, p.opset, p.parity_atol)
    cfg = seal_operating_point(cfg, out, bench, metrics, data, inspect_params, p.decision_budget,
                               p.decision_confidence)
    reg = {}
    if p.register and record.get("run_id"):
        reg = register(cfg, out, record["run_id"], tracking_uri_of(record), p.champion_metric)
        # Kept beside, not inside, config.json: the registry version is known only after the files are hashed.
        (out / "registry.json").write_text(json.dumps(reg, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return {"config": json.loads(cfg.to_json()), "registry": reg}


def seal_operating_point(cfg: ArtifactConfig, out: Path, bench, metrics: dict[str, Any], data: dict[str, Any],
                         inspect_params=None, decision_budget: float = 0.03,
                         decision_confidence: float | None = 0.95) -> ArtifactConfig:
    """Calibrate the wagon score, choose its threshold and the declaration checks' joint thresholds on the
    validation archive, and seal them into the artifact (config.json and the model card); without the archive,
    keep evaluate's threshold and the checks' physical rules, and say so."""
    import dataclasses

    from cargoscan.models.export import model_card
    from cargoscan.inspect.config import InspectParams
    from cargoscan.training.calibrate import (category_fusion, decision_point, inspect_archive,
                                             mass_calibration, operating_point)

    val = Path(bench.out_dir) / "val" if bench is not None else None
    if val is None or not (val / "scans").is_dir():
        log.warning("no validation archive (%s): the operating point stays evaluate's, uncalibrated", val)
        cfg = dataclasses.replace(cfg, extra={**cfg.extra, "operating_point": {"chosen_on": "evaluate: val split"}})
    else:
        df = inspect_archive(out, val, inspect_params, bench.workers)
        masses, mass_evidence = mass_calibration(df, val, inspect_params or InspectParams())
        if masses is not None:      # the budget judges the mass check as deployment will: calibrated
            df["evidence_mass"] = mass_evidence
        fusion, cargo = category_fusion(df, val, list(cfg.categories),
                                        (inspect_params or InspectParams()).category_max_declared_probability)
        if fusion is not None:      # the budget judges the cargo check as deployment will: by the fusion
            df["evidence_cargo"] = cargo
        scores, truth = df["score"].to_numpy(np.float64), df["has_threat"].to_numpy(bool)
        op = operating_point(scores, truth, bench.target_far)
        decision = decision_point(df, op["threshold"], decision_budget, decision_confidence)
        cfg = dataclasses.replace(
            cfg, wagon_threshold=op["threshold"], calibration=op["calibration"],
            extra={**cfg.extra, "target_far": bench.target_far,
                   "operating_point": {"chosen_on": str(val), **op["val"]},
                   "decision": {"chosen_on": str(val), **decision},
                   **({"category_fusion": fusion} if fusion is not None else {}),
                   **({"mass_calibration": masses} if masses is not None else {})})
        log.info("operating point on %s: threshold %.4f → false alarms %s, detection %s", val, op["threshold"],
                 op["val"]["false_alarm_rate"], op["val"]["detection_rate"])
        log.info("decision budget %.3f: check thresholds %s → honest clean wagons red %s", decision_budget,
                 decision["thresholds"], decision["honest_clean_red_rate"])
    cfg.save(out)
    cfg = ArtifactConfig.load(out)
    (out / "model_card.md").write_text(model_card(cfg, metrics, data), encoding="utf-8")
    return cfg
