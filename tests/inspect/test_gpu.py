"""The batched GPU path gives the CPU engine's class maps (run here on the CPU, fp32)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cargoscan.data.channels import input_channels
from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.gpu import segment_batch
from cargoscan.inspect.runtime import OnnxBackend, TorchBackend
from cargoscan.inspect.tiling import infer_tiled
from cargoscan.models.artifact import ArtifactConfig
from tests.inspect.conftest import build_stub_model
from tests.inspect.test_tiling import random_scan


@pytest.mark.parametrize("h,w", [(96, 400), (40, 150)])
def test_segment_batch_matches_cpu_engine(artifact, h, w):
    cfg = ArtifactConfig.load(artifact)
    threat = np.array([c in ("hidden_compartment", "void", "drugs", "weapon", "cigarettes") for c in cfg.classes])
    torch_b = TorchBackend(artifact, cfg, device="cpu", model_factory=lambda cfg: build_stub_model())
    scans = [random_scan(np.random.default_rng(s), h, w) for s in (1, 2, 3)]
    x = torch.from_numpy(np.stack([input_channels(s) for s in scans]))
    labels, cat = segment_batch(x, torch_b.forward, cfg, 64, 16, 7, threat)
    onnx_b = OnnxBackend(artifact)
    for i, s in enumerate(scans):
        ref = infer_tiled(s, cfg.pitch_mm, cfg, onnx_b, 64, 16, threat=threat)
        assert (labels[i].numpy() == ref.labels).mean() > 0.999
    assert cat.shape == (3, len(cfg.categories))
    assert InspectParams().bf16     # the GPU default; autocast is off on the CPU
