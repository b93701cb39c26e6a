"""Concealment among the packed objects: drugs in the hollows of tyres and reels, cigarettes behind cartons."""

from __future__ import annotations

import numpy as np

from cargoscan.synth.cargo import load_unit
from cargoscan.synth.concealment import conceal
from cargoscan.synth.scene import Scene
from cargoscan.synth.wagons import create_wagon


def _loaded(category, seed=0):
    rng = np.random.default_rng(seed)
    s = Scene(720, 2600, 0.0046, 0.005, 0.30)
    unit = create_wagon("flat", s, 0.5, ["CSQU3054383", "CSQU3054384"], rng)[0]
    return s, load_unit(s, unit, category, 0.9, rng), rng


def test_drugs_go_into_the_tyres_without_displacing_rubber():
    s, ld, rng = _loaded("tyres")
    before = ld.goods_mass()
    assert conceal(s, ld, {"kind": "drugs_in_cargo", "drug": "cocaine", "mass_kg": 30.0}, rng) == ["drugs"]
    assert ld.goods_mass() == before                              # the stash fills the tyres' air
    inst = s.instances[-1]
    assert inst.cls == "drugs" and inst.mass_kg <= 30.0
    inside = [pl for pl in ld.items if pl.x0 <= np.nonzero(inst.mask.any(0))[0].mean() * s.col_pitch_m
              + s.x_offset_m <= pl.x1]
    assert inside, "the stash sits within a tyre's extent"
    assert s.mass_kg("cocaine", inst.mask) > 0


def test_cigarettes_replace_the_back_rows_of_cartons():
    s, ld, rng = _loaded("footwear", seed=2)
    before, n = ld.goods_mass(), len(ld.items)
    rows = 1 + max(pl.layer for pl in ld.items)
    assert conceal(s, ld, {"kind": "cigarettes_in_cargo"}, rng) == ["cigarettes"]
    assert len(ld.items) < n and ld.packages == len(ld.items)
    assert ld.goods_mass() < before                               # the cartons taken out are no longer weighed
    assert {pl.layer for pl in ld.items} == set(range(rows))       # the front rows still hide them
    assert s.instances[-1].cls == "cigarettes"
