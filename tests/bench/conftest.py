"""Fixtures of the benchmark tests: a tiny benchmark archive written by ``cargoscan bench-synth`` itself (reduced
geometry, a few wagons, session-scoped) and the inspection tests' stub model artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: The tiny test archive: 6 wagons, 3 of them with a threat, every declaration honest.
N_TEST, N_THREAT = 6, 3


def write_tiny_params(path: Path, out_dir: Path) -> Path:
    """params.yaml with the tiny geometry of ``tests.conftest`` and a small benchmark section."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    synth = raw.setdefault("synth", {})
    synth.setdefault("geometry", {}).update({"rows": 240, "row_pitch_mm": 13.8, "column_scale": 0.25})
    synth.setdefault("train", {})["wagons_per_train"] = [3, 3]
    synth["previews"] = 0
    raw["bench"].update({"out_dir": str(out_dir), "n_val": 2, "n_test": N_TEST, "min_clean_test": N_TEST - N_THREAT,
                         "min_threat_test": N_THREAT, "min_per_stratum": 0, "workers": 1,
                         "report": str(out_dir / "benchmark.json")})
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_bench(tmp_path_factory) -> dict[str, Path]:
    """``cargoscan bench-synth --split test`` on the tiny parameters: {"params", "out", "test"}."""
    from typer.testing import CliRunner

    from cargoscan.cli import app

    base = tmp_path_factory.mktemp("bench")
    out = base / "bench"
    params = write_tiny_params(base / "params.yaml", out)
    result = CliRunner().invoke(app, ["bench-synth", "--params", str(params), "--split", "test"])
    assert result.exit_code == 0, result.output
    return {"params": params, "out": out, "test": out / "test"}


@pytest.fixture(scope="session")
def stub_artifact(tmp_path_factory) -> Path:
    """The inspection tests' hand-weighted model, exported (config.json, model.onnx, model.safetensors)."""
    from tests.inspect.conftest import export_artifact

    return export_artifact(tmp_path_factory.mktemp("bench_artifact") / "export")


#: The tiny extra archives: scanner shift and declaration mismatches.
N_SHIFT, N_MISMATCH = 4, 10


@pytest.fixture(scope="session")
def tiny_extra(tmp_path_factory) -> dict[str, Path]:
    """``cargoscan bench-synth --split shift --split mismatch`` on the tiny parameters (its own benchmark root):
    {"params", "out", "shift", "mismatch"}."""
    from typer.testing import CliRunner

    from cargoscan.cli import app

    base = tmp_path_factory.mktemp("bench_extra")
    out = base / "bench"
    params = write_tiny_params(base / "params.yaml", out)
    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    raw["bench"]["shift"]["n"], raw["bench"]["mismatch"]["n"] = N_SHIFT, N_MISMATCH
    params.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["bench-synth", "--params", str(params), "--split", "shift", "--split",
                                      "mismatch"])
    assert result.exit_code == 0, result.output
    return {"params": params, "out": out, "shift": out / "shift", "mismatch": out / "mismatch"}
