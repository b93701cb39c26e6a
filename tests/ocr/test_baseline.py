import numpy as np
import pytest

from cargoscan.ids import is_valid_wagon
from cargoscan.ocr.baseline import correct_string
from cargoscan.ocr.config import FrameParams
from cargoscan.ocr.frames import render_container_door, render_wagon_side


def test_plain_string_correction_uses_format_and_check_digit():
    assert correct_string("CSQU3054383", "container") == "CSQU3054383"
    assert correct_string("C5QU3O54383", "container") == "CSQU3054383"     # S->5 in the owner code, O->0
    assert correct_string("4548885S", "wagon") == "45488855"
    assert correct_string("4548885", "wagon") is None                     # wrong length
    bad = "45488856"                                                       # fails Luhn, no confusable fix
    fixed = correct_string(bad, "wagon")
    assert fixed is None or is_valid_wagon(fixed)


@pytest.mark.slow
def test_packaged_ocr_reads_a_clean_frame_offline(monkeypatch):
    # No importorskip: `make setup` installs the baseline, and a missing one must fail here, not hide.
    from cargoscan.ocr.baseline import BaselineOcr

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rng = np.random.default_rng(0)
    clean = FrameParams(p_stencil=0)
    base = BaselineOcr()
    assert base.read(render_wagon_side(rng, "45488855", "covered", clean).image, "wagon").number in ("45488855", None)
    door = render_container_door(rng, "CSQU3054383", clean)
    res = base.read(door.image, "container")
    assert res.number in ("CSQU3054383", None)
    assert base.read(np.zeros((240, 640, 3), np.uint8), "wagon").number is None
