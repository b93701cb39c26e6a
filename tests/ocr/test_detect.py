import numpy as np
import pytest

from cargoscan.ocr.detect import (boxes_from_heatmap, crop_line, detector_input, detector_target, local_contrast,
                                  normalise)

FRAME = (240, 640)
SIZE = (96, 240)


def test_target_keeps_stacked_lines_apart_and_boxes_come_back_in_reading_order():
    # two lines 20 px high with 8 px of leading: whole-line masks would touch at the heat map's resolution
    lines = [(400, 30, 490, 50), (330, 58, 520, 78)]
    target = detector_target(lines, FRAME, SIZE)[0]
    boxes = boxes_from_heatmap(target, FRAME)
    assert len(boxes) == 2
    (top, _), (bottom, _) = boxes
    assert top[1] < bottom[1]
    for (x0, y0, x1, y1), (b, _) in zip(lines, boxes):
        assert abs(b[0] - x0) <= 6 and abs(b[2] - x1) <= 6
        assert abs((b[1] + b[3]) / 2 - (y0 + y1) / 2) <= 6 and abs((b[3] - b[1]) - (y1 - y0)) <= 8


def test_a_line_broken_at_its_spaces_is_joined_and_blobs_are_dropped():
    prob = np.zeros((48, 120), np.float32)
    prob[10:13, 60:75] = 0.9     # CSQU
    prob[10:13, 78:100] = 0.9    # 305438, after a gap of three cells
    prob[30:40, 20:23] = 0.9     # a post: tall and narrow, not text
    boxes = boxes_from_heatmap(prob, FRAME)
    assert len(boxes) == 1
    (x0, _, x1, _), _ = boxes[0]
    assert x0 <= 60 * 640 / 120 + 1 and x1 >= 100 * 640 / 120 - 1


def test_crop_keeps_the_aspect_of_short_lines():
    gray = np.zeros(FRAME, np.float32)
    gray[40:60, 100:160] = np.random.default_rng(0).random((20, 60))   # a 3:1 textured block
    crop = crop_line(gray, (100, 40, 160, 60), (32, 256), pad=(0, 0, 0, 0))[0]
    used = np.nonzero(crop.std(axis=0) > 1e-6)[0]
    assert crop.shape == (32, 256)
    assert 88 <= used.max() + 1 <= 100              # 96 px wide at 32 px high, the rest left empty
    assert np.all(crop[:, 100:] == 0)


def _panel_with_lines(faint: float, strong: float, seed: int = 0) -> np.ndarray:
    """A detector-size panel: a faint line on the left half, a strong one on the right, sensor noise."""
    x = 0.5 + np.random.default_rng(seed).normal(0, 0.004, SIZE).astype(np.float32)
    for c0, amp in ((20, faint), (140, strong)):
        for k in range(8):                              # eight glyph-like bars, 3 px wide, 8 px high
            x[40:48, c0 + 10 * k: c0 + 10 * k + 3] += amp
    return x


def test_local_contrast_makes_faint_paint_stand_out_like_fresh_paint():
    x = _panel_with_lines(faint=0.06, strong=0.5)
    faint, strong = (np.abs(local_contrast(x)[40:48, c0: c0 + 80]).max() for c0 in (20, 140))
    assert faint > 0.5 * strong                        # measured locally, both lines are text (globally: 0.12)
    g = normalise(x)
    assert np.abs(g[40:48, 20:100]).max() < 0.25 * np.abs(g[40:48, 140:220]).max()   # frame-wide: faint is lost
    assert np.abs(local_contrast(x)[5:30]).max() < 1.0    # a flat noisy panel is not amplified into text


def test_local_contrast_ignores_lighting_level_and_detector_input_checks_its_norm():
    x = _panel_with_lines(faint=0.2, strong=0.4)
    night = 0.3 * x + 0.02                               # a darker, flatter exposure of the same panel
    a, b = local_contrast(x), local_contrast(night)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95
    frame = np.repeat(np.repeat(x, 2, 0), 2, 1)[: FRAME[0], : FRAME[1]]
    assert detector_input(frame, SIZE, "local").shape == (1, *SIZE)
    with pytest.raises(ValueError, match="unknown detector normalisation"):
        detector_input(frame, SIZE, "clahe")
