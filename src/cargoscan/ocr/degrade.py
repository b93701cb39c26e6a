"""What the trackside camera does to a painted number: dirt, rust, motion blur, perspective, night/IR, occlusion.

Each degradation is a function ``(image float32 HxWx3, boxes, rng, params) -> (image, boxes)``, kept in the
:data:`DEGRADATIONS` name→function table; :func:`degrade` applies each with its probability from
:class:`~cargoscan.ocr.config.FrameParams` and reports which ones struck (the ``degradations`` column of
``frames.csv``). Only the perspective warp moves the text, so only it changes the boxes (the first box is the whole identifier's,
the others its painted lines').
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from cargoscan.ocr.config import FrameParams

BBox = tuple[int, int, int, int]


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a coarse random grid, upsampled smoothly."""
    h, w = shape
    coarse = rng.random((max(2, h * cells // w), cells)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def dirt(img: np.ndarray, boxes: list[BBox], rng: np.random.Generator, params: FrameParams):
    """Patches of road grime: brownish, darkening, strongest where the noise field peaks."""
    field = np.clip((_smooth_field(img.shape[:2], rng, 12) - 0.45) * 2.5, 0, 1) * rng.uniform(0.3, 0.7)
    grime = np.array([70, 60, 45], np.float32)
    return img * (1 - field[..., None]) + grime * field[..., None], boxes


def rust(img: np.ndarray, boxes: list[BBox], rng: np.random.Generator, params: FrameParams):
    """Rust streaks running down from rivets and seams."""
    h, w = img.shape[:2]
    streaks = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(3, 12))):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h // 2))
        length, width = int(rng.integers(h // 6, h // 2)), int(rng.integers(2, 7))
        streaks[y: y + length, x: x + width] = rng.uniform(0.3, 0.7)
    streaks = cv2.GaussianBlur(streaks, (0, 0), sigmaX=1.5, sigmaY=6)
    colour = np.array([140, 70, 30], np.float32)
    return img * (1 - streaks[..., None]) + colour * streaks[..., None], boxes


def motion_blur(img: np.ndarray, boxes: list[BBox], rng: np.random.Generator, params: FrameParams):
    """Horizontal blur from the train's motion during the exposure."""
    k = int(rng.integers(3, max(4, params.max_blur_px + 1)))
    kernel = np.full((1, k), 1.0 / k, np.float32)
    return cv2.filter2D(img, -1, kernel), boxes


def perspective(img: np.ndarray, boxes: list[BBox], rng: np.random.Generator, params: FrameParams):
    """An oblique view: each corner moved by up to 6 % of the frame."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-0.06, 0.06, size=(4, 2)) * np.float32([w, h])
    m = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32))
    out = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    moved = []
    for x0, y0, x1, y1 in boxes:
        corners = cv2.perspectiveTransform(np.float32([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]), m)[0]
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        moved.append((max(0, int(lo[0])), max(0, int(lo[1])), min(w, int(np.ceil(hi[0]))),
                      min(h, int(np.ceil(hi[1])))))
    return out, moved


def night(img: np.ndarray, boxes: list[BBox], rng: np.random.Generator, params: FrameParams):
    """Night under infrared flash: grey, dark, noisy, with a bright hot spot where the flash lands."""
    h, w = img.shape[:2]
    grey = img.mean(axis=2, keepdims=True).repeat(3, axis=2)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    spot = np.exp(-(((xx - cx) / (0.6 * w)) ** 2 + ((yy - cy) / (0.8 * h)) ** 2))
    gain = rng.uniform(0.25, 0.45) + rng.uniform(0.2, 0.5) * spot
    out = grey * gain[..., None] + rng.normal(0, rng.uniform(4, 12), size=grey.shape).astype(np.float32)
    return out, boxes


def occlusion(img: np.ndarray, boxes: list[BBox], rng: np.random.Generator, params: FrameParams):
    """A pole, a hose or a signal post crossing the painted number."""
    x0, y0, x1, y1 = boxes[0]
    width = max(2, int((y1 - y0) * rng.uniform(0.15, 0.45)))
    x = int(rng.integers(x0, max(x0 + 1, x1 - width)))
    out = img.copy()
    out[:, x: x + width] = np.array([45, 45, 48], np.float32) * rng.uniform(0.6, 1.4)
    return out, boxes


#: Name → (function, name of its probability in FrameParams), in the order they are applied.
DEGRADATIONS: dict[str, tuple[Callable, str]] = {
    "dirt": (dirt, "p_dirt"),
    "rust": (rust, "p_rust"),
    "occlusion": (occlusion, "p_occlusion"),
    "perspective": (perspective, "p_perspective"),
    "blur": (motion_blur, "p_blur"),
    "night": (night, "p_night"),
}


def list_degradations() -> list[str]:
    """The degradation names, in the order they are applied."""
    return list(DEGRADATIONS)


def degrade(image: np.ndarray, boxes: BBox | list[BBox], rng: np.random.Generator,
            params: FrameParams = FrameParams()) -> tuple[np.ndarray, BBox | list[BBox], list[str]]:
    """Apply each degradation with its probability; always add sensor noise.

    Args:
        boxes: the text box, or a list of boxes (the identifier's, then its lines').

    Returns:
        The spoiled uint8 image, the box(es) after any warp, and the names of the degradations applied.
    """
    single = isinstance(boxes, tuple)
    boxes = [boxes] if single else list(boxes)
    img = image.astype(np.float32)
    applied = []
    for name, (fn, p_name) in DEGRADATIONS.items():
        if rng.random() < getattr(params, p_name):
            img, boxes = fn(img, boxes, rng, params)
            applied.append(name)
    img = img + rng.normal(0, 3, size=img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), boxes[0] if single else boxes, applied
