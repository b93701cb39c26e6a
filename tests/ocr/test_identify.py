import json

import numpy as np
import pytest
from ocr_helpers import FakeReader, confident, ctc_output

from cargoscan.ids import is_valid_container, is_valid_wagon, make_container_number, make_wagon_number
from cargoscan.ocr.config import OcrParams
from cargoscan.ocr.decode import greedy
from cargoscan.ocr.frames import render_degraded, write_frames
from cargoscan.ocr.fusion import OcrResult, correct
from cargoscan.ocr.identify import OcrEngine, build_records, load_frame, read_rfid
from cargoscan.ocr.policy import Reason, Status
from conftest import FIXTURE_MODEL, clean_params

#: A frame for the engine with a fake reader: any texture, as long as crops cut differently differ.
NOISE = np.random.default_rng(0).integers(0, 256, (240, 640, 3), dtype=np.uint8)
ONE_LINE = [(20, 20, 80, 23, 1.0)]                          # heat-map cores (cells of the 48x120 map)
TWO_LINES = [(20, 14, 60, 17, 1.0), (20, 24, 80, 27, 1.0)]  # stacked: a size-type code over the number

def test_fixture_model_reads_rendered_frames(ocr_engine):
    rng = np.random.default_rng(11)   # frames and numbers never seen in training
    right, wrong = {"wagon": 0, "container": 0}, 0
    cases = [("wagon", make_wagon_number(k, rng)) for k in ("covered", "gondola", "tank", "flat")]
    cases += [("container", make_container_number(rng)) for _ in range(3)]
    for kind, text in cases:
        res = ocr_engine.read(render_degraded(rng, text, kind, "covered", clean_params().frames).image, kind)
        right[kind] += res.number == text
        wrong += res.number is not None and res.number != text
    assert wrong == 0                 # containers may come out unread (the small model's letters are weak), never wrong
    assert right["wagon"] >= 3


def test_blank_and_corrupt_frames_are_unreadable(ocr_engine, tmp_path):
    for image in (np.zeros((240, 640, 3), np.uint8), np.full((240, 640, 3), 128, np.uint8), None):
        res = ocr_engine.read(image, "wagon")
        assert res.number is None and res.reason == Reason.NO_TEXT
    noise = np.random.default_rng(0).integers(0, 256, (240, 640, 3), dtype=np.uint8)
    for kind in ("wagon", "container"):
        assert ocr_engine.read(noise, kind).number is None
    bad = tmp_path / "7_side.png"
    bad.write_bytes(b"not a png at all")
    assert load_frame(bad) is None


def test_identify_writes_contract_records(tmp_path):
    from cargoscan.ocr.identify import identify

    rng = np.random.default_rng(5)
    units = [{"train_number": "T9", "position": 1, "wagon_number": "45488855", "wagon_type": "flat",
              "container_numbers": ["CSQU3054383"]},
             {"train_number": "T9", "position": 2, "wagon_number": "62345673", "wagon_type": "gondola",
              "container_numbers": []}]
    frames = tmp_path / "frames"
    write_frames(frames, units, rng, clean_params().frames)
    (frames / "T9" / "3_side.png").write_bytes(b"\x89PNG corrupt")          # a corrupt frame: read as nothing
    rfid = tmp_path / "rfid.csv"
    rfid.write_text("read_at,reader_id,train_number,position,tag_payload\n"
                    "2025-02-18T17:47:00+06:00,R1,T9,1,45488855\n"
                    "2025-02-18T17:47:05+06:00,R1,T9,3,62345673\n")
    out = tmp_path / "ids.jsonl"
    identify(frames, rfid, out, FIXTURE_MODEL, clean_params())
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["position"] for r in records] == [1, 2, 3]
    by_pos = {r["position"]: r for r in records}
    for r in records:
        assert set(r) == {"train_number", "position", "scan_id", "wagon", "containers"}
        w = r["wagon"]
        assert w["status"] in set(Status)
        if w["number"] is not None:
            assert is_valid_wagon(w["number"])
        assert w["status"] != Status.CONFLICT or w["number"] is None
        for c in r["containers"]:
            assert c["number"] is None or is_valid_container(c["number"])
    assert by_pos[1]["wagon"]["number"] in ("45488855", None)
    assert by_pos[3]["wagon"]["status"] == Status.RFID_ONLY     # only the tag; the frame was corrupt
    assert by_pos[3]["wagon"]["number"] == "62345673"


