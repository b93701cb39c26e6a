"""The LightningDataModule: prepared training tiles mixed with threats projected on the fly, hard negatives
replayed, plain validation tiles.

A training epoch draws ``samples_per_epoch`` samples in three groups:

* **projected** (``projection.share``): a clean training background with threats projected into it
  (:class:`cargoscan.data.projected.ProjectedTiles`); every draw is a new key, so a new threat instance;
* **prepared threat tiles** (``threat_tile_fraction`` of the rest): the archive's own concealments, rendered by
  the synthesiser (voids, compartments and goods as whole scenes);
* **prepared clean tiles** (the rest), weighted by *hardness*: a clean tile on which the model last put a high
  threat probability is drawn up to ``1 + hard_negative_weight`` times as often (a replay buffer of hard
  negatives), so that walls, doors, bogies and dense cargo stop looking like threats.
"""

from __future__ import annotations

import logging
from typing import Iterator

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset, get_worker_info

from cargoscan.data.augment import AugmentParams, build_transform, reseed
from cargoscan.data.dataset import TileDataset
from cargoscan.data.projected import ProjectedTiles, ProjectionParams

log = logging.getLogger(__name__)


def _init_worker(worker_id: int) -> None:
    # torch gives every worker of every epoch its own seed, derived from the (seeded) main generator; albumentations
    # keeps its own generator, so hand it that seed too, or all workers would draw the same augmentations.
    info = get_worker_info()
    ds = info.dataset
    for part in getattr(ds, "parts", (ds,)):
        reseed(getattr(part, "transform", None), int(torch.initial_seed() % 2 ** 31))


class MixedTiles(Dataset):
    """Prepared tiles at keys [0, n), projected samples at keys n + k (k ≥ 0)."""

    def __init__(self, tiles: TileDataset, projected: ProjectedTiles | None):
        self.tiles, self.projected = tiles, projected
        self.parts = (tiles,) + ((projected,) if projected is not None else ())

    def __len__(self) -> int:
        return len(self.tiles)

    def __getitem__(self, key: int):
        n = len(self.tiles)
        if key < n:
            return self.tiles[key]
        return self.projected[key - n]


class HardNegatives:
    """Per-tile hardness of the clean prepared tiles: the model's last maximum threat probability on each."""

    def __init__(self, n: int, decay: float = 0.5):
        self.score = torch.zeros(n, dtype=torch.float64)
        self.decay = decay

    def update(self, keys: torch.Tensor, scores: torch.Tensor) -> None:
        keys = keys.long().cpu()
        ok = (keys >= 0) & (keys < len(self.score))
        k, s = keys[ok], scores.detach().double().cpu()[ok]
        self.score[k] = self.decay * self.score[k] + (1 - self.decay) * s


class MixSampler(Sampler[int]):
    """Draws an epoch of keys: projected / prepared threat / prepared clean (hardness-weighted), seeded per epoch."""

    def __init__(self, has_threat: torch.Tensor, hard: HardNegatives, num_samples: int, projected_share: float,
                 threat_share: float, hard_weight: float, seed: int):
        self.has_threat, self.hard = has_threat.bool(), hard
        self.num_samples, self.seed, self.epoch = num_samples, seed, 0
        self.projected_share, self.threat_share, self.hard_weight = projected_share, threat_share, hard_weight

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1009 + self.epoch)
        n, m = len(self.has_threat), self.num_samples
        pos = torch.nonzero(self.has_threat).ravel()
        neg = torch.nonzero(~self.has_threat).ravel()
        group = torch.rand(m, generator=g)
        t_share = self.threat_share * (1 - self.projected_share) if len(pos) else 0.0
        keys = torch.empty(m, dtype=torch.int64)
        proj = group < self.projected_share
        thr = (~proj) & (group < self.projected_share + t_share)
        cln = ~(proj | thr)
        # projected keys: fresh every epoch (n + epoch·m + j), so every draw is a new threat instance; consecutive,
        # so that runs of keys share a background scan (projected.BACKGROUND_RUN) and a worker reads it once
        keys[proj] = n + self.epoch * m + torch.arange(int(proj.sum()))
        if len(pos):
            keys[thr] = pos[torch.randint(len(pos), (int(thr.sum()),), generator=g)]
        if len(neg):
            w = 1.0 + self.hard_weight * self.hard.score[neg].clamp(0, 1)
            keys[cln] = neg[torch.multinomial(w, int(cln.sum()), replacement=True, generator=g)]
        else:
            keys[cln] = pos[torch.randint(len(pos), (int(cln.sum()),), generator=g)]
        self.epoch += 1
        return iter(keys.tolist())


