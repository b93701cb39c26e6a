"""Cargo loads: payload-capped fills and heterogeneous goods."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.synth.cargo import CATEGORIES, PAYLOAD_KG, load_unit, payload_fill
from cargoscan.synth.scene import Scene, heterogeneity
from cargoscan.synth.wagons import create_wagon


def _unit(kind="flat", ident=("CSQU3054383",), seed=0):
    rng = np.random.default_rng(seed)
    s = Scene(240, 1200, 0.0138, 0.0125, 0.30)
    return s, create_wagon(kind, s, 0.8, list(ident) if kind == "flat" else ident, rng)[0], rng


def test_dense_goods_stop_at_the_payload():
    s, unit, rng = _unit()
    assert payload_fill(unit, "steel_products", 0.9) < 0.3          # a 40 ft box of steel is full by mass
    assert payload_fill(unit, "garments", 0.9) == 0.9                 # light goods fill by volume
    ld = load_unit(s, unit, "steel_products", 0.9, rng)
    assert ld.goods_mass() < 1.5 * PAYLOAD_KG[unit.kind]


def test_light_goods_fill_most_of_the_container():
    s, unit, rng = _unit(seed=3)
    ld = load_unit(s, unit, "garments", 0.9, rng)
    goods = sum(ld.goods.paths.values())
    r0, r1 = int(s.row_of(unit.z1)), int(s.row_of(unit.z0))
    loaded = (goods[r0:r1] > 0).mean()
    assert loaded > 0.6, loaded


def test_heterogeneity_keeps_the_mean_and_sets_the_spread():
    rng = np.random.default_rng(5)
    f = heterogeneity(rng, (300, 800), 0.0046, 0.005, 0.3, 0.005)
    assert f.dtype == np.float32 and f.shape == (300, 800) and (f > 0).all()
    assert f.mean() == pytest.approx(1.0, abs=0.03)
    assert float(np.log(f).std()) == pytest.approx(0.3, rel=0.15)
    assert (heterogeneity(rng, (10, 10), 0.0046, 0.005, 0.0, 0.005) == 1).all()


def test_longer_correlation_means_smoother_neighbours():
    def neighbour_corr(length):
        g = np.log(heterogeneity(np.random.default_rng(2), (300, 800), 0.0046, 0.005, 0.3, length))
        g -= g.mean()
        return float(np.mean(g[:, 1:] * g[:, :-1]) / np.mean(g * g))
    assert neighbour_corr(0.003) < neighbour_corr(0.02)


def test_metal_parts_are_more_heterogeneous_than_soft_goods():
    cat = CATEGORIES["machinery"]
    assert cat.metal_grain > cat.grain[0]
    assert CATEGORIES["liquids"].grain[0] == 0.0


def _packing_share(category, seed):
    s, unit, rng = _unit(seed=seed)
    ld = load_unit(s, unit, category, 0.9, rng)
    pack = sum(ld.packing.mass_kg(m) for m in ld.packing.paths)
    return pack / (pack + ld.goods_mass()), ld, unit


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_carton_board_weighs_what_real_board_weighs(seed):
    """Double-wall board is ~1 kg/m²: cartons and pallets are a few per cent of a garments load, not a third
    (the old walls were 6 mm of solid cellulose, ten times too heavy)."""
    share, _, _ = _packing_share("garments", seed)
    assert 0.01 < share < 0.15, share


def test_package_edges_seen_edge_on_are_faint_lines_not_opaque_ones():
    """The packages side by side along the beam stand a few cm apart, so no ray skims all their walls: the
    packaging path in any pixel stays far below the unit's width (it was 0.9 × the width on one line)."""
    _, ld, unit = _packing_share("garments", 4)
    board = ld.packing.paths["cellulose"]
    assert float(board.max()) < 0.2 * unit.width_m * 100, float(board.max())


def test_dense_loads_are_packed_to_the_payload():
    """A payload-packed load of dense goods draws its density from the top of the range and weighs more than
    half its payload (pallets, margins and the gaps between stacks keep it below), never far above it."""
    from cargoscan.synth.cargo import DENSE_QUANTILE

    masses, densities = [], []
    for seed in range(4):
        s, unit, rng = _unit(seed=seed)
        ld = load_unit(s, unit, "food", CATEGORIES["food"].fill[1], rng, dense=True)
        lo, hi = CATEGORIES["food"].density
        densities.append(ld.density)
        assert lo + DENSE_QUANTILE * (hi - lo) <= ld.density <= hi
        masses.append(ld.goods_mass())
    assert 0.5 * PAYLOAD_KG[unit.kind] < min(masses) and max(masses) < 1.25 * PAYLOAD_KG[unit.kind], masses


def test_paper_reels_are_wound_paper_not_solid_cellulose():
    """λ through the middle of a reel: the reels' width × 0.6-0.8 g/cm³ (wound paper), never solid cellulose."""
    s, unit, rng = _unit(seed=5)
    ld = load_unit(s, unit, "paper", 0.9, rng)
    lam = ld.goods.paths["cellulose"] * 1.5
    assert float(np.percentile(lam[lam > 0], 99)) < 0.85 * unit.width_m * 100


def _with_hollows(category, seeds=range(12)):
    """The first load of ``category`` (over ``seeds``) that records hiding places (a steel load may be bundles)."""
    for seed in seeds:
        s, unit, rng = _unit(seed=seed)
        ld = load_unit(s, unit, category, 0.9, rng)
        if ld.hollows:
            return s, ld
    raise AssertionError(f"no {category} load with hollows")


@pytest.mark.parametrize("category,air", [("tyres", False), ("paper", False), ("chemicals", False),
                                          ("steel_products", True)])
def test_objects_record_their_hiding_places(category, air):
    """Each hollow lies in the unit and in its own object: the goods' path runs through a tyre's casing, a reel's
    body and a drum, while a coil's eye is air through the whole coil."""
    s, ld = _with_hollows(category)
    u, g = ld.unit, ld.goods
    goods = sum(g.paths.values())
    for h in ld.hollows:
        assert u.x0 <= h.x0 < h.x1 <= u.x1 and u.z0 <= h.z0 < h.z1 <= u.z1
        assert 0 < h.depth_m <= u.width_m and h.solid == (category in ("paper", "chemicals"))
        r, c = int(g.row_of((h.z0 + h.z1) / 2)), int(g.col_of((h.x0 + h.x1) / 2))
        assert (goods[r, c] == 0) == air, (h, goods[r, c])


def test_boxed_goods_record_no_hollows():
    s, unit, rng = _unit(seed=1)
    assert load_unit(s, unit, "garments", 0.9, rng).hollows == []
