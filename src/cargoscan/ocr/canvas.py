"""The painted object (a door end, a side wall) as a display list, rasterised only where the camera looks.

A 40-foot side wall or a 14-metre gondola at the scale of its lettering is thousands of pixels long, but a
camera frame shows a part of it. Layouts therefore *describe* the whole face — filled rectangles with an
optional shading profile (corrugation, round bars), polygons, painted lettering — in face pixels, and
:func:`rasterise` draws only the window that the camera's homography maps into the frame. Every marking's box
is kept in face pixels; :mod:`cargoscan.ocr.photo` maps the boxes and the pixels through the same homography.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cargoscan.ocr.lettering import Lettering, compose, list_scene_fonts

Colour = tuple[float, float, float]


@dataclass
class FaceMark:
    text: str
    role: str
    quad: np.ndarray          # (4, 2) float32 face pixels, TL TR BR BL
    vertical: bool = False


@dataclass
class Face:
    """A flat painted object: size in face pixels, body colour, what is drawn on it and where text is."""

    width: int
    height: int
    base: Colour
    items: list = field(default_factory=list)
    marks: list[FaceMark] = field(default_factory=list)
    id_marks: list[int] = field(default_factory=list)

    def fill(self, x0, y0, x1, y1, colour: Colour, profile: np.ndarray | None = None, axis: int = 1) -> None:
        """A rectangle of colour; ``profile`` (one value per pixel along ``axis``) multiplies it (shading)."""
        self.items.append(("fill", _ibox(x0, y0, x1, y1), np.float32(colour), profile, axis))

    def shade(self, x0, y0, x1, y1, profile: np.ndarray, axis: int = 1) -> None:
        """Multiply what is already there by a 1-D profile: corrugation, a cylinder's light falloff."""
        self.items.append(("shade", _ibox(x0, y0, x1, y1), None, np.asarray(profile, np.float32), axis))

    def poly(self, pts, colour: Colour) -> None:
        self.items.append(("poly", np.asarray(pts, np.float32), np.float32(colour)))

    def line(self, p0, p1, colour: Colour, thickness: float) -> None:
        self.items.append(("line", np.float32([p0, p1]), np.float32(colour), max(1, int(round(thickness)))))

    def circle(self, centre, radius: float, colour: Colour) -> None:
        self.items.append(("circle", np.float32(centre), float(radius), np.float32(colour)))

    def write(self, text: str, role: str, lettering: Lettering, x: float, y: float, colour: Colour,
              alpha: float = 1.0, rng: np.random.Generator | None = None, wear: float = 0.0,
              vertical: bool = False, is_id: bool = False) -> tuple[int, int, int, int]:
        """Paint lettering with its text box's top-left at (x, y); record the marking. Returns its box.

        ``wear`` (0..1) eats blotches out of the paint, as years of weather and washing do.
        """
        bx0, by0, bx1, by1 = lettering.box
        mx, my = int(round(x)) - bx0, int(round(y)) - by0
        mask = lettering.mask
        if wear > 0 and rng is not None:
            mask = mask * (1.0 - wear * _blotches(mask.shape, rng))
        self.items.append(("ink", mask, mx, my, np.float32(colour), float(alpha)))
        box = (mx + bx0, my + by0, mx + bx1, my + by1)
        self.marks.append(FaceMark(text, role, box_quad(box), vertical))
        if is_id:
            self.id_marks.append(len(self.marks) - 1)
        return box


def _ibox(x0, y0, x1, y1) -> tuple[int, int, int, int]:
    return int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))


