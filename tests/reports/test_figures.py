import numpy as np
import pandas as pd

from cargoscan.reports import figures as F


def _scan():
    img = np.full((2, 40, 2000), 60000, dtype=np.uint16)
    img[:, 10:30, 100:1900] = 20000
    mask = np.zeros((40, 2000), dtype=np.uint8)
    mask[12:20, 200:260] = 5
    return img, mask


def test_save_is_deterministic_and_small(tmp_path):
    img, mask = _scan()
    boxes = pd.DataFrame([{"class": "drugs", "score": 0.9, "x0": 190, "y0": 10, "x1": 270, "y1": 22}])
    paths = []
    for d in ("a", "b"):
        fig = F.gallery([{"image": img, "mask": mask, "boxes": boxes, "title": "t"}] * 3)
        paths.append(F.save(fig, "g", tmp_path / d, dpi=50))
    a, b = (p.read_bytes() for p in paths)
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(a) < 200_000


def test_long_scans_are_decimated_for_display():
    img, _ = _scan()
    t, step = F._display_image(img)
    assert t.shape[1] <= F.MAX_DISPLAY_COLUMNS and step == 3


def test_confusion_and_roc_figures_build(tmp_path):
    cm = pd.DataFrame([[3, 1], [0, 2]], index=["a", "b"], columns=["a", "b"])
    F.save(F.confusion(cm, "cm"), "cm", tmp_path)
    F.save(F.roc({"x": ([0, 0.5, 1], [0, 0.9, 1])}, (0.5, 0.9)), "roc", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png", "roc.png"]
