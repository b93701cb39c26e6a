"""The camera: where it stands (a homography from the painted face to the frame) and what it does to light.

A painted face (:mod:`cargoscan.ocr.canvas`) is a plane. A pinhole camera with focal length ``f`` (pixels),
standing ``f`` away from a point of that plane and turned by yaw/pitch/roll, sees it through the homography
``K [r1 r2 t]``; at that distance the point under the lens is imaged at unit magnification, so a layout drawn
at the scale of its wanted text height keeps that height in the frame. Everything geometric - the pixels and
every marking's quad - goes through the one matrix, so the ground truth stays exact.

Photographic effects come after, in the order light meets them: scene lighting, shadows and glare on the
steel, the infrared night camera's spectrum, motion blur during the exposure, vignetting and sensor noise, and
the camera's JPEG encoder. Weathering (dirt, rust) belongs to the object: it is applied to the face before the
warp.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)


# --- shading profiles painted onto the face -----------------------------------------------------------------

def corrugation(n: int, period: float, depth: float, phase: float = 0.0) -> np.ndarray:
    """Trapezoidal corrugation seen under side light: crest, lit flank, valley, shaded flank."""
    t = ((np.arange(n, dtype=np.float32) + phase) % period) / period
    p = np.select([t < 0.3, t < 0.45, t < 0.8], [1.0, 1.0 + depth, 1.0 - 0.25 * depth], 1.0 - depth)
    k = max(1, int(period * 0.04))   # the pressed edges are rounded, not knife-sharp
    return np.convolve(p, np.ones(k) / k, mode="same").astype(np.float32)


def cylinder(n: int, light: float = 0.4, gloss: float = 0.3) -> np.ndarray:
    """Brightness across a round bar or a tank barrel lit from one side (``light`` in -1..1)."""
    x = np.linspace(-0.98, 0.98, max(2, n), dtype=np.float32)
    normal_z = np.sqrt(1 - x ** 2)
    lam = np.clip(x * light + normal_z * np.sqrt(1 - light ** 2), 0, 1)
    spec = gloss * np.exp(-((x - light * 0.5) / 0.12) ** 2)
    return (0.35 + 0.75 * lam + spec).astype(np.float32)


# --- camera geometry ----------------------------------------------------------------------------------------

def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def homography(anchor, f: float, yaw: float, pitch: float, roll: float, centre) -> np.ndarray:
    """Face pixels -> frame pixels for a camera aimed at ``anchor`` (face px), imaging it at ``centre``."""
    r = _rotation(yaw, pitch, roll)
    k = np.array([[f, 0, centre[0]], [0, f, centre[1]], [0, 0, 1.0]])
    to_anchor = np.array([[1, 0, -anchor[0]], [0, 1, -anchor[1]], [0, 0, 1.0]])
    return k @ np.column_stack([r[:, 0], r[:, 1], [0, 0, f]]) @ to_anchor


def warp_points(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(np.asarray(pts, np.float32).reshape(-1, 1, 2), h).reshape(-1, 2)


def keep_inside(h: np.ndarray, pts: np.ndarray, size: tuple[int, int], margin: float) -> np.ndarray:
    """Shift (and if need be shrink) the frame so that ``pts`` (face px) land inside it with a margin."""
    w, hh = size
    p = warp_points(h, pts)
    lo, hi = p.min(axis=0), p.max(axis=0)
    room = np.array([w, hh], np.float64) - 2 * margin
    s = min(1.0, float(np.min(room / np.maximum(hi - lo, 1e-6))) * 0.98)
    if s < 1.0:   # the identifier is wider than the frame: back the camera off
        c = np.array([w / 2, hh / 2])
        h = np.array([[s, 0, c[0] * (1 - s)], [0, s, c[1] * (1 - s)], [0, 0, 1]]) @ h
        p = warp_points(h, pts)
        lo, hi = p.min(axis=0), p.max(axis=0)
    shift = np.maximum(margin - lo, 0) - np.maximum(hi - (np.array([w, hh]) - margin), 0)
    return np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]]) @ h


def view_window(h: np.ndarray, face_size: tuple[int, int], size: tuple[int, int]) -> tuple[int, ...]:
    """The part (x, y, w, h) of the face that the frame sees: the frame's corners mapped back, clipped."""
    fw, fh = face_size
    w, hh = size
    corners = np.float64([[-8, -8, 1], [w + 8, -8, 1], [w + 8, hh + 8, 1], [-8, hh + 8, 1]]).T
    back = np.linalg.inv(h) @ corners
    if np.any(back[2] <= 1e-9):   # a corner's ray misses the plane: take the whole face
        return 0, 0, fw, fh
    xy = back[:2] / back[2]
    x0, y0 = np.floor(xy.min(axis=1)).astype(int) - 2
    x1, y1 = np.ceil(xy.max(axis=1)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(fw, x1), min(fh, y1)
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0)) if x1 > x0 and y1 > y0 else (0, 0, 1, 1)