def test_build_records_without_frames_uses_rfid_positions():
    rfid = {("T1", 4): ["45488855"], ("T1", 5): ["garbage"]}
    recs = build_records({("T1", 4): {"wagon": OcrResult(None, None, 0.0, Reason.NO_TEXT), "containers": {}}}, rfid)
    assert [r["wagon"]["status"] for r in recs] == [Status.RFID_ONLY, Status.UNREADABLE]


def test_read_rfid_refuses_a_log_without_its_columns(tmp_path):
    path = tmp_path / "rfid.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="lacks columns"):
        read_rfid(path)
    assert read_rfid(tmp_path / "absent.csv") == {}


# The rival Q passes the check digit: both views together must lead it by twice the collision margin (10 nats).
# The first view leads by 0.85 nats; a second at G 0.9999 leads by 9.9 (together 10.75), at 0.999 by 7.6 (8.45).
@pytest.mark.parametrize("second, accepted", [({"G": 0.9999, "Q": 0.00005}, True), ({"G": 0.999, "Q": 0.0005}, False),
                                              ({"G": 0.7, "Q": 0.3}, False), ({"G": 0.2, "Q": 0.8}, False)])
def test_second_view_settles_a_near_rival_only_when_it_is_clear(second, accepted):
    code = "TGHU1925614"                       # Q passes the check digit as well as G
    first = confident(code)
    first[1] = {"G": 0.7, "Q": 0.3}
    assert correct(greedy(ctc_output(first)), "container").reason == Reason.AMBIGUOUS
    wider = confident(code)
    wider[1] = second
    params = OcrParams()
    reader = FakeReader(NOISE, ONE_LINE)       # the networks are replaced by the two views' outputs
    (box,) = reader.boxes()
    reader.tell(box, params.crop_pad, ctc_output(first))
    reader.tell(box, params.check_pad, ctc_output(wider))
    out = OcrEngine(params=params, reader=reader).read(NOISE, "container")
    assert reader.asked == [(box, params.crop_pad), (box, params.check_pad)]
    if not accepted:
        assert out.number is None and out.reason == Reason.AMBIGUOUS
        return
    assert out.number == code and out.reason == Reason.READ
    summed = {c.rule: c for c in out.trace if c.rule.startswith("wide_cut")}
    assert set(summed) == {"wide_cut_runner_up", "wide_cut_collision"} and all(c.passed for c in summed.values())
    assert summed["wide_cut_collision"].needed == 10.0 and summed["wide_cut_collision"].achieved > 10.0
    assert json.loads(json.dumps([c.as_record() for c in out.trace]))[-1]["passed"] is True   # records take it


def test_row_unions_span_pieces_side_by_side_but_not_stacked_lines():
    from cargoscan.ocr.identify import row_unions

    pieces = [(362, 76, 458, 98), (506, 78, 592, 99)]        # one painted row, broken in two by the heat map
    assert row_unions(pieces) == [(362, 76, 592, 99)]
    stacked = [(100, 130, 300, 160), (100, 170, 300, 200)]       # an owner code over its serial: two lines
    assert row_unions(stacked) == []
    assert row_unions(pieces + stacked) == [(362, 76, 592, 99)]


