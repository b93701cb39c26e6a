"""The CLI: ``cargoscan bench-synth`` and ``cargoscan benchmark``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from cargoscan.cli import app
from tests.bench.conftest import N_TEST, N_THREAT

runner = CliRunner()


def test_help_and_usage_errors(tiny_bench):
    for cmd in ("bench-synth", "benchmark"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0 and "--params" in result.output
    bad = runner.invoke(app, ["bench-synth", "--params", str(tiny_bench["params"]), "--split", "train"])
    assert bad.exit_code == 2 and "unknown split" in bad.output
    missing = runner.invoke(app, ["benchmark", "--params", str(tiny_bench["params"]), "--archive",
                                  str(tiny_bench["out"] / "nowhere")])
    assert missing.exit_code == 1


@pytest.mark.slow
def test_benchmark_command_writes_the_report_and_scores(tiny_bench, stub_artifact, tmp_path):
    report, scores = tmp_path / "benchmark.json", tmp_path / "scores.csv"
    args = ["benchmark", "--params", str(tiny_bench["params"]), "--archive", str(tiny_bench["test"]),
            "--artifact", str(stub_artifact), "--report", str(report), "--scores", str(scores),
            "--inspections", str(tmp_path / "insp")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert (doc["n_wagons"], doc["n_clean"], doc["n_threat"]) == (N_TEST, N_TEST - N_THREAT, N_THREAT)
    assert doc["archive"] == str(tiny_bench["test"])
    assert doc["detection"]["operating_point"]["threshold"] == 0.5      # the stub artifact's sealed threshold
    table = pd.read_csv(scores)
    assert len(table) == N_TEST and "max_cnr" in table
    assert len(list((tmp_path / "insp").glob("*.json"))) == N_TEST
    assert f"{N_TEST} wagons" in result.output


def test_benchmark_refuses_a_model_that_does_not_load(tiny_bench, tmp_path):
    broken = tmp_path / "export"
    broken.mkdir()
    (broken / "config.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["benchmark", "--params", str(tiny_bench["params"]), "--archive",
                                 str(tiny_bench["test"]), "--artifact", str(broken), "--report",
                                 str(tmp_path / "b.json")])
    assert result.exit_code == 1 and "model not loaded" in result.output
    assert not (tmp_path / "b.json").exists()
