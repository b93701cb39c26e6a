"""Tiled full-resolution inference with overlap blending, streamed over column windows.

A wagon is a long strip (≈700 rows × 4 000 columns; a 40 m scan three times that). The strip is cut into
column windows one tile wide; each window into row tiles; tiles overlap by ``overlap`` pixels and their logits
are blended with a weight that falls off linearly inside the overlap (so seams do not show). Columns are
*finalised* — turned into a class map and a score — as soon as no later window can touch them, and the float
working set (input channels, logits, blend buffers) is dropped. So the float memory is bounded by
``batch × tile²`` and not by the wagon's length; what grows with length is only the uint16 scan itself and the
compact per-pixel results (class uint8, score and attenuations float16).

The input channels of each window come from ``cargoscan.data.channels.input_channels`` — the same function
training uses — applied to the window's source columns plus a margin, so resampling at the window edges sees
real neighbours.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from cargoscan.data.channels import channels_from_transmission, input_channels
from cargoscan.data.tiling import blend_weight, load_weights  # the same seam blending and pooling as training
from cargoscan.models.artifact import ArtifactConfig
from cargoscan.scoring import wagon as W


class Deadline:
    """A wall-clock limit checked between units of work (raises :class:`TimeoutError`)."""

    def __init__(self, seconds: float | None):
        self.end = None if not seconds or seconds <= 0 else time.monotonic() + seconds
        self.seconds = seconds

    def check(self, where: str = "") -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise TimeoutError(f"превышен лимит {self.seconds:g} с{(' на этапе ' + where) if where else ''}")


@dataclass
class TiledResult:
    """Per-pixel results at the model pitch, plus the tile-averaged heads."""

    labels: np.ndarray        # (H', W') uint8 class id
    score: np.ndarray         # (H', W') float16 probability of that class
    a_high: np.ndarray        # (H', W') float16 attenuation −ln T, high energy
    a_low: np.ndarray         # (H', W') float16 attenuation, low energy
    label_logits: np.ndarray  # (M,) mean cargo-category logits over tiles with load in them
    embedding: np.ndarray     # (D,) mean encoder embedding over those tiles
    n_tiles: int
    threat_topk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # k highest P(any threat)
    # per column window: its [first, end) columns, its load-weighted sum of category logits, its load weight
    windows: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    window_logits: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float64))
    window_load: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))

    def span_logits(self, c0: int, c1: int) -> np.ndarray:
        """The mean cargo-category logits over model columns [c0, c1): each window weighted by its load and by
        the share of its columns inside the span (a window across two containers counts for each in part);
        the whole scan's mean when no loaded window touches the span."""
        if not len(self.windows):
            return self.label_logits
        inside = np.clip(np.minimum(self.windows[:, 1], c1) - np.maximum(self.windows[:, 0], c0), 0, None)
        share = inside / np.maximum(self.windows[:, 1] - self.windows[:, 0], 1)
        weight = share * self.window_load
        if weight.sum() <= 0:
            return self.label_logits
        return (share[:, None] * self.window_logits).sum(0) / weight.sum()

    @property
    def wagon_score(self) -> float:
        """The wagon score (:func:`cargoscan.scoring.wagon.wagon_score`) of the running top-k."""
        return W.wagon_score(self.threat_topk, max(1, self.threat_topk.size))


def starts(length: int, tile: int, stride: int) -> list[int]:
    """Tile start offsets covering ``length`` (the last tile flush with the end)."""
    if length <= tile:
        return [0]
    out = list(range(0, length - tile, stride))
    out.append(length - tile)
    return out




