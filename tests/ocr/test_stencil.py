import numpy as np
import pytest

from cargoscan.ocr.stencil import list_fonts, render_line


@pytest.mark.parametrize("font", list_fonts())
def test_every_font_renders_ink_of_the_requested_height(font):
    mask = render_line("45488855", font, height=30)
    rows = np.nonzero(mask.max(axis=1) > 0.5)[0]
    assert mask.dtype == np.float32 and 0 <= mask.min() and mask.max() <= 1
    assert 24 <= rows[-1] - rows[0] + 1 <= 40        # the digits' height, within the font's design
    assert mask.shape[1] > 4 * 30                    # eight digits are wide


def test_stencil_bridges_cut_closed_strokes_but_not_stems():
    plain0, cut0 = render_line("0", height=60), render_line("0", height=60, stencil=True)
    assert cut0.sum() < plain0.sum() * 0.98           # the 0 is broken at top and bottom
    assert (cut0 <= plain0 + 1e-6).all()              # stencilling only removes ink
    plain1, cut1 = render_line("1", height=60), render_line("1", height=60, stencil=True)
    stem = plain1.shape[1] // 2
    # the 1's vertical stem keeps its ink in the middle rows
    mid = slice(plain1.shape[0] // 3, 2 * plain1.shape[0] // 3)
    assert np.allclose(cut1[mid, stem - 2: stem + 3], plain1[mid, stem - 2: stem + 3])


def test_boxed_check_digit_adds_a_frame_and_spaces_add_width():
    assert render_line("CSQU 305438 3", box_last=True).sum() > render_line("CSQU 305438 3").sum()
    assert render_line("4548 8855").shape[1] > render_line("45488855").shape[1]


def test_unknown_font_is_refused():
    with pytest.raises(ValueError, match="unknown font"):
        render_line("1", font="comic")
