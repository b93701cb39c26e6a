import numpy as np

from cargoscan.ocr.config import FrameParams
from cargoscan.ocr.degrade import DEGRADATIONS, degrade, list_degradations, perspective
from cargoscan.ocr.frames import render_wagon_side


def test_each_degradation_keeps_shape_and_changes_the_image():
    frame = render_wagon_side(np.random.default_rng(0), "45488855")
    for name, (fn, _) in DEGRADATIONS.items():
        img, (box,) = fn(frame.image.astype(np.float32), [frame.bbox], np.random.default_rng(1), FrameParams())
        assert img.shape == frame.image.shape, name
        assert np.abs(img - frame.image).mean() > 0.05, name
        assert len(box) == 4 and box[0] < box[2] and box[1] < box[3], name


def test_perspective_moves_the_box_with_the_text():
    # A white box on black: after the warp the bright pixels must lie inside the transformed box.
    img = np.zeros((240, 640, 3), np.float32)
    img[100:130, 200:400] = 255
    out, [(x0, y0, x1, y1)] = perspective(img, [(200, 100, 400, 130)], np.random.default_rng(5), FrameParams())
    ys, xs = np.nonzero(out[..., 0] > 128)
    assert xs.min() >= x0 - 1 and xs.max() <= x1 and ys.min() >= y0 - 1 and ys.max() <= y1


def test_degrade_reports_what_it_applied():
    p = FrameParams(p_dirt=1, p_rust=0, p_blur=1, p_perspective=0, p_night=0, p_occlusion=0)
    frame = render_wagon_side(np.random.default_rng(0), "45488855")
    img, _, names = degrade(frame.image, frame.bbox, np.random.default_rng(0), p)
    assert names == ["dirt", "blur"] and img.dtype == np.uint8
    none = FrameParams(**{f: 0.0 for f in ("p_dirt", "p_rust", "p_blur", "p_perspective", "p_night", "p_occlusion")})
    assert degrade(frame.image, frame.bbox, np.random.default_rng(0), none)[2] == []
    assert set(list_degradations()) == {"dirt", "rust", "blur", "perspective", "night", "occlusion"}


def test_degrade_moves_every_line_box_and_keeps_a_single_box_a_box():
    p = FrameParams(p_dirt=0, p_rust=0, p_blur=0, p_perspective=1, p_night=0, p_occlusion=0)
    frame = render_wagon_side(np.random.default_rng(0), "45488855")
    boxes = [frame.bbox, (10, 10, 60, 30)]
    _, moved, _ = degrade(frame.image, boxes, np.random.default_rng(2), p)
    assert len(moved) == 2 and moved != boxes
    _, one, _ = degrade(frame.image, frame.bbox, np.random.default_rng(2), p)
    assert one == moved[0]
