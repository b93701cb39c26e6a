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
  on honest wagons keeps its physical rule;
* with a **margin for the few wagons it is chosen on**: the union counts the wagons already red for another
  reason (the threat alarm), and what must stay within the budget is not the rate observed on them but its
  one-sided 95 % Wilson upper bound. A tail chosen on 400 wagons is a handful of wagons; the observed rate there
  understates the rate on the next thousand (chosen on 400 validation wagons at 2.75 %, the cargo and mass
  checks sent 5.4 % of a 1,000-wagon benchmark red).

Lives in ``cargoscan.scoring`` (numpy only): export chooses the thresholds, the engine applies them, the
benchmark measures them.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from cargoscan.scoring.intervals import wilson

#: The declaration checks the budget governs, in the engine's order.
BUDGET_CHECKS = ("cargo", "mass", "material")
#: The one-sided 95 % normal quantile: the budget holds for the union's upper bound at this level.
Z_ONE_SIDED_95 = 1.6448536269514722


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
                     steps: int = 60, already: np.ndarray | None = None, z: float | None = None) -> dict[str, Any]:
    """The thresholds of all checks for at most ``budget`` honest wagons red, by any of them or ``already``.

    Args:
        evidence: check name → (N,) evidence on the same N honest validation wagons.
        budget: the union's share of false alarms allowed.
        floor: the physical rule's evidence (thresholds are never below it).
        steps: bisection steps on the shared tail level.
        already: (N,) wagons red for another reason (the threat alarm): in the union, not governed here.
        z: the normal quantile of the union's Wilson upper bound that must stay within ``budget``; None: the
            observed union rate must.

    Returns:
        ``thresholds`` (name → value), ``level`` (the shared tail level), ``union_rate`` (observed, ``already``
        included), ``union_bound`` (what was held to the budget) and ``per_check`` (each check's own false-alarm
        rate) at those thresholds, ``n`` wagons.
    """
    names = list(evidence)
    n = len(next(iter(evidence.values()))) if names else 0
    if any(len(evidence[k]) != n for k in names):
        raise ValueError("every check needs evidence on the same wagons")
    if not 0 <= budget <= 1:
        raise ValueError(f"budget {budget}: a share in [0, 1]")

    base = np.zeros(n, bool) if already is None else np.asarray(already, bool)
    if len(base) != n:
        raise ValueError("`already` needs one entry per wagon")

    def red(th: dict[str, float]) -> int:
        return int((flags(evidence, th) | base).sum()) if names else int(base.sum())

    def union(th: dict[str, float]) -> float:
        return red(th) / n if n else 0.0

    def bound(th: dict[str, float]) -> float:
        return union(th) if z is None or not n else wilson(red(th), n, z)[1]

    rules = {k: floor for k in names}
    if bound(rules) <= budget:              # the physical rules alone keep the budget
        best, level = rules, 1.0
    else:
        lo, hi = 0.0, 1.0                   # bound(level=lo) <= budget < bound(level=hi)
        best = _thresholds_at(evidence, 0.0, floor)
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            th = _thresholds_at(evidence, mid, floor)
            if bound(th) <= budget:
                lo, best = mid, th
            else:
                hi = mid
        level = lo
    return {"thresholds": best, "level": level, "union_rate": union(best), "union_bound": bound(best), "n": n,
            "budget": budget, "bound": "observed" if z is None else f"wilson one-sided, z = {z:.3f}",
            "per_check": {k: float(flags({k: evidence[k]}, best).mean()) if n else 0.0 for k in names}}
