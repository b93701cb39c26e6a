"""The benchmark's two extra archives: ``data/bench/shift`` and ``data/bench/mismatch``.

* **shift** (issue 14 §2): ``bench.shift.n`` clean wagons (nothing hidden, every declaration honest) rendered
  with scanner ranges *outside* the training ones: ``bench.shift.scanner`` overrides
  :data:`cargoscan.physics.scanner.DEFAULT_RANGES` (merged over ``synth.scanner``). Scored, it says how the wagon
  score of clean wagons moves when the scanner is not the one trained on.
* **mismatch** (issue 15 §3): ``bench.mismatch.n`` wagons without threats whose declarations lie at the known
  rates ``bench.mismatch.rates`` (``synth.mismatch`` kinds, per loaded consignment; the rest honest). Its
  ``truth.csv`` (column ``mismatch``) is the ground truth of the mismatch AUROCs.

Both are rendered by the synthesiser itself with the ``synth:`` parameters, except for n, the threats (none), the
mismatch rates, the scanner ranges (shift only) and **the seed**, derived from ``bench.seed`` by
:func:`extra_seed` with keys of its own: never ``synth.seed``, never a val/test seed (``tests/bench/test_seeds.py``).

This module leaves :mod:`cargoscan.bench.archive` (val/test, the ``bench-synth`` stage) untouched: the extra
archives are their own DVC stages (``bench-shift``, ``bench-mismatch``). Each archive's ``bench_manifest.json``
records its seed, the parameters that differ from ``synth:``, and its counts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.bench.config import SPLITS, BenchParams
from cargoscan.config import ConfigError
from cargoscan.synth.config import MismatchParams, SynthParams

log = logging.getLogger(__name__)

#: The extra archives, in the order of their seed keys (after val and test: 1 and 2 in ``split_seed``).
EXTRA = ("shift", "mismatch")
MANIFEST = "bench_manifest.json"


def extra_seed(seed: int, name: str) -> int:
    """The synthesis seed of an extra archive, derived from ``bench.seed``: a key of its own (3 + index, after
    the val/test keys 1, 2 of :func:`cargoscan.bench.config.split_seed`) and a tag no other seed uses."""
    if name not in EXTRA:
        raise ConfigError(f"unknown extra benchmark archive {name!r}; known: {list(EXTRA)}")
    child = np.random.SeedSequence([int(seed), 0xBE7C, len(SPLITS) + 1 + EXTRA.index(name), 0xE7A])
    return int(child.generate_state(1, np.uint32)[0])


def archive_path(bench: BenchParams, name: str) -> Path:
    """``<bench.out_dir>/<name>``."""
    return Path(bench.out_dir) / name


def validate_extra(synth: SynthParams, bench: BenchParams) -> None:
    """Check ``bench.shift`` and ``bench.mismatch``; raise :class:`ConfigError` naming the key."""
    from cargoscan.synth.config import KNOWN_MISMATCHES
    from cargoscan.physics.scanner import DEFAULT_RANGES

    s, m = bench.shift, bench.mismatch
    if s.n < 0 or m.n < 0:
        raise ConfigError(f"bench.shift.n and bench.mismatch.n must be >= 0, got {s.n}, {m.n}")
    for name, value in s.scanner.items():
        if name not in DEFAULT_RANGES:
            raise ConfigError(f"bench.shift.scanner.{name}: unknown scanner parameter; known: {sorted(DEFAULT_RANGES)}")
        if not (isinstance(value, (list, tuple)) and len(value) == 2 and float(value[0]) <= float(value[1])):
            raise ConfigError(f"bench.shift.scanner.{name} = {value!r}: expected [low, high] with low <= high")
    unknown = sorted(set(m.rates) - set(KNOWN_MISMATCHES))
    if unknown:
        raise ConfigError(f"bench.mismatch.rates: unknown kinds {unknown}; known: {list(KNOWN_MISMATCHES)}")
    if any(not 0.0 <= float(v) <= 1.0 for v in m.rates.values()) or sum(m.rates.values()) > 1.0:
        raise ConfigError(f"bench.mismatch.rates = {m.rates}: each in [0, 1], their sum <= 1")
    if not 0.0 <= m.understated_min < 1.0:
        raise ConfigError(f"bench.mismatch.understated_min = {m.understated_min}: must lie in [0, 1)")


def shift_ranges(synth: SynthParams, bench: BenchParams) -> dict[str, dict[str, Any]]:
    """Per overridden scanner parameter: the training range, the shifted one, and whether they overlap."""
    from cargoscan.physics.scanner import DEFAULT_RANGES

    train = {**{k: list(v) for k, v in DEFAULT_RANGES.items()}, **{k: list(v) for k, v in synth.scanner.items()}}
    out = {}
    for name, (lo, hi) in sorted(bench.shift.scanner.items()):
        tlo, thi = train[name]
        out[name] = {"training": [float(tlo), float(thi)], "shift": [float(lo), float(hi)],
                     "outside": bool(float(hi) < float(tlo) or float(lo) > float(thi))}
    return out


def extra_params(synth: SynthParams, bench: BenchParams, name: str) -> SynthParams:
    """The synth parameters an extra archive is rendered with (no threats; derived seed)."""
    validate_extra(synth, bench)
    no_threats = dataclasses.replace(synth.threats, wagon_rate=0.0)
    base = dataclasses.replace(synth, seed=extra_seed(bench.seed, name), workers=bench.workers, threats=no_threats)
    if name == "shift":
        scanner = {**synth.scanner, **{k: [float(v[0]), float(v[1])] for k, v in bench.shift.scanner.items()}}
        return dataclasses.replace(base, n=bench.shift.n, scanner=scanner,
                                   mismatch=MismatchParams(0.0, 0.0, 0.0, 0.0, 0.0))
    rates = {k: float(bench.mismatch.rates.get(k, 0.0)) for k in
             ("undeclared_goods", "wrong_goods", "weight_understated", "weight_overstated", "package_count")}
    return dataclasses.replace(base, n=bench.mismatch.n, mismatch=MismatchParams(**rates))


def truth_counts(root: Path) -> dict[str, Any]:
    """Consignments per ``mismatch`` kind and wagons with every declaration honest, from ``truth.csv``."""
    from cargoscan.archive import ArchivePaths, read_table

    rows = read_table(ArchivePaths(root).table("truth.csv"))
    honest: dict[str, bool] = {}
    for r in rows:
        honest[r["scan_id"]] = honest.get(r["scan_id"], True) and r.get("mismatch", "none") in ("none", "")
    return {"consignments": len(rows), "mismatch": dict(sorted(Counter(r.get("mismatch") or "none"
                                                                        for r in rows).items())),
            "wagons": len(honest), "honest_wagons": sum(honest.values()),
            "threat_consignments": sum(r.get("has_threat") == "1" for r in rows)}


def synthesise_extra(synth: SynthParams, bench: BenchParams, name: str, force: bool = False) -> dict[str, Any]:
    """Render one extra archive (kept when already rendered from the same parameters) and its manifest."""
    from cargoscan.bench.archive import _up_to_date
    from cargoscan.synth.generator import GENERATOR_NAME, GENERATOR_VERSION, generate
    from cargoscan.synth.manifest import plan_scans

    p = extra_params(synth, bench, name)
    root = archive_path(bench, name)
    plans = plan_scans(p)
    if not force and _up_to_date(root, p, plans):
        log.info("%s: %d scans already rendered from seed %d; kept", root, len(plans), p.seed)
    else:
        generate(p, root, workers=bench.workers, force=True, plans=plans)
    manifest: dict[str, Any] = {
        "archive": name, "path": str(root), "seed": p.seed, "bench_seed": bench.seed, "training_seed": synth.seed,
        "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION}, "n": len(plans),
        "threats": "none (synth.threats.wagon_rate = 0)",
        "wagon_type": dict(sorted(Counter(sp.wagon_type for sp in plans).items())),
        "truth": truth_counts(root)}
    if name == "shift":
        manifest["declarations"] = "honest: every synth.mismatch rate set to 0"
        manifest["scanner"] = shift_ranges(synth, bench)
        manifest["devices"] = {sp.device_id: sp.scanner for sp in plans}
        inside = [k for k, v in manifest["scanner"].items() if not v["outside"]]
        if inside:
            log.warning("bench.shift.scanner: %s overlap the training ranges", ", ".join(inside))
    else:
        manifest["declarations"] = {"rates": dataclasses.asdict(p.mismatch),
                                    "understated_min": bench.mismatch.understated_min}
    (root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")
    return manifest
