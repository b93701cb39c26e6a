"""Whole camera scenes of container doors, container side walls and 1520-gauge wagon sides, with ground truth.

The older renderer (:mod:`cargoscan.ocr.frames`) paints one line of text, large, in the middle of a frame;
real portal photographs show a corrugated door with locking bars, the code small in its upper right corner, a
weight table, plates and logos, seen at an angle, blurred by the train's speed or shot at night in infrared.
:mod:`cargoscan.ocr.containers` and :mod:`cargoscan.ocr.wagons` decide *what is painted where* (in
millimetres, as ISO 6346 and the wagon stencil rules place it) at the scale that gives the identifier its
wanted height in the frame; :mod:`cargoscan.ocr.canvas` draws the part the camera sees and
:mod:`cargoscan.ocr.photo` takes the picture. Every painted marking comes back with its quad in frame pixels;
the markings that spell the identifier are listed, in reading order, in ``Scene.id_markings``.

Example::

    scene = render_scene(np.random.default_rng(0), "container", "CSQU3054383", "portal")
    scene.plot()
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import cv2
import numpy as np

from cargoscan.ocr import canvas, photo
from cargoscan.ocr.canvas import Face
from cargoscan.ocr.containers import container_face
from cargoscan.ocr.wagons import wagon_face

log = logging.getLogger(__name__)

GEOMETRIES = ("portal", "handheld")
LAYOUTS = {"container": ("one_line", "two_line", "three_line", "vertical"), "wagon": ("side",)}


@dataclass(frozen=True)
class Marking:
    text: str                 # what is painted (may include spaces, Cyrillic)
    role: str                 # "owner", "serial", "check", "code", "size_type", "tare", "wagon_number", ...
    quad: np.ndarray          # (4, 2) float32 frame pixels: TL, TR, BR, BL of the text's box, reading order
    vertical: bool = False    # glyphs stacked top to bottom (codes on corner posts)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray         # (H, W, 3) uint8 RGB
    kind: str                 # "container" | "wagon"
    identifier: str
    geometry: str             # "portal" | "handheld"
    layout: str
    markings: tuple[Marking, ...]
    id_markings: tuple[int, ...]   # indices into markings that spell the identifier, in reading order
    effects: tuple[str, ...] = ()  # the photographic effects and weathering applied

    def plot(self, ax=None):
        """Draw the image with every marking's quad (the identifier's in green); returns the figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(self.image.shape[1] / 100, self.image.shape[0] / 100))
        ax.imshow(self.image)
        for i, m in enumerate(self.markings):
            colour = "lime" if i in self.id_markings else "yellow"
            q = np.vstack([m.quad, m.quad[:1]])
            ax.plot(q[:, 0], q[:, 1], color=colour, lw=1)
            ax.text(m.quad[0, 0], m.quad[0, 1] - 3, m.text, color=colour, fontsize=6)
        effects = " ".join(self.effects)
        ax.set_title(f"{self.kind} {self.identifier} ({self.geometry}, {self.layout}) {effects}")
        ax.axis("off")
        return ax.figure


@dataclass(frozen=True)
class SceneParams:
    """Frame sizes, identifier heights, and how often each layout and effect occurs."""

    portal_size: tuple[int, int] = (1280, 720)       # (width, height)
    handheld_size: tuple[int, int] = (1024, 768)
    portal_text_px: tuple[float, float] = (15, 45)   # cap height of the identifier in the frame
    handheld_text_px: tuple[float, float] = (14, 55)
    close_text_px: tuple[float, float] = (40, 90)    # handheld close-up of the code
    p_close: float = 0.3
    layout_weights: tuple[float, ...] = (0.35, 0.25, 0.2, 0.2)   # one_line, two_line, three_line, vertical
    p_side_wall: float = 0.4            # a container seen from its side rather than its door end
    wagon_weights: tuple[float, ...] = (0.25, 0.3, 0.15, 0.15, 0.15)   # box, gondola, hopper, tank, flat
    p_faded: float = 0.3
    p_dirt: float = 0.5
    p_rust: float = 0.4
    p_wear: float = 0.4                 # paint flaked off the lettering
    p_bar_touch: float = 0.15           # a locking bar grazes one glyph of the code
    p_logo: float = 0.6
    p_hazard: float = 0.15
    p_stencil: float = 0.4              # stencil bridges in wagon digits
    p_night: float = 0.2
    p_blur: float = 0.5                 # portal only
    p_defocus: float = 0.25             # handheld only
    p_glare: float = 0.15
    p_shadow: float = 0.25
    p_jpeg: float = 0.85
    jpeg_quality: tuple[int, int] = (30, 90)
    noise_sigma: tuple[float, float] = (1.0, 5.0)
    max_blur_px: int = 12
    portal_angles: tuple[float, float, float] = (12.0, 6.0, 2.0)     # max |yaw|, |pitch|, |roll| in degrees
    handheld_angles: tuple[float, float, float] = (35.0, 15.0, 10.0)

    def size(self, geometry: str) -> tuple[int, int]:
        return self.portal_size if geometry == "portal" else self.handheld_size


