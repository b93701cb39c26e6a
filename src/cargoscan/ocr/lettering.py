"""Painted lettering for camera scenes: condensed stencil-like glyphs, composed into lines and columns.

Markings on freight equipment are sprayed through stencils or cut from vinyl in condensed bold sans faces.
We ship three such faces (``fonts/``, see its PROVENANCE.md) so that scenes never depend on the machine's
fonts, and rasterise each glyph once per (face, cap height) with an LRU cache: a scene paints a few hundred
characters from a small alphabet, so composing cached masks is much cheaper than asking FreeType every time.

Sizes are *cap heights* in pixels (the height of a capital or a digit), the way markings are specified
("characters at least 100 mm high"); each face's em size is derived from its own cap height.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cargoscan.ocr.stencil import _cut_bridges

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).with_name("fonts")

#: Short name -> file in :data:`FONT_DIR`. All three cover Latin and Cyrillic.
SCENE_FONTS: dict[str, str] = {
    "roboto-condensed": "RobotoCondensed-Bold.ttf",
    "pt-sans-narrow": "PTSansNarrow-Bold.ttf",
    "dejavu-condensed": "DejaVuSansCondensed-Bold.ttf",
}
MIN_CAP_PX = 3     # below this a glyph is only a smudge anyway; FreeType gives nothing useful


def list_scene_fonts() -> list[str]:
    return list(SCENE_FONTS)


def font_path(name: str) -> Path:
    """The packaged file of a scene font (never a system path)."""
    if name not in SCENE_FONTS:
        raise ValueError(f"unknown scene font {name!r}; known: {list_scene_fonts()}")
    return FONT_DIR / SCENE_FONTS[name]


@functools.lru_cache(maxsize=None)
def _cap_ratio(name: str) -> float:
    """Cap height / em size of a face, measured on 'H' at a large size."""
    font = ImageFont.truetype(str(font_path(name)), 200)
    _, top, _, bottom = font.getbbox("H", anchor="ls")
    return (bottom - top) / 200.0


@functools.lru_cache(maxsize=512)
def _font(name: str, cap_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), max(2, int(round(cap_px / _cap_ratio(name)))))


@dataclass(frozen=True)
class Glyph:
    mask: np.ndarray          # float32 (h, w) ink coverage, tight around the ink; read-only (cached, shared)
    left: int                 # ink offset from the pen position
    top: int                  # ink offset from the baseline (negative: above it)
    advance: float            # pen advance in pixels


@functools.lru_cache(maxsize=8192)
def glyph(name: str, cap_px: int, ch: str, stencil: bool = False) -> Glyph:
    """One character rasterised at a cap height; spaces are an empty mask with an advance."""
    font = _font(name, cap_px)
    advance = float(font.getlength(ch))
    l, t, r, b = font.getbbox(ch, anchor="ls") if ch.strip() else (0, 0, 0, 0)
    if r <= l or b <= t:
        empty = np.zeros((0, 0), np.float32)
        empty.flags.writeable = False
        return Glyph(empty, 0, 0, advance)
    img = Image.new("L", (r - l, b - t), 0)
    ImageDraw.Draw(img).text((-l, -t), ch, font=font, fill=255, anchor="ls")
    mask = np.asarray(img, np.float32) / 255.0
    if stencil and cap_px >= 12:   # bridges narrower than a pixel would vanish in the warp anyway
        mask = _cut_bridges(mask, stroke=max(2, cap_px // 7))
    mask.flags.writeable = False
    return Glyph(mask, l, t, advance)


def quantise(cap_px: float) -> int:
    """Round a cap height to a 4 % grid above 24 px: sizes vary continuously from scene to scene, and without
    the grid almost every glyph would miss the cache."""
    if cap_px <= 24:
        return max(MIN_CAP_PX, int(round(cap_px)))
    return int(round(24 * 1.04 ** round(np.log(cap_px / 24) / np.log(1.04))))


@dataclass(frozen=True)
class Lettering:
    """A composed marking: its ink mask and each character's ink box in mask pixels (None for spaces)."""

    mask: np.ndarray
    boxes: tuple[tuple[int, int, int, int] | None, ...]

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The union of the glyphs' ink boxes (the text's box, without any frame drawn round a digit)."""
        b = [x for x in self.boxes if x is not None]
        return (min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b))


def _frame(mask: np.ndarray, box: tuple[int, int, int, int], pad: int, t: int) -> None:
    """Draw the rectangle that ISO 6346 paints round the check digit."""
    x0, y0, x1, y1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    mask[y0: y0 + t, x0:x1] = 1.0
    mask[y1 - t: y1, x0:x1] = 1.0
    mask[y0:y1, x0: x0 + t] = 1.0
    mask[y0:y1, x1 - t: x1] = 1.0


def compose(text: str, font: str, cap_px: float, tracking: float = 0.06, word_gap: float = 1.0,
            stencil: bool = False, box_last: bool = False, vertical: bool = False) -> Lettering:
    """Lay out ``text`` as painted: one horizontal line, or upright glyphs stacked top to bottom.

    Args:
        tracking: extra letter spacing, in cap heights.
        word_gap: multiplier of the width of a space (painters leave wide gaps between groups).
        box_last: frame the last character (the check digit).
        vertical: stack the glyphs in a column (codes on corner posts); a space is a half-line gap.
    """
    cap = quantise(cap_px)
    glyphs = [glyph(font, cap, ch, stencil) for ch in text]
    pad = max(2, cap // 3) + (cap // 4 if box_last else 0)   # room for the check-digit frame
    place = _stack(glyphs, cap, tracking) if vertical else _line(glyphs, cap, tracking, word_gap)
    xs = [p[0] for p, g in zip(place, glyphs) if g.mask.size] or [0]
    ys = [p[1] for p, g in zip(place, glyphs) if g.mask.size] or [0]
    x_end = max([p[0] + g.mask.shape[1] for p, g in zip(place, glyphs) if g.mask.size] or [1])
    y_end = max([p[1] + g.mask.shape[0] for p, g in zip(place, glyphs) if g.mask.size] or [1])
    ox, oy = pad - min(xs), pad - min(ys)
    mask = np.zeros((y_end - min(ys) + 2 * pad, x_end - min(xs) + 2 * pad), np.float32)
    boxes = []
    for (x, y), g in zip(place, glyphs):
        if not g.mask.size:
            boxes.append(None)
            continue
        h, w = g.mask.shape
        sub = mask[y + oy: y + oy + h, x + ox: x + ox + w]
        np.maximum(sub, g.mask, out=sub)
        boxes.append((x + ox, y + oy, x + ox + w, y + oy + h))
    if box_last and boxes and boxes[-1] is not None:
        _frame(mask, boxes[-1], pad=max(1, cap // 6), t=max(1, cap // 12))
    return Lettering(mask, tuple(boxes))


def _line(glyphs: list[Glyph], cap: int, tracking: float, word_gap: float) -> list[tuple[int, int]]:
    """Pen positions along a baseline (y = ink top relative to the baseline)."""
    pen, out = 0.0, []
    for g in glyphs:
        out.append((int(round(pen)) + g.left, g.top))
        pen += (g.advance * word_gap if not g.mask.size else g.advance) + tracking * cap
    return out


def _stack(glyphs: list[Glyph], cap: int, tracking: float) -> list[tuple[int, int]]:
    """Upright glyphs centred on one vertical axis, one cap height plus leading apart."""
    width = max([g.mask.shape[1] for g in glyphs if g.mask.size] or [1])
    y, out = 0, []
    for g in glyphs:
        if not g.mask.size:
            out.append((0, y))
            y += int(cap * 0.6)
            continue
        out.append(((width - g.mask.shape[1]) // 2, y + max(0, cap + g.top)))   # on a common cap line
        y += cap + max(1, int(cap * (0.25 + tracking)))
    return out


# --- words that are painted but carry no identity: company names, Cyrillic owners ---------------------------

_LAT_C, _LAT_V = "BCDFGKLMNPRSTVZ", "AEIOU"
_CYR_C, _CYR_V = "БВГДКЛМНПРСТФ", "АЕИОУЯ"


def word(rng: np.random.Generator, cyrillic: bool = False, syllables: tuple[int, int] = (2, 4)) -> str:
    """An invented brand-like word ("TAVIRO", "КОРАНЕТ"): looks like a company name, names no real one."""
    c, v = (_CYR_C, _CYR_V) if cyrillic else (_LAT_C, _LAT_V)
    n = int(rng.integers(syllables[0], syllables[1] + 1))
    out = "".join(c[int(rng.integers(len(c)))] + v[int(rng.integers(len(v)))] for _ in range(n))
    return out + (c[int(rng.integers(len(c)))] if rng.random() < 0.5 else "")