class TileDataModule(L.LightningDataModule):
    """Tiles of ``prepared_dir``, mixed with projected threats.

    Args:
        threat_tile_fraction: share of the prepared tiles drawn from those holding a threat class.
        samples_per_epoch: samples drawn per epoch (0: the number of training tiles).
        projection: the projection engine's parameters (``share`` 0 turns it off).
        hard_negative_weight: how much more often the hardest clean tiles are drawn (0: uniform).
    """

    def __init__(self, prepared_dir: str, batch_size: int = 16, num_workers: int = 0,
                 augment: AugmentParams | None = None, seed: int = 0, threat_tile_fraction: float = 0.5,
                 samples_per_epoch: int = 0, projection: ProjectionParams | None = None,
                 hard_negative_weight: float = 4.0):
        super().__init__()
        self.prepared_dir, self.batch_size, self.num_workers = prepared_dir, batch_size, num_workers
        self.augment, self.seed = augment or AugmentParams(), seed
        self.threat_tile_fraction, self.samples_per_epoch = threat_tile_fraction, samples_per_epoch
        self.projection = projection or ProjectionParams(share=0.0)
        self.hard_negative_weight = hard_negative_weight
        self.hard: HardNegatives | None = None
        self.sampler: MixSampler | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.sampler is not None:        # set up once: the module holds our hard-negative buffer
            return
        self.val_set = TileDataset(self.prepared_dir, "val")
        channels = tuple(self.val_set.data.stats["channels"])
        transform = build_transform(self.augment, channels, self.seed)
        tiles = TileDataset(self.prepared_dir, "train", transform)
        if len(tiles) == 0 or len(self.val_set) == 0:
            raise ValueError(f"{self.prepared_dir}: empty train or val split (train {len(tiles)} tiles, "
                             f"val {len(self.val_set)}); add trains or change prepare.split_fractions")
        projected = None
        if self.projection.share > 0:
            try:
                projected = ProjectedTiles(tiles.data, self.projection,
                                           build_transform(self.augment, channels, self.seed + 1), self.seed)
            except ValueError as exc:
                log.warning("training without projected threats: %s", exc)
        self.train_set = MixedTiles(tiles, projected)
        self.hard = HardNegatives(len(tiles))
        self.sampler = MixSampler(torch.tensor(tiles.has_threat), self.hard,
                                  self.samples_per_epoch or len(tiles),
                                  self.projection.share if projected is not None else 0.0,
                                  self.threat_tile_fraction, self.hard_negative_weight, self.seed)
        self._apply_resume()

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.batch_size, sampler=self.sampler,
                          num_workers=self.num_workers, worker_init_fn=_init_worker if self.num_workers else None,
                          persistent_workers=self.num_workers > 0, drop_last=True)

    def val_dataloader(self) -> DataLoader:
        # A fixed, seeded permutation: with limit_val_batches < 1 every epoch scores the same tiles, drawn from all
        # validation wagons rather than the first few.
        order = torch.randperm(len(self.val_set), generator=torch.Generator().manual_seed(self.seed)).tolist()
        return DataLoader(Subset(self.val_set, order), batch_size=self.batch_size, shuffle=False,
                          num_workers=self.num_workers)

    def state_dict(self) -> dict:
        """Kept in checkpoints: a resumed run goes on with the same sampler epoch and hard negatives."""
        return {"epoch": self.sampler.epoch if self.sampler else 0,
                "hard": self.hard.score.clone() if self.hard is not None else None}

    def load_state_dict(self, state: dict) -> None:
        self._resume_state = state
        self._apply_resume()

    def _apply_resume(self) -> None:
        state = getattr(self, "_resume_state", None)
        if state and self.sampler is not None:
            self.sampler.epoch = int(state.get("epoch", 0))
            if state.get("hard") is not None and len(state["hard"]) == len(self.hard.score):
                self.hard.score[:] = state["hard"]
