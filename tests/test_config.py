from dataclasses import dataclass, field

import pytest

from cargoscan.config import ConfigError, from_dict, load_params, load_section


@dataclass(frozen=True)
class Inner:
    lr: float = 1e-3
    sizes: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    mode: str | None = None


def test_nested_dataclass_and_int_to_float():
    cfg = from_dict(Outer, {"name": "x", "inner": {"lr": 1, "sizes": [3, 4]}})
    assert cfg.inner.lr == 1.0 and isinstance(cfg.inner.lr, float)
    assert cfg.inner.sizes == (3, 4)
    with pytest.raises(Exception):
        cfg.name = "y"  # frozen


def test_unknown_key_is_refused_with_its_path():
    with pytest.raises(ConfigError, match=r"inner: unknown keys \['lrr'\]"):
        from_dict(Outer, {"name": "x", "inner": {"lrr": 1}})


def test_wrong_type_is_refused():
    with pytest.raises(ConfigError, match="inner.lr"):
        from_dict(Outer, {"name": "x", "inner": {"lr": "fast"}})
    with pytest.raises(ConfigError, match="expected int"):
        from_dict(Inner, {"sizes": [1, True]})


def test_missing_required_field():
    with pytest.raises(ConfigError):
        from_dict(Outer, {})


def test_profile_overlay(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text(
        "profile: small\n"
        "profiles:\n  small: {s: {inner: {lr: 0.5}}}\n  gpu: {s: {name: big}}\n"
        "s: {name: base, inner: {lr: 0.1, sizes: [8]}}\n"
    )
    small = load_section(Outer, "s", p)
    assert small.name == "base" and small.inner.lr == 0.5 and small.inner.sizes == (8,)
    gpu = load_section(Outer, "s", p, profile="gpu")
    assert gpu.name == "big" and gpu.inner.lr == 0.1
    assert "profiles" not in load_params(p)
    with pytest.raises(ConfigError, match="unknown profile"):
        load_params(p, profile="tpu")
    with pytest.raises(ConfigError, match="no section"):
        load_section(Outer, "absent", p)
