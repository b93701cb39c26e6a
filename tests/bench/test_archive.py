"""The benchmark's archives: stratified plans, honest declarations, seeds and counts in manifest.json."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import numpy as np
import pytest

from cargoscan.archive import ArchivePaths, read_json, read_table
from cargoscan.bench.archive import (KIND_SITE, effective_kind, plan_split, required_strata, select_threats,
                                     strata_of, synthesise)
from cargoscan.bench.config import BenchParams, load_bench_params, split_seed
from cargoscan.config import ConfigError
from cargoscan.synth.config import load_synth_params
from cargoscan.synth.manifest import plan_scans
from tests.bench.conftest import N_TEST, N_THREAT
from tests.conftest import tiny_params


def test_plan_is_stratified_with_exact_counts_and_honest_declarations():
    base = tiny_params(n=1)
    kinds = {k: w for k, w in base.threats.kinds.items() if k != "bulk_void"}   # a bulk cavity is too rare here
    synth = dataclasses.replace(base, threats=dataclasses.replace(base.threats, kinds=kinds))
    bench = BenchParams(n_test=200, min_clean_test=140, min_threat_test=60, min_per_stratum=2, threat_rate=0.25)
    p, plans, attempt = plan_split(synth, bench, "test")
    assert p.seed == split_seed(bench.seed, "test", attempt) and p.seed != synth.seed
    assert len(plans) == 200
    threat = [sp for sp in plans if sp.threats]
    assert len(threat) == 60                                 # max(round(200 * 0.25), 60) wagons keep a concealment
    assert all(u.mismatch == "none" for sp in plans for u in sp.units)
    assert not any(dataclasses.asdict(p.mismatch).values())
    counts = Counter(k for sp in threat for k in strata_of(sp))
    short = [s for s in required_strata(synth) if counts[s] < 2]
    assert not short                                         # every site, wagon type and category: >= 2
    assert {s for k, s in required_strata(synth) if k == "site"} == {
        "in_cargo", "false_front_wall", "false_floor", "false_roof", "structure_compartment", "hollowed_goods"}
    assert p.threats.wagon_rate == pytest.approx(60 / 200, abs=1e-6)


def test_select_threats_serves_rare_strata_first():
    synth = dataclasses.replace(tiny_params(n=120, seed=5), threats=dataclasses.replace(
        tiny_params().threats, wagon_rate=1.0))
    plans = plan_scans(synth)
    required = required_strata(synth)
    keep = select_threats(plans, 20, 1, np.random.default_rng(0), required)
    assert len(keep) == len(set(keep)) == 20
    got = Counter(k for i in keep for k in strata_of(plans[i]))
    available = Counter(k for sp in plans for k in strata_of(sp))
    rare = [s for s in required if available[s]]
    # with one wagon per stratum asked, every offered stratum is served (there are fewer strata than 20 wagons)
    assert all(got[s] >= 1 for s in rare), [s for s in rare if not got[s]]


def test_plan_that_cannot_meet_the_strata_minima_raises():
    bench = BenchParams(n_test=12, min_clean_test=6, min_threat_test=6, min_per_stratum=50)
    with pytest.raises(ConfigError, match="no test plan in .* attempts"):
        plan_split(tiny_params(n=1), bench, "test")


def test_effective_kind_follows_the_synthesisers_fallbacks():
    synth = dataclasses.replace(load_synth_params(), n=300, threats=dataclasses.replace(
        load_synth_params().threats, wagon_rate=1.0))
    plans = plan_scans(synth)
    for sp in plans:
        for spec in sp.threats:
            kind = effective_kind(sp, spec)
            unit = sp.units[spec["unit"] % len(sp.units)]
            if kind == "bulk_void":
                assert unit.category == "bulk_minerals"
            if sp.wagon_type == "tank":
                assert kind not in ("false_front_wall", "false_roof")
            if unit.category is None:
                assert kind != "hollowed_goods"
    assert {KIND_SITE.get(effective_kind(sp, s), effective_kind(sp, s)) for sp in plans for s in sp.threats} >= {
        "in_cargo", "false_front_wall", "false_floor", "structure_compartment"}


def test_rendered_archive_matches_its_plan_and_manifest(tiny_bench):
    root, out = tiny_bench["test"], tiny_bench["out"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    bench = load_bench_params(tiny_bench["params"])
    entry = manifest["splits"]["test"]
    assert manifest["bench_seed"] == bench.seed != manifest["training_seed"]
    assert entry["seed"] == split_seed(bench.seed, "test", entry["attempt"])
    assert (entry["n"], entry["n_clean"], entry["n_threat"]) == (N_TEST, N_TEST - N_THREAT, N_THREAT)
    assert sum(v["threat"] for v in entry["wagon_type"].values()) == N_THREAT
    assert sum(v["clean"] + v["threat"] for v in entry["category"].values()) == N_TEST
    # what the labels hold is what was planned: threat wagons, and the sites the plan predicted
    assert entry["labels"]["n_threat"] == N_THREAT
    assert entry["labels"]["site"] == entry["site"]
    truth = read_table(root / "truth.csv")
    assert {r["mismatch"] for r in truth} == {"none"}
    labelled = {sid for sid in ArchivePaths(root).scan_ids()
                if any(i["class"] in ("drugs", "weapon", "cigarettes", "void", "hidden_compartment")
                       for i in read_json(ArchivePaths(root).label_json(sid))["instances"])}
    assert {r["scan_id"] for r in truth if r["has_threat"] == "1"} == labelled
    stored = json.loads((root / "synth_params.json").read_text(encoding="utf-8"))["params"]
    assert stored["seed"] == entry["seed"] and stored["threats"]["wagon_rate"] == pytest.approx(N_THREAT / N_TEST,
                                                                                                abs=1e-6)


def test_an_up_to_date_archive_is_kept(tiny_bench):
    bench = load_bench_params(tiny_bench["params"])
    synth = load_synth_params(tiny_bench["params"])
    scan = next((tiny_bench["test"] / "scans").glob("*.tiff"))
    before = scan.stat().st_mtime_ns
    manifest = synthesise(synth, bench, ("test",))
    assert scan.stat().st_mtime_ns == before
    assert manifest["splits"]["test"]["n_threat"] == N_THREAT
