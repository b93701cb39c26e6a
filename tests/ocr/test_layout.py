"""Chaining detected lines into identifiers, and restacking vertical codes."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cargoscan.ocr.layout import Line, follows_below, follows_on_row, is_vertical, reading_paths, restack


def line(x0, y0, x1, y1, chars):
    return Line((x0, y0, x1, y1), chars)


def test_two_line_code_is_chained_top_to_bottom():
    owner, serial = line(100, 50, 160, 70, 4), line(100, 75, 200, 95, 7)
    assert follows_below(owner, serial) and not follows_below(serial, owner)
    assert (0, 1) in reading_paths([owner, serial], 11)


def test_three_line_code_and_row_pieces():
    lines = [line(100, 50, 160, 70, 4), line(100, 75, 190, 95, 6), line(100, 100, 115, 120, 1)]
    assert (0, 1, 2) in reading_paths(lines, 11)
    groups = [line(10, 10, 90, 50, 4), line(120, 10, 200, 50, 4)]   # "5412 3456"
    assert follows_on_row(groups[0], groups[1])
    assert (0, 1) in reading_paths(groups, 8)


def test_far_or_mismatched_lines_are_not_chained():
    code = line(100, 50, 260, 70, 11)
    table = line(100, 300, 260, 320, 5)                  # the weight table, far below
    tiny = line(100, 72, 130, 78, 4)                      # CSC plate text: a third of the height
    assert not follows_below(code, table)
    assert not follows_below(code, tiny)
    paths = reading_paths([code, table, tiny], 11)
    assert paths == [(0,)]


def test_paths_respect_the_identifier_length():
    lines = [line(0, 0, 40, 20, 4), line(0, 25, 40, 45, 4), line(0, 50, 40, 70, 4)]
    assert (0, 1) in reading_paths(lines, 8)
    assert all(sum(lines[i].chars for i in p) <= 9 for p in reading_paths(lines, 8))
    assert reading_paths([line(0, 0, 10, 10, 0)], 8) == []


def _column(text: str, size: int = 28) -> np.ndarray:
    font = ImageFont.load_default(size=size)     # Pillow's bundled scalable font: no system fonts needed
    img = Image.new("RGB", (size + 10, (size + 8) * len(text) + 10), (30, 60, 140))
    draw = ImageDraw.Draw(img)
    for i, ch in enumerate(text):
        draw.text((6, 5 + i * (size + 8)), ch, fill=(240, 240, 240), font=font)
    return np.asarray(img)


def test_restack_lays_stacked_glyphs_in_a_row():
    column = _column("CSQU")
    assert is_vertical(column.shape[1], column.shape[0])
    row = restack(column)
    assert row is not None and row.shape[1] > 2 * row.shape[0]
    # Four glyphs: four runs of ink columns along the row.
    grey = row.mean(2)
    ink = (grey > grey.mean() + 30).any(0)
    runs = np.count_nonzero(np.diff(ink.astype(int)) == 1) + int(ink[0])
    assert runs == 4


def test_restack_refuses_a_blank_column():
    assert restack(np.full((120, 30, 3), 128, np.uint8)) is None


def test_boxed_glyph_finds_a_framed_digit_and_ignores_plain_text():
    from cargoscan.ocr.layout import boxed_glyph

    img = Image.new("RGB", (90, 60), (150, 40, 35))
    draw = ImageDraw.Draw(img)
    draw.rectangle((30, 6, 66, 54), outline=(240, 240, 240), width=3)      # the check digit's frame
    draw.text((38, 12), "7", fill=(240, 240, 240), font=ImageFont.load_default(size=34))
    inner = boxed_glyph(np.asarray(img))
    assert inner is not None
    grey = inner.mean(2)
    ring = np.concatenate([grey[:3].ravel(), grey[-3:].ravel(), grey[:, :3].ravel(), grey[:, -3:].ravel()])
    assert ring.max() < 150                                                # the frame is cut away ...
    assert (grey > 200).any()                                              # ... the digit is kept
    plain = Image.new("RGB", (90, 60), (150, 40, 35))
    ImageDraw.Draw(plain).text((10, 10), "45", fill=(240, 240, 240), font=ImageFont.load_default(size=34))
    assert boxed_glyph(np.asarray(plain)) is None


def test_a_line_read_past_its_end_only_ends_a_chain():
    owner, rest = line(100, 50, 160, 70, 2), line(165, 50, 260, 70, 9)
    owner_wide = Line(owner.box, 3, tail=True)            # "CM" read wider took in the next piece's first glyph
    assert (0, 1) in reading_paths([owner, rest], 11)
    assert reading_paths([owner_wide, rest], 11) == [(1,)]  # not (0, 1): 3 + 9 characters would fit
