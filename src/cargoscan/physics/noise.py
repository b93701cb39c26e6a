"""The acquisition chain after the ideal projection: noise, blur, streaks, quantisation.

Split from :mod:`cargoscan.physics.scanner` to keep modules short; the physics module's docstring describes the
chain. Everything runs in float32 on whole images (2.1 Mpx per channel for a 700 × 3000 scan).
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_VALUE = 65535


def _gaussian_taps(sigma: float, shift: float = 0.0) -> np.ndarray:
    """A normalised, odd-length 1-D Gaussian kernel of σ ``sigma`` px centred ``shift`` px after the anchor.

    With a shift, filtering samples the image ``shift`` px later (the kernel is centred off the anchor tap),
    which folds a sub-pixel sampling lag into the blur at no extra cost. Below σ = 0.05 px and without a shift
    it is a single tap.
    """
    if sigma < 0.05 and shift == 0:
        return np.ones(1, np.float32)
    sigma = max(sigma, 0.05)
    half = max(1, int(np.ceil(3.0 * sigma + abs(shift))))
    x = np.arange(-half, half + 1, dtype=np.float64) - shift
    if sigma < 0.3:   # too narrow to sample: linear interpolation of the shift
        k = np.clip(1.0 - np.abs(x), 0.0, None)
    else:
        k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def blur(img: np.ndarray, sigma_row: float, sigma_col: float, shift_col: float = 0.0) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) float32 image (rows, columns σ in px; mirrored borders), sampled
    ``shift_col`` columns later."""
    if sigma_row < 0.05 and sigma_col < 0.05 and shift_col == 0:
        return img
    return cv2.sepFilter2D(img, -1, _gaussian_taps(sigma_col, shift_col), _gaussian_taps(sigma_row),
                           borderType=cv2.BORDER_REFLECT)


def crosstalk(img: np.ndarray, sigma_row: float) -> np.ndarray:
    """Optical crosstalk between neighbouring detector channels: a Gaussian blur of σ ``sigma_row`` px across
    rows only (mirrored borders); below σ = 0.05 px none."""
    if sigma_row < 0.05:
        return img
    return cv2.sepFilter2D(img, -1, np.ones(1, np.float32), _gaussian_taps(sigma_row), borderType=cv2.BORDER_REFLECT)


def acquire_chain(scanner, lookup: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(4, H, W) table lookup (A_high, A_low, Q_high, Q_low) → (2, H, W) uint16 scan.

    Args:
        scanner: the :class:`~cargoscan.physics.scanner.Scanner` (its params and channel Swank factors).
        lookup: ideal attenuation and second-moment attenuation per channel.
        rng: the scan's random generator (all randomness is drawn from it, in a fixed order).
    """
    p = scanner.params
    t = np.exp(np.negative(lookup, out=np.empty_like(lookup)), dtype=np.float32)  # T_high, T_low, T2_high, T2_low
    out = np.empty((2,) + lookup.shape[1:], np.uint16)
    for c, (photons, channel) in enumerate(((p.photons_high, scanner.high), (p.photons_low, scanner.low))):
        # System PSF on the expected signal and its second moment: it moves photons, it does not add any. The
        # low pulse comes misregistration_cols later: its noiseless signal is sampled that much later, in the
        # same filter (noise stays white).
        signal = scanner.system_psf(t[c], c)
        second = scanner.system_psf(t[2 + c], c)
        # Compound Poisson: var(T) = T2 / (N·I) with T2 the transmitted second moment, I the air Swank factor;
        # the electronic noise is independent and Gaussian, so one draw carries both (the crosstalk below then
        # correlates a little of the read-out noise too, a negligible liberty that halves the random draws).
        second *= np.float32(1.0 / (photons * channel.swank))
        second += np.float32(p.electronic_noise**2)
        np.sqrt(second, out=second)
        second *= rng.standard_normal(signal.shape, dtype=np.float32)
        noisy = second
        noisy += signal
        # Scintillator light spreads into the neighbouring channels (rows), after the quanta are counted.
        noisy = scanner.crosstalk(noisy)
        # Per-channel gain streaks left after the flat-field calibration.
        gains = 1.0 + p.streak_sigma * rng.standard_normal(signal.shape[0], dtype=np.float32)
        # Dark subtraction (slightly over-subtracted) then 16-bit quantisation: starved pixels read exactly 0.
        # (noisy·gain − dark)·65535 + ½ rounds to the nearest count, in two passes over the image.
        noisy *= (gains * np.float32(MAX_VALUE))[:, None].astype(np.float32)
        noisy -= np.float32(p.dark_offset * MAX_VALUE - 0.5)
        np.clip(noisy, 0, MAX_VALUE, out=noisy)
        out[c] = noisy.astype(np.uint16)
    return out
