"""Frozen rendered test sets of whole scenes: the portal's two cameras, and officers' hand-held photos.

A held-out set that a rule was written for is a tuning set. These sets are fixed by three things only: the seed,
the number of wagons and :data:`SCENE_SET_VERSION`, the version of what the renderer draws for a seed. The
version is written into every set's ``frames.csv`` folder (``version.json``) and into the metrics; it is bumped by
hand whenever a change to :mod:`cargoscan.ocr.scenes` changes the scenes a seed gives, so that a figure is never
compared across two different sets under one name. No rule of the reader or of the acceptance policy may be
tuned on them: named hard cases go to the regression tests instead (``tests/ocr``).

A set is written in the layout every frames folder has (``<train>/<position>_<view>_cam<c>.jpg``, ``frames.csv``
and ``rfid.csv``), so :func:`cargoscan.ocr.evaluate.evaluate` reads it as it reads the archive's frames. Frames are
JPEG, as cameras deliver them (the scenes carry their own JPEG history already; the file adds a light last one).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np

from cargoscan.ocr.evaluate import simulate_rfid, write_rfid
from cargoscan.ocr.frames import FRAMES_COLUMNS, FRAMES_TABLE, frame_name
from cargoscan.ocr.scenes import SceneParams, list_geometries, render_scene

log = logging.getLogger(__name__)

#: What the renderer draws for a seed. Bump on any change to the scenes (see the module's docstring).
SCENE_SET_VERSION = 1
#: Extra columns of a scene set's ``frames.csv``.
SCENE_COLUMNS = FRAMES_COLUMNS + ["geometry", "layout"]
#: Cameras per geometry: two at the portal (one each side of the track), one officer's phone.
CAMERAS = {"portal": 2, "handheld": 1}


def scene_units(n: int, rng: np.random.Generator, train_size: int = 50) -> list[dict]:
    """``n`` wagons, every second a flat wagon carrying two containers: as many codes as wagon numbers."""
    from cargoscan.ids import make_container_number, make_wagon_number

    units = []
    for i in range(n):
        kind = "flat" if i % 2 else ["covered", "gondola", "tank"][int(rng.integers(3))]
        units.append({"train_number": f"{3000 + i // train_size}", "position": i % train_size + 1,
                      "wagon_number": make_wagon_number(kind, rng), "wagon_type": kind,
                      "container_numbers": [make_container_number(rng) for _ in range(2 if kind == "flat" else 0)]})
    return units


def write_scene_set(out_dir: str | Path, geometry: str, n_wagons: int, seed: int,
                    params: SceneParams = SceneParams(), p_rfid_missing: float = 0.05,
                    p_rfid_corrupt: float = 0.03) -> Path:
    """Render and write one frozen set; returns its folder (frames, ``frames.csv`` and the simulated ``rfid.csv``
    of its wagons, tags missing and corrupt at the given rates)."""
    from PIL import Image

    from cargoscan.logs import progress

    if geometry not in list_geometries():
        raise ValueError(f"unknown geometry {geometry!r}; known: {list_geometries()}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, SCENE_SET_VERSION])
    units = scene_units(n_wagons, rng)
    rows = []
    with progress() as bar:
        task = bar.add_task(f"scenes ({geometry})", total=len(units))
        for u in units:
            views = [("side", u["wagon_number"], "wagon")]
            views += [(f"door{i + 1}", c, "container") for i, c in enumerate(u["container_numbers"])]
            for camera in range(1, CAMERAS[geometry] + 1):
                for view, text, kind in views:
                    scene = render_scene(rng, kind, text, geometry, params)
                    rel = Path(u["train_number"]) / frame_name(u["position"], view, camera).replace(".png", ".jpg")
                    (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(scene.image).save(out_dir / rel, quality=92)
                    rows.append({"train_number": u["train_number"], "position": u["position"], "view": view,
                                 "camera": camera, "wagon_number": u["wagon_number"],
                                 "container_number": text if kind == "container" else "", "file": rel.as_posix(),
                                 "degradations": ";".join(scene.effects), "geometry": geometry,
                                 "layout": scene.layout})
            bar.advance(task)
    with (out_dir / FRAMES_TABLE).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SCENE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    rfid = simulate_rfid(units, rng, p_rfid_missing, p_rfid_corrupt)
    write_rfid(out_dir / "rfid.csv", rfid)
    (out_dir / "version.json").write_text(json.dumps(set_identity(geometry, n_wagons, seed)) + "\n",
                                          encoding="utf-8")
    log.info("scene set %s: %d frames of %d wagons -> %s", geometry, len(rows), len(units), out_dir)
    return out_dir


def set_identity(geometry: str, n_wagons: int, seed: int) -> dict:
    """What names a frozen set: written beside it and into every metric computed on it."""
    return {"geometry": geometry, "wagons": n_wagons, "seed": seed, "scene_set_version": SCENE_SET_VERSION}
