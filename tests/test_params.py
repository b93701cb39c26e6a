"""params.yaml against the dataclasses' defaults: values that merely repeat a default, and values that contradict one.

The dataclasses are meant to hold every default and params.yaml only what a user tunes and the profiles.
Measured 2026-12-07: 213 values of params.yaml's base sections repeat their dataclass default (197 of them not
named by dvc.yaml) and 8 contradict it (the file says one thing, the code another: ``prepare.pitch_mm`` 16
against 20, ``ocr.train.n_lines`` 60,000 against 9,000, …). Both counts are held to ceilings that may only go
down, as the import measurements are in ``tests/test_architecture.py``: lower them in the change that removes one.
Keys that dvc.yaml tracks by name must stay in the file (DVC refuses a missing parameter) and are not counted as
repeats.

Run ``python -m tests.test_params`` for the lists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Ceilings, measured 2026-12-07; never raised.
MAX_REPEATS = 157     # not counting the keys dvc.yaml names (197 on 2026-12-07, 157 the same day)
MAX_CONTRADICTIONS = 8


def sections() -> dict[str, type]:
    """params.yaml's sections and their dataclasses."""
    from cargoscan.bench.config import BenchParams
    from cargoscan.data.config import PrepareParams
    from cargoscan.inspect.config import InspectParams
    from cargoscan.ocr.config import OcrParams
    from cargoscan.registry.config import RegistryParams
    from cargoscan.reports.config import ReportParams
    from cargoscan.synth.config import SynthParams
    from cargoscan.tip.config import TipParams
    from cargoscan.training.config import EvaluateParams, ExportParams, TrainParams

    return {"synth": SynthParams, "prepare": PrepareParams, "train": TrainParams, "evaluate": EvaluateParams,
            "export": ExportParams, "inspect": InspectParams, "ocr": OcrParams, "registry": RegistryParams,
            "report": ReportParams, "tip": TipParams, "bench": BenchParams}


def _plain(value):
    """Tuples as lists, recursively: YAML has no tuples."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def dvc_named() -> set[str]:
    """Dotted parameter keys dvc.yaml names one by one."""
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    return {str(k) for st in doc["stages"].values() for k in st.get("params", []) if "." in str(k)}


def compare(raw: dict, classes: dict[str, type]) -> tuple[list[str], list[tuple[str, object, object]]]:
    """(keys whose value repeats the default, (key, file value, default) where they differ) over ``raw``'s
    sections, leaves only: a nested dataclass is walked, a mapping-valued field is one value."""
    repeats, contradictions = [], []

    def walk(path: list[str], value, default) -> None:
        if isinstance(value, dict) and dataclasses.is_dataclass(default):
            for k, v in value.items():
                walk(path + [k], v, getattr(default, k))
            return
        key = ".".join(path)
        if _plain(value) == _plain(default):
            repeats.append(key)
        else:
            contradictions.append((key, value, default))

    for name, cls in classes.items():
        if isinstance(raw.get(name), dict):
            walk([name], raw[name], cls())
    return repeats, contradictions


def measured() -> tuple[list[str], list[tuple[str, object, object]]]:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    repeats, contradictions = compare(raw, sections())
    named = dvc_named()
    return [k for k in repeats if k not in named], contradictions


def test_repeated_defaults_do_not_grow():
    repeats, _ = measured()
    assert len(repeats) <= MAX_REPEATS, (f"{len(repeats)} values of params.yaml repeat their dataclass default "
                                         f"(ceiling {MAX_REPEATS}): drop them from the file")


def test_contradicted_defaults_do_not_grow():
    _, contradictions = measured()
    listing = "\n".join(f"  {k}: file {v!r}, code {d!r}" for k, v, d in contradictions)
    assert len(contradictions) <= MAX_CONTRADICTIONS, (
        f"{len(contradictions)} values of params.yaml contradict their dataclass default (ceiling "
        f"{MAX_CONTRADICTIONS}): make the code's default the pipeline's value\n{listing}")


def test_the_measurement_sees_repeats_and_contradictions():
    """Not vacuous: a hand-made file with one repeat, one contradiction and one nested repeat is read so."""
    @dataclasses.dataclass(frozen=True)
    class Inner:
        b: tuple[int, int] = (1, 2)

    @dataclasses.dataclass(frozen=True)
    class Section:
        a: float = 0.5
        c: str = "x"
        inner: Inner = dataclasses.field(default_factory=Inner)

    repeats, contradictions = compare({"s": {"a": 0.5, "c": "y", "inner": {"b": [1, 2]}}}, {"s": Section})
    assert repeats == ["s.a", "s.inner.b"]
    assert contradictions == [("s.c", "y", "x")]


if __name__ == "__main__":
    reps, cons = measured()
    print(f"{len(reps)} values repeat their default:")
    for k in reps:
        print(f"  {k}")
    print(f"{len(cons)} contradict it:")
    for k, v, d in cons:
        print(f"  {k}: file {v!r}, code {d!r}")
