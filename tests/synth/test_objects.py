"""Objects as the beam sees them: shapes projected along the beam, with their internal structure."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.synth.objects import BUILDERS, Frame, build, chord, tyre

ROW, COL = 0.0046, 0.005


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_object_has_goods_of_the_frame_shape(kind):
    f = Frame(0.6, 0.5, 0.4, COL, ROW)
    it = build(kind, f, np.random.default_rng(1))
    assert it.goods and it.mass_kg() > 0
    for layer in (it.goods, it.pack):
        for m, p in layer.items():
            assert p.shape == f.shape and p.dtype == np.float32, m
            assert (p >= -1e-4).all(), m


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown object kind"):
        build("sofa", Frame(1, 1, 1, COL, ROW), np.random.default_rng(0))


def test_chord_is_the_path_through_a_cylinder():
    u = np.array([0.0, 0.3, 0.5, 0.8])
    assert chord(u, 0.5, 0.3) == pytest.approx([0.0, 2 * np.sqrt(0.09 - 0.04), 0.6, 0.0], abs=1e-6)


def test_a_standing_tyre_is_a_ring_seen_through():
    f = Frame(0.8, 0.8, 0.25, COL, ROW)
    rubber = tyre(f, np.random.default_rng(0), standing=True).goods["rubber"]
    h, w = rubber.shape
    assert rubber[h // 2, w // 2] == 0                       # the hole
    assert rubber[h // 2, int(w * 0.1)] > 0                   # the ring
    assert rubber[2, 2] == 0                                  # outside the tyre


def test_a_lying_tyre_shows_its_hole_as_a_thinner_path():
    f = Frame(0.8, 0.25, 0.8, COL, ROW)
    rubber = tyre(f, np.random.default_rng(0), standing=False).goods["rubber"]
    mid = rubber[rubber.shape[0] // 2]
    assert mid[len(mid) // 2] < mid[int(len(mid) * 0.25)]     # through the hole less rubber than the walls


def test_a_drum_is_deepest_in_the_middle():
    it = build("drum", Frame(0.585, 0.88, 0.585, COL, ROW), np.random.default_rng(2))
    liquid = next(iter(it.goods.values()))
    row = liquid[liquid.shape[0] // 2]
    assert row.argmax() in range(len(row) // 2 - 3, len(row) // 2 + 3)
    assert row.max() == pytest.approx(58.5 - 0.24, abs=1.0)   # the inner diameter (cm)


def test_scaling_goods_scales_their_mass_only():
    it = build("carton_shoes", Frame(0.66, 0.38, 0.42, COL, ROW), np.random.default_rng(3))
    m, pack = it.mass_kg(), it.mass_kg("pack")
    it.scale_goods(1.2)
    assert it.mass_kg() == pytest.approx(1.2 * m, rel=1e-5) and it.mass_kg("pack") == pytest.approx(pack)
