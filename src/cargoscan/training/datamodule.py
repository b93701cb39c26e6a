"""The LightningDataModule over a prepared directory: augmented training tiles with threat tiles oversampled,
plain validation tiles."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Subset, WeightedRandomSampler, get_worker_info

import lightning as L

from cargoscan.data.augment import AugmentParams, build_transform, reseed
from cargoscan.data.dataset import TileDataset


def _init_worker(worker_id: int) -> None:
    # torch gives every worker of every epoch its own seed, derived from the (seeded) main generator; albumentations
    # keeps its own generator, so hand it that seed too, or all workers would draw the same augmentations.
    info = get_worker_info()
    reseed(getattr(info.dataset, "transform", None), int(torch.initial_seed() % 2 ** 31))


class TileDataModule(L.LightningDataModule):
    """Tiles of ``prepared_dir``.

    Args:
        threat_tile_fraction: expected share of tiles holding a threat class per epoch (weighted sampling with
            replacement); 0 samples uniformly.
        samples_per_epoch: tiles drawn per epoch (0: the number of training tiles).
    """

    def __init__(self, prepared_dir: str, batch_size: int = 16, num_workers: int = 0,
                 augment: AugmentParams | None = None, seed: int = 0, threat_tile_fraction: float = 0.5,
                 samples_per_epoch: int = 0):
        super().__init__()
        self.prepared_dir, self.batch_size, self.num_workers = prepared_dir, batch_size, num_workers
        self.augment, self.seed = augment or AugmentParams(), seed
        self.threat_tile_fraction, self.samples_per_epoch = threat_tile_fraction, samples_per_epoch

    def setup(self, stage: str | None = None) -> None:
        channels = None
        self.val_set = TileDataset(self.prepared_dir, "val")
        channels = tuple(self.val_set.data.stats["channels"])
        self.train_set = TileDataset(self.prepared_dir, "train", build_transform(self.augment, channels, self.seed))
        if len(self.train_set) == 0 or len(self.val_set) == 0:
            raise ValueError(f"{self.prepared_dir}: empty train or val split (train {len(self.train_set)} tiles, "
                             f"val {len(self.val_set)}); add trains or change prepare.split_fractions")

    def _sampler(self) -> WeightedRandomSampler | None:
        pos = torch.as_tensor(self.train_set.has_threat, dtype=torch.bool)
        n_pos = int(pos.sum())
        if self.threat_tile_fraction <= 0 or n_pos == 0 or n_pos == len(pos):
            return None
        f = self.threat_tile_fraction
        weights = torch.where(pos, f / n_pos, (1 - f) / (len(pos) - n_pos)).double()
        g = torch.Generator().manual_seed(self.seed)
        return WeightedRandomSampler(weights, self.samples_per_epoch or len(pos), replacement=True, generator=g)

    def train_dataloader(self) -> DataLoader:
        sampler = self._sampler()
        return DataLoader(self.train_set, batch_size=self.batch_size, sampler=sampler, shuffle=sampler is None,
                          num_workers=self.num_workers, worker_init_fn=_init_worker if self.num_workers else None,
                          persistent_workers=False, drop_last=len(self.train_set) > self.batch_size)

    def val_dataloader(self) -> DataLoader:
        # A fixed, seeded permutation: with limit_val_batches < 1 every epoch scores the same tiles, drawn from all
        # validation wagons rather than the first few.
        order = torch.randperm(len(self.val_set), generator=torch.Generator().manual_seed(self.seed)).tolist()
        return DataLoader(Subset(self.val_set, order), batch_size=self.batch_size, shuffle=False,
                          num_workers=self.num_workers)