def classify(probs: np.ndarray, cfg: ArtifactConfig, threat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, h, w) probabilities → class map and its score, at the artifact's operating point.

    Non-threat classes take the arg-max; a threat class then overwrites where its probability reaches its
    threshold (``cfg.thresholds[name]``; without one: softmax — where it is the arg-max, multilabel — 0.5).
    Threat classes are applied in class order, so a later (higher-priority) class wins.
    """
    k = probs.shape[0]
    base = np.flatnonzero(~threat)
    labels = base[probs[base].argmax(0)].astype(np.uint8)
    top = None
    for c in np.flatnonzero(threat):
        t = cfg.thresholds.get(cfg.classes[c])
        if t is None and not cfg.multilabel:
            top = probs.argmax(0) if top is None else top
            where = top == c
        else:
            where = probs[c] >= (0.5 if t is None else t)
        labels[where] = c
    score = np.take_along_axis(probs, labels[None].astype(np.int64), 0)[0]
    assert k == len(cfg.classes)
    return labels, score.astype(np.float16)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Softmax in place (the logits are not needed afterwards): saves two full-size temporaries."""
    x -= x.max(axis=axis, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=axis, keepdims=True)
    return x


def model_shape(shape: tuple[int, int], src_pitch: tuple[float, float], dst_pitch: tuple[float, float]
                ) -> tuple[int, int]:
    """The (H', W') of a scan of ``shape`` resampled to the model pitch (as ``input_channels`` rounds)."""
    fy, fx = src_pitch[0] / dst_pitch[0], src_pitch[1] / dst_pitch[1]
    if abs(fy - 1) < 1e-6 and abs(fx - 1) < 1e-6:
        return shape
    return max(1, round(shape[0] * fy)), max(1, round(shape[1] * fx))


def window_channels(image: np.ndarray, c0: int, c1: int, src_pitch: tuple[float, float],
                    dst_pitch: tuple[float, float], names: tuple[str, ...], h_out: int) -> np.ndarray:
    """Input channels for model columns [c0, c1) from the matching source columns (with a margin)."""
    fx = src_pitch[1] / dst_pitch[1]
    if abs(fx - 1) < 1e-6 and abs(src_pitch[0] / dst_pitch[0] - 1) < 1e-6:
        return input_channels(image[:, :, c0:c1], names=names)
    margin = max(2, math.ceil(2 / fx))
    s0 = max(0, math.floor(c0 / fx) - margin)
    s1 = min(image.shape[2], math.ceil(c1 / fx) + margin)
    ch = input_channels(image[:, :, s0:s1], src_pitch, dst_pitch, names)
    off = int(round(c0 - s0 * fx))
    out = ch[:, :h_out, off:off + (c1 - c0)]
    if out.shape[2] < c1 - c0:  # rounding at the right edge: repeat the last column
        out = np.concatenate([out, np.repeat(out[:, :, -1:], c1 - c0 - out.shape[2], 2)], 2)
    if out.shape[1] < h_out:
        out = np.concatenate([out, np.repeat(out[:, -1:], h_out - out.shape[1], 1)], 1)
    return out


