"""Backends: onnxruntime and PyTorch agree on a real (tiny) SMP Unet, embedding included."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.runtime import OnnxBackend, create_backend, list_backends
from cargoscan.models.artifact import ArtifactConfig
from tests.inspect.conftest import export_smp_artifact


@pytest.fixture(scope="module")
def smp_artifact(tmp_path_factory):
    return export_smp_artifact(tmp_path_factory.mktemp("smp"))


@pytest.mark.slow
def test_onnx_and_torch_agree_on_smp_unet(smp_artifact):
    cfg = ArtifactConfig.load(smp_artifact)
    onnx_b = OnnxBackend(smp_artifact)
    assert onnx_b.embedding_name is not None              # the classification head's input was found
    torch_b = create_backend("torch", smp_artifact, cfg, InspectParams(backend="torch", device="cpu"))
    x = np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32)
    m1, l1, e1 = onnx_b.run(x)
    m2, l2, e2 = torch_b.run(x)
    assert m1.shape == m2.shape == (2, len(cfg.classes), 64, 64)
    assert np.allclose(m1, m2, atol=1e-3) and np.allclose(l1, l2, atol=1e-3)
    assert e1.shape == e2.shape and np.allclose(e1, e2, atol=1e-3)


def test_unknown_backend(smp_artifact):
    assert list_backends() == ["onnx", "torch"]
    with pytest.raises(ValueError, match="unknown backend"):
        create_backend("tensorrt", smp_artifact, ArtifactConfig.load(smp_artifact), InspectParams())
