"""The benchmark's archives: ``data/bench/val`` (calibration, operating point) and ``data/bench/test`` (the benchmark).

Both are rendered by the synthesiser itself (:func:`cargoscan.synth.generator.generate`), with the ``synth:``
parameters of ``params.yaml`` (wagon mix, cargo, concealment kinds, scanner ranges, geometry) except for:

* **the seed**: each archive's seed derives from ``bench.seed`` (:func:`cargoscan.bench.config.split_seed`), never
  ``synth.seed``, so no benchmark wagon shares a seed with a training wagon;
* **n** and **the threat share**, which are *stratified*, not drawn: the plan is drawn with every wagon carrying
  the synthesiser's own concealment draw (``threats.wagon_rate = 1``), then exactly ``n_threat`` wagons keep it
  and the others are emptied of it. The wagons that keep it are chosen so that every concealment site, wagon type
  and cargo category has at least ``bench.min_per_stratum`` threat wagons (rare sites first, the rest at random);
  when the plan cannot give that (a bulk cavity needs a gondola of bulk minerals), the test plan is drawn again
  with the next derived seed;
* **declarations**: every ``synth.mismatch`` rate is set to 0, so every declaration is honest. A wagon without a
  labelled threat is therefore *clean* (nothing hidden, honest declaration), the population the false-alarm rate
  is measured on. ``synth_params.json`` of each archive records the rates used and the realised threat share.

``data/bench/manifest.json`` records, per archive, the seed and attempt, the counts of clean and threat wagons per
wagon type and cargo category, the planned concealment kinds and sites, and the sites and classes the labels
actually hold after rendering, so the seeds and the stratification can be checked.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.bench.config import MAX_ATTEMPTS, SPLITS, BenchParams, split_counts, split_seed
from cargoscan.config import ConfigError
from cargoscan.synth.config import MismatchParams, SynthParams
from cargoscan.synth.manifest import ScanPlan, plan_scans

log = logging.getLogger(__name__)

#: The label ``site`` a concealment kind produces (:func:`cargoscan.synth.concealment.conceal`).
KIND_SITE = {"drugs_in_cargo": "in_cargo", "cigarettes_in_cargo": "in_cargo", "weapons_in_cargo": "in_cargo",
             "bulk_void": "bulk_cavity"}
STRATA = ("site", "wagon_type", "category")
EMPTY = "empty"


def effective_kind(plan: ScanPlan, spec: dict[str, Any]) -> str:
    """The kind a spec is rendered as: :func:`~cargoscan.synth.concealment.conceal` falls back to one that fits.

    A bulk void needs bulk (bulk minerals), a false front wall or roof needs an end wall or roof (not a tank
    barrel), and hollowed goods need goods. ``tests/bench/test_archive.py`` checks this against rendered labels.
    """
    from cargoscan.synth.cargo import CATEGORIES

    unit = plan.units[spec["unit"] % len(plan.units)]
    kind, tank = spec["kind"], plan.wagon_type == "tank"
    if kind == "bulk_void" and (unit.category is None or CATEGORIES[unit.category].packaging != "bulk"):
        kind = "hollowed_goods"
    if kind in ("false_front_wall", "false_roof") and tank:
        kind = "structure_compartment"
    if kind == "hollowed_goods" and unit.category is None:
        kind = "structure_compartment" if tank else "false_floor"
    return kind


def wagon_category(plan: ScanPlan) -> str:
    """The wagon's cargo category as its label file names it (the first loaded unit's), ``empty`` for none."""
    return next((u.category for u in plan.units if u.category), None) or EMPTY


def strata_of(plan: ScanPlan) -> set[tuple[str, str]]:
    """The (stratum, value) pairs a wagon's concealments would count for."""
    sites = {KIND_SITE.get(k, k) for k in (effective_kind(plan, s) for s in plan.threats)}
    return {("site", s) for s in sites} | {("wagon_type", plan.wagon_type), ("category", wagon_category(plan))}


