"""Scene rasterisation, wagons, cargo and concealment: geometry, mass bookkeeping, labels, physics sanity."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.archive.classes import class_id
from cargoscan.synth.cargo import CATEGORIES, load_unit, merge
from cargoscan.synth.concealment import conceal
from cargoscan.synth.scene import Scene, _density, coverage, ellipse_template
from cargoscan.synth.wagons import create_wagon, list_wagons, wagon_length


def _scene(cols: int = 1400, rows: int = 240) -> Scene:
    return Scene(rows, cols, 0.0138, 0.0125, 0.30)


def test_coverage_sums_to_interval_length():
    start, w = coverage(0.0123, 0.0871, 0.01, 100)
    assert start == 1
    assert w.sum() * 0.01 == pytest.approx(0.0871 - 0.0123, rel=1e-5)
    assert coverage(2.0, 3.0, 0.01, 100)[1].size == 0     # outside the image


def test_box_mass_matches_geometry():
    s = _scene()
    s.box("steel", 1.0, 2.0, 1.0, 1.5, 10.0)             # 1 m × 0.5 m × 10 cm of steel
    expected = 100 * 50 * 10 * _density("steel") / 1000
    assert s.mass_kg("steel") == pytest.approx(expected, rel=0.02)


def test_templates_are_bounded_discs():
    t = ellipse_template(10.0, 6.0)
    assert t.max() == pytest.approx(1.0) and t.min() >= 0
    assert t.sum() == pytest.approx(np.pi * 10 * 6, rel=0.05)


@pytest.mark.parametrize("kind", list_wagons())
def test_every_wagon_has_structure_bogies_and_units(kind):
    rng = np.random.default_rng(0)
    s = _scene(cols=int((wagon_length(kind) + 1.6) / 0.0125))
    ident = ["CSQU3054383"] if kind == "flat" else "45488855"
    units = create_wagon(kind, s, 0.8, ident, rng)
    assert units and all(u.x1 > u.x0 and u.z1 > u.z0 for u in units)
    steel = s.paths["steel"]
    # axles end-on starve the detector near the bottom rows; the roof/top is thin
    assert steel[int(s.row_of(0.4785)), :].max() > 150
    assert (s.mask == class_id("vehicle")).mean() > 0.05


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_loads_with_mass_and_cargo_label(category):
    rng = np.random.default_rng(1)
    cat = CATEGORIES[category]
    kind = cat.wagons[0]
    s = _scene(cols=int((wagon_length(kind) + 1.6) / 0.0125))
    units = create_wagon(kind, s, 0.8, ["CSQU3054383"] if kind == "flat" else "45488855", rng)
    ld = load_unit(s, units[0], category, 0.8, rng)
    assert ld.goods_mass() > 100 and ld.packages >= 1
    merge(s, ld)
    assert (s.mask == class_id("cargo")).sum() > 100


def _flat_with(category: str, spec: dict, seed: int = 2):
    rng = np.random.default_rng(seed)
    s = _scene(cols=1200)
    units = create_wagon("flat", s, 0.8, ["CSQU3054383"], rng)
    ld = load_unit(s, units[0], category, 0.9, rng)
    classes = conceal(s, ld, spec, rng)
    merge(s, ld)
    return s, classes


@pytest.mark.parametrize("kind,contents", [("false_front_wall", "drugs"), ("false_floor", "cigarettes"),
                                            ("false_roof", None), ("structure_compartment", "drugs"),
                                            ("hollowed_goods", "weapons"), ("drugs_in_cargo", None),
                                            ("cigarettes_in_cargo", None), ("weapons_in_cargo", None)])
def test_concealments_produce_labelled_instances(kind, contents):
    s, classes = _flat_with("garments", {"kind": kind, "contents": contents, "drug": "heroin", "mass_kg": 40.0})
    assert classes
    names = [i.cls for i in s.instances]
    assert sorted(set(names)) == sorted(set(classes))
    for inst in s.instances:   # the semantic mask keeps contraband where instances overlap
        assert (s.mask[inst.mask] >= class_id("hidden_compartment")).mean() > 0.5 or inst.cls == "hidden_compartment"
    drugs = [i for i in s.instances if i.cls == "drugs"]
    for d in drugs:
        assert s.mass_kg("heroin", d.mask) == pytest.approx(40.0, rel=0.05)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_weapons_weigh_what_their_label_says(seed):
    """The steel a weapons consignment adds to the scene is its labelled mass (pieces × the catalogue's mass per
    piece), within 2 %: the drawing is scaled to the piece, and exactly ``count`` pieces are drawn."""
    rng = np.random.default_rng(seed)
    s = _scene(cols=1200)
    units = create_wagon("flat", s, 0.8, ["CSQU3054383"], rng)
    ld = load_unit(s, units[0], "garments", 0.9, rng)
    before = s.path("steel").copy()
    conceal(s, ld, {"kind": "weapons_in_cargo", "contents": None}, rng)
    weapon = next(i for i in s.instances if i.cls == "weapon")
    added = s.path("steel") - before
    kg_per_cm = s.row_pitch_m * s.col_pitch_m * 1e4 * 7.85 / 1000.0
    assert added.sum() * kg_per_cm == pytest.approx(weapon.mass_kg, rel=0.02)
    assert added[weapon.mask].sum() >= 0.95 * added.sum()      # the label covers the weapon, thin edges aside


def test_bulk_void_lowers_the_path():
    rng = np.random.default_rng(3)
    s = _scene(cols=1200)
    units = create_wagon("gondola", s, 0.8, "62345678", rng)
    ld = load_unit(s, units[0], "bulk_minerals", 0.8, rng)
    before = ld.goods_mass()
    classes = conceal(s, ld, {"kind": "bulk_void", "contents": None}, rng)
    assert classes == ["void"] and ld.goods_mass() < before


def test_drugs_attenuate_more_than_the_goods_they_displace_and_read_organic():
    from cargoscan.physics.scanner import Scanner

    s, _ = _flat_with("garments", {"kind": "drugs_in_cargo", "drug": "cocaine", "mass_kg": 200.0}, seed=5)
    drug = next(i for i in s.instances if i.cls == "drugs").mask
    scanner = Scanner()
    a = -np.log(np.clip(scanner.transmission(s.paths), 1e-9, 1))
    without = {m: p for m, p in s.paths.items() if m not in ("cocaine",)}
    a0 = -np.log(np.clip(scanner.transmission(without), 1e-9, 1))
    assert a[0][drug].mean() > a0[0][drug].mean() + 0.1
    # an organic's R = A_low/A_high sits above that of steel of the same A_high (pair production in iron)
    r_drug = np.median(a[1][drug] / a[0][drug])
    steel = {"steel": np.full((4, 4), float(np.median(a[0][drug])) / 0.3, np.float32)}
    at = -np.log(scanner.transmission(steel))
    assert r_drug > np.median(at[1] / at[0])
