"""The synthetic scanner against the real-scanner statistics (``realism-targets.json``).

The batch: four loaded container flat wagons (the kind the six real scans show), full height and full column
resolution, no concealment, measured exactly as the targets were (:func:`cargoscan.synth.realism.realism_stats`).

Tolerance (stated once, used everywhere): a statistic passes when it lies inside the real range widened on
each side by :data:`WIDEN` = 25% of the range's width. For σ(A) that holds in *every* one of the six bands; the
zero-pixel fraction and the median R are the batch medians of the per-scan values (the real ranges span six
scans); each scan's own median R must lie within the real scans' pooled 5th-95th percentiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.synth.config import LoadParams, SynthParams, ThreatParams
from cargoscan.synth.generator import render
from cargoscan.synth.manifest import plan_scans
from cargoscan.synth.realism import (
    aggregate_texture,
    load_targets,
    patch_texture,
    realism_stats,
    scan_texture,
    spectral_slope,
    texture_gates,
    texture_stats,
)

WIDEN = 0.25
TARGETS = load_targets()


def widened(lo: float, hi: float) -> tuple[float, float]:
    """The real range [lo, hi] widened by WIDEN × its width on each side."""
    pad = WIDEN * (hi - lo)
    return lo - pad, hi + pad


def assert_inside(name: str, value: float, lo: float, hi: float) -> None:
    a, b = widened(lo, hi)
    assert a <= value <= b, f"{name} = {value:.4f} outside the real range [{lo}, {hi}] widened to [{a:.4f}, {b:.4f}]"


@pytest.fixture(scope="module")
def stats():
    p = SynthParams(n=4, seed=2024, load=LoadParams(wagon_types={"flat": 1.0}, empty_rate=0.0, partial_rate=0.0),
                    threats=ThreatParams(wagon_rate=0.0))
    return [realism_stats(render(sp, p.geometry)[0]) for sp in plan_scans(p)]


def test_widened_range_is_what_the_docstring_says():
    assert widened(1.0, 2.0) == (0.75, 2.25)


@pytest.mark.slow
def test_zero_pixel_fraction(stats):
    for channel in ("high", "low"):
        value = float(np.median([s["zero_fraction"][channel] for s in stats]))
        assert_inside(f"zero fraction ({channel})", value, *TARGETS["zero_pixel_fraction"][channel])


@pytest.mark.slow
def test_noise_sigma_in_every_band(stats):
    t = TARGETS["noise_sigma_of_A_high"]
    sig = np.array([[np.nan if v is None else v for v in s["sigma_a_high"]] for s in stats])
    assert np.isfinite(sig).any(axis=0).all(), "every band of A needs pixels in the batch"
    for band, value, (lo, hi) in zip(t["bands"], np.nanmedian(sig, axis=0), t["sigma"]):
        assert_inside(f"sigma(A_high) in band {band}", float(value), lo, hi)


@pytest.mark.slow
def test_low_channel_is_noisier(stats):
    """Targets' note: the low-energy channel is about 1.3× noisier (checked where photon noise dominates)."""
    ratio = np.median([s["sigma_a_low"][0] / s["sigma_a_high"][0] for s in stats])
    assert 1.1 < ratio < 1.6, ratio


@pytest.mark.slow
def test_median_dual_energy_ratio(stats):
    r = TARGETS["dual_energy_ratio_R"]
    rng = r["median_per_scan"]
    for s in stats:
        assert r["all_scans"]["p5"] < s["median_r"] < r["all_scans"]["p95"], s["median_r"]
    assert_inside("median R of the batch", float(np.median([s["median_r"] for s in stats])), *rng)


@pytest.mark.slow
def test_air_reads_full_scale(stats):
    """Format 1.0 puts air at 65535, so noise clips about half of the air pixels there (real scans: 0.02-0.07%,
    their flat-field keeps air a few σ below full scale; importing real scans renormalises air to 65535)."""
    for s in stats:
        assert 0.02 < s["saturated_fraction"]["high"] < 0.5


@pytest.mark.slow
def test_empty_container_walls_and_roof():
    """Mid-height A of an empty container's side walls ≈ 0.15 (±25%); the roof seen edge-on makes a band whose
    median A (rows above half its peak) lies in the real range."""
    p = SynthParams(n=1, seed=99, load=LoadParams(wagon_types={"flat": 1.0}, empty_rate=1.0),
                    threats=ThreatParams(wagon_rate=0.0))
    img, s, _ = render(plan_scans(p)[0], p.geometry)
    a = -np.log(np.maximum(img[0], 1) / 65535.0)
    target = TARGETS["empty_container_A_high_approx"]
    for u in s.units:
        mid = int(s.row_of(2.3))
        inside = a[mid - 80:mid + 80, u["x0"] + 40:u["x1"] - 40]
        assert abs(float(np.median(inside)) - target) < WIDEN * target
        profile = np.median(a[:int(s.row_of(2.9)), u["x0"] + 40:u["x1"] - 40], axis=1)
        band = float(np.median(profile[profile > profile.max() / 2]))
        assert_inside("roof band A", band, *TARGETS["container_roof_band_A_high"])


# --- the texture measurement itself (hand-made patches with known answers) ------------------------------------

