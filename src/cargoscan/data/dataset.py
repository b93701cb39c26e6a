"""Datasets over a prepared directory: tiles for training, whole wagons for evaluation.

Samples are dicts (torchgeo style): ``image`` (C, H, W) float32, normalised with the training split's statistics
after augmentation; ``mask`` (H, W) int64 class ids (255: unlabelled pixels of a TIP'd real scan, ignored by the
losses and metrics); ``label`` the cargo-category index (:data:`NO_LABEL` when unknown); ``meta`` strings and
ints that identify where the sample came from.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from cargoscan.archive.classes import palette, threat_ids
from cargoscan.data.channels import air_channels
from cargoscan.data.tiling import crop
from cargoscan.data.validation import UNLABELLED

#: Category label of a scan with an unknown cargo category (``ignore_index`` of the category loss).
NO_LABEL = -100
#: Mask value of unlabelled pixels (TIP'd real scans): ``ignore_index`` of the losses and metrics.
IGNORE_INDEX = UNLABELLED


class Prepared:
    """The files of one prepared directory: scan index, tile index and statistics."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not (self.root / "stats.json").exists():
            raise FileNotFoundError(f"{self.root}: not a prepared directory (run `cargoscan prepare`)")
        self.stats: dict[str, Any] = json.loads((self.root / "stats.json").read_text(encoding="utf-8"))
        self._mmaps: dict[str, np.ndarray] = {}

    @cached_property
    def index(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "index.csv", dtype={"train_number": str, "wagon_number": str,
                                                           "threat_classes": str, "sites": str,
                                                           "category": str},
                           keep_default_na=False)

    @cached_property
    def tiles(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "tiles.csv")

    @property
    def categories(self) -> list[str]:
        return list(self.stats["categories"])

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.stats["norm_mean"], dtype=np.float32)[:, None, None]

    @property
    def std(self) -> np.ndarray:
        return np.asarray(self.stats["norm_std"], dtype=np.float32)[:, None, None]

    def image(self, scan_id: str) -> np.ndarray:
        """(C, H, W) channels in physical units, memory-mapped."""
        key = f"{scan_id}.image"
        if key not in self._mmaps:
            self._mmaps[key] = np.load(self.root / "scans" / f"{key}.npy", mmap_mode="r")
        return self._mmaps[key]

    def mask(self, scan_id: str) -> np.ndarray:
        key = f"{scan_id}.mask"
        if key not in self._mmaps:
            self._mmaps[key] = np.load(self.root / "scans" / f"{key}.npy", mmap_mode="r")
        return self._mmaps[key]

    def normalise(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32)


def plot_sample(sample: dict[str, Any], prediction: np.ndarray | None = None, title: str | None = None):
    """A matplotlib figure: A_high in grey with the label (and, given, the predicted) mask as colour overlay."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = np.asarray(sample["image"])[0]
    masks = [("label", np.asarray(sample["mask"]))] + ([("prediction", prediction)] if prediction is not None else [])
    fig, axes = plt.subplots(len(masks), 1, figsize=(8, 2.2 * len(masks)), squeeze=False)
    colours = palette()
    for ax, (name, m) in zip(axes[:, 0], masks):
        ax.imshow(image, cmap="gray_r")
        rgba = np.zeros(m.shape + (4,), dtype=np.float32)
        known = m != IGNORE_INDEX
        rgba[..., :3] = colours[np.where(known, np.clip(m, 0, len(colours) - 1), 0)] / 255.0
        rgba[..., 3] = np.where(known & (m > 1), 0.5, 0.0)  # hide background, vehicle and unlabelled pixels
        ax.imshow(rgba)
        ax.set_title(f"{title or sample.get('meta', {}).get('scan_id', '')} {name}", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


class TileDataset(Dataset):
    """Tiles of one split.

    Args:
        root: the prepared directory.
        split: ``train``, ``val`` or ``test``.
        transform: an albumentations-style callable ``(image=HWC, mask=HW) -> dict`` (see
            :mod:`cargoscan.data.augment`), applied in physical units before normalisation.
    """

    def __init__(self, root: str | Path, split: str, transform: Callable | None = None):
        self.data = Prepared(root)
        self.split = split
        self.tiles = self.data.tiles[self.data.tiles["split"] == split].reset_index(drop=True)
        self.transform = transform
        self.tile = int(self.data.stats["tile"])
        self.air = air_channels(tuple(self.data.stats["channels"]))   # padding past the scan: air, per channel
        cats = {c: i for i, c in enumerate(self.data.categories)}
        idx = self.data.index.set_index("scan_id")
        self.labels = [cats.get(idx.loc[s, "category"], NO_LABEL) for s in self.tiles["scan_id"]]
        names = self.data.stats["classes"]
        self.has_threat = (self.tiles[[f"n_{names[i]}" for i in threat_ids()]].sum(1) > 0).to_numpy()

    def __len__(self) -> int:
        return len(self.tiles)

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self.tiles.iloc[i]
        scan_id, y, x = str(row["scan_id"]), int(row["y"]), int(row["x"])
        image = crop(self.data.image(scan_id), y, x, self.tile, fill=self.air).astype(np.float32)
        mask = crop(self.data.mask(scan_id), y, x, self.tile, fill=0)
        if self.transform is not None:
            out = self.transform(image=np.ascontiguousarray(image.transpose(1, 2, 0)), mask=mask)
            image, mask = out["image"].transpose(2, 0, 1), out["mask"]
        return {
            "image": torch.from_numpy(self.data.normalise(image)),
            "mask": torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64)),
            "label": torch.tensor(self.labels[i], dtype=torch.int64),
            "meta": {"scan_id": scan_id, "y": y, "x": x, "key": i, "n_threats": 0},
        }

    def plot(self, i: int, prediction: np.ndarray | None = None):
        """Figure of tile ``i`` (in physical units) with its label and an optional prediction."""
        row = self.tiles.iloc[i]
        s = {"image": crop(self.data.image(row["scan_id"]), int(row["y"]), int(row["x"]), self.tile),
             "mask": crop(self.data.mask(row["scan_id"]), int(row["y"]), int(row["x"]), self.tile),
             "meta": {"scan_id": row["scan_id"]}}
        return plot_sample(s, prediction)


class WagonDataset(Dataset):
    """Whole scans (wagons) of one split, in physical units (tiling and normalisation happen at prediction)."""

    def __init__(self, root: str | Path, split: str):
        self.data = Prepared(root)
        self.rows = self.data.index[self.data.index["split"] == split].reset_index(drop=True)
        self.cats = {c: i for i, c in enumerate(self.data.categories)}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self.rows.iloc[i]
        sid = str(row["scan_id"])
        return {"image": np.asarray(self.data.image(sid), dtype=np.float32),
                "mask": np.asarray(self.data.mask(sid)),
                "label": self.cats.get(row["category"], NO_LABEL),
                "meta": row.to_dict()}

    def plot(self, i: int, prediction: np.ndarray | None = None):
        return plot_sample(self[i], prediction)
