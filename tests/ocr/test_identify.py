import json

import numpy as np
import pytest
from conftest import FIXTURE_MODEL, clean_params

from cargoscan.ids import is_valid_container, is_valid_wagon, make_container_number, make_wagon_number
from cargoscan.ocr.frames import render_degraded, write_frames
from cargoscan.ocr.fusion import OcrResult
from cargoscan.ocr.identify import build_records, load_frame, read_rfid

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
        assert res.number is None and res.reason == "no_text"
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
        assert w["status"] in {"confirmed", "ocr_only", "rfid_only", "conflict", "unreadable"}
        if w["number"] is not None:
            assert is_valid_wagon(w["number"])
        assert w["status"] != "conflict" or w["number"] is None
        for c in r["containers"]:
            assert c["number"] is None or is_valid_container(c["number"])
    assert by_pos[1]["wagon"]["number"] in ("45488855", None)
    assert by_pos[3]["wagon"]["status"] == "rfid_only"     # only the tag; the frame was corrupt
    assert by_pos[3]["wagon"]["number"] == "62345673"


def test_build_records_without_frames_uses_rfid_positions():
    rfid = {("T1", 4): ["45488855"], ("T1", 5): ["garbage"]}
    recs = build_records({("T1", 4): {"wagon": OcrResult(None, None, 0.0, "no_text"), "containers": {}}}, rfid)
    assert [r["wagon"]["status"] for r in recs] == ["rfid_only", "unreadable"]


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
    from cargoscan.ocr.config import OcrParams
    from cargoscan.ocr.decode import greedy
    from cargoscan.ocr.fusion import OcrResult, correct
    from cargoscan.ocr.identify import OcrEngine
    from ocr_helpers import confident, ctc_output

    code = "TGHU1925614"                       # Q passes the check digit as well as G
    first = confident(code)
    first[1] = {"G": 0.7, "Q": 0.3}
    res = correct(greedy(ctc_output(first)), "container")
    assert res.reason == "ambiguous"
    wider = confident(code)
    wider[1] = second
    engine = OcrEngine.__new__(OcrEngine)      # the networks are replaced by the two views' outputs
    engine.params = OcrParams()
    engine._read_lines = lambda *a, **k: ([OcrResult(None, "", 0.0, "read", {}, ctc_output(wider))], [(0, 1)])
    out = engine._second_view(np.zeros((8, 8), np.float32), [(0, 0, 8, 8)], res, "container")
    assert (out.number == code) if accepted else (out.number is None and out.reason == "ambiguous")


def test_row_unions_span_pieces_side_by_side_but_not_stacked_lines():
    from cargoscan.ocr.identify import row_unions

    pieces = [(362, 76, 458, 98), (506, 78, 592, 99)]        # one painted row, broken in two by the heat map
    assert row_unions(pieces) == [(362, 76, 592, 99)]
    stacked = [(100, 130, 300, 160), (100, 170, 300, 200)]       # an owner code over its serial: two lines
    assert row_unions(stacked) == []
    assert row_unions(pieces + stacked) == [(362, 76, 592, 99)]


@pytest.mark.parametrize("veto_text, accepted", [("CSQU3054383", True), ("GSQU3054383", False)])
def test_a_clipped_edge_is_read_again_cut_wider_and_checked_by_a_third_cut(veto_text, accepted):
    from cargoscan.ocr.config import OcrParams
    from cargoscan.ocr.decode import greedy
    from cargoscan.ocr.fusion import OcrResult, correct
    from cargoscan.ocr.identify import OcrEngine
    from ocr_helpers import confident, ctc_output

    code = "CSQU3054383"
    params = OcrParams()
    wide, veto = (tuple(p) for p in params.clip_pads)
    # GSQU3054383 fails its check digit: the third cut's likeliest valid number is then some other one.
    views = {wide: ctc_output(confident(code)), veto: ctc_output(confident(veto_text))}
    engine = OcrEngine.__new__(OcrEngine)
    engine.params = params

    def read_lines(gray, boxes, pad, kind, join_all=False):
        return [correct(greedy(views[pad]), kind, params.fusion)], [(0, 1)]

    engine._read_lines = read_lines
    refused = OcrResult(None, "SQU3054383", 0.0, "too_doubtful")
    out = engine._unclipped(np.zeros((8, 8), np.float32), [(0, 0, 8, 8)], refused, "container")
    assert (out.number == code) if accepted else out is refused


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
    assert one["views"][("side", 1)].reason == "no_text"
    assert one["views"][("side", 2)].number == "45488855"
    assert one["wagon"].number == "45488855"


