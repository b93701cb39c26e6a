"""The benchmark never shares a seed with training: checked on params.yaml itself (issue 14, tests)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from cargoscan.bench.config import MAX_ATTEMPTS, SPLITS, BenchParams, load_bench_params, split_counts, split_seed
from cargoscan.config import ConfigError, load_section

ROOT = Path(__file__).resolve().parents[2]


def in_force(profile: str | None = None) -> dict[str, dict]:
    """The sections with seeds as the pipeline reads them: the dataclasses' defaults under params.yaml's overlay."""
    from cargoscan.data.config import PrepareParams
    from cargoscan.ocr.config import OcrParams
    from cargoscan.synth.config import SynthParams
    from cargoscan.tip.config import TipParams
    from cargoscan.training.config import TrainParams

    classes = {"synth": SynthParams, "prepare": PrepareParams, "train": TrainParams, "tip": TipParams,
               "ocr": OcrParams}
    return {name: dataclasses.asdict(load_section(cls, name, ROOT / "params.yaml", profile))
            for name, cls in classes.items()}


def other_seeds(params: dict) -> dict[str, int]:
    """Every seed of params.yaml outside the benchmark: synth, prepare, train, tip, ocr."""
    out = {"synth.seed": params["synth"]["seed"], "prepare.seed": params["prepare"]["seed"],
           "train.seed": params["train"]["seed"], "tip.seed": params["tip"]["seed"]}
    for key in ("train", "eval"):
        if "seed" in params.get("ocr", {}).get(key, {}):
            out[f"ocr.{key}.seed"] = params["ocr"][key]["seed"]
    return out


@pytest.mark.parametrize("profile", [None, "gpu"])
def test_benchmark_seeds_differ_from_every_training_seed(profile):
    params = in_force(profile)
    bench = load_bench_params(ROOT / "params.yaml", profile)
    others = other_seeds(params)
    assert bench.seed not in others.values()
    used = {(s, a): split_seed(bench.seed, s, a) for s in SPLITS for a in range(MAX_ATTEMPTS)}
    clash = {k: v for k, v in used.items() if v in others.values()}
    assert not clash, f"benchmark seeds equal to {others}: {clash}"
    # every (split, attempt) draws its own seed: val and test never share one
    assert len(set(used.values())) == len(used)
    assert split_seed(bench.seed, "val") != split_seed(bench.seed, "test")


def test_benchmark_scans_share_no_pixel_seed_with_the_training_archive():
    """Each scan's pixels come from SeedSequence(archive seed).spawn: no benchmark scan repeats a training scan."""
    params = in_force()
    bench = load_bench_params(ROOT / "params.yaml")

    def scan_seeds(seed: int, n: int) -> set[int]:
        return {int(c.generate_state(1, np.uint32)[0]) for c in np.random.SeedSequence(seed).spawn(n)}

    training = scan_seeds(params["synth"]["seed"], max(params["synth"]["n"], 2000))   # the gpu profile's n too
    for split, n in (("val", bench.n_val), ("test", bench.n_test)):
        assert not training & scan_seeds(split_seed(bench.seed, split), n), split


def test_split_seed_is_deterministic_and_refuses_unknown_splits():
    assert split_seed(7, "test") == split_seed(7, "test")
    assert split_seed(7, "test") != split_seed(8, "test")
    assert split_seed(7, "test", 1) != split_seed(7, "test", 0)
    with pytest.raises(ConfigError, match="unknown benchmark split"):
        split_seed(7, "train")
    with pytest.raises(ConfigError, match="attempt"):
        split_seed(7, "test", MAX_ATTEMPTS)


def test_params_yaml_meets_the_issue_minima():
    bench = load_bench_params(ROOT / "params.yaml")
    clean, threat = split_counts(bench, "test")
    assert clean + threat == bench.n_test >= 1500
    assert clean >= bench.min_clean_test >= 1000 and threat >= bench.min_threat_test >= 500
    assert bench.target_far == 0.01 and bench.cnr_visible == 2.0


def test_impossible_minima_are_refused():
    with pytest.raises(ConfigError, match="cannot hold"):
        split_counts(BenchParams(n_test=1400), "test")          # 500 threat + 1000 clean > 1400
    assert split_counts(BenchParams(n_test=1600, threat_rate=0.36), "test") == (1024, 576)
    assert split_counts(BenchParams(n_val=600), "val") == (400, 200)


def test_extra_archive_seeds_differ_from_training_and_from_val_test():
    """The shift and mismatch archives (cargoscan.bench.extra) draw seeds of their own."""
    from cargoscan.bench.extra import EXTRA, extra_seed

    for profile in (None, "gpu"):
        params = in_force(profile)
        bench = load_bench_params(ROOT / "params.yaml", profile)
        others = set(other_seeds(params).values()) | {bench.seed}
        val_test = {split_seed(bench.seed, s, a) for s in SPLITS for a in range(MAX_ATTEMPTS)}
        extra = {name: extra_seed(bench.seed, name) for name in EXTRA}
        assert len(set(extra.values())) == len(EXTRA)
        assert not set(extra.values()) & others, (extra, others)
        assert not set(extra.values()) & val_test
    assert extra_seed(7, "shift") == extra_seed(7, "shift") != extra_seed(8, "shift")
    with pytest.raises(ConfigError, match="unknown extra"):
        extra_seed(7, "test")


def test_extra_archive_scans_share_no_pixel_seed_with_training_or_val_test():
    from cargoscan.bench.extra import EXTRA, extra_seed

    params = in_force()
    bench = load_bench_params(ROOT / "params.yaml")

    def scan_seeds(seed: int, n: int) -> set[int]:
        return {int(c.generate_state(1, np.uint32)[0]) for c in np.random.SeedSequence(seed).spawn(n)}

    used = scan_seeds(params["synth"]["seed"], max(params["synth"]["n"], 2000))
    used |= scan_seeds(split_seed(bench.seed, "val"), bench.n_val) | scan_seeds(split_seed(bench.seed, "test"),
                                                                                 bench.n_test)
    for name in EXTRA:
        n = getattr(bench, name).n
        mine = scan_seeds(extra_seed(bench.seed, name), n)
        assert len(mine) == n and not used & mine, name
        used |= mine
