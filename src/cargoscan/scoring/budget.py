"""One decision budget: the thresholds of the declaration checks, chosen jointly on honest validation wagons.

Every check that can send a wagon red (cargo category, mass, density and material) reports an **evidence**: a
number that grows with the discrepancy, scaled so that 1.0 is the check's own physical rule (a mass outside its
tolerance and σ, a declared category the model gives at most 10 %, …). A check flags when its evidence reaches
its threshold, 1.0 unless an operating point says otherwise.

Each check alone may look reasonable and still the wagon is red whenever *any* of them fires: four checks at
5 % each send one honest wagon in five red. So the thresholds are chosen together, on the honest wagons of a
validation archive, for one budget of false alarms (the union), and

* only ever **tightened** (never below the physical rule: a discrepancy inside the stated tolerance is never a
  mismatch);
* with **one tail level** shared by all checks (the level at which every check's own false-alarm rate on the
  validation wagons is the same), the largest level whose union stays within the budget; a check that is quiet
  on honest wagons keeps its physical rule.

Lives in ``cargoscan.scoring`` (numpy only): export chooses the thresholds, the engine applies them, the
benchmark measures them.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

#: The declaration checks the budget governs, in the engine's order.
BUDGET_CHECKS = ("cargo", "mass", "material")


def flags(evidence: Mapping[str, np.ndarray], thresholds: Mapping[str, float]) -> np.ndarray:
    """(N,) whether any check reaches its threshold (missing evidence, NaN, never flags here)."""
    out = None
    for name, e in evidence.items():
        e = np.asarray(e, np.float64)
        f = np.nan_to_num(e, nan=-np.inf) >= float(thresholds.get(name, 1.0))
        out = f if out is None else out | f
    return np.zeros(0, bool) if out is None else out


def _thresholds_at(evidence: Mapping[str, np.ndarray], level: float, floor: float) -> dict[str, float]:
    """Each check's threshold at tail ``level``: its (1 − level) quantile on the honest wagons, at least ``floor``
    (just above it, so that exactly ``level`` or less of the wagons reach it)."""
    out = {}
    for name, e in evidence.items():
        e = np.asarray(e, np.float64)
        e = e[np.isfinite(e)]
        if not e.size:
            out[name] = floor
            continue
        # just above the (1 − level) quantile, an evidence value itself, so that the tail is at most `level`
        q = float(np.quantile(e, 1.0 - level, method="higher"))
        out[name] = max(floor, float(np.nextafter(q, np.inf)))
    return out


def joint_thresholds(evidence: Mapping[str, np.ndarray], budget: float, floor: float = 1.0,
                     steps: int = 60) -> dict[str, Any]:
    """The thresholds of all checks for at most ``budget`` honest wagons flagged by any of them.

    Args:
        evidence: check name → (N,) evidence on the same N honest validation wagons.
        budget: the union's share of false alarms allowed to these checks.
        floor: the physical rule's evidence (thresholds are never below it).
        steps: bisection steps on the shared tail level.

    Returns:
        ``thresholds`` (name → value), ``level`` (the shared tail level), ``union_rate`` and ``per_check`` (each
        check's own false-alarm rate) at those thresholds, ``n`` wagons.
    """
    names = list(evidence)
    n = len(next(iter(evidence.values()))) if names else 0
    if any(len(evidence[k]) != n for k in names):
        raise ValueError("every check needs evidence on the same wagons")
    if not 0 <= budget <= 1:
        raise ValueError(f"budget {budget}: a share in [0, 1]")

    def union(th: dict[str, float]) -> float:
        return float(flags(evidence, th).mean()) if n else 0.0

    rules = {k: floor for k in names}
    if union(rules) <= budget:              # the physical rules alone keep the budget
        best, level = rules, 1.0
    else:
        lo, hi = 0.0, 1.0                   # union(level=lo) <= budget < union(level=hi)
        best = _thresholds_at(evidence, 0.0, floor)
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            th = _thresholds_at(evidence, mid, floor)
            if union(th) <= budget:
                lo, best = mid, th
            else:
                hi = mid
        level = lo
    return {"thresholds": best, "level": level, "union_rate": union(best), "n": n, "budget": budget,
            "per_check": {k: float(flags({k: evidence[k]}, best).mean()) if n else 0.0 for k in names}}
