"""Threat projection as the training-data engine: every sample a new threat in a clean training background.

An archive holds a few dozen threat wagons, so a model trained on them alone sees each kind of concealment a
handful of times and learns the synthesiser's scenes by heart. Here each sample is drawn afresh:

1. a clean wagon of the training split (or an imported real scan of a train outside val and test) is read at its
   native pitch (kept in a small per-worker cache);
2. a window the size of one model tile is chosen inside its load envelope (``cargoscan.tip.placement``);
3. 1–2 objects of the threat library (``cargoscan.tip.library``: drugs, cigarettes, weapons, false walls,
   floors and roofs, underframe boxes, voids, …) are placed in the window at sites that follow concealment
   practice and **projected through the scanner's polyenergetic physics** (``cargoscan.tip.project.Projector``,
   the very code of ``cargoscan tip``), with exact masks (``cargoscan.tip.insertion.label_mask``);
4. the window is re-imaged as if by another scanner (:mod:`cargoscan.data.randomize`: texture, blur, gain,
   noise, pitch ±15 %) and turned into model channels by ``cargoscan.data.channels.input_channels`` — the
   function prepare and the engine use.

A sample is a function of its key alone (``numpy`` generator seeded by ``(seed, key)``), so a run is
reproducible whatever the number of workers, and every key is a distinct threat instance. The same engine runs
unchanged on real backgrounds: an imported scan has no labels, so its wagon pixels are "unlabelled" (ignored by
the losses) and only the projected threats and the air around the wagon are labelled.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from cargoscan.archive.io import scan_pitch
from cargoscan.archive import ArchivePaths, load_sample
from cargoscan.data.channels import air_channels, input_channels, resample_mask
from cargoscan.data.dataset import NO_LABEL, Prepared
from cargoscan.data.randomize import Draw, RandomizeParams, draw, reimage
from cargoscan.data.tiling import crop

log = logging.getLogger(__name__)

#: Consecutive keys that draw the same background scan.
BACKGROUND_RUN = 4


@dataclass(frozen=True)
class ProjectionParams:
    """``train.projection`` in params.yaml."""

    share: float = 0.35                            # of the training samples; 0 turns the engine off
    threats_per_tile: tuple[int, int] = (1, 2)
    threats: tuple[str, ...] = ()                  # names of cargoscan.tip.library.list_threats(); () = all
    archive: str = ""                              # the prepared split's archive; "" = the one prepare read
    imported: tuple[str, ...] = ("data/imported",)  # real scans (cargoscan import) also used as backgrounds
    cache_scans: int = 96                          # native scans kept in memory per worker (~10 MB each)
    attempts: int = 6                              # windows tried before a sample stays clean
    negative_share: float = 0.5                    # of projected samples: the same pipeline, no threat (matched)
    # of contraband drawn for the cargo (site in_cargo): the share set into dense goods (tip.placement's
    # hollowed_goods region), where loads hide it; 0: anywhere in the body (scripts/detection_gap.py)
    dense_share: float = 0.0
    randomize: RandomizeParams = field(default_factory=RandomizeParams)


@dataclass(frozen=True)
class Background:
    """A clean scan that threats may be projected into."""

    root: str
    scan_id: str
    label: int                                     # cargo-category index, NO_LABEL when unknown
    labelled: bool                                 # has a label mask (synthetic), or not (a real scan)


def backgrounds(data: Prepared, params: ProjectionParams) -> list[Background]:
    """Clean training backgrounds: the prepared train split's clean synthetic wagons (from ``params.archive``, by
    default the archive ``prepare`` read) and the imported real scans (``source.kind == imported``) of
    ``params.imported`` whose train is in neither the val nor the test split."""
    idx, cats = data.index, {c: i for i, c in enumerate(data.categories)}
    out: list[Background] = []
    archive = Path(params.archive or data.stats.get("raw_dir", "data/raw"))
    if archive.is_dir():
        sel = idx[(idx["split"] == "train") & (idx["has_threat"] == 0) & (idx["source"] == "synthetic")]
        out += [Background(str(archive), str(r.scan_id), cats.get(r.category, NO_LABEL), True)
                for r in sel.itertuples() if ArchivePaths(archive).scan_tiff(str(r.scan_id)).exists()]
    held = set(idx.loc[idx["split"].isin(["val", "test"]), "train_number"].astype(str))
    for root in map(Path, params.imported):
        if not root.is_dir():
            continue
        from cargoscan.archive import read_sidecar

        for sid in ArchivePaths(root).scan_ids():
            meta = read_sidecar(ArchivePaths(root).sidecar(sid))
            if (meta.get("source") or {}).get("kind") == "imported" and str(meta["train_number"]) not in held:
                out.append(Background(str(root), sid, NO_LABEL, False))
    return out


class _Scan:
    """A background at its native pitch, with what projection needs (built once per worker)."""

    def __init__(self, bg: Background):
        from cargoscan.tip.insertion import projector_for
        from cargoscan.tip.placement import PlacementError, find_envelope

        s = load_sample(bg.root, bg.scan_id, labels=bg.labelled)
        self.image, self.mask, self.meta = s["image"], s.get("mask"), s["meta"]
        self.pitch = scan_pitch(self.meta)
        self.projector = projector_for(self.meta)
        try:
            self.envelope = find_envelope(self.image)
        except PlacementError:
            self.envelope = None
        self._sites: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def site_pixels(self, site: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, columns) of the pixels where a threat of ``site`` may lie (``tip.placement``), computed once."""
        if site not in self._sites:
            from cargoscan.tip.config import PlacementParams
            from cargoscan.tip.placement import allowed_region

            region = allowed_region(self.envelope, site, PlacementParams().margin_px) & ~self.envelope.starved
            self._sites[site] = np.nonzero(region)
        return self._sites[site]


