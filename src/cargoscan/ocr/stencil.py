"""Painted-number glyphs: the fonts that ship with matplotlib, cut into stencil shapes.

Numbers on rolling stock are sprayed through stencils: bold sans-serif glyphs whose closed strokes are broken by
narrow bridges (the paper that holds the stencil's islands in place). We render each character with a TrueType
font that ships inside matplotlib (no downloads) and, when asked, cut those bridges where a vertical strip
through the glyph's centre crosses a horizontal stroke, which is where real stencils put them (tops and bottoms
of 0, 8, B, D, O, S ...), while leaving vertical stems (the 1, the I) whole.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Font files (inside matplotlib's data directory) used for painted numbers, by short name.
FONTS: dict[str, str] = {
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
    "sans": "DejaVuSans.ttf",
    "mono": "DejaVuSansMono.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
}


def list_fonts() -> list[str]:
    """Names accepted by :func:`render_line`."""
    return sorted(FONTS)


@functools.lru_cache(maxsize=64)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    if name not in FONTS:
        raise ValueError(f"unknown font {name!r}; known: {list_fonts()}")
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / FONTS[name]
    return ImageFont.truetype(str(path), size)


@functools.lru_cache(maxsize=8192)
def _glyph(ch: str, font_name: str, size: int, stencil: bool) -> np.ndarray:
    """One character as a float mask cropped to its advance width and the font's full height.

    Cached (read-only arrays): training renders tens of thousands of lines from a few hundred distinct glyphs.
    """
    font = _font(font_name, size)
    ascent, descent = font.getmetrics()
    width = max(1, int(round(font.getlength(ch))))
    img = Image.new("L", (width, ascent + descent), 0)
    ImageDraw.Draw(img).text((0, 0), ch, font=font, fill=255)
    mask = np.asarray(img, dtype=np.float32) / 255.0
    if stencil and ch.strip():
        mask = _cut_bridges(mask, stroke=max(2, int(font.size * 0.14)))
    mask.flags.writeable = False
    return mask


def _cut_bridges(mask: np.ndarray, stroke: int) -> np.ndarray:
    """Erase a narrow vertical strip at the glyph's centre, but only across horizontal strokes."""
    cols = np.nonzero(mask.max(axis=0) > 0.5)[0]
    if len(cols) < 3 * stroke:
        return mask
    cx = int((cols[0] + cols[-1]) / 2)
    half = max(1, stroke // 3)
    reach = int(stroke * 1.3)
    left, right = max(0, cx - reach), min(mask.shape[1] - 1, cx + reach)
    # A pixel belongs to a horizontal stroke when ink continues well to both sides of the strip.
    horizontal = (mask[:, left] > 0.5) & (mask[:, right] > 0.5) & (mask[:, cx] > 0.5)
    out = mask.copy()
    out[horizontal, cx - half: cx + half + 1] = 0.0
    return out


def render_line(
    text: str,
    font: str = "sans-bold",
    height: int = 32,
    spacing: float = 0.08,
    stencil: bool = False,
    box_last: bool = False,
) -> np.ndarray:
    """Render one painted line of text as an ink mask.

    Args:
        text: the characters; spaces leave a gap.
        font: a name from :data:`FONTS`.
        height: the cap height in pixels (the height of a digit).
        spacing: extra letter spacing as a fraction of the height.
        stencil: cut stencil bridges into closed strokes.
        box_last: draw a frame around the last character (the ISO 6346 check digit is boxed).

    Returns:
        A float32 (H, W) mask in [0, 1], tight around the text plus a small margin.
    """
    # The font size whose digit height is ``height``: DejaVu digits are ~0.73 em tall.
    size = max(6, int(round(height / 0.73)))
    glyphs = [_glyph(ch, font, size, stencil) for ch in text]
    gap = int(round(spacing * height))
    pad = max(2, height // 6)
    h = glyphs[0].shape[0]
    width = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1) + 2 * pad
    out = np.zeros((h + 2 * pad, width), np.float32)
    x = pad
    for i, g in enumerate(glyphs):
        out[pad: pad + h, x: x + g.shape[1]] = np.maximum(out[pad: pad + h, x: x + g.shape[1]], g)
        if box_last and i == len(glyphs) - 1:
            _frame(out, x, g, pad, max(1, height // 12))
        x += g.shape[1] + gap
    rows = np.nonzero(out.max(axis=1) > 0.3)[0]
    if len(rows):
        out = out[max(0, rows[0] - pad): rows[-1] + pad + 1]
    return out


def _frame(out: np.ndarray, x: int, glyph: np.ndarray, pad: int, t: int) -> None:
    rows = np.nonzero(glyph.max(axis=1) > 0.5)[0]
    if not len(rows):
        return
    y0, y1 = pad + rows[0] - 2 * t, pad + rows[-1] + 2 * t
    x0, x1 = max(0, x - 2 * t), min(out.shape[1] - 1, x + glyph.shape[1] + t)
    out[y0: y0 + t, x0:x1] = 1.0
    out[y1 - t + 1: y1 + 1, x0:x1] = 1.0
    out[y0: y1 + 1, x0: x0 + t] = 1.0
    out[y0: y1 + 1, x1 - t + 1: x1 + 1] = 1.0