def required_strata(synth: SynthParams) -> list[tuple[str, str]]:
    """Every site of a kind with positive weight, every wagon type with positive weight and its categories."""
    from cargoscan.synth.cargo import list_categories

    kinds = [k for k, w in synth.threats.kinds.items() if w > 0]
    types = sorted(t for t, w in synth.load.wagon_types.items() if w > 0)
    cats = sorted({c for t in types for c in list_categories(t)})
    return ([("site", s) for s in sorted({KIND_SITE.get(k, k) for k in kinds})]
            + [("wagon_type", t) for t in types] + [("category", c) for c in cats])


def select_threats(plans: list[ScanPlan], n_threat: int, minimum: int, rng: np.random.Generator,
                   required: list[tuple[str, str]]) -> list[int]:
    """Indices of the ``n_threat`` wagons that keep their concealments.

    The rarest required strata are served first, up to ``minimum`` wagons each, then the rest at random.
    """
    order = [int(i) for i in rng.permutation(len(plans))]
    keys = [strata_of(plans[i]) for i in range(len(plans))]
    available = Counter(k for ks in keys for k in ks)
    chosen: list[int] = []
    taken: set[int] = set()
    counts: Counter = Counter()
    for stratum in sorted(required, key=lambda s: (available[s], s)):
        for i in order:
            if counts[stratum] >= minimum or len(chosen) >= n_threat:
                break
            if i not in taken and stratum in keys[i]:
                chosen.append(i)
                taken.add(i)
                counts.update(keys[i])
    for i in order:
        if len(chosen) >= n_threat:
            break
        if i not in taken:
            chosen.append(i)
            taken.add(i)
    return sorted(chosen)


def shortfalls(plans: list[ScanPlan], required: list[tuple[str, str]], minimum: int) -> list[str]:
    """The required strata with fewer than ``minimum`` threat wagons, as ``stratum=value (k)``."""
    counts = Counter(k for sp in plans if sp.threats for k in strata_of(sp))
    return [f"{s}={v} ({counts[(s, v)]})" for s, v in required if counts[(s, v)] < minimum]


def split_params(synth: SynthParams, bench: BenchParams, split: str, attempt: int = 0) -> SynthParams:
    """The synth parameters a benchmark archive is planned with: derived seed, n, honest declarations."""
    n = bench.n_val if split == "val" else bench.n_test
    return dataclasses.replace(
        synth, n=n, seed=split_seed(bench.seed, split, attempt), workers=bench.workers,
        threats=dataclasses.replace(synth.threats, wagon_rate=1.0), mismatch=MismatchParams(0.0, 0.0, 0.0, 0.0, 0.0))


def plan_split(synth: SynthParams, bench: BenchParams, split: str) -> tuple[SynthParams, list[ScanPlan], int]:
    """Draw a benchmark archive's plan: (its synth parameters, the stratified plan, the attempt that gave it).

    Raises:
        ConfigError: when no attempt meets the strata minima (only checked for the test archive).
    """
    n_clean, n_threat = split_counts(bench, split)
    required = required_strata(synth)
    minimum = bench.min_per_stratum if n_threat else 0
    missing: list[str] = []
    for attempt in range(MAX_ATTEMPTS):
        p = split_params(synth, bench, split, attempt)
        plans = plan_scans(p)
        keep = set(select_threats(plans, n_threat, minimum, np.random.default_rng([p.seed, 0x5E1]), required))
        for sp in plans:
            if sp.index not in keep:
                sp.threats = []
        missing = shortfalls(plans, required, minimum) if split == "test" else []
        if not missing:
            share = n_threat / max(1, len(plans))
            p = dataclasses.replace(p, threats=dataclasses.replace(p.threats, wagon_rate=round(share, 6)))
            log.info("%s plan (seed %d, attempt %d): %d clean and %d threat wagons", split, p.seed, attempt,
                     n_clean, n_threat)
            return p, plans, attempt
        log.info("%s plan attempt %d short of %d threat wagons in %s; drawing again", split, attempt, minimum,
                 ", ".join(missing))
    raise ConfigError(f"bench: no {split} plan in {MAX_ATTEMPTS} attempts has {minimum} threat wagons in every "
                      f"stratum; short: {', '.join(missing)} (lower bench.min_per_stratum or raise bench.n_test)")


