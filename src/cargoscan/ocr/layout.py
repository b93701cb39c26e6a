"""Layout: which detected text lines, read in which order, can spell one identifier.

A real door carries a dozen markings, and its code is painted in one of several ways (ISO 6346 leaves the layout
free): ``CSQU 305438 3`` on one line, the owner code over the serial (two lines), owner / serial / check digit
(three lines), or the glyphs stacked upright down a corner post. A wagon number may be painted in two groups
(``5412 3456``). A scene-text detector returns each piece as its own line; here the pieces are chained in
reading order by geometry alone:

* **row**: the next piece to the right on the same row, close and of similar height;
* **below**: the next piece under it, overlapping it horizontally, with at most about one line height between.

Every path through those links (up to the identifier's length in characters) is one candidate reading; the
reader scores all of them with the same grammar-constrained decoding, so the layout never has to be guessed.
A vertical line (glyphs stacked upright in one tall box) is restacked into a row first (:func:`restack`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Line:
    """A detected text line: its axis-aligned box in the image, its greedy reading's length, its lettering."""

    box: tuple[float, float, float, float]    # x0, y0, x1, y1
    chars: int                                # characters of the greedy reading (0: nothing of ours)
    lettering: float = 0.0                    # the glyphs' height in pixels (0: the box's height)
    alone: bool = False                       # read on its own only (a vertical column), never chained
    tail: bool = False                        # read past its end: may end a chain, never be followed

    @property
    def height(self) -> float:
        return self.lettering or self.box[3] - self.box[1]


def box_of(quad: np.ndarray) -> tuple[float, float, float, float]:
    """The axis-aligned box around a quad."""
    return float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max())


#: Two pieces of one identifier have heights within this ratio of each other.
HEIGHT_RATIO = 2.0
#: Gap allowed between pieces on one row, in line heights (a wagon number painted in two groups, a boxed check
#: digit set apart).
ROW_GAP = 2.0
#: Gap allowed between a piece and the one below it, in line heights.
LINE_GAP = 1.2


def _similar(a: Line, b: Line) -> bool:
    return max(a.height, b.height) <= HEIGHT_RATIO * max(1.0, min(a.height, b.height))


def follows_on_row(a: Line, b: Line) -> bool:
    """``b`` continues ``a`` to its right on the same row."""
    h = max(a.height, b.height)
    overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    gap = b.box[0] - a.box[2]
    return _similar(a, b) and overlap > 0.5 * min(a.height, b.height) and -0.5 * h < gap < ROW_GAP * h


def follows_below(a: Line, b: Line) -> bool:
    """``b`` is the next line under ``a`` (horizontally overlapping, at most :data:`LINE_GAP` heights down)."""
    h = max(a.height, b.height)
    # By the lines' centres, not their edges: a detector's boxes run taller than the ink and may overlap.
    step = (b.box[1] + b.box[3]) / 2 - (a.box[1] + a.box[3]) / 2
    slack = 0.5 * h
    overlap = min(a.box[2], b.box[2]) + slack - (max(a.box[0], b.box[0]) - slack)
    return _similar(a, b) and 0.6 * h < step < (1 + LINE_GAP) * h and overlap > 0


def reading_paths(lines: list[Line], length: int, stacked: bool = True) -> list[tuple[int, ...]]:
    """Every chain of lines in reading order whose greedy readings could together spell ``length`` characters.

    Single lines are paths too. A path may run short by two characters (the decoder puts back what the best path
    skipped) or long by one. ``stacked``: an identifier may continue on the line below (container codes do;
    wagon numbers are painted on one row, and chaining their rows only invites other stencils' digits).
    """
    def follows(a: Line, b: Line) -> bool:
        return follows_on_row(a, b) or (stacked and follows_below(a, b))

    nexts = {i: [j for j, b in enumerate(lines) if j != i and not (a.alone or b.alone) and follows(a, b)]
             for i, a in enumerate(lines)}
    paths: list[tuple[int, ...]] = []

    def walk(path: tuple[int, ...], chars: int) -> None:
        if length - 2 <= chars <= length + 1:
            paths.append(path)
        for j in ([] if lines[path[-1]].tail else nexts[path[-1]]):
            if j not in path and chars + lines[j].chars <= length + 1 and lines[j].chars > 0:
                walk(path + (j,), chars + lines[j].chars)

    for i, line in enumerate(lines):
        if line.chars > 0:
            walk((i,), line.chars)
    return paths


