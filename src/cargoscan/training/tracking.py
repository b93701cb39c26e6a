"""MLflow tracking: an ``sqlite:///`` store, run tags that tie a run to its code and data, overlay figures per
epoch, and the pyfunc model registered under an alias (``champion``), never a stage."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np

log = logging.getLogger(__name__)

CHAMPION = "champion"


def git_sha() -> str:
    """The commit of the working tree (``unknown`` outside git)."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256 (``models.artifact.sha256_file``, the one hashing helper), or "none" when it is absent."""
    from cargoscan.models.artifact import sha256_file

    return sha256_file(path) if Path(path).exists() else "none"


def run_tags(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Tags linking a run to the git commit, the ``dvc.lock`` it ran under and the DVC experiment name."""
    tags = {"git_sha": git_sha(), "dvc_lock_sha256": file_sha256("dvc.lock"),
            "dvc_exp_name": os.environ.get("DVC_EXP_NAME", "")}
    tags.update(extra or {})
    return tags


def experiment_id(tracking_uri: str, name: str, artifact_location: str) -> str:
    """The id of experiment ``name``, created with artifacts under ``artifact_location`` (not ./mlruns)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    Path(artifact_location).mkdir(parents=True, exist_ok=True)
    return client.create_experiment(name, artifact_location=Path(artifact_location).resolve().as_uri())


def create_run(tracking_uri: str, experiment: str, artifact_location: str, run_name: str,
               tags: dict[str, str]) -> str:
    """Create a run and return its id (created up front so every process and stage can log into it)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    run = client.create_run(experiment_id(tracking_uri, experiment, artifact_location), run_name=run_name, tags=tags)
    return run.info.run_id


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict → ``{"a.b": v}`` for MLflow params."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


class OverlayCallback(L.Callback):
    """Logs a figure of the first validation tiles (label vs prediction) to the MLflow run every epoch."""

    def __init__(self, tracking_uri: str, run_id: str, n: int = 2, mean=None, std=None):
        self.tracking_uri, self.run_id, self.n = tracking_uri, run_id, n
        self.mean, self.std = mean, std

    @L.pytorch.utilities.rank_zero_only
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not self.n or pl_module.overlay is None:
            return
        import matplotlib.pyplot as plt
        from mlflow.tracking import MlflowClient

        from cargoscan.data.dataset import plot_sample

        ov = pl_module.overlay
        client = MlflowClient(self.tracking_uri)
        for i in range(min(self.n, len(ov["image"]))):
            image = ov["image"][i].numpy()
            if self.mean is not None:  # back to physical units for display
                image = image * np.asarray(self.std)[:, None, None] + np.asarray(self.mean)[:, None, None]
            fig = plot_sample({"image": image, "mask": ov["mask"][i].numpy(), "meta": {}}, ov["pred"][i].numpy(),
                              title=f"{ov['meta']['scan_id'][i]} epoch {trainer.current_epoch}")
            client.log_figure(self.run_id, fig, f"overlays/epoch{trainer.current_epoch:03d}_{i}.png")
            plt.close(fig)


def tracking_uri_of(record: dict[str, Any]) -> str:
    """The tracking URI a ``train.json`` record was logged to (``MLFLOW_TRACKING_URI`` wins when set)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or record.get("tracking_uri") or "sqlite:///mlflow.db"