class ProjectedTiles(Dataset):
    """Tiles with threats projected on the fly; key ``k`` (any int ≥ 0) gives the same sample every time.

    Args:
        data: the prepared directory (its train split, categories, tile, pitch, channels, normalisation).
        params: the engine's parameters.
        transform: the training transform (albumentations, physical units), as for prepared tiles.
        seed: the run's seed.
    """

    def __init__(self, data: Prepared, params: ProjectionParams, transform: Callable | None = None, seed: int = 0):
        from cargoscan.tip.library import list_threats

        self.data, self.params, self.transform, self.seed = data, params, transform, seed
        self.tile = int(data.stats["tile"])
        self.pitch = tuple(float(v) for v in data.stats["pitch_mm"])
        self.channels = tuple(data.stats["channels"])
        self.names = list(params.threats) or list_threats()
        self.pool = backgrounds(data, params)
        if not self.pool:
            raise ValueError("threat projection: no clean training background (no clean wagon of the train split "
                             f"in {params.archive or data.stats.get('raw_dir', 'data/raw')}, no imported scan)")
        self._cache: OrderedDict[int, _Scan] = OrderedDict()

    def __len__(self) -> int:           # keys are unbounded; the sampler draws them
        return 2 ** 31 - 1

    def scan(self, i: int) -> _Scan:
        if i not in self._cache:
            if len(self._cache) >= max(1, self.params.cache_scans):
                self._cache.popitem(last=False)
            self._cache[i] = _Scan(self.pool[i])
        self._cache.move_to_end(i)
        return self._cache[i]

    def render(self, key: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        """(C, tile, tile) channels in physical units, (tile, tile) mask, the category label and the number of
        projected objects, for ``key``."""
        rng = np.random.default_rng([self.seed, int(key)])
        d = draw(rng, self.params.randomize)
        # Matched negatives: windows chosen, re-imaged and labelled exactly as the positives, with nothing
        # projected. Without them "re-imaged by another scanner" or "a window centred in the load" would itself
        # predict a threat, a shortcut that real scans do not share.
        negative = bool(rng.random() < self.params.negative_share)
        for attempt in range(max(1, self.params.attempts)):
            # A few consecutive keys share a background (the sampler hands out keys in runs): one scan read
            # serves several samples, while windows, threats and re-imaging still differ per key.
            pick = np.random.default_rng([self.seed, int(key) // BACKGROUND_RUN, attempt])
            b = int(pick.integers(len(self.pool)))
            s = self.scan(b)
            if s.envelope is None:
                continue
            out = self._project(s, d, rng, negative)
            if out is not None:
                x, m, n = out
                return x, m, self.pool[b].label, n
        x, m = self._clean(rng)
        return x, m, NO_LABEL, 0

    def _window(self, s: _Scan, d: Draw, rng: np.random.Generator, site: str) -> tuple[int, int, int, int]:
        """A native window that becomes one model tile at the drawn pitch, centred on a pixel where a threat of
        ``site`` may lie (in the load envelope when the scan has no such pixel).

        Centring on the site, not anywhere in the envelope, is what lets floors, roofs, end walls and the
        underframe receive their concealments: a window drawn in the envelope rarely holds the underframe, and
        those threats would fall back to easier ones."""
        h, w = s.image.shape[1:]
        wh = min(h, int(np.ceil(self.tile * self.pitch[0] / (s.pitch[0] * d.pitch[0]))))
        ww = min(w, int(np.ceil(self.tile * self.pitch[1] / (s.pitch[1] * d.pitch[1]))))
        e = s.envelope
        ys, xs = s.site_pixels(site)
        if ys.size:
            i = int(rng.integers(ys.size))
            cy, cx = int(ys[i]), int(xs[i])
        else:
            cy = int(rng.integers(e.top, max(e.top + 1, e.bottom)))
            cx = int(rng.integers(e.left, max(e.left + 1, e.right)))
        y0, x0 = int(np.clip(cy - wh // 2, 0, h - wh)), int(np.clip(cx - ww // 2, 0, w - ww))
        return y0, y0 + wh, x0, x0 + ww

    def _project(self, s: _Scan, d: Draw, rng: np.random.Generator, negative: bool = False):
        """Channels, mask and object count of one window with threats projected (none when ``negative``), or
        None if none could be placed."""
        native = self.window_native(s, d, rng) if negative else self.project_native(s, d, rng)
        if native is None:
            return None
        window, _, mask, n = native
        window = reimage(window, d, rng)
        src = (s.pitch[0] * d.pitch[0], s.pitch[1] * d.pitch[1])
        x = input_channels(window, src, self.pitch, self.channels)
        m = resample_mask(mask, x.shape[1:])
        return crop(x, 0, 0, self.tile, fill=air_channels(self.channels)), crop(m, 0, 0, self.tile, fill=0), n

    def window_native(self, s: _Scan, d: Draw, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """A matched negative at the scan's own pitch: the window as :meth:`project_native` would choose it, with
        its own labels (a real scan's wagon pixels unlabelled, as around a projected threat)."""
        from cargoscan.tip.config import PlacementParams
        from cargoscan.tip.insertion import label_mask
        from cargoscan.tip.library import threat_site

        # The window's site is drawn as for a positive (the site of a threat drawn by name), so that where a
        # window sits says nothing about whether it holds a threat.
        site = threat_site(str(rng.choice(self.names)))
        y0, y1, x0, x1 = self._window(s, d, rng, site)
        window = s.image[:, y0:y1, x0:x1]
        base = s.mask[y0:y1, x0:x1] if s.mask is not None else None
        return window, window, label_mask(window, [], base, PlacementParams().wall_level), 0

    def _into_goods(self, patch, s: _Scan, rng: np.random.Generator):
        """``patch``, or for ``dense_share`` of the contraband meant for the cargo, the same patch sited in dense
        goods. Drawn uniformly over the body, nearly every projected threat lands on light goods, while a load
        (and the synthesiser) hides most of them in dense ones: a model trained so finds projected weapons and
        hardly the archive's (README, issue 14)."""
        share = self.params.dense_share
        if share <= 0 or patch.site != "in_cargo" or s.envelope.dense is None or not s.envelope.dense.any():
            return patch                      # no draw: with the share at 0 every key gives what it gave before
        if rng.random() >= share:
            return patch
        return dataclasses.replace(patch, site="hollowed_goods")

    def project_native(self, s: _Scan, d: Draw, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
        """At the scan's own pitch: the window with threats projected, the same window before, its label mask
        and the number of objects; None when no threat found a place in the window."""
        from cargoscan.tip.config import PlacementParams
        from cargoscan.tip.insertion import Placed, label_mask
        from cargoscan.tip.library import create_threat
        from cargoscan.tip.placement import PlacementError, place

        lo, hi = self.params.threats_per_tile
        names = [str(rng.choice(self.names)) for _ in range(int(rng.integers(lo, hi + 1)))]
        patches = [self._into_goods(create_threat(name, rng, s.pitch), s, rng) for name in names]
        y0, y1, x0, x1 = self._window(s, d, rng, patches[0].site)  # the first threat's site
        occupied = np.ones(s.image.shape[1:], bool)
        occupied[y0:y1, x0:x1] = False              # threats go inside the window only
        image, placed = s.image, []
        for name, patch in zip(names, patches):
            try:
                y, x = place(image, patch.footprint, patch.site, rng, PlacementParams(), s.envelope, occupied)
            except PlacementError:
                continue
            image = s.projector.project(image, patch, y, x, rng)
            ph, pw = patch.shape
            occupied[y:y + ph, x:x + pw] |= patch.footprint
            for inst in patch.instances:
                m = np.zeros((y1 - y0, x1 - x0), bool)
                yy0, xx0 = max(y, y0), max(x, x0)
                yy1, xx1 = min(y + ph, y1), min(x + pw, x1)
                m[yy0 - y0:yy1 - y0, xx0 - x0:xx1 - x0] = inst.mask[yy0 - y:yy1 - y, xx0 - x:xx1 - x]
                placed.append(Placed(inst.cls, m, inst.material, inst.mass_kg, patch.site, name))
        if not placed:
            return None
        window = image[:, y0:y1, x0:x1]
        base = s.mask[y0:y1, x0:x1] if s.mask is not None else None
        mask = label_mask(window, placed, base, PlacementParams().wall_level)
        return window, s.image[:, y0:y1, x0:x1], mask, len(placed)

    def _clean(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A plain tile of air (no background could take a threat): keeps the sample count, teaches nothing wrong."""
        return (np.zeros((len(self.channels), self.tile, self.tile), np.float32),
                np.zeros((self.tile, self.tile), np.uint8))

    def __getitem__(self, key: int) -> dict[str, Any]:
        image, mask, label, n = self.render(key)
        image = image.astype(np.float32)
        if self.transform is not None:
            out = self.transform(image=np.ascontiguousarray(image.transpose(1, 2, 0)), mask=mask)
            image, mask = out["image"].transpose(2, 0, 1), out["mask"]
        return {"image": torch.from_numpy(self.data.normalise(image)),
                "mask": torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64)),
                "label": torch.tensor(label, dtype=torch.int64),
                "meta": {"scan_id": "projected", "y": -1, "x": -1, "key": int(key), "n_threats": int(n)}}

    def plot(self, key: int):
        """Figure of the sample of ``key`` (in physical units) with its label."""
        from cargoscan.data.dataset import plot_sample

        image, mask, _, n = self.render(key)
        return plot_sample({"image": image, "mask": mask, "meta": {"scan_id": f"projected #{key} ({n} objects)"}})
