import numpy as np

from cargoscan.ocr.detect import boxes_from_heatmap, crop_line, detector_target

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
