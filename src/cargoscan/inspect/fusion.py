"""The cargo category from everything the engine measured: the category head and the load's physics together.

The category head sees the image at the model's pitch and confuses goods that look alike there (footwear and
garments, furniture and electronics). The material and mass checks measure what it does not weigh: bulk density,
Z_eff and the split of the areal mass over material classes, the loaded mass per metre of unit, the unit type.
:class:`CategoryFusion` is a multinomial logistic regression over both — the head's log-probabilities and those
physical measurements, standardised — fitted on a labelled archive's inspections (:func:`fit_fusion`) and applied
with numpy alone (:meth:`CategoryFusion.probabilities`), so the deployed engine needs no learning library.

Features are read from an inspection's own blocks (``cargo``, ``material``, ``mass``, ``meta``; the JSON an
inspection writes, or the engine's ``Inspection`` as a dict): :func:`features`. Nothing declared enters them —
the loaded mass is the gross in the beam less the structure, not the declared-category net — so a lying
declaration cannot steer the category it is judged against.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

#: Unit types with a one-hot feature of their own (anything else reads all zeros).
WAGON_TYPES = ("flat", "covered", "gondola", "tank")
#: The physical measurements, in the order :func:`features` writes them after the head's log-probabilities.
PHYSICS = ("bulk_density_g_cm3", "zeff", "lambda_mean_100g_cm2", "share_organic", "share_mixed", "share_inorganic",
           "share_heavy", "z_valid_fraction", "loaded_t", "loaded_t_per_m", "units_length_m", "n_units",
           "containers", *(f"wagon_{t}" for t in WAGON_TYPES), "physics_missing")
LOG_FLOOR = 1e-4     # a head probability below this reads as this: log-probabilities stay finite


def feature_names(head_categories: Sequence[str]) -> list[str]:
    """The names of :func:`features`' columns for a head over ``head_categories``."""
    return [f"logp_{c}" for c in head_categories] + list(PHYSICS)


def _physics(material: Mapping[str, Any], mass: Mapping[str, Any], meta: Mapping[str, Any]) -> list[float]:
    overall = material.get("overall") or {}
    shares = material.get("shares_by_lambda") or {}
    spans = (material.get("units") or {}).get("spans_m") or []
    length = float(sum(b - a for a, b in spans))
    loaded = mass.get("gross_in_beam_kg")
    missing = loaded is None or material.get("bulk_density_g_cm3") is None
    loaded_t = 0.0 if loaded is None else (float(loaded) - float(mass.get("structure_kg") or 0.0)) / 1000.0
    wagon = meta.get("wagon_type") or ""
    return [float(material.get("bulk_density_g_cm3") or 0.0), float(overall.get("zeff") or 0.0),
            float(overall.get("lambda_mean_g_cm2") or 0.0) / 100.0,
            *(float(shares.get(c, 0.0)) for c in ("organic", "mixed", "inorganic", "heavy")),
            float(material.get("z_valid_fraction") or 0.0), loaded_t, loaded_t / max(length, 1.0), length,
            float(len(spans)), float(bool(meta.get("container_numbers"))), *(float(wagon == t) for t in WAGON_TYPES),
            float(missing)]


def features(result: Mapping[str, Any], head_categories: Sequence[str]) -> np.ndarray:
    """One inspection's feature vector (:func:`feature_names`): the head's log-probabilities, then the physics."""
    probs = (result.get("cargo") or {}).get("probabilities") or {}
    logp = [math.log(max(float(probs.get(c, 0.0)), LOG_FLOOR)) for c in head_categories]
    return np.asarray(logp + _physics(result.get("material") or {}, result.get("mass") or {},
                                      result.get("meta") or {}), np.float64)


@dataclass(frozen=True)
class CategoryFusion:
    """A fitted multinomial logistic regression: standardise, then ``softmax(z @ coef.T + intercept)``."""

    classes: tuple[str, ...]
    head_categories: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    c: float = 1.0           # the inverse regularisation it was fitted with

    def probabilities(self, result: Mapping[str, Any]) -> dict[str, float]:
        """Category → probability for one inspection's blocks."""
        x = (features(result, self.head_categories) - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = np.asarray(self.coef) @ x + np.asarray(self.intercept)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {c: float(v) for c, v in zip(self.classes, p)}

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CategoryFusion":
        """The fusion sealed in an artifact; refuses one whose shapes do not agree."""
        fusion = cls(tuple(d["classes"]), tuple(d["head_categories"]), tuple(d["mean"]), tuple(d["scale"]),
                     tuple(tuple(r) for r in d["coef"]), tuple(d["intercept"]), float(d.get("c", 1.0)))
        n = len(feature_names(fusion.head_categories))
        if len(fusion.mean) != n or len(fusion.scale) != n or any(len(r) != n for r in fusion.coef) \
                or len(fusion.coef) != len(fusion.classes) or len(fusion.intercept) != len(fusion.classes):
            raise ValueError(f"category fusion: shapes disagree with {n} features and {len(fusion.classes)} classes")
        return fusion


def fit_fusion(results: Sequence[Mapping[str, Any]], truth: Sequence[str], head_categories: Sequence[str],
               cs: Sequence[float] = (0.1, 0.3, 1.0, 3.0), folds: int = 5, seed: int = 0) -> CategoryFusion:
    """Fit on labelled inspections (one true category each), the regularisation chosen by cross-validated
    log-loss on them alone among ``cs`` (a class with fewer than ``folds`` wagons still enters the final fit)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x = np.stack([features(r, head_categories) for r in results])
    y = np.asarray(truth)
    if len(set(y)) < 2:
        raise ValueError("category fusion needs wagons of at least two categories")
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    counts = np.unique(y, return_counts=True)[1]
    k = int(min(folds, counts.min())) if counts.min() >= 2 else 0
    best = cs[len(cs) // 2]
    if k >= 2:
        cv = StratifiedKFold(k, shuffle=True, random_state=seed)
        scores = [cross_val_score(LogisticRegression(C=c, max_iter=5000), z, y, cv=cv, scoring="neg_log_loss").mean()
                  for c in cs]
        best = cs[int(np.argmax(scores))]
    model = LogisticRegression(C=best, max_iter=5000).fit(z, y)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:       # two classes: sklearn's one row is class 1 against class 0; softmax needs both
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return CategoryFusion(tuple(str(c) for c in model.classes_), tuple(head_categories), tuple(map(float, mean)),
                          tuple(map(float, scale)), tuple(tuple(map(float, r)) for r in coef),
                          tuple(map(float, intercept)), float(best))
