"""The ``bench:`` section of ``params.yaml`` (:class:`BenchParams`): the detection benchmark's archives and report.

The benchmark has a seed of its own. The two archives it synthesises take seeds *derived* from it
(:func:`split_seed`), never ``synth.seed`` (the training archive) nor the seeds of prepare, train or tip; a test
(``tests/bench/test_seeds.py``) reads ``params.yaml`` and checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cargoscan.bench.extra_params import MismatchArchiveParams, ShiftParams
from cargoscan.config import ConfigError, load_section

#: The benchmark's archives, in the order their seeds are derived.
SPLITS = ("val", "test")
#: Plans drawn at most per split before giving up on the strata minima.
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class BenchParams:
    """The ``bench:`` section of ``params.yaml``.

    Attributes:
        out_dir: the benchmark's root: ``val/`` and ``test/`` archives, ``manifest.json``, ``inspections/``.
        seed: the benchmark's own seed; the archives' seeds derive from it (:func:`split_seed`).
        n_val: wagons of the validation archive (calibration and the operating point, chosen by export).
        n_test: wagons of the benchmark archive.
        min_clean_test: the benchmark archive holds at least this many clean wagons (nothing hidden, honest).
        min_threat_test: ... and at least this many wagons with something to find.
        min_per_stratum: threat wagons of the benchmark archive per concealment kind, wagon type and cargo
            category, at least (0: no check; tiny archives).
        threat_rate: share of threat wagons in each archive (the test archive's minima take precedence).
        workers: processes for synthesis and scoring.
        target_far: the false-alarm rate on clean validation wagons the operating point is chosen for.
        report: the benchmark's metrics (JSON); the per-wagon table goes beside it as ``<stem>_scores.csv``.
        artifact: the exported model scored.
        cnr_visible: contrast-to-noise at native pitch above which a threat counts as visible.
        n_boot: bootstrap resamples of the AUROC interval.
        calibration_bins: bins of the reliability table and the ECE.
        shift: the scanner-shift archive (:mod:`cargoscan.bench.extra`; not part of ``bench-synth``).
        mismatch: the declaration-mismatch archive (:mod:`cargoscan.bench.extra`; not part of ``bench-synth``).
    """

    out_dir: str = "data/bench"
    seed: int = 7070707
    n_val: int = 600
    n_test: int = 1500
    min_clean_test: int = 1000
    min_threat_test: int = 500
    min_per_stratum: int = 5
    threat_rate: float = 0.3334
    workers: int = 2
    target_far: float = 0.01
    report: str = "reports/benchmark.json"
    artifact: str = "data/models/export"
    cnr_visible: float = 2.0
    n_boot: int = 2000
    calibration_bins: int = 10
    shift: ShiftParams = field(default_factory=ShiftParams)
    mismatch: MismatchArchiveParams = field(default_factory=MismatchArchiveParams)

    @property
    def scores_csv(self) -> Path:
        """The per-wagon table written beside the report: ``reports/benchmark_scores.csv``."""
        report = Path(self.report)
        return report.with_name(f"{report.stem}_scores.csv")

    def archive(self, split: str) -> Path:
        """The archive of ``split`` (``val`` or ``test``)."""
        return Path(self.out_dir) / split

    def inspections(self, split: str) -> Path:
        """The stored inspections of ``split``'s scans (resumable)."""
        return Path(self.out_dir) / "inspections" / split


def split_seed(seed: int, split: str, attempt: int = 0) -> int:
    """The synthesis seed of one benchmark archive, derived from the benchmark's seed, the split and the attempt.

    The test archive's plan is drawn again, ``attempt`` 1, 2, ..., while a stratum falls short of its minimum
    (:func:`cargoscan.bench.archive.plan_split`); at most :data:`MAX_ATTEMPTS` seeds per split are ever used.
    """
    if split not in SPLITS:
        raise ConfigError(f"unknown benchmark split {split!r}; known: {list(SPLITS)}")
    if not 0 <= attempt < MAX_ATTEMPTS:
        raise ConfigError(f"benchmark plan attempt {attempt} outside [0, {MAX_ATTEMPTS})")
    child = np.random.SeedSequence([int(seed), 0xBE7C, SPLITS.index(split) + 1, attempt])
    return int(child.generate_state(1, np.uint32)[0])


def split_counts(p: BenchParams, split: str) -> tuple[int, int]:
    """(clean, threat) wagons of an archive: ``threat_rate`` of ``n``, the test archive's minima first.

    Raises:
        ConfigError: when the test archive cannot hold both minima.
    """
    n = p.n_val if split == "val" else p.n_test
    threat = int(round(n * p.threat_rate))
    if split == "test":
        threat = max(threat, p.min_threat_test)
        if n - threat < p.min_clean_test:
            raise ConfigError(f"bench: n_test = {n} cannot hold {threat} threat wagons (threat_rate "
                              f"{p.threat_rate}, min_threat_test {p.min_threat_test}) and min_clean_test = "
                              f"{p.min_clean_test} clean ones; raise n_test or lower threat_rate")
    return n - threat, threat


def validate(p: BenchParams) -> None:
    """Check the values for sense before anything is written; raise :class:`ConfigError` naming the key."""
    if p.n_val < 0 or p.n_test < 1:
        raise ConfigError(f"bench: n_val >= 0 and n_test >= 1 needed, got {p.n_val}, {p.n_test}")
    if not 0.0 <= p.threat_rate <= 1.0:
        raise ConfigError(f"bench.threat_rate = {p.threat_rate}: a rate must lie in [0, 1]")
    if not 0.0 < p.target_far < 1.0:
        raise ConfigError(f"bench.target_far = {p.target_far}: must lie in (0, 1)")
    if p.workers < 1:
        raise ConfigError(f"bench.workers = {p.workers}: need at least one worker")
    if min(p.min_clean_test, p.min_threat_test, p.min_per_stratum) < 0:
        raise ConfigError("bench: the minima cannot be negative")
    split_counts(p, "test")


def load_bench_params(path: str | Path = "params.yaml", profile: str | None = None) -> BenchParams:
    """Read and validate the ``bench:`` section (with the active profile applied)."""
    params = load_section(BenchParams, "bench", path, profile)
    validate(params)
    return params
