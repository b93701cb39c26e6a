"""The acquisition chain: the system PSF softens edges, the quantum noise stays white along columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cargoscan.synth.noise import _gaussian_taps, blur
from cargoscan.synth.physics import Scanner, ScannerParams


@pytest.mark.parametrize("sigma,shift", [(1.0, 0.0), (1.2, 0.5), (0.1, 0.5), (0.0, 0.0)])
def test_taps_are_normalised_and_centred_on_the_shift(sigma, shift):
    k = _gaussian_taps(sigma, shift)
    x = np.arange(k.size) - k.size // 2
    assert k.size % 2 == 1 and k.sum() == pytest.approx(1.0, abs=1e-6)
    assert float((k * x).sum()) == pytest.approx(shift, abs=1e-3)


def test_blur_samples_later_by_the_shift():
    ramp = np.tile(np.arange(64, dtype=np.float32), (8, 1))
    out = blur(ramp, 0.0, 1.0, 0.5)
    assert np.allclose(out[:, 8:-8], ramp[:, 8:-8] + 0.5, atol=1e-4)


def _edge_width(row: np.ndarray) -> int:
    """Columns between 10% and 90% of a falling edge."""
    lo, hi = row.min(), row.max()
    return int(((row < hi - 0.1 * (hi - lo)) & (row > lo + 0.1 * (hi - lo))).sum())


def test_psf_softens_edges_but_noise_stays_white():
    params = dataclasses.replace(ScannerParams(), blur_row=1.2, blur_col=1.2, crosstalk_row=0.6, streak_sigma=0.0)
    sharp = dataclasses.replace(params, blur_row=0.0, blur_col=0.0, crosstalk_row=0.0)
    paths = {"steel": np.zeros((200, 400), np.float32)}
    paths["steel"][:, 200:] = 4.0                      # a 4 cm steel edge, A ≈ 1.2
    soft_img = Scanner(params).acquire(paths, np.random.default_rng(1))
    sharp_img = Scanner(sharp).acquire(paths, np.random.default_rng(1))
    a_soft = -np.log(soft_img[0].astype(float).mean(axis=0)[180:220] / 65535)
    a_sharp = -np.log(sharp_img[0].astype(float).mean(axis=0)[180:220] / 65535)
    assert _edge_width(a_soft) >= 2 and _edge_width(a_sharp) <= 1
    # on the flat steel the noise of adjacent columns is uncorrelated (pulses are independent in time) ...
    flat = -np.log(soft_img[0, :, 260:380].astype(float) / 65535)
    d = flat - flat.mean(axis=1, keepdims=True)
    col_corr = np.mean(d[:, 1:] * d[:, :-1]) / np.mean(d * d)
    row_corr = np.mean(d[1:] * d[:-1]) / np.mean(d * d)
    assert abs(col_corr) < 0.05
    # ... while the channels' optical crosstalk correlates adjacent rows a little
    assert row_corr > 0.1
