"""Parameters of the benchmark's two extra archives: ``bench.shift`` and ``bench.mismatch`` (see :mod:`.extra`).

Kept apart from :mod:`cargoscan.bench.config` on purpose: that file is a dependency of the ``bench-synth`` DVC
stage (the val/test archives, ~20 GB), so what only shapes the extra archives lives here and in
:mod:`cargoscan.bench.extra`, and changing it never re-renders val/test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Scanner ranges of the shifted archive: outside the training ranges of
#: :data:`cargoscan.physics.scanner.DEFAULT_RANGES` (fewer photons, more blur and filtration, another ratio offset).
SHIFT_SCANNER: dict[str, list[float]] = {
    "photons_high": [5000.0, 7000.0], "photons_low": [2500.0, 3500.0], "blur_row": [1.35, 1.8],
    "blur_col": [2.0, 2.5], "filtration_mm": [43.0, 50.0], "ratio_offset": [-0.040, -0.030]}

#: Declaration mismatch rates of the mismatch archive (per loaded consignment; the rest honest).
MISMATCH_RATES: dict[str, float] = {"undeclared_goods": 0.15, "wrong_goods": 0.15, "weight_understated": 0.15,
                                    "weight_overstated": 0.15, "package_count": 0.15}


@dataclass(frozen=True)
class ShiftParams:
    """``bench.shift``: clean wagons with honest declarations rendered by another scanner.

    Attributes:
        n: wagons (every one clean: no concealment, every declaration honest).
        scanner: overrides of :data:`cargoscan.physics.scanner.DEFAULT_RANGES` (``name: [low, high]``), merged over
            ``synth.scanner``.
    """

    n: int = 150
    scanner: dict[str, Any] = field(default_factory=lambda: {k: list(v) for k, v in SHIFT_SCANNER.items()})


@dataclass(frozen=True)
class MismatchArchiveParams:
    """``bench.mismatch``: wagons without threats whose declarations lie at known rates.

    Attributes:
        n: wagons.
        rates: ``synth.mismatch`` rates used for this archive (each per loaded consignment; the rest honest).
        understated_min: an understated weight counts as a positive of ``weight_understated`` when the declared
            net mass is at least this fraction below the true one.
    """

    n: int = 300
    rates: dict[str, float] = field(default_factory=lambda: dict(MISMATCH_RATES))
    understated_min: float = 0.10
