"""Tiled, streamed inference: covers every pixel, matches whole-image inference, bounded per-call size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cargoscan.data.channels import input_channels
from cargoscan.inspect.runtime import OnnxBackend
from cargoscan.inspect.tiling import Deadline, blend_weight, classify, infer_tiled, starts
from cargoscan.models.artifact import ArtifactConfig


@given(st.integers(1, 3000), st.integers(8, 512), st.integers(0, 200))
def test_starts_cover_everything(length, tile, overlap):
    overlap = min(overlap, tile - 1)
    s = starts(length, tile, tile - overlap)
    assert s[0] == 0 and s == sorted(set(s))
    covered = np.zeros(max(length, tile), bool)
    for a in s:
        covered[a:a + tile] = True
    assert covered[:length].all()
    assert max(s) + tile >= length and (length < tile or max(s) + tile == length)


def test_blend_weight_positive_and_symmetric():
    w = blend_weight(64, 16)
    assert (w > 0).all() and np.allclose(w, w[::-1]) and w[32] == 1


class Recording:
    """Wraps a backend and records the batch shapes it is given."""

    def __init__(self, inner):
        self.inner, self.shapes = inner, []

    def run(self, batch):
        self.shapes.append(batch.shape)
        return self.inner.run(batch)


def random_scan(rng, h, w):
    a = np.zeros((h, w), np.float32)
    for _ in range(6):
        y0, x0 = rng.integers(0, h - 4), rng.integers(0, w - 4)
        a[y0:y0 + rng.integers(3, h // 2), x0:x0 + rng.integers(3, w // 3)] += rng.uniform(0.2, 2.5)
    t = np.exp(-np.stack([a, a * 1.05]))
    return np.round(t * 65535).astype(np.uint16)


@pytest.mark.parametrize("h,w,tile,overlap", [(96, 400, 64, 16), (40, 333, 64, 8), (150, 97, 48, 0)])
def test_tiled_equals_whole_image(artifact, h, w, tile, overlap):
    """The stub's mask head is pointwise, so blending must reproduce whole-image inference exactly."""
    cfg = ArtifactConfig.load(artifact)
    backend = OnnxBackend(artifact)
    image = random_scan(np.random.default_rng(h + w), h, w)
    rec = Recording(backend)
    res = infer_tiled(image, cfg.pitch_mm, cfg, rec, tile, overlap, batch_size=4)
    x = input_channels(image)[None]
    mask, _, _ = backend.run(x)
    p = np.exp(mask[0] - mask[0].max(0))
    p /= p.sum(0)
    threat = np.array([c in ("hidden_compartment", "void", "drugs", "weapon", "cigarettes") for c in cfg.classes])
    labels, _ = classify(p, cfg, threat)
    res2 = infer_tiled(image, cfg.pitch_mm, cfg, backend, tile, overlap, batch_size=4, threat=threat)
    assert res.labels.shape == (h, w)
    assert (res2.labels == labels).mean() > 0.999
    assert np.allclose(res.a_high, x[0, 0], atol=0.01)
    assert all(s[0] <= 4 and s[2:] == (tile, tile) for s in rec.shapes)


def test_call_size_does_not_grow_with_length(artifact):
    cfg = ArtifactConfig.load(artifact)
    backend = OnnxBackend(artifact)
    sizes = []
    for w in (300, 1200):
        rec = Recording(backend)
        infer_tiled(random_scan(np.random.default_rng(w), 64, w), cfg.pitch_mm, cfg, rec, 64, 16, batch_size=4)
        sizes.append(max(int(np.prod(s)) for s in rec.shapes))
    assert sizes[0] == sizes[1]


def test_deadline_stops_tiling(artifact):
    cfg = ArtifactConfig.load(artifact)
    dl = Deadline(1e-9)
    with pytest.raises(TimeoutError):
        infer_tiled(random_scan(np.random.default_rng(0), 64, 300), cfg.pitch_mm, cfg, OnnxBackend(artifact), 64, 16,
                    deadline=dl)


def test_embedding_exposed_from_onnx_graph(artifact):
    backend = OnnxBackend(artifact)
    assert backend.embedding_name is not None
    rng = np.random.default_rng(1)
    _, label, emb = backend.run(rng.normal(size=(2, 3, 64, 64)).astype(np.float32))
    assert emb.shape == (2, 8) and label.shape == (2, len(ArtifactConfig.load(artifact).categories))
    assert not np.allclose(emb[0], emb[1])
