"""Rates with their 95 % intervals, and AUROC with a bootstrap interval.

Every rate the project reports carries its count and a Wilson score interval: unlike the normal
approximation it stays inside [0, 1] and is honest at 0 of n and n of n, which is where a detector's
false-alarm rate and a check's miss rate live.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials; (0, 1) when ``n`` is 0 (nothing known)."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # k = 0 and k = n have exact bounds 0 and 1; rounding must not move them
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def rate(k: int, n: int, key: str = "rate") -> dict[str, float | int | list[float] | None]:
    """``{n, k, <key>, ci95}``: a rate as the reports print it (``<key>`` is None when ``n`` is 0)."""
    lo, hi = wilson(int(k), int(n))
    return {"n": int(n), "k": int(k), key: (k / n if n else None), "ci95": [lo, hi]}


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U with mid-ranks for ties); NaN without both classes."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def bootstrap_auroc(scores: np.ndarray, positive: np.ndarray, n_boot: int = 2000,
                    seed: int = 0) -> tuple[float, float, float]:
    """AUROC and its 95 % percentile-bootstrap interval, resampling positives and negatives separately
    (stratified: every resample keeps both classes, so no resample is undefined)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    point = auroc(s, y)
    if math.isnan(point):
        return point, float("nan"), float("nan")
    pos, neg = s[y], s[~y]
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    labels = np.r_[np.ones(pos.size, bool), np.zeros(neg.size, bool)]
    for i in range(n_boot):
        sample = np.r_[rng.choice(pos, pos.size), rng.choice(neg, neg.size)]
        boots[i] = auroc(sample, labels)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return point, float(lo), float(hi)