def infer_tiled(image: np.ndarray, src_pitch: tuple[float, float], cfg: ArtifactConfig, backend,
                tile: int, overlap: int, batch_size: int = 8, deadline: Deadline | None = None,
                threat: np.ndarray | None = None) -> TiledResult:
    """Run the backend over a whole scan, tile by tile, and blend.

    Three parts, each its own piece: :func:`_window_groups` cuts the scan into column windows of row tiles and
    groups windows to fill a batch; :class:`_Blender` accumulates the tiles' blended probabilities and hands back
    the columns no later window can touch; :class:`_Heads` pools the cargo-category logits and the embedding.

    Args:
        image: (2, H, W) uint16 scan.
        src_pitch: the scan's (row, column) pitch in mm.
        cfg: the model artifact's config (channels, pitch, normalisation, operating point).
        backend: a :class:`cargoscan.inspect.runtime.Backend`.
        tile: tile side at the model pitch.
        overlap: tile overlap.
        batch_size: tiles per backend call (several windows are grouped to fill a batch).
        deadline: checked between groups.
        threat: boolean per class; defaults to none.
    """
    deadline = deadline or Deadline(None)
    names, dst = tuple(cfg.in_channels), tuple(cfg.pitch_mm)
    h, w = model_shape(image.shape[1:], src_pitch, dst)
    threat = np.zeros(len(cfg.classes), bool) if threat is None else threat
    stride = max(1, tile - overlap)
    rows, cols = starts(h, tile, stride), starts(w, tile, stride)
    wy, wx = blend_weight(tile, overlap if len(rows) > 1 else 0), blend_weight(tile, overlap if len(cols) > 1 else 0)
    blender = _Blender(len(cfg.classes), h, tile, rows, wy[:, None] * wx[None, :])
    heads = _Heads(names, cfg)

    labels = np.zeros((h, w), np.uint8)
    score = np.zeros((h, w), np.float16)
    a_high = np.zeros((h, w), np.float16)
    a_low = np.zeros((h, w), np.float16)
    has_a = "a_high" in names and "a_low" in names
    top_k = int(cfg.extra.get("score_top_k", W.DEFAULT_TOP_K))
    topk = np.zeros(0, np.float32)
    for g, group, chans, tiles in _window_groups(image, src_pitch, cfg, h, w, tile, rows, cols, batch_size, deadline):
        batch = np.stack(tiles)
        outs = [backend.run(batch[i:i + batch_size]) for i in range(0, len(batch), batch_size)]
        mask = np.concatenate([o[0] for o in outs])
        probs = 1 / (1 + np.exp(-mask)) if cfg.multilabel else _softmax(mask.astype(np.float32, copy=False), 1)
        heads.add(tiles, np.concatenate([o[1] for o in outs]), np.concatenate([o[2] for o in outs]),
                  [(c0, min(c0 + tile, w)) for c0 in group])
        for j, c0 in enumerate(group):
            blender.add(probs[j * len(rows):(j + 1) * len(rows)], c0)
            ch = chans[j]
            if not has_a:  # the model does not take attenuations: compute them for the physics
                ch = window_channels(image, c0, c0 + ch.shape[2], src_pitch, dst, ("a_high", "a_low"), h)
            a_cols = slice(c0, c0 + ch.shape[2])
            a_high[:, a_cols] = ch[names.index("a_high") if has_a else 0]
            a_low[:, a_cols] = ch[names.index("a_low") if has_a else 1]
            # Columns before the next window's start are final.
            nxt = cols[g + j + 1] if g + j + 1 < len(cols) else w
            done = blender.finish(min(nxt, w))
            if done is not None:
                p0, p = done
                lb, sc = classify(p, cfg, threat)
                if threat.any():
                    topk = W.merge_topk(topk, W.threat_probability(p, threat, cfg.multilabel), top_k)
                labels[:, p0:p0 + p.shape[2]], score[:, p0:p0 + p.shape[2]] = lb, sc
    logits, embedding = heads.means()
    return TiledResult(labels, score, a_high, a_low, logits, embedding, n_tiles=len(rows) * len(cols),
                       threat_topk=topk, windows=np.asarray(heads.windows, np.int64).reshape(-1, 2),
                       window_logits=np.asarray(heads.window_logits, np.float64).reshape(len(heads.windows), -1),
                       window_load=np.asarray(heads.window_load, np.float64))


