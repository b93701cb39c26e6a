"""The joint operating point of the declaration checks, on hand-made evidence tables."""

import numpy as np
import pytest

from cargoscan.scoring.budget import flags, joint_thresholds


def test_flags_are_the_union_of_checks_at_their_thresholds():
    ev = {"a": np.array([0.5, 2.0, 0.1, np.nan]), "b": np.array([0.2, 0.3, 3.0, 5.0])}
    assert flags(ev, {}).tolist() == [False, True, True, True]            # 1.0 by default
    assert flags(ev, {"a": 3.0, "b": 4.0}).tolist() == [False, False, False, True]
    assert flags(ev, {"a": 0.4, "b": 9.0}).tolist() == [True, True, False, False]   # NaN never flags


def test_physical_rules_are_kept_when_they_fit_the_budget():
    rng = np.random.default_rng(0)
    ev = {"mass": rng.uniform(0, 0.9, 200), "cargo": rng.uniform(0, 0.9, 200)}
    ev["mass"][:2] = 1.5                     # 1 % over the rule
    out = joint_thresholds(ev, 0.03)
    assert out["thresholds"] == {"mass": 1.0, "cargo": 1.0} and out["level"] == 1.0
    assert out["union_rate"] == pytest.approx(0.01)


def test_thresholds_tighten_together_until_the_union_fits():
    """Three checks each alarm on 10 % of 1000 honest wagons, on different wagons: the union is 30 %. A 3 % budget
    takes each check to about 1 %, never below its rule."""
    n = 1000
    ev = {}
    for j, name in enumerate(("cargo", "mass", "material")):
        e = np.zeros(n)
        idx = np.arange(j * 100, j * 100 + 100)
        e[idx] = np.linspace(1.0, 5.0, 100)                              # 100 wagons over the rule, graded
        ev[name] = e
    assert flags(ev, {}).mean() == pytest.approx(0.30)
    out = joint_thresholds(ev, 0.03)
    assert out["union_rate"] <= 0.03 and out["union_rate"] >= 0.025       # the budget is used, not wasted
    assert all(t > 1.0 for t in out["thresholds"].values())
    assert max(out["per_check"].values()) - min(out["per_check"].values()) <= 0.002   # one shared tail level
    assert flags(ev, out["thresholds"]).mean() == pytest.approx(out["union_rate"])


def test_a_quiet_check_keeps_its_rule_while_a_noisy_one_tightens():
    n = 500
    quiet = np.zeros(n)
    quiet[:3] = 2.0                                                       # 0.6 % over its rule
    noisy = np.linspace(0, 4, n)                                          # 75 % over its rule
    out = joint_thresholds({"quiet": quiet, "noisy": noisy}, 0.03)
    assert out["thresholds"]["quiet"] == 1.0
    assert out["thresholds"]["noisy"] > 3.5 and out["union_rate"] <= 0.03


def test_an_empty_budget_flags_no_honest_wagon_and_bad_input_is_refused():
    ev = {"mass": np.array([3.0, 2.0, 0.5]), "cargo": np.array([0.0, 9.0, 0.0])}
    out = joint_thresholds(ev, 0.0)
    assert out["union_rate"] == 0.0 and not flags(ev, out["thresholds"]).any()
    with pytest.raises(ValueError):
        joint_thresholds({"a": np.zeros(3), "b": np.zeros(4)}, 0.03)
    with pytest.raises(ValueError):
        joint_thresholds(ev, 1.5)


def test_wagons_already_red_count_in_the_union():
    """Two of 100 honest wagons are red for the threat alarm: a 3 % budget leaves the checks one more."""
    ev = {"cargo": np.r_[np.linspace(1.0, 4.0, 10), np.zeros(90)]}
    threat = np.zeros(100, bool)
    threat[50:52] = True
    out = joint_thresholds(ev, 0.03, already=threat)
    assert out["union_rate"] == pytest.approx(0.03) and out["per_check"]["cargo"] == pytest.approx(0.01)
    assert joint_thresholds(ev, 0.03)["per_check"]["cargo"] == pytest.approx(0.03)
    with pytest.raises(ValueError):
        joint_thresholds(ev, 0.03, already=np.zeros(3, bool))


def test_the_upper_bound_leaves_a_margin_for_choosing_on_few_wagons():
    """On 400 wagons the observed rate may reach 3 % (12 wagons); its one-sided 95 % Wilson bound only 6."""
    from cargoscan.scoring.budget import Z_ONE_SIDED_95
    from cargoscan.scoring.intervals import wilson

    ev = {"mass": np.r_[np.linspace(1.0, 9.0, 40), np.zeros(360)]}
    observed = joint_thresholds(ev, 0.03)
    bounded = joint_thresholds(ev, 0.03, z=Z_ONE_SIDED_95)
    assert round(observed["union_rate"] * 400) == 12
    k = round(bounded["union_rate"] * 400)
    assert k == 6 and wilson(k, 400, Z_ONE_SIDED_95)[1] <= 0.03 < wilson(k + 1, 400, Z_ONE_SIDED_95)[1]
    assert bounded["union_bound"] == pytest.approx(wilson(k, 400, Z_ONE_SIDED_95)[1])
    assert bounded["thresholds"]["mass"] > observed["thresholds"]["mass"]
