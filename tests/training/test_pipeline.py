"""train → resume → evaluate → export on a tiny archive, and what MLflow holds afterwards."""

import json

import pytest
from mlflow.tracking import MlflowClient

from cargoscan.models.artifact import ArtifactConfig, sha256_file
from cargoscan.training.config import EvaluateParams, ExportParams, TrainParams
from cargoscan.training.evaluate import evaluate
from cargoscan.training.publish import export
from cargoscan.training.train import train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tiny_prepared_train, tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    p = TrainParams(prepared_dir=str(tiny_prepared_train), out_dir=str(root / "train"), arch="fpn",
                    encoder="mobilenet_v2", epochs=1, batch_size=8, limit_train_batches=2, limit_val_batches=2,
                    accelerator="cpu", tracking_uri=f"sqlite:///{root}/mlflow.db",
                    artifact_location=str(root / "mlartifacts"), overlay_samples=1)
    first = train(p, progress_bar=False)
    resumed = train(TrainParams(**{**p.__dict__, "epochs": 2}), resume=True, progress_bar=False)
    reports = root / "reports"
    metrics = evaluate(EvaluateParams(prepared_dir=str(tiny_prepared_train), model_dir=p.out_dir,
                                      reports_dir=str(reports), accelerator="cpu"))
    exported = export(ExportParams(model_dir=p.out_dir, reports_dir=str(reports), out_dir=str(root / "export")))
    return {"p": p, "first": first, "resumed": resumed, "metrics": metrics, "export": exported, "root": root}


def test_resume_continues_the_same_run(run):
    first, resumed = run["first"], run["resumed"]
    assert first["global_step"] == 2 and resumed["global_step"] == 4
    assert resumed["run_id"] == first["run_id"]


def test_mlflow_run_holds_params_metrics_tags_and_artifacts(run):
    client = MlflowClient(run["p"].tracking_uri)
    r = client.get_run(run["first"]["run_id"])
    assert r.data.params["train.arch"] == "fpn" and r.data.params["data.tile"] == "64"
    assert {"train_loss", "val_loss", "val_miou", "val_iou_drugs", "test_wagon_auroc"} <= set(r.data.metrics)
    assert len(client.get_metric_history(r.info.run_id, "val_loss")) == 2   # one per epoch
    assert {"git_sha", "dvc_lock_sha256", "dvc_exp_name"} <= set(r.data.tags)
    paths = {a.path for a in client.list_artifacts(r.info.run_id, "overlays")}
    assert any(p.endswith(".png") for p in paths)
    assert {a.path for a in client.list_artifacts(r.info.run_id, "reports")} >= {"reports/metrics.json"}
    mv = client.get_model_version_by_alias("cargoscan-seg", "champion")
    assert mv.run_id == r.info.run_id


def test_evaluate_writes_reports(run):
    reports = run["root"] / "reports"
    m = json.loads((reports / "metrics.json").read_text())
    assert set(m["segmentation"]["iou"]) >= {"background", "drugs"}
    assert m["operating_point"]["chosen_on"] == "val" and m["wagons"]["test"] == 2
    assert (reports / "roc.csv").read_text().startswith("fpr,tpr")
    assert (reports / "confusion.csv").read_text().startswith("actual,predicted")


def test_export_artifact_matches_the_contract(run):
    out = run["root"] / "export"
    cfg = ArtifactConfig.load(out)
    assert cfg.sha256["model.onnx"] == sha256_file(out / "model.onnx")
    assert cfg.sha256["model.safetensors"] == sha256_file(out / "model.safetensors")
    assert cfg.wagon_threshold == run["metrics"]["operating_point"]["wagon_threshold"]
    assert cfg.extra["onnx_max_abs_diff"] < 1e-3 and cfg.in_channels == ("a_high", "a_low", "ratio")
    assert "Operating point" in (out / "model_card.md").read_text()
    from cargoscan.models.registry import build_model
    from safetensors.torch import load_file
    build_model(cfg).load_state_dict(load_file(out / "model.safetensors"))
