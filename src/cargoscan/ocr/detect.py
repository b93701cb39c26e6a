"""Text localisation: the detector's heat map to boxes, and boxes to the recogniser's input crops.

The detector (:class:`~cargoscan.ocr.model.TextDetector`) sees the frame in grey at 2/5 of its size, each pixel
measured against its neighbourhood (:func:`local_contrast`: faint paint on a night frame stands out as well as
fresh paint by day), and marks
the *core* of each painted text line (its middle ``CORE`` of the height): container codes are often stacked in
two or three lines with little leading, and whole-line masks would merge them at the heat map's resolution,
while the cores stay apart. Connected regions of the heat map are grown back to full line height, pieces on the
same row (a line broken at its spaces) are joined, and the lines come out in reading order. Each line is cut
from the full-resolution frame and scaled to the recogniser's line height keeping its aspect (a four-letter
owner code and an eleven-character line must not be stretched to the same width). Training uses the same
:func:`crop_line` on jittered ground-truth boxes, so both stages agree on what a crop looks like.
"""

from __future__ import annotations

import cv2
import numpy as np

BBox = tuple[int, int, int, int]


def to_gray(image: np.ndarray) -> np.ndarray:
    """An RGB (or already grey) uint8 frame as float32 grey in [0, 1]."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image.astype(np.float32) / 255.0


def normalise(x: np.ndarray) -> np.ndarray:
    """Per-image contrast normalisation: night frames and white containers look alike to the networks."""
    return (x - x.mean()) / (x.std() + 1e-3)


#: Side of the window of the local contrast normalisation, in detector-input pixels: about two text-line heights
#: (lines are 6-12 px high at the detector's scale), so a line is measured against the body right around it.
LOCAL_WINDOW = 15

#: How the detector's input is normalised: "global" (whole frame: the first models) or "local" (each pixel
#: against its neighbourhood, :func:`local_contrast`).
DETECTOR_NORMS = ("global", "local")


def local_contrast(x: np.ndarray, window: int = LOCAL_WINDOW) -> np.ndarray:
    """Each pixel's deviation from its neighbourhood's mean, in units of the neighbourhood's standard deviation.

    Faint paint (light yellow on a yellow door, grey stencils on a night frame) is a small difference on a
    frame-wide scale but as large as any other near it: measured locally, every painted line stands out from its
    own background, while flat body panels stay near zero. The floor under the deviation (3 % of full scale) keeps
    sensor noise on a flat panel from being amplified into text.
    """
    mean = cv2.blur(x, (window, window))
    var = cv2.blur((x - mean) ** 2, (window, window))
    return (x - mean) / np.sqrt(var + 1e-3)


def detector_input(gray: np.ndarray, size: tuple[int, int], norm: str = "global") -> np.ndarray:
    """The detector's (1, H, W) input: the grey frame at detector size, normalised by ``norm``."""
    if norm not in DETECTOR_NORMS:
        raise ValueError(f"unknown detector normalisation {norm!r}; known: {DETECTOR_NORMS}")
    x = cv2.resize(gray, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return (local_contrast(x) if norm == "local" else normalise(x))[None].astype(np.float32)


#: The share of a line's height the detector marks (its vertical middle).
CORE = 0.6


def detector_target(boxes: list[BBox], frame_shape: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The (1, H/2, W/2) training target: 1 on the core of each text line's box."""
    h, w = size[0] // 2, size[1] // 2
    sy, sx = h / frame_shape[0], w / frame_shape[1]
    out = np.zeros((1, h, w), np.float32)
    for x0, y0, x1, y1 in boxes:
        margin = (1 - CORE) / 2 * (y1 - y0)
        c0, c1 = (y0 + margin) * sy, (y1 - margin) * sy
        out[0, int(round(c0)): max(int(round(c0)) + 1, int(round(c1))),
            int(x0 * sx): max(int(x0 * sx) + 1, int(np.ceil(x1 * sx)))] = 1.0
    return out


def boxes_from_heatmap(prob: np.ndarray, frame_shape: tuple[int, int], threshold: float = 0.5,
                       max_boxes: int = 3) -> list[tuple[BBox, float]]:
    """Text lines of the heat map as frame boxes with their scores, in reading order (top to bottom).

    Args:
        prob: (h, w) text-core probabilities.
        frame_shape: (H, W) of the full frame.
        threshold: the probability that counts as text.
        max_boxes: how many lines to keep (the best scoring).
    """
    h, w = prob.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats((prob > threshold).astype(np.uint8), connectivity=8)
    sy, sx = frame_shape[0] / h, frame_shape[1] / w
    grow = (1 - CORE) / 2 / CORE            # the core is CORE of the line: grow it back on both sides
    pieces = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < 2:
            continue
        # Cell centres, not cell edges: a core two cells high is ~one cell of ink, and growing the cells' full
        # extent made lines ~50 % too tall (crops the recogniser never saw in training).
        y0, y1 = (y + 0.5) * sy, (y + bh - 0.5) * sy
        g = max(y1 - y0, 0.5 * sy) * grow + 0.5 * sy
        pieces.append([x * sx, y0 - g, (x + bw) * sx, y1 + g, float(prob[labels == i].sum())])
    lines = _join_rows(pieces)
    boxes = []
    for x0, y0, x1, y1, score in lines:
        if x1 - x0 < 1.5 * (y1 - y0):   # text lines are wide (CSQU is the shortest); a blob or a post is not
            continue
        boxes.append(((int(max(0, x0)), int(max(0, y0)), int(min(frame_shape[1], x1)), int(min(frame_shape[0], y1))),
                      score))
    boxes = sorted(boxes, key=lambda b: -b[1])[:max_boxes]
    return sorted(boxes, key=lambda b: (b[0][1] + b[0][3]) / 2)


def _join_rows(pieces: list[list[float]]) -> list[list[float]]:
    """Join pieces lying on one row and close together (a line the heat map broke at its spaces)."""
    pieces = sorted(pieces, key=lambda p: p[0])
    merged = True
    while merged:
        merged = False
        for i in range(len(pieces)):
            for j in range(i + 1, len(pieces)):
                a, b = pieces[i], pieces[j]
                ha, hb = a[3] - a[1], b[3] - b[1]
                overlap = min(a[3], b[3]) - max(a[1], b[1])
                gap = max(a[0], b[0]) - min(a[2], b[2])
                if overlap > 0.5 * min(ha, hb) and gap < 1.5 * max(ha, hb):
                    pieces[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]), a[4] + b[4]]
                    del pieces[j]
                    merged = True
                    break
            if merged:
                break
    return pieces


def crop_line(gray: np.ndarray, bbox: BBox, size: tuple[int, int],
              pad: tuple[float, float, float, float] = (0.25, 0.15, 0.25, 0.15)) -> np.ndarray:
    """Cut a text box (padded by fractions of its height: left, top, right, bottom) and scale it to height H.

    The aspect is kept (a line wider than W is squeezed to W); the rest of the width is the normalised crop's
    mean (0).

    Returns:
        The (1, H, W) normalised crop for the recogniser.
    """
    H, W = gray.shape
    x0, y0, x1, y1 = bbox
    bh = max(1, y1 - y0)
    x0, x1 = int(max(0, x0 - pad[0] * bh)), int(min(W, x1 + pad[2] * bh))
    y0, y1 = int(max(0, y0 - pad[1] * bh)), int(min(H, y1 + pad[3] * bh))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((1, *size), np.float32)
    width = int(np.clip(round((x1 - x0) * size[0] / (y1 - y0)), 4, size[1]))
    crop = normalise(cv2.resize(gray[y0:y1, x0:x1], (width, size[0]), interpolation=cv2.INTER_AREA))
    out = np.zeros((1, *size), np.float32)
    out[0, :, :width] = crop
    return out