@pytest.mark.parametrize("veto_text, accepted", [("CSQU3054383", True), ("GSQU3054383", False)])
def test_a_clipped_edge_is_read_again_cut_wider_and_checked_by_a_third_cut(veto_text, accepted):
    from test_decode import _with_weak_letter

    code = "CSQU3054383"
    params = OcrParams()
    wide, veto = (tuple(p) for p in params.clip_pads)
    clipped = _with_weak_letter(code, 0, 0.3)   # the heat map clipped the C: put back on too little evidence
    assert correct(greedy(clipped), "container").reason == Reason.TOO_DOUBTFUL
    reader = FakeReader(NOISE, ONE_LINE)
    (box,) = reader.boxes()
    reader.tell(box, params.crop_pad, clipped)
    reader.tell(box, wide, ctc_output(confident(code)))
    # GSQU3054383 fails its check digit: the third cut's likeliest valid number is then some other one.
    reader.tell(box, veto, ctc_output(confident(veto_text)))
    out = OcrEngine(params=params, reader=reader).read(NOISE, "container")
    assert (out.number == code) if accepted else (out.number is None and out.reason == Reason.TOO_DOUBTFUL)
    assert reader.asked == [(box, params.crop_pad), (box, wide), (box, veto)]


def _two_camera_frames(tmp_path):
    units = [{"train_number": "T5", "position": 1, "wagon_number": "45488855", "wagon_type": "covered",
              "container_numbers": []},
             {"train_number": "T5", "position": 2, "wagon_number": "62345673", "wagon_type": "gondola",
              "container_numbers": []}]
    frames = tmp_path / "frames"
    write_frames(frames, units, np.random.default_rng(8), clean_params().frames)
    return frames


def test_a_wagon_lost_by_one_camera_is_read_from_the_other(ocr_engine, tmp_path):
    from PIL import Image

    from cargoscan.ocr.identify import read_frames

    frames = _two_camera_frames(tmp_path)
    Image.fromarray(np.full((240, 640, 3), 90, np.uint8)).save(frames / "T5" / "1_side.png")   # lens covered
    readings = read_frames(ocr_engine, frames)
    one = readings[("T5", 1)]
    assert set(one["views"]) == {("side", 1), ("side", 2)}
    assert one["views"][("side", 1)].reason == Reason.NO_TEXT
    assert one["views"][("side", 2)].number == "45488855"
    assert one["wagon"].number == "45488855"


def test_ocr_eval_counts_identifiers_and_frames(tmp_path):
    from cargoscan.ocr.evaluate import evaluate

    frames = _two_camera_frames(tmp_path)
    m = evaluate(frames, None, FIXTURE_MODEL, clean_params())
    assert m["cameras"] == 2 and m["identifiers"] == 2 and m["frames"] == 4
    assert m["wrong_accepted_ocr"] == 0 and m["wrong_accepted_frames"] == 0 and m["wrong_cases"] == []
    # With no view wrong, combining can only add readings: per identifier at least as good as per frame.
    assert m["ocr_accuracy_wagon"] >= m["frame_accuracy_wagon"] > 0


def test_ocr_eval_lists_every_wrong_number_it_accepted(tmp_path):
    """The frames show 45488855; the truth is set to another valid number, so every accepted reading of that
    wagon is a wrong number: each frame and the combined reading are listed with the file, truth and reading."""
    import csv

    from cargoscan.ocr.evaluate import evaluate

    frames = _two_camera_frames(tmp_path)
    table = frames / "frames.csv"
    with table.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["wagon_number"] == "45488855":
            row["wagon_number"] = "62345673"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    m = evaluate(frames, None, FIXTURE_MODEL, clean_params())
    cases = m["wrong_cases"]
    assert len(cases) == m["wrong_accepted_ocr"] + m["wrong_accepted_frames"] + m["wrong_accepted_fused"] > 0
    assert {c["scope"] for c in cases} >= {"frame", "ocr"}
    assert all(c["truth"] == "62345673" and c["read"] == "45488855" for c in cases)
    assert all((frames / c["file"]).exists() for c in cases)


