"""Packing objects into a unit: by volume for light goods, by mass for dense ones, truth from the paths."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.synth.cargo import PAYLOAD_KG, load_unit
from cargoscan.synth.packing import STOWAGE
from cargoscan.synth.scene import Scene
from cargoscan.synth.wagons import create_wagon


def _unit(seed=0, size="20"):
    rng = np.random.default_rng(seed)
    s = Scene(720, 2600, 0.0046, 0.005, 0.30)
    ident = ["CSQU3054383", "CSQU3054384"] if size == "20" else ["CSQU3054383"]
    return s, create_wagon("flat", s, 0.5, ident, rng)[0], rng


@pytest.mark.parametrize("category", sorted(STOWAGE))
def test_objects_stay_inside_the_unit_and_truth_is_what_is_drawn(category):
    s, unit, rng = _unit(seed=4)
    ld = load_unit(s, unit, category, 0.9, rng)
    assert ld.items and ld.packages == len(ld.items)
    for pl in ld.items:
        assert unit.x0 - 1e-6 <= pl.x0 and pl.x1 <= unit.x1 + 1e-6
        assert pl.z0 >= unit.z0 - 1e-6 and pl.z1 <= unit.z1 + 0.05
    drawn = sum(pl.item.mass_kg() for pl in ld.items)
    assert ld.goods_mass() == pytest.approx(drawn, rel=0.02)        # clipped only at the unit's walls
    assert ld.goods_mass() <= PAYLOAD_KG[unit.kind]


def test_objects_in_one_row_across_the_beam_never_overlap():
    s, unit, rng = _unit(seed=5)
    ld = load_unit(s, unit, "footwear", 1.0, rng)
    for j in {pl.layer for pl in ld.items}:
        row = sorted((pl for pl in ld.items if pl.layer == j), key=lambda p: (p.x0, p.z0))
        for a in row:
            for b in row:
                if a is not b and abs(a.x0 - b.x0) < 1e-9:
                    assert a.z1 <= b.z0 + 1e-6 or b.z1 <= a.z0 + 1e-6


def test_a_dense_load_reaches_the_payload_and_spreads_over_the_floor():
    s, unit, rng = _unit(seed=6)
    ld = load_unit(s, unit, "paper", 1.0, rng, dense=True)
    assert 0.6 * PAYLOAD_KG[unit.kind] < ld.goods_mass() <= PAYLOAD_KG[unit.kind]
    assert max(pl.x1 for pl in ld.items) - min(pl.x0 for pl in ld.items) > 0.8 * (unit.x1 - unit.x0)


def test_light_goods_fill_by_volume_from_one_end():
    s, unit, rng = _unit(seed=7)
    ld = load_unit(s, unit, "garments", 0.5, rng)
    assert ld.goods_mass() < 0.5 * PAYLOAD_KG[unit.kind]
    span = max(pl.x1 for pl in ld.items) - min(pl.x0 for pl in ld.items)
    assert span < 0.8 * (unit.x1 - unit.x0)
