"""The cargo category fused from the head and the load's physics (cargoscan.inspect.fusion), on hand-made
inspections: two categories the head cannot tell apart, which density separates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cargoscan.inspect.fusion import PHYSICS, CategoryFusion, feature_names, features, fit_fusion

HEAD = ("footwear", "garments")


def inspection(rng: np.random.Generator, truth: str, declared_net: float = 0.0) -> dict:
    """A wagon the head calls a coin toss between footwear and garments; footwear is the denser load."""
    p = float(rng.uniform(0.4, 0.6))
    rho = rng.normal(0.33 if truth == "footwear" else 0.22, 0.02)
    return {"cargo": {"probabilities": {"footwear": p, "garments": 1 - p}},
            "material": {"bulk_density_g_cm3": rho, "overall": {"zeff": 8.0, "lambda_mean_g_cm2": rho * 235},
                         "shares_by_lambda": {"organic": 0.8, "mixed": 0.2}, "z_valid_fraction": 0.9,
                         "units": {"spans_m": [[1.0, 13.0]]}},
            "mass": {"gross_in_beam_kg": rho * 12e3 * 2.35 * 2.4 + 800, "structure_kg": 800.0,
                     "net_kg": declared_net},
            "meta": {"wagon_type": "flat", "container_numbers": ["CSQU3054383"]}}


def labelled(n: int, seed: int) -> tuple[list[dict], list[str]]:
    rng = np.random.default_rng(seed)
    truth = [HEAD[i % 2] for i in range(n)]
    return [inspection(rng, t) for t in truth], truth


def test_features_are_named_and_read_nothing_declared():
    rng = np.random.default_rng(0)
    a = inspection(rng, "footwear", declared_net=9000.0)
    b = json.loads(json.dumps(a))
    b["mass"]["net_kg"] = 1.0                 # the net mass depends on the declared category's packaging
    b["declaration"] = {"categories": ["garments"]}
    assert len(features(a, HEAD)) == len(feature_names(HEAD)) == len(HEAD) + len(PHYSICS)
    assert np.array_equal(features(a, HEAD), features(b, HEAD))
    missing = features({"cargo": {"probabilities": {"footwear": 1.0}}}, HEAD)
    assert missing[feature_names(HEAD).index("physics_missing")] == 1.0 and np.isfinite(missing).all()


def test_fusion_separates_what_the_head_cannot():
    train, y = labelled(200, 1)
    test, y_test = labelled(200, 2)
    fusion = fit_fusion(train, y, HEAD)
    head = [max(r["cargo"]["probabilities"], key=r["cargo"]["probabilities"].get) for r in test]
    fused = [max(p, key=p.get) for p in map(fusion.probabilities, test)]
    assert np.mean([h == t for h, t in zip(head, y_test)]) < 0.65           # a coin toss
    assert np.mean([f == t for f, t in zip(fused, y_test)]) > 0.95          # density decides
    p = fusion.probabilities(test[0])
    assert set(p) == set(HEAD) and sum(p.values()) == pytest.approx(1.0)


def test_fusion_round_trips_and_refuses_a_broken_record():
    train, y = labelled(60, 3)
    fusion = fit_fusion(train, y, HEAD)
    again = CategoryFusion.from_dict(json.loads(json.dumps(fusion.to_dict())))
    assert again == fusion
    assert again.probabilities(train[0]) == fusion.probabilities(train[0])
    broken = fusion.to_dict()
    broken["coef"] = [row[:-1] for row in broken["coef"]]
    with pytest.raises(ValueError, match="shapes disagree"):
        CategoryFusion.from_dict(broken)


def test_fusion_needs_two_categories():
    train, _ = labelled(10, 4)
    with pytest.raises(ValueError, match="two categories"):
        fit_fusion(train, ["garments"] * 10, HEAD)
