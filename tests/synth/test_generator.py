"""Determinism under a seed, independence from the worker count, and refusing bad parameters up front."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
import yaml
from typer.testing import CliRunner

from cargoscan.config import ConfigError
from cargoscan.cli import app
from cargoscan.synth.config import LoadParams, validate
from cargoscan.synth.generator import LOAD_CLASS, REALISM_FILE, generate, like_targets
from cargoscan.synth.manifest import plan_scans
from cargoscan.synth.realism import texture_gates
from tests.conftest import tiny_params


def _digest(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_same_seed_same_bytes_whatever_the_workers(tmp_path):
    p = tiny_params(n=3, seed=11, previews=0)
    generate(p, tmp_path / "a", workers=1, show_progress=False)
    generate(p, tmp_path / "b", workers=2, show_progress=False)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and len(a) >= 3 * 4 + 4
    generate(dataclasses.replace(p, seed=12), tmp_path / "c", workers=1, show_progress=False)
    assert _digest(tmp_path / "c") != a


def test_every_archive_records_its_texture_gates(tiny_archive):
    """realism.json: the scans like the targets' (loaded container flats) measured, and every gate judged."""
    doc = json.loads((tiny_archive / REALISM_FILE).read_text(encoding="utf-8"))
    plans = plan_scans(tiny_params())
    assert doc["n_scans"] == len(plans) and doc["n_measured"] == sum(map(like_targets, plans))
    assert 0 < doc["n_measured"] < len(plans)          # the tiny plan holds other wagons too
    assert doc["gates"] == texture_gates(doc["texture"]) and doc["n_gates"] == 22
    assert doc["passed"] == sum(g["passed"] for g in doc["gates"])


@pytest.mark.slow
def test_texture_is_measured_inside_the_load(tiny_archive):
    """realism.json's texture is that of the measured scans' patches inside the cargo label (the targets' "inside
    the load"), not of the A rule alone, which also takes the wagon's deck and underframe."""
    from cargoscan.archive.classes import class_id
    from cargoscan.archive.io import load_sample
    from cargoscan.synth.realism import aggregate_texture, scan_texture

    doc = json.loads((tiny_archive / REALISM_FILE).read_text(encoding="utf-8"))
    samples = [load_sample(tiny_archive, sp.scan_id, labels=True) for sp in plan_scans(tiny_params())
               if like_targets(sp)]
    inside = aggregate_texture(scan_texture(s["image"], s["mask"] == class_id(LOAD_CLASS)) for s in samples)
    anywhere = aggregate_texture(scan_texture(s["image"]) for s in samples)
    assert doc["texture"]["n_patches"] == inside["n_patches"] < anywhere["n_patches"]
    assert doc["texture"]["bands"] == inside["bands"]


def test_existing_archive_is_not_overwritten(tiny_archive):
    with pytest.raises(FileExistsError):
        generate(tiny_params(), tiny_archive, show_progress=False)


@pytest.mark.parametrize("change,word", [
    ({"n": -1}, "synth.n"),
    ({"load": LoadParams(wagon_types={"flat": 1.0, "hovercraft": 1.0})}, "hovercraft"),
    ({"load": LoadParams(empty_rate=1.5)}, "load.empty_rate"),
    ({"load": LoadParams(size_bias=0.0)}, "load.size_bias"),
])
def test_validate_names_the_parameter(change, word):
    with pytest.raises(ConfigError, match=word):
        validate(dataclasses.replace(tiny_params(), **change))


@pytest.mark.parametrize("synth,args,word", [
    ({}, ["--n", "-3"], "synth.n"),
    ({"load": {"wagon_types": {"zeppelin": 1.0}}}, [], "zeppelin"),
    ({"threats": {"wagon_rate": 1.2}}, [], "threats.wagon_rate"),
])
def test_cli_fails_before_writing_anything(tmp_path, synth, args, word):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"profile": "small", "profiles": {"small": {}}, "synth": synth}))
    out = tmp_path / "raw"
    res = CliRunner().invoke(app, ["synth", "--params", str(params), "--out", str(out), *args])
    assert res.exit_code != 0
    assert word in res.output
    assert not out.exists()
