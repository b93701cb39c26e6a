"""Small constructed wagon scans for the TIP tests (no physics needed)."""

from __future__ import annotations

import numpy as np
import pytest


def constructed_wagon(h: int = 120, w: int = 300, seed: int = 0) -> np.ndarray:
    """A (2, H, W) uint16 archive image of a loaded wagon, rows top→rail.

    Air above; a body with thin walls and a cargo block; a floor; two bogies at the bottom whose axles starve
    the detector. The low energy attenuates 20 % more than the high one, as at 4 vs 6 MeV.
    """
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w), np.float64)
    top, floor, bottom = int(0.15 * h), int(0.72 * h), int(0.95 * h)
    left, right = int(0.05 * w), int(0.95 * w)
    a[top:floor, left:right] = 0.12                        # two side walls, seen through
    a[top + 8:floor - 2, left + 6:right - 6] += 1.4        # cargo
    a[floor:floor + 4, left:right] = 2.5                   # floor and sole bar
    for cx in (int(0.2 * w), int(0.8 * w)):                # bogies: frames and starved axles
        a[floor + 4:bottom, cx - 20:cx + 20] = 4.0
        a[floor + 10:floor + 18, cx - 6:cx + 6] = 13.0
    t = np.stack([np.exp(-a), np.exp(-1.2 * a)])
    t = t * (1 + 0.004 * rng.standard_normal(t.shape))
    img = np.rint(np.clip(t, 0, 1) * 65535)
    img[img < 2] = 0
    return img.astype(np.uint16)


@pytest.fixture
def wagon() -> np.ndarray:
    return constructed_wagon()
