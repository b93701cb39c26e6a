"""The synthetic scanner against the real-scanner statistics (``realism-targets.json``).

A small batch of container flat wagons (the kind the targets were measured on) at the real row pitch, full
resolution. Tolerance: each statistic may lie outside the real range by at most 25% of the range's bound
(σ bands: the 2-3 bands with most pixels; six real scans are a small sample).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cargoscan.synth.config import LoadParams, SynthParams, ThreatParams
from cargoscan.synth.generator import render
from cargoscan.synth.manifest import plan_scans
from cargoscan.synth.realism import load_targets, realism_stats

TOL = 0.25


def _inside(value: float, lo: float, hi: float) -> bool:
    return lo * (1 - TOL) <= value <= hi * (1 + TOL)


@pytest.fixture(scope="module")
def batch():
    p = SynthParams(n=4, seed=2024, load=LoadParams(wagon_types={"flat": 1.0}, empty_rate=0.0, partial_rate=0.0),
                    threats=ThreatParams(wagon_rate=0.0))
    return [render(sp, p.geometry) for sp in plan_scans(p)], p


@pytest.mark.slow
def test_batch_statistics_within_real_ranges(batch):
    renders, _ = batch
    t = load_targets()
    stats = [realism_stats(img) for img, _, _ in renders]
    zero = np.median([s["zero_fraction"]["high"] for s in stats])
    assert _inside(zero, *t["zero_pixel_fraction"]["high"]), zero
    r = np.median([s["median_r"] for s in stats])
    assert _inside(r, *t["dual_energy_ratio_R"]["median_per_scan"]), r


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="noise level is the physics' calibration (photons per pixel), in progress")
def test_batch_noise_within_real_ranges(batch):
    renders, _ = batch
    t = load_targets()
    stats = [realism_stats(img) for img, _, _ in renders]
    sig = np.array([[np.nan if v is None else v for v in s["sigma_a_high"]] for s in stats])
    sig = np.nanmedian(sig, axis=0)
    checked = 0
    for value, (lo, hi) in zip(sig, t["noise_sigma_of_A_high"]["sigma"][:4]):
        if np.isfinite(value):
            assert _inside(value, lo, hi), (value, lo, hi)
            checked += 1
    assert checked >= 3


@pytest.mark.slow
def test_empty_container_attenuation():
    p = SynthParams(n=1, seed=99, load=LoadParams(wagon_types={"flat": 1.0}, empty_rate=1.0),
                    threats=ThreatParams(wagon_rate=0.0))
    img, s, _ = render(plan_scans(p)[0], p.geometry)
    a = -np.log(np.maximum(img[0], 1) / 65535.0)
    target = load_targets()["empty_container_A_high_approx"]
    for u in s.units:
        mid = int(s.row_of(2.3))
        inside = a[mid - 80:mid + 80, u["x0"] + 40:u["x1"] - 40]
        assert abs(float(np.median(inside)) - target) < 0.05
