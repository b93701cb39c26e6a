"""Scores and the statistics reported about them, defined once for evaluate, the engine, the benchmark and reports.

This layer imports only numpy and scipy, so the deployable engine (``cargoscan.inspect``) can use it without
pulling in training code.
"""

from cargoscan.scoring.calibration import Calibrator, expected_calibration_error, fit_calibrator
from cargoscan.scoring.intervals import auroc, bootstrap_auroc, rate, wilson

__all__ = ["Calibrator", "auroc", "bootstrap_auroc", "expected_calibration_error", "fit_calibrator", "rate",
           "wilson"]
