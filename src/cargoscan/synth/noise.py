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


def _gaussian_taps(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian kernel of σ ``sigma`` px (a single tap below 0.05 px)."""
    if sigma < 0.05:
        return np.ones(1, np.float32)
    half = max(1, int(np.ceil(3.0 * sigma)))
    x = np.arange(-half, half + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def blur(img: np.ndarray, sigma_row: float, sigma_col: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) float32 image (rows, columns σ in px; mirrored borders)."""
    if sigma_row < 0.05 and sigma_col < 0.05:
        return img
    return cv2.sepFilter2D(img, -1, _gaussian_taps(sigma_col), _gaussian_taps(sigma_row),
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
    out = np.empty((2,) + lookup.shape[1:], np.uint16)
    for c, (photons, channel) in enumerate(((p.photons_high, scanner.high), (p.photons_low, scanner.low))):
        signal, second = t[c], t[2 + c]
        if c == 1:
            # The low pulse comes misregistration_cols later: shift its noiseless signal (noise stays white).
            signal = shift_columns(signal, p.misregistration_cols)
            second = shift_columns(second, p.misregistration_cols)
        # System PSF on the expected signal and its second moment: it moves photons, it does not add any.
        signal = blur(signal, p.blur_row, p.blur_col)
        second = blur(second, p.blur_row, p.blur_col)
        # Compound Poisson: var(T) = T2 / (N·I) with T2 the transmitted second moment, I the air Swank factor;
        # the electronic noise is independent and Gaussian, so one draw carries both (the crosstalk below then
        # correlates a little of the read-out noise too, a negligible liberty that halves the random draws).
        second *= np.float32(1.0 / (photons * channel.swank))
        second += np.float32(p.electronic_noise**2)
        np.sqrt(second, out=second)
        second *= rng.standard_normal(signal.shape, dtype=np.float32)
        noisy = signal + second
        # Scintillator light spreads into the neighbouring channels (rows), after the quanta are counted.
        if p.crosstalk_row >= 0.05:
            noisy = cv2.sepFilter2D(noisy, -1, np.ones(1, np.float32), _gaussian_taps(p.crosstalk_row),
                                    borderType=cv2.BORDER_REFLECT)
        # Per-channel gain streaks left after the flat-field calibration.
        gains = 1.0 + p.streak_sigma * rng.standard_normal(signal.shape[0], dtype=np.float32)
        noisy *= gains[:, None].astype(np.float32)
        # Dark subtraction (slightly over-subtracted) then 16-bit quantisation: starved pixels read exactly 0.
        noisy -= np.float32(p.dark_offset)
        noisy *= np.float32(MAX_VALUE)
        noisy += np.float32(0.5)
        np.clip(noisy, 0, MAX_VALUE, out=noisy)
        out[c] = noisy.astype(np.uint16)
    return out
