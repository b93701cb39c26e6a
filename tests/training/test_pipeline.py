"""train → resume → evaluate → export on the tiny synthetic archive mixed with TIP'd 'real' scans, and what
MLflow holds afterwards."""

import json

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cargoscan.archive import ArchivePaths, read_sidecar
from cargoscan.models.artifact import ArtifactConfig, sha256_file
from cargoscan.training.config import EvaluateParams, ExportParams, TrainParams
from cargoscan.training.evaluate import evaluate
from cargoscan.training.publish import export
from cargoscan.training.train import train

from .conftest import TINY_MODEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(mixed_prepared, real_archives, tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    p = TrainParams(prepared_dir=str(mixed_prepared), out_dir=str(root / "train"), **TINY_MODEL, epochs=1,
                    batch_size=4, limit_train_batches=2, limit_val_batches=2, accelerator="cpu",
                    tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=str(root / "mlartifacts"),
                    overlay_samples=1)
    first = train(p, progress_bar=False)
    resumed = train(TrainParams(**{**p.__dict__, "epochs": 2}), resume=True, progress_bar=False)
    reports = root / "reports"
    metrics = evaluate(EvaluateParams(prepared_dir=str(mixed_prepared), model_dir=p.out_dir, reports_dir=str(reports),
                                      accelerator="cpu", tip_dir=str(real_archives["tip"]),
                                      imported_dir=str(real_archives["imported"])))
    exported = export(ExportParams(model_dir=p.out_dir, reports_dir=str(reports), out_dir=str(root / "export")))
    return {"p": p, "first": first, "resumed": resumed, "metrics": metrics, "export": exported, "root": root}


def test_resume_continues_the_same_run(run):
    first, resumed = run["first"], run["resumed"]
    assert first["global_step"] == 2 and resumed["global_step"] == 4
    assert resumed["run_id"] == first["run_id"]
    assert first["model_kwargs"] == {"encoder_depth": 3, "decoder_channels": [32, 16, 8]}


def test_mlflow_run_holds_params_metrics_tags_and_artifacts(run):
    client = MlflowClient(run["p"].tracking_uri)
    r = client.get_run(run["first"]["run_id"])
    assert r.data.params["train.arch"] == "unet" and r.data.params["data.tile"] == "64"
    assert {"train_loss", "val_loss", "val_miou", "val_iou_drugs", "test_miou", "test_category_acc"} <= set(
        r.data.metrics)
    # AUROC is undefined (and not logged) when the tiny test split holds one kind of wagon only.
    assert ("test_wagon_auroc" in r.data.metrics) == (run["metrics"]["detection"]["auroc"] is not None)
    assert np.isfinite(r.data.metrics["train_loss"]) and np.isfinite(r.data.metrics["val_loss"])  # 255 ignored
    assert len(client.get_metric_history(r.info.run_id, "val_loss")) == 2   # one per epoch
    assert {"git_sha", "dvc_lock_sha256", "dvc_exp_name"} <= set(r.data.tags)
    paths = {a.path for a in client.list_artifacts(r.info.run_id, "overlays")}
    assert any(p.endswith(".png") for p in paths)
    assert {a.path for a in client.list_artifacts(r.info.run_id, "reports")} >= {"reports/metrics.json"}
    mv = client.get_model_version_by_alias("cargoscan-seg", "champion")
    assert mv.run_id == r.info.run_id


def test_evaluate_writes_reports_on_synthetic_wagons(run, mixed_prepared):
    reports = run["root"] / "reports"
    m = json.loads((reports / "metrics.json").read_text())
    index = pd.read_csv(mixed_prepared / "index.csv", dtype=str, keep_default_na=False)
    synthetic_test = index[(index["split"] == "test") & (index["source"] != "tip")]
    assert set(m["segmentation"]["iou"]) >= {"background", "drugs"}
    assert m["operating_point"]["chosen_on"] == "val" and m["wagons"]["test"] == len(synthetic_test)
    assert m["category"]["n"] == int((index.loc[index["split"] == "test", "category"] != "").sum())
    assert (reports / "roc.csv").read_text().startswith("fpr,tpr")
    assert (reports / "confusion.csv").read_text().startswith("actual,predicted")
    regions = pd.read_csv(reports / "visibility.csv", keep_default_na=False)
    assert set(regions["scan_id"]) <= set(index.loc[index["split"] == "test", "scan_id"])
    vis = m["visibility"]
    visible = set(regions.loc[regions["visible"].astype(str) == "True", "scan_id"])
    assert vis["wagons_visible"] == len(visible & set(synthetic_test["scan_id"]))   # TIP'd scans are reported apart
    assert sum(v["regions"] for v in vis["per_class"].values()) == len(regions)


def test_evaluate_reports_real_backgrounds_apart_without_seen_trains(run, mixed_prepared, real_archives):
    real = run["metrics"]["real"]
    index = pd.read_csv(mixed_prepared / "index.csv", dtype=str, keep_default_na=False)
    seen = set(index.loc[index["split"].isin(["train", "val"]), "train_number"])

    def unseen(root, kind):
        return [s for s in ArchivePaths(root).scan_ids()
                if read_sidecar(ArchivePaths(root).sidecar(s))["source"]["kind"] == kind
                and read_sidecar(ArchivePaths(root).sidecar(s))["train_number"] not in seen]

    assert real["real_tip_n"] == len(unseen(real_archives["tip"], "tip"))
    assert real["real_clean_n"] == len(unseen(real_archives["imported"], "imported"))
    assert real["real_tip_n"] + real["real_clean_n"] + real["left_out_seen_trains"] == (
        len(ArchivePaths(real_archives["tip"]).scan_ids()) + len(ArchivePaths(real_archives["imported"]).scan_ids()))
    assert real["threshold"] == run["metrics"]["operating_point"]["wagon_threshold"]
    scores = pd.read_csv(run["root"] / "reports" / "wagon_scores.csv", dtype={"scan_id": str})
    assert (scores["split"] == "real_clean").sum() == real["real_clean_n"]


def test_export_artifact_matches_the_contract(run):
    out = run["root"] / "export"
    cfg = ArtifactConfig.load(out)
    assert cfg.sha256["model.onnx"] == sha256_file(out / "model.onnx")
    assert cfg.sha256["model.safetensors"] == sha256_file(out / "model.safetensors")
    assert cfg.wagon_threshold == run["metrics"]["operating_point"]["wagon_threshold"]
    assert cfg.extra["onnx_max_rel_diff"] < 1e-3 and cfg.in_channels == ("a_high", "a_low", "ratio")
    assert cfg.extra["model_kwargs"] == run["first"]["model_kwargs"]
    assert "" not in cfg.categories  # unknown categories of real scans are not a class of the head
    card = (out / "model_card.md").read_text()
    assert "Operating point" in card and "Visibility at the model pitch" in card
    for name, v in run["metrics"]["visibility"]["per_class"].items():
        assert f"{name} {v['visible_share']:.0%} of {v['regions']}" in card
    from safetensors.torch import load_file

    from cargoscan.models.registry import build_model
    build_model(cfg).load_state_dict(load_file(out / "model.safetensors"))  # the shallow encoder, from extra


def test_export_seals_the_operating_point_chosen_on_a_validation_archive(run, tiny_archive, tmp_path):
    """With a validation archive, export scores it through the engine, fits the calibrator and chooses the
    threshold for target_far; both are sealed (the inspector loads the artifact) and the card says where from."""
    from cargoscan.bench.config import BenchParams
    from cargoscan.inspect.config import InspectParams
    from cargoscan.inspect.engine import Inspector
    from cargoscan.models.artifact import ArtifactConfig
    from cargoscan.scoring import Calibrator
    from cargoscan.archive import ArchivePaths
    from cargoscan.archive.classes import load_classes
    from cargoscan.training.calibrate import inspect_archive

    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "val").symlink_to(tiny_archive)
    p = run["p"]
    out = tmp_path / "export"
    export(ExportParams(model_dir=p.out_dir, reports_dir=str(run["root"] / "reports"), out_dir=str(out),
                        register=False), BenchParams(out_dir=str(tmp_path / "bench"), workers=1, target_far=0.2))
    cfg = ArtifactConfig.load(out)
    op = cfg.extra["operating_point"]
    assert op["chosen_on"].endswith("val") and cfg.calibration and Calibrator.from_dict(cfg.calibration)
    df = inspect_archive(out, tiny_archive, None, 1)
    scores, truth = df["score"].to_numpy(float), df["has_threat"].to_numpy(bool)
    clean = scores[~truth]
    assert op["n_clean"] == len(clean) and op["n_threat"] == int(truth.sum())
    assert (clean >= cfg.wagon_threshold).mean() <= 0.2                   # the target on the validation archive
    threats = {c.name for c in load_classes() if c.threat}
    labels = [json.loads(ArchivePaths(tiny_archive).label_json(s).read_text(encoding="utf-8")) for s in df["scan_id"]]
    assert truth.tolist() == [any(i.get("class") in threats for i in d.get("instances", [])) for d in labels]
    # the declaration checks' joint thresholds: never below the physical rules, sealed and loaded by the engine
    dec = cfg.extra["decision"]
    assert set(dec["thresholds"]) == {"cargo", "mass", "material"}
    assert all(t >= 1.0 for t in dec["thresholds"].values()) and dec["n"] == int(df["clean"].sum())
    insp = Inspector.load(out, InspectParams(references_dir=""))
    assert insp.load_error is None and insp.calibrator is not None
    assert insp.decision_thresholds == dec["thresholds"]
    # a few wagons are too few to fit the category fusion: the head decides alone, and the engine says so
    assert "category_fusion" not in cfg.extra and insp.fusion is None
    # ... and too few weighed units read at the dark level to calibrate the mass: lower bounds, said so
    assert "mass_calibration" not in cfg.extra and insp.mass_calibration is None
    card = (out / "model_card.md").read_text()
    assert "chosen on" in card and "Declaration checks** (sealed in config.json)" in card
    assert "Mass at the dark level**: uncalibrated" in card