def list_layouts(kind: str) -> list[str]:
    if kind not in LAYOUTS:
        raise ValueError(f"unknown kind {kind!r}; known: {sorted(LAYOUTS)}")
    return list(LAYOUTS[kind])


def list_geometries() -> list[str]:
    return list(GEOMETRIES)


def _check(kind: str, identifier: str, geometry: str, layout: str | None) -> None:
    if geometry not in GEOMETRIES:
        raise ValueError(f"unknown geometry {geometry!r}; known: {list_geometries()}")
    if layout is not None and layout not in list_layouts(kind):
        raise ValueError(f"unknown {kind} layout {layout!r}; known: {list_layouts(kind)}")
    pattern = r"[A-Z]{3}[UJZ]\d{7}" if kind == "container" else r"\d{8}"
    if not re.fullmatch(pattern, identifier or ""):
        raise ValueError(f"{identifier!r} is not a {kind} identifier ({pattern})")


def render_scene(rng: np.random.Generator, kind: str, identifier: str, geometry: str = "portal",
                 params: SceneParams = SceneParams(), layout: str | None = None) -> Scene:
    """Render one photograph of a container or wagon with ``identifier`` painted on it.

    Args:
        rng: the random generator (the only source of randomness: same state, same scene).
        kind: "container" (ISO 6346 code, 11 characters) or "wagon" (8-digit 1520-gauge number).
        geometry: "portal" (fixed trackside camera, train moving) or "handheld" (an officer's phone).
        layout: one of :func:`list_layouts` (default: drawn with ``params.layout_weights``).

    Raises:
        ValueError: unknown kind, geometry or layout, or an identifier of the wrong form.
    """
    _check(kind, identifier, geometry, layout)
    if layout is None:
        w = np.asarray(params.layout_weights if kind == "container" else [1.0], np.float64)
        layout = LAYOUTS[kind][int(rng.choice(len(w), p=w / w.sum()))]
    exp = photo.plan_exposure(rng, geometry, params)
    close = geometry == "handheld" and rng.random() < params.p_close
    lo_hi = params.close_text_px if close else (params.portal_text_px if geometry == "portal"
                                                 else params.handheld_text_px)
    cap_px = float(rng.uniform(*lo_hi))
    face = (container_face(rng, identifier, layout, cap_px, params, exp.night) if kind == "container"
            else wagon_face(rng, identifier, cap_px, params, exp.night))
    size = params.size(geometry)
    h = _aim(rng, face, geometry, size, close, params, margin=6 + exp.blur_px)
    window = photo.view_window(h, (face.width, face.height), size)
    img = canvas.rasterise(face, window)
    dirt = float(rng.uniform(0.15, 0.55)) if rng.random() < params.p_dirt else 0.0
    rust = float(rng.uniform(0.3, 0.8)) if rng.random() < params.p_rust else 0.0
    if dirt or rust:
        img = photo.weather(img, rng, dirt, rust)
    effects = list(exp.names()) + [n for n, v in (("dirt", dirt), ("rust", rust)) if v]
    frame = photo.place(cv2.convertScaleAbs(img), h, window, photo.backdrop(rng, size, geometry))
    frame = photo.develop(frame, rng, exp)
    markings = tuple(Marking(m.text, m.role, photo.warp_points(h, m.quad), m.vertical) for m in face.marks)
    log.debug("rendered %s %s (%s, %s): %d markings, %s", kind, identifier, geometry, layout,
              len(markings), effects)
    return Scene(frame, kind, identifier, geometry, layout, markings, tuple(face.id_marks), tuple(effects))


def _aim(rng: np.random.Generator, face: Face, geometry: str, size: tuple[int, int], close: bool,
         p: SceneParams, margin: float) -> np.ndarray:
    """Point the camera between the identifier and the middle of the face, then keep the identifier in view.

    The face is drawn at about the frame's scale, so the camera's aim may stray from the identifier by less
    than half a frame, or the identifier would have to be dragged in from outside the picture.
    """
    id_pts = np.concatenate([face.marks[i].quad for i in face.id_marks])
    id_c = id_pts.mean(axis=0)
    face_c = np.float32([face.width / 2, face.height / 2])
    u = rng.uniform(0, 0.2) if close else rng.uniform(0.2, 1.0)
    reach = 0.35 * np.float32(size)
    offset = np.clip(u * (face_c - id_c) + rng.normal(0, 0.08, 2) * np.float32(size), -reach, reach)
    limits = p.portal_angles if geometry == "portal" else p.handheld_angles
    angles = rng.uniform(-1, 1, 3) * np.float32(limits)
    f = size[0] * (rng.uniform(1.0, 1.8) if geometry == "portal" else rng.uniform(0.75, 1.1))
    for _ in range(4):   # a steep view of a long code can put its far end near the horizon: flatten it
        h = photo.homography(id_c + offset, f, *angles, (size[0] / 2, size[1] / 2))
        depth = (h @ np.vstack([id_pts.T, np.ones(len(id_pts))]))[2]
        if depth.min() > 0.5 * f:
            break
        angles = angles * 0.5
    return photo.keep_inside(h, id_pts, size, margin)
