"""The mass of a load read partly at the dark level, calibrated per cargo category on weighed units.

Where the beam is at or next to the dark level, λ is not measured (:data:`~cargoscan.inspect.material.DARK_A`):
−ln of noise about zero counts reads thick water *heavy*, and steel behind more steel than the beam crosses reads
*light*. Uncalibrated, such a unit's mass is only a lower bound whose uncertainty is the whole mass B read on
those pixels (:func:`~cargoscan.inspect.material._mass`): 483 of 719 honest validation units of the cpu reference
were lower bounds, with σ about half their mass, so a weight understated by 10–30 % was inside it.

The error is the goods' own, not the unit's: on those 483 units it is tight within each category (median,
interquartile range: liquids +15 % [+14.5, +16.0], chemicals +8 % [+7.6, +9.5], plastics +9 % [+7, +11], steel
products −66 % [−70, −39]). So export fits, per category, on the validation archive's weighed clean units:

* β, the share of B that is bias: net − β·B = truth (the median of (net − truth)/B over units with B ≥
  :data:`MIN_DARK_SHARE` of their mass);
* the spread s of what remains, relative: the least s for which ``2·√(σ_m² + (s·net)²)`` covers 95 % of them
  (σ_m the measured uncertainty, without B), at least :data:`MIN_SPREAD`,

and seals them in ``config.json`` (``mass_calibration``). The engine then reads a unit of a calibrated category
(the declared one: the cargo check answers for a wrong one) as net − β·B ± √(σ_m² + (s·net)²), two-sided, no
longer a lower bound. A category with fewer than :data:`MIN_UNITS` such units keeps the lower bound. Fitted on half
of the validation units and read on the other half (run (c)'s model): lower-bound units' median |Δ| 11.7 % →
2.8 %, p90 65 % → 18 %, 2σ coverage 95–97 %.

The calibration is the scanner's, like the wagon threshold: its dark level and photon statistics set β. A
customs service refits it from its own weighed wagons (a weighbridge's net weights in ``truth.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

#: The fewest calibration units (clean, weighed, read partly at the dark level) a category needs.
MIN_UNITS = 12
#: A unit enters the fit when at least this share of its mass was read on dark pixels (β = (net − truth)/B).
MIN_DARK_SHARE = 0.05
#: The least relative spread of a calibrated mass.
MIN_SPREAD = 0.01
#: The share of calibration units the spread must cover at 2σ.
COVERAGE = 0.95


@dataclass(frozen=True)
class MassCalibration:
    """Per cargo category: β (the share of the dark-pixel mass that is bias) and the relative spread."""

    beta: dict[str, float] = field(default_factory=dict)
    spread: dict[str, float] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)

    def correct(self, category: str | None, net: float, sigma_measured: float, dark_kg: float
                ) -> tuple[float, float] | None:
        """(net, σ) of a unit of ``category`` whose mass ``net`` holds ``dark_kg`` read at the dark level, or None
        where the category is not calibrated or the unit read less than :data:`MIN_DARK_SHARE` of its mass
        there (its σ is then the read one)."""
        if category not in self.beta or dark_kg < MIN_DARK_SHARE * net:     # outside what it was fitted on
            return None
        net = max(net - self.beta[category] * dark_kg, 0.0)
        return net, math.hypot(sigma_measured, self.spread[category] * net)

    def to_dict(self) -> dict[str, Any]:
        return {"beta": self.beta, "spread": self.spread, "n": self.n}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MassCalibration":
        beta = {str(k): float(v) for k, v in d["beta"].items()}
        spread = {str(k): float(v) for k, v in d["spread"].items()}
        if set(beta) != set(spread) or not all(map(math.isfinite, [*beta.values(), *spread.values()])):
            raise ValueError("mass calibration: beta and spread must name the same categories, finite")
        return cls(beta, spread, {str(k): int(v) for k, v in (d.get("n") or {}).items()})

    @classmethod
    def fit(cls, units: Iterable[tuple[str, float, float, float, float]], min_units: int = MIN_UNITS
            ) -> "MassCalibration":
        """From (category, net_kg, sigma_measured_kg, dark_kg, true_kg) of clean, weighed units."""
        by: dict[str, list[tuple[float, float, float, float]]] = {}
        for cat, net, sigma_m, dark, true in units:
            if cat and true > 0 and net > 0 and dark >= MIN_DARK_SHARE * net:
                by.setdefault(cat, []).append((net, sigma_m, dark, true))
        beta, spread, n = {}, {}, {}
        for cat, rows in sorted(by.items()):
            if len(rows) < min_units:
                continue
            net, sigma_m, dark, true = map(np.asarray, zip(*rows))
            b = float(np.median((net - true) / dark))
            corrected = np.clip(net - b * dark, 1.0, None)
            # the s each unit needs to be covered at 2σ: (|Δ|/2)² = σ_m² + (s·net)²
            need = np.sqrt(np.clip((np.abs(corrected - true) / 2) ** 2 - sigma_m ** 2, 0, None)) / corrected
            beta[cat] = round(b, 4)
            spread[cat] = round(max(float(np.quantile(need, COVERAGE)), MIN_SPREAD), 4)
            n[cat] = len(rows)
        return cls(beta, spread, n)
