"""The threat catalogue: every object listed and created by name, made of known materials, with masses within
its stated laws; the synthesiser's concealments and projection's patches read the same definitions."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.physics.materials import list_materials
from cargoscan.synth import threats as T


def test_factories_are_listed_and_created_by_name():
    assert T.list_firearms() == ["rifle", "pistol", "ammo_box"]  # the synthesiser's draw order
    assert T.list_compartments() == ["false_floor", "false_front_wall", "false_roof", "structure_compartment"]
    assert T.list_cavities() == ["bulk_void", "hollowed_goods"]
    for name in T.list_firearms():
        assert T.create_firearm(name).name == name
    for name in T.list_compartments():
        assert T.create_compartment(name).name == name
    for name in T.list_cavities():
        assert T.create_cavity(name).name == name


@pytest.mark.parametrize("create", [T.create_firearm, T.create_compartment, T.create_cavity])
def test_unknown_name_says_what_is_known(create):
    with pytest.raises(KeyError, match="known"):
        create("bazooka")


def test_materials_are_the_physics_ones():
    known = set(list_materials())
    used = {*T.DRUGS, T.BRICK.wrap, *T.CIGARETTE_CASE.materials, T.GRENADE.filling}
    used |= {m for name in T.list_firearms() for m in (T.create_firearm(name).drawn, T.create_firearm(name).material)}
    assert used <= known, used - known


def test_shares_are_distributions():
    assert sum(T.CONTENTS.values()) == pytest.approx(1.0)
    assert sum(T.DRUGS.values()) == pytest.approx(1.0)
    assert sum(T.create_firearm(n).share for n in T.list_firearms()) == pytest.approx(1.0)
    assert sum(T.CIGARETTE_CASE.materials.values()) == pytest.approx(1.0)


def test_draws_follow_their_laws():
    rng = np.random.default_rng(0)
    masses = np.array([T.draw_drug_mass(rng) for _ in range(2000)])
    lo, hi = T.DRUG_MASS_KG
    assert lo <= masses.min() and masses.max() <= hi
    # log-uniform: the median is the geometric mean of the bounds
    assert np.median(masses) == pytest.approx(np.sqrt(lo * hi), rel=0.2)
    drugs = [T.draw_drug(rng) for _ in range(2000)]
    assert drugs.count("cocaine") / len(drugs) == pytest.approx(T.DRUGS["cocaine"], abs=0.04)
    contents = [T.draw_contents(rng) for _ in range(2000)]
    for what, share in T.CONTENTS.items():
        assert contents.count(what) / len(contents) == pytest.approx(share, abs=0.04)


def test_the_planner_draws_from_the_catalogue():
    """The synthesiser's planner (synth.manifest) draws drugs, their masses and compartment contents by the
    catalogue's laws: over 400 wagons that all carry something, the shares and the mass range are the catalogue's."""
    import dataclasses

    from cargoscan.synth.config import SynthParams
    from cargoscan.synth.manifest import plan_scans

    p = SynthParams(n=400, seed=3)
    p = dataclasses.replace(p, threats=dataclasses.replace(p.threats, wagon_rate=1.0, compartment_filled_rate=1.0))
    specs = [t for plan in plan_scans(p) for t in plan.threats]
    masses = np.array([t["mass_kg"] for t in specs])
    lo, hi = T.DRUG_MASS_KG
    assert masses.min() >= lo and masses.max() <= hi and np.median(masses) == pytest.approx(np.sqrt(lo * hi), rel=0.35)
    assert np.mean([t["drug"] == "cocaine" for t in specs]) == pytest.approx(T.DRUGS["cocaine"], abs=0.05)
    contents = [t["contents"] for t in specs if "contents" in t]
    for what, share in T.CONTENTS.items():
        assert contents.count(what) / len(contents) == pytest.approx(share, abs=0.07)


def test_a_brick_block_holds_its_mass():
    """A block of bricks at the catalogue's packing: 1 kg of cocaine takes ≈ 1 L."""
    vol = T.BRICK.volume_m3("cocaine", 10.0)
    assert 0.008 < vol < 0.012


def test_a_master_case_weighs_what_its_cartons_do():
    case = T.CIGARETTE_CASE
    density = case.mass_kg / np.prod(case.size_m)
    assert 100 < density < 250  # kg/m³: cartons of cigarettes in cardboard
    lo, hi = case.count
    assert 1 <= lo < hi


@pytest.mark.parametrize("name", ["rifle", "pistol", "ammo_box"])
def test_firearm_templates_fit_their_canvas(name):
    """The template's parts lie inside the square canvas the synthesiser rotates it on, and its masses are sane."""
    fa = T.create_firearm(name)
    x0, z0, x1, z1 = fa.extent_m()
    assert max(abs(x0), abs(x1), abs(z0), abs(z1)) <= fa.size_m / 2
    assert 0.5 <= fa.mass_kg <= 15 and fa.max_count > 1 and fa.depth_m > 0 and fa.template_kg() > 0


def test_compartments_and_cavities_have_sizes():
    for name in T.list_compartments():
        c = T.create_compartment(name)
        assert 0.002 <= c.sheet_m <= 0.01 and 0 < c.size_m[0] < c.size_m[1]
    for name in T.list_cavities():
        v = T.create_cavity(name)
        assert 0 < v.along_m[0] < v.along_m[1] and 0 < v.up_m[0] < v.up_m[1]
        assert 0 < v.removed[0] < v.removed[1] <= 1
