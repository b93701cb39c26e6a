"""Typed, frozen views of ``params.yaml``.

Each part of the system declares its own frozen dataclass next to the code that uses it (for example
``cargoscan.synth.config.SynthParams``) and reads its section with :func:`load_section`. There is no Hydra:
``params.yaml`` is the single source, DVC tracks it per stage, and ``dvc exp run -S section.key=value``
changes it. Profiles (``small``, ``gpu``) are overlays kept under ``profiles:`` in the same file; the active
one is named by the top-level ``profile`` key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(ValueError):
    """A parameter file or section that does not fit its dataclass."""


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_params(path: str | Path = DEFAULT_PARAMS, profile: str | None = None) -> dict[str, Any]:
    """Load ``params.yaml`` with the active profile's overlay applied.

    Args:
        path: the parameter file.
        profile: overrides the file's ``profile`` key when given.

    Returns:
        The merged parameter tree, without the ``profiles`` table.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: parameter file not found")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    profiles = raw.pop("profiles", {}) or {}
    name = profile or raw.get("profile")
    if name:
        if name not in profiles:
            raise ConfigError(f"{path}: unknown profile {name!r}; known: {sorted(profiles)}")
        raw = _deep_merge(raw, profiles[name] or {})
    return raw


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "") -> T:
    """Build a (nested) dataclass from a mapping, refusing unknown keys and wrong types.

    Args:
        cls: the dataclass type.
        data: the mapping, e.g. one section of ``params.yaml``.
        where: the dotted path used in error messages.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown keys {sorted(unknown)}; allowed: {sorted(names)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _coerce(hints[f.name], data[f.name], f"{where}.{f.name}" if where else f.name)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{where or cls.__name__}: {exc}") from exc


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not fit {tp}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        inner = args[0] if args else Any
        items = [_coerce(inner, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        kt, vt = args or (Any, Any)
        return {k: _coerce(vt, v, f"{where}.{k}") for k, v in value.items()}
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(tp, type) and not isinstance(value, tp) or (tp in (int, float) and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def load_section(cls: type[T], section: str, path: str | Path = DEFAULT_PARAMS, profile: str | None = None) -> T:
    """Read one section of ``params.yaml`` into its frozen dataclass.

    Args:
        cls: the section's dataclass.
        section: the top-level key, e.g. ``"synth"``.
        path: the parameter file.
        profile: overrides the active profile.
    """
    params = load_params(path, profile)
    if section not in params:
        raise ConfigError(f"{path}: no section {section!r}")
    return from_dict(cls, params[section], section)
