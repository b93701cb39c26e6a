"""Mass and density findings against synthetic truth (fake decomposer: λ = A/μ exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.declarations import load_categories
from cargoscan.inspect.material import Z_VALID, invert_map, mass_and_density, native_maps
from tests.inspect.conftest import MU, FakeDecomposer


def setup(lam_cargo=30.0, wall=3.1, h=60, w=200):
    a_high = np.zeros((h, w), np.float32)
    a_high[10:50, 20:180] = MU * (lam_cargo + wall)
    a_low = a_high * 1.02
    dec = FakeDecomposer()
    lam, zeff = invert_map(dec, a_high, a_low, a_high > 0, chunk=64)
    return a_high, lam, zeff, a_high > 0, dec


def test_net_mass_subtracts_container_walls():
    a_high, lam, zeff, load, dec = setup()
    meta = {"container_numbers": ["CSQU3054383"]}
    truth = 30.0 * 40 * 160 * 1.0 / 1000                    # λ × area (1 cm² pixels) in kg
    mass, mat, flags = mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), meta, InspectParams(), dec,
                                        {"net_weight_kg": truth}, load_categories()["garments"])
    assert abs(mass["net_kg"] - truth) / truth < 0.01
    assert mass["structure_type"] == "container" and mass["structure_kg"] > 0
    assert not mass["flag"] and not flags
    assert mat["overall"]["class"] == "organic"


def test_mass_flag_beyond_tolerance_and_sigma():
    a_high, lam, zeff, load, dec = setup()
    meta = {"container_numbers": ["CSQU3054383"]}
    truth = 30.0 * 40 * 160 / 1000
    p = InspectParams()
    ok, _, _ = mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), meta, p, dec, {"net_weight_kg": truth * 1.1},
                                None)
    bad, _, flags = mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), meta, p, dec,
                                     {"net_weight_kg": truth * 1.5}, None)
    assert not ok["flag"] and bad["flag"] and flags[0][0] == "MASS_MISMATCH"


def test_density_flag_for_dense_metal_declared_as_garments():
    a_high, lam, zeff, load, dec = setup(lam_cargo=160.0)           # A ≈ 6.5: dense, not starved (Z_eff valid)
    a_low = a_high * 1.6                                       # high Z: the fake's Z_eff ≈ 30
    lam, zeff = invert_map(dec, a_high, a_low, load)
    _, mat, flags = mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), {"container_numbers": ["X"]},
                                     InspectParams(), dec, None, load_categories()["garments"])
    assert mat["density_flag"] and flags[0][0] == "DENSITY_MISMATCH"
    assert "плотность" in flags[0][1] and "материал" in flags[0][1]


def _mass_errors(archive):
    """Per loaded scan of the archive: (true categories, estimate, σ, truth) with the synthesiser's own physics
    and decomposer, and the true label mask as the segmentation."""
    from cargoscan.archive import ArchivePaths, load_sample, read_table
    from cargoscan.archive.classes import class_names, threat_ids
    from cargoscan.data.channels import input_channels
    from cargoscan.inspect.material import default_decomposer

    truth = read_table(archive / "truth.csv")
    cats = load_categories()
    names = class_names()
    out = []
    for sid in ArchivePaths(archive).scan_ids():
        rows = [r for r in truth if r["scan_id"] == sid and r["true_category"]]
        if not rows:
            continue
        s = load_sample(archive, sid, labels=True)
        meta = s["meta"]
        a = input_channels(s["image"], names=("a_high", "a_low"))
        load = np.isin(s["mask"], [names.index("cargo")] + threat_ids())
        dec = default_decomposer(meta)
        lam, zeff = invert_map(dec, a[0], a[1], load)
        pitch = (meta["pixel_pitch_mm"]["row"], meta["pixel_pitch_mm"]["column"])
        lam_m, dark, psf = native_maps(dec, s["image"], meta, pitch, pitch, load)   # the engine's λ for the mass
        pf = float(np.mean([cats[r["true_category"]].packaging_fraction for r in rows]))
        mass, mat, _ = mass_and_density(lam, zeff, a[0], load, pitch, meta, InspectParams(), dec, None, None, pf,
                                        dark, psf, lam_m)
        true_kg = sum(float(r["true_net_weight_kg"]) for r in rows)
        allowed = set().union(*(cats[r["true_category"]].materials for r in rows))
        # the goods' own class, read over the goods: a compartment's steel wall is the threat's evidence, not theirs
        goods = load & ~np.isin(s["mask"], threat_ids())
        _, mat_goods, _ = mass_and_density(lam, zeff, a[0], goods, pitch, meta, InspectParams(), dec, None, None, pf,
                                           dark, psf, lam_m)
        # ... where the engine judges it: most of the goods inside Z_VALID (a starved load has no material evidence)
        judged = float(((a[0][goods] >= Z_VALID[0]) & (a[0][goods] <= Z_VALID[1])).mean()) >= 0.5
        assert not judged or mat_goods["overall"]["class"] in allowed | {"mixed"}, (sid, mat_goods["overall"], allowed)
        out.append(({r["true_category"] for r in rows}, mass["net_kg"], mass["sigma_kg"], true_kg, mass))
    assert out, "the fixture has no loaded wagon"
    return out


def _consistent(est: float, sigma: float, true_kg: float) -> bool:
    """The criterion: within 20 % of the truth, OR the truth within the reported ±2σ (a wide σ is only allowed
    where the estimator says λ is a lower bound: starved pixels and their PSF neighbours)."""
    return abs(est - true_kg) < 0.2 * true_kg or abs(est - true_kg) < 2 * sigma


#: Goods of dense machine parts: the PSF averages the transmission of thick castings with their thin
#: neighbours before the log (Jensen), and the estimate reads ~45 % low, beyond the reported σ (see below).
DENSE_PARTS = {"auto_parts", "machinery"}
#: A load at least this much at or next to the dark level (solid steel coils across a gondola were 55 % of it in
#: one draw of the fixture, 2.8 t read against 9.0 t) is only bounded: what lies behind zero counts is unknown, so
#: the estimate must read low and say so.
MOSTLY_DARK = 0.5


def test_mass_with_real_physics(tiny_archive):
    """Net mass within 20 % of truth.csv or truth within ±2σ for all goods but dense machine parts and loads
    mostly past the dark level (a lower bound, which must read low); the estimator never reads high beyond 2σ; organic goods read organic or mixed (over the goods' own pixels, where the engine
    judges the class)."""
    results = _mass_errors(tiny_archive)
    for cats, est, sigma, true_kg, mass in results:
        assert est < true_kg + 2 * sigma, (cats, est, sigma, true_kg)
        if mass["lower_bound"] and mass["lower_bound_fraction"] >= MOSTLY_DARK:
            assert est < true_kg, (cats, est, true_kg, mass)      # only a bound: it must read low
        elif not cats & DENSE_PARTS:
            assert _consistent(est, sigma, true_kg), (cats, est, sigma, true_kg)


def test_mass_of_dense_machine_parts(tiny_archive):
    """Dense auto parts in the fixture: the castings starve the detector (15 % of the load beyond A = 8 in the
    noiseless projection), so the estimate is reported as a lower bound; the PSF deconvolution brings it from
    47 % low to ~31 % low, and the truth lies within its 2σ (which counts the unmeasured mass behind the dark
    pixels and what the deconvolution changed)."""
    results = [r for r in _mass_errors(tiny_archive) if r[0] & DENSE_PARTS]
    if not results:
        pytest.skip("no dense-parts wagon in the fixture")
    for cats, est, sigma, true_kg, mass in results:
        assert mass["lower_bound"] and mass["lower_bound_kg"] > 0, mass
        assert est < true_kg and true_kg - est < 2 * sigma, (cats, est, sigma, true_kg)
        assert (true_kg - est) / true_kg < 0.4, (cats, est, true_kg)       # 47 % low before the deconvolution


def test_block_inversion_keeps_the_mass(tiny_archive):
    """Inverting on blocks (a model at full resolution, k = 3) changes the mass of every scan of the fixture by
    under 7 %, and typically by under 3 %, with the real physics: λ is not quite linear in A across the gaps
    between packages (generator 1.5.0 fixture: 1.2-3.3 %; in another draw four drums of liquid across a
    container, A 9-11 with air between the drums, changed by 6.1 %)."""
    from cargoscan.archive import ArchivePaths, load_sample
    from cargoscan.archive.classes import class_names, threat_ids
    from cargoscan.data.channels import input_channels
    from cargoscan.inspect.material import default_decomposer

    names = class_names()
    changes = []
    for sid in ArchivePaths(tiny_archive).scan_ids():
        s = load_sample(tiny_archive, sid, labels=True)
        a = input_channels(s["image"], names=("a_high", "a_low"))
        load = np.isin(s["mask"], [names.index("cargo")] + threat_ids())
        dec = default_decomposer(s["meta"])
        exact, _ = invert_map(dec, a[0], a[1], load)
        blocked, z = invert_map(dec, a[0], a[1], load, max_pixels=max(1, int(load.sum()) // 9))
        assert (blocked[~load] == 0).all() and (z[load] > 0).mean() > 0.9, sid
        changes.append(abs(blocked.sum() - exact.sum()) / exact.sum())
    assert max(changes) < 0.07 and float(np.median(changes)) < 0.03, changes


def test_invert_map_stops_when_the_deadline_passes():
    """The inversion checks the deadline before every chunk: it stops at the first check that raises."""
    calls = {"n": 0}

    def check():
        calls["n"] += 1
        if calls["n"] > 2:
            raise TimeoutError("limit")

    a = np.full((40, 50), 1.0, np.float32)
    with pytest.raises(TimeoutError):
        invert_map(FakeDecomposer(), a, a * 1.06, chunk=100, check=check)
    assert calls["n"] == 3
    lam, _ = invert_map(FakeDecomposer(), a, a * 1.06, chunk=100, check=lambda: None)
    assert np.allclose(lam, 1.0 / MU)
