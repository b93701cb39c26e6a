"""Projection renders the synthesiser's threat catalogue (``cargoscan.synth.threats``): its masses, mass laws and
materials, whatever the pitch."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.synth import threats as T
from cargoscan.tip.library import create_threat

PITCHES = [(5.0, 5.0), (8.0, 12.0)]


@pytest.mark.parametrize("pitch", PITCHES)
@pytest.mark.parametrize("name, kind", [("rifle", "rifle"), ("pistol", "pistol"), ("ammunition", "ammo_box")])
def test_firearms_weigh_whole_catalogue_pieces(name, kind, pitch):
    fa = T.create_firearm(kind)
    for seed in range(8):
        (inst,) = create_threat(name, np.random.default_rng(seed), pitch).instances
        pieces = inst.mass_kg / fa.mass_kg
        assert pieces == pytest.approx(round(pieces), abs=1e-3) and 1 <= round(pieces) <= fa.max_count
        assert inst.material == fa.material


@pytest.mark.parametrize("pitch", PITCHES)
def test_cigarettes_come_in_master_cases(pitch):
    for seed in range(8):
        (inst,) = create_threat("cigarettes_cases", np.random.default_rng(seed), pitch).instances
        cases = inst.mass_kg / T.CIGARETTE_CASE.mass_kg
        assert cases == pytest.approx(round(cases), abs=1e-3) and round(cases) >= 1


def test_drug_loads_follow_the_catalogue_law():
    lo, hi = T.DRUG_MASS_KG
    for seed in range(30):
        (inst,) = create_threat("drugs_bricks", np.random.default_rng(seed), (5.0, 5.0)).instances
        assert lo * 0.999 <= inst.mass_kg <= hi * 1.001 and inst.material in T.DRUGS


def test_grenades_weigh_what_the_catalogue_says():
    lo, hi = T.GRENADE.mass_kg
    for seed in range(20):
        (inst,) = create_threat("grenade", np.random.default_rng(seed), (5.0, 5.0)).instances
        assert lo <= inst.mass_kg <= hi
