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


def test_thresholds_version_follows_the_decision_parameters(tmp_path):
    """A hash of what decides: a threshold, a check set or the category table changes it; speed settings do not."""
    import dataclasses

    from cargoscan.inspect.config import thresholds_version

    base = InspectParams()
    v = thresholds_version(base)
    assert v.startswith("inspect-") and len(v) == len("inspect-") + 12
    assert thresholds_version(InspectParams()) == v
    for changed in (dict(mass_tolerance_rel=0.2), dict(min_area_px=17), dict(advisory_checks=()),
                    dict(structure_g_cm2={**base.structure_g_cm2, "tank": 13.0})):
        assert thresholds_version(dataclasses.replace(base, **changed)) != v, changed
    for same in (dict(threads=1), dict(batch_size=4), dict(overlay_width_px=800), dict(timeout_s=30.0)):
        assert thresholds_version(dataclasses.replace(base, **same)) == v, same
    from importlib import resources

    table = tmp_path / "hs.yaml"
    text = resources.files("cargoscan.inspect").joinpath("hs_categories.yaml").read_text(encoding="utf-8")
    table.write_text(text, encoding="utf-8")
    assert thresholds_version(dataclasses.replace(base, hs_categories=str(table))) == v  # the same table
    table.write_text(text + "\n# edited\n", encoding="utf-8")
    assert thresholds_version(dataclasses.replace(base, hs_categories=str(table))) != v
