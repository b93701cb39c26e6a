"""Calibration of a wagon score: a score of 0.8 should mean "a threat four times in five".

The calibrator is fitted on the validation split (isotonic regression: monotone, no shape assumed) and
stored as its breakpoints, so the deployable engine applies it with ``numpy.interp`` alone and
``config.json`` carries it under the model's hash. Platt scaling (a logistic curve) is the fallback for
small validation sets, where isotonic steps would over-fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from raw score to probability, stored as breakpoints (x ascending)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    method: str = "isotonic"

    def __post_init__(self) -> None:
        x, y = np.asarray(self.x, float), np.asarray(self.y, float)
        if x.size == 0 or x.size != y.size or not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("calibrator breakpoints must be finite, non-empty and of equal length")
        if np.any(np.diff(x) < 0) or np.any(np.diff(y) < -1e-12) or y.min() < 0 or y.max() > 1:
            raise ValueError("calibrator must be monotone with x ascending and y in [0, 1]")

    def __call__(self, score):
        """Calibrated probability of ``score`` (scalar or array); flat beyond the fitted range."""
        return np.interp(score, self.x, self.y)

    def to_dict(self) -> dict:
        return {"method": self.method, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibrator":
        return cls(tuple(float(v) for v in d["x"]), tuple(float(v) for v in d["y"]), str(d.get("method", "isotonic")))

    @classmethod
    def identity(cls) -> "Calibrator":
        return cls((0.0, 1.0), (0.0, 1.0), "identity")


def fit_calibrator(scores: np.ndarray, positive: np.ndarray, method: str = "auto",
                   min_isotonic: int = 200) -> Calibrator:
    """Fit a calibrator on validation scores.

    ``auto`` takes isotonic regression when there are at least ``min_isotonic`` wagons and at least 20 of each
    class, else Platt scaling.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    if s.size == 0 or y.all() or not y.any():
        raise ValueError("calibration needs scores of both classes")
    if method == "auto":
        method = "isotonic" if s.size >= min_isotonic and min(y.sum(), (~y).sum()) >= 20 else "platt"
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y.astype(float))
        return Calibrator(tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_)), "isotonic")
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e4).fit(s[:, None], y)
        if lr.coef_[0, 0] <= 0:
            # a higher score is no likelier a threat here (an untrained model, a tiny validation set): no
            # increasing sigmoid fits; isotonic regression pools such scores into their base rate, monotone
            log.warning("Platt scaling found no increasing fit (slope %.3g): calibrated by isotonic regression",
                        lr.coef_[0, 0])
            return fit_calibrator(s, y, "isotonic")
        grid = np.unique(np.r_[np.linspace(s.min(), s.max(), 64), np.quantile(s, np.linspace(0, 1, 65))])
        return Calibrator(tuple(map(float, grid)), tuple(map(float, lr.predict_proba(grid[:, None])[:, 1])), "platt")
    raise ValueError(f"unknown calibration method {method!r}: isotonic | platt | auto")


def expected_calibration_error(prob: np.ndarray, positive: np.ndarray, n_bins: int = 10) -> float:
    """ECE: the |mean predicted − observed frequency| per equal-width bin, weighted by the bin's share."""
    p = np.asarray(prob, dtype=np.float64)
    y = np.asarray(positive, dtype=np.float64)
    if p.size == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(p[sel].mean() - y[sel].mean())
    return float(ece)
