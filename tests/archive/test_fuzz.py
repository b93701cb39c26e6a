"""A sample of the loader fuzzer (``benchmarks/bench_fuzz.py``): no malformed input crashes a loader."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_fuzz.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_fuzz", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_fuzz", module)       # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_fuzzed_sample_gives_only_archive_errors(tiny_archive):
    report = _bench().run(tiny_archive, cases=360, seed=7)
    crashes = {name: t["examples"] for name, t in report["loaders"].items() if t["crashed"] or t["broken_contract"]}
    assert report["crashes"] == 0, crashes
    loaders = report["loaders"]
    assert {"read_sidecar", "read_labels", "read_scan", "read_table[scans.csv]", "read_table[rfid.csv]",
            "read_table[truth.csv]", "read_table[declarations.csv]", "registry.read_rows",
            "inspect.read_declaration_file"} == set(loaders)
    for name, t in loaders.items():      # the cases were malformed (refused) and the seeds valid (some accepted)
        assert t["refused"] > 0, name
        assert t["accepted"] + t["refused"] == t["cases"], name


def test_the_fuzzer_finds_what_the_old_loaders_crashed_on(tmp_path):
    """The mutations reach the crashes the audit found (a sidecar `null`, deep nesting, a BadZipFile)."""
    import numpy as np

    bench = _bench()
    rng = np.random.default_rng(0)
    seed = b'{"schema_version": "1.0", "scan_id": "x"}'
    produced = {bench._json_mutate(seed, rng) for _ in range(300)}
    assert b"null" in produced and b"[]" in produced
    assert any(p.startswith(b"[" * 1000) for p in produced)
    assert any(b"NaN" in p for p in produced)
