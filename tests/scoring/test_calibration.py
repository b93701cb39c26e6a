"""Calibration and ECE on hand-made scores with a known true probability."""

import json

import numpy as np
import pytest

from cargoscan.scoring import Calibrator, expected_calibration_error, fit_calibrator


def sample(n, rng):
    """Scores uniform on [0, 1]; the true P(threat | score) is score² (a miscalibrated raw score)."""
    s = rng.random(n)
    return s, rng.random(n) < s ** 2


def test_ece_of_hand_made_bins():
    # every prediction 0.8, half positive: ECE = |0.8 − 0.5| = 0.3
    assert expected_calibration_error(np.full(10, 0.8), np.r_[np.ones(5), np.zeros(5)]) == pytest.approx(0.3)
    # two bins, each calibrated exactly
    p = np.r_[np.full(4, 0.25), np.full(4, 0.75)]
    y = np.r_[1, 0, 0, 0, 1, 1, 1, 0]
    assert expected_calibration_error(p, y) == pytest.approx(0.0)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibrator_recovers_the_true_probability(method):
    rng = np.random.default_rng(7)
    s, y = sample(20000, rng)
    cal = fit_calibrator(s, y, method=method)
    grid = np.linspace(0.1, 0.9, 9)
    tol = 0.05 if method == "isotonic" else 0.12        # a logistic curve only approximates s²
    assert np.max(np.abs(cal(grid) - grid ** 2)) < tol
    s_test, y_test = sample(4000, rng)                   # held out: calibration must transfer
    assert expected_calibration_error(cal(s_test), y_test) < 0.03
    assert expected_calibration_error(s_test, y_test) > 0.1   # the raw score is not calibrated


def test_calibrator_round_trips_json_and_is_monotone():
    rng = np.random.default_rng(8)
    cal = fit_calibrator(*sample(1000, rng))
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    grid = np.linspace(-1, 2, 301)
    assert np.array_equal(again(grid), cal(grid))
    assert np.all(np.diff(cal(grid)) >= 0)
    assert cal(-5.0) == cal.y[0] and cal(5.0) == cal.y[-1]


def test_auto_picks_platt_for_small_sets_and_refuses_one_class():
    rng = np.random.default_rng(9)
    assert fit_calibrator(*sample(100, rng)).method == "platt"
    assert fit_calibrator(*sample(1000, rng)).method == "isotonic"
    with pytest.raises(ValueError):
        fit_calibrator(np.arange(5.0), np.zeros(5, bool))
    with pytest.raises(ValueError):
        Calibrator((0.0, 1.0), (0.9, 0.1))          # decreasing: not a calibration
    with pytest.raises(ValueError):
        Calibrator((0.0, 1.0), (0.0, float("nan")))


@pytest.mark.parametrize("method", ["platt", "auto"])
def test_scores_that_fall_with_the_threat_get_the_base_rate_not_an_error(method):
    """An anti-informative score (an untrained model on a small validation set): no increasing sigmoid fits, so
    the calibrator pools it by isotonic regression, monotone, at about the base rate, instead of failing."""
    rng = np.random.default_rng(3)
    y = rng.random(60) < 0.3
    s = np.where(y, rng.uniform(0.0, 0.6, 60), rng.uniform(0.4, 1.0, 60))
    cal = fit_calibrator(s, y, method)
    assert cal.method == "isotonic"
    assert np.all(np.diff(cal.y) >= 0) and np.all(np.diff(cal.x) >= 0)
    p = cal(np.array([0.1, 0.5, 0.9]))
    assert np.all((p >= 0) & (p <= 1)) and p[2] <= y.mean() + 0.05
