"""The ``inspect:`` section of params.yaml loads into InspectParams, with the gpu profile overlay."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargoscan.config import ConfigError
from cargoscan.inspect.config import InspectParams, load_inspect_params

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_project_params_load():
    p = load_inspect_params(str(PARAMS))
    assert p.backend == "onnx" and p.timeout_s > 0 and "references" in p.required_checks
    assert load_inspect_params(str(PARAMS), profile="gpu").backend == "torch"


def test_defaults_without_a_file(tmp_path):
    assert load_inspect_params(str(tmp_path / "none.yaml")) == InspectParams()


def test_unknown_key_refused(tmp_path):
    f = tmp_path / "params.yaml"
    f.write_text("inspect:\n  tiemout_s: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="tiemout_s"):
        load_inspect_params(str(f))
