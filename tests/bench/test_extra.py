"""The extra archives (issue 14 §2, issue 15 §3): scanner shift and declaration mismatches at known rates."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cargoscan.archive import ArchivePaths, read_table
from cargoscan.bench.archive import split_params
from cargoscan.bench.config import BenchParams, load_bench_params
from cargoscan.bench.extra import (EXTRA, MANIFEST, extra_params, extra_seed, shift_ranges, synthesise_extra,
                                   validate_extra)
from cargoscan.bench.extra_params import MismatchArchiveParams, ShiftParams
from cargoscan.cli import app
from cargoscan.config import ConfigError
from cargoscan.synth.config import load_synth_params
from cargoscan.synth.manifest import plan_scans
from tests.bench.conftest import N_MISMATCH, N_SHIFT, N_TEST

ROOT = Path(__file__).resolve().parents[2]


def test_params_yaml_shift_lies_outside_the_training_scanner_ranges():
    synth, bench = load_synth_params(ROOT / "params.yaml"), load_bench_params(ROOT / "params.yaml")
    ranges = shift_ranges(synth, bench)
    assert {"photons_high", "photons_low", "blur_row", "blur_col", "filtration_mm", "ratio_offset"} <= set(ranges)
    assert all(r["outside"] for r in ranges.values()), ranges
    assert bench.shift.n >= 100 and bench.mismatch.n >= 250
    assert all(abs(v - 0.15) < 1e-9 for v in bench.mismatch.rates.values()) and len(bench.mismatch.rates) == 5


def test_extra_params_change_only_what_they_must():
    synth, bench = load_synth_params(ROOT / "params.yaml"), load_bench_params(ROOT / "params.yaml")
    shift, mm = extra_params(synth, bench, "shift"), extra_params(synth, bench, "mismatch")
    assert shift.seed == extra_seed(bench.seed, "shift") and mm.seed == extra_seed(bench.seed, "mismatch")
    assert shift.threats.wagon_rate == 0 == mm.threats.wagon_rate
    assert set(dataclasses.asdict(shift.mismatch).values()) == {0.0}
    assert dataclasses.asdict(mm.mismatch) == bench.mismatch.rates and mm.scanner == synth.scanner
    assert shift.scanner == {k: [float(a), float(b)] for k, (a, b) in bench.shift.scanner.items()}
    for p in (shift, mm):      # everything else is the training archive's synth section
        assert (p.geometry, p.load, p.train, p.rfid) == (synth.geometry, synth.load, synth.train, synth.rfid)
    # the val/test plans do not see the extra sections
    plain = dataclasses.replace(bench, shift=ShiftParams(n=1), mismatch=MismatchArchiveParams(n=1))
    for split in ("val", "test"):
        assert split_params(synth, bench, split) == split_params(synth, plain, split)


def test_mismatch_plan_injects_each_kind_at_its_rate():
    """The plan (no pixels) of a 600-wagon mismatch archive: each kind near 0.15 of the loaded consignments."""
    synth, bench = load_synth_params(ROOT / "params.yaml"), load_bench_params(ROOT / "params.yaml")
    bench = dataclasses.replace(bench, mismatch=dataclasses.replace(bench.mismatch, n=600))
    plans = plan_scans(extra_params(synth, bench, "mismatch"))
    units = [u for sp in plans for u in sp.units if u.category]
    counts = Counter(u.mismatch for u in units)
    for kind in bench.mismatch.rates:
        assert 0.10 < counts[kind] / len(units) < 0.20, (kind, counts)
    assert 0.18 < counts["none"] / len(units) < 0.32 and not any(sp.threats for sp in plans)
    assert all(u.weight_factor <= 0.8 for u in units if u.mismatch == "weight_understated")


def test_validate_extra_refuses_nonsense():
    synth = load_synth_params(ROOT / "params.yaml")
    for bad, match in ((BenchParams(shift=ShiftParams(scanner={"photons": [1, 2]})), "unknown scanner"),
                       (BenchParams(shift=ShiftParams(scanner={"blur_row": [2.0, 1.0]})), "low <= high"),
                       (BenchParams(mismatch=MismatchArchiveParams(rates={"wrong_goods": 0.7,
                                                                          "package_count": 0.5})), "sum"),
                       (BenchParams(mismatch=MismatchArchiveParams(rates={"lies": 0.1})), "unknown kinds"),
                       (BenchParams(shift=ShiftParams(n=-1)), ">= 0")):
        with pytest.raises(ConfigError, match=match):
            validate_extra(synth, bad)


def test_rendered_shift_archive(tiny_extra):
    root = tiny_extra["shift"]
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    bench = load_bench_params(tiny_extra["params"])
    assert manifest["seed"] == extra_seed(bench.seed, "shift") and manifest["n"] == N_SHIFT
    assert len(ArchivePaths(root).scan_ids()) == N_SHIFT
    truth = read_table(ArchivePaths(root).table("truth.csv"))
    assert {r["mismatch"] for r in truth} == {"none"} and {r["has_threat"] for r in truth} == {"0"}
    assert manifest["truth"]["honest_wagons"] == N_SHIFT
    # every device's scanner was drawn inside the shifted ranges
    for scanner in manifest["devices"].values():
        for name, (lo, hi) in bench.shift.scanner.items():
            step = 0.5 if name == "filtration_mm" else 0.0          # filtration is rounded to 0.5 mm
            assert lo - step <= scanner[name] <= hi + step, name
    sidecar = json.loads(next(ArchivePaths(root).scans.glob("*.json")).read_text(encoding="utf-8"))
    assert sidecar["generator"]["seed"] != extra_seed(bench.seed, "mismatch")


def test_rendered_mismatch_archive_and_rerun_keeps_it(tiny_extra):
    root = tiny_extra["mismatch"]
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    truth = read_table(ArchivePaths(root).table("truth.csv"))
    assert manifest["n"] == N_MISMATCH and {r["has_threat"] for r in truth} == {"0"}
    kinds = Counter(r["mismatch"] for r in truth)
    assert set(kinds) <= {"none", "wrong_goods", "undeclared_goods", "weight_understated", "weight_overstated",
                          "package_count"}
    assert sum(v for k, v in kinds.items() if k != "none") >= 3           # 0.75 of loaded units lie
    assert manifest["truth"]["mismatch"] == dict(sorted(kinds.items()))
    before = {p.name: p.stat().st_mtime_ns for p in ArchivePaths(root).scans.glob("*.tiff")}
    synthesise_extra(load_synth_params(tiny_extra["params"]), load_bench_params(tiny_extra["params"]), "mismatch")
    assert {p.name: p.stat().st_mtime_ns for p in ArchivePaths(root).scans.glob("*.tiff")} == before


def test_cli_split_names(tiny_extra):
    bad = CliRunner().invoke(app, ["bench-synth", "--params", str(tiny_extra["params"]), "--split", "shifted"])
    assert bad.exit_code == 2 and "shift" in bad.output
    assert set(EXTRA) == {"shift", "mismatch"}


@pytest.mark.slow
def test_benchmark_scores_the_extra_archives_through_the_engine(tiny_bench, tiny_extra, stub_artifact, tmp_path):
    report = tmp_path / "benchmark.json"
    result = CliRunner().invoke(app, ["benchmark", "--params", str(tiny_extra["params"]), "--archive",
                                      str(tiny_bench["test"]), "--artifact", str(stub_artifact), "--report",
                                      str(report), "--inspections", str(tmp_path / "insp")])
    assert result.exit_code == 0, result.output
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["archives"]["shift"]["n"] == N_SHIFT and doc["archives"]["mismatch"]["n"] == N_MISMATCH
    out = tiny_extra["out"] / "inspections"
    assert len(list((out / "shift").glob("*.json"))) == N_SHIFT
    assert len(list((out / "mismatch").glob("*.json"))) == N_MISMATCH
    s = doc["scanner_shift"]
    assert s["n"] == N_SHIFT and s["false_alarm_rate"]["n"] == N_SHIFT and s["clean_red_rate"]["n"] == N_SHIFT
    assert set(s["score_quantiles"]) == {"n", "p50", "p90", "p99"} == set(s["nominal_score_quantiles"])
    assert s["nominal_score_quantiles"]["n"] == doc["n_clean"]
    # judged per unit (inspect.units): one row per consignment of the test archive, not per wagon
    units = read_table(ArchivePaths(tiny_bench["test"]).table("truth.csv"))
    assert doc["category"]["level"] == "unit"
    assert doc["category"]["accuracy"]["n"] + doc["category"]["n_excluded"] == len(units) >= N_TEST
    for kind in ("wrong_goods", "undeclared_goods", "weight_understated"):
        assert "auroc" in doc["mismatch"][kind] and len(doc["mismatch"][kind]["auroc"]["ci95"]) == 2
    assert "auroc" not in doc["mismatch"]["package_count"]
    for key in ("clean_honest_suspicious_rate", "clean_honest_by_reason", "clean_honest_by_check",
                "mismatch_detection_rate", "clean_red_rate"):
        assert key in doc["decision"]
    for key in ("median_abs_rel_error", "p90_abs_rel_error", "coverage_2sigma"):
        assert key in doc["mass"]
    decl = report.with_name("benchmark_declarations.csv")
    import pandas as pd

    table = pd.read_csv(decl)
    assert Counter(table.drop_duplicates("scan_id")["archive"]) == {"test": N_TEST, "shift": N_SHIFT,
                                                                     "mismatch": N_MISMATCH}
