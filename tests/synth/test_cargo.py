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
