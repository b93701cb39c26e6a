"""The acquisition chain after the ideal projection: noise, blur, streaks, quantisation.

Split from :mod:`cargoscan.synth.physics` to keep modules short; the physics module's docstring describes the
chain. Everything runs in float32 on whole images (2.1 Mpx per channel for a 700 × 3000 scan).
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_VALUE = 65535


def shift_columns(img: np.ndarray, shift: float) -> np.ndarray:
    """Sample ``img`` ``shift`` columns later (linear interpolation, edge column repeated)."""
    if shift == 0:
        return img
    whole = int(np.floor(shift))
    frac = np.float32(shift - whole)
    w = img.shape[-1]
    idx0 = np.clip(np.arange(w) + whole, 0, w - 1)
    idx1 = np.clip(idx0 + 1, 0, w - 1)
    return img[..., idx0] * (1 - frac) + img[..., idx1] * frac


def _blur(img: np.ndarray, sigma_row: float, sigma_col: float) -> np.ndarray:
    if sigma_row < 0.05 and sigma_col < 0.05:
        return img
    # Separable Gaussian PSF; a near-zero σ along one axis means a 1-tap kernel there.
    return cv2.GaussianBlur(img, (0, 0), sigmaX=max(sigma_col, 1e-3), sigmaY=max(sigma_row, 1e-3),
                            borderType=cv2.BORDER_REFLECT)


def acquire_chain(scanner, lookup: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(4, H, W) table lookup (A_high, A_low, Q_high, Q_low) → (2, H, W) uint16 scan.

    Args:
        scanner: the :class:`~cargoscan.synth.physics.Scanner` (its params and channel Swank factors).
        lookup: ideal attenuation and second-moment attenuation per channel.
        rng: the scan's random generator (all randomness is drawn from it, in a fixed order).
    """
    p = scanner.params
    t = np.exp(-lookup)  # T_high, T_low, T2_high, T2_low
    # The low pulse comes misregistration_cols later: shift its noiseless signal (noise stays white).
    t[1] = shift_columns(t[1], p.misregistration_cols)
    t[3] = shift_columns(t[3], p.misregistration_cols)
    out = np.empty((2,) + lookup.shape[1:], np.uint16)
    for c, (photons, channel) in enumerate(((p.photons_high, scanner.high), (p.photons_low, scanner.low))):
        signal = t[c]
        # Compound Poisson: var(T) = T2 / (N·I) with T2 the transmitted second moment, I the air Swank factor.
        var = t[2 + c] * np.float32(1.0 / (photons * channel.swank)) + np.float32(p.electronic_noise**2)
        noisy = signal + np.sqrt(var) * rng.standard_normal(signal.shape, dtype=np.float32)
        noisy = _blur(noisy, p.blur_row, p.blur_col)
        gains = 1.0 + p.streak_sigma * rng.standard_normal(signal.shape[0], dtype=np.float32)
        noisy *= gains[:, None].astype(np.float32)
        # Dark subtraction (slightly over-subtracted) then 16-bit quantisation: starved pixels read exactly 0.
        noisy -= np.float32(p.dark_offset)
        np.clip(noisy * np.float32(MAX_VALUE) + np.float32(0.5), 0, MAX_VALUE, out=noisy)
        out[c] = noisy.astype(np.uint16)
    return out
