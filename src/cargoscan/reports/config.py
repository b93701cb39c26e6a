"""The ``report:`` section of ``params.yaml``: where the reports read from and how they are rendered."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: The notebooks the ``report`` stage renders, in order: ``notebooks/<name>.ipynb`` → ``reports/<name>.html``.
NOTEBOOKS = ("dataset", "evaluation", "batch")


@dataclass(frozen=True)
class ReportParams:
    """Inputs, outputs and rendering knobs of the reviewer reports (``cargoscan report``)."""

    archive: str = "data/raw"                    # the scan archive (format 1.0)
    metrics: str = "reports/metrics.json"        # the evaluate stage's metrics
    benchmark: str = "reports/benchmark.json"    # the benchmark stage's metrics (cargoscan.bench)
    benchmark_scores: str = "reports/benchmark_scores.csv"   # ... and its per-wagon scores
    inspections: str = "data/inspections"        # one inspection JSON per scan (contract B)
    model_dir: str = "data/models/export"        # the exported model (config.json, model_card.md)
    notebooks_dir: str = "notebooks"
    out_dir: str = "reports"                     # HTML goes here, committed for reviewers
    figures_dir: str = "reports/figures"         # every figure also as a PNG
    work_dir: str = "data/tmp/reports"           # executed notebooks (with outputs; not committed)
    notebooks: tuple[str, ...] = NOTEBOOKS
    kernel: str = "python3"
    jobs: int = 2                                # notebooks rendered in parallel (worker processes)
    dpi: int = 72                                # modest: keeps each HTML well under 2 MB
    n_samples: int = 4                           # sample scans with overlays in the dataset report
    gallery_size: int = 4                        # worst misses / worst false alarms shown
    max_scans: int = 400                         # scans whose masks are read for pixel statistics (0 = all)
    realism_scans: int = 12                      # scans measured against the real-scanner targets
    #: relative mass difference that counts as a weight mismatch; None (the default): the engine's own
    #: ``inspect.mass_tolerance_rel`` — one value for the flag and the report (:meth:`mass_tolerance_rel`)
    mass_tolerance: float | None = None
    calibration_bins: int = 10
    cell_timeout_s: int = 900

    def notebook_parameters(self, name: str) -> dict[str, Any]:
        """The papermill parameters of notebook ``name`` (only the keys its ``parameters`` cell declares)."""
        p = asdict(self)
        common = {"figures_dir": p["figures_dir"], "dpi": p["dpi"]}
        keys = {
            "dataset": ("archive", "n_samples", "max_scans", "realism_scans"),
            "evaluation": ("archive", "metrics", "inspections", "model_dir", "gallery_size", "mass_tolerance",
                           "calibration_bins", "benchmark", "benchmark_scores"),
            "batch": ("archive", "inspections"),
        }
        if name not in keys:
            raise KeyError(f"unknown report notebook {name!r}; known: {sorted(keys)}")
        p["mass_tolerance"] = self.mass_tolerance_rel()
        return {**common, **{k: p[k] for k in keys[name]}}

    def mass_tolerance_rel(self, params_file: str | Path | None = None) -> float:
        """``mass_tolerance``, or when unset the inspect section's ``mass_tolerance_rel`` (``params_file``, default
        ``params.yaml``; without a readable file, :class:`~cargoscan.inspect.config.InspectParams`' default)."""
        if self.mass_tolerance is not None:
            return float(self.mass_tolerance)
        from cargoscan.config import DEFAULT_PARAMS, load_section
        from cargoscan.inspect.config import InspectParams

        try:
            return float(load_section(InspectParams, "inspect", params_file or DEFAULT_PARAMS).mass_tolerance_rel)
        except Exception:          # no params.yaml here (a test, an installed package): the engine's default
            return float(InspectParams().mass_tolerance_rel)
