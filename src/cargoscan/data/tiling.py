"""Tiles with overlap over a scan, and stitching tile predictions back into the whole wagon.

A scan smaller than a tile is padded with *air* (attenuation 0, the physical value of nothing in the beam) and
label 0 (background), so a tile never invents material.
"""

from __future__ import annotations

import numpy as np


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of side ``tile`` covering ``[0, length)`` with at least ``overlap`` overlap.

    The last tile is flush with the end, so every pixel is covered and no tile reaches past the edge (unless the
    whole length is shorter than one tile: then a single tile at 0, padded).
    """
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def tile_grid(shape: tuple[int, int], tile: int, overlap: int) -> list[tuple[int, int]]:
    """(y, x) origins of the tiles of a (H, W) image, row-major."""
    return [(y, x) for y in tile_starts(shape[0], tile, overlap) for x in tile_starts(shape[1], tile, overlap)]


def crop(array: np.ndarray, y: int, x: int, tile: int, fill: float | np.ndarray = 0) -> np.ndarray:
    """A (…, tile, tile) crop at (y, x), padded with ``fill`` past the edges: a number, or one per channel of a
    (C, H, W) array (``data.channels.air_channels``: air is A = 0 but a dual-energy ratio of 1)."""
    part = array[..., y:y + tile, x:x + tile]
    if part.shape[-2:] == (tile, tile):
        return np.ascontiguousarray(part)
    out = np.empty(array.shape[:-2] + (tile, tile), dtype=array.dtype)
    out[...] = np.asarray(fill, dtype=array.dtype).reshape(np.shape(fill) + (1, 1)) if np.ndim(fill) else fill
    out[..., :part.shape[-2], :part.shape[-1]] = part
    return out


def blend_weight(tile: int, overlap: int) -> np.ndarray:
    """1-D blending weight: a linear ramp over the overlap at each end, never zero (shared with inspection)."""
    ramp = np.ones(tile, dtype=np.float32)
    if overlap > 0:
        edge = (np.arange(overlap, dtype=np.float32) + 1) / (overlap + 1)
        ramp[:overlap] = edge
        ramp[-overlap:] = edge[::-1]
    return ramp


def blend_window(tile: int, overlap: int) -> np.ndarray:
    """(tile, tile) weights that fall off linearly over the overlap, so seams between tiles do not show."""
    ramp = blend_weight(tile, overlap)
    return np.outer(ramp, ramp)


def stitch(tiles: np.ndarray, origins: list[tuple[int, int]], shape: tuple[int, int], overlap: int
           ) -> np.ndarray:
    """Blend (N, K, t, t) tile outputs at ``origins`` into a (K, H, W) map (weighted mean over overlaps)."""
    n, k, t, _ = tiles.shape
    h, w = shape
    acc = np.zeros((k, max(h, t), max(w, t)), dtype=np.float32)
    weight = np.zeros(acc.shape[1:], dtype=np.float32)
    win = blend_window(t, overlap)
    for tile_out, (y, x) in zip(tiles, origins):
        acc[:, y:y + t, x:x + t] += tile_out * win
        weight[y:y + t, x:x + t] += win
    return (acc / np.maximum(weight, 1e-12))[:, :h, :w]


#: A_high (−ln T) above which a pixel holds load rather than air (the weight of a tile in a wagon's pooled heads).
LOAD_A = 0.05


def load_weights(a_high: np.ndarray) -> np.ndarray:
    """(N,) weight of each of N tiles ``a_high`` (N, h, w) in a wagon's cargo category and embedding: the share of
    its pixels that attenuate (a load, not air), plus a floor so that an empty wagon still averages. The one
    pooling that evaluate and the inspection engine share."""
    a = np.asarray(a_high)
    return (a > LOAD_A).reshape(len(a), -1).mean(axis=1) + 1e-3


def pool(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean over tiles of per-tile ``values`` (N, M) (cargo-category logits, embeddings)."""
    w = np.asarray(weights, np.float64)
    return (np.asarray(values) * w[:, None]).sum(0) / w.sum()