def plan_counts(plans: list[ScanPlan]) -> dict[str, Any]:
    """Counts of the plan: clean/threat per wagon type and category, wagons per planned kind and site."""
    def split_by(key) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for sp in plans:
            row = out.setdefault(key(sp), {"clean": 0, "threat": 0})
            row["threat" if sp.threats else "clean"] += 1
        return dict(sorted(out.items()))

    threat = [sp for sp in plans if sp.threats]
    return {"n": len(plans), "n_clean": len(plans) - len(threat), "n_threat": len(threat),
            "wagon_type": split_by(lambda sp: sp.wagon_type), "category": split_by(wagon_category),
            "kind": dict(sorted(Counter(k for sp in threat for k in {s["kind"] for s in sp.threats}).items())),
            "site": dict(sorted(Counter(v for sp in threat for k, v in strata_of(sp) if k == "site").items()))}


def label_counts(root: Path, scan_ids: list[str]) -> dict[str, Any]:
    """What the rendered labels hold: threat wagons and wagons per threat class and concealment site."""
    from cargoscan.archive import ArchivePaths, read_json
    from cargoscan.archive.classes import class_names, threat_ids

    threat_names = {class_names()[i] for i in threat_ids()}
    paths, classes, sites, n_threat = ArchivePaths(root), Counter(), Counter(), 0
    for sid in scan_ids:
        inst = [i for i in read_json(paths.label_json(sid)).get("instances", []) if i["class"] in threat_names]
        n_threat += bool(inst)
        classes.update({i["class"] for i in inst})
        sites.update({i["site"] for i in inst})
    return {"n_threat": n_threat, "class": dict(sorted(classes.items())), "site": dict(sorted(sites.items()))}


def _up_to_date(root: Path, p: SynthParams, plans: list[ScanPlan]) -> bool:
    """True when ``root`` holds exactly this plan's scans, rendered with these parameters."""
    from cargoscan.archive import ArchivePaths

    stored = root / "synth_params.json"
    if not stored.exists():
        return False
    try:
        params = json.loads(stored.read_text(encoding="utf-8")).get("params")
    except (OSError, json.JSONDecodeError):
        return False
    same = params == json.loads(json.dumps(dataclasses.asdict(p)))
    return same and set(ArchivePaths(root).scan_ids()) == {sp.scan_id for sp in plans} and (root / "truth.csv").exists()


def synthesise(synth: SynthParams, bench: BenchParams, splits: tuple[str, ...] = SPLITS, force: bool = False
               ) -> dict[str, Any]:
    """Plan, render and write the benchmark archives, and ``<out_dir>/manifest.json``; returns the manifest.

    An archive that already holds exactly its plan, rendered with the same parameters, is kept (unless
    ``force``); any other content at its path is replaced.
    """
    from cargoscan.synth.generator import GENERATOR_NAME, GENERATOR_VERSION, generate

    out = Path(bench.out_dir)
    manifest_path = out / "manifest.json"
    manifest: dict[str, Any] = {
        "bench_seed": bench.seed, "training_seed": synth.seed,
        "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION},
        "declarations": "honest: every synth.mismatch rate set to 0",
        "stratification": {"min_clean_test": bench.min_clean_test, "min_threat_test": bench.min_threat_test,
                           "min_per_stratum": bench.min_per_stratum, "threat_rate": bench.threat_rate},
        "splits": {}}
    if manifest_path.exists():                   # keep the entries of splits not redone now
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8")).get("splits", {})
        except (OSError, json.JSONDecodeError, AttributeError):
            old = {}
        manifest["splits"].update({k: v for k, v in old.items() if k not in splits and k in SPLITS})
    for split in splits:
        p, plans, attempt = plan_split(synth, bench, split)
        root = bench.archive(split)
        if not force and _up_to_date(root, p, plans):
            log.info("%s: %d scans already rendered from seed %d; kept", root, len(plans), p.seed)
        else:
            generate(p, root, workers=bench.workers, force=True, plans=plans)
        entry = {"seed": p.seed, "attempt": attempt, "path": str(root), **plan_counts(plans),
                 "labels": label_counts(root, [sp.scan_id for sp in plans])}
        if entry["labels"]["n_threat"] != entry["n_threat"]:
            log.warning("%s: %d wagons planned with a threat, %d labelled with one", split, entry["n_threat"],
                        entry["labels"]["n_threat"])
        manifest["splits"][split] = entry
        out.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")
    return manifest
