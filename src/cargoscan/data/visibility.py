"""How visible is each labelled threat at the model pitch? Contrast-to-noise against its own surroundings.

A detector can only be asked to find what the image shows. Concealment is *meant* to hide: a false front wall
looks like a wall, a pallet of cigarettes looks like the declared cartons. Before blaming (or praising) a model,
measure each labelled threat region in the prepared channels, exactly as the model sees them:

    CNR = |mean(region) − mean(ring)| / std(ring)

where the ring is the band ``ring_px`` pixels wide around the region, restricted to labelled wagon pixels (not
air), and the channel is A_high (attenuation) or the dual-energy ratio (material). A region with CNR > 1 in
either channel stands out of the texture around it; one below that can only be found through shape or context.

The evaluate stage reports detection separately for wagons whose threats are visible by this measure, so that
"the model misses drugs" and "the drugs in this split are invisible at 16 mm" are told apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from cargoscan.archive.classes import class_names, threat_ids
from cargoscan.data.dataset import IGNORE_INDEX, Prepared

#: CNR above which a region is called visible (in A_high or in the ratio channel).
VISIBLE_CNR = 1.0
#: The (attenuation, material) channels measured, by the names ``prepare`` writes into ``stats.json``.
CHANNELS = ("a_high", "ratio")


def region_contrast(image: np.ndarray, mask: np.ndarray, region: np.ndarray, channels: list[int],
                    ring_px: int = 4) -> list[float] | None:
    """CNR of one region in each of ``channels``; ``None`` when its surroundings are too small to measure.

    Args:
        image: (C, H, W) channels in physical units.
        mask: (H, W) class ids (0 background = air around the wagon).
        region: (H, W) bool, the threat region.
        channels: channel indices to measure.
        ring_px: width of the surrounding band.
    """
    ring = ndi.binary_dilation(region, iterations=ring_px + 1) & ~ndi.binary_dilation(region, iterations=1)
    ring &= (mask >= 1) & (mask != IGNORE_INDEX)
    if ring.sum() < 5:
        return None
    out = []
    for c in channels:
        inside, around = image[c][region], image[c][ring]
        out.append(float(abs(inside.mean() - around.mean()) / (around.std() + 1e-6)))
    return out


def threat_visibility(prepared: str | Prepared, split: str | None = None, ring_px: int = 4) -> pd.DataFrame:
    """One row per connected threat region of the scans of ``split`` (all splits when ``None``).

    Columns: ``scan_id``, ``class``, ``sites`` (the scan's concealment sites), ``pixels``, ``min_side_px``,
    ``cnr_<channel>`` for A_high and the ratio, and ``visible`` (CNR above :data:`VISIBLE_CNR` in either).
    """
    data = prepared if isinstance(prepared, Prepared) else Prepared(prepared)
    names, ch_names = class_names(), list(data.stats["channels"])
    channels = [ch_names.index(c) for c in CHANNELS if c in ch_names]
    index = data.index[data.index["has_threat"] == 1]
    if split is not None:
        index = index[index["split"] == split]
    rows = []
    for _, r in index.iterrows():
        image = np.asarray(data.image(r["scan_id"]), dtype=np.float32)
        mask = np.asarray(data.mask(r["scan_id"]))
        for c in threat_ids():
            labels, _ = ndi.label(mask == c)
            for i, box in enumerate(ndi.find_objects(labels), start=1):
                # Measure in a window around the region (its ring fits inside), not over the whole wagon per region.
                win = tuple(slice(max(0, b.start - ring_px - 2), b.stop + ring_px + 2) for b in box)
                region = labels[win] == i
                cnr = region_contrast(image[(slice(None), *win)], mask[win], region, channels, ring_px)
                if cnr is None:
                    continue
                row = {"scan_id": r["scan_id"], "class": names[c], "sites": r["sites"], "pixels": int(region.sum()),
                       "min_side_px": int(min(box[0].stop - box[0].start, box[1].stop - box[1].start))}
                row.update({f"cnr_{ch_names[k]}": v for k, v in zip(channels, cnr)})
                rows.append(row)
    df = pd.DataFrame(rows, columns=["scan_id", "class", "sites", "pixels", "min_side_px",
                                     *[f"cnr_{ch_names[k]}" for k in channels]])
    cnr_cols = [c for c in df.columns if c.startswith("cnr_")]
    df["visible"] = (df[cnr_cols] > VISIBLE_CNR).any(axis=1) if len(df) else pd.Series(dtype=bool)
    return df


def visibility_summary(regions: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per threat class: regions, median size, median CNRs and the share of visible regions."""
    out: dict[str, dict[str, float]] = {}
    for name, g in regions.groupby("class"):
        out[str(name)] = {"regions": int(len(g)), "median_pixels": float(g["pixels"].median()),
                          **{f"median_{c}": float(g[c].median()) for c in g.columns if c.startswith("cnr_")},
                          "visible_share": float(g["visible"].mean())}
    return out


def visible_scans(regions: pd.DataFrame) -> set[str]:
    """Scans with at least one visible threat region."""
    return set(regions.loc[regions["visible"].astype(bool), "scan_id"])
