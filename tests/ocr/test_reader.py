"""The scene-text reader over injected networks: layouts joined, the most prominent number, refusals, cascade."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.ids.container import make_container_number
from cargoscan.ids.wagon import make_wagon_number
from cargoscan.ocr.fusion import OcrResult
from cargoscan.ocr.policy import Reason
from cargoscan.ocr.reader import CascadeReader, SceneTextReader
from tests.ocr.ocr_helpers import confident, ctc_output


class PaintedScene:
    """A grey image with solid coloured boxes; each colour stands for the text a fake recogniser reads there."""

    def __init__(self, size=(400, 600)):
        self.image = np.full((*size, 3), 90, np.uint8)
        self.texts: dict[tuple[int, int, int], str] = {}
        self.quads: list[np.ndarray] = []

    def paint(self, text: str, x0: int, y0: int, x1: int, y1: int) -> None:
        colour = (20 + 10 * len(self.texts), 200, 30 + 5 * len(self.texts))
        self.image[y0:y1, x0:x1] = colour
        self.texts[colour] = text
        self.quads.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))

    def detector(self, image, side=None):
        return [(q, 0.9) for q in self.quads]

    def recognizer(self):
        texts = self.texts

        class Fake:
            def logprobs(self, crops):
                out = []
                for crop in crops:
                    # A crop read past its line's end (or turned) shows the line at its centre-left.
                    c = tuple(int(v) for v in crop[crop.shape[0] // 2, crop.shape[1] // 3])
                    out.append(ctc_output(confident(texts.get(c, "")) if c in texts else []))
                return out

        return Fake()

    def reader(self):
        return SceneTextReader(networks=(self.detector, self.recognizer()))


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_two_line_container_code_is_joined(rng):
    code = make_container_number(rng)
    scene = PaintedScene()
    scene.paint(code[:4], 400, 40, 480, 70)
    scene.paint(code[4:], 400, 78, 540, 108)
    scene.paint("MAXGROSS", 40, 250, 200, 270)          # the weight table: other text, not the code
    res = scene.reader().read(scene.image, "container")
    assert res.number == code


def test_the_tallest_valid_wagon_number_wins_and_a_near_rival_is_refused(rng):
    number, okpo = make_wagon_number("covered", rng), make_wagon_number("covered", rng)
    scene = PaintedScene()
    scene.paint(number, 100, 100, 420, 160)             # 60 px digits
    scene.paint(okpo, 100, 300, 200, 318)               # the owner's code, small
    assert scene.reader().read(scene.image, "wagon").number == number

    scene = PaintedScene()
    scene.paint(number, 100, 100, 420, 160)
    scene.paint(okpo, 100, 250, 400, 305)               # a second number painted as large
    res = scene.reader().read(scene.image, "wagon")
    assert res.number is None and res.reason == "ambiguous"


def test_nothing_valid_is_refused_and_a_blank_frame_has_no_text(rng):
    scene = PaintedScene()
    scene.paint("45G1", 100, 100, 200, 130)
    res = scene.reader().read(scene.image, "container")
    assert res.number is None and res.reason != "read"
    assert scene.reader().read(np.full((100, 100, 3), 128, np.uint8), "container").reason == "no_text"
    assert scene.reader().read(None, "wagon").reason == "no_text"


class CountingEngine:
    def __init__(self, result):
        from cargoscan.ocr.config import OcrParams

        self.result, self.params, self.calls = result, OcrParams(), 0

    def read(self, image, kind):
        self.calls += 1
        return self.result


class CountingScene:
    def __init__(self, result):
        self.result, self.calls = result, 0

    def read(self, image, kind):
        self.calls += 1
        return self.result


def test_cascade_asks_the_scene_reader_after_a_refusal_and_trusts_a_plain_container_code():
    image = np.random.default_rng(0).integers(0, 255, (50, 50, 3), dtype=np.uint8)
    accepted = OcrResult("CSQU3054383", "CSQU3054383", 0.99, "read")
    refused = OcrResult(None, "1234", 0.0, "no_valid_candidate")
    scene = CountingScene(OcrResult("87654321", "87654321", 0.9, "read"))
    assert CascadeReader(CountingEngine(accepted), scene).read(image, "container").number == "CSQU3054383"
    assert scene.calls == 0                              # a container code read as it stands: no second look
    assert CascadeReader(CountingEngine(refused), scene).read(image, "wagon").number == "87654321"
    assert scene.calls == 1
    # Both refuse: the first refusal (our engine's reason) stands.
    both = CascadeReader(CountingEngine(refused), CountingScene(OcrResult(None, None, 0.0, "no_text")))
    assert both.read(image, "wagon").reason == "no_valid_candidate"


IMAGE = np.random.default_rng(0).integers(0, 255, (50, 50, 3), dtype=np.uint8)


@pytest.mark.parametrize("second, accepted", [("48481667", False), (None, False), ("84816677", True)])
def test_a_correction_by_our_engine_stands_only_if_the_second_reader_reads_it_too(second, accepted):
    """Our engine read 8481667T on a realistic frame (a line cut short) and corrected it to 84816677, which
    passes the check digit; the scene-text reader read the wagon's real number. A correction has spent the check
    digit, so only the same number from the second reader confirms it."""
    ours = OcrResult("84816677", "8481667T", 0.9, "corrected")
    scene = CountingScene(OcrResult(second, second, 0.9 if second else 0.0, "read" if second else "no_text"))
    res = CascadeReader(CountingEngine(ours), scene).read(IMAGE, "wagon")
    assert scene.calls == 1
    assert res.number == ("84816677" if accepted else None)
    assert res.reason == (Reason.CORRECTED if accepted else Reason.UNCONFIRMED)
    check = res.trace[-1]
    assert check.rule == "second_reader" and check.passed == accepted
    assert check.achieved == {"48481667": -1.0, None: 0.0, "84816677": 1.0}[second] and check.needed == 1.0


@pytest.mark.parametrize("second, accepted", [("42989897", False), (None, True), ("42844035", True)])
def test_a_wagon_number_read_as_it_stands_is_refused_when_the_second_reader_reads_another(second, accepted):
    """Our engine read a wagon side's ОКПО code 42844035 (8 digits, and it passes the mod-10 check digit) where
    the number is 42989897: a second reader that accepts another number refuses it; one that reads nothing
    leaves it."""
    ours = OcrResult("42844035", "42844035", 0.9, "read")
    scene = CountingScene(OcrResult(second, second, 0.9 if second else 0.0, "read" if second else "no_text"))
    res = CascadeReader(CountingEngine(ours), scene).read(IMAGE, "wagon")
    assert res.number == ("42844035" if accepted else None)
    assert res.reason == (Reason.READ if accepted else Reason.UNCONFIRMED)
    assert res.trace[-1].needed == 0.0 and (res.trace[-1].achieved >= 0.0) == accepted


def test_a_word_coerced_into_a_number_is_not_accepted():
    from cargoscan.ocr.reader import MIN_NATS_PER_CHAR, plausible

    sure = OcrResult("CSQU3054383", "CSQU3054383", 0.99, "read", {"CSQU3054383": -0.4})
    kept = plausible(sure)
    assert kept.number == sure.number and kept.trace[-1].rule == "likelihood_floor" and kept.trace[-1].passed
    coerced = OcrResult("FUFU1061811", "FUFULOGISTI", 0.99, "corrected", {"FUFU1061811": -69.0})
    assert -69.0 < MIN_NATS_PER_CHAR * 11
    res = plausible(coerced)
    assert res.number is None and res.reason == "low_confidence"
    assert res.trace[-1].achieved == pytest.approx(-69.0 / 11) and not res.trace[-1].passed


def test_ctc_windows_cut_a_long_line_into_runs_of_the_identifier():
    from cargoscan.ocr.decode import greedy
    from cargoscan.ocr.reader import ctc_windows

    lp = ctc_output(confident("CMAU6499669L5G1"))
    windows = ctc_windows(lp, 11)
    assert [greedy(w).text for w in windows] == ["CMAU6499669", "MAU6499669L", "AU6499669L5", "U6499669L5G",
                                                  "6499669L5G1"]
    assert ctc_windows(ctc_output(confident("CSQU3054383")), 11) == []        # not longer: nothing to cut
    assert ctc_windows(ctc_output(confident("A" * 30)), 11) == []             # far longer: a table, not a code


def test_a_code_inside_a_longer_line_is_read(rng):
    code = make_container_number(rng)
    scene = PaintedScene()
    scene.paint(code + "45G1", 300, 60, 580, 90)
    assert scene.reader().read(scene.image, "container").number == code


def test_readers_are_created_by_name():
    from cargoscan.ocr.identify import create_reader, list_readers

    assert list_readers() == ["cascade", "ours", "scene"]
    with pytest.raises(ValueError, match="unknown OCR reader"):
        create_reader("tesseract", None)
