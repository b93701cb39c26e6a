"""Wilson intervals and AUROC on hand-made data."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cargoscan.scoring import auroc, bootstrap_auroc, rate, wilson


@pytest.mark.parametrize("k,n,lo,hi", [
    (0, 10, 0.0, 0.2775),      # textbook values (Wilson 1927; Newcombe 1998, table I)
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),
])
def test_wilson_reference_values(k, n, lo, hi):
    a, b = wilson(k, n)
    assert a == pytest.approx(lo, abs=5e-4) and b == pytest.approx(hi, abs=5e-4)


def test_wilson_properties():
    for n in (1, 7, 50, 1000):
        for k in range(0, n + 1, max(1, n // 7)):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0
            lo2, hi2 = wilson(n - k, n)               # symmetric in successes and failures
            assert lo2 == pytest.approx(1 - hi) and hi2 == pytest.approx(1 - lo)
    assert np.diff(wilson(10, 100)) > np.diff(wilson(100, 1000))   # narrows with n
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_rate_record():
    r = rate(3, 12, "detection_rate")
    assert r["n"] == 12 and r["k"] == 3 and r["detection_rate"] == 0.25
    assert r["ci95"] == list(wilson(3, 12))
    assert rate(0, 0)["rate"] is None


def test_auroc_extremes_and_ties():
    y = np.array([0, 0, 1, 1], bool)
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9]), y) == 1.0
    assert auroc(np.array([0.9, 0.8, 0.2, 0.1]), y) == 0.0
    assert auroc(np.full(4, 0.5), y) == 0.5
    assert np.isnan(auroc(np.ones(3), np.ones(3, bool)))


def test_auroc_agrees_with_sklearn():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    s = rng.normal(y * 1.0, 1.0).round(1)          # rounded: many ties
    assert auroc(s, y) == pytest.approx(roc_auc_score(y, s))


def test_bootstrap_interval_brackets_and_narrows():
    rng = np.random.default_rng(1)

    def sample(n):
        y = np.r_[np.ones(n // 3, bool), np.zeros(n - n // 3, bool)]
        return rng.normal(y * 1.5, 1.0), y

    s, y = sample(60)
    point, lo, hi = bootstrap_auroc(s, y, n_boot=500, seed=3)
    assert lo <= point <= hi
    s2, y2 = sample(1500)
    p2, lo2, hi2 = bootstrap_auroc(s2, y2, n_boot=500, seed=3)
    assert hi2 - lo2 < hi - lo
    # the true AUROC of two unit normals 1.5 apart is Φ(1.5/√2) ≈ 0.856
    assert lo2 < 0.856 < hi2