def power_law_patch(beta: float, rng: np.random.Generator, n: int = 64) -> np.ndarray:
    """A random field whose power spectrum falls as f^-beta."""
    f = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :])
    f[0, 0] = 1.0
    return np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) * f ** (-beta / 2)).real


@pytest.mark.parametrize("beta", [1.0, 2.0, 3.0])
def test_spectral_slope_recovers_a_power_law(beta):
    rng = np.random.default_rng(int(beta * 10))
    slopes = [spectral_slope(power_law_patch(beta, rng), 8, 30) for _ in range(40)]
    assert abs(float(np.median(slopes)) + beta) < 0.15


def test_patch_texture_of_a_ramp():
    """A ramp of 0.01 per column: std is the ramp's, every gradient is 0.01."""
    a = np.tile(np.arange(64) * 0.01, (64, 1)) + 2.0
    t = patch_texture(a)
    assert t["mean_A"] == pytest.approx(2.315)
    assert t["std_A"] == pytest.approx(np.arange(64).std() * 0.01)
    assert t["grad_p50"] == pytest.approx(0.01) and t["grad_p90"] == pytest.approx(0.01)


def test_texture_stats_bands_load_and_blocked_share():
    """Two 64-px patches of known mean A in different bands, air elsewhere, and one blocked pixel."""
    rng = np.random.default_rng(3)
    t = np.full((128, 192), 65535.0)
    t[:64, :64] = 65535 * np.exp(-(1.0 + 0.05 * rng.standard_normal((64, 64))))    # band 0.5-1.5
    t[64:, 64:128] = 65535 * np.exp(-(4.0 + 0.05 * rng.standard_normal((64, 64))))  # band 3-5
    t[64, 64] = 0.0                                                                   # fully blocked
    image = np.stack([t, t]).astype(np.uint16)
    s = texture_stats([image])
    assert s["n_patches"] == 2
    assert s["bands"]["0.5-1.5"]["n"] == 1 and s["bands"]["3.0-5.0"]["n"] == 1
    assert "1.5-3.0" not in s["bands"]
    assert s["bands"]["0.5-1.5"]["std_A"] == pytest.approx(0.05, rel=0.1)
    assert s["load"]["blocked_share"] == pytest.approx(1 / (2 * 64 * 64))
    # the subsample (every 8 px: 64 points a patch) catches the blocked pixel, the patches' corner
    assert s["load"]["share_A_gt_6"] == pytest.approx(1 / 128)
    # a mask that excludes the second patch leaves only the first
    mask = np.zeros((128, 192), bool)
    mask[:64, :64] = True
    assert texture_stats([image], [mask])["n_patches"] == 1


def test_texture_stats_is_the_aggregate_of_per_scan_parts():
    """The generator measures each scan in its worker and aggregates: the same figures as measuring them together."""
    rng = np.random.default_rng(8)
    images = [np.stack([65535 * np.exp(-rng.uniform(0.2, 7.0) - 0.3 * rng.standard_normal((128, 256)))] * 2)
              .astype(np.uint16) for _ in range(3)]
    together = texture_stats(images)
    parts = aggregate_texture(scan_texture(im) for im in images)
    assert parts["n_patches"] == together["n_patches"] > 0 and parts["n_scans"] == 3
    assert parts["bands"] == together["bands"] and parts["load"] == together["load"]


def _real_stats(scale: float = 1.0, slope_shift: float = 0.0) -> dict:
    """Texture statistics equal to the real targets, the per-band values scaled and the slopes shifted."""
    target = TARGETS["texture"]
    bands = {b: {k: (v + slope_shift if k.startswith("spec_slope") else v * scale) for k, v in real.items()}
             for b, real in target["bands"].items()}
    return {"bands": bands, "load": {"share_A_gt_6": target["load"]["share_A_gt_6"],
                                     "blocked_share": target["load"]["blocked_share"]}}


def test_texture_gates_pass_at_the_targets_and_fail_outside_the_tolerance():
    gates = {g["gate"]: g["passed"] for g in texture_gates(_real_stats())}
    assert len(gates) == 4 * 5 + 2 and all(gates.values())
    assert all(g["passed"] for g in texture_gates(_real_stats(scale=1.2, slope_shift=0.45)))
    too_rough = {g["gate"]: g["passed"] for g in texture_gates(_real_stats(scale=1.3))}
    assert not too_rough["3.0-5.0/std_A"] and too_rough["3.0-5.0/spec_slope_high"]
    too_steep = {g["gate"]: g["passed"] for g in texture_gates(_real_stats(slope_shift=-0.6))}
    assert not too_steep["5.0-7.0/spec_slope_high"] and too_steep["5.0-7.0/std_A"]


def test_texture_gates_fail_an_unmeasured_band_and_the_load_shares():
    stats = _real_stats()
    del stats["bands"]["5.0-7.0"]
    stats["load"] = {"share_A_gt_6": 0.19, "blocked_share": 0.095}   # the default archive of generator 1.2.0
    gates = {g["gate"]: g for g in texture_gates(stats)}
    assert not gates["5.0-7.0/std_A"]["passed"] and gates["5.0-7.0/std_A"]["synthetic"] is None
    assert gates["1.5-3.0/grad_p90"]["passed"]
    assert not gates["load/share_A_gt_6"]["passed"] and not gates["load/blocked_share"]["passed"]
    assert gates["load/share_A_gt_6"]["allowed"] == [0.25, 0.6]
