"""The mass read at the dark level, calibrated per category (inspect.mass_calibration), and a unit judged by it
(inspect.material.judge_mass), on hand-made units of known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.mass_calibration import MIN_DARK_SHARE, MIN_UNITS, MassCalibration
from cargoscan.inspect.material import judge_mass


def units(rng, category: str, beta: float, n: int, noise: float = 0.02, dark=(0.1, 0.9)):
    """(category, net read, σ_m, dark kg, truth): a read mass whose dark share ``d`` holds the bias β·B."""
    out = []
    for _ in range(n):
        true = rng.uniform(5000, 20000)
        d = rng.uniform(*dark)
        net = true * (1 + rng.normal(0, noise)) / (1 - beta * d)    # net − β·(d·net) = truth (± noise)
        out.append((category, net, noise * net, d * net, true))
    return out


def test_fit_recovers_each_categorys_bias_and_its_spread_covers_fresh_units():
    rng = np.random.default_rng(0)
    cal = MassCalibration.fit(units(rng, "liquids", 0.15, 60) + units(rng, "steel_products", -1.5, 60, 0.05))
    assert cal.beta["liquids"] == pytest.approx(0.15, abs=0.02)
    assert cal.beta["steel_products"] == pytest.approx(-1.5, abs=0.15)
    assert cal.n == {"liquids": 60, "steel_products": 60}
    hits, errors = [], []
    for cat, net, sigma_m, dark, true in units(rng, "liquids", 0.15, 200) + units(rng, "steel_products", -1.5, 200,
                                                                                  0.05):
        fixed, sigma = cal.correct(cat, net, sigma_m, dark)
        hits.append(abs(fixed - true) <= 2 * sigma)
        errors.append(abs(fixed - true) / true)
    assert 0.9 <= np.mean(hits) and np.median(errors) < 0.05


def test_fit_needs_enough_units_read_at_the_dark_level():
    rng = np.random.default_rng(1)
    few = units(rng, "paper", 0.1, MIN_UNITS - 1)
    bright = units(rng, "food", 0.1, 40, dark=(0.0, 0.5 * MIN_DARK_SHARE))
    cal = MassCalibration.fit(few + bright)
    assert cal.beta == {} and cal.correct("paper", 1000.0, 10.0, 500.0) is None


def test_correct_leaves_other_categories_and_bright_units_alone():
    cal = MassCalibration({"liquids": 0.15}, {"liquids": 0.02}, {"liquids": 30})
    assert cal.correct("garments", 1000.0, 10.0, 500.0) is None
    assert cal.correct(None, 1000.0, 10.0, 500.0) is None
    assert cal.correct("liquids", 1000.0, 10.0, 0.5 * MIN_DARK_SHARE * 1000) is None
    net, sigma = cal.correct("liquids", 1000.0, 10.0, 800.0)
    assert net == pytest.approx(880.0) and sigma == pytest.approx(math.hypot(10.0, 0.02 * 880.0))


def test_the_record_round_trips_and_a_broken_one_is_refused():
    cal = MassCalibration({"liquids": 0.15}, {"liquids": 0.02}, {"liquids": 30})
    assert MassCalibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ValueError):
        MassCalibration.from_dict({"beta": {"liquids": 0.1}, "spread": {}})
    with pytest.raises(ValueError):
        MassCalibration.from_dict({"beta": {"liquids": float("nan")}, "spread": {"liquids": 0.1}})
    with pytest.raises(KeyError):
        MassCalibration.from_dict({"beta": {"liquids": 0.1}})


def block(net: float, declared: float, dark_share: float = 0.9, category: str = "liquids") -> dict:
    """A unit's mass block as the engine writes it: mostly read at the dark level (a lower bound)."""
    dark = dark_share * net
    sigma_m = 0.03 * net
    return {"net_read_kg": net, "sigma_read_kg": math.hypot(sigma_m, dark), "sigma_measured_kg": sigma_m,
            "lower_bound_kg": dark, "lower_bound": True, "category": category, "declared_net_kg": declared}


def test_a_calibrated_unit_is_judged_two_sided_and_an_understated_weight_is_seen():
    """Thick water reads 15 % heavy at the dark level. Uncalibrated, a unit whose weight was understated by 25 %
    is inside its one-sided bound; calibrated, it is flagged, and the honest one is not."""
    params = InspectParams()
    cal = MassCalibration({"liquids": (1 - 1 / 1.15) / 0.9}, {"liquids": 0.02}, {"liquids": 30})
    true = 20000.0
    read = true * 1.15
    honest, lie = block(read, true), block(read, 0.75 * true)
    assert judge_mass(dict(lie), params) is None                     # blind without the calibration
    assert judge_mass(honest, params, 1.0, cal) is None and honest["calibrated"]
    assert honest["net_kg"] == pytest.approx(true, rel=0.01) and honest["evidence"] < 1.0
    assert judge_mass(lie, params, 1.0, cal) is not None and lie["flag"] and lie["evidence"] > 1.0
    # lighter than declared is now judged too: the calibrated reading is no longer a lower bound
    heavy_claim = block(read, 1.4 * true)
    assert judge_mass(dict(heavy_claim), params) is None
    assert judge_mass(heavy_claim, params, 1.0, cal) is not None


def test_an_uncalibrated_block_keeps_what_was_read():
    b = block(10000.0, 10000.0, category="garments")
    judge_mass(b, InspectParams(), 1.0, MassCalibration({"liquids": 0.1}, {"liquids": 0.02}, {}))
    assert not b["calibrated"] and b["net_kg"] == 10000.0 and b["sigma_kg"] == round(b["sigma_read_kg"], 1)