def place(face_img: np.ndarray, h: np.ndarray, window, backdrop: np.ndarray) -> np.ndarray:
    """Warp the rendered window of the face into the frame over the backdrop."""
    ox, oy = window[:2]
    m = h @ np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1.0]])
    out = backdrop.copy()
    cv2.warpPerspective(face_img, m, (backdrop.shape[1], backdrop.shape[0]), dst=out,
                        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    return out


# --- what lies behind the object ----------------------------------------------------------------------------

def _smooth(shape: tuple[int, int], rng: np.random.Generator, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1] at full size, from a coarse random grid."""
    h, w = shape
    coarse = rng.random((max(2, cells * h // max(w, 1)), cells)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def backdrop(rng: np.random.Generator, size: tuple[int, int], geometry: str) -> np.ndarray:
    """What lies beyond the object, at quarter resolution: sky, a skyline, ballast (portal) or a yard of boxes
    stacked up to three high (handheld). The camera is focused on the unit: none of it needs detail."""
    w, h = size
    sw, sh = w // 4, h // 4
    small = np.empty((sh, sw, 3), np.float32)
    sky = np.float32([150, 175, 205] if rng.random() < 0.6 else [190, 192, 195]) * rng.uniform(0.6, 1.15)
    small[:] = sky * np.linspace(1.1, 0.85, sh, dtype=np.float32)[:, None, None]
    horizon = int(sh * rng.uniform(0.35, 0.7))
    crowns = cv2.resize(rng.random((1, max(2, sw // 12)), dtype=np.float32), (sw, 1),
                        interpolation=cv2.INTER_CUBIC)
    tops = horizon - 1 - (np.clip(crowns[0], 0, 1) * horizon * rng.uniform(0.03, 0.2)).astype(int)
    haze = np.float32([90, 100, 95]) * rng.uniform(0.5, 1.0)
    for x in range(sw):            # a treeline or distant sheds
        small[max(0, tops[x]): horizon, x] = haze
    if geometry == "handheld":     # rows of stacked boxes in the yard
        tier = max(3, int(sh * rng.uniform(0.1, 0.18)))
        for level in range(int(rng.integers(1, 4))):
            x = int(rng.integers(-20, 0))
            while x < sw:
                bw = int(rng.integers(15, 60))
                c = np.float32(CONTAINER_HAZE[int(rng.integers(len(CONTAINER_HAZE)))])
                c *= rng.uniform(0.6, 1.0)
                y1 = horizon - level * tier
                small[max(0, y1 - tier): max(0, y1), max(0, x): max(0, x + bw - 1)] = c
                x += bw
    ground = np.float32([100, 95, 85]) * rng.uniform(0.6, 1.2)
    gravel = 0.7 + 0.5 * rng.random((sh - horizon, sw, 1), dtype=np.float32)   # ballast / worn asphalt
    small[horizon:] = ground * gravel
    img = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    if geometry == "portal":       # catenary wires and a gantry column
        for _ in range(int(rng.integers(0, 4))):
            y = int(rng.uniform(0.02, 0.3) * h)
            cv2.line(img, (0, y), (w, y + int(rng.integers(-20, 20))), (40, 40, 40), 1)
        if rng.random() < 0.5:
            x = int(rng.uniform(0, w))
            cv2.rectangle(img, (x, 0), (x + int(rng.integers(15, 50)), h), (70, 72, 75), -1)
    return img


#: Container paints seen far away, greyed by distance.
CONTAINER_HAZE = [(70, 90, 130), (140, 70, 60), (80, 110, 85), (150, 150, 150), (110, 80, 60),
                  (200, 200, 195), (190, 120, 60)]


# --- weathering of the object (face space) ------------------------------------------------------------------

def weather(img: np.ndarray, rng: np.random.Generator, dirt: float, rust: float) -> np.ndarray:
    """Road dirt (thicker towards the bottom) and rust running down from seams, blended in one pass.

    Both are soft, so they are drawn at a quarter of the resolution and only the blend runs at full size.
    """
    h, w = img.shape[:2]
    sh, sw = h // 4 + 1, w // 4 + 1
    alpha = np.zeros((sh, sw), np.float32)
    colour = np.zeros((sh, sw, 3), np.float32)
    if dirt:
        f = _smooth((sh, sw), rng, int(rng.integers(12, 40)))
        lower = 0.4 + 0.6 * np.linspace(0, 1, sh, dtype=np.float32)[:, None]   # splashed up from below
        alpha = np.clip((f - 0.35) * 1.8, 0, 1) * lower * dirt
        colour[:] = np.float32([78, 68, 52]) if rng.random() < 0.8 else np.float32([150, 140, 120])
    if rust:
        streaks = np.zeros((sh, sw), np.float32)
        for _ in range(int(rng.integers(5, 25))):
            x, y = int(rng.integers(0, sw)), int(rng.integers(0, sh))
            length = int(rng.integers(sh // 10 + 1, sh // 2 + 2))
            end = (x + int(rng.integers(-2, 3)), y + length)
            cv2.line(streaks, (x, y), end, float(rng.uniform(0.3, 1.0)), 1)
        streaks = cv2.GaussianBlur(streaks, (0, 0), sigmaX=0.4, sigmaY=2.5) * rust
        share = streaks / np.maximum(alpha + streaks, 1e-6)
        colour += (np.float32([120, 60, 30]) - colour) * share[..., None]
        alpha = 1 - (1 - alpha) * (1 - streaks)
    a = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    c = cv2.resize(colour, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.blendLinear(img, c, 1.0 - a, a)


# --- the photograph ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exposure:
    """What the camera does on this shot (drawn once, before rendering: night changes how paint looks)."""

    night: bool
    blur_px: int              # horizontal motion blur length (0: none)
    defocus: float            # Gaussian sigma (0: sharp)
    glare: bool
    shadow: bool
    noise: float              # sensor noise sigma, 0..255 scale
    jpeg: int                 # JPEG quality (0: saved losslessly)

    def names(self) -> tuple[str, ...]:
        flags = {"night": self.night, "motion_blur": self.blur_px > 0, "defocus": self.defocus > 0,
                 "glare": self.glare, "shadow": self.shadow, "jpeg": self.jpeg > 0}
        return tuple(k for k, v in flags.items() if v)


def plan_exposure(rng: np.random.Generator, geometry: str, p) -> Exposure:
    """Draw the shot's effects from the scene parameters ``p`` (a SceneParams)."""
    night = bool(rng.random() < p.p_night)
    blur = int(rng.integers(2, p.max_blur_px + 1)) if geometry == "portal" and rng.random() < p.p_blur else 0
    defocus = float(rng.uniform(0.5, 1.3)) if geometry == "handheld" and rng.random() < p.p_defocus else 0.0
    noise = float(rng.uniform(*p.noise_sigma)) * (2.5 if night else 1.0)
    jpeg = int(rng.integers(p.jpeg_quality[0], p.jpeg_quality[1] + 1)) if rng.random() < p.p_jpeg else 0
    return Exposure(night, blur, defocus, bool(rng.random() < p.p_glare) and not night,
                    bool(rng.random() < p.p_shadow) and not night, noise, jpeg)


def _light_field(rng: np.random.Generator, size: tuple[int, int], exp: Exposure) -> np.ndarray:
    """Per-pixel, per-channel gain, drawn at 1/8 resolution: exposure, white balance, a gradient, a shadow."""
    w, h = size
    sw, sh = w // 8, h // 8
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx / sw - 0.5) + np.sin(angle) * (yy / sh - 0.5)) * rng.uniform(0.1, 0.6)
    gain = (rng.uniform(0.7, 1.2) * (1 + ramp))[..., None] * rng.uniform(0.88, 1.12, 3).astype(np.float32)
    if exp.shadow:   # the portal's beam (a band) or the next wagon (a half-plane): straight soft edges
        a = rng.uniform(0, np.pi)
        d = np.cos(a) * (xx - rng.uniform(0, sw)) + np.sin(a) * (yy - rng.uniform(0, sh))
        width = rng.uniform(0.1, 0.4) * sw if rng.random() < 0.5 else 1e9
        m = np.clip(d + 1, 0, 1) * np.clip(width - d + 1, 0, 1)
        m = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 1.0)
        gain = gain * (1 - rng.uniform(0.3, 0.6) * m)[..., None] * np.float32([0.95, 0.98, 1.08])
    if exp.night:    # the IR flash: bright in the middle, falling off to the corners
        r2 = ((xx / sw - rng.uniform(0.35, 0.65)) ** 2 + (yy / sh - 0.5) ** 2) / 0.35
        gain = gain * (0.25 + 0.9 * np.exp(-r2))[..., None]
    return cv2.resize(gain.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


@functools.lru_cache(maxsize=4)
def _noise_bank(h: int, w: int) -> np.ndarray:
    """Unit Gaussian noise drawn once per frame size; each shot takes a random window of it (drawing 3 M
    normal numbers per shot would cost as much as the rest of the scene)."""
    bank = np.random.default_rng(6346).standard_normal((h + 64, w + 64, 3), dtype=np.float32)
    bank.flags.writeable = False
    return bank


def develop(img: np.ndarray, rng: np.random.Generator, exp: Exposure) -> np.ndarray:
    """Turn the warped scene (uint8 RGB) into the camera's picture (uint8 RGB).

    Full-frame passes are few and done by OpenCV: a numpy temporary per step would cost more than the scene.
    """
    h, w = img.shape[:2]
    out = img.astype(np.float32)
    cv2.multiply(out, _light_field(rng, (w, h), exp), dst=out)
    if exp.glare:    # the sun mirrored in the steel: a bright soft blob
        yy, xx = np.ogrid[0:h // 8, 0:w // 8]
        cx, cy, r = rng.uniform(0, w // 8), rng.uniform(0, h // 8), rng.uniform(0.05, 0.25) * w / 8
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)).astype(np.float32)
        blob = cv2.resize(blob * float(rng.uniform(90, 230)), (w, h))
        cv2.add(out, cv2.merge([blob, blob, blob]), dst=out)
    if exp.night:    # monochrome IR: paint reflects by brightness, not hue; the sensor is pushed hard
        grey = cv2.cvtColor(np.clip(out, 0, 255, out=out), cv2.COLOR_RGB2GRAY) * np.float32(1 / 255)
        grey = cv2.pow(grey, float(rng.uniform(0.6, 0.9))) * np.float32(255)
        out = cv2.merge([grey, grey, grey])
    if exp.blur_px:
        out = cv2.blur(out, (exp.blur_px, 1))
    if exp.defocus:
        out = cv2.GaussianBlur(out, (0, 0), exp.defocus)
    bank = _noise_bank(h, w)
    oy, ox = int(rng.integers(0, 64)), int(rng.integers(0, 64))
    out = cv2.scaleAdd(bank[oy: oy + h, ox: ox + w], exp.noise * (1 if rng.random() < 0.5 else -1), out)
    out = cv2.convertScaleAbs(out)    # rounds and saturates to uint8
    if exp.jpeg:
        bgr = cv2.cvtColor(out, cv2.COLOR_RGB2BGR)
        _, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, exp.jpeg])
        out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out