def _window_groups(image: np.ndarray, src_pitch: tuple[float, float], cfg: ArtifactConfig, h: int, w: int,
                   tile: int, rows: list[int], cols: list[int], batch_size: int, deadline: Deadline):
    """Yield ``(index of the group's first window, its windows' first columns, their channels in physical units,
    their normalised row tiles)``, as many windows per group as fill a batch."""
    names, dst = tuple(cfg.in_channels), tuple(cfg.pitch_mm)
    mean = np.asarray(cfg.norm_mean, np.float32)[:, None, None]
    std = np.asarray(cfg.norm_std, np.float32)[:, None, None]
    air = (channels_from_transmission(np.ones((2, 1, 1), np.float32), names) - mean) / std
    windows_per_group = max(1, batch_size // len(rows))
    for g in range(0, len(cols), windows_per_group):
        deadline.check("сегментация")
        group = cols[g:g + windows_per_group]
        tiles, chans = [], []
        for c0 in group:
            ch = window_channels(image, c0, min(c0 + tile, w), src_pitch, dst, names, h)
            chans.append(ch)
            x = (ch - mean) / std
            if x.shape[1] < tile or x.shape[2] < tile:  # a scan smaller than a tile: pad with air
                pad = np.broadcast_to(air, (len(names), max(tile, x.shape[1]), tile)).copy()
                pad[:, :x.shape[1], :x.shape[2]] = x
                x = pad
            for r0 in rows:
                tiles.append(x[:, r0:r0 + tile])
        yield g, group, chans, tiles


class _Blender:
    """Blended probabilities of the column windows, kept only until no later window can touch a column."""

    def __init__(self, k: int, h: int, tile: int, rows: list[int], weight: np.ndarray):
        self.h, self.tile, self.rows, self.weight = h, tile, rows, weight
        hp = max(h, tile)
        self.acc = np.zeros((k, hp, 0), np.float32)
        self.wsum = np.zeros((hp, 0), np.float32)
        self.p0 = 0                                  # first column held

    def add(self, probs: np.ndarray, c0: int) -> None:
        """Add one window's row tiles, ``probs`` (rows, K, tile, tile), starting at column ``c0``."""
        c1 = c0 + self.tile
        need = c1 - self.p0 - self.acc.shape[2]
        if need > 0:
            self.acc = np.concatenate([self.acc, np.zeros((self.acc.shape[0], self.acc.shape[1], need), np.float32)], 2)
            self.wsum = np.concatenate([self.wsum, np.zeros((self.wsum.shape[0], need), np.float32)], 1)
        for i, r0 in enumerate(self.rows):
            self.acc[:, r0:r0 + self.tile, c0 - self.p0:c1 - self.p0] += probs[i] * self.weight
            self.wsum[r0:r0 + self.tile, c0 - self.p0:c1 - self.p0] += self.weight

    def finish(self, upto: int) -> tuple[int, np.ndarray] | None:
        """The blended (K, h, n) probabilities of the held columns before ``upto`` and the first one's index, now
        dropped from the buffers; None when there are none."""
        done = upto - self.p0
        if done <= 0:
            return None
        p = self.acc[:, :self.h, :done] / self.wsum[None, :self.h, :done]
        start = self.p0
        self.acc, self.wsum, self.p0 = self.acc[:, :, done:], self.wsum[:, done:], self.p0 + done
        return start, p


class _Heads:
    """The cargo-category logits and the encoder embedding, averaged over tiles weighted by the load in them
    (:func:`cargoscan.data.tiling.load_weights`, as evaluate pools them), summed window group by group; the
    logits also kept per column window, for each unit's own category (:meth:`TiledResult.span_logits`)."""

    def __init__(self, names: tuple[str, ...], cfg: ArtifactConfig):
        self.ih = names.index("a_high") if "a_high" in names and "a_low" in names else None
        self.mean = float(cfg.norm_mean[self.ih]) if self.ih is not None else 0.0
        self.std = float(cfg.norm_std[self.ih]) if self.ih is not None else 1.0
        self.lsum, self.esum, self.nload = None, None, 0.0
        self.windows, self.window_logits, self.window_load = [], [], []

    def add(self, tiles: list[np.ndarray], label: np.ndarray, embedding: np.ndarray,
            windows: list[tuple[int, int]]) -> None:
        """One group's tiles, window-major (each window's row tiles in turn), and each window's columns."""
        if self.ih is not None:  # the share of each tile's pixels that attenuate (data.tiling.load_weights)
            load = load_weights(np.stack([t[self.ih] for t in tiles]) * np.float32(self.std) + np.float32(self.mean))
        else:
            load = np.ones(len(tiles))
        self.lsum = (label * load[:, None]).sum(0) + (0 if self.lsum is None else self.lsum)
        self.esum = (embedding * load[:, None]).sum(0) + (0 if self.esum is None else self.esum)
        self.nload += load.sum()
        per = len(tiles) // max(1, len(windows))
        for j, cols in enumerate(windows):
            part = slice(j * per, (j + 1) * per)
            self.windows.append(cols)
            self.window_logits.append((label[part] * load[part, None]).sum(0))
            self.window_load.append(float(load[part].sum()))

    def means(self) -> tuple[np.ndarray, np.ndarray]:
        return self.lsum / self.nload, self.esum / self.nload
