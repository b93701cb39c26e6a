"""The per-wagon threat score and decision: written once, used by evaluate, the engine, the benchmark and reports.

The segmentation map gives, per pixel, the probability of each class. A wagon's "something to find" score is the
mean of the ``k`` highest values of P(any threat class) over the whole wagon: one bright pixel is noise, while a
threat occupies at least a few pixels at the model pitch (a pistol is ~100 px at 16 mm). The engine streams a
wagon in column windows and keeps a running top-k (:func:`merge_topk`); the top-k mean of the kept values is the
top-k mean of the whole map, so streamed and whole-map scores are the same number.

The raw score is then calibrated (:class:`cargoscan.scoring.calibration.Calibrator`, fitted on a validation
archive), and the decision is ``score >= threshold`` with the threshold chosen on validation for a target false-
alarm rate on clean wagons (:func:`threshold_for_far`). The threshold lives on the raw scale: calibration is
monotone, so the decision is the same on either scale, and a raw threshold has no ties from isotonic steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargoscan.scoring.calibration import Calibrator

#: Pixels averaged into the wagon score (the default of ``evaluate.score_top_k``).
DEFAULT_TOP_K = 16


def threat_probability(probs: np.ndarray, threat: np.ndarray | list[int], multilabel: bool = False) -> np.ndarray:
    """(K, H, W) class probabilities → (H, W) probability of any threat class.

    Args:
        probs: per-class probabilities (softmax over classes, or per-class sigmoids when ``multilabel``).
        threat: a boolean mask over the K classes, or the threat class ids.
        multilabel: independent sigmoids: P(any) = 1 − Π(1 − p_c); softmax classes are exclusive, so they add.
    """
    p = np.asarray(probs)[np.asarray(threat)]
    if multilabel:
        return 1.0 - np.prod(1.0 - p, axis=0)
    return p.sum(0)


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest values of an array (all of them when it has fewer), float32, unordered."""
    flat = np.asarray(values, dtype=np.float32).ravel()
    if flat.size <= k:
        return flat.copy()
    return np.partition(flat, flat.size - k)[flat.size - k:]


def merge_topk(best: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest of ``best`` and ``values``: a running top-k over the column windows of a wagon."""
    return top_k(np.concatenate([np.asarray(best, np.float32).ravel(), np.asarray(values, np.float32).ravel()]), k)


def wagon_score(threat_map: np.ndarray, k: int = DEFAULT_TOP_K) -> float:
    """THE wagon score: the mean of the ``k`` highest P(any threat) values of a wagon (0 for an empty map).

    ``threat_map`` may be the whole (H, W) map or the running top-k of :func:`merge_topk`: the result is the same.
    """
    best = top_k(threat_map, max(1, int(k)))
    return float(best.astype(np.float64).mean()) if best.size else 0.0


def class_scores(probs: np.ndarray, threat_ids: list[int], names: list[str], k: int = DEFAULT_TOP_K
                 ) -> dict[str, float]:
    """One wagon score per threat class (``score_<class>``), the same top-k mean on that class's map."""
    return {f"score_{names[c]}": wagon_score(probs[c], k) for c in threat_ids}


def threshold_for_far(clean_scores: np.ndarray, target_far: float) -> float:
    """The lowest threshold whose false-alarm rate on ``clean_scores`` is at most ``target_far``.

    An alarm is ``score >= threshold``. With n clean wagons at most ``floor(target_far · n)`` may alarm, so the
    threshold sits just above the next-highest clean score. No clean wagon: 0.5.
    """
    s = np.sort(np.asarray(clean_scores, dtype=np.float64))[::-1]
    if s.size == 0:
        return 0.5
    allowed = int(np.floor(target_far * s.size + 1e-9))
    if allowed >= s.size:
        return float(s[-1])
    return float(np.nextafter(s[allowed], np.inf))


@dataclass(frozen=True)
class WagonDecision:
    """A wagon's threat score, its calibrated probability and the decision at the operating point."""

    score: float
    probability: float
    threshold: float
    over: bool

    def to_dict(self) -> dict[str, float | bool]:
        return {"score": round(self.score, 6), "probability": round(self.probability, 4),
                "threshold": self.threshold, "over": self.over}


def decide(score: float, threshold: float, calibrator: Calibrator | None = None) -> WagonDecision:
    """The decision for one wagon: over the threshold (raw scale) or not, with the calibrated probability.

    A score that is not a finite number is over the threshold: the engine never clears what it could not score.
    """
    finite = bool(np.isfinite(score))
    prob = float(calibrator(score)) if (calibrator is not None and finite) else (float(score) if finite else 1.0)
    return WagonDecision(float(score) if finite else float("nan"), prob, float(threshold),
                         (not finite) or score >= threshold)