def is_vertical(quad_w: float, quad_h: float) -> bool:
    """A box at least 2.5 times taller than wide holds stacked glyphs (or text turned on its side); a single
    glyph, or a boxed check digit, is at most about 1.6 times taller than wide."""
    return quad_h > 2.5 * quad_w


def boxed_glyph(region: np.ndarray) -> np.ndarray | None:
    """The inside of a drawn box (the check digit's frame) in an RGB region to a line's right, or None.

    ISO 6346 check digits are usually framed; a recogniser reads the frame as part of the glyph, or the glyph
    as nothing. The frame is the ink contour with a large hole, about as tall as the region and no wider than
    tall; what lies inside its hole, a little shrunk, is the digit alone.
    """
    grey = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]).mean() > 127:
        ink = 255 - ink
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    h = region.shape[0]
    best = None
    for i, c in enumerate(contours):
        x, y, w, bh = cv2.boundingRect(c)
        holes = _children(hierarchy[0], i)
        if not holes or not (0.45 * h <= bh <= h and 0.35 * bh <= w <= 1.1 * bh):
            continue
        # The frame's hole is its largest (a digit touching the frame splits it; its own counters are small).
        ix, iy, iw, ih = max((cv2.boundingRect(contours[k]) for k in holes), key=lambda r: r[2] * r[3])
        # A frame's hole is most of it (a bold 0's or 8's counter is not): the first such box from the left.
        if iw * ih > 0.5 * w * bh and (best is None or x < best[0]):
            best = (ix, iy, iw, ih)
    if best is None:
        return None
    ix, iy, iw, ih = best
    m = max(1, int(0.08 * ih))
    inner = region[iy + m: iy + ih - m, ix + m: ix + iw - m]
    if min(inner.shape[:2]) < 4:
        return None
    pad = max(2, inner.shape[0] // 4)
    fill = np.median(inner.reshape(-1, 3), axis=0).tolist()
    return cv2.copyMakeBorder(inner, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill)


def _children(hierarchy: np.ndarray, i: int) -> list[int]:
    """The holes of contour ``i`` in an OpenCV two-level (RETR_CCOMP) hierarchy: its first child and siblings."""
    out, k = [], hierarchy[i][2]
    while k >= 0:
        out.append(k)
        k = hierarchy[k][0]
    return out


def restack(column: np.ndarray, gap: float = 0.35) -> np.ndarray | None:
    """Glyphs stacked upright in a column (RGB) laid out side by side as one row, or None when none are found.

    The glyphs are the runs of rows holding ink; ink is whatever differs from the column's border (painted
    light on dark or dark on light alike, judged by Otsu's threshold on the grey column).
    """
    grey = cv2.cvtColor(column, cv2.COLOR_RGB2GRAY)
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([ink[:, 0], ink[:, -1]]).mean()
    if border > 0.5:                                     # the border is "ink": the paint is the dark side
        ink = 1 - ink
    rows = ink[:, column.shape[1] // 8: column.shape[1] - column.shape[1] // 8].mean(1) > 0.04
    runs, start = [], None
    for y, on in enumerate(np.append(rows, False)):
        if on and start is None:
            start = y
        elif not on and start is not None:
            runs.append((start, y))
            start = None
    w = column.shape[1]
    runs = [r for r in runs if r[1] - r[0] >= 0.25 * w]  # specks and seams are not glyphs
    if len(runs) < 2:
        return None
    height = max(r[1] - r[0] for r in runs)
    fill = np.median(column.reshape(-1, 3), axis=0).astype(np.uint8)
    pieces = []
    typical = float(np.median([r[1] - r[0] for r in runs]))
    for y0, y1 in runs:
        glyph = column[max(0, y0 - 1): y1 + 1]
        # A framed check digit is read without its frame. A frame encloses its glyph, so it is taller than the
        # column's glyphs (an O's or a 0's counter would pass for a frame otherwise).
        inner = boxed_glyph(glyph) if y1 - y0 > 1.1 * typical else None
        glyph = glyph if inner is None else inner
        glyph = cv2.resize(glyph, (w, height + 2), interpolation=cv2.INTER_LINEAR)
        spacer = np.broadcast_to(fill, (height + 2, max(2, int(gap * w)), 3))
        pieces += [glyph, spacer]
    row = np.concatenate(pieces[:-1], axis=1)
    margin = max(2, (height + 2) // 5)
    return cv2.copyMakeBorder(row, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=fill.tolist())