def test_ocr_eval_counts_identifiers_and_frames(tmp_path):
    from cargoscan.ocr.evaluate import evaluate

    frames = _two_camera_frames(tmp_path)
    m = evaluate(frames, None, FIXTURE_MODEL, clean_params())
    assert m["cameras"] == 2 and m["identifiers"] == 2 and m["frames"] == 4
    assert m["wrong_accepted_ocr"] == 0 and m["wrong_accepted_frames"] == 0
    # With no view wrong, combining can only add readings: per identifier at least as good as per frame.
    assert m["ocr_accuracy_wagon"] >= m["frame_accuracy_wagon"] > 0


@pytest.mark.parametrize("veto_text, accepted", [("CSQU3054383", True), ("CSQU3054388", False)])
def test_lines_with_nothing_valid_are_read_again_cut_wider_line_by_line(veto_text, accepted):
    from cargoscan.ocr.config import OcrParams
    from cargoscan.ocr.decode import greedy
    from cargoscan.ocr.fusion import correct
    from cargoscan.ocr.identify import OcrEngine
    from ocr_helpers import confident, ctc_output

    code = "CSQU3054383"
    params = OcrParams()
    wide, veto = (tuple(p) for p in params.clip_pads)
    engine = OcrEngine.__new__(OcrEngine)
    engine.params = params
    asked = []

    def read_lines(gray, boxes, pad, kind, join_all=False):
        asked.append((pad, list(boxes), join_all))
        if pad == veto:
            return [correct(greedy(ctc_output(confident(veto_text))), kind, params.fusion)], [(0, len(boxes))]
        # Cut wider, the second line (the code with its boxed check digit back) reads; the first is a size-type.
        lines = [correct(greedy(ctc_output(confident(t))), kind, params.fusion) for t in ("22G1", code)]
        return lines, [(0, 1), (1, 2)]

    engine._read_lines = read_lines
    refused = correct(greedy(ctc_output(confident("CSQU305438"))), "container", params.fusion)
    assert refused.number is None
    boxes = [(0, 0, 8, 4), (0, 4, 8, 8)]
    out = engine._unclipped(np.zeros((8, 8), np.float32), boxes, refused, "container", join_all=False)
    assert (out.number == code) if accepted else out is refused
    assert asked[0] == (wide, boxes, False)
    assert asked[1] == (veto, [boxes[1]], True)          # the check reads only the lines that won


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


def test_a_faint_heat_map_is_read_again_less_strictly(monkeypatch):
    import cargoscan.ocr.identify as ident
    from cargoscan.ocr.config import OcrParams
    from cargoscan.ocr.identify import OcrEngine

    class Detector:
        def run(self, _, feeds):
            return [np.zeros((1, 1, 48, 120), np.float32)]

    engine = OcrEngine.__new__(OcrEngine)
    engine.params, engine.det_input, engine.det_norm, engine.det = OcrParams(), (96, 240), "local", Detector()
    thresholds = []

    def boxes(prob, shape, threshold=0.5, max_boxes=3):
        thresholds.append(threshold)
        return [("strict" if threshold == 0.5 else "loose", 1.0)]

    monkeypatch.setattr(ident, "boxes_from_heatmap", boxes)
    refused = OcrResult(None, "CSQU305438", 0.0, "no_valid_candidate")
    readings = {"strict": refused, "loose": OcrResult("CSQU3054383", "CSQU3054383", 0.99, "read")}
    engine._read_boxes = lambda gray, b, kind: readings[b[0][0]]
    image = np.random.default_rng(0).integers(0, 256, (240, 640, 3), dtype=np.uint8)
    assert engine.read(image, "container").number == "CSQU3054383"        # the whole line, found less strictly
    assert thresholds == [0.5, 0.3]
    readings["loose"] = OcrResult(None, "SQU3", 0.0, "no_valid_candidate")
    assert engine.read(image, "container") is refused                      # nothing better: the first refusal
    thresholds.clear()
    readings["strict"] = OcrResult(None, "CSQU3054383", 0.0, "ambiguous")   # a near rival is not looked past
    assert engine.read(image, "container").reason == "ambiguous" and thresholds == [0.5]


def test_a_model_without_det_norm_is_read_with_the_global_normalisation_it_was_trained_on(tmp_path):
    import json
    import shutil

    from cargoscan.ocr.identify import OcrEngine

    old = tmp_path / "model"
    shutil.copytree(FIXTURE_MODEL, old)
    config = json.loads((old / "config.json").read_text())
    assert OcrEngine(FIXTURE_MODEL).det_norm == config["det_norm"] == "local"
    del config["det_norm"]
    (old / "config.json").write_text(json.dumps(config))
    assert OcrEngine(old).det_norm == "global"
