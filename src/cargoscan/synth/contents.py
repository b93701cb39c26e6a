"""What the packages hold, seen through the beam: the goods as objects, not as noise.

A ray across a loaded unit crosses ``n_y`` packages side by side, and in each it meets the items that package
holds: the soles and uppers in a shoe box, a monitor's glass and frame, garments folded in layers, tins in rows,
castings and shafts in a crate. The goods' path along that ray is the sum over those packages. So the texture of
a real load is the geometry of its items seen through their thickness, several layers deep: coherent shapes with
soft, partial edges (an edge in one layer is averaged with the others), smooth inside, and not white noise.

:func:`contents_field` draws that. Each of ``n_y`` layers is a plane of the category's items (:data:`ITEMS`) on
a jittered grid, each item a filled shape with its own fill; the layers are summed and the field normalised to
mean 1, so it redistributes the goods' path without changing their mass. Shapes are drawn with OpenCV on a
grid just fine enough for the smallest item (:data:`MIN_ITEM_PX`) and resized, which keeps a full-resolution wagon well inside the
synthesiser's one-wagon-per-second budget.

The numbers are the items' own sizes (shoe boxes, monitors, tins, folded shirts, panels): nothing here is fitted
to the real scans. What the real scans set is how the archive is *checked* (:mod:`cargoscan.synth.realism`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Items:
    """The items one package row holds, as the beam sees them (sizes in metres, along × height)."""

    shape: str                        # rect | ellipse | ring | layer
    size: tuple[float, float]         # mean size along the train and in height
    spread: float = 0.3               # relative spread of each dimension
    gap: float = 0.2                  # share of the pitch left empty between items
    floor: float = 0.15               # path between items, relative to an item's (wrapping, padding, small parts)
    fill: tuple[float, float] = (0.6, 1.4)   # an item's path relative to the mean item


#: Per cargo category, the items its packages hold. Categories drawn by their own geometry (tyres, coils, drums,
#: reels, bulk, liquids) are not here; their own shapes are their texture.
ITEMS: dict[str, Items] = {
    # folded garments in stacks: horizontal layers a few cm thick, seams and folds between them
    "garments": Items("layer", (0.45, 0.04), spread=0.5, gap=0.1, floor=0.35, fill=(0.6, 1.4)),
    # shoe boxes, two shoes each: soles are the dense part
    "footwear": Items("ellipse", (0.28, 0.07), spread=0.25, gap=0.25, floor=0.25, fill=(0.6, 1.5)),
    # monitors, phones in trays, computers: panels and frames
    "electronics": Items("rect", (0.35, 0.25), spread=0.4, gap=0.25, floor=0.2, fill=(0.4, 1.6)),
    # castings, shafts, housings: compact parts of every size
    "machinery": Items("ellipse", (0.25, 0.2), spread=0.6, gap=0.3, floor=0.1, fill=(0.3, 1.8)),
    # discs, drums, housings, pads in boxes
    "auto_parts": Items("ring", (0.28, 0.28), spread=0.3, gap=0.2, floor=0.15, fill=(0.5, 1.5)),
    # sacks of granules on pallets: each sack a rounded pillow
    "plastics": Items("ellipse", (0.55, 0.13), spread=0.15, gap=0.02, floor=0.5, fill=(0.8, 1.2)),
    # flat-pack panels, legs and frames
    "furniture": Items("layer", (0.9, 0.025), spread=0.4, gap=0.3, floor=0.1, fill=(0.6, 1.4)),
    # tins and jars in rows, pasta and juice cartons
    "food": Items("rect", (0.09, 0.11), spread=0.15, gap=0.1, floor=0.3, fill=(0.8, 1.2)),
}

MIN_ITEM_PX = 8   # grid pixels across the smallest item (see _plane)
MAX_LAYERS = 6    # layers drawn; a wider unit draws this many with the rest folded into their mean


def _plane(rng: np.random.Generator, shape: tuple[int, int], pitch: tuple[float, float], it: Items) -> np.ndarray:
    """One package row's items on an (H, W) plane: item paths relative to the mean item, ``floor`` between."""
    h, w = shape
    py, px = pitch
    sx, sz = it.size
    # draw on a grid that resolves the smallest item with MIN_ITEM_PX pixels, never finer than the image
    scale = min(1.0, MIN_ITEM_PX * max(py / (sz * (1 - it.spread)), px / (sx * (1 - it.spread))))
    gh, gw = max(int(h * scale), 1), max(int(w * scale), 1)
    gy, gx = py / scale, px / scale              # metres per grid pixel
    plane = np.full((gh, gw), it.floor, np.float32)
    step_z, step_x = sz / (1 - it.gap), sx / (1 - it.gap)
    if it.shape == "layer":                       # layers run the width of the package: one row of items
        step_x = sx * 1.02
    nz, nx = int(gh * gy / step_z) + 2, int(gw * gx / step_x) + 2
    z0, x0 = rng.uniform(-step_z, 0), rng.uniform(-step_x, 0)
    for iz in range(nz):
        row_shift = rng.uniform(0, step_x)        # rows are not aligned with one another
        for ix in range(nx):
            cz = z0 + (iz + 0.5) * step_z + rng.uniform(-0.15, 0.15) * step_z * it.gap
            cx = x0 + row_shift + (ix + 0.5) * step_x + rng.uniform(-0.15, 0.15) * step_x * it.gap
            a = sx * rng.uniform(1 - it.spread, 1 + it.spread) / 2 / gx
            b = sz * rng.uniform(1 - it.spread, 1 + it.spread) / 2 / gy
            v = float(rng.uniform(*it.fill))
            centre = (int(round(cx / gx)), int(round(cz / gy)))
            if it.shape in ("rect", "layer"):
                cv2.rectangle(plane, (int(centre[0] - a), int(centre[1] - b)),
                              (int(centre[0] + a), int(centre[1] + b)), v, -1)
            else:
                axes = (max(int(a), 1), max(int(b), 1))
                angle = float(rng.uniform(-25, 25)) if it.shape == "ellipse" else 0.0
                cv2.ellipse(plane, centre, axes, angle, 0, 360, v, -1)
                if it.shape == "ring":            # a disc or drum seen edge-on has a lighter bore
                    cv2.ellipse(plane, centre, (max(int(a * 0.45), 1), max(int(b * 0.45), 1)), 0, 0, 360,
                                v * 0.35, -1)
    if (gh, gw) != (h, w):
        plane = cv2.resize(plane, (w, h), interpolation=cv2.INTER_LINEAR)
    return plane


def contents_field(rng: np.random.Generator, shape: tuple[int, int], pitch: tuple[float, float], category: str,
                   n_y: int) -> np.ndarray | None:
    """Mean-1 multiplicative field of a category's goods path over an (H, W) layer, or None without items.

    Args:
        shape: the load layer's (rows, cols).
        pitch: (row, column) pitch in metres.
        category: a cargo category name; those drawn by their own geometry return None.
        n_y: packages side by side along the beam (the layers a ray crosses).
    """
    it = ITEMS.get(category)
    if it is None or shape[0] == 0 or shape[1] == 0:
        return None
    n = max(1, min(int(n_y), MAX_LAYERS))
    field = sum(_plane(rng, shape, pitch, it) for _ in range(n))
    if n_y > n:                                    # the layers not drawn add their mean: the sum's own mean
        field = field * (n / n_y) + np.float32((n_y - n) / n_y) * field.mean()
    return (field / max(float(field.mean()), 1e-6)).astype(np.float32)
