"""The acquisition chain: the system PSF softens edges, the quantum noise stays white along columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cargoscan.physics.noise import _gaussian_taps, blur
from cargoscan.physics.scanner import Scanner, ScannerParams


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


def test_public_psf_accessors_follow_the_chain():
    """``Scanner.moments``, ``system_psf`` and ``crosstalk`` are what the acquisition applies (TIP relies on
    them): a noiseless scan is crosstalk(system_psf(T)); the PSF keeps the flux, the low channel samples later."""
    params = dataclasses.replace(ScannerParams(), photons_high=1e12, photons_low=1e12, electronic_noise=0.0,
                                 streak_sigma=0.0, dark_offset=0.0, blur_row=1.1, blur_col=0.9, crosstalk_row=0.4)
    sc = Scanner(params)
    paths = {"steel": np.zeros((60, 80), np.float32)}
    paths["steel"][20:40, 30:50] = 6.0
    t, t2 = sc.moments(paths)
    assert np.allclose(t, sc.transmission(paths), rtol=1e-6)
    assert (t2[:, 25, 40] > t[:, 25, 40]).all() and np.allclose(t2[:, 0, 0], 1.0)  # hardened beam: 2nd moment falls less
    img = sc.acquire(paths, np.random.default_rng(0)).astype(np.float64)
    want = np.stack([sc.crosstalk(sc.system_psf(t[c], c)) for c in range(2)]) * 65535
    assert np.abs(img - want).max() <= 1.0
    delta = np.zeros((41, 41), np.float32)
    delta[20, 20] = 1.0
    x = np.arange(41) - 20
    for c, lag in ((0, 0.0), (1, params.misregistration_cols)):
        k = sc.system_psf(delta, c)
        assert k.sum() == pytest.approx(1.0, abs=1e-5)
        col = k.sum(axis=0)  # the kernel is centred `lag` columns after the pixel it is read at
        assert float((col * x).sum()) == pytest.approx(-lag, abs=1e-3)
        assert float((k.sum(axis=1) * x**2).sum()) == pytest.approx(params.blur_row**2, rel=0.05)
    xt = sc.crosstalk(delta)
    assert np.allclose(xt[:, 19], 0) and np.allclose(xt[:, 21], 0)  # rows only
    # a sub-pixel Gaussian sampled on 3 taps: some light in the neighbouring channels, variance at most σ²
    assert xt[19, 20] == pytest.approx(xt[21, 20]) and 0.01 < xt[19, 20] < 0.2
    assert 0 < float((xt[:, 20] * x**2).sum()) <= params.crosstalk_row**2
