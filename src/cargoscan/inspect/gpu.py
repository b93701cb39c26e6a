"""Batched segmentation on a GPU: many wagons at once, tiles in big batches, bf16 and channels_last.

The CPU engine (:mod:`cargoscan.inspect.tiling`) streams one wagon at a time to bound host memory. On a GPU the
opposite pays: stack several wagons of equal shape, cut all their tiles at once, run them in large batches under
bf16 autocast with channels_last, blend by overlap-add on the device and return only the uint8 class maps. The
tile grid, blending weights and operating point are the same as on the CPU (``starts``, ``blend_weight``, and
the rule of :func:`cargoscan.inspect.tiling.classify`), so both give the same areas.

Used by ``benchmarks/bench_inspect.py --device cuda``; imports torch, so only import it when torch is wanted.
"""

from __future__ import annotations

import numpy as np
import torch

from cargoscan.inspect.tiling import blend_weight, starts
from cargoscan.models.artifact import ArtifactConfig


def classify_torch(probs: torch.Tensor, cfg: ArtifactConfig, threat: np.ndarray) -> torch.Tensor:
    """(N, K, H, W) probabilities → (N, H, W) uint8 classes; the rule of ``tiling.classify``."""
    top = probs.argmax(1)
    thr = torch.as_tensor(threat, device=probs.device)
    masked = torch.where(thr[None, :, None, None], torch.full_like(probs, -1.0), probs)
    labels = masked.argmax(1)
    for c in np.flatnonzero(threat):
        t = cfg.thresholds.get(cfg.classes[c])
        where = (probs[:, c] >= (0.5 if t is None else t)) if (t is not None or cfg.multilabel) else (top == c)
        labels = torch.where(where, torch.full_like(labels, int(c)), labels)
    return labels.to(torch.uint8)


@torch.inference_mode()
def segment_batch(x: torch.Tensor, forward, cfg: ArtifactConfig, tile: int, overlap: int, batch_size: int,
                  threat: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Segment N wagons of one shape.

    Args:
        x: (N, C, H, W) normalised input channels on the device.
        forward: tensor (B, C, t, t) → (mask logits, label logits, embedding), e.g. ``TorchBackend.forward``.
        cfg: the artifact config (classes, operating point, multilabel).
        tile, overlap: the tile grid.
        batch_size: tiles per forward call.
        threat: boolean per class.

    Returns:
        (N, H, W) uint8 class maps and (N, M) tile-averaged cargo-category logits.
    """
    n, c, h, w = x.shape
    if h < tile or w < tile:   # pad with the border value: the grid needs at least one whole tile
        x = torch.nn.functional.pad(x, (0, max(0, tile - w), 0, max(0, tile - h)), mode="replicate")
    hp, wp = x.shape[2:]
    stride = tile - overlap
    rows, cols = starts(hp, tile, stride), starts(wp, tile, stride)
    wy = torch.as_tensor(blend_weight(tile, overlap if len(rows) > 1 else 0), device=x.device)
    wx = torch.as_tensor(blend_weight(tile, overlap if len(cols) > 1 else 0), device=x.device)
    weight = wy[:, None] * wx[None, :]
    pos = [(r, q) for r in rows for q in cols]
    tiles = torch.stack([x[:, :, r:r + tile, q:q + tile] for r, q in pos], 1).flatten(0, 1)   # (N·L, C, t, t)
    masks, labels = [], []
    for i in range(0, tiles.shape[0], batch_size):
        m, lab, _ = forward(tiles[i:i + batch_size])
        masks.append(m)
        labels.append(lab)
    mask = torch.cat(masks).view(n, len(pos), -1, tile, tile)
    probs_t = torch.sigmoid(mask) if cfg.multilabel else torch.softmax(mask, 2)
    acc = torch.zeros((n, probs_t.shape[2], hp, wp), device=x.device)
    wsum = torch.zeros((hp, wp), device=x.device)
    for j, (r, q) in enumerate(pos):
        acc[:, :, r:r + tile, q:q + tile] += probs_t[:, j] * weight
        wsum[r:r + tile, q:q + tile] += weight
    probs = (acc / wsum)[:, :, :h, :w]
    cat = torch.cat(labels).view(n, len(pos), -1).mean(1)
    return classify_torch(probs, cfg, threat), cat
