"""Model input channels in physical units, shared by training (prepare) and inference (inspect).

One function turns a scan into the network's input, so the two sides cannot drift apart:

* ``a_high`` = −ln T_high and ``a_low`` = −ln T_low, the attenuations (no 8-bit conversion anywhere);
* ``ratio``  = (A_low + c) / (A_high + c), the dual-energy ratio that separates organics from metals, with a
  small offset ``c`` so that it stays finite and quiet in air.

Resampling to a target pitch bins the *transmission* (what a coarser detector would have counted) and takes the
logarithm afterwards; averaging A instead would bias thick, noisy regions.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_VALUE = 65535.0
#: Transmission floor: half a count. A starved pixel (0) reads as A = ln(131070) ≈ 11.8.
T_FLOOR = 0.5 / MAX_VALUE
RATIO_OFFSET = 0.1
CHANNELS = ("a_high", "a_low", "ratio")


def transmission(image: np.ndarray) -> np.ndarray:
    """(2, H, W) uint16 → float32 transmission in [T_FLOOR, 1]."""
    t = image.astype(np.float32) / np.float32(MAX_VALUE)
    return np.clip(t, T_FLOOR, 1.0)


def resample_transmission(t: np.ndarray, src_pitch_mm: tuple[float, float], dst_pitch_mm: tuple[float, float]
                          ) -> np.ndarray:
    """Bin or interpolate (C, H, W) transmission from one (row, column) pitch to another."""
    fy, fx = src_pitch_mm[0] / dst_pitch_mm[0], src_pitch_mm[1] / dst_pitch_mm[1]
    if abs(fy - 1) < 1e-6 and abs(fx - 1) < 1e-6:
        return t
    h, w = t.shape[1:]
    size = (max(1, round(w * fx)), max(1, round(h * fy)))
    interp = cv2.INTER_AREA if fx * fy <= 1 else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, size, interpolation=interp) for c in t])


def resample_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resample of a label mask to ``shape`` (H, W)."""
    if mask.shape == tuple(shape):
        return mask
    return cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def channels_from_transmission(t: np.ndarray, names: tuple[str, ...] = CHANNELS) -> np.ndarray:
    """(2, H, W) transmission → (C, H, W) float32 input channels named by ``names``."""
    a = -np.log(t)
    out = []
    for name in names:
        if name == "a_high":
            out.append(a[0])
        elif name == "a_low":
            out.append(a[1])
        elif name == "ratio":
            out.append((a[1] + RATIO_OFFSET) / (a[0] + RATIO_OFFSET))
        else:
            raise ValueError(f"unknown input channel {name!r}; known: {CHANNELS}")
    return np.stack(out).astype(np.float32)


def air_channels(names: tuple[str, ...] = CHANNELS) -> np.ndarray:
    """(C,) float32: what the channels ``names`` read through air (A = 0, ratio 1): the value to pad with."""
    return channels_from_transmission(np.ones((2, 1, 1), np.float32), tuple(names))[:, 0, 0]


def input_channels(image: np.ndarray, src_pitch_mm: tuple[float, float] | None = None,
                   dst_pitch_mm: tuple[float, float] | None = None, names: tuple[str, ...] = CHANNELS
                   ) -> np.ndarray:
    """A scan (2, H, W) uint16 → the model's (C, H', W') float32 input at the target pitch.

    Args:
        image: the scan, high energy then low.
        src_pitch_mm: the scan's (row, column) pitch; with ``dst_pitch_mm``, resample.
        dst_pitch_mm: the model's (row, column) pitch.
        names: which channels, in order.
    """
    t = transmission(image)
    if src_pitch_mm is not None and dst_pitch_mm is not None:
        t = np.clip(resample_transmission(t, src_pitch_mm, dst_pitch_mm), T_FLOOR, 1.0)
    return channels_from_transmission(t, names)
