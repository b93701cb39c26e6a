"""params.yaml against the dataclasses' defaults, and against the stages that read it.

The dataclasses hold every default; params.yaml holds the profiles (overlays of those defaults) and the keys dvc.yaml
tracks one by one (DVC refuses a missing parameter). So a value in a base section that repeats its default, or
differs from it, and a profile value equal to the default, are all faults: the first two meant "the default is
written twice" (213 repeats and 8 contradictions on 2026-12-07, ``prepare.pitch_mm`` 16 in the file against 20 in
code), the third a profile saying nothing. A user tunes a value by adding its key; this test then names it, and the
tuning belongs in a profile or in the dataclass.

Two more checks keep params.yaml and dvc.yaml in step: every parameter a stage names exists in the file, and a
profile's override of a parameter a stage reads is tracked by that stage (with ``profile``, the switch), or
switching profiles would leave its outputs stale with ``dvc status`` clean.

Run ``python -m tests.test_params`` for the lists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Ceilings: none allowed (157 and 8 on the morning of 2026-12-07, 0 since).
MAX_REPEATS = 0
MAX_CONTRADICTIONS = 0


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
    """Repeats (base sections and profiles) and contradictions (base sections), leaving out what dvc.yaml names.

    A profile's value that differs from the default is the profile's purpose; one that equals it is a repeat.
    """
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    classes = sections()
    repeats, contradictions = compare(raw, classes)
    for name, overlay in (raw.get("profiles") or {}).items():
        profile_repeats, _ = compare(overlay or {}, classes)
        repeats += [f"profiles.{name}.{k}" for k in profile_repeats]
    named = dvc_named()
    return [k for k in repeats if k not in named], [c for c in contradictions if c[0] not in named]


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


def _leaves(tree: dict, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in tree.items():
        out += _leaves(v, path + (str(k),)) if isinstance(v, dict) and v else [path + (str(k),)]
    return out


def _get(tree: dict, dotted: str):
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def untracked_overrides(params: dict, dvc: dict) -> list[str]:
    """(stage: profile key) for each profile value that changes a parameter a stage tracks while the stage tracks
    neither it (nor a section above it) nor the ``profile`` switch: switching profiles would leave it stale."""
    problems = []
    for stage, st in dvc["stages"].items():
        names = [str(n) for n in st.get("params", [])]
        for profile, overlay in (params.get("profiles") or {}).items():
            for leaf in _leaves(overlay or {}):
                key = ".".join(leaf)
                tracked = [n for n in names if key == n or key.startswith(n + ".") or n.startswith(key + ".")]
                if not tracked:
                    continue
                covered = any(f"profiles.{profile}.{key}".startswith(f"{n}.") or n == f"profiles.{profile}.{key}"
                              for n in names if n.startswith(f"profiles.{profile}") or n == "profiles")
                if not covered or "profile" not in names:
                    problems.append(f"{stage}: profiles.{profile}.{key}")
    return problems


def missing_params(params: dict, dvc: dict) -> list[str]:
    """(stage: key) for each parameter a stage names that params.yaml lacks: DVC refuses to run it."""
    missing = []
    for stage, st in dvc["stages"].items():
        for name in st.get("params", []):
            try:
                _get(params, str(name))
            except KeyError:
                missing.append(f"{stage}: {name}")
    return missing


def _files() -> tuple[dict, dict]:
    return (yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")),
            yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8")))


def test_every_parameter_a_stage_names_is_in_the_file():
    assert missing_params(*_files()) == []


def test_every_profile_override_is_tracked_by_the_stages_it_changes():
    assert untracked_overrides(*_files()) == []


def test_the_tracking_checks_see_what_is_missing():
    """Not vacuous: a stage naming an absent key, and a profile changing a tracked section untracked, are found."""
    params = {"profile": "a", "profiles": {"a": {"s": {"x": 1}}, "b": {"t": {"y": 2}}}, "s": {}, "t": {"y": 0}}
    dvc = {"stages": {"one": {"params": ["profile", "s", "t.z"]}, "two": {"params": ["profile", "s", "profiles.a.s"]},
                      "three": {"params": ["t.y"]}}}
    assert missing_params(params, dvc) == ["one: t.z"]
    assert untracked_overrides(params, dvc) == ["one: profiles.a.s.x", "three: profiles.b.t.y"]


if __name__ == "__main__":
    reps, cons = measured()
    print(f"{len(reps)} values repeat their default:")
    for k in reps:
        print(f"  {k}")
    print(f"{len(cons)} contradict it:")
    for k, v, d in cons:
        print(f"  {k}: file {v!r}, code {d!r}")
    print("stage parameters absent from params.yaml:", missing_params(*_files()))
    print("profile overrides a stage does not track:", untracked_overrides(*_files()))
