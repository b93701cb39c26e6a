"""DDP with two CPU processes (gloo) on the tiny dataset."""

import pytest

from cargoscan.training.config import TrainParams
from cargoscan.training.train import train

from .conftest import TINY_MODEL


@pytest.mark.slow
def test_ddp_two_cpu_processes(tiny_prepared_train, tmp_path):
    p = TrainParams(prepared_dir=str(tiny_prepared_train), out_dir=str(tmp_path / "train"), **TINY_MODEL, epochs=1,
                    batch_size=2, limit_train_batches=2, limit_val_batches=1, accelerator="cpu", devices=2,
                    strategy="ddp_spawn", tracking_uri=f"sqlite:///{tmp_path}/m.db",
                    artifact_location=str(tmp_path / "art"), overlay_samples=0)
    train(p, progress_bar=False)
    # ddp_spawn trains in child processes: read the result from the checkpoint they wrote. Each of the two
    # processes took 2 batches; the step count is per process.
    import torch
    ckpt = torch.load(tmp_path / "train" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["global_step"] == 2
    assert (tmp_path / "train" / "train.json").exists()
