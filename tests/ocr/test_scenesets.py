"""Frozen scene sets: written as a frames folder, named by seed and version, read and benchmarked like any."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from cargoscan.ocr.config import OcrParams
from cargoscan.ocr.scenesets import SCENE_SET_VERSION, scene_units, write_scene_set


@pytest.fixture(scope="module")
def portal_set(tmp_path_factory):
    return write_scene_set(tmp_path_factory.mktemp("scenes") / "portal", "portal", 2, seed=5)


def test_units_carry_as_many_codes_as_wagon_numbers():
    units = scene_units(10, np.random.default_rng(0))
    assert sum(len(u["container_numbers"]) for u in units) == 10
    assert len({u["wagon_number"] for u in units}) == 10


def test_a_set_is_a_frames_folder_named_by_seed_and_version(portal_set, tmp_path):
    rows = list(csv.DictReader((portal_set / "frames.csv").open()))
    assert len(rows) == 2 * (1 + 1 + 2)                    # two cameras x (wagon, wagon + two containers)
    assert {r["camera"] for r in rows} == {"1", "2"} and {r["geometry"] for r in rows} == {"portal"}
    assert all((portal_set / r["file"]).exists() and r["file"].endswith(".jpg") for r in rows)
    assert json.loads((portal_set / "version.json").read_text()) == {
        "geometry": "portal", "wagons": 2, "seed": 5, "scene_set_version": SCENE_SET_VERSION}
    assert (portal_set / "rfid.csv").exists()
    again = write_scene_set(tmp_path / "again", "portal", 2, seed=5)
    first = (portal_set / rows[0]["file"]).read_bytes()
    assert (again / rows[0]["file"]).read_bytes() == first  # same seed and version: the same set


def test_unknown_geometry_is_refused(tmp_path):
    with pytest.raises(ValueError, match="geometry"):
        write_scene_set(tmp_path, "drone", 1, seed=1)


@pytest.mark.slow
def test_jpeg_frames_are_read_and_scored_by_layout(portal_set):
    pytest.importorskip("rapidocr_onnxruntime")           # third-party wheel with the scene-text networks
    from cargoscan.ocr.evaluate import evaluate

    params = dataclasses.replace(OcrParams(), reader="scene")
    metrics = evaluate(portal_set, portal_set / "rfid.csv", None, params)
    assert metrics["frames"] == 8 and metrics["reader"] == "scene"
    layouts = {k for k in metrics["rates"] if k.startswith("frame_layout_")}
    assert "frame_layout_side" in layouts
    frames = metrics["rates"]["frame_wagon"]
    assert frames["n"] == 4 and 0 <= frames["k"] <= 4 and len(frames["ci95"]) == 2
    assert metrics["wrong_accepted_frames"] == 0