def box_quad(box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _blotches(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Coarse noise in [0, 1], mostly zero: where paint has flaked off."""
    h, w = shape
    coarse = rng.random((max(2, h // 6), max(2, w // 6))).astype(np.float32)
    field_ = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip((field_ - 0.55) * 3.0, 0.0, 1.0)


def _clip(box, window) -> tuple[slice, slice, int, int] | None:
    """Slices of the window array covered by a face box, and the box's offsets into its own profile."""
    ox, oy, w, h = window
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = max(x0, ox), max(y0, oy), min(x1, ox + w), min(y1, oy + h)
    if cx0 >= cx1 or cy0 >= cy1:
        return None
    return slice(cy0 - oy, cy1 - oy), slice(cx0 - ox, cx1 - ox), cx0 - x0, cy0 - y0


def _rows(values: np.ndarray, colour, n_rows: int, n_cols: int, axis: int) -> np.ndarray:
    """A block of per-pixel RGB values that broadcasts over a region with a long inner loop.

    numpy broadcasting a (3,) colour or a (1, n, 1) profile over (h, w, 3) runs an inner loop of length 3;
    a contiguous (1, w, 3) row (or a full block for column profiles) lets it stream whole rows instead.
    """
    c = np.ones(3, np.float32) if colour is None else colour
    line = values[:, None] * c[None, :]
    if axis == 1:
        return line[None]
    block = cv2.resize(line[:, None, :], (n_cols, n_rows), interpolation=cv2.INTER_NEAREST)
    return block.reshape(n_rows, n_cols, 3)


def _fill(img, window, box, colour, profile, axis) -> None:
    c = _clip(box, window)
    if c is None:
        return
    rows, cols, dx, dy = c
    region = img[rows, cols]
    m, n = region.shape[:2]
    if profile is None:
        region[:] = _rows(np.ones(n, np.float32), colour, m, n, 1)
        return
    p = profile[dx: dx + n] if axis == 1 else profile[dy: dy + m]
    if len(p) < (n if axis == 1 else m):   # rounding the box can make it a pixel longer than its profile
        if len(p) == 0:                      # ... or leave the window's part of it past the profile's end
            p = profile[-1:] if len(profile) else np.ones(1, np.float32)
        p = np.pad(p, (0, (n if axis == 1 else m) - len(p)), mode="edge")
    block = _rows(np.asarray(p, np.float32), colour, m, n, axis)
    if colour is None:
        region *= block
    else:
        region[:] = block


def _ink(img, window, mask, mx, my, colour, alpha) -> None:
    h, w = mask.shape
    c = _clip((mx, my, mx + w, my + h), window)
    if c is None:
        return
    rows, cols, dx, dy = c
    region = img[rows, cols]
    m, n = region.shape[:2]
    a = np.repeat(mask[dy: dy + m, dx: dx + n] * np.float32(alpha), 3, axis=1).reshape(m, n, 3)
    region += (_rows(np.ones(n, np.float32), colour, m, n, 1) - region) * a


def rasterise(face: Face, window: tuple[int, int, int, int]) -> np.ndarray:
    """Draw the part (x, y, width, height) of a face: float32 RGB, 0..255."""
    ox, oy, w, h = window
    img = np.empty((h, w, 3), np.float32)
    img[:] = _rows(np.ones(w, np.float32), np.float32(face.base), h, w, 1)
    shift = np.float32([ox, oy])
    for op, *args in face.items:
        if op in ("fill", "shade"):
            _fill(img, window, *args)
        elif op == "ink":
            _ink(img, window, *args)
        elif op == "poly":
            pts = np.round((args[0] - shift) * 4).astype(np.int32)   # 2 fractional bits: smooth slopes
            cv2.fillPoly(img, [pts], args[1].tolist(), cv2.LINE_8, 2)
        elif op == "line":
            p = np.round(args[0] - shift).astype(np.int32)
            cv2.line(img, tuple(p[0].tolist()), tuple(p[1].tolist()), args[1].tolist(), args[2])
        elif op == "circle":
            c = np.round(args[0] - shift).astype(np.int32)
            cv2.circle(img, tuple(c.tolist()), int(round(args[1])), args[2].tolist(), -1)
    return img


# --- paint: how one unit's markings are lettered ------------------------------------------------------------

def pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def body_colour(rng: np.random.Generator, choices, p_faded: float) -> Colour:
    """A paint, sometimes faded by sun and salt towards a chalky grey."""
    c = np.float32(pick(rng, choices)) * rng.uniform(0.85, 1.1)
    if rng.random() < p_faded:
        c = c + (np.float32([185, 180, 172]) - c) * rng.uniform(0.2, 0.45)
    return tuple(np.clip(c, 0, 255).tolist())


def scaled(colour: Colour, f: float) -> Colour:
    return tuple(float(min(255.0, v * f)) for v in colour)


def ink_colour(rng: np.random.Generator, body: Colour, night: bool) -> Colour:
    """White (sometimes yellow) on dark bodies, black on light ones; light paint glows under the IR flash."""
    if np.mean(body) > 150:
        return (22.0, 22.0, 24.0)
    if night:
        return (255.0, 255.0, 255.0)
    return (238.0, 238.0, 232.0) if rng.random() < 0.85 else (235.0, 195.0, 40.0)


@dataclass
class Paint:
    """How a unit is lettered: one face, one ink, one opacity and state of wear for all its markings."""

    font: str
    ink: Colour
    alpha: float
    wear: float
    rng: np.random.Generator

    def put(self, face: Face, text: str, role: str, cap_px: float, x: float, y: float, align: str = "left",
            ink: Colour | None = None, is_id: bool = False, **kw) -> tuple[int, int, int, int]:
        """Compose and paint a marking with its box's top edge at ``y`` and left/right/centre at ``x``."""
        lt = compose(text, self.font, cap_px, **kw)
        w = lt.box[2] - lt.box[0]
        x = x - w if align == "right" else x - w / 2 if align == "centre" else x
        return face.write(text, role, lt, x, y, ink or self.ink, self.alpha, self.rng, self.wear,
                          kw.get("vertical", False), is_id)


def make_paint(rng: np.random.Generator, body: Colour, night: bool, p_wear: float) -> Paint:
    return Paint(pick(rng, list_scene_fonts()), ink_colour(rng, body, night), float(rng.uniform(0.82, 1.0)),
                 float(rng.uniform(0.2, 0.6)) if rng.random() < p_wear else 0.0, rng)
