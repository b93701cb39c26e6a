"""Text localisation: the detector's heat map to boxes, and boxes to the recogniser's input crops.

The detector (:class:`~cargoscan.ocr.model.TextDetector`) sees the frame in grey at a quarter of its size and
marks painted text; connected regions of its heat map become boxes, padded a little (the heat map is coarse) and
cut from the full-resolution frame, then resized to the recogniser's fixed line height. Training uses the same
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


def detector_input(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The detector's (1, H, W) input."""
    return normalise(cv2.resize(gray, (size[1], size[0]), interpolation=cv2.INTER_AREA))[None]


def detector_target(bbox: BBox, frame_shape: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The (1, H/2, W/2) training target: 1 inside the text box."""
    h, w = size[0] // 2, size[1] // 2
    sy, sx = h / frame_shape[0], w / frame_shape[1]
    x0, y0, x1, y1 = bbox
    out = np.zeros((1, h, w), np.float32)
    out[0, int(y0 * sy): max(int(y0 * sy) + 1, int(np.ceil(y1 * sy))),
        int(x0 * sx): max(int(x0 * sx) + 1, int(np.ceil(x1 * sx)))] = 1.0
    return out


def boxes_from_heatmap(prob: np.ndarray, frame_shape: tuple[int, int], threshold: float = 0.5,
                       max_boxes: int = 3) -> list[tuple[BBox, float]]:
    """Connected regions of the heat map as frame boxes with their mean score, best first.

    Args:
        prob: (h, w) text probabilities.
        frame_shape: (H, W) of the full frame.
        threshold: the probability that counts as text.
        max_boxes: how many boxes to keep.
    """
    h, w = prob.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats((prob > threshold).astype(np.uint8), connectivity=8)
    sy, sx = frame_shape[0] / h, frame_shape[1] / w
    boxes = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < 3 or bw < 2 * bh:   # text lines are wide; a blob or a post is not a number
            continue
        score = float(prob[labels == i].mean()) * area
        boxes.append(((int(x * sx), int(y * sy), int((x + bw) * sx), int((y + bh) * sy)), score))
    boxes.sort(key=lambda b: -b[1])
    return boxes[:max_boxes]


def crop_line(gray: np.ndarray, bbox: BBox, size: tuple[int, int],
              pad: tuple[float, float, float, float] = (0.25, 0.15, 0.25, 0.15)) -> np.ndarray:
    """Cut a text box (padded by fractions of its height: left, top, right, bottom) and resize it.

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
    crop = cv2.resize(gray[y0:y1, x0:x1], (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return normalise(crop)[None]
