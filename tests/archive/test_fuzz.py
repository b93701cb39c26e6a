"""A sample of the loader fuzzer (``benchmarks/bench_fuzz.py``): no malformed input crashes a loader."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def bench(monkeypatch):
    """``benchmarks/bench_fuzz.py`` as a module (it imports ``fuzz_mutations`` beside it)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_fuzz

    return bench_fuzz


@pytest.mark.slow
def test_a_fuzzed_sample_gives_only_archive_errors(bench, tiny_archive):
    report = bench.run(tiny_archive, cases=360, seed=7)
    crashes = {name: t["examples"] for name, t in report["loaders"].items() if t["crashed"] or t["broken_contract"]}
    assert report["crashes"] == 0, crashes
    loaders = report["loaders"]
    assert {"read_sidecar", "read_labels", "read_scan", "read_table[scans.csv]", "read_table[rfid.csv]",
            "read_table[truth.csv]", "read_table[declarations.csv]", "registry.read_rows",
            "inspect.read_declaration_file"} == set(loaders)
    for name, t in loaders.items():      # malformed cases reached every loader, and each ended accepted or refused
        assert t["refused"] > 0, name
        assert t["accepted"] + t["refused"] == t["cases"], name


def test_the_mutations_reach_what_the_old_loaders_crashed_on(bench):
    """A sidecar `null` or `[]`, deep nesting, NaN: the crashes the audit found."""
    import numpy as np

    from fuzz_mutations import json_mutate

    rng = np.random.default_rng(0)
    seed = b'{"schema_version": "1.0", "scan_id": "x"}'
    produced = {json_mutate(seed, rng) for _ in range(300)}
    assert b"null" in produced and b"[]" in produced
    assert any(p.startswith(b"[" * 1000) for p in produced)
    assert any(b"NaN" in p for p in produced)