@pytest.mark.parametrize("veto_text, accepted", [("CSQU3054383", True), ("CSQU3054388", False)])
def test_lines_with_nothing_valid_are_read_again_cut_wider_line_by_line(veto_text, accepted):
    code = "CSQU3054383"
    params = OcrParams()
    wide, veto = (tuple(p) for p in params.clip_pads)
    reader = FakeReader(NOISE, TWO_LINES)
    size_type, line = reader.boxes()
    # Cut tight, the code's line lost its serial: nothing valid in any line or run of lines.
    reader.tell(size_type, params.crop_pad, ctc_output(confident("22G1")))
    reader.tell(line, params.crop_pad, ctc_output(confident("CSQU")))
    # Cut wider, the second line reads whole; the first is a size-type code.
    reader.tell(size_type, wide, ctc_output(confident("22G1")))
    reader.tell(line, wide, ctc_output(confident(code)))
    reader.tell(line, veto, ctc_output(confident(veto_text)))
    out = OcrEngine(params=params, reader=reader).read(NOISE, "container")
    if accepted:
        assert out.number == code
    else:
        assert out.number is None and out.reason == Reason.NO_VALID_CANDIDATE and out.raw == "22G1CSQU"
    assert reader.asked[:5] == [(size_type, params.crop_pad), (line, params.crop_pad), (size_type, wide),
                                (line, wide), (line, veto)]          # the check reads only the line that won


def test_a_one_camera_folder_without_a_camera_column_reads_as_before(tmp_path):
    import csv
    from dataclasses import replace

    from cargoscan.ocr.evaluate import evaluate

    units = [{"train_number": "T6", "position": 1, "wagon_number": "45488855", "wagon_type": "covered",
              "container_numbers": []}]
    frames = tmp_path / "frames"
    params = clean_params()
    table = write_frames(frames, units, np.random.default_rng(8), replace(params.frames, cameras=1))
    rows = list(csv.DictReader(table.open()))
    with table.open("w", newline="") as fh:            # an archive written before the portal had two cameras
        w = csv.DictWriter(fh, fieldnames=[c for c in rows[0] if c != "camera"])
        w.writeheader()
        w.writerows([{k: v for k, v in r.items() if k != "camera"} for r in rows])
    m = evaluate(frames, None, FIXTURE_MODEL, params)
    assert m["cameras"] == 1 and m["frames"] == m["identifiers"] == 1
    assert m["ocr_accuracy_wagon"] == m["frame_accuracy_wagon"]


def test_a_faint_heat_map_is_read_again_less_strictly():
    params = OcrParams()
    code = "CSQU3054383"
    # A line whose heat is sure over its first part only: the whole line shows only at a lower threshold.
    reader = FakeReader(NOISE, [(20, 20, 50, 23, 0.9), (50, 20, 90, 23, 0.4)])
    (strict,), (loose,) = reader.boxes(0.5), reader.boxes(0.3)
    assert loose[2] > strict[2]
    reader.tell(strict, params.crop_pad, ctc_output(confident("CSQU")))
    reader.tell(loose, params.crop_pad, ctc_output(confident(code)))
    engine = OcrEngine(params=params, reader=reader)
    assert engine.read(NOISE, "container").number == code                 # the whole line, found less strictly
    looked = [k for k in reader.asked if k and k[1] == params.crop_pad]
    assert looked == [(strict, params.crop_pad), (loose, params.crop_pad)]
    reader.tell(loose, params.crop_pad, ctc_output(confident("SQU3")))
    out = engine.read(NOISE, "container")                                  # nothing better: the first refusal
    assert out.number is None and out.raw == "CSQU" and out.reason == Reason.NO_VALID_CANDIDATE
    ambiguous = confident("TGHU1925614")
    ambiguous[1] = {"G": 0.7, "Q": 0.3}
    reader.tell(strict, params.crop_pad, ctc_output(ambiguous))
    reader.tell(strict, params.check_pad, ctc_output(ambiguous))
    reader.asked.clear()
    assert engine.read(NOISE, "container").reason == Reason.AMBIGUOUS       # a near rival is not looked past
    assert (loose, params.crop_pad) not in reader.asked


def test_a_model_without_det_norm_is_read_with_the_global_normalisation_it_was_trained_on(tmp_path):
    import json
    import shutil

    from cargoscan.ocr.networks import OnnxReader

    old = tmp_path / "model"
    shutil.copytree(FIXTURE_MODEL, old)
    config = json.loads((old / "config.json").read_text())
    assert OnnxReader(FIXTURE_MODEL).det_norm == config["det_norm"] == "local"
    del config["det_norm"]
    (old / "config.json").write_text(json.dumps(config))
    assert OnnxReader(old).det_norm == "global"