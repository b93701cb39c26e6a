"""The regression corpus: named hard cases the scene-text reader must get right, each drawn by hand.

Each case is a small deterministic picture of one situation that once failed, or that real doors and wagons
show and a rule exists for. Held-out sets are never tuned on (:mod:`cargoscan.ocr.scenesets`); these are.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import cargoscan.ocr
from cargoscan.ids.container import make_container_number
from cargoscan.ids.wagon import make_wagon_number

FONT = Path(cargoscan.ocr.__file__).parent / "fonts" / "RobotoCondensed-Bold.ttf"
BODY, PAINT = (38, 72, 140), (236, 236, 230)


def _canvas(size=(640, 360)) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", size, BODY)
    draw = ImageDraw.Draw(img)
    for x in range(0, size[0], 24):                       # corrugation: a darker band every other rib
        draw.rectangle((x, 0, x + 11, size[1]), fill=tuple(int(c * 0.88) for c in BODY))
    return img, draw


def _text(draw, xy, text, size=36):
    draw.text(xy, text, fill=PAINT, font=ImageFont.truetype(str(FONT), size))


def _boxed(draw, xy, digit, size=36):
    x, y = xy
    _text(draw, (x + 6, y), digit, size)
    draw.rectangle((x, y + 2, x + int(0.62 * size), y + int(1.12 * size)), outline=PAINT, width=3)


def boxed_digit_apart(code):
    img, draw = _canvas()
    _text(draw, (300, 40), f"{code[:4]} {code[4:10]}")
    _boxed(draw, (560, 40), code[10])
    _text(draw, (420, 100), "45G1")
    return img


def two_lines_tight(code):
    img, draw = _canvas()
    _text(draw, (420, 30), code[:4], 40)
    _text(draw, (420, 68), f"{code[4:10]}", 40)         # little leading: the detector's boxes overlap
    _boxed(draw, (555, 68), code[10], 40)
    return img


def three_lines(code):
    img, draw = _canvas()
    _text(draw, (460, 30), code[:4])
    _text(draw, (460, 74), code[4:10])
    _boxed(draw, (460, 118), code[10])
    _text(draw, (40, 40), "MAX GROSS 30,480 KG", 28)
    return img


def vertical_with_type(code):
    img, draw = _canvas((200, 760))
    for i, ch in enumerate(code + "L5G1"):
        _text(draw, (90, 8 + i * 49), ch, 40)
    return img


def weight_table_only(_code):
    img, draw = _canvas()
    for i, line in enumerate(["MAX GROSS 30,480 KG", "67,200 LB", "TARE 3,750 KG", "NET 26,730 KG",
                              "CU.CAP 67.7 CU.M"]):
        _text(draw, (40, 20 + 60 * i), line, 34)
    return img


def company_name_only(_code):
    img, draw = _canvas()
    _text(draw, (40, 120), "FUFU LOGISTICS", 64)
    return img


CONTAINER_CASES = {
    "boxed check digit set apart from the serial": (boxed_digit_apart, True),
    "two lines, boxes overlapping": (two_lines_tight, True),
    "three lines, check digit boxed below": (three_lines, True),
    "vertical on a post, size type below": (vertical_with_type, True),
    "weight table, no code": (weight_table_only, False),
    "company name that coerces into a code": (company_name_only, False),
}


def wagon_in_two_groups(number):
    img, draw = _canvas((720, 300))
    _text(draw, (120, 60), f"{number[:4]}  {number[4:]}", 72)
    _text(draw, (120, 170), "ГП 69,5 т  ТАРА 24,7", 30)
    return img


def wagon_with_smaller_valid_code(number):
    img, draw = _canvas((720, 300))
    _text(draw, (120, 40), number, 72)
    okpo = make_wagon_number("covered", np.random.default_rng(int(number)))   # a smaller valid 8-digit code
    _text(draw, (120, 200), f"ОКПО {okpo}", 26)
    return img


WAGON_CASES = {
    "wagon number in two groups": wagon_in_two_groups,
    "wagon number above a smaller valid code": wagon_with_smaller_valid_code,
}


@pytest.fixture(scope="module")
def reader():
    pytest.importorskip("rapidocr_onnxruntime")           # third-party wheel with the scene-text networks
    from cargoscan.ocr.reader import SceneTextReader

    return SceneTextReader()


@pytest.mark.parametrize("name", sorted(CONTAINER_CASES))
def test_container_case(reader, name):
    draw, readable = CONTAINER_CASES[name]
    code = make_container_number(np.random.default_rng(zlib.crc32(name.encode())))   # fixed per case
    res = reader.read(np.asarray(draw(code)), "container")
    if readable:
        assert res.number == code, (name, res.raw, res.reason)
    else:
        assert res.number is None, (name, res.number)


@pytest.mark.parametrize("name", sorted(WAGON_CASES))
def test_wagon_case(reader, name):
    number = make_wagon_number("gondola", np.random.default_rng(7))
    res = reader.read(np.asarray(WAGON_CASES[name](number)), "wagon")
    assert res.number == number, (name, res.raw, res.reason)
