import csv
import json

import numpy as np
import pytest

from cargoscan.ids import is_valid_container, is_valid_wagon
from cargoscan.ocr.config import FrameParams
from cargoscan.ocr.frames import (FRAMES_COLUMNS, archive_units, render_container_door, render_degraded,
                                  render_wagon_side, synthetic_units, write_frames)


@pytest.mark.parametrize("kind", ["covered", "gondola", "tank", "flat"])
def test_wagon_side_paints_the_number_inside_its_box(kind):
    rng = np.random.default_rng(1)
    frame = render_wagon_side(rng, "45488855", kind)
    x0, y0, x1, y1 = frame.bbox
    assert frame.image.shape == (240, 640, 3) and frame.image.dtype == np.uint8
    assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 240
    inside = frame.image[y0:y1, x0:x1].astype(float)
    # painted text has strong contrast inside its box (ink against the body)
    assert inside.std() > 25
    assert (x1 - x0) > 3 * (y1 - y0)


def test_container_door_code_is_top_right():
    frame = render_container_door(np.random.default_rng(2), "CSQU3054383")
    assert frame.text == "CSQU3054383" and frame.kind == "container"
    assert frame.bbox[0] > 640 * 0.2 and frame.bbox[1] < 240 * 0.4


def test_degraded_frame_records_its_degradations():
    rng = np.random.default_rng(3)
    names = set()
    for _ in range(20):
        names |= set(render_degraded(rng, "45488855", "wagon").degradations)
    assert {"dirt", "blur", "perspective"} <= names


def test_write_frames_writes_images_and_ground_truth(tmp_path):
    rng = np.random.default_rng(4)
    units = synthetic_units(6, rng, train_size=4)
    table = write_frames(tmp_path / "frames", units, rng)
    rows = list(csv.DictReader(table.open()))
    assert list(rows[0]) == FRAMES_COLUMNS
    n_expected = sum(1 + len(u["container_numbers"]) for u in units)
    assert len(rows) == 2 * n_expected                       # two cameras, one each side of the track
    assert {r["camera"] for r in rows} == {"1", "2"}
    assert sum(r["file"].endswith("_cam2.png") for r in rows) == n_expected
    for row in rows:
        assert (tmp_path / "frames" / row["file"]).exists()
        assert is_valid_wagon(row["wagon_number"])
        if row["view"] != "side":
            assert is_valid_container(row["container_number"])


def _sidecar(scan_id, train, wagon, containers, stamp):
    return {"schema_version": "1.0", "scan_id": scan_id, "post_code": "32701", "device_id": "RF06",
            "scanned_at": stamp, "energies_mev": [6.0, 4.0], "pixel_pitch_mm": {"row": 5.0, "column": 5.0},
            "train_number": train, "wagon_number": wagon, "container_numbers": containers,
            "direction": "import", "speed_kmh": 5.0, "wagon_type": "flat"}


def test_archive_units_take_identities_from_sidecars_and_positions_from_rfid(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    docs = [_sidecar("32701RF06202502181747021", "T1", "45488855", ["CSQU3054383"], "2025-02-18T17:47:02+06:00"),
            _sidecar("32701RF06202502181748022", "T1", None, [], "2025-02-18T17:48:02+06:00")]
    for d in docs:
        (scans / f"{d['scan_id']}.json").write_text(json.dumps(d))
    (tmp_path / "rfid.csv").write_text("read_at,reader_id,train_number,position,tag_payload\n"
                                       "2025-02-18T17:47:00+06:00,R1,T1,7,45488855\n")
    units = archive_units(tmp_path)
    by_scan = {u["scan_id"]: u for u in units}
    first = by_scan["32701RF06202502181747021"]
    assert first["position"] == 7 and first["container_numbers"] == ["CSQU3054383"]
    second = by_scan["32701RF06202502181748022"]
    assert second["wagon_number"] is None and second["position"] != 7
    table = write_frames(tmp_path / "frames", units, np.random.default_rng(0))
    rows = list(csv.DictReader(table.open()))
    assert {r["file"] for r in rows} == {"T1/7_side.png", "T1/7_door1.png",           # no number, no side view
                                         "T1/7_side_cam2.png", "T1/7_door1_cam2.png"}


def test_first_camera_frames_do_not_depend_on_the_number_of_cameras(tmp_path):
    from dataclasses import replace

    from PIL import Image

    units = synthetic_units(3, np.random.default_rng(9), train_size=3)
    one = write_frames(tmp_path / "one", units, np.random.default_rng(21), replace(FrameParams(), cameras=1))
    two = write_frames(tmp_path / "two", units, np.random.default_rng(21), FrameParams())
    rows_one = list(csv.DictReader(one.open()))
    rows_two = [r for r in csv.DictReader(two.open()) if r["camera"] == "1"]
    assert [r["file"] for r in rows_one] == [r["file"] for r in rows_two]
    for r in rows_one:
        a = np.asarray(Image.open(tmp_path / "one" / r["file"]))
        b = np.asarray(Image.open(tmp_path / "two" / r["file"]))
        assert np.array_equal(a, b)
        far = np.asarray(Image.open(tmp_path / "two" / r["file"].replace(".png", "_cam2.png")))
        assert not np.array_equal(a, far)    # the far side is painted, lit and dirtied on its own


def test_both_cameras_see_a_unit_in_its_own_colours():
    rng = np.random.default_rng(12)
    for kind, text, wagon_type in [("container", "CSQU3054383", "flat"), ("wagon", "45488855", "flat"),
                                   ("wagon", "62345673", "covered")]:
        near = render_degraded(rng, text, kind, wagon_type)
        far = render_degraded(rng, text, kind, wagon_type, style=near.style)
        assert far.style == near.style and near.style["body"] is not None
    styles = {tuple(render_degraded(rng, "CSQU3054383", "container").style["body"]) for _ in range(20)}
    assert len(styles) > 1                     # each unit draws its own colours


def test_archive_without_sidecars_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        archive_units(tmp_path)


def test_stacked_door_lines_spell_the_code_in_reading_order():
    rng = np.random.default_rng(7)
    layouts = set()
    for _ in range(30):
        frame = render_container_door(rng, "CSQU3054383")
        texts = [t for t, _ in frame.lines]
        layouts.add(len(texts))
        ys = [(b[1] + b[3]) / 2 for _, b in frame.lines]
        assert ys == sorted(ys)                                     # lines go top to bottom
        code_lines = [t for t in texts if not (len(t) == 4 and t != "CSQU")]   # drop the size-type line
        assert "".join(code_lines) == "CSQU3054383"
        for _, (x0, y0, x1, y1) in frame.lines:
            assert frame.image[y0:y1, x0:x1].astype(float).std() > 20   # each line box holds painted ink
    assert {1, 2, 3} <= layouts
