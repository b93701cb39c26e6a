"""The mass flag under photon starvation (a lower bound) and the one mass tolerance shared with the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.material import invert_map, mass_and_density
from tests.inspect.conftest import MU, FakeDecomposer

META = {"container_numbers": ["CSQU3054383"]}


def _starved(dark_rows: int):
    """A 40 × 160 load of λ 30 g/cm² (+ walls), its top ``dark_rows`` rows at the dark level (A 9: starved)."""
    a_high = np.zeros((60, 200), np.float32)
    a_high[10:50, 20:180] = MU * 33.1
    a_high[10:10 + dark_rows, 20:180] = 9.0
    load = a_high > 0
    lam, zeff = invert_map(FakeDecomposer(), a_high, a_high * 1.02, load)
    return lam, zeff, a_high, load


def _mass(declared: float, dark_rows: int):
    lam, zeff, a_high, load = _starved(dark_rows)
    return mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), META, InspectParams(), FakeDecomposer(),
                            {"net_weight_kg": declared}, None)


def test_starved_load_is_a_lower_bound_never_too_light():
    """A load with starved rows reports ``lower_bound`` and its starved share; a declaration far heavier than the
    estimate is not flagged (the unseen mass may explain it); a far lighter one still is."""
    mass, _, _ = _mass(1.0, 8)
    est = mass["net_kg"]
    assert mass["lower_bound"] and 0.2 < mass["lower_bound_fraction"] < 0.5 and mass["lower_bound_kg"] > 0
    heavy_decl, _, flags = _mass(est * 3, 8)
    assert not heavy_decl["flag"] and not flags
    light_decl, _, flags = _mass(est * 0.3, 8)
    assert light_decl["flag"] and flags[0][0] == "MASS_MISMATCH"


def test_unstarved_load_is_flagged_too_light():
    """Without starvation the same overstated declaration is flagged: the lower-bound rule is what spared it."""
    mass, _, _ = _mass(1.0, 0)
    assert not mass["lower_bound"] and mass["lower_bound_kg"] == 0
    over, _, flags = _mass(mass["net_kg"] * 1.5, 0)
    assert over["flag"] and flags[0][0] == "MASS_MISMATCH"


def test_report_reads_the_engine_mass_tolerance(tmp_path: Path):
    """One value: the report's weight-mismatch tolerance is inspect.mass_tolerance_rel unless set apart."""
    from cargoscan.config import load_section
    from cargoscan.reports.config import ReportParams

    root = Path(__file__).resolve().parents[2] / "params.yaml"
    report = load_section(ReportParams, "report", root)
    inspect = load_section(InspectParams, "inspect", root)
    assert report.mass_tolerance is None
    assert report.mass_tolerance_rel(root) == inspect.mass_tolerance_rel
    (tmp_path / "params.yaml").write_text("inspect: {mass_tolerance_rel: 0.07}\n", encoding="utf-8")
    assert ReportParams().mass_tolerance_rel(tmp_path / "params.yaml") == 0.07
    assert ReportParams(mass_tolerance=0.2).notebook_parameters("evaluation")["mass_tolerance"] == 0.2


def test_dense_starved_load_not_flagged_for_density_alone():
    """A real dense load near starvation over most of its area (A 8.5–9.5 here; the bulk density read is a lower
    bound and Z_eff is noise) declared as steel products is not flagged DENSITY_MISMATCH; the same scan declared
    as garments is (too dense for garments, and ρ can only be higher)."""
    from cargoscan.inspect.declarations import load_categories

    rng = np.random.default_rng(0)
    a_high = np.zeros((60, 200), np.float32)
    a_high[10:50, 20:180] = rng.uniform(8.5, 9.5, (40, 160))
    load = a_high > 0
    dec = FakeDecomposer()
    lam, zeff = invert_map(dec, a_high, a_high * 0.9, load)       # R < 1: noise reads as anything
    cats = load_categories()
    mass, mat, flags = mass_and_density(lam * 0.1, zeff, a_high, load, (10.0, 10.0), META, InspectParams(), dec,
                                        None, cats["steel_products"])
    assert mass["lower_bound"] and mat["z_valid_fraction"] < 0.5
    assert not mat["density_flag"] and not flags, (mat, flags)
    _, mat, flags = mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), META, InspectParams(), dec, None,
                                     cats["garments"])
    assert mat["density_flag"] and "плотность" in flags[0][1]


def test_declared_empty_is_not_flagged_for_structure_pixels():
    """A unit declared empty whose segmentation calls some structure pixels cargo (here ~190 kg of λ) is not sent
    red for mass or density; the same pixels read at 4× the pitch (≈ 3 t, undeclared goods) are flagged by the
    mass check alone: an empty unit has no density to judge."""
    from cargoscan.inspect.declarations import load_categories

    lam, zeff, a_high, load = _starved(0)
    empty = load_categories()["empty"]
    small, mat, flags = mass_and_density(lam, zeff, a_high, load, (10.0, 10.0), META, InspectParams(),
                                         FakeDecomposer(), {"net_weight_kg": 0.0}, empty)
    assert 0 < small["net_kg"] < InspectParams().empty_tolerance_kg and not flags, (small, flags)
    big, mat, flags = mass_and_density(lam, zeff, a_high, load, (40.0, 40.0), META, InspectParams(),
                                     FakeDecomposer(), {"net_weight_kg": 0.0}, empty)
    assert big["net_kg"] > 2000 and {c for c, _ in flags} == {"MASS_MISMATCH"}, (big, flags)
    assert mat["expected"] is None and not mat["density_flag"]
