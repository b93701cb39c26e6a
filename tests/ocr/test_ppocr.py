"""The packaged PP-OCRv4 networks: folding their symbols into our alphabet, quads, and reading a real line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from cargoscan.ocr.decode import greedy
from cargoscan.ocr.model import ALPHABET
from cargoscan.ocr.ppocr import Folding, order_quad, quad_size, rectify


def test_folding_maps_case_and_width_variants_and_blanks_the_rest():
    symbols = ["a", "A", "Ｏ", "7", "中", "-", "o"]
    fold = Folding(symbols)
    probs = np.zeros((4, len(symbols) + 2), np.float32)
    probs[0, 1] = probs[0, 2] = 0.5          # "a" and "A": both A
    probs[1, 3] = 1.0                        # full-width O
    probs[2, 5] = 0.7                        # a Chinese symbol: not ours
    probs[2, 6] = 0.3                        # a dash: not ours
    probs[3, 0] = 1.0                        # the recogniser's blank
    out = np.exp(fold(probs))
    assert out.shape == (4, len(ALPHABET) + 1)
    assert out[0, ALPHABET.index("A") + 1] == pytest.approx(1.0)
    assert out[1, ALPHABET.index("O") + 1] == pytest.approx(1.0)
    assert out[2, 0] == pytest.approx(1.0) and out[3, 0] == pytest.approx(1.0)
    assert np.allclose(out.sum(1), 1.0, atol=1e-4)


def test_order_quad_and_size():
    quad = np.array([[50, 20], [10, 30], [12, 10], [48, 0]], np.float32)   # shuffled corners
    tl, tr, br, bl = order_quad(quad)
    assert tuple(tl) == (12, 10) and tuple(br) == (50, 20)
    assert tr[0] > tl[0] and bl[1] > tl[1]
    w, h = quad_size(order_quad(np.array([[0, 0], [40, 0], [40, 10], [0, 10]], np.float32)))
    assert (w, h) == (40, 10)


def test_rectify_turns_a_rotated_line_upright():
    img = np.zeros((200, 200, 3), np.uint8)
    angle = np.deg2rad(30)
    along, down = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    tl = np.array([40.0, 40.0])
    quad = np.array([tl, tl + 100 * along, tl + 100 * along + 20 * down, tl + 20 * down], np.float32)
    import cv2
    cv2.fillPoly(img, [quad.astype(np.int32)], (255, 255, 255))
    crop = rectify(img, quad, pad=0.0)
    assert crop.shape[1] > 4 * crop.shape[0]                # upright: wide, not tall
    assert crop[2:-2, 3:-3].mean() > 200                     # and the line fills it


@pytest.fixture(scope="module")
def networks():
    pytest.importorskip("rapidocr_onnxruntime")           # third-party wheel (a project dependency in setup)
    from cargoscan.ocr.ppocr import default_networks

    return default_networks()


def _painted(text: str, size: int = 40) -> np.ndarray:
    img = Image.new("RGB", (40 + size * len(text), 3 * size), (25, 70, 150))
    ImageDraw.Draw(img).text((20, size), text, fill=(245, 245, 245), font=ImageFont.load_default(size=size))
    return np.asarray(img)


def test_packaged_networks_find_and_read_a_painted_line(networks):
    detector, recognizer = networks
    image = _painted("CSQU 305438 3")
    found = detector(image)
    assert found, "the detector found no text"
    quad = max(found, key=lambda qs: quad_size(qs[0])[0])[0]
    assert quad_size(quad)[0] > quad_size(quad)[1] * 4
    (lp,) = recognizer.logprobs([rectify(image, quad)])
    assert lp.shape[1] == len(ALPHABET) + 1
    assert greedy(lp).text == "CSQU3054383"


def test_a_tight_crop_of_a_vertical_code_is_read(networks):
    from cargoscan.ids.container import make_container_number
    from cargoscan.ocr.reader import SceneTextReader

    code = make_container_number(np.random.default_rng(8))
    font = ImageFont.load_default(size=36)
    img = Image.new("RGB", (56, 44 * 11 + 10), (40, 70, 150))
    draw = ImageDraw.Draw(img)
    for i, ch in enumerate(code):                        # upright glyphs stacked down a corner post
        draw.text((28, 6 + i * 44), ch, fill=(235, 235, 235), font=font, anchor="mt")
    res = SceneTextReader(networks=networks).read(np.asarray(img), "container")
    assert res.number == code


def test_photos_are_turned_upright_by_their_exif_orientation(tmp_path):
    from cargoscan.ocr.identify import load_frame

    img = Image.new("RGB", (120, 40), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6                                      # "rotate 90° clockwise to view"
    img.save(tmp_path / "phone.jpg", exif=exif)
    assert load_frame(tmp_path / "phone.jpg").shape[:2] == (120, 40)
    assert load_frame(tmp_path / "missing.jpg") is None
