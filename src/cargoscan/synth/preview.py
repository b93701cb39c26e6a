"""A preview PNG of one scan with its label overlay: the data side's ``plot()``.

Top: the high-energy image as an operator sees it (grey, log-scaled transmission, starvation black). Bottom:
the same image with the semantic classes blended in their ``classes.yaml`` colours and the instances boxed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from cargoscan.archive import load_sample
from cargoscan.archive.classes import palette


def grey(image: np.ndarray) -> np.ndarray:
    """(2, H, W) uint16 → (H, W) uint8 grey of the high channel: A from 0 (white) to 10 (black), square-root
    scaled like an operator's display so that dense loads keep their gradients."""
    a = -np.log(np.maximum(image[0], 1).astype(np.float32) / 65535.0)
    return (255 * np.clip(1 - np.sqrt(a / 10.0), 0, 1)).astype(np.uint8)


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """(H, W, 3) uint8: the grey scan with non-background classes blended in their colours."""
    g = grey(image)
    rgb = np.repeat(g[..., None], 3, axis=2).astype(np.float32)
    colours = palette().astype(np.float32)[mask]
    a = np.where(mask[..., None] > 1, alpha, np.where(mask[..., None] == 1, alpha * 0.3, 0.0))
    return (rgb * (1 - a) + colours * a).astype(np.uint8)


def plot(sample: dict, max_width: int = 2000) -> Image.Image:
    """A preview image of a sample (``image``, ``mask``, ``instances``), scaled to at most ``max_width``."""
    image, mask = sample["image"], sample["mask"]
    top = np.repeat(grey(image)[..., None], 3, axis=2)
    bottom = overlay(image, mask)
    pic = Image.fromarray(np.concatenate([top, bottom], axis=0))
    draw = ImageDraw.Draw(pic)
    h = image.shape[1]
    colours = palette()
    from cargoscan.archive.classes import class_id
    for inst in sample.get("instances", []):
        x0, y0, x1, y1 = inst["bbox"]
        c = tuple(int(v) for v in colours[class_id(inst["class"])])
        draw.rectangle([x0, y0 + h, x1, y1 + h], outline=c, width=3)
        draw.text((x0 + 3, y0 + h + 3), f"{inst['class']} {inst['mass_kg']:.0f} kg", fill=c)
    meta = sample.get("meta", {})
    draw.text((8, 8), f"{meta.get('scan_id', '')}  {meta.get('wagon_type', '')} {meta.get('wagon_number', '')}  "
              f"{' '.join(meta.get('container_numbers', []))}", fill=(255, 0, 0))
    if pic.width > max_width:
        pic = pic.resize((max_width, int(pic.height * max_width / pic.width)), Image.Resampling.LANCZOS)
    return pic


def write_preview(root: str | Path, scan_id: str, out: str | Path) -> Path:
    """Write the preview PNG of ``scan_id`` from the archive at ``root``."""
    sample = load_sample(root, scan_id, labels=True)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot(sample).save(out)
    return out
