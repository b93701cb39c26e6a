"""Concealment sites read from the image alone, on synthetic scans of a loaded covered wagon and a flat wagon
with a container (the synthesiser's own wagons, small geometry), and on the constructed wagon."""

import numpy as np
import pytest
from scipy import ndimage

from cargoscan.synth.config import GeometryParams
from cargoscan.synth.generator import render
from cargoscan.synth.manifest import ScanPlan, UnitPlan
from cargoscan.tip.config import PlacementParams, TipParams
from cargoscan.tip.insertion import tip_image
from cargoscan.tip.library import create_threat, list_threats
from cargoscan.tip.placement import (
    DENSE_QUANTILE,
    DENSE_SHARE,
    SITES,
    allowed_region,
    attenuation_high,
    find_envelope,
    place,
)
from cargoscan.tip.project import Projector

PITCH_MM = 18.4
GEOMETRY = GeometryParams(rows=180, row_pitch_mm=PITCH_MM, column_scale=0.25)


def synthetic(wagon: str, category: str, seed: int = 1) -> np.ndarray:
    container = wagon == "flat"
    unit = UnitPlan("MSCU1234565" if container else "12345678", container, category, 0.9, 0)
    plan = ScanPlan(
        0, "32701RF06202502181747020", seed, "32701", "RF06", "2025-02-18T17:47:02+05:00", "2001", 1,
        "import", 5.0, wagon, "12345678", [unit], row_pitch_mm=PITCH_MM,
    )
    return render(plan, GEOMETRY)[0]


@pytest.fixture(scope="module")
def scans() -> dict[str, np.ndarray]:
    return {
        "covered": synthetic("covered", "garments"),
        "flat_container": synthetic("flat", "garments"),
        "covered_machinery": synthetic("covered", "machinery"),
    }


@pytest.mark.parametrize("scan", ["covered", "flat_container", "covered_machinery"])
@pytest.mark.parametrize("site", SITES)
def test_every_site_finds_a_place(scans, scan, site):
    image = scans[scan]
    env = find_envelope(image)
    rng = np.random.default_rng(0)
    foot = np.ones((6, 8), bool)
    a = attenuation_high(image)
    smooth = ndimage.uniform_filter(a, 7)
    region = allowed_region(env, site, PlacementParams().margin_px)
    for _ in range(20):
        y, x = place(image, foot, site, rng, envelope=env)
        win = (slice(y, y + 6), slice(x, x + 8))
        assert region[win].all()
        assert (a[win] > PlacementParams().wall_level).all()  # never in air
        assert not env.starved[win].any()
        if site == "underframe":
            assert y >= env.deck >= env.bottom  # below the floor: the deck line and under it
        else:
            assert y + 6 <= env.bottom  # every other site keeps off the bogie band
        if site == "hollowed_goods":
            # Over dense cargo: well above the wall level and in the body's upper quantile.
            assert smooth[win].min() >= 10 * PlacementParams().wall_level
            level = DENSE_SHARE * np.quantile(smooth[env.inside], DENSE_QUANTILE)
            assert smooth[win].min() >= level - 1e-4
        if site == "false_roof":
            assert y < env.top + 0.3 * (env.floor - env.top)
        if site == "false_floor":
            assert y >= env.floor
        if site == "false_front_wall":
            near = min(x - env.left, env.right - (x + 8))
            assert near < 0.15 * (env.right - env.left)


def test_front_wall_site_at_both_ends(scans):
    image = scans["covered"]
    env = find_envelope(image)
    rng = np.random.default_rng(3)
    xs = [place(image, np.ones((6, 4), bool), "false_front_wall", rng, envelope=env)[1] for _ in range(40)]
    mid = (env.left + env.right) / 2
    assert min(xs) < mid < max(xs)


def test_underframe_band_is_only_for_underframe_threats(scans):
    image = scans["covered"]
    env = find_envelope(image)
    assert env.under is not None and env.under.any()
    assert not env.under[: env.deck].any()
    for site in SITES:
        if site != "underframe":
            assert not allowed_region(env, site, 0)[env.bottom :].any()


def test_sites_on_the_constructed_wagon(wagon):
    env = find_envelope(wagon)
    for site in SITES:
        assert allowed_region(env, site, PlacementParams().margin_px).any(), site
    # The constructed wagon's floor is rows 86..89 and its bogies below: the deck line is found there.
    assert 84 <= env.deck <= 90


@pytest.mark.parametrize("scan", ["covered", "flat_container"])
def test_engine_places_the_whole_library(scans, scan):
    """``tip_image`` with every library threat on a synthetic scan: each threat lands at its site with labels
    (bulk voids and hollowed goods need dense, unstarved cargo: garments give it)."""
    from cargoscan.physics.scanner import Scanner

    image = scans[scan]
    projector = Projector(Scanner())
    env = find_envelope(image)
    for name in list_threats():
        params = TipParams(threats=(name,), threats_per_scan=(1, 1))
        placed = []
        for seed in range(4):  # a big draw may not fit a small crop: some seed must
            rng = np.random.default_rng(seed)
            out, placed = tip_image(image, (PITCH_MM, PITCH_MM), projector, rng, params)
            if placed:
                break
        assert placed, name
        site = create_threat(name, np.random.default_rng(0), (PITCH_MM, PITCH_MM)).site
        for p in placed:
            assert p.site == site and p.mask.any()
            rows = np.flatnonzero(p.mask.any(axis=1))
            if site == "underframe":
                assert rows.min() >= env.deck
            else:
                assert rows.max() < env.bottom
        assert (out != image).any()
