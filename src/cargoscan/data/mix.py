"""Hooks for ``prepare`` (mixing TIP'd real scans with synthetic ones) and ``evaluate`` (real backgrounds).

``prepare`` calls :func:`select` with the synthetic scan IDs it has and ``tip.mix_ratio``; ``evaluate`` calls
:func:`real_sets` and then :func:`real_background_rates` with its per-scan decisions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cargoscan.archive import ArchivePaths, read_sidecar


def select(
    tip_root: str | Path, n_synthetic: int, ratio: float, rng: np.random.Generator
) -> list[tuple[Path, str]]:
    """TIP'd scans to add to ``n_synthetic`` synthetic ones so that they make ``ratio`` of the mix.

    Args:
        tip_root: archive of TIP'd scans (``cargoscan tip`` output).
        n_synthetic: how many synthetic scans the prepared set holds.
        ratio: wanted fraction of TIP'd scans in the mix, in [0, 1).
        rng: chooses which ones when more are available than needed.

    Returns:
        ``(archive root, scan_id)`` pairs, sorted; fewer than asked when the archive has fewer.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mix ratio must lie in [0, 1), got {ratio}")
    root = Path(tip_root)
    ids = [s for s in ArchivePaths(root).scan_ids() if _kind(root, s) == "tip"]
    want = int(round(ratio / (1.0 - ratio) * n_synthetic))
    if want >= len(ids):
        chosen = ids
    else:
        chosen = sorted(rng.choice(ids, size=want, replace=False).tolist())
    return [(root, s) for s in chosen]


def real_sets(tip_root: str | Path, imported_root: str | Path) -> dict[str, list[tuple[Path, str]]]:
    """Evaluation sets on real backgrounds: ``tip`` (real scans with projected threats) and ``clean`` (the
    untouched imported scans, for the false-alarm rate); clean scans that served as TIP backgrounds are kept —
    the TIP'd copies are different scans."""
    tip_root, imported_root = Path(tip_root), Path(imported_root)
    tip = [(tip_root, s) for s in ArchivePaths(tip_root).scan_ids() if _kind(tip_root, s) == "tip"]
    clean = [
        (imported_root, s)
        for s in ArchivePaths(imported_root).scan_ids()
        if _kind(imported_root, s) == "imported"
    ]
    return {"tip": tip, "clean": clean}


def real_background_rates(
    suspicious: dict[str, bool], sets: dict[str, list[tuple[Path, str]]]
) -> dict[str, float | int]:
    """Detection rate on TIP'd real scans and false-alarm rate on clean real scans.

    Args:
        suspicious: the model's per-scan decision (True = «под подозрением»), by scan ID; a missing scan
        counts
            as suspicious (fail closed).
        sets: from :func:`real_sets`.
    """
    tip = [suspicious.get(s, True) for _, s in sets["tip"]]
    clean = [suspicious.get(s, True) for _, s in sets["clean"]]
    return {
        "real_tip_n": len(tip),
        "real_detection_rate": float(np.mean(tip)) if tip else float("nan"),
        "real_clean_n": len(clean),
        "real_false_alarm_rate": float(np.mean(clean)) if clean else float("nan"),
    }


def _kind(root: Path, scan_id: str) -> str:
    return read_sidecar(ArchivePaths(root).sidecar(scan_id)).get("source", {}).get("kind", "synthetic")
